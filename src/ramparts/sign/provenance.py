"""SLSA Provenance v1 for models and datasets: build it, sign it, check it against a policy.

A statement (in-toto Statement v1, predicate type ``https://slsa.dev/provenance/v1``)
links its subjects (a model file or folder, by digest) to the build that produced
them: the builder, the repository, ref, commit, workflow and trigger event, and the
datasets and base models the build used (``resolvedDependencies``). It is signed as a
DSSE envelope, one envelope per line of an ``.intoto.jsonl`` bundle.

Build type ``urn:ramparts:buildtype:workflow:v1`` names the parameter shape below, the
same on every CI system::

    externalParameters: {repository, ref, commit, workflow, event}
    internalParameters: {platform: github|gitlab|manual, ...platform details}

GitHub Actions and GitLab CI fill everything from their environment variables; flags
fill or override any field. A statement without builder, repository or commit is
refused: provenance that cannot be checked is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ramparts.core.records import field, record, replace
from ramparts.sign.bundle import Bundle
from ramparts.sign.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, sign_envelope
from ramparts.sign.interface import Signer, SignError, VerificationError, Verifier
from ramparts.sign.statement import STATEMENT_TYPE

__all__ = [
    "BUILD_TYPE",
    "SLSA_PREDICATE_TYPE",
    "BuildContext",
    "Dependency",
    "ProvenancePolicy",
    "context_from_environment",
    "provenance_statement",
    "sign_statement",
    "verify_provenance",
]

SLSA_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:ramparts:buildtype:workflow:v1"
MAX_BUNDLE_BYTES = 64 << 20


@record
class Dependency:
    """An input of the build: a dataset, a base model, the source repository."""

    name: str
    sha256: str | None = None
    uri: str | None = None
    kind: str = "artifact"
    git_commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``resolvedDependencies`` entry (an in-toto ResourceDescriptor)."""
        out: dict[str, Any] = {"name": self.name}
        if self.uri:
            out["uri"] = self.uri
        digest = {}
        if self.sha256:
            digest["sha256"] = self.sha256
        if self.git_commit:
            digest["gitCommit"] = self.git_commit
        out["digest"] = digest
        out["annotations"] = {"kind": self.kind}
        return out


@record
class BuildContext:
    """Who built what, from which source, when: the facts a provenance statement records."""

    builder_id: str | None = None
    repository: str | None = None
    ref: str | None = None
    commit: str | None = None
    workflow: str | None = None
    event: str | None = None
    invocation_id: str | None = None
    started_on: datetime | None = None
    finished_on: datetime | None = None
    platform: str = "manual"
    internal: Mapping[str, str] = field(default_factory=dict)

    def merged(self, **overrides: Any) -> BuildContext:
        """This context with every non-empty override applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v not in (None, "")})

    def check(self) -> None:
        """Refuse a context that a verifier could not tie to a build."""
        missing = [
            flag
            for flag, value in (
                ("--builder-id", self.builder_id),
                ("--repository", self.repository),
                ("--commit", self.commit),
            )
            if not value
        ]
        if missing:
            raise SignError(
                "provenance needs a builder, a repository and a commit; not running in "
                f"GitHub Actions or GitLab CI, so give {', '.join(missing)}"
            )


def context_from_environment(environ: Mapping[str, str]) -> BuildContext:
    """What GitHub Actions or GitLab CI says about the running job (empty elsewhere)."""
    get = environ.get
    if get("GITHUB_ACTIONS") == "true":
        server = get("GITHUB_SERVER_URL", "https://github.com")
        repo = get("GITHUB_REPOSITORY", "")
        hosted = get("RUNNER_ENVIRONMENT", "github-hosted")
        workflow_ref = get("GITHUB_WORKFLOW_REF", "")
        path = workflow_ref.partition("@")[0].removeprefix(f"{repo}/") if workflow_ref else None
        run = get("GITHUB_RUN_ID")
        return BuildContext(
            builder_id=f"{server}/actions/runner/{hosted}",
            repository=f"{server}/{repo}" if repo else None,
            ref=get("GITHUB_REF"),
            commit=get("GITHUB_SHA"),
            workflow=path,
            event=get("GITHUB_EVENT_NAME"),
            invocation_id=(
                f"{server}/{repo}/actions/runs/{run}/attempts/{get('GITHUB_RUN_ATTEMPT', '1')}"
                if run
                else None
            ),
            platform="github",
            internal=_present(
                environ,
                (
                    "GITHUB_REPOSITORY_ID",
                    "GITHUB_REPOSITORY_OWNER_ID",
                    "GITHUB_ACTOR",
                    "RUNNER_ENVIRONMENT",
                ),
            ),
        )
    if get("GITLAB_CI") == "true":
        server = get("CI_SERVER_URL", "https://gitlab.com")
        project = get("CI_PROJECT_PATH", "")
        runner = get("CI_RUNNER_ID")
        branch = get("CI_COMMIT_BRANCH")
        tag = get("CI_COMMIT_TAG")
        ref = (
            f"refs/heads/{branch}"
            if branch
            else f"refs/tags/{tag}"
            if tag
            else get("CI_COMMIT_REF_NAME")
        )
        return BuildContext(
            builder_id=f"{server}/{project}/-/runners/{runner}" if runner else None,
            repository=f"{server}/{project}" if project else None,
            ref=ref,
            commit=get("CI_COMMIT_SHA"),
            workflow=get("CI_CONFIG_PATH", ".gitlab-ci.yml"),
            event=get("CI_PIPELINE_SOURCE"),
            invocation_id=get("CI_JOB_URL"),
            platform="gitlab",
            internal=_present(
                environ,
                ("CI_PROJECT_ID", "CI_PIPELINE_ID", "CI_RUNNER_VERSION", "GITLAB_USER_LOGIN"),
            ),
        )
    return BuildContext()


def _present(environ: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    return {name.lower(): environ[name] for name in names if environ.get(name)}


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def provenance_statement(
    subjects: Sequence[tuple[str, str]],
    context: BuildContext,
    dependencies: Sequence[Dependency] = (),
) -> bytes:
    """The statement for ``subjects`` (name, sha256) built as ``context`` says."""
    context.check()
    if not subjects:
        raise SignError("provenance needs at least one subject")
    source = Dependency(
        name="source",
        uri=f"git+{context.repository}@{context.ref}"
        if context.ref
        else f"git+{context.repository}",
        kind="source",
        git_commit=context.commit,
    )
    external = {
        "repository": context.repository,
        "ref": context.ref,
        "commit": context.commit,
        "workflow": context.workflow,
        "event": context.event,
    }
    metadata = {
        "invocationId": context.invocation_id,
        "startedOn": _time(context.started_on),
        "finishedOn": _time(context.finished_on),
    }
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in subjects],
        "predicateType": SLSA_PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {k: v for k, v in external.items() if v},
                "internalParameters": {"platform": context.platform, **context.internal},
                "resolvedDependencies": [d.to_json() for d in (source, *dependencies)],
            },
            "runDetails": {
                "builder": {"id": context.builder_id},
                "metadata": {k: v for k, v in metadata.items() if v},
            },
        },
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_statement(statement: bytes, signer: Signer) -> bytes:
    """One ``.intoto.jsonl`` line: the DSSE envelope of ``statement``, signed."""
    envelope = sign_envelope(statement, signer)
    return json.dumps(envelope.to_json(), separators=(",", ":")).encode("utf-8") + b"\n"


@record
class ProvenancePolicy:
    """What a provenance statement must say for a model to be accepted.

    ``builder`` and ``repository`` are required (an empty policy would accept anything);
    ``branch`` and ``commit`` narrow it further.
    """

    builder: str
    repository: str
    branch: str | None = None
    commit: str | None = None

    def __post_init__(self) -> None:
        if not self.builder or not self.repository:
            raise SignError("a provenance policy needs --builder and --repo")


def _get(data: object, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _repository_key(url: str) -> str:
    return url.rstrip("/").removesuffix(".git").lower()


def _same_repository(claimed: object, wanted: str) -> bool:
    return isinstance(claimed, str) and _repository_key(claimed) == _repository_key(wanted)


def _policy_failures(predicate: object, policy: ProvenancePolicy) -> list[str]:
    external = _get(predicate, "buildDefinition", "externalParameters")
    failures = []
    builder = _get(predicate, "runDetails", "builder", "id")
    if builder != policy.builder:
        failures.append(f"builder is {builder!r}, not {policy.builder!r}")
    repository = _get(external, "repository")
    if not _same_repository(repository, policy.repository):
        failures.append(f"repository is {repository!r}, not {policy.repository!r}")
    if policy.branch is not None:
        ref = _get(external, "ref")
        if ref not in (f"refs/heads/{policy.branch}", policy.branch):
            failures.append(f"ref is {ref!r}, not branch {policy.branch!r}")
    if policy.commit is not None:
        commit = _get(external, "commit")
        if not isinstance(commit, str) or commit.lower() != policy.commit.lower():
            failures.append(f"commit is {commit!r}, not {policy.commit!r}")
    return failures


def verify_provenance(
    bundle: bytes, verifier: Verifier, subject_sha256: str, policy: ProvenancePolicy
) -> dict[str, Any]:
    """The first signed SLSA statement in ``bundle`` that covers the subject and meets ``policy``.

    Raises :class:`VerificationError` (rule ``provenance``) naming why each candidate
    was refused when none passes.
    """
    if len(bundle) > MAX_BUNDLE_BYTES:
        raise VerificationError("the provenance bundle is larger than 64 MiB", rule="provenance")
    reasons: list[str] = []
    for number, line in enumerate(bundle.splitlines(), 1):
        if not line.strip():
            continue
        try:
            envelope = Envelope.from_json(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError, SignError) as exc:
            reasons.append(f"line {number}: not a DSSE envelope ({exc})")
            continue
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
            continue
        try:
            payload = verifier.verify_bundle(Bundle(envelope, {}))
        except VerificationError as exc:
            reasons.append(f"line {number}: {exc.reason}")
            continue
        try:
            statement = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError):
            reasons.append(f"line {number}: the signed payload is not JSON")
            continue
        if _get(statement, "predicateType") != SLSA_PREDICATE_TYPE:
            continue
        subjects = _get(statement, "subject")
        digests = (
            [_get(s, "digest", "sha256") for s in subjects] if isinstance(subjects, list) else []
        )
        if subject_sha256 not in digests:
            reasons.append(f"line {number}: provenance of another artifact")
            continue
        failures = _policy_failures(_get(statement, "predicate"), policy)
        if failures:
            reasons.append(f"line {number}: " + "; ".join(failures))
            continue
        return statement  # type: ignore[no-any-return]
    detail = "; ".join(reasons) if reasons else "no signed SLSA provenance statement in the bundle"
    raise VerificationError(f"provenance does not meet the policy: {detail}", rule="provenance")

"""Score a scanner's findings against the labels written by make_corpus.py.

    python benchmarks/secrets_pii/score.py --labels DIR/labels.json --findings F \\
        --format ramparts|detect-secrets|presidio|generic [--scope secrets|pii] [--strict]
        [--min-score 0.0] [--json OUT]

Input formats
-------------
``ramparts``        the JSON report of ``ramparts -f json scan secrets|pii DIR/tree``:
                    ``findings[].rule_id``, ``location.path`` (relative to the scanned
                    folder, ``/``-separated), ``location.line``/``column``/``end_line``
                    (raw-file lines, notebooks included), optional ``properties.kind`` and
                    ``properties.end_column`` (1-based, inclusive). Only ``RMP-SECRET-*``
                    rules count for ``--scope secrets`` and ``RMP-PII-*`` for ``--scope pii``.
``detect-secrets``  the JSON of ``detect-secrets scan --all-files`` run inside DIR/tree
                    (``results`` keyed by file name, ``line_number``, ``type``).
``presidio``        JSONL from run_presidio.py: ``{file, line, kind, start, end, score}``.
``generic``         JSONL ``{file, line, kind, start, end}``; ``start``/``end`` are 0-based
                    character offsets in that line (end exclusive) and may be omitted.

Matching
--------
* A finding matches a label when it is in the same file, its line range overlaps the
  label's, and, when the tool reports positions, its span overlaps the value on that
  line. A ramparts finding with a column but no ``end_column`` is a point: it matches
  when it falls inside the value or at most 2 characters before it (an opening quote).
* A finding without columns may also name the line just before a multi-line value (the
  line that opens it: ``key: |`` in YAML, a TOML multi-line string, a shell heredoc).
* Every label is counted once (true positive); more findings on it are duplicates, not
  false positives. A finding matches at most one label: the nearest unmatched one.
* ``--strict`` also requires the finding's type to map to the label's kind or family
  (tables below; for ramparts the normalised rule id ``RMP-SECRET-<KIND>`` /
  ``RMP-PII-<KIND>`` or ``properties.kind`` is compared with the label's kind, then its
  family, then ``ALIASES``). A finding on a label with the wrong type is a false positive
  and the label stays missed.
* A finding on no in-scope positive is a false positive, deduplicated per
  (file, line, type). If it overlaps an in-scope hard negative it also counts as a hit on
  that negative. A finding that only overlaps a label of the other category (a PII value
  found by a secrets scan) is counted as ``cross`` and ignored.
* Context of a false positive: from ``contexts.json`` beside labels.json (notebook lines
  are split into nb-code, nb-markdown, nb-output and JSON structure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOLERANCE = 2  # characters a point finding may sit before the value (quote, '=')
INF = 1 << 30

# Types each tool reports -> label kinds or families (normalised by ``norm``) they stand
# for. An empty set means "no label kind": the finding can never be a typed match.
# ``None`` means "outside the taxonomy of this corpus": such findings are ignored.
_GENERIC_SECRET = {
    "generic",
    "cohere-api-key",
    "mistral-api-key",
    "twilio-auth-token",
    "aws-secret-access-key",
    "azure-storage-account-key",
    "together-api-key",
    "kubernetes-secret-data",
}
DETECT_SECRETS_TYPES: dict[str, set[str] | None] = {
    "AWS Access Key": {"aws"},
    "Azure Storage Account access key": {"azure"},
    "Base64 High Entropy String": _GENERIC_SECRET,
    "Hex High Entropy String": _GENERIC_SECRET,
    "Secret Keyword": _GENERIC_SECRET,
    "Basic Auth Credentials": {"database-url"},
    "Discord Bot Token": {"discord"},
    "GitHub Token": {"github"},
    "GitLab Token": {"gitlab"},
    "JSON Web Token": {"jwt"},
    "NPM tokens": {"npm"},
    "OpenAI Token": {"openai"},
    "Private Key": {"private-key", "gcp"},
    "PyPI Token": {"pypi"},
    "SendGrid API Key": {"sendgrid"},
    "Slack Token": {"slack"},
    "Stripe Access Key": {"stripe"},
    "Telegram Bot Token": {"telegram"},
    "Twilio API Key": {"twilio"},
    "Public IP (ipv4)": {"ipv4"},
    "Artifactory Credentials": set(),
    "Cloudant Credentials": set(),
    "IBM COS HMAC Credentials": set(),
    "IBM Cloud IAM Key": set(),
    "Mailchimp Access Key": set(),
    "SoftLayer Credentials": set(),
    "Square OAuth Secret": set(),
}
PRESIDIO_TYPES: dict[str, set[str] | None] = {
    "CREDIT_CARD": {"credit-card"},
    "CRYPTO": {"crypto-wallet"},
    "EMAIL_ADDRESS": {"email"},
    "IBAN_CODE": {"iban"},
    "IP_ADDRESS": {"ip-address"},
    "MAC_ADDRESS": {"mac-address"},
    "PERSON": {"person-name"},
    "LOCATION": {"postal-address"},
    "PHONE_NUMBER": {"phone-number"},
    "US_SSN": {"us-ssn"},
    "UK_NHS": {"uk-nhs-number"},
    "UK_NINO": {"uk-nino"},
    "US_PASSPORT": {"passport-number"},
    "DATE_TIME": {"date-of-birth"},
    # Outside this corpus's taxonomy (links, organisations, groups, random identifiers):
    # Presidio reports them under their own entity names, which a user filters out.
    "URL": None,
    "UUID": None,
    "ORGANIZATION": None,
    "NRP": None,
}
# Alternative names a scanner may use for a kind or family (ramparts, generic).
ALIASES: dict[str, set[str]] = {
    "awsaccesskey": {"aws-access-key-id"},
    "awssecretkey": {"aws-secret-access-key"},
    "awskey": {"aws"},
    "gcpserviceaccount": {"gcp"},
    "gcpserviceaccountkey": {"gcp"},
    "googleserviceaccount": {"gcp"},
    "gcpapikey": {"google-api-key"},
    "openaiapikey": {"openai"},
    "openaikey": {"openai"},
    "anthropickey": {"anthropic"},
    "huggingfaceapitoken": {"huggingface"},
    "githubtoken": {"github"},
    "githubpat": {"github-pat-classic", "github-fine-grained-pat"},
    "githubapptoken": {"github-user-to-server-token", "github-server-to-server-token"},
    "githubusertoken": {"github-user-to-server-token"},
    "githubservertoken": {"github-server-to-server-token"},
    "azurestoragekey": {"azure-storage-account-key", "azure-storage-connection-string"},
    "azureconnectionstring": {"azure-storage-connection-string"},
    "gitlabtoken": {"gitlab"},
    "slacktoken": {"slack-bot-token", "slack-user-token"},
    "slackwebhook": {"slack-webhook-url"},
    "stripekey": {"stripe"},
    "stripeapikey": {"stripe"},
    "twiliotoken": {"twilio"},
    "sendgridtoken": {"sendgrid"},
    "npmaccesstoken": {"npm-token"},
    "pypiuploadtoken": {"pypi-token"},
    "databrickstoken": {"databricks-token"},
    "discordtoken": {"discord-bot-token"},
    "telegramtoken": {"telegram-bot-token"},
    "privatekey": {"private-key", "gcp"},
    "sshprivatekey": {"openssh-private-key"},
    "pgpprivatekey": {"pgp-private-key"},
    "jsonwebtoken": {"jwt"},
    "connectionstring": {"database-url", "azure-storage-connection-string"},
    "databaseurl": {"database-url"},
    "dburl": {"database-url"},
    "password": {"generic-password", "database-url"},
    "generic": _GENERIC_SECRET,
    # The generic kinds differ only by the name of the variable: interchangeable.
    "genericsecret": {"generic"},
    "genericapikey": {"generic"},
    "genericpassword": {"generic"},
    "highentropystring": _GENERIC_SECRET,
    "creditcardnumber": {"credit-card"},
    "card": {"credit-card"},
    "ssn": {"us-ssn"},
    "nino": {"uk-nino"},
    "nhs": {"uk-nhs-number"},
    "nhsnumber": {"uk-nhs-number"},
    "emailaddress": {"email"},
    "phone": {"phone-number"},
    "ip": {"ip-address"},
    "ipaddress": {"ip-address"},
    "mac": {"mac-address"},
    "cryptowallet": {"crypto-wallet"},
    "crypto": {"crypto-wallet"},
    "bitcoin": {"bitcoin-address"},
    "ethereum": {"ethereum-address"},
    "dob": {"date-of-birth"},
    "passport": {"passport-number"},
    "mrn": {"medical-record-number"},
    "name": {"person-name"},
    "person": {"person-name"},
    "address": {"postal-address"},
}


def norm(name: str) -> str:
    """A kind or type name reduced to lowercase letters and digits."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _normset(names: set[str] | None) -> frozenset[str]:
    return frozenset(norm(n) for n in names or ())


@dataclass(frozen=True)
class Finding:
    """One finding, in the form the scorer compares with labels."""

    file: str
    line: int
    end_line: int
    type: str
    accepts: frozenset[str]  # normalised kinds/families this finding's type stands for
    start: int | None = None  # 0-based character offset on ``line``
    end: int | None = None  # 0-based exclusive offset on ``end_line``; None: open
    point: bool = False  # only a start column is known


@dataclass
class Label:
    """One label of labels.json."""

    file: str
    line: int
    end_line: int
    col: int
    end_col: int
    kind: str
    family: str
    category: str
    context: str
    scope: str | None
    value: str
    index: int

    def span_on(self, line: int) -> tuple[int, int]:
        """The 0-based [start, end) character span of the value on ``line``."""
        start = self.col - 1 if line == self.line else 0
        end = self.end_col if line == self.end_line else INF
        return start, end


def load_labels(path: Path) -> list[Label]:
    """Read labels.json."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Label(
            file=r["file"],
            line=r["line"],
            end_line=r["end_line"],
            col=r["col"],
            end_col=r["end_col"],
            kind=r["kind"],
            family=r.get("family", r["kind"]),
            category=r["category"],
            context=r["context"],
            scope=r.get("scope"),
            value=r["value"],
            index=i,
        )
        for i, r in enumerate(raw)
    ]


def _relpath(name: str, root: Path | None) -> str:
    name = name.replace("\\", "/")
    if root is not None and name.startswith("/"):
        with contextlib.suppress(ValueError):
            name = Path(name).resolve().relative_to(root.resolve()).as_posix()
    while name.startswith("./"):
        name = name[2:]
    return name


def _accepts_named(name: str) -> frozenset[str]:
    n = norm(name)
    return frozenset({n} | _normset(ALIASES.get(n)))


def load_ramparts(path: Path, scope: str | None) -> tuple[list[Finding], int]:
    """Findings of a ramparts JSON report; also the number of findings left out of scope."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    prefixes = {"secrets": ("RMP-SECRET-",), "pii": ("RMP-PII-",)}.get(
        scope or "", ("RMP-SECRET-", "RMP-PII-")
    )
    out, skipped = [], 0
    for f in doc.get("findings", []):
        rule = str(f.get("rule_id", ""))
        if not rule.startswith(prefixes):
            skipped += 1
            continue
        loc = f.get("location") or {}
        props = f.get("properties") or {}
        kind_name = rule.split("-", 2)[2] if rule.count("-") >= 2 else rule
        accepts = _accepts_named(kind_name)
        if props.get("kind"):
            accepts |= _accepts_named(str(props["kind"]))
        line = loc.get("line") or 0
        end_line = loc.get("end_line") or line
        col = loc.get("column")
        end_col = props.get("end_column")
        out.append(
            Finding(
                file=_relpath(str(loc.get("path", "")), None),
                line=line,
                end_line=max(end_line, line),
                type=str(props.get("kind") or rule),
                accepts=accepts,
                start=col - 1 if col else None,
                end=end_col if (col and end_col) else None,
                point=bool(col) and not end_col,
            )
        )
    return out, skipped


def load_detect_secrets(path: Path, root: Path | None) -> tuple[list[Finding], int]:
    """Findings of ``detect-secrets scan`` JSON (line numbers only)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out, ignored = [], 0
    for name, items in doc.get("results", {}).items():
        for it in items:
            typ = str(it.get("type", ""))
            accepts = DETECT_SECRETS_TYPES.get(typ, set())
            if accepts is None:
                ignored += 1
                continue
            line = int(it.get("line_number") or 0)
            out.append(Finding(_relpath(name, root), line, line, typ, _normset(accepts)))
    return out, ignored


def load_jsonl(
    path: Path, fmt: str, root: Path | None, min_score: float
) -> tuple[list[Finding], int]:
    """Findings of the presidio runner or of the generic JSONL format."""
    out, ignored = [], 0
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        r = json.loads(raw)
        typ = str(r.get("kind", ""))
        if fmt == "presidio":
            mapped = PRESIDIO_TYPES.get(typ, set())
            if mapped is None or float(r.get("score", 1.0)) < min_score:
                ignored += 1
                continue
            accepts = _normset(mapped)
        else:
            accepts = _accepts_named(typ)
        start = r.get("start")
        out.append(
            Finding(
                file=_relpath(str(r["file"]), root),
                line=int(r["line"]),
                end_line=int(r.get("end_line") or r["line"]),
                type=typ,
                accepts=accepts,
                start=int(start) if start is not None else None,
                end=int(r["end"]) if r.get("end") is not None else None,
            )
        )
    return out, ignored


def load_findings(
    path: Path, fmt: str, scope: str | None, root: Path | None, min_score: float = 0.0
) -> tuple[list[Finding], int]:
    """Findings of ``path`` in format ``fmt``; also how many were ignored."""
    if fmt == "ramparts":
        return load_ramparts(path, scope)
    if fmt == "detect-secrets":
        return load_detect_secrets(path, root)
    if fmt in ("presidio", "generic"):
        return load_jsonl(path, fmt, root, min_score)
    raise ValueError(f"unknown format {fmt}")


def overlaps(f: Finding, lab: Label) -> bool:
    """Whether finding ``f`` overlaps label ``lab`` (lines, then columns when known)."""
    if f.file != lab.file or f.line > lab.end_line:
        return False
    # A line-only finding may name the line that opens a multi-line value
    # (``key: |`` in YAML, a TOML multi-line string, a heredoc), as detect-secrets does.
    first = lab.line - 1 if (f.start is None and lab.end_line > lab.line) else lab.line
    if f.end_line < first:
        return False
    if f.start is None or f.line < lab.line:
        return True
    s, e = lab.span_on(f.line)
    if f.point:
        return s - TOLERANCE <= f.start < e
    f_end = f.end if (f.end is not None and f.end_line == f.line) else INF
    return f.start < e and f_end > s


def type_ok(f: Finding, lab: Label) -> bool:
    """Whether the finding's type maps to the label's kind or family."""
    return norm(lab.kind) in f.accepts or norm(lab.family) in f.accepts


def _distance(f: Finding, lab: Label) -> tuple[int, int, int]:
    if f.start is None or f.line != lab.line:
        return (abs(f.line - lab.line), 0, lab.col)
    return (0, abs(f.start - (lab.col - 1)), lab.col)


class ContextMap:
    """The context of any (file, line), from contexts.json."""

    def __init__(self, path: Path | None) -> None:
        self.data: dict[str, object] = {}
        if path is not None and path.exists():
            self.data = json.loads(path.read_text(encoding="utf-8"))

    def at(self, file: str, line: int) -> str:
        """The context of ``line`` of ``file``; ``unknown`` when not recorded."""
        entry = self.data.get(file)
        if isinstance(entry, str):
            return entry
        if isinstance(entry, list):
            for first, last, ctx in entry:
                if first <= line <= last:
                    return str(ctx)
        return "unknown"


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r else None
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": None if p is None else round(p, 4),
        "recall": None if r is None else round(r, 4),
        "f1": None if f1 is None else round(f1, 4),
    }


def _in_scope(lab: Label, scope: str | None) -> bool:
    if lab.category == "negative":
        return scope is None or lab.scope in (scope, "both")
    return scope is None or lab.category == {"secrets": "secret", "pii": "pii"}[scope]


@dataclass
class _State:
    matched: dict[int, Finding] = field(default_factory=dict)
    fps: dict[tuple[str, int, str], tuple[Finding, str]] = field(default_factory=dict)
    neg_hits: set[int] = field(default_factory=set)
    duplicates: int = 0
    cross: int = 0


def score(
    labels: list[Label],
    findings: list[Finding],
    *,
    scope: str | None = None,
    strict: bool = False,
    contexts: ContextMap | None = None,
    ignored: int = 0,
) -> dict[str, object]:
    """Compare ``findings`` with ``labels``; return every metric as plain data."""
    contexts = contexts or ContextMap(None)
    by_file: dict[str, list[Label]] = defaultdict(list)
    for lab in labels:
        by_file[lab.file].append(lab)
    st = _State()
    for f in sorted(findings, key=lambda x: (x.file, x.line, x.start or 0, x.type)):
        here = by_file.get(f.file, [])
        hits = [lab for lab in here if overlaps(f, lab)]
        positives = [lab for lab in hits if lab.category != "negative" and _in_scope(lab, scope)]
        typed = [lab for lab in positives if type_ok(f, lab)] if strict else positives
        if typed:
            free = [lab for lab in typed if lab.index not in st.matched]
            if free:
                st.matched[min(free, key=lambda lab: _distance(f, lab)).index] = f
            else:
                st.duplicates += 1
            continue
        negatives = [lab for lab in hits if lab.category == "negative" and _in_scope(lab, scope)]
        if negatives:
            st.neg_hits.update(lab.index for lab in negatives)
            reason = "negative:" + negatives[0].kind
        elif positives:
            reason = "wrong-type:" + positives[0].kind
        elif any(lab.category != "negative" for lab in hits):
            st.cross += 1
            continue
        else:
            reason = "unlabelled"
        st.fps.setdefault((f.file, f.line, f.type), (f, reason))
    return _report(labels, st, scope, strict, contexts, len(findings), ignored)


def _single_kind(f: Finding, kinds: dict[str, str]) -> str | None:
    hits = [k for k, fam in kinds.items() if norm(k) in f.accepts or norm(fam) in f.accepts]
    return hits[0] if len(hits) == 1 else None


def _report(
    labels: list[Label],
    st: _State,
    scope: str | None,
    strict: bool,
    contexts: ContextMap,
    n_findings: int,
    ignored: int,
) -> dict[str, object]:
    pos = [lab for lab in labels if lab.category != "negative" and _in_scope(lab, scope)]
    negs = [lab for lab in labels if lab.category == "negative" and _in_scope(lab, scope)]
    kinds = {lab.kind: lab.family for lab in pos}
    tp_k, fn_k, fp_k = Counter[str](), Counter[str](), Counter[str]()
    tp_c, fn_c, fp_c = Counter[str](), Counter[str](), Counter[str]()
    cat_of = {lab.kind: lab.category for lab in pos}
    for lab in pos:
        if lab.index in st.matched:
            tp_k[lab.kind] += 1
            tp_c[lab.context] += 1
        else:
            fn_k[lab.kind] += 1
            fn_c[lab.context] += 1
    fp_types, fp_reasons = Counter[str](), Counter[str]()
    for (file, line, typ), (f, reason) in st.fps.items():
        fp_types[typ] += 1
        fp_reasons[reason.split(":")[0]] += 1
        fp_c[contexts.at(file, line)] += 1
        kind = _single_kind(f, kinds)
        fp_k[kind or f"({typ})"] += 1
    tp, fn, fp = sum(tp_k.values()), sum(fn_k.values()), len(st.fps)
    per_kind = {
        k: {
            "category": cat_of.get(k, "?"),
            "labels": tp_k[k] + fn_k[k],
            **_prf(tp_k[k], fp_k[k], fn_k[k]),
        }
        for k in sorted(set(tp_k) | set(fn_k))
    }
    unattributed = {k: v for k, v in fp_k.items() if k not in per_kind}
    per_context = {
        c: {"labels": tp_c[c] + fn_c[c], **_prf(tp_c[c], fp_c[c], fn_c[c])}
        for c in sorted(set(tp_c) | set(fn_c) | set(fp_c))
    }
    neg_total, neg_hit = Counter[str](), Counter[str]()
    for lab in negs:
        neg_total[lab.kind] += 1
        if lab.index in st.neg_hits:
            neg_hit[lab.kind] += 1
    negatives = {
        k: {"labels": neg_total[k], "hit": neg_hit[k], "rate": round(neg_hit[k] / neg_total[k], 4)}
        for k in sorted(neg_total)
    }
    missed = [
        {"file": lab.file, "line": lab.line, "kind": lab.kind, "context": lab.context}
        for lab in pos
        if lab.index not in st.matched
    ]
    fp_list = [
        {"file": file, "line": line, "type": typ, "reason": reason}
        for (file, line, typ), (_, reason) in sorted(st.fps.items())
    ]
    return {
        "scope": scope,
        "strict": strict,
        "overall": {
            **_prf(tp, fp, fn),
            "labels": len(pos),
            "findings": n_findings,
            "duplicates": st.duplicates,
            "cross_category": st.cross,
            "ignored": ignored,
            "negative_labels": len(negs),
            "negatives_hit": len(st.neg_hits),
        },
        "per_kind": per_kind,
        "fp_unattributed": dict(sorted(unattributed.items(), key=lambda kv: -kv[1])),
        "per_context": per_context,
        "negatives": negatives,
        "fp_by_type": dict(fp_types.most_common()),
        "fp_by_reason": dict(fp_reasons.most_common()),
        "missed": missed,
        "false_positives": fp_list,
    }


def score_files(
    labels_path: Path,
    findings_path: Path,
    fmt: str,
    *,
    scope: str | None = None,
    strict: bool = False,
    min_score: float = 0.0,
    root: Path | None = None,
) -> dict[str, object]:
    """Load labels, contexts and findings from disk and score them."""
    labels = load_labels(labels_path)
    root = root or labels_path.parent / "tree"
    findings, ignored = load_findings(findings_path, fmt, scope, root, min_score)
    contexts = ContextMap(labels_path.parent / "contexts.json")
    return score(labels, findings, scope=scope, strict=strict, contexts=contexts, ignored=ignored)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def markdown(result: dict[str, Any]) -> str:
    """A human summary of ``score``'s result."""
    o = result["overall"]
    lines = [
        (
            f"scope={result['scope'] or 'all'} strict={result['strict']}: "
            f"P {_pct(o['precision'])}  R {_pct(o['recall'])}  F1 {_pct(o['f1'])}  "
            f"(TP {o['tp']}, FP {o['fp']}, FN {o['fn']}; {o['findings']} findings, "
            f"{o['duplicates']} duplicates, {o['cross_category']} cross-category, "
            f"{o['ignored']} ignored; hard negatives hit {o['negatives_hit']}/{o['negative_labels']})"
        ),
        "",
        "| kind | labels | TP | FN | recall | FP | precision | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, v in result["per_kind"].items():
        lines.append(
            f"| {k} | {v['labels']} | {v['tp']} | {v['fn']} | {_pct(v['recall'])} | {v['fp']} "
            f"| {_pct(v['precision'])} | {_pct(v['f1'])} |"
        )
    lines += ["", "| context | labels | recall | FP | precision |", "|---|---|---|---|---|"]
    for c, v in result["per_context"].items():
        lines.append(
            f"| {c} | {v['labels']} | {_pct(v['recall'])} | {v['fp']} | {_pct(v['precision'])} |"
        )
    lines += ["", "| hard negative | labels | hit | rate |", "|---|---|---|---|"]
    for k, v in result["negatives"].items():
        lines.append(f"| {k} | {v['labels']} | {v['hit']} | {_pct(v['rate'])} |")
    lines += ["", "FP by type: " + json.dumps(result["fp_by_type"])]
    lines += ["FP by reason: " + json.dumps(result["fp_by_reason"])]
    return "\n".join(lines)


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--findings", type=Path, required=True)
    parser.add_argument(
        "--format", required=True, choices=("ramparts", "detect-secrets", "presidio", "generic")
    )
    parser.add_argument("--scope", choices=("secrets", "pii"), default=None)
    parser.add_argument("--strict", action="store_true", help="the finding's type must fit too")
    parser.add_argument("--min-score", type=float, default=0.0, help="presidio score threshold")
    parser.add_argument("--root", type=Path, default=None, help="scanned folder (default DIR/tree)")
    parser.add_argument("--json", type=Path, default=None, help="write every metric here")
    args = parser.parse_args()
    result = score_files(
        args.labels,
        args.findings,
        args.format,
        scope=args.scope,
        strict=args.strict,
        min_score=args.min_score,
        root=args.root,
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Evidence from infrastructure as code that declares AI resources.

These are simple, documented checks of text and structure, not a Terraform or
CloudFormation evaluator: variables, modules, ``count``/``for_each``, dynamic blocks
and provider defaults set elsewhere are not resolved. An attribute set from a variable
counts as set (it cannot be judged); a missing attribute takes the provider's default.

- Terraform (``*.tf``): ``resource "TYPE" "NAME" { ... }`` blocks, their top-level
  attributes and nested block names.
- CloudFormation (YAML or JSON with ``Resources`` of ``Type: AWS::...``; ``!Ref``-style
  tags are read as plain values).
- Kubernetes manifests (YAML documents with ``kind``): workloads whose containers run a
  model server (image or command naming vLLM, Ollama, text-generation-inference,
  Triton, TorchServe, TensorFlow Serving, llama.cpp, LocalAI, SGLang, LMDeploy) and the
  Services selecting them. Helm templates do not parse as YAML and are reported as
  not judged.

Checks (Checkov and Prowler have checks of the same intent):

- ``iac.sagemaker_unencrypted``: endpoint configurations without ``kms_key_arn``,
  notebook instances and domains without ``kms_key_id`` (``KmsKeyId``).
- ``iac.sagemaker_network_exposed``: notebook instances whose ``direct_internet_access``
  is not ``Disabled`` (the provider default is ``Enabled``), models without
  ``enable_network_isolation = true``, domains whose ``app_network_access_type`` is
  not ``VpcOnly``.
- ``iac.bedrock_agent_no_guardrail`` / ``iac.bedrock_no_cmk``: ``aws_bedrockagent_agent``
  (``AWS::Bedrock::Agent``) without ``guardrail_configuration`` /
  ``customer_encryption_key_arn``.
- ``iac.azure_openai_public`` / ``iac.azure_openai_local_auth``: ``azurerm_cognitive_account``
  of kind ``OpenAI`` or ``AIServices`` whose ``public_network_access_enabled`` /
  ``local_auth_enabled`` is not ``false`` (both default to true).
- ``iac.vertex_no_cmek``: Vertex AI datasets, endpoints, index endpoints, featurestores,
  tensorboards and metadata stores without an ``encryption_spec`` block.
- ``iac.model_server_exposed``: a ``Service`` of type ``LoadBalancer`` or ``NodePort``
  whose selector matches a model-server pod's labels, or a model-server pod using
  ``hostNetwork`` or a ``hostPort``. Ingresses are not followed.
- ``iac.model_server_root``: model-server containers whose effective
  ``securityContext`` (container over pod) lacks ``runAsNonRoot: true``, or sets
  ``runAsUser: 0`` or ``privileged: true``.
- ``iac.model_server_no_limits``: model-server containers without
  ``resources.limits.memory`` (an unbounded model server can starve its node).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ramparts.core.records import field, record
from ramparts.core.types import Location
from ramparts.posture.collect_k8s import SERVICE_KIND, KubeServers
from ramparts.posture.interface import Fact
from ramparts.posture.repo_files import Hit, RepoFile, RepoFiles, hits_fact, line_of

__all__ = ["collect_iac"]

_RESOURCE = re.compile(r'^[ \t]*resource\s+"([\w-]+)"\s+"([\w-]+)"\s*\{', re.MULTILINE)
_AI_PREFIXES = (
    "aws_sagemaker_",
    "aws_bedrock",
    "azurerm_cognitive_",
    "azurerm_machine_learning_",
    "azurerm_ai_",
    "google_vertex_ai_",
    "google_notebooks_",
    "google_workbench_",
)
_AI_CFN = ("AWS::SageMaker::", "AWS::Bedrock::")
_VERTEX_CMEK = frozenset(
    {
        "google_vertex_ai_dataset",
        "google_vertex_ai_endpoint",
        "google_vertex_ai_index_endpoint",
        "google_vertex_ai_featurestore",
        "google_vertex_ai_tensorboard",
        "google_vertex_ai_metadata_store",
    }
)
_CFN_KMS = frozenset(
    {"AWS::SageMaker::EndpointConfig", "AWS::SageMaker::NotebookInstance", "AWS::SageMaker::Domain"}
)
# Resource type -> (setting, the safe value lower-cased); a missing setting is unsafe,
# as the provider defaults are (direct internet Enabled, no isolation, public domain).
_EXPOSURE = {
    "aws_sagemaker_notebook_instance": ("direct_internet_access", "disabled"),
    "aws_sagemaker_model": ("enable_network_isolation", "true"),
    "aws_sagemaker_domain": ("app_network_access_type", "vpconly"),
    "AWS::SageMaker::NotebookInstance": ("DirectInternetAccess", "disabled"),
    "AWS::SageMaker::Model": ("EnableNetworkIsolation", "true"),
    "AWS::SageMaker::Domain": ("AppNetworkAccessType", "vpconly"),
}


@record
class _Resource:
    """One declared resource: its type, address, where, and its settings."""

    type: str
    address: str
    location: Location
    top: str = ""
    """Terraform: the block's text with nested blocks' contents blanked."""
    properties: Mapping[str, Any] = field(default_factory=dict)
    """CloudFormation: the ``Properties`` mapping."""

    def tf(self, name: str) -> str | None:
        """A top-level Terraform attribute's raw value, lower-cased and unquoted."""
        match = re.search(rf"^\s*{name}\s*=\s*(.+?)\s*$", self.top, re.MULTILINE)
        return match.group(1).strip().strip('"').lower() if match else None

    def tf_block(self, name: str) -> bool:
        """Whether the Terraform block has a nested block ``name``."""
        return re.search(rf"^\s*{name}\s*\{{", self.top, re.MULTILINE) is not None

    def hit(self) -> Hit:
        """This resource as an offending item."""
        return Hit(f"{self.location.path}:{self.location.line} {self.address}", self.location)


def _blocks(text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Each ``resource`` header match and its top-level body."""
    for match in _RESOURCE.finditer(text):
        depth, top, i, quote = 1, [], match.end(), False
        while i < len(text) and depth:
            char = text[i]
            if char == '"' and text[i - 1] != "\\":
                quote = not quote
            elif not quote and char == "{":
                depth += 1
            elif not quote and char == "}":
                depth -= 1
            if depth == 1 or (depth == 2 and char == "{") or char == "\n":
                top.append(char)
            i += 1
        yield match, "".join(top)


def _terraform(repo: RepoFiles, file: RepoFile) -> list[_Resource]:
    text = repo.text(file) or ""
    found = []
    for match, top in _blocks(text):
        kind, name = match.group(1), match.group(2)
        where = Location(file.rel, line_of(text, match.start()))
        found.append(_Resource(kind, f"{kind}.{name}", where, top=top))
    return found


def _cloudformation(repo: RepoFiles, file: RepoFile, docs: list[Any]) -> list[_Resource]:
    text = repo.text(file) or ""
    found = []
    for doc in docs:
        resources = doc.get("Resources") if isinstance(doc, dict) else None
        if not isinstance(resources, dict):
            continue
        for logical, body in resources.items():
            if not (isinstance(body, dict) and str(body.get("Type", "")).startswith("AWS::")):
                continue
            props = body.get("Properties")
            key = re.search(
                rf"^[ \t]*[\"']?{re.escape(str(logical))}[\"']?[ \t]*:", text, re.MULTILINE
            )
            where = Location(file.rel, line_of(text, key.start()) if key else None)
            found.append(
                _Resource(
                    str(body["Type"]),
                    f"{body['Type']} {logical}",
                    where,
                    properties=props if isinstance(props, dict) else {},
                )
            )
    return found


def _off(value: object) -> bool:
    return str(value).strip().lower() in ("false", "disabled")


def _checks() -> dict[str, Callable[[_Resource], bool]]:
    """Fact name -> predicate on a resource that is true when the resource offends."""

    def sm_unencrypted(r: _Resource) -> bool:
        keys = {
            "aws_sagemaker_endpoint_configuration": "kms_key_arn",
            "aws_sagemaker_notebook_instance": "kms_key_id",
            "aws_sagemaker_domain": "kms_key_id",
        }
        if r.type in keys:
            return r.tf(keys[r.type]) is None
        return r.type in _CFN_KMS and "KmsKeyId" not in r.properties

    def sm_exposed(r: _Resource) -> bool:
        rule = _EXPOSURE.get(r.type)
        if rule is None:
            return False
        key, safe = rule
        value = r.properties.get(key) if r.type.startswith("AWS::") else r.tf(key)
        return str(value).lower() != safe

    def agent_missing(tf_name: str, cfn_name: str, block: bool) -> Callable[[_Resource], bool]:
        def check(r: _Resource) -> bool:
            if r.type == "aws_bedrockagent_agent":
                return not (r.tf_block(tf_name) if block else r.tf(tf_name) is not None)
            if r.type == "AWS::Bedrock::Agent":
                return cfn_name not in r.properties
            return False

        return check

    def openai(attribute: str) -> Callable[[_Resource], bool]:
        def check(r: _Resource) -> bool:
            return (
                r.type == "azurerm_cognitive_account"
                and r.tf("kind") in ("openai", "aiservices")
                and not _off(r.tf(attribute))
            )

        return check

    return {
        "iac.sagemaker_unencrypted": sm_unencrypted,
        "iac.sagemaker_network_exposed": sm_exposed,
        "iac.bedrock_agent_no_guardrail": agent_missing(
            "guardrail_configuration", "GuardrailConfiguration", block=True
        ),
        "iac.bedrock_no_cmk": agent_missing(
            "customer_encryption_key_arn", "CustomerEncryptionKeyArn", block=False
        ),
        "iac.azure_openai_public": openai("public_network_access_enabled"),
        "iac.azure_openai_local_auth": openai("local_auth_enabled"),
        "iac.vertex_no_cmek": lambda r: (
            r.type in _VERTEX_CMEK and not r.tf_block("encryption_spec")
        ),
    }


_WORDING = {
    "iac.sagemaker_unencrypted": (
        "SageMaker endpoint configs, notebooks and domains without a KMS key",
        "sagemaker",
    ),
    "iac.sagemaker_network_exposed": (
        (
            "SageMaker notebooks with direct internet access, models without network "
            "isolation or domains outside a VPC"
        ),
        "sagemaker",
    ),
    "iac.bedrock_agent_no_guardrail": ("Bedrock agents without a guardrail", "bedrock"),
    "iac.bedrock_no_cmk": ("Bedrock agents without a customer-managed key", "bedrock"),
    "iac.azure_openai_public": (
        "Azure OpenAI accounts reachable from public networks",
        "azure_openai",
    ),
    "iac.azure_openai_local_auth": (
        "Azure OpenAI accounts accepting API keys (local auth)",
        "azure_openai",
    ),
    "iac.vertex_no_cmek": ("Vertex AI resources without a CMEK encryption_spec", "vertex"),
}


def collect_iac(repo: RepoFiles) -> tuple[Fact, ...]:
    """Every ``iac.*`` fact of the repository."""
    resources: list[_Resource] = []
    judged: list[str] = []
    manifests: list[tuple[RepoFile, list[Any]]] = []
    for file in repo.files:
        if file.name.endswith(".tf"):
            resources.extend(_terraform(repo, file))
        elif file.name.endswith((".yaml", ".yml", ".json", ".template")) and file.folders[:1] != (
            ".github",
        ):
            text = repo.text(file) or ""
            cfn = "AWS::" in text and "Resources" in text
            k8s = (
                "apiVersion" in text
                and ("containers" in text or SERVICE_KIND.search(text) is not None)
                and not file.name.endswith(".json")
            )
            if not (cfn or k8s):
                continue
            judged.append(file.rel)
            if file.name.endswith(".json"):
                data = repo.json(file)
                docs = [data] if data is not None else []
            else:
                docs = repo.yaml_documents(file)
            if cfn:
                resources.extend(_cloudformation(repo, file, docs))
            if k8s:
                manifests.append((file, docs))
    note = repo.unparsed_note(judged)
    ai = [r for r in resources if r.type.startswith(_AI_PREFIXES) or r.type.startswith(_AI_CFN)]
    servers = KubeServers.read(manifests)
    families = {
        "sagemaker": [r for r in ai if "sagemaker" in r.type.lower()],
        "bedrock": [r for r in ai if "bedrock" in r.type.lower()],
        "azure_openai": [
            r
            for r in ai
            if r.type == "azurerm_cognitive_account" and r.tf("kind") in ("openai", "aiservices")
        ],
        "vertex": [r for r in ai if r.type.startswith("google_vertex_ai_")],
    }
    present = bool(ai) or bool(servers.containers)
    facts = [
        Fact(
            "iac.present",
            present,
            (
                f"{len(ai)} AI cloud resource(s) and {len(servers.containers)} model-server "
                f"container(s) declared in IaC{note}"
                if present
                else f"no AI resource or model server declared in Terraform, CloudFormation "
                f"or Kubernetes files{note}"
            ),
            tuple(r.location for r in ai[:50]),
        ),
        hits_fact(
            "iac.ai_resources",
            [r.hit() for r in ai],
            none="no AI cloud resource declared in IaC",
            some="AI cloud resources declared in IaC",
        ),
    ]
    for family, members in families.items():
        facts.append(
            Fact(
                f"iac.{family}_present",
                bool(members),
                f"{len(members)} {family.replace('_', ' ')} resource(s) declared in IaC",
                tuple(r.location for r in members[:50]),
            )
        )
    for name, check in _checks().items():
        wording, family = _WORDING[name]
        members = families[family]
        facts.append(
            hits_fact(
                name,
                [r.hit() for r in members if check(r)],
                none=(
                    f"none of {len(members)} {family.replace('_', ' ')} resource(s) in IaC "
                    "has this gap (a text check, not a Terraform evaluation)"
                    if members
                    else f"no {family.replace('_', ' ')} resource declared in IaC"
                ),
                some=wording,
                note=note,
            )
        )
    facts.extend(servers.facts(note))
    return tuple(facts)

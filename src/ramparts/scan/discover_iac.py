"""AI resources declared as infrastructure as code.

- **Terraform** (``.tf``): ``resource`` blocks of SageMaker, Bedrock (agents,
  guardrails, knowledge bases...), Vertex AI, Azure OpenAI (``azurerm_cognitive_account``
  of kind ``OpenAI`` or ``AIServices``, ``azurerm_cognitive_deployment``) and Azure
  Machine Learning;
- **CloudFormation** (YAML or JSON): resources of type ``AWS::SageMaker::*`` and
  ``AWS::Bedrock::*``;
- **containers**: Kubernetes manifests, Compose files and Dockerfiles that run a model
  server image (vLLM, Ollama, Text Generation Inference, Triton, NIM, TorchServe,
  TensorFlow Serving, MLServer, SGLang, llama.cpp, LocalAI), KServe ``InferenceService``
  and Seldon ``SeldonDeployment`` resources.

Each resource lists the names of its top-level attributes (``attributes``), never their
values, so that a posture check can ask whether ``kms_key_arn`` or
``guardrail_configuration`` is set without this layer judging it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ramparts.scan.discover_assets import AiAsset, LinePlacer

__all__ = ["IAC_HINTS", "cloudformation", "dockerfile", "is_dockerfile", "kubernetes", "terraform"]

_TF_RESOURCE = re.compile(r'^[ \t]*resource[ \t]+"([\w-]+)"[ \t]+"([\w-]+)"[ \t]*\{', re.M)
_TF_PREFIXES = (
    ("aws_sagemaker_", "aws-sagemaker"),
    ("aws_bedrock", "aws-bedrock"),
    ("google_vertex_ai_", "google"),
    ("google_ml_engine_", "google"),
    ("azurerm_cognitive_deployment", "azure-openai"),
    ("azurerm_cognitive_account", "azure-openai"),
    ("azurerm_machine_learning_", "azure-ml"),
    ("azurerm_ai_services", "azure-ai"),
    ("azurerm_ai_foundry", "azure-ai"),
)
_TF_KEY = re.compile(r"[ \t]*([A-Za-z_][\w-]*)[ \t]*(?:=|\{)")
_TF_KIND = re.compile(r'^[ \t]*kind[ \t]*=[ \t]*"([^"]*)"', re.M)
_AZURE_AI_KINDS = {"openai": "azure-openai", "aiservices": "azure-ai"}

_CFN_TYPE = re.compile(r"AWS::(?:SageMaker|Bedrock)::\w+")
_CFN_PROVIDERS = {"SageMaker": "aws-sagemaker", "Bedrock": "aws-bedrock"}

_IMAGE = re.compile(r"""^[ \t-]*image:[ \t]*["']?([^\s"'#]+)""", re.M)
_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?(\S+)", re.M | re.I)
_SERVERS: tuple[tuple[str, str, str], ...] = (
    ("vllm/vllm-openai", "vllm", "vLLM server"),
    ("ollama/ollama", "ollama", "Ollama server"),
    ("huggingface/text-generation-inference", "huggingface", "Text Generation Inference"),
    ("huggingface/text-embeddings-inference", "huggingface", "Text Embeddings Inference"),
    ("nvidia/tritonserver", "nvidia", "Triton Inference Server"),
    ("pytorch/torchserve", "pytorch", "TorchServe"),
    ("tensorflow/serving", "tensorflow", "TensorFlow Serving"),
    ("seldonio/mlserver", "seldon", "MLServer"),
    ("lmsysorg/sglang", "sglang", "SGLang server"),
    ("ggerganov/llama.cpp", "llama.cpp", "llama.cpp server"),
    ("ggml-org/llama.cpp", "llama.cpp", "llama.cpp server"),
    ("localai/localai", "localai", "LocalAI server"),
)
_CRDS = {
    "InferenceService": ("serving.kserve.io", "kserve", "KServe InferenceService"),
    "SeldonDeployment": ("machinelearning.seldon.io", "seldon", "Seldon deployment"),
}
_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.M)
_KIND = re.compile(r"^kind:[ \t]*[\"']?([\w.-]+)", re.M)
_API = re.compile(r"^apiVersion:[ \t]*[\"']?([\w./-]+)", re.M)
_META_NAME = re.compile(r"^metadata:[ \t]*\n(?:[ \t]+.*\n)*?[ \t]+name:[ \t]*[\"']?([\w.-]+)", re.M)

IAC_HINTS = ("image:", "InferenceService", "SeldonDeployment", "AWS::SageMaker::", "AWS::Bedrock::")
"""Substrings at least one of which a YAML or JSON file declaring AI resources holds."""


def _tf_provider(rtype: str) -> str | None:
    return next((p for prefix, p in _TF_PREFIXES if rtype.startswith(prefix)), None)


def _block(text: str, start: int) -> tuple[str, list[str]]:
    """The body of the block whose ``{`` is at ``start``, and its top-level keys."""
    depth, i, end = 0, start, len(text)
    in_string = False
    keys: list[str] = []
    while i < end:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = end if newline < 0 else newline - 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], keys
        elif ch == "\n" and depth == 1:
            match = _TF_KEY.match(text, i + 1)
            if match is not None:
                keys.append(match.group(1))
        i += 1
    return text[start + 1 :], keys


def terraform(rel: str, text: str) -> Iterator[AiAsset]:
    """AI resources declared in a Terraform file."""
    if not any(prefix in text for prefix, _ in _TF_PREFIXES):
        return
    place = LinePlacer(rel, text)
    for match in _TF_RESOURCE.finditer(text):
        rtype, name = match.group(1), match.group(2)
        provider = _tf_provider(rtype)
        if provider is None:
            continue
        body, keys = _block(text, match.end() - 1)
        props = {"resource_type": rtype, "attributes": ",".join(sorted(set(keys)))}
        if rtype == "azurerm_cognitive_account":
            kind = _TF_KIND.search(body)
            provider = _AZURE_AI_KINDS.get(kind.group(1).lower()) if kind else None
            if provider is None or kind is None:
                continue
            props["kind"] = kind.group(1)
        yield AiAsset(
            "iac", f"{rtype}.{name}", place(match.start()), provider, f"Terraform {rtype}", props
        )


def _yaml_keys(lines: list[str]) -> list[tuple[int, str | None]]:
    """(indent, key) of each line; key ``None`` for lines that are not ``key:``."""
    out: list[tuple[int, str | None]] = []
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        key, sep, _ = stripped.partition(":")
        ok = sep and key and not key.startswith(("#", "-")) and " " not in key.strip("'\"")
        out.append((indent, key.strip("'\"") if ok else None))
    return out


def _cfn_yaml(rel: str, text: str) -> Iterator[AiAsset]:
    lines = text.split("\n")
    keys = _yaml_keys(lines)
    place = LinePlacer(rel, text)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for i, (indent, key) in enumerate(keys):
        if key != "Type":
            continue
        match = _CFN_TYPE.search(lines[i])
        if match is None:
            continue
        j = i - 1
        while j >= 0 and (keys[j][1] is None or keys[j][0] >= indent):
            j -= 1
        if j < 0:
            continue
        logical = keys[j][1] or "resource"
        attributes: list[str] = []
        k = i + 1
        while k < len(keys) and (keys[k][1] is None or keys[k][0] > keys[j][0]):
            if keys[k] == (indent, "Properties"):
                inner = next((ind for ind, key_ in keys[k + 1 :] if key_ is not None), 0)
                m = k + 1
                while m < len(keys) and (keys[m][1] is None or keys[m][0] > indent):
                    if keys[m][0] == inner and keys[m][1]:
                        attributes.append(keys[m][1] or "")
                    m += 1
            k += 1
        yield _cfn_asset(match.group(), logical, place(offsets[j]), attributes)


def _cfn_asset(rtype: str, logical: str, location: Any, attributes: list[str]) -> AiAsset:
    service = rtype.split("::")[1]
    props = {"resource_type": rtype, "attributes": ",".join(sorted(set(attributes)))}
    return AiAsset(
        "iac",
        f"{rtype}.{logical}",
        location,
        _CFN_PROVIDERS[service],
        f"CloudFormation {rtype}",
        props,
    )


def cloudformation(rel: str, text: str) -> Iterator[AiAsset]:
    """SageMaker and Bedrock resources of a CloudFormation template (YAML or JSON)."""
    if "AWS::SageMaker::" not in text and "AWS::Bedrock::" not in text:
        return
    if not text.lstrip().startswith("{"):
        yield from _cfn_yaml(rel, text)
        return
    try:
        doc = json.loads(text)
    except ValueError:
        return
    resources = doc.get("Resources") if isinstance(doc, dict) else None
    if not isinstance(resources, dict):
        return
    place = LinePlacer(rel, text)
    for logical, resource in resources.items():
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        if not isinstance(rtype, str) or not _CFN_TYPE.fullmatch(rtype):
            continue
        properties = resource.get("Properties")
        attributes = list(properties) if isinstance(properties, dict) else []
        offset = max(text.find(json.dumps(logical)), 0)
        yield _cfn_asset(rtype, logical, place(offset), attributes)


def _server(image: str) -> tuple[str, str, str] | None:
    """(repository, provider, label) when ``image`` is a known model server."""
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    repo = repo.lower()
    if repo.startswith("nvcr.io/nim/"):
        return repo, "nvidia", "NVIDIA NIM"
    for name, provider, label in _SERVERS:
        if repo == name or repo.endswith("/" + name):
            return repo, provider, label
    return None


def _enclosing_key(text: str, offset: int) -> str | None:
    """The nearest key above ``offset`` that is indented less (a Compose service name)."""
    line_start = text.rfind("\n", 0, offset) + 1
    line = text[line_start : text.find("\n", offset) if "\n" in text[offset:] else len(text)]
    indent = len(line) - len(line.lstrip(" -"))
    for above in reversed(text[:line_start].split("\n")):
        stripped = above.lstrip(" ")
        if stripped and len(above) - len(stripped) < indent and stripped.rstrip().endswith(":"):
            return stripped.rstrip()[:-1].strip("'\"") or None
    return None


def kubernetes(rel: str, text: str) -> Iterator[AiAsset]:
    """Model-server containers and serving resources in YAML manifests or Compose files."""
    if not any(hint in text for hint in IAC_HINTS):
        return
    place = LinePlacer(rel, text)
    separators = list(_DOC_SPLIT.finditer(text))
    starts = [0, *(m.end() for m in separators)]
    ends = [*(m.start() for m in separators), len(text)]
    for base, end in zip(starts, ends, strict=True):
        doc = text[base:end]
        kind_match = _KIND.search(doc)
        kind = kind_match.group(1) if kind_match else None
        meta = _META_NAME.search(doc)
        workload = meta.group(1) if meta else None
        if kind_match is not None and kind in _CRDS and workload:
            api = _API.search(doc)
            group, provider, label = _CRDS[kind]
            if api is not None and api.group(1).startswith(group):
                props = {"kind": kind, "api_version": api.group(1)}
                yield AiAsset(
                    "iac",
                    f"{kind}/{workload}",
                    place(base + kind_match.start()),
                    provider,
                    label,
                    props,
                )
        for match in _IMAGE.finditer(doc):
            found = _server(match.group(1))
            if found is None:
                continue
            repo, provider, label = found
            props = {"image": match.group(1)}
            if kind:
                props["kind"] = kind
            owner = workload if kind else _enclosing_key(doc, match.start())
            if owner:
                props["workload"] = owner
            where = f"Kubernetes {kind}" if kind else "container"
            name = f"{kind}/{workload}" if kind and workload else (owner or repo)
            yield AiAsset(
                "iac",
                name,
                place(base + match.start(1)),
                provider,
                f"{where} running {label}",
                props,
            )


def is_dockerfile(rel: str) -> bool:
    """Whether a file's name marks it as a Dockerfile or Containerfile."""
    name = rel.rsplit("/", 1)[-1]
    return name.startswith(("Dockerfile", "Containerfile")) or name.endswith(".dockerfile")


def dockerfile(rel: str, text: str) -> Iterator[AiAsset]:
    """Model-server base images of a Dockerfile."""
    place = LinePlacer(rel, text)
    for match in _FROM.finditer(text):
        found = _server(match.group(1))
        if found is not None:
            repo, provider, label = found
            yield AiAsset(
                "iac",
                repo,
                place(match.start(1)),
                provider,
                f"image built on {label}",
                {"image": match.group(1)},
            )

"""AI SDK use in Python and JavaScript/TypeScript code, and AI API hostnames in any text.

Each detector first checks cheap substrings and runs its regular expressions only
when one is present, so that the thousands of files without AI code cost one
``in`` test each. Code is read as text, never imported or run.

- **imports**: ``import openai``, ``from anthropic import ...``, ``import vertexai``,
  ``from langchain_openai import ...`` (a LangChain or LlamaIndex integration is
  reported under the provider it calls), ``import ... from "@anthropic-ai/sdk"``,
  ``require("openai")``;
- **clients**: ``boto3.client("bedrock-runtime")``, ``"sagemaker-runtime"``,
  ``AzureOpenAI(...)``;
- **calls**: ``.chat.completions.create(``, ``.messages.create(``,
  ``.generate_content(``, ``.invoke_model(``, ``.from_pretrained(``..., reported
  when the file also imports the SDK that owns the call;
- **hostnames** of AI APIs (``api.openai.com``, ``*.openai.azure.com``,
  ``bedrock-runtime.<region>.amazonaws.com``, ``localhost:11434``...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ramparts.scan.discover_assets import AiAsset, Placer

__all__ = ["CODE_HINTS", "HOST_HINTS", "hostnames", "js_sdk", "python_sdk"]

# Integration packages of LangChain (langchain_X) and LlamaIndex (llama_index.llms.X):
# the provider they call.
_INTEGRATIONS = {
    "openai": "openai",
    "azure_openai": "azure-openai",
    "azure_ai": "azure-ai",
    "anthropic": "anthropic",
    "google_genai": "google",
    "google_vertexai": "google",
    "gemini": "google",
    "vertex": "google",
    "vertexai": "google",
    "aws": "aws-bedrock",
    "bedrock": "aws-bedrock",
    "bedrock_converse": "aws-bedrock",
    "sagemaker_endpoint": "aws-sagemaker",
    "mistralai": "mistral",
    "cohere": "cohere",
    "ollama": "ollama",
    "huggingface": "huggingface",
    "groq": "groq",
    "together": "together",
    "fireworks": "fireworks",
    "deepseek": "deepseek",
    "xai": "xai",
    "litellm": "litellm",
    "vllm": "vllm",
}

# Python modules (dotted prefixes) and the provider they speak to.
_PY_MODULES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google.generativeai": "google",
    "google.genai": "google",
    "google.ai.generativelanguage": "google",
    "vertexai": "google",
    "google.cloud.aiplatform": "google",
    "azure.ai.inference": "azure-ai",
    "azure.ai.projects": "azure-ai",
    "azure.ai.openai": "azure-openai",
    "azure.ai.ml": "azure-ml",
    "sagemaker": "aws-sagemaker",
    "transformers": "huggingface",
    "huggingface_hub": "huggingface",
    "sentence_transformers": "huggingface",
    "langchain": "langchain",
    "langgraph": "langchain",
    "llama_index": "llama-index",
    "litellm": "litellm",
    "vllm": "vllm",
    "ollama": "ollama",
    "mistralai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "together": "together",
    "replicate": "replicate",
    "crewai": "crewai",
    "autogen": "autogen",
    "autogen_agentchat": "autogen",
}

# JavaScript/TypeScript packages (exact names, or scopes ending in '/').
_JS_PACKAGES = {
    "openai": "openai",
    "@anthropic-ai/sdk": "anthropic",
    "@anthropic-ai/bedrock-sdk": "aws-bedrock",
    "@anthropic-ai/vertex-sdk": "google",
    "@google/generative-ai": "google",
    "@google/genai": "google",
    "@google-cloud/vertexai": "google",
    "@google-cloud/aiplatform": "google",
    "@aws-sdk/client-bedrock-runtime": "aws-bedrock",
    "@aws-sdk/client-bedrock-agent-runtime": "aws-bedrock",
    "@aws-sdk/client-bedrock": "aws-bedrock",
    "@aws-sdk/client-sagemaker-runtime": "aws-sagemaker",
    "@azure/openai": "azure-openai",
    "@azure-rest/ai-inference": "azure-ai",
    "@mistralai/mistralai": "mistral",
    "cohere-ai": "cohere",
    "ollama": "ollama",
    "groq-sdk": "groq",
    "together-ai": "together",
    "replicate": "replicate",
    "langchain": "langchain",
    "@langchain/core": "langchain",
    "@langchain/langgraph": "langchain",
    "llamaindex": "llama-index",
    "@huggingface/inference": "huggingface",
    "@huggingface/transformers": "huggingface",
    "@xenova/transformers": "huggingface",
}
_JS_SCOPED = {"@langchain/": "langchain", "@ai-sdk/": "vercel-ai", "@llamaindex/": "llama-index"}

CODE_HINTS = (
    "openai",
    "anthropic",
    "google",
    "vertexai",
    "azure",
    "bedrock",
    "sagemaker",
    "transformers",
    "huggingface",
    "langchain",
    "langgraph",
    "llama_index",
    "llamaindex",
    "litellm",
    "vllm",
    "ollama",
    "mistral",
    "cohere",
    "groq",
    "together",
    "replicate",
    "crewai",
    "autogen",
)
"""Substrings at least one of which an AI-using source file contains."""

_PY_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b([^\n#]*)|import[ \t]+([\w., \t]+))",
    re.M,
)
_JS_IMPORT = re.compile(
    r"""(?:\bfrom[ \t]*|\bimport[ \t]*\(?[ \t]*|\brequire[ \t]*\([ \t]*)["']([@\w./-]+)["']"""
)
_AWS_CLIENT = re.compile(
    r"""\.(?:client|resource)\(\s*(?:service_name\s*=\s*)?["']"""
    r"""(bedrock(?:-runtime|-agent-runtime|-agent)?|sagemaker(?:-runtime)?)["']"""
)
_AZURE_CLIENT = re.compile(r"\b(?:Async)?AzureOpenAI\(|\bAzure(?:Chat)?OpenAI(?:Embeddings)?\(")

# Call patterns: (regex, providers that own the call, in order of preference, label).
_CALLS: tuple[tuple[re.Pattern[str], tuple[str, ...], str], ...] = (
    (
        re.compile(r"\.chat\.completions\.create\("),
        ("openai", "azure-openai", "groq", "together", "mistral", "litellm"),
        "chat.completions.create call",
    ),
    (re.compile(r"\.responses\.create\("), ("openai", "azure-openai"), "responses.create call"),
    (
        re.compile(r"\.embeddings\.create\("),
        ("openai", "azure-openai"),
        "embeddings.create call",
    ),
    (re.compile(r"\.messages\.(?:create|stream)\("), ("anthropic",), "messages.create call"),
    (re.compile(r"\.(?:generate_content|generateContent)\("), ("google",), "generate_content call"),
    (
        re.compile(
            r"\.(?:invoke_model|invoke_model_with_response_stream|converse|converse_stream|"
            r"invoke_agent|retrieve_and_generate)\(|\bnew[ \t]+(?:InvokeModel|"
            r"InvokeModelWithResponseStream|Converse|ConverseStream|InvokeAgent)Command\("
        ),
        ("aws-bedrock",),
        "Bedrock invocation",
    ),
    (
        re.compile(
            r"\.invoke_endpoint(?:_async|_with_response_stream)?\(|\bInvokeEndpointCommand\("
        ),
        ("aws-sagemaker",),
        "SageMaker endpoint invocation",
    ),
    (re.compile(r"\.from_pretrained\("), ("huggingface",), "from_pretrained call"),
    (
        re.compile(r"\blitellm\.a?(?:completion|embedding)\("),
        ("litellm",),
        "litellm.completion call",
    ),
    (re.compile(r"\bollama\.(?:chat|generate|embed)\("), ("ollama",), "ollama call"),
)


def _python_provider(module: str, names: str) -> tuple[str, str] | None:
    """(provider, name) of an imported module, or ``None`` when it is not AI."""
    parts = module.split(".")
    top = parts[0]
    if top.startswith("langchain_"):
        return _INTEGRATIONS.get(top[len("langchain_") :], "langchain"), top
    if top == "llama_index" and len(parts) >= 3 and parts[1] in ("llms", "embeddings"):
        return _INTEGRATIONS.get(parts[2], "llama-index"), ".".join(parts[:3])
    for depth in (3, 2, 1):
        prefix = ".".join(parts[:depth])
        found = _PY_MODULES.get(prefix) if len(parts) >= depth else None
        if found is not None:
            return ("azure-openai" if found == "openai" and "Azure" in names else found), prefix
    return None


def _js_provider(spec: str) -> str | None:
    if spec in _JS_PACKAGES:
        return _JS_PACKAGES[spec]
    for scope, provider in _JS_SCOPED.items():
        if spec.startswith(scope):
            if scope == "@ai-sdk/" or (scope == "@langchain/" and spec != "@langchain/core"):
                return _INTEGRATIONS.get(spec[len(scope) :].replace("-", "_"), provider)
            return provider
    package = "/".join(spec.split("/")[:2]) if spec.startswith("@") else spec.split("/", 1)[0]
    return _JS_PACKAGES.get(package) if package != spec else None


def _calls(text: str, place: Placer, imported: set[str]) -> Iterator[AiAsset]:
    for pattern, owners, label in _CALLS:
        owner = next((p for p in owners if p in imported), None)
        if owner is None:
            continue
        for match in pattern.finditer(text):
            yield AiAsset("sdk", owner, place(match.start()), owner, label)


def python_sdk(text: str, place: Placer) -> Iterator[AiAsset]:
    """SDK imports, AWS and Azure clients and model calls in Python source."""
    if not any(hint in text for hint in CODE_HINTS):
        return
    imported: set[str] = set()
    seen: set[str] = set()
    for match in _PY_IMPORT.finditer(text):
        module, names, plain = match.group(1), match.group(2) or "", match.group(3)
        modules = [module] if module else [m.split()[0] for m in plain.split(",") if m.split()]
        for name in modules:
            found = _python_provider(name, names)
            if found is None:
                continue
            provider, label = found
            imported.add(provider)
            if label not in seen:
                seen.add(label)
                detail = f"from {name} import" if module else f"import {name}"
                yield AiAsset("sdk", label, place(match.start()), provider, detail)
    yield from _clients(text, place, imported)
    yield from _calls(text, place, imported)


def _clients(text: str, place: Placer, imported: set[str]) -> Iterator[AiAsset]:
    if "bedrock" in text or "sagemaker" in text:
        for match in _AWS_CLIENT.finditer(text):
            service = match.group(1)
            provider = "aws-bedrock" if service.startswith("bedrock") else "aws-sagemaker"
            imported.add(provider)
            yield AiAsset(
                "sdk",
                f"boto3:{service}",
                place(match.start()),
                provider,
                f"AWS client for {service}",
                {"service": service},
            )
    if "AzureOpenAI" in text or "AzureChatOpenAI" in text:
        client = _AZURE_CLIENT.search(text)
        if client is not None:
            imported.add("azure-openai")
            yield AiAsset(
                "sdk", "azure-openai", place(client.start()), "azure-openai", "Azure OpenAI client"
            )


def js_sdk(text: str, place: Placer) -> Iterator[AiAsset]:
    """SDK imports and model calls in JavaScript or TypeScript source."""
    if not any(hint in text for hint in CODE_HINTS):
        return
    imported: set[str] = set()
    seen: set[str] = set()
    for match in _JS_IMPORT.finditer(text):
        spec = match.group(1)
        provider = _js_provider(spec)
        if provider is None:
            continue
        imported.add(provider)
        if spec not in seen:
            seen.add(spec)
            yield AiAsset("sdk", spec, place(match.start()), provider, f"import of {spec}")
    yield from _calls(text, place, imported)


_HOSTS: tuple[tuple[str, str], ...] = (
    (r"api\.openai\.com", "openai"),
    (r"api\.anthropic\.com", "anthropic"),
    (r"generativelanguage\.googleapis\.com", "google"),
    (r"(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com", "google"),
    (
        r"bedrock(?:-runtime|-agent-runtime|-agent)?(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com",
        "aws-bedrock",
    ),
    (r"runtime\.sagemaker\.[a-z0-9-]+\.amazonaws\.com", "aws-sagemaker"),
    (r"[a-z0-9][a-z0-9-]*\.openai\.azure\.com", "azure-openai"),
    (r"[a-z0-9][a-z0-9-]*\.services\.ai\.azure\.com", "azure-ai"),
    (r"models\.inference\.ai\.azure\.com", "azure-ai"),
    (r"api\.mistral\.ai", "mistral"),
    (r"api\.cohere\.(?:ai|com)", "cohere"),
    (r"api-inference\.huggingface\.co", "huggingface"),
    (r"router\.huggingface\.co", "huggingface"),
    (r"api\.groq\.com", "groq"),
    (r"api\.together\.(?:xyz|ai)", "together"),
    (r"openrouter\.ai", "openrouter"),
    (r"api\.deepseek\.com", "deepseek"),
    (r"api\.x\.ai", "xai"),
    (r"api\.perplexity\.ai", "perplexity"),
    (r"api\.replicate\.com", "replicate"),
    (r"api\.fireworks\.ai", "fireworks"),
    (r"(?:localhost|127\.0\.0\.1):11434", "ollama"),
)
_HOST_RE = re.compile("|".join(f"({p})" for p, _ in _HOSTS))
# Substrings every host above contains: found with str.find, then the whole token
# around each is matched, so that "api.openai.com.evil.example" is not taken.
_ANCHORS = (
    ".openai.com",
    ".anthropic.com",
    ".googleapis.com",
    ".amazonaws.com",
    ".azure.com",
    ".mistral.ai",
    ".cohere.ai",
    ".cohere.com",
    ".huggingface.co",
    ".groq.com",
    ".together.xyz",
    ".together.ai",
    "openrouter.ai",
    ".deepseek.com",
    ".x.ai",
    ".perplexity.ai",
    ".replicate.com",
    ".fireworks.ai",
    ":11434",
)
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
HOST_HINTS = _ANCHORS
"""Substrings at least one of which a text naming an AI API host contains."""


def _token(text: str, start: int, end: int) -> tuple[int, str]:
    while start > 0 and text[start - 1] in _HOST_CHARS:
        start -= 1
    while end < len(text) and text[end] in _HOST_CHARS:
        end += 1
    return start, text[start:end].rstrip(".")


def hostnames(text: str, place: Placer) -> Iterator[AiAsset]:
    """The first mention of each AI API hostname in ``text``."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few non-ASCII letters change length when lowered
        lowered = text
    hits: dict[int, str] = {}
    for anchor in _ANCHORS:
        pos = lowered.find(anchor)
        while pos >= 0:
            start, token = _token(lowered, pos, pos + len(anchor))
            hits.setdefault(start, token)
            pos = lowered.find(anchor, pos + len(anchor))
    seen: set[str] = set()
    for start in sorted(hits):
        token = hits[start]
        match = _HOST_RE.fullmatch(token)
        if match is None or token in seen:
            continue
        seen.add(token)
        provider = _HOSTS[(match.lastindex or 1) - 1][1]
        yield AiAsset("endpoint", token, place(start), provider, "AI API hostname", {"host": token})

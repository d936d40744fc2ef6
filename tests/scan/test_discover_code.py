"""SDK use in Python and JavaScript, and AI API hostnames: each with a near miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.scan.discover import AiAsset, discover


def _found(tmp_path: Path, name: str, text: str) -> list[AiAsset]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return list(discover(tmp_path).assets)


def _sdk(assets: list[AiAsset]) -> set[tuple[str, str | None, str]]:
    return {(a.name, a.provider, a.detail) for a in assets if a.kind == "sdk"}


@pytest.mark.parametrize(
    ("source", "name", "provider"),
    [
        ("import openai\n", "openai", "openai"),
        ("from openai import OpenAI\n", "openai", "openai"),
        ("from openai import AzureOpenAI\n", "openai", "azure-openai"),
        ("from anthropic import Anthropic\n", "anthropic", "anthropic"),
        ("import google.generativeai as genai\n", "google.generativeai", "google"),
        ("from google import genai\n", "google", None),
        ("from google.genai import types\n", "google.genai", "google"),
        ("import vertexai\n", "vertexai", "google"),
        (
            "from azure.ai.inference import ChatCompletionsClient\n",
            "azure.ai.inference",
            "azure-ai",
        ),
        ("from transformers import AutoModel\n", "transformers", "huggingface"),
        ("from langchain_openai import ChatOpenAI\n", "langchain_openai", "openai"),
        ("from langchain_anthropic import ChatAnthropic\n", "langchain_anthropic", "anthropic"),
        ("from langchain_core.prompts import PromptTemplate\n", "langchain_core", "langchain"),
        ("from llama_index.llms.openai import OpenAI\n", "llama_index.llms.openai", "openai"),
        ("from llama_index.core import VectorStoreIndex\n", "llama_index", "llama-index"),
        ("import litellm\n", "litellm", "litellm"),
        ("from vllm import LLM\n", "vllm", "vllm"),
        ("import ollama\n", "ollama", "ollama"),
        ("from mistralai import Mistral\n", "mistralai", "mistral"),
        ("import cohere\n", "cohere", "cohere"),
        ("import os, openai\n", "openai", "openai"),
    ],
)
def test_python_imports(tmp_path: Path, source: str, name: str, provider: str | None) -> None:
    found = _sdk(_found(tmp_path, "app.py", source))
    if provider is None:  # "from google import genai" names no AI module by itself
        assert found == set()
    else:
        assert {(n, p) for n, p, _ in found} == {(name, provider)}


@pytest.mark.parametrize(
    "source",
    [
        "import openaix\n",
        "from anthropics import x\n",
        "import google.cloud.storage\n",
        "# we do not use openai here\nimport os\n",
        "from myapp.openai import helper\n",
        "x = 'import openai'\n",
    ],
)
def test_python_near_misses(tmp_path: Path, source: str) -> None:
    assert _sdk(_found(tmp_path, "app.py", source)) == set()


def test_calls_are_attributed_to_the_imported_sdk(tmp_path: Path) -> None:
    source = (
        "import anthropic\n"
        "from openai import OpenAI\n"
        "a = anthropic.Anthropic().messages.create(model='m', messages=[])\n"
        "b = OpenAI().chat.completions.create(model='m', messages=[])\n"
    )
    assets = _found(tmp_path, "app.py", source)
    calls = {(a.provider, a.detail, a.location.line) for a in assets if "call" in a.detail}
    assert calls == {
        ("anthropic", "messages.create call", 3),
        ("openai", "chat.completions.create call", 4),
    }


def test_a_call_without_its_sdk_is_not_reported(tmp_path: Path) -> None:
    # A local helper with the same method name is not Anthropic's SDK.
    source = "from mail import outbox\noutbox.messages.create(to='x')\n"
    assert _sdk(_found(tmp_path, "app.py", source)) == set()


def test_boto3_clients_for_bedrock_and_sagemaker(tmp_path: Path) -> None:
    source = (
        "import boto3\n"
        "rt = boto3.client('bedrock-runtime', region_name='eu-west-1')\n"
        'sm = boto3.client(service_name="sagemaker-runtime")\n'
        "rt.invoke_model(modelId='m', body=b'{}')\n"
        "s3 = boto3.client('s3')\n"
    )
    found = _sdk(_found(tmp_path, "app.py", source))
    assert found == {
        ("boto3:bedrock-runtime", "aws-bedrock", "AWS client for bedrock-runtime"),
        ("boto3:sagemaker-runtime", "aws-sagemaker", "AWS client for sagemaker-runtime"),
        ("aws-bedrock", "aws-bedrock", "Bedrock invocation"),
    }


def test_azure_openai_client(tmp_path: Path) -> None:
    source = "import openai\nclient = openai.AzureOpenAI(api_version='2024-06-01')\n"
    providers = {p for _, p, _ in _sdk(_found(tmp_path, "app.py", source))}
    assert providers == {"openai", "azure-openai"}


@pytest.mark.parametrize(
    ("source", "name", "provider"),
    [
        ('import OpenAI from "openai";\n', "openai", "openai"),
        ("import Anthropic from '@anthropic-ai/sdk';\n", "@anthropic-ai/sdk", "anthropic"),
        (
            'import { GoogleGenerativeAI } from "@google/generative-ai";\n',
            "@google/generative-ai",
            "google",
        ),
        (
            'const { BedrockRuntimeClient } = require("@aws-sdk/client-bedrock-runtime");\n',
            "@aws-sdk/client-bedrock-runtime",
            "aws-bedrock",
        ),
        ('import { ChatOpenAI } from "@langchain/openai";\n', "@langchain/openai", "openai"),
        ('import { openai } from "@ai-sdk/openai";\n', "@ai-sdk/openai", "openai"),
        ('import x from "openai/resources/chat";\n', "openai/resources/chat", "openai"),
    ],
)
def test_javascript_imports(tmp_path: Path, source: str, name: str, provider: str) -> None:
    found = _sdk(_found(tmp_path, "src/app.ts", source))
    assert {(n, p) for n, p, _ in found} == {(name, provider)}


@pytest.mark.parametrize(
    "source",
    [
        'import x from "openai-helpers";\n',
        'import x from "@aws-sdk/client-s3";\n',
        'const s = "openai";\n',
        'import x from "./openai";\n',
    ],
)
def test_javascript_near_misses(tmp_path: Path, source: str) -> None:
    assert _sdk(_found(tmp_path, "src/app.js", source)) == set()


def test_javascript_call(tmp_path: Path) -> None:
    source = (
        "import Anthropic from '@anthropic-ai/sdk';\n"
        "const c = new Anthropic();\n"
        "await c.messages.create({ model: 'm', messages: [] });\n"
    )
    details = {a.detail for a in _found(tmp_path, "index.mjs", source)}
    assert "messages.create call" in details


@pytest.mark.parametrize(
    ("text", "host", "provider"),
    [
        ("url: https://api.openai.com/v1/chat\n", "api.openai.com", "openai"),
        ("ANTHROPIC_BASE=https://API.Anthropic.com\n", "api.anthropic.com", "anthropic"),
        ("generativelanguage.googleapis.com", "generativelanguage.googleapis.com", "google"),
        (
            "https://us-central1-aiplatform.googleapis.com/v1/x",
            "us-central1-aiplatform.googleapis.com",
            "google",
        ),
        (
            "endpoint = bedrock-runtime.eu-west-1.amazonaws.com",
            "bedrock-runtime.eu-west-1.amazonaws.com",
            "aws-bedrock",
        ),
        (
            "runtime.sagemaker.us-east-1.amazonaws.com",
            "runtime.sagemaker.us-east-1.amazonaws.com",
            "aws-sagemaker",
        ),
        ("https://acme-prod.openai.azure.com/", "acme-prod.openai.azure.com", "azure-openai"),
        ("api.mistral.ai", "api.mistral.ai", "mistral"),
        ("api.cohere.com", "api.cohere.com", "cohere"),
        ("https://api.cohere.ai/v1", "api.cohere.ai", "cohere"),
        (
            "https://api-inference.huggingface.co/models/x",
            "api-inference.huggingface.co",
            "huggingface",
        ),
        ("https://router.huggingface.co/v1", "router.huggingface.co", "huggingface"),
        ("api.groq.com", "api.groq.com", "groq"),
        ("https://api.together.xyz/v1", "api.together.xyz", "together"),
        ("https://openrouter.ai/api/v1", "openrouter.ai", "openrouter"),
        ("OLLAMA_HOST=http://localhost:11434", "localhost:11434", "ollama"),
        ("see api.openai.com.", "api.openai.com", "openai"),
    ],
)
def test_hostnames(tmp_path: Path, text: str, host: str, provider: str) -> None:
    endpoints = [a for a in _found(tmp_path, "notes.txt", text) if a.kind == "endpoint"]
    assert (endpoints[0].name, endpoints[0].provider) == (host, provider)
    assert endpoints[0].properties["host"] == host


@pytest.mark.parametrize(
    "text",
    [
        "https://platform.openai.com/docs",
        "https://api.openai.com.evil.example/v1",
        "https://notapi.openai.com/",
        "s3.eu-west-1.amazonaws.com",
        "https://management.azure.com/",
        "openai.com",
        "localhost:114345",
        "https://huggingface.co/models",
    ],
)
def test_hostname_near_misses(tmp_path: Path, text: str) -> None:
    assert [a for a in _found(tmp_path, "notes.txt", text) if a.kind == "endpoint"] == []


def test_each_host_once_per_file_at_its_first_line(tmp_path: Path) -> None:
    text = "a\nhttps://api.openai.com/v1\nb\napi.openai.com\n"
    endpoints = [a for a in _found(tmp_path, "conf.yaml", text) if a.kind == "endpoint"]
    assert [(e.name, e.location.line) for e in endpoints] == [("api.openai.com", 2)]

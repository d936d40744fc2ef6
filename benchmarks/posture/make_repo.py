"""A deterministic synthetic monorepo for the posture benchmark.

    python benchmarks/posture/make_repo.py --out DIR [--files 5000] [--seed 7]

Writes exactly ``--files`` files under ``DIR`` (which must not exist or be empty): mostly
ordinary source of a product monorepo (Python services and libraries with their tests,
a JavaScript/TypeScript web app, Markdown docs, YAML and JSON configuration and
fixtures, shell scripts, Kubernetes manifests and Terraform of ordinary services), each
file between 1 and 20 KB (log-normal sizes, median about 5 KB), plus a fixed sprinkle
of AI assets:

- models: two safetensors files and one pickle of a plain ``OrderedDict`` of floats
  (its only global is ``collections.OrderedDict``), written opcode by opcode, never
  produced by ``pickle.dumps`` and never loaded;
- datasets (CSV: a training set, an evaluation set, a small customer extract with
  fabricated ``example.com`` e-mail addresses) and notebooks calling an SDK;
- SDK calls in Python (openai, anthropic, boto3 ``bedrock-runtime``) and JavaScript
  (openai) modules among the ordinary ones;
- GitHub workflows (one runs an evaluation with an API key from secrets);
- Terraform with SageMaker, Bedrock and Azure OpenAI resources, a CloudFormation
  template with a SageMaker model, a Kubernetes manifest serving vLLM;
- an MCP configuration (``.cursor/mcp.json``) and Dockerfiles.

The same seed and count give byte-identical trees. Standard library only. Numbers in
the ordinary files stay below 10,000 and no ordinary file holds an address, a key or a
name, so that what the scanners find comes from the AI assets.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import struct
import sys
from collections import Counter
from pathlib import Path
from typing import Any

MIN_SIZE = 1024
MAX_SIZE = 20 * 1024
MEDIAN_SIZE = 5000


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WORDS = _split(
    "account action adapter agent alert allocation archive asset audit backlog balance "
    "batch billing buffer bundle cache calendar campaign catalog channel checkout claim "
    "client cluster cohort column command config contract counter coupon cursor customer "
    "dashboard dataset deadline delivery deposit device digest discount dispatch document "
    "draft entry estimate event export feature feed field filter flag forecast gateway "
    "grade group handler header history import index inventory invoice job journal kernel "
    "label ledger limit listing locale manifest margin member message metric migration "
    "module monitor notice offer order outcome owner package page parcel partner payload "
    "payment period pipeline plan policy pool preference price profile project promotion "
    "quota queue quote rank rate receipt record region release report request reserve "
    "result retry review route rule sample schedule schema score segment session setting "
    "shipment signal slot snapshot source stage status stock store summary supplier task "
    "template tenant ticket timeline token topic tracker transfer trigger unit upload usage "
    "user variant vendor version voucher warehouse window worker workflow zone"
)
VERBS = _split(
    "apply build check collect compute convert create decode delete encode ensure fetch "
    "filter find flush format group handle index load lookup merge normalize parse prepare "
    "publish read refresh register render reset resolve restore round save schedule select "
    "send serialize sort split store summarize sync track transform update upsert validate "
    "write"
)
ADJECTIVES = _split(
    "active archived cached current daily default draft expired external final hourly "
    "inactive initial internal latest local monthly nested optional pending primary "
    "private public remote scheduled shared stale temporary total weekly"
)
PY_TYPES = ("int", "str", "float", "bool", "list[str]", "dict[str, int]", "bytes")
STDLIB = (
    "import json",
    "import logging",
    "import os",
    "import re",
    "import time",
    "from collections import defaultdict",
    "from dataclasses import dataclass, field",
    "from datetime import date, timedelta",
    "from pathlib import Path",
    "from typing import Any",
    "import itertools",
    "import functools",
)
SERVICES = (
    "billing",
    "catalog",
    "checkout",
    "inventory",
    "notifications",
    "orders",
    "payments",
    "pricing",
    "reporting",
    "search",
    "shipping",
    "accounts",
    "support",
    "assistant",
    "analytics",
    "scheduler",
    "exports",
    "ledger",
)
LIBS = ("common", "storage", "events", "httpkit", "metrics", "auth", "fixtures", "textutil")
WEB_AREAS = (
    "components",
    "pages",
    "hooks",
    "store",
    "api",
    "utils",
    "layouts",
    "widgets",
    "forms",
    "charts",
)
DOC_SECTIONS = ("architecture", "runbooks", "guides", "adr", "api", "onboarding", "services")
ENVS = ("dev", "staging", "prod", "test", "local")


class _Gen:
    """Text of ordinary files, from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def ident(self) -> str:
        return f"{self.rng.choice(VERBS)}_{self.word()}"

    def camel(self) -> str:
        return self.rng.choice(VERBS) + self.word().capitalize()

    def pascal(self) -> str:
        return self.rng.choice(ADJECTIVES).capitalize() + self.word().capitalize()

    def sentence(self, lo: int = 6, hi: int = 16) -> str:
        n = self.rng.randint(lo, hi)
        words = [self.rng.choice(WORDS + VERBS + ADJECTIVES) for _ in range(n)]
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 6)))

    def num(self) -> int:
        return self.rng.randint(0, 9999)

    # Python -------------------------------------------------------------------------
    def py_function(self, indent: str = "") -> str:
        r = self.rng
        name, a, b = self.ident(), f"{self.word()}_key", f"{self.word()}_items"
        ta = r.choice(PY_TYPES)
        var = f"{r.choice(ADJECTIVES)}_{self.word()}"
        body = [
            f"{indent}def {name}({a}: {ta}, {b}: list[Any] | None = None) -> dict[str, Any]:",
            f'{indent}    """{self.sentence()}"""',
            f"{indent}    {var}: dict[str, Any] = {{}}",
            f"{indent}    for item in {b} or []:",
            f"{indent}        if getattr(item, {self.word()!r}, 0) > {r.randint(0, 500)}:",
            f"{indent}            {var}[str(item)] = {a}",
            f"{indent}        elif item is None:",
            f"{indent}            continue",
        ]
        if r.random() < 0.5:
            body += [
                f"{indent}    if len({var}) > {r.randint(2, 64)}:",
                f'{indent}        logger.info("{self.rng.choice(VERBS)} %d {self.word()}s", len({var}))',
            ]
        body.append(f"{indent}    return {var}")
        return "\n".join(body) + "\n"

    def py_class(self) -> str:
        name = self.pascal()
        fields = [f"    {self.word()}_{i}: {self.rng.choice(PY_TYPES)}" for i in range(3)]
        methods = [self.py_function("    ").replace("(", "(self, ", 1) for _ in range(2)]
        return (
            f"@dataclass\nclass {name}:\n"
            f'    """{self.sentence()}"""\n\n' + "\n".join(fields) + "\n\n" + "\n".join(methods)
        )

    def py_test(self) -> str:
        name = self.ident()
        return (
            f"def test_{name}_{self.rng.choice(ADJECTIVES)}() -> None:\n"
            f"    result = {name}({self.rng.randint(1, 99)}, [])\n"
            f"    assert result == {{}}\n"
        )

    def python(self, target: int, module: str, *, test: bool = False) -> str:
        r = self.rng
        imports = sorted(
            set(r.sample(STDLIB, r.randint(2, 5)))
            | {"from typing import Any", "from dataclasses import dataclass, field"}
        )
        parts = [
            f'"""{module}: {self.sentence()}"""\n\nfrom __future__ import annotations\n',
            "\n".join(imports) + "\n",
            "logger = logging.getLogger(__name__)\n"
            if "import logging" in imports
            else "import logging\n\nlogger = logging.getLogger(__name__)\n",
            f"{self.word().upper()}_LIMIT = {r.randint(1, 5000)}\n",
        ]
        size = sum(len(p) for p in parts)
        while size < target:
            pick = r.random()
            chunk = (
                self.py_test() if test else (self.py_class() if pick < 0.2 else self.py_function())
            )
            if size + len(chunk) + 2 > MAX_SIZE:
                break
            parts.append(chunk)
            size += len(chunk) + 2
        return "\n\n".join(parts)

    # JavaScript / TypeScript --------------------------------------------------------
    def js_function(self, ts: bool) -> str:
        r = self.rng
        name, a = self.camel(), f"{self.word()}Value"
        typed = f"{a}: {r.choice(('string', 'number', 'boolean'))}" if ts else a
        ret = ": Record<string, unknown>" if ts else ""
        return (
            f"/** {self.sentence()} */\n"
            f"export function {name}({typed}, options{'?: Options' if ts else ' = {}'}){ret} {{\n"
            f"  const {self.word()}List = [];\n"
            f"  for (const entry of Object.values(options ?? {{}})) {{\n"
            f"    if (entry && entry.{self.word()} > {r.randint(0, 500)}) {{\n"
            f"      {self.word()}List.push({{ {a}, entry }});\n"
            f"    }}\n"
            f"  }}\n"
            f"  return {{ {a}, count: {r.randint(0, 99)}, status: '{r.choice(ADJECTIVES)}' }};\n"
            f"}}\n"
        )

    def react(self) -> str:
        name = self.pascal()
        return (
            f"export const {name} = ({{ {self.word()}, onChange }}) => {{\n"
            f"  const [state, setState] = useState('{self.rng.choice(ADJECTIVES)}');\n"
            f"  useEffect(() => {{ onChange?.(state); }}, [state]);\n"
            f'  return <div className="{self.word()}-{self.word()}">{{state}}</div>;\n'
            f"}};\n"
        )

    def javascript(self, target: int, *, ts: bool, jsx: bool) -> str:
        r = self.rng
        parts = [
            f"// {self.sentence()}\n"
            + (
                "import { useEffect, useState } from 'react';\n"
                if jsx
                else f"import {{ {self.camel()} }} from '../utils/{self.word()}';\n"
            )
            + ("\ntype Options = Record<string, { [key: string]: number }>;\n" if ts else "")
        ]
        size = len(parts[0])
        while size < target:
            chunk = self.react() if jsx and r.random() < 0.4 else self.js_function(ts)
            if size + len(chunk) + 1 > MAX_SIZE:
                break
            parts.append(chunk)
            size += len(chunk) + 1
        return "\n".join(parts)

    # Markdown -----------------------------------------------------------------------
    def markdown(self, target: int, title: str) -> str:
        r = self.rng
        parts = [f"# {title}\n\n{self.paragraph()}\n"]
        size = len(parts[0])
        while size < target:
            kind = r.random()
            if kind < 0.5:
                chunk = f"## {self.sentence(2, 5)[:-1]}\n\n{self.paragraph()}\n"
            elif kind < 0.75:
                chunk = "".join(f"- {self.sentence(3, 9)}\n" for _ in range(r.randint(3, 7)))
            elif kind < 0.9:
                chunk = f"```python\n{self.py_function()}```\n"
            else:
                rows = [f"| {self.word()} | {self.rng.choice(ADJECTIVES)} | {self.num()} |"]
                chunk = "| name | state | count |\n|---|---|---|\n" + "\n".join(rows * 3) + "\n"
            if size + len(chunk) + 1 > MAX_SIZE:
                break
            parts.append(chunk)
            size += len(chunk) + 1
        return "\n".join(parts)

    # YAML / JSON --------------------------------------------------------------------
    def _value(self) -> object:
        r = self.rng
        pick = r.random()
        if pick < 0.3:
            return r.randint(0, 9999)
        if pick < 0.45:
            return r.random() < 0.5
        if pick < 0.55:
            return round(r.random() * 100, 2)
        return f"{r.choice(ADJECTIVES)}-{self.word()}"

    def _mapping(self, depth: int) -> dict[str, object]:
        out: dict[str, object] = {}
        for _ in range(self.rng.randint(3, 8)):
            key = f"{self.word()}_{self.rng.choice(ADJECTIVES)}"
            if depth > 0 and self.rng.random() < 0.3:
                out[key] = self._mapping(depth - 1)
            elif self.rng.random() < 0.15:
                out[key] = [self._value() for _ in range(self.rng.randint(2, 5))]
            else:
                out[key] = self._value()
        return out

    def yaml(self, target: int) -> str:
        lines: list[str] = [f"# {self.sentence()}"]
        size = len(lines[0])

        def emit(obj: dict[str, object], indent: str) -> None:
            nonlocal size
            for key, value in obj.items():
                if isinstance(value, dict):
                    lines.append(f"{indent}{key}:")
                    emit(value, indent + "  ")
                elif isinstance(value, list):
                    lines.append(f"{indent}{key}:")
                    lines.extend(f"{indent}  - {json.dumps(v)}" for v in value)
                else:
                    lines.append(f"{indent}{key}: {json.dumps(value)}")
            size = sum(len(x) + 1 for x in lines)

        while size < target:
            section = f"{self.word()}_{len(lines)}"
            before = len(lines)
            lines.append(f"{section}:")
            emit(self._mapping(2), "  ")
            if size > MAX_SIZE:
                del lines[before:]
                break
        return "\n".join(lines) + "\n"

    def json_doc(self, target: int) -> str:
        items: list[object] = []
        text = "[]"
        while len(text) < target:
            items.append({"id": len(items) + 1, **self._mapping(1)})
            candidate = json.dumps(items, indent=2) + "\n"
            if len(candidate) > MAX_SIZE:
                items.pop()
                break
            text = candidate
        return json.dumps(items, indent=2) + "\n"

    def shell(self, target: int) -> str:
        lines = ["#!/usr/bin/env bash", "set -euo pipefail", f"# {self.sentence()}"]
        while sum(len(x) + 1 for x in lines) < target:
            fn = self.ident()
            lines += [
                f"{fn}() {{",
                f'  echo "{self.sentence(3, 8)}"',
                f'  for f in "${{1:-.}}"/*.{self.rng.choice(("json", "yaml", "csv"))}; do',
                '    [ -e "$f" ] && wc -l "$f"',
                "  done",
                "}",
                f'{fn} "$@"',
            ]
        return "\n".join(lines) + "\n"

    # Infrastructure of ordinary services ---------------------------------------------
    def k8s(self, service: str) -> str:
        port = self.rng.choice((8000, 8080, 9000))
        return (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            f"  name: {service}\n  labels:\n    app: {service}\n"
            f"spec:\n  replicas: {self.rng.randint(1, 4)}\n"
            f"  selector:\n    matchLabels:\n      app: {service}\n"
            f"  template:\n    metadata:\n      labels:\n        app: {service}\n"
            "    spec:\n      containers:\n"
            f"        - name: {service}\n"
            f"          image: registry.example.com/shop/{service}:1.{self.rng.randint(0, 40)}.0\n"
            f"          ports:\n            - containerPort: {port}\n"
            "          resources:\n            limits:\n"
            f"              cpu: {self.rng.choice(('250m', '500m', '1'))}\n"
            f"              memory: {self.rng.choice(('256Mi', '512Mi', '1Gi'))}\n"
            "---\napiVersion: v1\nkind: Service\nmetadata:\n"
            f"  name: {service}\nspec:\n  selector:\n    app: {service}\n"
            f"  ports:\n    - port: 80\n      targetPort: {port}\n"
        )

    def terraform(self, service: str) -> str:
        return (
            f'resource "aws_s3_bucket" "{service}" {{\n'
            f'  bucket = "shop-{service}-{self.rng.choice(ENVS)}"\n}}\n\n'
            f'resource "aws_sqs_queue" "{service}" {{\n'
            f'  name                       = "{service}-events"\n'
            f"  visibility_timeout_seconds = {self.rng.choice((30, 60, 300))}\n}}\n\n"
            f'resource "aws_iam_role" "{service}" {{\n'
            f'  name               = "{service}-task"\n'
            "  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json\n}\n"
        )


# AI assets ----------------------------------------------------------------------------


def safetensors(rng: random.Random, rows: int, cols: int) -> bytes:
    """A safetensors file with one F32 weight matrix and a bias."""
    weight = struct.pack(f"<{rows * cols}f", *(rng.uniform(-1, 1) for _ in range(rows * cols)))
    bias = struct.pack(f"<{cols}f", *(rng.uniform(-0.1, 0.1) for _ in range(cols)))
    header = {
        "__metadata__": {"format": "pt"},
        "dense.weight": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [0, len(weight)]},
        "dense.bias": {
            "dtype": "F32",
            "shape": [cols],
            "data_offsets": [len(weight), len(weight) + len(bias)],
        },
    }
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + weight + bias


def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def benign_pickle(rng: random.Random) -> bytes:
    """Protocol 2 opcodes of ``OrderedDict(coef=[floats], intercept=float, classes=[str])``.

    GLOBAL collections.OrderedDict, EMPTY_TUPLE, REDUCE, then MARK ... SETITEMS: the
    only callable is the benign, allow-listed ``OrderedDict``.
    """
    coef = b"]q\x02(" + b"".join(b"G" + struct.pack(">d", rng.uniform(-2, 2)) for _ in range(32))
    classes = b"]q\x03(" + _binunicode("negative") + _binunicode("positive")
    return (
        b"\x80\x02"
        b"ccollections\nOrderedDict\nq\x00"
        b")Rq\x01("
        + _binunicode("coef")
        + coef
        + b"e"
        + _binunicode("intercept")
        + b"G"
        + struct.pack(">d", rng.uniform(-1, 1))
        + _binunicode("classes")
        + classes
        + b"e"
        + b"u."
    )


def _csv(rng: random.Random, rows: int, *, customers: bool) -> str:
    if customers:
        lines = ["customer_id,email,plan,monthly_spend,churned"]
        for i in range(rows):
            email = f"{rng.choice(WORDS)}.{rng.choice(WORDS)}{i}@example.com"
            spend = round(rng.uniform(5, 400), 2)
            lines.append(f"{1000 + i},{email},{rng.choice(ADJECTIVES)},{spend},{rng.randint(0, 1)}")
    else:
        lines = ["ticket_id,text,label"]
        for i in range(rows):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24)))
            lines.append(f'{i + 1},"{text}",{rng.choice(("billing", "shipping", "account"))}')
    return "\n".join(lines) + "\n"


OPENAI_PY = '''
from openai import OpenAI

_client = OpenAI()


def complete_{name}(prompt: str) -> str:
    """Ask the model for a short answer."""
    response = _client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{{"role": "user", "content": prompt}}],
        temperature=0.2,
    )
    return response.choices[0].message.content or ""
'''
ANTHROPIC_PY = '''
import anthropic


def summarise_{name}(text: str) -> str:
    """Summarise a support conversation."""
    reply = anthropic.Anthropic().messages.create(
        model="claude-3-5-sonnet-latest",
        max_tokens=400,
        messages=[{{"role": "user", "content": f"Summarise: {{text}}"}}],
    )
    return reply.content[0].text
'''
BEDROCK_PY = '''
import boto3

_bedrock = boto3.client("bedrock-runtime", region_name="eu-west-1")


def classify_{name}(text: str) -> str:
    """Classify a ticket with a model on Amazon Bedrock."""
    response = _bedrock.converse(
        modelId="anthropic.claude-3-haiku-20240307-v1:0",
        messages=[{{"role": "user", "content": [{{"text": text}}]}}],
    )
    return response["output"]["message"]["content"][0]["text"]
'''
OPENAI_JS = """
import OpenAI from 'openai';

const client = new OpenAI();

export async function suggest{name}(prompt) {{
  const completion = await client.chat.completions.create({{
    model: 'gpt-4o-mini',
    messages: [{{ role: 'user', content: prompt }}],
  }});
  return completion.choices[0].message.content;
}}
"""


def _notebook(rng: random.Random, provider: str) -> str:
    sources = {
        "openai": "from openai import OpenAI\nclient = OpenAI()\n"
        'resp = client.chat.completions.create(model="gpt-4o-mini", '
        'messages=[{"role": "user", "content": "Label this ticket"}])\n'
        "print(resp.choices[0].message.content)",
        "bedrock": 'import boto3\nbr = boto3.client("bedrock-runtime")\n'
        'out = br.invoke_model(modelId="amazon.titan-text-express-v1", '
        'body=\'{"inputText": "hello"}\')',
        "pandas": 'import pandas as pd\ndf = pd.read_csv("../data/train.csv")\ndf.describe()',
    }
    cells = [
        {"cell_type": "markdown", "id": "c0", "metadata": {}, "source": "# Exploration"},
        {
            "cell_type": "code",
            "execution_count": 1,
            "id": "c1",
            "metadata": {},
            "outputs": [],
            "source": sources["pandas"],
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "id": "c2",
            "metadata": {},
            "outputs": [
                {
                    "name": "stdout",
                    "output_type": "stream",
                    "text": "\n".join(
                        " ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(60)
                    ),
                }
            ],
            "source": sources[provider],
        },
    ]
    doc = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


TF_SAGEMAKER = """resource "aws_sagemaker_model" "ranker" {
  name               = "search-ranker"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image          = var.inference_image
    model_data_url = "s3://shop-models/ranker/model.tar.gz"
  }
}

resource "aws_sagemaker_endpoint_configuration" "ranker" {
  name = "search-ranker"

  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.ranker.name
    initial_instance_count = 1
    instance_type          = "ml.m5.large"
  }
}

resource "aws_sagemaker_endpoint" "ranker" {
  name                 = "search-ranker"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.ranker.name
}

resource "aws_sagemaker_notebook_instance" "research" {
  name                   = "research"
  role_arn               = aws_iam_role.sagemaker.arn
  instance_type          = "ml.t3.medium"
  direct_internet_access = "Enabled"
}
"""
TF_BEDROCK = """resource "aws_bedrockagent_agent" "support" {
  agent_name              = "support-assistant"
  agent_resource_role_arn = aws_iam_role.bedrock_agent.arn
  foundation_model        = "anthropic.claude-3-5-sonnet-20240620-v1:0"
  instruction             = "Answer questions about orders, deliveries and refunds."
}

resource "aws_bedrock_guardrail" "support" {
  name                      = "support-guardrail"
  blocked_input_messaging   = "This request cannot be answered."
  blocked_outputs_messaging = "This answer cannot be shown."

  content_policy_config {
    filters_config {
      type            = "PROMPT_ATTACK"
      input_strength  = "HIGH"
      output_strength = "NONE"
    }
  }
}

resource "aws_bedrock_model_invocation_logging_configuration" "main" {
  logging_config {
    text_data_delivery_enabled = true
    s3_config {
      bucket_name = aws_s3_bucket.bedrock_logs.id
    }
  }
}
"""
TF_AZURE = """resource "azurerm_cognitive_account" "openai" {
  name                = "shop-openai"
  location            = "westeurope"
  resource_group_name = azurerm_resource_group.ai.name
  kind                = "OpenAI"
  sku_name            = "S0"
}

resource "azurerm_cognitive_deployment" "gpt4o" {
  name                 = "gpt-4o"
  cognitive_account_id = azurerm_cognitive_account.openai.id

  model {
    format  = "OpenAI"
    name    = "gpt-4o"
    version = "2024-08-06"
  }

  sku {
    name = "Standard"
  }
}
"""
CFN_SAGEMAKER = """AWSTemplateFormatVersion: "2010-09-09"
Description: Batch scoring model for the analytics service
Resources:
  ScoringModel:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt ScoringRole.Arn
      PrimaryContainer:
        Image: !Ref InferenceImage
        ModelDataUrl: s3://shop-models/scoring/model.tar.gz
  ScoringEndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - ModelName: !GetAtt ScoringModel.ModelName
          VariantName: primary
          InitialInstanceCount: 1
          InstanceType: ml.m5.large
          InitialVariantWeight: 1
Parameters:
  InferenceImage:
    Type: String
"""
K8S_VLLM = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
  labels:
    app: vllm
spec:
  replicas: 1
  selector:
    matchLabels:
      app: vllm
  template:
    metadata:
      labels:
        app: vllm
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
          args: ["--model", "Qwen/Qwen2.5-7B-Instruct", "--port", "8000"]
          ports:
            - containerPort: 8000
          resources:
            limits:
              nvidia.com/gpu: 1
---
apiVersion: v1
kind: Service
metadata:
  name: vllm
spec:
  selector:
    app: vllm
  ports:
    - port: 8000
      targetPort: 8000
"""
MCP = {
    "mcpServers": {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "./docs"],
        },
        "tickets": {"url": "https://mcp.example.com/tickets", "env": {"LOG_LEVEL": "info"}},
    }
}
DOCKERFILE = """FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["python", "-m", "{module}"]
"""
WORKFLOW_CI = """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - run: python -m pytest -q
"""
WORKFLOW_EVAL = """name: model-eval
on:
  schedule:
    - cron: "0 3 * * 1"
  workflow_dispatch:
jobs:
  eval:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - run: python scripts/evaluate.py --dataset data/eval.csv
        env:
          OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}
"""
WORKFLOW_WEB = """name: web
on:
  push:
    paths: ["web/**"]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci && npm run build
        working-directory: web
"""
WORKFLOW_DEPLOY = """name: deploy
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
  id-token: write
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: hashicorp/setup-terraform@v3
      - run: terraform -chdir=infra/terraform init && terraform -chdir=infra/terraform apply -auto-approve
"""
REQUIREMENTS = """fastapi==0.115.0
uvicorn==0.30.6
sqlalchemy==2.0.35
pydantic==2.9.2
openai==1.51.0
anthropic==0.36.0
boto3==1.35.30
pandas==2.2.3
scikit-learn==1.5.2
safetensors==0.4.5
torch==2.4.1
transformers==4.45.1
"""


def ai_assets(rng: random.Random) -> dict[str, bytes]:
    """The fixed AI sprinkle and the repository's top-level files."""
    text: dict[str, str] = {
        "README.md": "# shop\n\nThe shop monorepo: services, libraries, the web app and the "
        "infrastructure that runs them.\n",
        "requirements.txt": REQUIREMENTS,
        "pyproject.toml": '[project]\nname = "shop"\nversion = "0.1.0"\n'
        'requires-python = ">=3.11"\n',
        ".gitignore": "__pycache__/\n.venv/\nnode_modules/\n*.log\n",
        "web/package.json": json.dumps(
            {
                "name": "shop-web",
                "private": True,
                "dependencies": {"react": "^18.3.1", "openai": "^4.67.0"},
            },
            indent=2,
        )
        + "\n",
        "data/train.csv": _csv(rng, 400, customers=False),
        "data/eval.csv": _csv(rng, 120, customers=False),
        "data/customers_sample.csv": _csv(rng, 40, customers=True),
        "notebooks/ticket_labelling.ipynb": _notebook(rng, "openai"),
        "notebooks/bedrock_trial.ipynb": _notebook(rng, "bedrock"),
        "notebooks/eda.ipynb": _notebook(rng, "pandas"),
        ".github/workflows/ci.yml": WORKFLOW_CI,
        ".github/workflows/model-eval.yml": WORKFLOW_EVAL,
        ".github/workflows/web.yml": WORKFLOW_WEB,
        ".github/workflows/deploy.yml": WORKFLOW_DEPLOY,
        "infra/terraform/ml/sagemaker.tf": TF_SAGEMAKER,
        "infra/terraform/ml/bedrock.tf": TF_BEDROCK,
        "infra/terraform/ml/azure_openai.tf": TF_AZURE,
        "infra/cloudformation/scoring.yaml": CFN_SAGEMAKER,
        "deploy/k8s/vllm.yaml": K8S_VLLM,
        ".cursor/mcp.json": json.dumps(MCP, indent=2) + "\n",
        "Dockerfile": DOCKERFILE.format(module="services.assistant"),
        "services/assistant/Dockerfile": DOCKERFILE.format(module="assistant"),
        "services/search/Dockerfile": DOCKERFILE.format(module="search"),
        "scripts/evaluate.py": '"""Offline evaluation of the ticket classifier."""\n'
        + OPENAI_PY.format(name="eval"),
    }
    for i, (svc, template) in enumerate(
        [
            ("assistant", OPENAI_PY),
            ("assistant", ANTHROPIC_PY),
            ("assistant", BEDROCK_PY),
            ("support", ANTHROPIC_PY),
            ("support", OPENAI_PY),
            ("search", BEDROCK_PY),
            ("catalog", OPENAI_PY),
            ("reporting", ANTHROPIC_PY),
        ]
    ):
        text[f"services/{svc}/{svc}/llm_{i}.py"] = f'"""Model calls of {svc}."""\n' + (
            template.format(name=f"{svc}_{i}")
        )
    for i in range(3):
        text[f"web/src/api/assistant{i}.js"] = OPENAI_JS.format(name=f"Reply{i}")
    out = {path: body.encode() for path, body in text.items()}
    out["models/ranker/model.safetensors"] = safetensors(rng, 64, 64)
    out["models/embedder/adapter.safetensors"] = safetensors(rng, 128, 96)
    out["models/churn/classifier.pkl"] = benign_pickle(rng)
    return out


def _size(rng: random.Random) -> int:
    size = int(rng.lognormvariate(math.log(MEDIAN_SIZE), 0.7))
    return max(MIN_SIZE, min(MAX_SIZE - 512, size))


def ordinary_files(rng: random.Random, count: int, taken: set[str]) -> dict[str, bytes]:
    """``count`` ordinary files at fresh paths (not in ``taken``)."""
    gen = _Gen(rng)
    kinds = (
        ("py", 0.34),
        ("py-test", 0.10),
        ("js", 0.12),
        ("ts", 0.06),
        ("tsx", 0.06),
        ("md", 0.10),
        ("yaml", 0.08),
        ("json", 0.08),
        ("sh", 0.02),
        ("k8s", 0.02),
        ("tf", 0.02),
    )
    names, weights = zip(*kinds, strict=True)
    out: dict[str, bytes] = {}
    serial = Counter[str]()
    while len(out) < count:
        kind = rng.choices(names, weights)[0]
        target = _size(rng)
        svc, lib = rng.choice(SERVICES), rng.choice(LIBS)
        stem = f"{gen.word()}_{gen.rng.choice(VERBS)}"
        serial[stem] += 1
        if serial[stem] > 1:
            stem = f"{stem}_{serial[stem]}"
        if kind == "py":
            where = rng.choice((f"services/{svc}/{svc}", f"libs/{lib}/src/{lib}"))
            path, body = f"{where}/{stem}.py", gen.python(target, stem)
        elif kind == "py-test":
            where = rng.choice((f"services/{svc}/tests", f"libs/{lib}/tests"))
            path, body = f"{where}/test_{stem}.py", gen.python(target, stem, test=True)
        elif kind in ("js", "ts", "tsx"):
            area = rng.choice(WEB_AREAS)
            path = f"web/src/{area}/{gen.camel()}{serial[stem]}.{kind}"
            body = gen.javascript(target, ts=kind != "js", jsx=kind == "tsx")
        elif kind == "md":
            path = f"docs/{rng.choice(DOC_SECTIONS)}/{stem.replace('_', '-')}.md"
            body = gen.markdown(target, gen.sentence(2, 6)[:-1])
        elif kind == "yaml":
            path = f"configs/{rng.choice(ENVS)}/{svc}/{stem}.yaml"
            body = gen.yaml(target)
        elif kind == "json":
            where = rng.choice(("fixtures", f"web/src/i18n/{rng.choice(ENVS)}", "configs/schemas"))
            path, body = f"{where}/{stem}.json", gen.json_doc(target)
        elif kind == "sh":
            path, body = f"scripts/{stem}.sh", gen.shell(target)
        elif kind == "k8s":
            path, body = f"deploy/k8s/{svc}/{stem}.yaml", gen.k8s(svc)
        else:
            path, body = f"infra/terraform/{svc}/{stem}.tf", gen.terraform(svc)
        if path in taken or path in out:
            continue
        out[path] = body.encode()
    return out


def build(files: int, seed: int) -> dict[str, bytes]:
    """The repository as ``{relative path: bytes}``, sorted by path."""
    rng = random.Random(seed)
    assets = ai_assets(rng)
    if files < len(assets):
        raise SystemExit(f"--files must be at least {len(assets)} (the fixed AI assets)")
    tree = {**assets, **ordinary_files(rng, files - len(assets), set(assets))}
    return dict(sorted(tree.items()))


def write(root: Path, tree: dict[str, bytes]) -> None:
    """Write ``tree`` under ``root`` (created; must be absent or empty)."""
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise SystemExit(f"{root} is not empty")
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def composition(tree: dict[str, bytes]) -> dict[str, Any]:
    """Counts by extension, total bytes and the size range of the tree."""
    ext = Counter(Path(p).suffix or Path(p).name for p in tree)
    sizes = sorted(len(b) for b in tree.values())
    return {
        "files": len(tree),
        "bytes": sum(sizes),
        "median_bytes": sizes[len(sizes) // 2],
        "by_extension": dict(ext.most_common()),
    }


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tree = build(args.files, args.seed)
    write(args.out, tree)
    print(json.dumps(composition(tree), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

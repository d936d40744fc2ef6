"""Generate examples/sample-ai-project: a small AI project with planted problems.

Deterministic: every run writes the same bytes (fixed seeds, no timestamps), so the
generated tree is committed and ``--check`` proves it matches this script.

    python examples/generate_sample_project.py            # (re)write the project
    python examples/generate_sample_project.py --check    # exit 1 if the tree differs

The planted problems are listed in the project's README. The malicious pickle is
written byte by byte; nothing here ever loads it. Its payload only touches a marker
file, and the credentials in the notebook are fabricated (they match the formats,
not any real account).
"""

from __future__ import annotations

import argparse
import base64
import filecmp
import io
import json
import random
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "sample-ai-project"
MARKER = "/tmp/ramparts-sample-pwned"

FIRST = [
    "Ada",
    "Bola",
    "Chen",
    "Dara",
    "Elif",
    "Farid",
    "Gita",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Mei",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Silva",
    "Novak",
    "Haddad",
    "Kowalski",
    "Mensah",
    "Rossi",
    "Fischer",
    "Ortiz",
    "Nguyen",
    "Petrov",
    "Brennan",
    "Iyer",
]
COUNTRIES = ["GB", "DE", "FR", "US", "NG", "IN", "BR", "JP"]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def _card_prefix(rng: random.Random) -> str:
    """A Visa (4) or Mastercard (51-55, 2221-2720) issuer prefix."""
    kind = rng.choice(["visa", "mastercard", "mastercard-2"])
    if kind == "visa":
        return "4"
    if kind == "mastercard":
        return str(rng.randint(51, 55))
    return str(rng.randint(2221, 2720))


def _phone(rng: random.Random, i: int) -> str:
    """E.164 numbers in ranges reserved for fiction (Ofcom 07700 900xxx, NANP 555-01xx)."""
    if i % 2:
        return f"+447700900{rng.randint(0, 999):03d}"
    return f"+1{rng.choice(['202', '312', '415'])}55501{rng.randint(0, 99):02d}"


def customer_rows() -> list[list[str]]:
    """200 synthetic customers; the same rows on every run."""
    rng = random.Random(20261124)
    rows = []
    for i in range(1, 201):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = rng.choice(["example.com", "example.org"])
        email = f"{first.lower()}.{last.lower()}{i}@{domain}"
        phone = _phone(rng, i)
        card = _luhn_complete(_card_prefix(rng), 16, rng)
        date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        country = rng.choice(COUNTRIES)
        spend = f"{rng.uniform(5, 900):.2f}"
        rows.append([str(i), f"{first} {last}", email, phone, card, date, country, spend])
    return rows


CSV_COLUMNS = ["id", "name", "email", "phone", "card_number", "signup_date", "country", "spend"]


def customers_csv() -> bytes:
    lines = [",".join(CSV_COLUMNS)] + [",".join(row) for row in customer_rows()]
    return ("\n".join(lines) + "\n").encode()


def _head_table(n: int) -> list[str]:
    """What ``df[["name", "email", "country", "spend"]].head(n)`` prints in pandas."""
    picked = [CSV_COLUMNS.index(c) for c in ("name", "email", "country", "spend")]
    table = [["", *(CSV_COLUMNS[k] for k in picked)]]
    table += [[str(r), *(row[k] for k in picked)] for r, row in enumerate(customer_rows()[:n])]
    widths = [max(len(line[c]) for line in table) for c in range(len(table[0]))]
    return [
        "  ".join(cell.rjust(widths[c]) for c, cell in enumerate(line)).rstrip() + "\n"
        for line in table
    ]


def _fake_aws_pair() -> tuple[str, str]:
    # Fabricated, inert credentials in the AWS formats (not the documentation example).
    rng = random.Random(7)
    key_id = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    secret = "".join(rng.choice(alphabet) for _ in range(40))
    return key_id, secret


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_1x1() -> bytes:
    """A valid 1x1 RGBA PNG. The zlib stream is one stored block, so no compressor is involved."""
    scanline = b"\x00" + bytes([0x1F, 0x77, 0xB4, 0xFF])  # filter 0, one blue pixel
    deflate = b"\x01" + struct.pack("<HH", len(scanline), len(scanline) ^ 0xFFFF) + scanline
    stream = b"\x78\x01" + deflate + struct.pack(">I", zlib.adler32(scanline))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", stream)
        + _png_chunk(b"IEND", b"")
    )


def notebook() -> bytes:
    key_id, secret = _fake_aws_pair()
    cells: list[dict[str, object]] = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Exploring the customer data\n"]},
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [
                {
                    "name": "stdout",
                    "output_type": "stream",
                    "text": [
                        "Using credentials from the environment:\n",
                        f"AWS_ACCESS_KEY_ID={key_id}\n",
                        f"AWS_SECRET_ACCESS_KEY={secret}\n",
                    ],
                }
            ],
            "source": [
                "import os\n",
                "# debugging the S3 upload: print what boto3 will use\n",
                "print('Using credentials from the environment:')\n",
                "for k in ('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'):\n",
                "    print(f'{k}={os.environ[k]}')\n",
            ],
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {},
            "outputs": [
                {
                    "data": {"text/plain": _head_table(5)},
                    "execution_count": 2,
                    "metadata": {},
                    "output_type": "execute_result",
                }
            ],
            "source": [
                "import pandas as pd\n",
                "df = pd.read_csv('../data/customers.csv')\n",
                "df[['name', 'email', 'country', 'spend']].head()\n",
            ],
        },
        {
            "cell_type": "code",
            "execution_count": 3,
            "metadata": {},
            "outputs": [
                {
                    "data": {
                        "image/png": base64.b64encode(png_1x1()).decode(),
                        "text/plain": ["<Figure size 640x480 with 1 Axes>"],
                    },
                    "metadata": {},
                    "output_type": "display_data",
                }
            ],
            "source": ["df['spend'].plot.hist()\n"],
        },
    ]
    for n, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{n}"  # nbformat 4.5 requires an id on every cell
    doc = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def _short_unicode(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def malicious_pickle() -> bytes:
    """Protocol 4: STACK_GLOBAL('os', 'system') called with a marker-file command."""
    body = (
        _short_unicode("os")
        + b"\x94"
        + _short_unicode("system")
        + b"\x94\x93\x94"
        + _short_unicode(f"touch {MARKER}")
        + b"\x94\x85\x94R\x94."
    )
    return b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body


def safetensors() -> bytes:
    data = struct.pack("<4f", 0.5, -1.0, 2.0, 0.25) + struct.pack("<2f", 1.0, 0.0)
    header = {
        "__metadata__": {"format": "pt"},
        "embedding.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "embedding.bias": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]},
    }
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _binput(index: int) -> bytes:
    return b"q" + bytes([index])


def torch_state_dict_pickle() -> bytes:
    """The opcodes torch.save (protocol 2) writes as data.pkl for {"fc.weight": 2x2 floats}.

    The tensor's storage is a persistent id (BINPERSID) naming ``data/0``; only the
    allowlisted globals of a real checkpoint appear.
    """
    return (
        b"\x80\x02"
        + _global("collections", "OrderedDict")
        + _binput(0)
        + b")R"
        + _binput(1)
        + _binunicode("fc.weight")
        + _binput(2)
        + _global("torch._utils", "_rebuild_tensor_v2")
        + _binput(3)
        + b"(("  # args of _rebuild_tensor_v2, then the persistent id tuple
        + _binunicode("storage")
        + _binput(4)
        + _global("torch", "FloatStorage")
        + _binput(5)
        + _binunicode("0")  # storage key: the zip member weights/data/0
        + _binput(6)
        + _binunicode("cpu")
        + _binput(7)
        + b"K\x04t"  # numel 4, end of the persistent id
        + _binput(8)
        + b"Q"  # BINPERSID
        + b"K\x00"  # storage offset
        + b"K\x02K\x02\x86"  # size (2, 2)
        + _binput(9)
        + b"K\x02K\x01\x86"  # stride (2, 1)
        + _binput(10)
        + b"\x89"  # requires_grad False
        + b"h\x00)R"  # backward hooks: OrderedDict() via BINGET of the memoized global
        + _binput(11)
        + b"t"
        + _binput(12)
        + b"R"
        + _binput(13)
        + b"s."  # SETITEM, STOP
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix on every platform, so the bytes never vary
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def torch_checkpoint() -> bytes:
    return _zip(
        {
            "weights/data.pkl": torch_state_dict_pickle(),
            "weights/byteorder": b"little",
            "weights/data/0": struct.pack("<4f", 0.1, 0.2, 0.3, 0.4),
            "weights/version": b"3\n",
        }
    )


README = f"""# sample-ai-project

A small, deliberately insecure AI project that ramparts ships for its demo
(`make demo`). It is generated by `examples/generate_sample_project.py`; edit the
script, not these files.

**Never load `models/classifier.pkl`.** It is a malicious pickle whose payload runs
`touch {MARKER}` when unpickled. ramparts reads it statically and never executes it.

## Planted problems

| where | problem | found by |
|---|---|---|
| `models/classifier.pkl` | pickle that calls `os.system` when loaded | `ramparts scan models` |
| `notebooks/exploration.ipynb` | an AWS access key and secret printed in a cell's output (fabricated); customer emails in a table output | `ramparts scan secrets` (the key), `ramparts scan pii` (the table) |
| `data/customers.csv` | personal data: names, emails, phone numbers, card numbers | `ramparts scan pii` |
| `requirements.txt` | unpinned and vulnerable dependencies (`pyyaml==5.3.1`, `transformers==4.30.0`) | `ramparts scan deps` (the unpinned ones also `ramparts scan`) |
| `config/settings.yaml` | model endpoint over plain `http://` | posture (planned) |
| `.github/workflows/ci.yml` | no scanning, signing or provenance step | posture (planned) |
| `serve.py` | loads the model with `pickle.load` | code scanning (planned) |
| `summarise.py` | calls Anthropic's API directly: shadow AI where only OpenAI is approved | `ramparts discover` |
| `.cursor/mcp.json` | two MCP servers, one of them remote | `ramparts discover` |
| `infra/main.tf` | a SageMaker endpoint configuration without a KMS key; a Bedrock agent without a guardrail | `ramparts discover` |
| `deploy/vllm.yaml` | a self-hosted vLLM model server | `ramparts discover` |

`models/encoder.safetensors` and `models/weights.pt` are benign and must stay clean.
"""

TRAIN = '''"""Train the churn classifier and save it (sample code: never run by ramparts)."""

import pickle

import pandas as pd
from openai import OpenAI
from sklearn.linear_model import LogisticRegression

client = OpenAI()  # reads OPENAI_API_KEY from the environment


def describe(row: dict) -> str:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Summarise this customer: {row}"}],
    )
    return reply.choices[0].message.content


def main() -> None:
    df = pd.read_csv("data/customers.csv")
    X = df[["spend"]].to_numpy()
    y = (df["spend"] > 300).astype(int)
    model = LogisticRegression().fit(X, y)
    with open("models/classifier.pkl", "wb") as fh:
        pickle.dump(model, fh)


if __name__ == "__main__":
    main()
'''

SERVE = '''"""Serve predictions (sample code with a planted flaw: it unpickles the model)."""

import pickle

from flask import Flask, jsonify, request

app = Flask(__name__)
with open("models/classifier.pkl", "rb") as fh:
    model = pickle.load(fh)  # loading an untrusted pickle runs its code


@app.post("/predict")
def predict():
    spend = float(request.json["spend"])
    return jsonify({"churn": int(model.predict([[spend]])[0])})
'''

SETTINGS = """model:
  name: churn-classifier
  path: models/classifier.pkl
  endpoint: http://inference.internal:8080/v1/chat/completions
llm:
  provider: openai
  model: gpt-4o-mini
  api_key: ${OPENAI_API_KEY}
"""

ENV_EXAMPLE = """OPENAI_API_KEY=your-key-here
AWS_ACCESS_KEY_ID=
AWS_SECRET_ACCESS_KEY=
"""

REQUIREMENTS = """pandas==2.2.2
scikit-learn==1.3.0
transformers==4.30.0
pyyaml==5.3.1
requests
openai
flask
"""

PYPROJECT = """[project]
name = "sample-ai-project"
version = "0.1.0"
requires-python = ">=3.11"
"""

CI = """name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - run: python -m pytest
"""


SUMMARISE = '''"""Summarise support tickets (sample code: calls a provider nobody approved)."""

import anthropic


def summarise(ticket: str) -> str:
    reply = anthropic.Anthropic().messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=300,
        messages=[{"role": "user", "content": f"Summarise this support ticket: {ticket}"}],
    )
    return reply.content[0].text
'''

MCP = {
    "mcpServers": {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "./data"],
        },
        "docs": {"url": "https://mcp.example.com/mcp", "env": {"LOG_LEVEL": "info"}},
    }
}

TERRAFORM = """provider "aws" {
  region = "eu-west-1"
}

resource "aws_sagemaker_model" "churn" {
  name               = "churn-classifier"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image          = var.inference_image
    model_data_url = "s3://example-models/churn/model.tar.gz"
  }
}

# No kms_key_arn: the endpoint's storage volume is not encrypted with a customer key.
resource "aws_sagemaker_endpoint_configuration" "churn" {
  name = "churn-endpoint-config"

  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.churn.name
    initial_instance_count = 1
    instance_type          = "ml.m5.large"
  }
}

# No guardrail_configuration: prompts and answers pass unfiltered.
resource "aws_bedrockagent_agent" "support" {
  agent_name              = "support-assistant"
  agent_resource_role_arn = aws_iam_role.bedrock_agent.arn
  foundation_model        = "anthropic.claude-3-5-sonnet-20240620-v1:0"
  instruction             = "Answer customer questions about their orders and subscriptions."
}
"""

VLLM = """apiVersion: apps/v1
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
          args: ["--model", "Qwen/Qwen2.5-0.5B-Instruct", "--port", "8000"]
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


def files() -> dict[str, bytes]:
    """Every file of the sample project, by relative path."""
    return {
        "README.md": README.encode(),
        "pyproject.toml": PYPROJECT.encode(),
        "requirements.txt": REQUIREMENTS.encode(),
        "train.py": TRAIN.encode(),
        "serve.py": SERVE.encode(),
        "summarise.py": SUMMARISE.encode(),
        ".cursor/mcp.json": (json.dumps(MCP, indent=2) + "\n").encode(),
        "infra/main.tf": TERRAFORM.encode(),
        "deploy/vllm.yaml": VLLM.encode(),
        "config/settings.yaml": SETTINGS.encode(),
        "config/.env.example": ENV_EXAMPLE.encode(),
        ".github/workflows/ci.yml": CI.encode(),
        "notebooks/exploration.ipynb": notebook(),
        "data/customers.csv": customers_csv(),
        "models/classifier.pkl": malicious_pickle(),
        "models/encoder.safetensors": safetensors(),
        "models/weights.pt": torch_checkpoint(),
    }


def write(out: Path) -> None:
    """Write the project under ``out``."""
    for rel, data in files().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def differs(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side included)."""
    found = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    found |= {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    return sorted(
        rel
        for rel in found
        if not (
            (a / rel).is_file()
            and (b / rel).is_file()
            and filecmp.cmp(a / rel, b / rel, shallow=False)
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the tree differs")
    args = parser.parse_args(argv)
    if not args.check:
        write(args.out)
        print(f"wrote {len(files())} files to {args.out}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
        changed = differs(Path(tmp), args.out)
    if changed:
        print("sample project is out of date: " + ", ".join(changed), file=sys.stderr)
        print("run: python examples/generate_sample_project.py", file=sys.stderr)
        return 1
    print(f"{args.out.name} matches its generator")
    return 0


if __name__ == "__main__":
    sys.exit(main())

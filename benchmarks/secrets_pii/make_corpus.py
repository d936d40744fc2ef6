"""Labelled corpus for the secrets and PII scanners: deterministic, stdlib only.

    python benchmarks/secrets_pii/make_corpus.py --out DIR [--seed 7] [--scale 1] [--target-mb 0]

Writes ``DIR/tree/`` (the files to scan), ``DIR/labels.json`` (the ground truth),
``DIR/contexts.json`` (the syntactic context of every line, used to attribute false
positives) and ``DIR/corpus.json`` (counts). The same seed gives byte-identical output:
every file draws from its own ``random.Random`` seeded by ``(seed, file name)``, so the
bulk files of ``--target-mb`` never change the base corpus.

Design
------
The tree looks like a small ML platform monorepo: Python services, ``.env`` files, k8s
manifests and CI configs, JSON configs and GCP service-account keys, Jupyter notebooks
(written exactly as nbformat writes them: ``indent=1``, sorted keys, every source and
output line its own JSON string), CSV/TSV exports, JSONL LLM-gateway request logs,
Dockerfiles, shell scripts, TOML files and Markdown/text notes.

* Secrets: 53 kinds in their real public formats (prefixes, lengths, alphabets and the
  checksums where a format has one: GitHub/npm CRC32 base62 checksums, PGP CRC-24).
  Each kind is written in many syntactic contexts: quoted assignment, unquoted env,
  YAML value, JSON value, keyword argument (``OpenAI(api_key="...")``),
  ``os.environ["X"] = "..."``, notebook code, markdown and outputs (stream,
  execute_result, display_data, error tracebacks with ANSI colours), JSONL strings with
  escaped quotes, and multi-line PEM blocks (heredocs, YAML block scalars, triple quotes,
  ``\\n``-escaped JSON).
* PII: 17 kinds, all valid for their checksums (Luhn, IBAN mod-97 with per-country
  lengths, NHS mod-11, NINO prefix rules, SSN area/group/serial rules, Base58Check,
  bech32, EIP-55 via a built-in Keccak-256). Names and addresses come from the lexicons
  below. Context-dependent kinds (date of birth, passport, MRN) always have their
  context (``DOB:``, a ``date_of_birth`` column...).
* Hard negatives: 17 kinds that look like secrets or PII but are not (UUIDs, git SHAs,
  digests, integrity hashes, placeholders, env/vault references, PNG base64, notebook
  metadata hashes, Luhn-failing cards, bad IBANs, invalid SSNs, IPv4-like version
  strings, reserved IPs, ``ghp_`` tokens with a wrong checksum, base64 of text, ids in URLs).
  Every negative is labelled, so a finding on it counts as a hard-negative hit.

Everything the generator writes that a scanner could plausibly report is labelled:
either a positive (``secret``/``pii``) or a ``negative``. Filler (code, log lines,
timestamps, metrics) is left unlabelled; a finding there is a plain false positive.

labels.json
-----------
A list, sorted by (file, line, col), of::

    {"file": "services/api/app/settings.py",   # relative to tree/, "/"-separated
     "line": 12, "end_line": 12,               # 1-based lines of the raw file bytes
     "col": 18, "end_col": 181,                # 1-based character columns, end inclusive
     "kind": "openai-project-key", "family": "openai",
     "category": "secret",                     # "secret" | "pii" | "negative"
     "scope": "secrets",                       # negatives: "secrets" | "pii" | "both"
     "context": "py",                          # py env yaml json nb-code nb-markdown
                                               # nb-output jsonl csv tsv dockerfile
                                               # shell toml text
     "value": "sk-proj-..."}                   # the raw text between the two positions

``value`` is exactly the file's text from (line, col) to (end_line, end_col), so it
keeps JSON escapes (a PEM key inside a JSON string reads ``...\\nMIIE...``). Columns
count characters (code points), not bytes; the corpus contains non-ASCII names. For
notebooks ``line`` is the line of the raw ``.ipynb`` file, as for any other file.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import random
import re
import string
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

T = TypeVar("T")

# --------------------------------------------------------------------------------------
# Alphabets and lexicons
# --------------------------------------------------------------------------------------

DIGITS = string.digits
HEX = "0123456789abcdef"
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
LETTERS = string.ascii_letters
ALNUM = string.ascii_letters + string.digits
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = string.ascii_letters + string.digits + "+/"
B64URL = string.ascii_letters + string.digits + "-_"
BASE32 = string.ascii_uppercase + "234567"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
PASSWORD_CHARS = string.ascii_letters + string.digits + "!%*+-=?@^_"

# fmt: off
FIRST_NAMES = (
    "James", "Mary", "Priya", "Wei", "Fatima", "Olusegun", "Sofia", "Lukas", "Chloé", "Mateo",
    "Aisha", "Hiroshi", "Ananya", "Liam", "Emma", "Noah", "Olivia", "Arjun", "Mei", "Daniel",
    "Grace", "Tomasz", "Ingrid", "Kwame", "Yusuf", "Elena", "Marco", "Hannah", "Rahul", "Siobhan",
    "Diego", "Nadia", "Oliver", "Amelia", "Jack", "Isla", "Ethan", "Zara", "Samuel", "Leah",
    "Björn", "Camille", "Ravi", "Thandiwe", "Connor", "Aaliyah", "Benjamin", "Charlotte", "Dmitri",
    "Esther", "Felix", "Gabriela", "Henry", "Imani", "Jonas", "Keiko", "Lucas", "Maya", "Nikhil",
    "Orla", "Pedro", "Quinn", "Rosa", "Stefan", "Tara", "Umar", "Valentina", "William", "Ximena",
    "Yara", "Zoe",
)
# fmt: on
# fmt: off
LAST_NAMES = (
    "Smith", "Johnson", "Patel", "Nguyen", "Müller", "García", "Okafor", "Kowalski", "O'Brien",
    "Zhang", "Williams", "Brown", "Jones", "Davies", "Evans", "Wilson", "Taylor", "Thomas",
    "Roberts", "Walker", "Wright", "Thompson", "White", "Hughes", "Edwards", "Green", "Hall",
    "Wood", "Harris", "Martin", "Jackson", "Clarke", "Lewis", "Robinson", "Singh", "Kumar",
    "Sharma", "Chen", "Wang", "Li", "Kim", "Park", "Tanaka", "Sato", "Rossi", "Russo", "Ferrari",
    "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Dubois", "Moreau", "Laurent",
    "Fernández", "López", "Martínez", "Hernández", "Silva", "Santos", "Andersson", "Johansson",
    "Nielsen", "Hansen", "Mensah", "Adeyemi", "Haddad", "Cohen", "Murphy", "Kelly", "Byrne",
    "Novak",
)
# fmt: on
# fmt: off
US_STREETS = (
    "Maple Avenue", "Oak Street", "Washington Boulevard", "Lakeview Drive", "Pine Street",
    "Cedar Lane", "Elm Street", "Sunset Boulevard", "Highland Avenue", "Park Place",
    "Jefferson Street", "Madison Avenue", "Willow Court", "Ridge Road", "Chestnut Street",
    "Franklin Avenue", "Spring Street", "Hillcrest Drive", "Mill Road", "Riverside Drive",
)
# fmt: on
# fmt: off
US_CITIES = (
    ("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Seattle", "WA", "981"),
    ("Denver", "CO", "802"), ("Boston", "MA", "021"), ("Portland", "OR", "972"),
    ("Columbus", "OH", "432"), ("Nashville", "TN", "372"), ("Madison", "WI", "537"),
    ("Raleigh", "NC", "276"), ("San Jose", "CA", "951"), ("Phoenix", "AZ", "850"),
)
# fmt: on
# fmt: off
UK_STREETS = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Park Avenue", "Queens Road", "Kings Road", "Mill Lane", "The Crescent", "Albert Street",
    "Springfield Road", "York Road", "Grange Road",
)
# fmt: on
# fmt: off
UK_CITIES = (
    ("Leeds", "LS"), ("Manchester", "M"), ("Bristol", "BS"), ("London", "SW"), ("London", "N"),
    ("Edinburgh", "EH"), ("Cardiff", "CF"), ("Birmingham", "B"), ("Glasgow", "G"),
    ("Sheffield", "S"), ("Nottingham", "NG"), ("Oxford", "OX"),
)
# fmt: on
# fmt: off
EMAIL_DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "icloud.com", "hotmail.com",
    "northwind-analytics.com", "fabrikam-health.org", "lumenbank.co.uk", "tailspin.ai", "gmx.de",
    "orange.fr", "rediffmail.com",
)
# fmt: on
COMPANIES = ("northwind", "fabrikam", "tailspin", "lumen", "contoso", "adatum", "woodgrove")
SERVICES = ("api", "gateway", "trainer", "feature-store", "ingest", "billing", "search")
MODELS = ("gpt-4o-mini", "gpt-4.1", "claude-3-5-sonnet", "llama-3.1-70b", "mistral-large")
# fmt: off
WORDS = (
    "batch", "shard", "tensor", "feature", "vector", "replica", "cursor", "window", "epoch",
    "token", "prompt", "context", "cache", "queue", "worker", "stream", "index", "metric",
    "sample", "checkpoint", "adapter", "schema", "payload", "bucket",
)
# fmt: on

# --------------------------------------------------------------------------------------
# Kind tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretSpec:
    """How one secret kind is named and used: its family, env names and a client call."""

    family: str
    env: tuple[str, ...]
    call: str = 'client = make_client(api_key="{v}")'


SECRETS: dict[str, SecretSpec] = {
    "aws-access-key-id": SecretSpec(
        "aws", ("AWS_ACCESS_KEY_ID",), 's3 = boto3.client("s3", aws_access_key_id="{v}")'
    ),
    "aws-secret-access-key": SecretSpec(
        "aws",
        ("AWS_SECRET_ACCESS_KEY",),
        's3 = boto3.client("s3", region_name="eu-west-1", aws_secret_access_key="{v}")',
    ),
    "gcp-service-account-key": SecretSpec("gcp", ("GOOGLE_CREDENTIALS_JSON",)),
    "google-api-key": SecretSpec(
        "google-api-key", ("GOOGLE_API_KEY", "GEMINI_API_KEY"), 'genai.configure(api_key="{v}")'
    ),
    "azure-storage-connection-string": SecretSpec(
        "azure",
        ("AZURE_STORAGE_CONNECTION_STRING",),
        'blob_service = BlobServiceClient.from_connection_string("{v}")',
    ),
    "azure-storage-account-key": SecretSpec(
        "azure",
        ("AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY"),
        'credential = StorageSharedKeyCredential("mlartifacts", "{v}")',
    ),
    "azure-sas-token": SecretSpec(
        "azure",
        ("AZURE_STORAGE_SAS_TOKEN",),
        'blob = BlobClient.from_blob_url("https://mlartifacts.blob.core.windows.net/data/train.parquet?{v}")',
    ),
    "openai-project-key": SecretSpec(
        "openai", ("OPENAI_API_KEY",), 'client = OpenAI(api_key="{v}")'
    ),
    "openai-legacy-key": SecretSpec("openai", ("OPENAI_API_KEY",), 'openai.api_key = "{v}"'),
    "openai-service-account-key": SecretSpec(
        "openai", ("OPENAI_API_KEY", "OPENAI_SVC_KEY"), 'client = AsyncOpenAI(api_key="{v}")'
    ),
    "anthropic-api-key": SecretSpec(
        "anthropic", ("ANTHROPIC_API_KEY",), 'client = anthropic.Anthropic(api_key="{v}")'
    ),
    "huggingface-token": SecretSpec(
        "huggingface", ("HF_TOKEN", "HUGGINGFACEHUB_API_TOKEN"), 'login(token="{v}")'
    ),
    "cohere-api-key": SecretSpec(
        "cohere", ("COHERE_API_KEY", "CO_API_KEY"), 'co = cohere.ClientV2(api_key="{v}")'
    ),
    "mistral-api-key": SecretSpec(
        "mistral", ("MISTRAL_API_KEY",), 'client = Mistral(api_key="{v}")'
    ),
    "groq-api-key": SecretSpec("groq", ("GROQ_API_KEY",), 'client = Groq(api_key="{v}")'),
    "replicate-api-token": SecretSpec(
        "replicate", ("REPLICATE_API_TOKEN",), 'rc = replicate.Client(api_token="{v}")'
    ),
    "together-api-key": SecretSpec(
        "together", ("TOGETHER_API_KEY",), 'client = Together(api_key="{v}")'
    ),
    "github-pat-classic": SecretSpec(
        "github", ("GITHUB_TOKEN", "GH_TOKEN"), 'gh = Github(auth=Auth.Token("{v}"))'
    ),
    "github-oauth-token": SecretSpec(
        "github", ("GITHUB_OAUTH_TOKEN",), 'gh = Github(auth=Auth.Token("{v}"))'
    ),
    "github-user-to-server-token": SecretSpec(
        "github", ("GITHUB_USER_TOKEN",), 'session.headers["Authorization"] = "token {v}"'
    ),
    "github-server-to-server-token": SecretSpec(
        "github", ("GITHUB_APP_TOKEN",), 'repo = clone_repo("org/models", token="{v}")'
    ),
    "github-refresh-token": SecretSpec(
        "github", ("GITHUB_REFRESH_TOKEN",), 'tokens = refresh_access(refresh_token="{v}")'
    ),
    "github-fine-grained-pat": SecretSpec(
        "github", ("GITHUB_TOKEN", "GH_PAT"), 'gh = Github(auth=Auth.Token("{v}"))'
    ),
    "gitlab-pat": SecretSpec(
        "gitlab",
        ("GITLAB_TOKEN", "CI_PUSH_TOKEN"),
        'gl = gitlab.Gitlab("https://gitlab.com", private_token="{v}")',
    ),
    "slack-bot-token": SecretSpec("slack", ("SLACK_BOT_TOKEN",), 'slack = WebClient(token="{v}")'),
    "slack-user-token": SecretSpec(
        "slack", ("SLACK_USER_TOKEN",), 'slack = WebClient(token="{v}")'
    ),
    "slack-webhook-url": SecretSpec(
        "slack",
        ("SLACK_WEBHOOK_URL",),
        'requests.post("{v}", json={{"text": "training finished"}}, timeout=10)',
    ),
    "stripe-secret-key": SecretSpec("stripe", ("STRIPE_SECRET_KEY",), 'stripe.api_key = "{v}"'),
    "stripe-restricted-key": SecretSpec(
        "stripe", ("STRIPE_RESTRICTED_KEY",), 'stripe_client = StripeClient("{v}")'
    ),
    "twilio-api-key": SecretSpec(
        "twilio", ("TWILIO_API_KEY",), 'twilio = Client(username="{v}", password=api_secret)'
    ),
    "twilio-account-sid": SecretSpec(
        "twilio", ("TWILIO_ACCOUNT_SID",), 'twilio = Client(account_sid="{v}")'
    ),
    "twilio-auth-token": SecretSpec(
        "twilio", ("TWILIO_AUTH_TOKEN",), 'twilio = Client(sid, auth_token="{v}")'
    ),
    "sendgrid-api-key": SecretSpec(
        "sendgrid", ("SENDGRID_API_KEY",), 'sg = SendGridAPIClient(api_key="{v}")'
    ),
    "npm-token": SecretSpec(
        "npm", ("NPM_TOKEN",), 'npm_headers = {{"Authorization": "Bearer {v}"}}'
    ),
    "pypi-token": SecretSpec(
        "pypi",
        ("PYPI_TOKEN", "TWINE_PASSWORD"),
        'upload(dist, username="__token__", password="{v}")',
    ),
    "databricks-token": SecretSpec(
        "databricks",
        ("DATABRICKS_TOKEN",),
        'w = WorkspaceClient(host="https://adb-4417.azuredatabricks.net", token="{v}")',
    ),
    "discord-bot-token": SecretSpec("discord", ("DISCORD_BOT_TOKEN",), 'bot.run("{v}")'),
    "telegram-bot-token": SecretSpec(
        "telegram", ("TELEGRAM_BOT_TOKEN",), 'app = Application.builder().token("{v}").build()'
    ),
    "private-key-rsa": SecretSpec("private-key", ("RSA_PRIVATE_KEY", "SIGNING_KEY")),
    "private-key-ec": SecretSpec("private-key", ("EC_PRIVATE_KEY", "JWT_SIGNING_KEY")),
    "private-key-pkcs8": SecretSpec("private-key", ("TLS_PRIVATE_KEY", "PRIVATE_KEY")),
    "openssh-private-key": SecretSpec("private-key", ("DEPLOY_SSH_KEY", "SSH_PRIVATE_KEY")),
    "pgp-private-key": SecretSpec("private-key", ("GPG_PRIVATE_KEY", "RELEASE_SIGNING_KEY")),
    "jwt": SecretSpec(
        "jwt", ("SERVICE_JWT", "AUTH_TOKEN"), 'headers = {{"Authorization": "Bearer {v}"}}'
    ),
    "postgres-url": SecretSpec(
        "database-url", ("DATABASE_URL", "POSTGRES_DSN"), 'engine = create_engine("{v}")'
    ),
    "mysql-url": SecretSpec(
        "database-url",
        ("MYSQL_URL", "DATABASE_URL"),
        'engine = create_engine("{v}", pool_pre_ping=True)',
    ),
    "mongodb-url": SecretSpec(
        "database-url", ("MONGODB_URI", "MONGO_URL"), 'mongo = MongoClient("{v}")'
    ),
    "redis-url": SecretSpec(
        "database-url", ("REDIS_URL", "CELERY_BROKER_URL"), 'cache = redis.from_url("{v}")'
    ),
    "amqp-url": SecretSpec(
        "database-url", ("AMQP_URL", "RABBITMQ_URL"), 'params = pika.URLParameters("{v}")'
    ),
    "generic-password": SecretSpec(
        "generic",
        ("DB_PASSWORD", "ADMIN_PASSWORD", "SMTP_PASSWORD"),
        'conn = psycopg.connect(host="db.internal", user="svc_ml", password="{v}")',
    ),
    "generic-secret": SecretSpec(
        "generic",
        ("JWT_SECRET", "SESSION_SECRET", "CLIENT_SECRET", "WEBHOOK_SECRET"),
        'token = jwt.encode(claims, key="{v}", algorithm="HS256")',
    ),
    "generic-api-key": SecretSpec(
        "generic",
        ("API_KEY", "INTERNAL_API_KEY", "PAYMENTS_API_KEY"),
        'resp = requests.get(url, headers={{"X-API-Key": "{v}"}}, timeout=5)',
    ),
    "kubernetes-secret-data": SecretSpec("generic", ("K8S_SECRET",)),
}
PEM_KINDS = frozenset(
    {
        "private-key-rsa",
        "private-key-ec",
        "private-key-pkcs8",
        "openssh-private-key",
        "pgp-private-key",
    }
)
MULTILINE = PEM_KINDS | {"gcp-service-account-key"}
BEARER_KINDS = frozenset(
    {
        "openai-project-key",
        "openai-legacy-key",
        "openai-service-account-key",
        "anthropic-api-key",
        "huggingface-token",
        "groq-api-key",
        "replicate-api-token",
        "together-api-key",
        "mistral-api-key",
        "cohere-api-key",
        "jwt",
        "databricks-token",
        "github-pat-classic",
        "github-fine-grained-pat",
        "gitlab-pat",
        "slack-bot-token",
        "sendgrid-api-key",
        "npm-token",
        "stripe-secret-key",
    }
)
GITHUB_PREFIX = {
    "github-pat-classic": "ghp_",
    "github-oauth-token": "gho_",
    "github-user-to-server-token": "ghu_",
    "github-server-to-server-token": "ghs_",
    "github-refresh-token": "ghr_",
}

PII_FAMILY: dict[str, str] = {
    "credit-card": "credit-card",
    "iban": "iban",
    "us-ssn": "national-id",
    "uk-nino": "national-id",
    "uk-nhs-number": "national-id",
    "email": "email",
    "phone-number": "phone-number",
    "ipv4": "ip-address",
    "ipv6": "ip-address",
    "mac-address": "mac-address",
    "bitcoin-address": "crypto-wallet",
    "ethereum-address": "crypto-wallet",
    "date-of-birth": "date-of-birth",
    "passport-number": "passport-number",
    "medical-record-number": "medical-record-number",
    "person-name": "person-name",
    "postal-address": "postal-address",
}
NEGATIVE_SCOPE: dict[str, str] = {
    "uuid": "both",
    "git-sha": "secrets",
    "sha256-digest": "secrets",
    "sha512-digest": "secrets",
    "integrity-hash": "secrets",
    "placeholder-key": "secrets",
    "env-reference": "secrets",
    "png-base64": "both",
    "notebook-metadata-hash": "secrets",
    "luhn-invalid-card": "pii",
    "bad-checksum-iban": "pii",
    "invalid-ssn": "pii",
    "version-string": "pii",
    "reserved-ip": "pii",
    "ghp-bad-checksum": "secrets",
    "base64-text": "secrets",
    "url-path-id": "secrets",
}
# fmt: off
CONTEXTS = (
    "py", "env", "yaml", "json", "nb-code", "nb-markdown", "nb-output", "jsonl", "csv", "tsv",
    "dockerfile", "shell", "toml", "text",
)
# fmt: on

# --------------------------------------------------------------------------------------
# Checksums and encodings
# --------------------------------------------------------------------------------------


def luhn_digit(partial: str) -> str:
    """The Luhn check digit that completes ``partial``."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    """Whether a digit string passes the Luhn check."""
    return luhn_digit(number[:-1]) == number[-1]


def iban_check(country: str, bban: str) -> str:
    """The two IBAN check digits (ISO 13616 mod-97) for ``country`` and ``bban``."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def iban_ok(iban: str) -> bool:
    """Whether an IBAN (spaces allowed) passes mod-97."""
    s = iban.replace(" ", "")
    digits = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(digits) % 97 == 1


def b62_encode(n: int, width: int = 6) -> str:
    """``n`` in base62 (0-9A-Za-z), left-padded with '0' to ``width``."""
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def github_body(entropy: str) -> str:
    """30 base62 characters followed by the base62 CRC32 of them (GitHub/npm format)."""
    return entropy + b62_encode(binascii.crc32(entropy.encode()))


def base58check(version: int, payload: bytes) -> str:
    """Bitcoin Base58Check of ``version || payload``."""
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * pad + out


def _bech32_polymod(values: Iterable[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_address(hrp: str, witver: int, program: bytes) -> str:
    """A segwit v0 address (BIP-173 bech32)."""
    acc, bits, data = 0, 0, [witver]
    for b in program:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _bech32_polymod([*expanded, *data, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + checksum)


# fmt: off
_KECCAK_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)
# fmt: on
# fmt: off
_KECCAK_ROT = (
    (0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61), (28, 55, 25, 21, 56),
    (27, 20, 39, 8, 14),
)
# fmt: on
_M64 = (1 << 64) - 1


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (64 - n))) & _M64 if n else x


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original padding, not NIST SHA3-256)."""
    rate = 136
    msg = bytearray(data) + b"\x01"
    msg += b"\x00" * (-len(msg) % rate)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(msg[off + 8 * i : off + 8 * i + 8], "little")
        for rc in _KECCAK_RC:
            c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
            d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
            a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
            b = [[0] * 5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    b[y][(2 * x + 3 * y) % 5] = _rol(a[x][y], _KECCAK_ROT[x][y])
            a = [
                [b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) for y in range(5)]
                for x in range(5)
            ]
            a[0][0] ^= rc
    out = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))
    return out[:32]


def eip55(address_hex: str) -> str:
    """An Ethereum address with its EIP-55 mixed-case checksum."""
    low = address_hex.lower()
    digest = keccak256(low.encode()).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(low)
    )


def crc24(data: bytes) -> int:
    """The OpenPGP CRC-24 (RFC 4880) of ``data``."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def nhs_check(nine: str) -> int | None:
    """The NHS number mod-11 check digit for nine digits, or None when it would be 10."""
    rem = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    check = 11 - rem
    if check == 11:
        return 0
    return None if check == 10 else check


def _sshstr(data: bytes) -> bytes:
    """An SSH wire-format string: 32-bit big-endian length, then the bytes."""
    return struct.pack(">I", len(data)) + data


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    """Unpadded base64url text of ``data`` (JWT style)."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --------------------------------------------------------------------------------------
# Value generators
# --------------------------------------------------------------------------------------

_US_AREA_CODES = (
    "212",
    "415",
    "646",
    "312",
    "617",
    "206",
    "512",
    "303",
    "404",
    "702",
    "619",
    "919",
)
_UK_GEO = (("20", 8), ("161", 7), ("121", 7), ("131", 7), ("117", 7), ("113", 7))
_DE_AREA = ("30", "40", "89", "69", "221", "211", "711")
_PUBLIC_OCTET1 = (
    23,
    31,
    37,
    45,
    52,
    62,
    78,
    81,
    89,
    91,
    104,
    109,
    142,
    151,
    176,
    185,
    188,
    203,
    212,
    217,
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_IBAN_FORMATS: dict[str, tuple[str, ...]] = {
    # Per-country BBAN layout: "n" digit, "a" upper letter, "c" digit or upper letter.
    "DE": ("n18",),
    "GB": ("a4", "n14"),
    "FR": ("n10", "c11", "n2"),
    "ES": ("n20",),
    "IT": ("a1", "n10", "c12"),
    "NL": ("a4", "n10"),
    "BE": ("n12",),
    "CH": ("n5", "c12"),
    "PL": ("n24",),
    "AT": ("n16",),
    "IE": ("a4", "n14"),
    "SE": ("n20",),
}
_GB_BANKS = ("NWBK", "BARC", "LOYD", "HBUK", "MIDL", "NAIA")
_NL_BANKS = ("ABNA", "INGB", "RABO", "TRIO", "SNSB")
_IE_BANKS = ("AIBK", "BOFI", "IPBS")
# fmt: off
_PLACEHOLDERS = (
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "sk-...",
    "your-api-key-here", "<TOKEN>", "<YOUR_HF_TOKEN>", "xxxxxxxx", "changeme", "REPLACE_ME",
    "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "sk-ant-api03-...", "<insert-key>", "dummy-token",
    "TODO", "********", "postgres://user:password@localhost:5432/app", "${SECRET}",
    "example-secret",
)
# fmt: on


@dataclass
class Person:
    """A synthetic person: every field is valid for its kind's checksum rules."""

    first: str
    last: str
    country: str
    email: str
    phone: str
    dob: str
    address: str
    national_id: tuple[str, str]
    card: str
    iban: str
    passport: str
    mrn: str
    ip: str

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"


class Gen:
    """Seeded value generators for secrets, PII and hard negatives."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # -- primitives ----------------------------------------------------------------
    def s(self, alphabet: str, n: int) -> str:
        """``n`` characters drawn from ``alphabet``."""
        return "".join(self.rng.choices(alphabet, k=n))

    def raw(self, n: int) -> bytes:
        """``n`` random bytes."""
        return self.rng.getrandbits(8 * n).to_bytes(n, "big")

    def pick(self, seq: Sequence[T]) -> T:
        """One element of ``seq``."""
        return self.rng.choice(seq)

    def word(self) -> str:
        """A filler identifier word."""
        return self.rng.choice(WORDS)

    # -- secrets -------------------------------------------------------------------
    def secret(self, kind: str) -> str:
        """A fresh value of secret ``kind`` in its real public format."""
        make: Callable[[], str] = getattr(self, "_" + kind.replace("-", "_"))
        return make()

    def _aws_access_key_id(self) -> str:
        return self.pick(("AKIA", "AKIA", "AKIA", "ASIA")) + self.s(BASE32, 16)

    def _aws_secret_access_key(self) -> str:
        return self.s(B64, 40)

    def _gcp_service_account_key(self) -> str:
        return self._private_key_pkcs8()

    def _google_api_key(self) -> str:
        return "AIza" + self.s(B64URL, 35)

    def _azure_storage_account_key(self) -> str:
        return b64(self.raw(64))

    def _azure_storage_connection_string(self) -> str:
        account = self.pick(COMPANIES) + self.s(LOWER + DIGITS, 6)
        return (
            f"DefaultEndpointsProtocol=https;AccountName={account};"
            f"AccountKey={b64(self.raw(64))};EndpointSuffix=core.windows.net"
        )

    def _azure_sas_token(self) -> str:
        day = self.rng.randint(1, 28)
        sig = quote(b64(self.raw(32)), safe="")
        return (
            f"sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2026-{self.rng.randint(1, 12):02d}-{day:02d}T05:00:00Z"
            f"&st=2025-{self.rng.randint(1, 12):02d}-{day:02d}T21:00:00Z&spr=https&sig={sig}"
        )

    def _openai_project(self, prefix: str) -> str:
        n = self.pick(("74", "58"))
        return prefix + self.s(B64URL, int(n)) + "T3BlbkFJ" + self.s(B64URL, int(n))

    def _openai_project_key(self) -> str:
        return self._openai_project("sk-proj-")

    def _openai_service_account_key(self) -> str:
        return self._openai_project("sk-svcacct-")

    def _openai_legacy_key(self) -> str:
        return "sk-" + self.s(ALNUM, 20) + "T3BlbkFJ" + self.s(ALNUM, 20)

    def _anthropic_api_key(self) -> str:
        return "sk-ant-api03-" + self.s(B64URL, 93) + "AA"

    def _huggingface_token(self) -> str:
        return "hf_" + self.s(LETTERS, 34)

    def _cohere_api_key(self) -> str:
        return self.s(ALNUM, 40)

    def _mistral_api_key(self) -> str:
        return self.s(ALNUM, 32)

    def _groq_api_key(self) -> str:
        return "gsk_" + self.s(ALNUM, 20) + "WGdyb3FY" + self.s(ALNUM, 24)

    def _replicate_api_token(self) -> str:
        return "r8_" + self.s(ALNUM, 37)

    def _together_api_key(self) -> str:
        return "tgp_v1_" + self.s(B64URL, 43)

    def github(self, prefix: str, *, valid: bool = True) -> str:
        """A GitHub token with ``prefix``; ``valid=False`` breaks its checksum."""
        body = github_body(self.s(B62, 30))
        if not valid:
            last = B62[(B62.index(body[-1]) + 1 + self.rng.randrange(60)) % 62]
            body = body[:-1] + last
        return prefix + body

    def _github_pat_classic(self) -> str:
        return self.github("ghp_")

    def _github_oauth_token(self) -> str:
        return self.github("gho_")

    def _github_user_to_server_token(self) -> str:
        return self.github("ghu_")

    def _github_server_to_server_token(self) -> str:
        return self.github("ghs_")

    def _github_refresh_token(self) -> str:
        return self.github("ghr_")

    def _github_fine_grained_pat(self) -> str:
        return "github_pat_11" + self.s(UPPER + DIGITS, 20) + "_" + self.s(ALNUM, 59)

    def _gitlab_pat(self) -> str:
        return "glpat-" + self.s(B64URL, 20)

    def _slack_bot_token(self) -> str:
        return f"xoxb-{self.s(DIGITS, self.rng.randint(10, 13))}-{self.s(DIGITS, 13)}-{self.s(ALNUM, 24)}"

    def _slack_user_token(self) -> str:
        d = [self.s(DIGITS, self.rng.randint(10, 13)) for _ in range(3)]
        return f"xoxp-{d[0]}-{d[1]}-{d[2]}-{self.s(HEX, 32)}"

    def _slack_webhook_url(self) -> str:
        return (
            f"https://hooks.slack.com/services/T{self.s(UPPER + DIGITS, 8)}/"
            f"B{self.s(UPPER + DIGITS, 10)}/{self.s(ALNUM, 24)}"
        )

    def _stripe_secret_key(self) -> str:
        return "sk_live_51" + self.s(ALNUM, self.rng.choice((22, 97)))

    def _stripe_restricted_key(self) -> str:
        return "rk_live_51" + self.s(ALNUM, self.rng.choice((22, 97)))

    def _twilio_api_key(self) -> str:
        return "SK" + self.s(HEX, 32)

    def _twilio_account_sid(self) -> str:
        return "AC" + self.s(HEX, 32)

    def _twilio_auth_token(self) -> str:
        return self.s(HEX, 32)

    def _sendgrid_api_key(self) -> str:
        return "SG." + self.s(B64URL, 22) + "." + self.s(B64URL, 43)

    def _npm_token(self) -> str:
        return "npm_" + github_body(self.s(B62, 30))

    def _pypi_token(self) -> str:
        ident = f"{self.s(HEX, 8)}-{self.s(HEX, 4)}-4{self.s(HEX, 3)}-a{self.s(HEX, 3)}-{self.s(HEX, 12)}"
        caveat = json.dumps({"version": 1, "permissions": {"projects": [self.word() + "-tools"]}})
        mac = (
            b"\x02\x01\x08pypi.org\x02"
            + bytes([len(ident) + 2])
            + b"\x00\x00"
            + ident.encode()
            + b"\x00\x02"
            + bytes([len(caveat)])
            + caveat.encode()
            + b"\x00\x00\x06\x20"
            + self.raw(32)
        )
        return "pypi-" + b64url(mac)

    def _databricks_token(self) -> str:
        return "dapi" + self.s(HEX, 32) + self.pick(("", "", "-2", "-3"))

    def _discord_bot_token(self) -> str:
        snowflake = str(self.rng.randint(10**17, 13 * 10**17))
        first = b64(snowflake.encode()).rstrip("=")
        return f"{first}.{self.s(B64URL, 6)}.{self.s(B64URL, self.rng.choice((27, 38)))}"

    def _telegram_bot_token(self) -> str:
        return f"{self.rng.randint(10**8, 8 * 10**9)}:AA{self.s(B64URL, 33)}"

    def _pem(self, label: str, der: bytes, width: int = 64) -> str:
        body = b64(der)
        lines = [body[i : i + width] for i in range(0, len(body), width)]
        return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"

    def _rsa_der(self) -> bytes:
        return bytes.fromhex("308204a40201000282010100") + self.raw(1180)

    def _private_key_rsa(self) -> str:
        return self._pem("RSA PRIVATE KEY", self._rsa_der())

    def _private_key_ec(self) -> str:
        der = (
            bytes.fromhex("307702010104")
            + b"\x20"
            + self.raw(32)
            + bytes.fromhex("a00a06082a8648ce3d030107a144034200")
            + b"\x04"
            + self.raw(64)
        )
        return self._pem("EC PRIVATE KEY", der)

    def _private_key_pkcs8(self) -> str:
        der = (
            bytes.fromhex("308204be020100300d06092a864886f70d0101010500048204a8") + self._rsa_der()
        )
        return self._pem("PRIVATE KEY", der)

    def _openssh_private_key(self) -> str:
        pub = self.raw(32)
        sshstr = _sshstr
        check = self.raw(4)
        comment = f"deploy@{self.pick(SERVICES)}-{self.s(DIGITS, 2)}".encode()
        private = (
            check
            + check
            + sshstr(b"ssh-ed25519")
            + sshstr(pub)
            + sshstr(self.raw(32) + pub)
            + sshstr(comment)
        )
        private += bytes(range(1, 1 + (-len(private) % 8)))
        blob = (
            b"openssh-key-v1\x00"
            + sshstr(b"none")
            + sshstr(b"none")
            + sshstr(b"")
            + struct.pack(">I", 1)
            + sshstr(sshstr(b"ssh-ed25519") + sshstr(pub))
            + sshstr(private)
        )
        return self._pem("OPENSSH PRIVATE KEY", blob, width=70)

    def _pgp_private_key(self) -> str:
        data = b"\x95\x03\xc6\x04" + self.raw(self.rng.randint(900, 1300))
        body = b64(data)
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        crc = b64(crc24(data).to_bytes(3, "big"))
        return (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
            + "\n".join(lines)
            + f"\n={crc}\n-----END PGP PRIVATE KEY BLOCK-----"
        )

    def _jwt(self) -> str:
        header = {"alg": self.pick(("HS256", "RS256")), "typ": "JWT"}
        payload = {
            "sub": f"svc-{self.pick(SERVICES)}",
            "iss": f"https://auth.{self.pick(COMPANIES)}.io",
            "iat": 1718000000 + self.rng.randint(0, 10**7),
            "scope": "models:read models:write",
        }
        sig = self.raw(32 if header["alg"] == "HS256" else 256)
        return ".".join(
            (
                b64url(json.dumps(header, separators=(",", ":")).encode()),
                b64url(json.dumps(payload, separators=(",", ":")).encode()),
                b64url(sig),
            )
        )

    def password(self, n: int | None = None) -> str:
        """A high-entropy password that is safe unquoted in env files."""
        n = n or self.rng.randint(16, 28)
        return self.pick(tuple(LETTERS)) + self.s(PASSWORD_CHARS, n - 1)

    def _url_password(self) -> str:
        return self.s(ALNUM, self.rng.randint(16, 26))

    def _postgres_url(self) -> str:
        scheme = self.pick(("postgresql", "postgres", "postgresql+psycopg"))
        host = self.pick(
            (
                "db.internal",
                "pg-primary.prod.svc",
                f"{self.pick(COMPANIES)}-prod.cluster-c9x2.eu-west-1.rds.amazonaws.com",
            )
        )
        return f"{scheme}://{self.pick(('svc_ml', 'app', 'analytics'))}:{self._url_password()}@{host}:5432/{self.pick(('features', 'app', 'warehouse'))}"

    def _mysql_url(self) -> str:
        scheme = self.pick(("mysql", "mysql+pymysql"))
        return f"{scheme}://{self.pick(('root', 'app', 'reporting'))}:{self._url_password()}@mysql.{self.pick(COMPANIES)}.internal:3306/{self.pick(('orders', 'crm'))}"

    def _mongodb_url(self) -> str:
        return (
            f"mongodb+srv://{self.pick(('mluser', 'app', 'ingest'))}:{self._url_password()}@cluster0.{self.s(LOWER + DIGITS, 5)}"
            f".mongodb.net/{self.pick(('events', 'prompts'))}?retryWrites=true&w=majority"
        )

    def _redis_url(self) -> str:
        if self.rng.random() < 0.5:
            return f"redis://:{self._url_password()}@redis.{self.pick(SERVICES)}.svc:6379/0"
        return f"rediss://default:{self._url_password()}@cache-{self.s(LOWER + DIGITS, 6)}.serverless.use1.cache.amazonaws.com:6379"

    def _amqp_url(self) -> str:
        return f"{self.pick(('amqp', 'amqps'))}://{self.pick(('worker', 'celery'))}:{self._url_password()}@rabbitmq.internal:5672/{self.pick(('jobs', 'ml'))}"

    def _generic_password(self) -> str:
        return self.password()

    def _generic_secret(self) -> str:
        return self.s(ALNUM, self.rng.randint(32, 48))

    def _generic_api_key(self) -> str:
        return self.pick((self.s(HEX, 32), self.s(ALNUM, 40), "key-" + self.s(HEX, 32)))

    def _kubernetes_secret_data(self) -> str:
        return b64(self.password(24).encode())

    # -- PII -----------------------------------------------------------------------
    def card(self, brand: str | None = None, *, valid: bool = True) -> str:
        """A card number (Visa, Mastercard incl. 2-series, Amex, Discover), Luhn-valid or not."""
        brand = brand or self.pick(("visa", "mastercard", "mastercard2", "amex", "discover"))
        if brand == "visa":
            partial = "4" + self.s(DIGITS, 14)
        elif brand == "mastercard":
            partial = str(self.rng.randint(51, 55)) + self.s(DIGITS, 13)
        elif brand == "mastercard2":
            partial = str(self.rng.randint(2221, 2720)) + self.s(DIGITS, 11)
        elif brand == "amex":
            partial = self.pick(("34", "37")) + self.s(DIGITS, 12)
        else:
            partial = self.pick(
                (
                    "6011",
                    "65" + self.s(DIGITS, 2),
                    str(self.rng.randint(644, 649)) + self.s(DIGITS, 1),
                )
            ) + self.s(DIGITS, 11)
        check = luhn_digit(partial)
        if not valid:
            check = str((int(check) + self.rng.randint(1, 9)) % 10)
        number = partial + check
        style = self.rng.random()
        if style < 0.4:
            return number
        sep = " " if style < 0.8 else "-"
        groups = (4, 6, 5) if len(number) == 15 else (4, 4, 4, 4)
        parts, i = [], 0
        for g in groups:
            parts.append(number[i : i + g])
            i += g
        return sep.join(parts)

    def iban(
        self, country: str | None = None, *, valid: bool = True, spaced: bool | None = None
    ) -> str:
        """An IBAN with a correct (or, ``valid=False``, wrong) mod-97 check."""
        country = country or self.pick(tuple(_IBAN_FORMATS))
        bban = ""
        for part in _IBAN_FORMATS[country]:
            kind, n = part[0], int(part[1:])
            if kind == "a":
                bank = {"GB": _GB_BANKS, "NL": _NL_BANKS, "IE": _IE_BANKS}.get(country)
                bban += self.pick(bank) if bank and n == 4 else self.s(UPPER, n)
            elif kind == "n":
                bban += self.s(DIGITS, n)
            else:
                bban += self.s(DIGITS + UPPER, n)
        if country == "BE":
            nat = int(bban[:10]) % 97 or 97
            bban = bban[:10] + f"{nat:02d}"
        check = iban_check(country, bban)
        if not valid:
            check = f"{(int(check) + self.rng.randint(1, 50)) % 97 + 2:02d}"
            if iban_ok(country + check + bban):
                check = f"{(int(check) + 1) % 97 + 2:02d}"
        iban = country + check + bban
        if spaced is None:
            spaced = self.rng.random() < 0.5
        if spaced:
            iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        return iban

    def ssn(self, *, valid: bool = True) -> str:
        """A US SSN that follows the SSA rules (or deliberately breaks one)."""
        if valid:
            area = self.rng.choice([a for a in range(1, 900) if a != 666])
            return f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"
        bad = self.rng.randrange(5)
        area = (
            0,
            666,
            self.rng.randint(900, 999),
            self.rng.randint(1, 665),
            self.rng.randint(1, 665),
        )[bad]
        group = 0 if bad == 3 else self.rng.randint(1, 99)
        serial = 0 if bad == 4 else self.rng.randint(1, 9999)
        return f"{area:03d}-{group:02d}-{serial:04d}"

    def nino(self) -> str:
        """A UK National Insurance number with an allocatable prefix."""
        while True:
            prefix = self.pick(tuple(_NINO_FIRST)) + self.pick(tuple(_NINO_SECOND))
            if prefix not in _NINO_BAD_PREFIX:
                break
        digits = self.s(DIGITS, 6)
        suffix = self.pick(("A", "B", "C", "D"))
        if self.rng.random() < 0.5:
            return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return f"{prefix}{digits}{suffix}"

    def nhs(self) -> str:
        """A UK NHS number with a valid mod-11 check digit, as ``943 476 5919``."""
        while True:
            nine = str(self.rng.randint(4, 9)) + self.s(DIGITS, 8)
            check = nhs_check(nine)
            if check is not None:
                n = nine + str(check)
                return f"{n[:3]} {n[3:6]} {n[6:]}" if self.rng.random() < 0.6 else n

    def phone(self, country: str | None = None) -> str:
        """A phone number in one of the US/UK/DE/FR/IN national or E.164 forms."""
        country = country or self.pick(("US", "UK", "DE", "FR", "IN"))
        r = self.rng.random()
        forms: tuple[str, ...]
        if country == "US":
            area, ex, num = (
                self.pick(_US_AREA_CODES),
                str(self.rng.randint(201, 989)),
                self.s(DIGITS, 4),
            )
            forms = (
                f"({area}) {ex}-{num}",
                f"{area}-{ex}-{num}",
                f"+1 {area} {ex} {num}",
                f"+1{area}{ex}{num}",
            )
        elif country == "UK":
            if self.rng.random() < 0.5:
                code, n = self.pick(tuple(_UK_GEO))
                sub = str(self.rng.randint(2, 8)) + self.s(DIGITS, n - 1)
                split = 4 if n == 8 else 3
                forms = (
                    f"0{code} {sub[:split]} {sub[split:]}",
                    f"+44 {code} {sub[:split]} {sub[split:]}",
                    f"+44{code}{sub}",
                )
            else:
                mob = "7" + str(self.rng.randint(4, 9)) + self.s(DIGITS, 8)
                forms = (f"0{mob[:4]} {mob[4:]}", f"+44 {mob[:4]} {mob[4:]}", f"+44{mob}")
        elif country == "DE":
            if self.rng.random() < 0.5:
                area, sub = self.pick(_DE_AREA), str(self.rng.randint(2, 9)) + self.s(DIGITS, 7)
                forms = (f"0{area} {sub}", f"+49 {area} {sub}", f"+49{area}{sub}")
            else:
                mob = self.pick(("151", "160", "170", "176")) + self.s(DIGITS, 8)
                forms = (f"0{mob[:3]} {mob[3:]}", f"+49 {mob[:3]} {mob[3:]}", f"+49{mob}")
        elif country == "FR":
            first = self.pick(("1", "2", "3", "4", "5", "6", "7"))
            pairs = [self.s(DIGITS, 2) for _ in range(4)]
            forms = (
                f"0{first} " + " ".join(pairs),
                f"+33 {first} " + " ".join(pairs),
                f"+33{first}" + "".join(pairs),
            )
        else:
            mob = str(self.rng.randint(6, 9)) + self.s(DIGITS, 9)
            forms = (f"+91 {mob[:5]} {mob[5:]}", f"+91{mob}", f"0{mob[:5]} {mob[5:]}")
        return forms[int(r * len(forms))]

    def ipv4(self) -> str:
        """A public IPv4 address."""
        return f"{self.pick(_PUBLIC_OCTET1)}.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    def ipv6(self) -> str:
        """A global-unicast IPv6 address, full or with ``::`` compression."""
        groups = [self.pick(("2a02", "2600", "2a01", "2406", "2803", "2c0f"))] + [
            f"{self.rng.randint(1, 0xFFFF):x}" for _ in range(7)
        ]
        if self.rng.random() < 0.4:
            return ":".join(groups[:4]) + "::" + groups[7]
        return ":".join(groups)

    def mac(self) -> str:
        """A MAC address, colon- or hyphen-separated."""
        octets = [f"{b:02x}" for b in self.raw(6)]
        octets[0] = f"{int(octets[0], 16) & 0xFC:02x}"
        if self.rng.random() < 0.5:
            return ":".join(octets)
        return "-".join(octets).upper()

    def btc(self) -> str:
        """A Bitcoin address: P2PKH, P2SH (Base58Check) or bech32 P2WPKH."""
        r = self.rng.random()
        if r < 0.35:
            return base58check(0, self.raw(20))
        if r < 0.6:
            return base58check(5, self.raw(20))
        return bech32_address("bc", 0, self.raw(20))

    def eth(self) -> str:
        """An EIP-55 checksummed Ethereum address."""
        return eip55(self.raw(20).hex())

    def dob(self) -> str:
        """A date of birth in ISO, US, UK or spelled-out form."""
        y, m, d = self.rng.randint(1940, 2005), self.rng.randint(1, 12), self.rng.randint(1, 28)
        return self.pick(
            (
                f"{y}-{m:02d}-{d:02d}",
                f"{m:02d}/{d:02d}/{y}",
                f"{d:02d}/{m:02d}/{y}",
                f"{d} {_MONTHS[m - 1]} {y}",
            )
        )

    def passport(self, country: str) -> str:
        """A passport number: 9 digits (US, UK) or the German 9-character form."""
        if country == "DE":
            return self.pick(tuple("CFGHJK")) + self.s("CFGHJKLMNPRTVWXYZ0123456789", 8)
        return self.s(DIGITS, 9)

    def mrn(self) -> str:
        """A medical record number."""
        return self.pick(
            (self.s(DIGITS, 8), self.s(DIGITS, 7), self.s(DIGITS, 3) + "-" + self.s(DIGITS, 4))
        )

    def us_address(self) -> str:
        """A US street address on one line."""
        city, state, zip3 = self.pick(US_CITIES)
        apt = self.pick(("", "", f", Apt {self.rng.randint(1, 40)}{self.pick(('A', 'B', 'C'))}"))
        return f"{self.rng.randint(10, 9899)} {self.pick(US_STREETS)}{apt}, {city}, {state} {zip3}{self.s(DIGITS, 2)}"

    def uk_address(self) -> str:
        """A UK street address with a well-formed postcode."""
        city, area = self.pick(UK_CITIES)
        district = str(self.rng.randint(1, 20))
        if area == "SW":
            district = self.pick(("1A", "3", "11", "19"))
        postcode = f"{area}{district} {self.rng.randint(0, 9)}{self.s('ABDEFGHJLNPQRSTUWXYZ', 2)}"
        return f"{self.rng.randint(1, 240)} {self.pick(UK_STREETS)}, {city} {postcode}"

    def person(self) -> Person:
        """A consistent synthetic person (US or UK)."""
        first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
        country = self.pick(("US", "UK"))
        local = self.pick(
            (
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}{last}{self.rng.randint(1, 99)}",
                f"{first}_{last[0]}",
            )
        )
        local = re.sub(r"[^A-Za-z0-9._]", "", local.encode("ascii", "ignore").decode()).lower()
        return Person(
            first=first,
            last=last,
            country=country,
            email=f"{local}@{self.pick(EMAIL_DOMAINS)}",
            phone=self.phone(country),
            dob=self.dob(),
            address=self.us_address() if country == "US" else self.uk_address(),
            national_id=("us-ssn", self.ssn())
            if country == "US"
            else self.pick((("uk-nino", self.nino()), ("uk-nhs-number", self.nhs()))),
            card=self.card(),
            iban=self.iban(),
            passport=self.passport(country),
            mrn=self.mrn(),
            ip=self.ipv4() if self.rng.random() < 0.8 else self.ipv6(),
        )

    def pii(self, kind: str) -> str:
        """A fresh value of PII ``kind``."""
        table: dict[str, Callable[[], str]] = {
            "credit-card": self.card,
            "iban": self.iban,
            "us-ssn": self.ssn,
            "uk-nino": self.nino,
            "uk-nhs-number": self.nhs,
            "email": lambda: self.person().email,
            "phone-number": self.phone,
            "ipv4": self.ipv4,
            "ipv6": self.ipv6,
            "mac-address": self.mac,
            "bitcoin-address": self.btc,
            "ethereum-address": self.eth,
            "date-of-birth": self.dob,
            "passport-number": lambda: self.passport(self.pick(("US", "UK", "DE"))),
            "medical-record-number": self.mrn,
            "person-name": lambda: self.person().name,
            "postal-address": lambda: (
                self.us_address() if self.rng.random() < 0.5 else self.uk_address()
            ),
        }
        return table[kind]()

    # -- hard negatives ------------------------------------------------------------
    def uuid(self) -> str:
        """A random (version 4) UUID."""
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.pick(('8', '9', 'a', 'b'))}{h[17:20]}-{h[20:]}"

    def sha(self, bits: int = 256) -> str:
        """A hex digest (git SHA-1 for 160 bits)."""
        data = self.raw(16)
        if bits == 160:
            return hashlib.sha1(data).hexdigest()
        return hashlib.sha256(data).hexdigest() if bits == 256 else hashlib.sha512(data).hexdigest()

    def integrity(self) -> str:
        """An npm ``integrity`` value or a pip ``--hash``."""
        if self.rng.random() < 0.7:
            return "sha512-" + b64(hashlib.sha512(self.raw(16)).digest())
        return "sha256:" + self.sha()

    def version(self) -> str:
        """A four-part version string that is also a syntactically valid IPv4 address."""
        return f"{self.rng.randint(1, 12)}.{self.rng.randint(0, 40)}.{self.rng.randint(0, 30)}.{self.rng.randint(1, 250)}"

    def base64_text(self) -> str:
        """Base64 of an ordinary English sentence."""
        sentence = self.pick(
            (
                "The quick brown fox jumps over the lazy dog.",
                "Hello, world! This is a test message for the parser.",
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
                "All models are wrong, but some are useful.",
                "Please remember to rotate the logs every Monday morning.",
                f"Batch {self.rng.randint(1, 999)} finished without errors at noon.",
            )
        )
        return b64(sentence.encode())

    def url_id(self) -> tuple[str, str]:
        """A URL and the random-looking id inside it (not a secret)."""
        r = self.rng.randrange(5)
        if r == 0:
            vid = self.s(B64URL, 11)
            return f"https://www.youtube.com/watch?v={vid}", vid
        if r == 1:
            fid = "1" + self.s(B64URL, 32)
            return f"https://drive.google.com/file/d/{fid}/view?usp=sharing", fid
        if r == 2:
            sha = self.sha(160)
            return (
                f"https://huggingface.co/{self.pick(COMPANIES)}/{self.word()}-7b/resolve/{sha}/config.json",
                sha,
            )
        if r == 3:
            key = self.s(HEX, 24)
            return (
                f"https://s3.eu-west-1.amazonaws.com/{self.pick(COMPANIES)}-datasets/shards/{key}.parquet",
                key,
            )
        gist = self.s(HEX, 32)
        return f"https://gist.github.com/{self.pick(('octo', 'mlops-bot', 'dsci'))}/{gist}", gist

    def placeholder(self) -> str:
        """A documentation/placeholder value that is not a real secret."""
        return self.pick(_PLACEHOLDERS)


# --------------------------------------------------------------------------------------
# Marking values and turning marks into labels
# --------------------------------------------------------------------------------------

_M_START, _M_MID, _M_END = "\ue000", "\ue001", "\ue002"
_MARK_RE = re.compile(f"{_M_START}(\\d+){_M_MID}(.*?){_M_END}", re.DOTALL)


def category_of(kind: str) -> str:
    """``secret``, ``pii`` or ``negative`` for a label kind."""
    if kind in SECRETS:
        return "secret"
    if kind in PII_FAMILY:
        return "pii"
    if kind in NEGATIVE_SCOPE:
        return "negative"
    raise KeyError(kind)


def family_of(kind: str) -> str:
    """The family of a kind: the coarse type a scanner may report instead of the kind."""
    if kind in SECRETS:
        return SECRETS[kind].family
    return PII_FAMILY.get(kind, kind)


@dataclass
class Doc:
    """One file being generated: its text carries private-use markers around every label.

    ``mark`` wraps a value in markers that survive ``json.dumps(ensure_ascii=False)``
    and the csv module, so a value can be marked before the file is serialised; the
    positions are computed on the final text by ``finish``.
    """

    path: str
    context: str
    g: Gen
    marks: list[tuple[str, str]] = field(default_factory=list)

    def mark(self, value: str, kind: str, context: str | None = None) -> str:
        """``value`` wrapped in markers that make it a label of ``kind``."""
        category_of(kind)
        if not value or value.endswith("\n"):
            raise ValueError(f"label values must be non-empty and not end in a newline: {value!r}")
        self.marks.append((kind, context or self.context))
        return f"{_M_START}{len(self.marks) - 1}{_M_MID}{value}{_M_END}"

    def secret(self, kind: str, context: str | None = None) -> str:
        """A fresh secret of ``kind``, marked."""
        return self.mark(self.g.secret(kind), kind, context)

    def pii(self, kind: str, context: str | None = None) -> str:
        """A fresh PII value of ``kind``, marked."""
        return self.mark(self.g.pii(kind), kind, context)

    def neg(self, kind: str, value: str, context: str | None = None) -> str:
        """``value`` marked as a hard negative of ``kind``."""
        return self.mark(value, kind, context)

    def finish(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Strip the markers; return the clean text and the labels with their positions."""
        if "\\ue00" in text:
            raise ValueError(
                f"{self.path}: a marker was escaped; serialise with ensure_ascii=False"
            )
        out: list[str] = []
        labels: list[dict[str, Any]] = []
        line, line_start, pos, last = 1, 0, 0, 0
        for m in _MARK_RE.finditer(text):
            seg = text[last : m.start()]
            out.append(seg)
            nl = seg.count("\n")
            if nl:
                line += nl
                line_start = pos + seg.rfind("\n") + 1
            pos += len(seg)
            value = m.group(2)
            if _M_START in value:
                raise ValueError(f"nested marks in {self.path}")
            start_line, col = line, pos - line_start + 1
            out.append(value)
            nl = value.count("\n")
            if nl:
                line += nl
                line_start = pos + value.rfind("\n") + 1
            pos += len(value)
            kind, context = self.marks[int(m.group(1))]
            label: dict[str, Any] = {
                "file": self.path,
                "line": start_line,
                "end_line": line,
                "col": col,
                "end_col": pos - line_start,
                "kind": kind,
                "family": family_of(kind),
                "category": category_of(kind),
                "context": context,
                "value": value,
            }
            if label["category"] == "negative":
                label["scope"] = NEGATIVE_SCOPE[kind]
            labels.append(label)
            last = m.end()
        out.append(text[last:])
        clean = "".join(out)
        if _M_START in clean or _M_END in clean:
            raise ValueError(f"unbalanced marks in {self.path}")
        return clean, labels


# --------------------------------------------------------------------------------------
# Rendering one secret in one syntactic context
# --------------------------------------------------------------------------------------


def env_name(g: Gen, kind: str) -> str:
    """An environment variable name conventionally used for ``kind``."""
    return g.pick(SECRETS[kind].env)


def gcp_info(doc: Doc, context: str | None = None) -> dict[str, str]:
    """A GCP service-account key document with its private key and email labelled."""
    g = doc.g
    project = f"{g.pick(COMPANIES)}-ml-{g.s(DIGITS, 6)}"
    account = g.pick(("trainer", "vertex-runner", "ci-deployer", "feature-sync"))
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": g.s(HEX, 40),
        "private_key": doc.secret("gcp-service-account-key", context) + "\n",
        "client_email": doc.mark(f"{account}@{project}.iam.gserviceaccount.com", "email", context),
        "client_id": g.s(DIGITS, 21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{account}%40{project}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }


def gcp_blob(doc: Doc, context: str | None = None) -> str:
    """A service-account key as one line of JSON (for env files, prompts, shell)."""
    return json.dumps(gcp_info(doc, context), ensure_ascii=False)


def pem_escaped(doc: Doc, kind: str, context: str | None = None) -> str:
    """A PEM key written with ``\\n`` escapes on one line, labelled."""
    return doc.mark(doc.g.secret(kind).replace("\n", "\\n"), kind, context)


def _api_host(kind: str) -> str:
    return {
        "openai": "api.openai.com/v1/models",
        "anthropic": "api.anthropic.com/v1/models",
        "huggingface": "huggingface.co/api/whoami-v2",
        "groq": "api.groq.com/openai/v1/models",
        "replicate": "api.replicate.com/v1/account",
        "together": "api.together.xyz/v1/models",
        "mistral": "api.mistral.ai/v1/models",
        "cohere": "api.cohere.com/v1/models",
        "github": "api.github.com/user",
        "gitlab": "gitlab.com/api/v4/user",
        "slack": "slack.com/api/auth.test",
        "sendgrid": "api.sendgrid.com/v3/scopes",
        "stripe": "api.stripe.com/v1/charges",
        "databricks": "adb-4417.azuredatabricks.net/api/2.0/clusters/list",
    }.get(SECRETS[kind].family, "internal.api/v1/ping")


def render_py(doc: Doc, kind: str) -> list[str]:  # noqa: PLR0911 - one return per style
    """Python source lines that hard-code one secret of ``kind``."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        return [
            "SERVICE_ACCOUNT_INFO = " + gcp_blob(doc),
            "credentials = service_account.Credentials.from_service_account_info(SERVICE_ACCOUNT_INFO)",
        ]
    if kind in PEM_KINDS:
        return [
            f'{name} = """' + doc.secret(kind) + '"""',
            f"key = load_pem_private_key({name}.encode(), password=None)",
        ]
    m = doc.secret(kind)
    style = g.rng.randrange(6)
    if style == 0:
        return [f'{name} = "{m}"']
    if style == 1:
        return [SECRETS[kind].call.format(v=m)]
    if style == 2:
        return [f'os.environ["{name}"] = "{m}"']
    if style == 3:
        return [
            "SETTINGS = {",
            f'    "{name.lower()}": "{m}",',
            f'    "timeout": {g.rng.randint(5, 60)},',
            "}",
        ]
    if style == 4:
        return [
            f"def get_{g.word()}_client(token: str = '{m}') -> Session:",
            "    return Session(token)",
        ]
    return [f'{name.lower()}: str = os.environ.get("{name}", "{m}")']


def render_env(doc: Doc, kind: str) -> list[str]:
    """``.env`` lines for one secret."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        return [f"{name}='" + gcp_blob(doc) + "'"]
    if kind in PEM_KINDS:
        return [f'{name}="' + doc.secret(kind) + '"']
    m = doc.secret(kind)
    return [g.pick((f"{name}={m}", f'{name}="{m}"', f"export {name}={m}", f"{name}='{m}'"))]


def render_yaml(doc: Doc, kind: str, indent: str = "  ", *, k8s_env: bool = False) -> list[str]:
    """YAML mapping entries (or a k8s ``env`` list item) for one secret."""
    g = doc.g
    name = env_name(g, kind)
    key = name if k8s_env or g.rng.random() < 0.5 else name.lower()
    if kind == "gcp-service-account-key":
        value = "'" + gcp_blob(doc) + "'"
    elif kind in PEM_KINDS:
        if k8s_env:
            head, inner = [f"{indent}- name: {name}", f"{indent}  value: |"], indent + "    "
        else:
            head, inner = [f"{indent}{key}: |"], indent + "  "
        return [*head, inner + doc.mark(g.secret(kind).replace("\n", "\n" + inner), kind)]
    else:
        m = doc.secret(kind)
        value = g.pick((m, f'"{m}"', f"'{m}'")) if not k8s_env else f'"{m}"'
    if k8s_env:
        return [f"{indent}- name: {name}", f"{indent}  value: {value}"]
    return [f"{indent}{key}: {value}"]


def render_toml(doc: Doc, kind: str) -> list[str]:
    """TOML key/value lines for one secret."""
    g = doc.g
    key = env_name(g, kind).lower()
    if kind == "gcp-service-account-key":
        return [f"{key} = '''" + gcp_blob(doc) + "'''"]
    if kind in PEM_KINDS:
        return [f'{key} = """', doc.secret(kind) + '"""']
    return [f'{key} = "{doc.secret(kind)}"']


def render_shell(doc: Doc, kind: str) -> list[str]:
    """Shell script lines that use one secret."""
    g = doc.g
    name = env_name(g, kind)
    fam = SECRETS[kind].family
    if kind == "gcp-service-account-key":
        return [
            f"echo '{gcp_blob(doc)}' > /tmp/sa.json",
            "gcloud auth activate-service-account --key-file=/tmp/sa.json",
        ]
    if kind in PEM_KINDS:
        return [
            "cat > /tmp/deploy_key <<'EOF'",
            doc.secret(kind),
            "EOF",
            "chmod 600 /tmp/deploy_key",
        ]
    m = doc.secret(kind)
    options = [f'export {name}="{m}"']
    if not re.search(r"[;&?*!]", m):
        options.append(f"export {name}={m}")
    if kind in BEARER_KINDS:
        options.append(f'curl -sS -H "Authorization: Bearer {m}" https://{_api_host(kind)}')
    if fam == "github":
        options.append(
            f"git clone https://x-access-token:{m}@github.com/{g.pick(COMPANIES)}/{g.word()}-models.git"
        )
    if kind == "postgres-url":
        options.append(f'psql "{m}" -c "select count(*) from events"')
    if kind in ("redis-url",):
        options.append(f'redis-cli -u "{m}" ping')
    if kind == "slack-webhook-url":
        options.append(
            f"curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"deploy done\"}}' {m}"
        )
    if kind == "npm-token":
        options.append(f"npm config set //registry.npmjs.org/:_authToken {m}")
    if kind == "pypi-token":
        options.append(f"twine upload -u __token__ -p {m} dist/*")
    if kind == "gitlab-pat":
        options.append(f'echo "{m}" | docker login registry.gitlab.com -u ci --password-stdin')
    if kind == "aws-secret-access-key":
        options.append(f"aws configure set aws_secret_access_key {m}")
    if kind == "generic-password":
        options.append(f"mysql -h db.internal -u admin -p'{m}' -e 'show databases'")
    return [g.pick(options)]


def render_dockerfile(doc: Doc, kind: str) -> list[str]:
    """Dockerfile instructions that bake one secret into an image."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        return [f"ENV GOOGLE_CREDENTIALS_JSON='{gcp_blob(doc)}'"]
    if kind in PEM_KINDS:
        return [
            "RUN mkdir -p /root/.ssh && printf '"
            + pem_escaped(doc, kind)
            + "\\n' > /root/.ssh/id_key && chmod 600 /root/.ssh/id_key"
        ]
    m = doc.secret(kind)
    options = [f"ENV {name}={m}", f'ENV {name}="{m}"', f"ARG {name}={m}"]
    if kind == "npm-token":
        options.append(f'RUN echo "//registry.npmjs.org/:_authToken={m}" > /root/.npmrc && npm ci')
    if kind == "pypi-token":
        options.append(
            f"RUN pip install --index-url https://__token__:{m}@pypi.{g.pick(COMPANIES)}.internal/simple/ {g.word()}-sdk"
        )
    if SECRETS[kind].family == "github":
        options.append(
            f"RUN git clone https://{m}@github.com/{g.pick(COMPANIES)}/{g.word()}-utils.git /opt/utils"
        )
    return [g.pick(options)]


def render_nb_code(doc: Doc, kind: str) -> str:
    """The source of a notebook code cell that hard-codes one secret."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        return (
            "info = "
            + gcp_blob(doc, "nb-code")
            + "\ncreds = service_account.Credentials.from_service_account_info(info)"
        )
    if kind in PEM_KINDS:
        return (
            f'{name} = """'
            + doc.secret(kind, "nb-code")
            + f'"""\nkey = load_pem_private_key({name}.encode(), password=None)'
        )
    m = doc.secret(kind, "nb-code")
    options = [
        "import os\n" + f'os.environ["{name}"] = "{m}"',
        SECRETS[kind].call.format(v=m) + "\nprint('client ready')",
        f"%env {name}={m}",
        f'{name} = "{m}"  # TODO: move to a secret manager',
    ]
    if kind in BEARER_KINDS:
        options.append(
            f'!curl -sS -H "Authorization: Bearer {m}" https://{_api_host(kind)} | head -c 300'
        )
    return g.pick(options)


_ANSI_RED, _ANSI_GREEN, _ANSI_OFF = "\x1b[0;31m", "\x1b[0;32m", "\x1b[0m"


def render_nb_output(  # noqa: PLR0911 - one return per output style
    doc: Doc, kind: str, count: int
) -> tuple[str, list[dict[str, object]]]:
    """A code cell source and outputs that print one secret (stream, result, display, error)."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        text = (
            "{'type': 'service_account',\n 'private_key': '"
            + pem_escaped(doc, kind, "nb-output")
            + "\\n',\n 'client_email': '"
            + doc.mark(
                f"runner@{g.pick(COMPANIES)}-ml.iam.gserviceaccount.com", "email", "nb-output"
            )
            + "'}"
        )
        return "info = json.load(open('sa.json'))\ninfo", [
            execute_result(count, {"text/plain": text})
        ]
    if kind in PEM_KINDS:
        return "!cat ~/.ssh/deploy_key", [stream(doc.secret(kind, "nb-output") + "\n")]
    ref = doc.neg("env-reference", f'os.environ["{name}"]', "nb-code")
    style = g.rng.randrange(5)
    if style == 0:
        return f"print({ref})", [stream(doc.secret(kind, "nb-output") + "\n")]
    if style == 1:
        return ref, [
            execute_result(count, {"text/plain": "'" + doc.secret(kind, "nb-output") + "'"})
        ]
    if style == 2:
        return "!cat .env", [stream(f"{name}={doc.secret(kind, 'nb-output')}\nLOG_LEVEL=info\n")]
    if style == 3:
        text = f"Settings(env='prod', {name.lower()}='{doc.secret(kind, 'nb-output')}', timeout=30)"
        return "display(settings)", [display_data({"text/plain": text})]
    value = doc.g.secret(kind)
    m_code = doc.mark(value, kind, "nb-code")
    masked = value[:8] + "*" * 20 + value[-4:]
    call = SECRETS[kind].call.format(v=doc.mark(value, kind, "nb-output"))
    source = "import os\n" + SECRETS[kind].call.format(v=m_code) + "\nclient.models.list()"
    tb = [
        f"{_ANSI_RED}---------------------------------------------------------------------------{_ANSI_OFF}",
        f"{_ANSI_RED}AuthenticationError{_ANSI_OFF}                       Traceback (most recent call last)",
        (
            f"Cell {_ANSI_GREEN}In[{count}], line 3{_ANSI_OFF}\n{_ANSI_GREEN}      1{_ANSI_OFF} import os\n"
            f"{_ANSI_GREEN}      2{_ANSI_OFF} {call}\n{_ANSI_GREEN}----> 3{_ANSI_OFF} client.models.list()\n"
        ),
        f"{_ANSI_RED}AuthenticationError{_ANSI_OFF}: Error code: 401 - Incorrect API key provided: "
        + doc.neg("placeholder-key", masked, "nb-output")
        + ".",
    ]
    err: dict[str, object] = {
        "ename": "AuthenticationError",
        "evalue": "Error code: 401",
        "output_type": "error",
        "traceback": tb,
    }
    return source, [err]


def render_nb_markdown(doc: Doc, kind: str) -> str:
    """Markdown cell text that quotes one secret."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        return (
            "Service account used for the demo:\n\n```json\n"
            + gcp_blob(doc, "nb-markdown")
            + "\n```"
        )
    if kind in PEM_KINDS:
        return (
            "Deploy key for the demo repository:\n\n```\n"
            + doc.secret(kind, "nb-markdown")
            + "\n```"
        )
    m = doc.secret(kind, "nb-markdown")
    return g.pick(
        (
            f"## Setup\n\nThe workshop key (rotate after the session) is `{m}`.",
            f"> **Note:** set `{name}={m}` before running the cells below.",
            f"Credentials for the shared sandbox:\n\n- user: `ml-sandbox`\n- token: {m}",
        )
    )


def render_fragment(doc: Doc, kind: str, context: str) -> str:
    """Free text (a prompt, a note) that contains one secret; newlines allowed."""
    g = doc.g
    name = env_name(g, kind)
    if kind == "gcp-service-account-key":
        return "Why does auth fail with this credentials file? " + gcp_blob(doc, context)
    if kind in PEM_KINDS:
        return "Is this key in the right format?\n" + doc.secret(kind, context) + "\nThanks!"
    m = doc.secret(kind, context)
    return g.pick(
        (
            f"Why does `{SECRETS[kind].call.format(v=m)}` give me a 401?",
            f"Here is my .env:\n{name}={m}\nLOG_LEVEL=debug\nwhat is wrong?",
            f'curl -H "Authorization: Bearer {m}" fails with 403, any idea?',
            f"Use {m} as the {name.lower().replace('_', ' ')} for staging.",
        )
    )


def stream(text: str, name: str = "stdout") -> dict[str, object]:
    """A notebook stream output."""
    return {"name": name, "output_type": "stream", "text": text}


def execute_result(count: int, data: dict[str, str]) -> dict[str, object]:
    """A notebook execute_result output."""
    return {"data": data, "execution_count": count, "metadata": {}, "output_type": "execute_result"}


def display_data(
    data: dict[str, str], metadata: dict[str, object] | None = None
) -> dict[str, object]:
    """A notebook display_data output."""
    return {"data": data, "metadata": metadata or {}, "output_type": "display_data"}


# --------------------------------------------------------------------------------------
# PII phrases and people
# --------------------------------------------------------------------------------------

_PII_PHRASES: dict[str, tuple[str, ...]] = {
    "credit-card": ("card {v}", "Card number: {v}", "charged to {v}"),
    "iban": ("IBAN {v}", "refund to IBAN: {v}", "account {v}"),
    "us-ssn": ("SSN: {v}", "social security number {v}", "SSN {v}"),
    "uk-nino": ("NI number {v}", "National Insurance no. {v}", "NINO: {v}"),
    "uk-nhs-number": ("NHS number: {v}", "NHS no {v}"),
    "email": ("email {v}", "contact: {v}", "reach me at {v}"),
    "phone-number": ("call me on {v}", "Tel: {v}", "phone {v}", "mobile: {v}"),
    "ipv4": ("from IP {v}", "client_ip={v}", "logged in from {v}"),
    "ipv6": ("from IP {v}", "client_ip={v}", "source address {v}"),
    "mac-address": ("device MAC {v}", "mac={v}", "laptop MAC address {v}"),
    "bitcoin-address": ("send the refund to {v}", "BTC wallet {v}", "wallet: {v}"),
    "ethereum-address": ("ETH wallet {v}", "payout address {v}", "wallet: {v}"),
    "date-of-birth": ("DOB: {v}", "date of birth {v}", "Date of Birth: {v}", "born {v}"),
    "passport-number": ("passport number {v}", "Passport No: {v}", "passport no. {v}"),
    "medical-record-number": ("MRN: {v}", "medical record number {v}", "MRN {v}"),
    "person-name": ("Patient: {v}", "Name: {v}", "my name is {v}", "customer {v}"),
    "postal-address": ("Address: {v}", "ship to {v}", "lives at {v}"),
}


def pii_phrase(doc: Doc, kind: str, context: str | None = None, value: str | None = None) -> str:
    """A short phrase with one PII value and the words that make it identifiable."""
    v = doc.mark(value if value is not None else doc.g.pii(kind), kind, context)
    return doc.g.pick(_PII_PHRASES[kind]).format(v=v)


def person_sentence(doc: Doc, p: Person, context: str | None = None) -> str:
    """A support-ticket sentence about a person, every PII value in it labelled."""
    g = doc.g
    nid_kind, nid = p.national_id
    nid_word = {"us-ssn": "SSN", "uk-nino": "NI number", "uk-nhs-number": "NHS number"}[nid_kind]
    parts = [
        f"Customer {doc.mark(p.name, 'person-name', context)}",
        f"DOB: {doc.mark(p.dob, 'date-of-birth', context)}",
        f"{nid_word} {doc.mark(nid, nid_kind, context)}",
        f"email {doc.mark(p.email, 'email', context)}",
        f"phone {doc.mark(p.phone, 'phone-number', context)}",
        f"address {doc.mark(p.address, 'postal-address', context)}",
    ]
    extra = g.rng.randrange(4)
    if extra == 0:
        parts.append(f"card {doc.mark(p.card, 'credit-card', context)}")
    elif extra == 1:
        parts.append(f"IBAN {doc.mark(p.iban, 'iban', context)}")
    elif extra == 2:
        parts.append(f"MRN: {doc.mark(p.mrn, 'medical-record-number', context)}")
    else:
        parts.append(f"passport number {doc.mark(p.passport, 'passport-number', context)}")
    g.rng.shuffle(parts)
    return g.pick(("Ticket: ", "Note: ", "")) + ", ".join(parts) + "."


# --------------------------------------------------------------------------------------
# Filler: ordinary content with nothing to report
# --------------------------------------------------------------------------------------

_PROSE = (
    "The nightly job rebuilds the feature store and refreshes the embeddings index.",
    "Evaluation runs on the held-out split after every checkpoint.",
    "Requests above the rate limit are queued and retried with exponential backoff.",
    "The gateway strips tool outputs larger than the configured limit before logging.",
    "Model cards live next to the weights and are reviewed before each release.",
    "We shard the training data by hash so that every worker sees a stable subset.",
    "Latency dashboards are grouped by route and by model family.",
    "The retriever returns the top documents, which the reranker then reorders.",
    "Rollbacks are a redeploy of the previous image tag; no data migration is needed.",
    "Prompt templates are versioned and rendered at request time.",
    "Each experiment records its config, its seed and the exact dataset snapshot.",
    "Cold starts dominate the tail latency of the smaller deployments.",
    "The cache key covers the prompt, the model and the sampling parameters.",
    "Alerts fire when the error rate stays above the threshold for ten minutes.",
    "Batch inference jobs write their outputs as parquet files partitioned by day.",
    "Tokenizer changes require a full re-run of the preprocessing pipeline.",
)


def prose(g: Gen, n: int) -> list[str]:
    """``n`` lines of unremarkable technical prose."""
    return [g.pick(_PROSE) for _ in range(n)]


def timestamp(g: Gen) -> str:
    """An ISO-8601 UTC timestamp in 2025."""
    month, day = g.rng.randint(1, 12), g.rng.randint(1, 28)
    h, m, s = g.rng.randint(0, 23), g.rng.randint(0, 59), g.rng.randint(0, 59)
    return f"2025-{month:02d}-{day:02d}T{h:02d}:{m:02d}:{s:02d}.{g.rng.randint(0, 999):03d}Z"


def log_line(g: Gen) -> str:
    """One structured application log line."""
    svc = g.pick(SERVICES)
    r = g.rng.randrange(4)
    if r == 0:
        return f"{timestamp(g)} INFO  {svc}.train step={g.rng.randint(1, 90000)} loss={g.rng.random() * 3:.4f} lr={g.rng.choice(('1e-4', '3e-5', '2e-5'))} tok_s={g.rng.randint(1000, 90000)}"
    if r == 1:
        return f"{timestamp(g)} INFO  {svc}.http method=POST route=/v1/{g.word()}s status=200 latency_ms={g.rng.randint(3, 4000)}"
    if r == 2:
        return f"{timestamp(g)} WARN  {svc}.queue depth={g.rng.randint(100, 9000)} workers={g.rng.randint(1, 64)} backlog growing"
    return f"{timestamp(g)} DEBUG {svc}.cache hit_ratio={g.rng.random():.3f} entries={g.rng.randint(100, 10**6)}"


def py_block(g: Gen) -> list[str]:  # noqa: PLR0911 - one return per block style
    """A block of ordinary Python code."""
    w = g.word()
    r = g.rng.randrange(7)
    if r == 0:
        return [
            f"def load_{w}s(path: str) -> list[dict]:",
            f'    """Load {w} records from a JSONL file."""',
            '    with open(path, encoding="utf-8") as fh:',
            "        return [json.loads(line) for line in fh if line.strip()]",
        ]
    if r == 1:
        return [
            f"class {w.capitalize()}Config(BaseModel):",
            f"    batch_size: int = {g.rng.choice((8, 16, 32, 64))}",
            f"    learning_rate: float = {g.rng.choice(('1e-4', '3e-5', '2e-5'))}",
            f"    max_steps: int = {g.rng.randint(1, 50) * 1000}",
        ]
    if r == 2:
        return [
            "for step, batch in enumerate(loader):",
            "    loss = model(**batch).loss",
            "    loss.backward()",
            f"    if step % {g.rng.choice((10, 50, 100))} == 0:",
            '        logger.info("step %d loss %.4f", step, loss.item())',
        ]
    if r == 3:
        return [
            f'@app.get("/v1/{w}s/{{item_id}}")',
            f"async def get_{w}(item_id: int) -> dict:",
            f'    return {{"id": item_id, "kind": "{w}", "status": "ok"}}',
        ]
    if r == 4:
        return [
            f"MAX_RETRIES = {g.rng.randint(2, 8)}",
            f"TIMEOUT_S = {g.rng.randint(5, 120)}.0",
            f'DEFAULT_MODEL = "{g.pick(MODELS)}"',
        ]
    if r == 5:
        return [
            f"def chunk_{w}s(items: list, size: int = {g.rng.choice((64, 128, 256))}) -> list[list]:",
            "    return [items[i : i + size] for i in range(0, len(items), size)]",
        ]
    return [
        "logger = logging.getLogger(__name__)",
        f'metrics = Counter("{w}_total", "Number of {w}s processed")',
    ]


def py_header(g: Gen) -> list[str]:
    """A module docstring and imports."""
    return [
        f'"""{g.word().capitalize()} utilities for the {g.pick(SERVICES)} service."""',
        "",
        "import json",
        "import logging",
        "import os",
        "",
    ]


# --------------------------------------------------------------------------------------
# PNG and notebooks
# --------------------------------------------------------------------------------------


def png_bytes(g: Gen, width: int = 180, height: int = 110) -> bytes:
    """A small real PNG of a line plot with anti-aliasing noise (high-entropy base64)."""
    img = [bytearray(b"\xff" * (3 * width)) for _ in range(height)]
    for x in range(10, width - 5):
        img[height - 10][3 * x : 3 * x + 3] = b"\x20\x20\x20"
    for y in range(5, height - 10):
        img[y][30:33] = b"\x20\x20\x20"
    y = height // 2
    color = bytes(g.pick(((31, 119, 180), (255, 127, 14), (44, 160, 44))))
    for x in range(11, width - 6):
        y = max(6, min(height - 12, y + g.rng.randint(-3, 3)))
        for dy in (-1, 0, 1):
            img[y + dy][3 * x : 3 * x + 3] = color
            shade = bytes(min(255, c + g.rng.randint(40, 200)) for c in color)
            img[min(height - 11, y + dy + 2)][3 * x : 3 * x + 3] = shade
    raw = b"".join(b"\x00" + bytes(row) for row in img)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def code_cell(
    doc: Doc, source: str, outputs: list[dict[str, object]], count: int | None
) -> dict[str, object]:
    """A notebook code cell (source and outputs split into lines as nbformat does)."""
    return {
        "cell_type": "code",
        "execution_count": count,
        "id": cell_id(doc),
        "metadata": {},
        "outputs": outputs,
        "source": source,
    }


def markdown_cell(doc: Doc, source: str) -> dict[str, object]:
    """A notebook markdown cell."""
    return {"cell_type": "markdown", "id": cell_id(doc), "metadata": {}, "source": source}


def cell_id(doc: Doc) -> str:
    """An nbformat 4.5 cell id: 8 hex characters or a full UUID (labelled)."""
    if doc.g.rng.random() < 0.5:
        return doc.g.s(HEX, 8)
    return doc.neg("uuid", doc.g.uuid(), "json")


def _split_notebook(nb: dict[str, Any]) -> None:
    for cell in nb["cells"]:
        cell["source"] = cell["source"].splitlines(True)
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                out["text"] = out["text"].splitlines(True)
            elif "data" in out:
                for key, value in list(out["data"].items()):
                    if key.startswith("text/") and isinstance(value, str):
                        out["data"][key] = value.splitlines(True)


def notebook_text(doc: Doc, cells: list[dict[str, object]]) -> str:
    """A notebook as nbformat 4.5 writes it (indent=1, sorted keys, split lines)."""
    metadata: dict[str, object] = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {
            "codemirror_mode": {"name": "ipython", "version": 3},
            "file_extension": ".py",
            "mimetype": "text/x-python",
            "name": "python",
            "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3",
            "version": doc.g.pick(("3.10.14", "3.11.9", "3.12.4")),
        },
    }
    if doc.g.rng.random() < 0.7:
        metadata["vscode"] = {
            "interpreter": {"hash": doc.neg("notebook-metadata-hash", doc.g.sha(), "json")}
        }
    nb: dict[str, object] = {
        "cells": cells,
        "metadata": metadata,
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    _split_notebook(nb)
    return (
        json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"
    )


def notebook_contexts(text: str) -> list[list[object]]:
    """Line ranges ``[first, last, context]`` of a notebook: code, markdown, outputs, JSON."""
    ranges: list[list[object]] = []
    ctx, cell_type = "json", "code"
    for i, line in enumerate(text.split("\n"), 1):
        if line.startswith('   "cell_type": '):
            cell_type = "code" if '"code"' in line else "markdown"
            ctx = "json"
        elif line.startswith('   "outputs": ['):
            ctx = "nb-output"
        elif line.startswith('   "source": ['):
            ctx = "nb-code" if cell_type == "code" else "nb-markdown"
        elif line.startswith(('   "', ' "')):
            ctx = "json"
        if ranges and ranges[-1][2] == ctx and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i, ctx])
    return ranges


def dataframe_outputs(
    doc: Doc, people: list[Person], cols: list[str], count: int
) -> dict[str, object]:
    """An execute_result with a pandas DataFrame preview (text/plain and text/html)."""
    getters: dict[str, tuple[str, Callable[[Person], str]]] = {
        "name": ("person-name", lambda p: p.name),
        "email": ("email", lambda p: p.email),
        "phone": ("phone-number", lambda p: p.phone),
        "dob": ("date-of-birth", lambda p: p.dob),
        "card_number": ("credit-card", lambda p: p.card),
        "iban": ("iban", lambda p: p.iban),
        "address": ("postal-address", lambda p: p.address),
        "ip": ("ipv4", lambda p: p.ip),
        "mrn": ("medical-record-number", lambda p: p.mrn),
    }
    plain_rows: list[list[str]] = [["", *cols]]
    html = [
        "<div>",
        '<table border="1" class="dataframe">',
        "  <thead>",
        '    <tr style="text-align: right;">',
        "      <th></th>",
        *[f"      <th>{c}</th>" for c in cols],
        "    </tr>",
        "  </thead>",
        "  <tbody>",
    ]
    for i, p in enumerate(people):
        cells_plain, cells_html = [str(i)], []
        for c in cols:
            kind, get = getters[c]
            value = get(p)
            if c == "ip" and ":" in value:
                kind = "ipv6"
            cells_plain.append(doc.mark(value, kind, "nb-output"))
            cells_html.append(f"      <td>{doc.mark(value, kind, 'nb-output')}</td>")
        plain_rows.append(cells_plain)
        html += ["    <tr>", f"      <th>{i}</th>", *cells_html, "    </tr>"]
    html += [
        "  </tbody>",
        "</table>",
        f"<p>{len(people)} rows \u00d7 {len(cols)} columns</p>",
        "</div>",
    ]

    def visible(s: str) -> int:
        return len(_MARK_RE.sub(lambda m: m.group(2), s))

    widths = [max(visible(r[j]) for r in plain_rows) for j in range(len(plain_rows[0]))]
    plain = "\n".join(
        "  ".join(" " * (widths[j] - visible(cell)) + cell for j, cell in enumerate(row))
        for row in plain_rows
    )
    return execute_result(count, {"text/html": "\n".join(html), "text/plain": plain})


# --------------------------------------------------------------------------------------
# Hard negatives in context
# --------------------------------------------------------------------------------------

_RESERVED_IPS = ("127.0.0.1", "0.0.0.0", "255.255.255.0", "169.254.169.254")


def neg(doc: Doc, kind: str, context: str | None = None) -> str:
    """A fresh hard negative of ``kind`` (one that has a standalone value), marked."""
    g = doc.g
    value = {
        "uuid": g.uuid,
        "git-sha": lambda: g.sha(160),
        "sha256-digest": g.sha,
        "sha512-digest": lambda: g.sha(512),
        "integrity-hash": g.integrity,
        "placeholder-key": g.placeholder,
        "luhn-invalid-card": lambda: g.card(valid=False),
        "bad-checksum-iban": lambda: g.iban(valid=False),
        "invalid-ssn": lambda: g.ssn(valid=False),
        "version-string": g.version,
        "reserved-ip": lambda: g.pick(_RESERVED_IPS),
        "ghp-bad-checksum": lambda: g.github("ghp_", valid=False),
        "base64-text": g.base64_text,
    }[kind]()
    return doc.neg(kind, value, context)


def neg_url(doc: Doc, context: str | None = None) -> str:
    """A URL whose random-looking id is labelled as a hard negative."""
    url, ident = doc.g.url_id()
    head, _, tail = url.partition(ident)
    return head + doc.neg("url-path-id", ident, context) + tail


def env_ref(doc: Doc, style: str, name: str | None = None, context: str | None = None) -> str:
    """A reference to the secret ``name`` held elsewhere (env, vault, CI secrets), labelled."""
    name = name or env_name(
        doc.g, doc.g.pick(tuple(k for k in SECRETS if k != "kubernetes-secret-data"))
    )
    text = {
        "py-environ": f'os.environ["{name}"]',
        "py-getenv": f'os.getenv("{name}")',
        "shell": "${" + name + "}",
        "shell-required": "${" + name + ":?" + name + " is not set}",
        "gha": "${{ secrets." + name + " }}",
        "helm": "{{ .Values.secrets." + name.lower() + " }}",
        "vault": f"vault:secret/data/ml/{name.lower()}#value",
        "gitlab": "$" + name,
    }[style]
    return doc.neg("env-reference", text, context)


PY_NEGATIVES = 15


def py_negative(doc: Doc, r: int) -> list[str]:
    """Python line number ``r`` (of ``PY_NEGATIVES``) with a hard negative."""
    return [
        (
            f'MODEL_REVISION = "{neg(doc, "git-sha")}"',
            f'EXPECTED_SHA256 = "{neg(doc, "sha256-digest")}"',
            f'WEIGHTS_SHA512 = "{neg(doc, "sha512-digest")}"',
            f"api_key = {env_ref(doc, 'py-environ')}",
            f"token = {env_ref(doc, 'py-getenv')}",
            f'API_KEY = "{neg(doc, "placeholder-key")}"  # replace before deploying',
            f'RUN_ID = "{neg(doc, "uuid")}"',
            f'BANNER_B64 = "{neg(doc, "base64-text")}"',
            f'DATASET_URL = "{neg_url(doc)}"',
            f'INVALID_TOKEN = "{neg(doc, "ghp-bad-checksum")}"  # checksum deliberately wrong',
            f'REJECTED_CARD = "{neg(doc, "luhn-invalid-card")}"',
            f'BAD_SSN = "{neg(doc, "invalid-ssn")}"',
            f'BAD_IBAN = "{neg(doc, "bad-checksum-iban")}"',
            f'CUDA_DRIVER = "{neg(doc, "version-string")}"',
            f'BIND_HOST = "{neg(doc, "reserved-ip")}"',
        )[r]
    ]


# --------------------------------------------------------------------------------------
# The corpus: file builders
# --------------------------------------------------------------------------------------

CYCLE_KINDS = tuple(k for k in SECRETS if k != "kubernetes-secret-data")
SINGLE_LINE_KINDS = tuple(k for k in CYCLE_KINDS if k not in MULTILINE)


class Corpus:
    """Collects generated files, their labels and their line contexts."""

    def __init__(self, out: Path, seed: int) -> None:
        self.out = out
        self.tree = out / "tree"
        self.seed = seed
        self.labels: list[dict[str, Any]] = []
        self.contexts: dict[str, object] = {}
        self.sizes: dict[str, int] = {}

    def doc(self, path: str, context: str) -> Doc:
        """A new document with its own RNG, seeded by (seed, path)."""
        if path in self.sizes:
            raise ValueError(f"duplicate path {path}")
        return Doc(path, context, Gen(random.Random(f"{self.seed}:{path}")))

    def deal(
        self, template: str, files: int, per_file: int, kinds: tuple[str, ...] = CYCLE_KINDS
    ) -> list[list[str]]:
        """Spread secret kinds over ``files`` files, every kind before any repeats."""
        rng = random.Random(f"{self.seed}:deal:{template}")
        pool: list[str] = []
        while len(pool) < files * per_file:
            batch = list(kinds)
            rng.shuffle(batch)
            pool += batch
        return [pool[i * per_file : (i + 1) * per_file] for i in range(files)]

    def write(self, doc: Doc, text: str, *, notebook: bool = False) -> None:
        """Resolve the marks of ``doc`` in ``text`` and write the file under tree/."""
        clean, labels = doc.finish(text)
        data = clean.encode("utf-8")
        path = self.tree / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.labels += labels
        self.contexts[doc.path] = notebook_contexts(clean) if notebook else doc.context
        self.sizes[doc.path] = len(data)


def _name(prefix: str, names: tuple[str, ...], i: int) -> str:
    base = names[i % len(names)]
    return f"{prefix}{base}" if i < len(names) else f"{prefix}{base}_{i // len(names)}"


def _join_blocks(g: Gen, blocks: list[list[str]], *, sep: str = "\n\n") -> str:
    g.rng.shuffle(blocks)
    return sep.join("\n".join(b) for b in blocks)


def build_python(c: Corpus, n: int) -> None:
    """Python modules: secrets in assignments, calls, env writes, dicts and defaults."""
    names = ("settings", "clients", "pipeline", "tasks", "db", "auth", "inference", "export")
    negatives = c.deal("py-negatives", n, 6, tuple(str(r) for r in range(PY_NEGATIVES)))
    for i, kinds in enumerate(c.deal("py", n, 6)):
        svc = SERVICES[i % len(SERVICES)]
        doc = c.doc(_name(f"services/{svc}/app/", names, i // len(SERVICES)) + ".py", "py")
        g = doc.g
        blocks = [render_py(doc, k) for k in kinds]
        blocks += [py_negative(doc, int(r)) for r in negatives[i]]
        blocks += [py_block(g) for _ in range(6)]
        if i % 3 == 0:
            p = g.person()
            blocks.append(
                [
                    "SAMPLE_CUSTOMER = {",
                    f'    "name": "{doc.mark(p.name, "person-name")}",',
                    f'    "email": "{doc.mark(p.email, "email")}",',
                    f'    "phone": "{doc.mark(p.phone, "phone-number")}",',
                    f'    "dob": "{doc.mark(p.dob, "date-of-birth")}",',
                    "}",
                ]
            )
        c.write(doc, "\n".join(py_header(g)) + "\n" + _join_blocks(g, blocks) + "\n")


def build_env(c: Corpus, n: int) -> None:
    """``.env`` files: unquoted, quoted and exported values, references and placeholders."""
    suffixes = (".env", ".env.production", ".env.staging", ".env.local")
    for i, kinds in enumerate(c.deal("env", n, 6)):
        svc = SERVICES[i % len(SERVICES)]
        doc = c.doc(
            f"services/{svc}/" + _name("", suffixes, i // len(SERVICES)).replace("_", "."), "env"
        )
        g = doc.g
        lines = [["DEBUG=false", f"LOG_LEVEL={g.pick(('info', 'debug'))}", "PORT=8080"]]
        lines += [render_env(doc, k) for k in kinds]
        ref_name = env_name(g, g.pick(CYCLE_KINDS))
        lines += [
            [f"{ref_name}={env_ref(doc, 'shell', ref_name)}"],
            [f"SECRET_KEY={neg(doc, 'placeholder-key')}"],
            [f"HOST={doc.neg('reserved-ip', '0.0.0.0')}"],
            [f"ADMIN_EMAIL={doc.pii('email')}"],
            [f'ONCALL_PHONE="{doc.pii("phone-number")}"'],
            [f"ALLOWED_IPS={doc.pii('ipv4')},{doc.pii('ipv4')}"],
            [f"MODEL_NAME={g.pick(MODELS)}", f"WORKERS={g.rng.randint(1, 16)}"],
        ]
        c.write(
            doc,
            f"# {svc} settings, copied from the team vault\n"
            + _join_blocks(g, lines, sep="\n")
            + "\n",
        )


def build_k8s(c: Corpus, n: int) -> None:
    """Kubernetes Secret + Deployment manifests (stringData, data, container env)."""
    for i, kinds in enumerate(c.deal("k8s", n, 4)):
        svc = SERVICES[i % len(SERVICES)]
        doc = c.doc(
            _name(f"deploy/k8s/{svc}/", ("manifests", "secrets", "release"), i // len(SERVICES))
            + ".yaml",
            "yaml",
        )
        g = doc.g
        env = g.pick(("prod", "staging"))
        lines = [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            f"  name: {svc}-credentials",
            f"  namespace: ml-{env}",
            "type: Opaque",
            "data:",
            f"  db-password: {doc.secret('kubernetes-secret-data')}",
            f"  api-token: {doc.secret('kubernetes-secret-data')}",
            "stringData:",
        ]
        for k in kinds[:2]:
            lines += render_yaml(doc, k)
        lines += [
            "---",
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            f"  name: {svc}",
            "  labels:",
            f"    app: {svc}",
            "spec:",
            f"  replicas: {g.rng.randint(1, 6)}",
            "  selector:",
            "    matchLabels:",
            f"      app: {svc}",
            "  template:",
            "    metadata:",
            "      labels:",
            f"        app: {svc}",
            "    spec:",
            "      containers:",
            f"        - name: {svc}",
            f"          image: ghcr.io/{g.pick(COMPANIES)}/{svc}@sha256:{neg(doc, 'sha256-digest')}",
            "          ports:",
            "            - containerPort: 8080",
            "          env:",
            "            - name: LOG_LEVEL",
            "              value: info",
        ]
        for k in kinds[2:]:
            lines += render_yaml(doc, k, indent="            ", k8s_env=True)
        lines += [
            "            - name: OPENAI_API_KEY",
            "              valueFrom:",
            "                secretKeyRef:",
            f"                  name: {svc}-credentials",
            "                  key: openai-api-key",
            "            - name: HELM_API_KEY",
            f'              value: "{env_ref(doc, "helm", "HELM_API_KEY")}"',
        ]
        c.write(doc, "\n".join(lines) + "\n")


def build_ci(c: Corpus, n: int) -> None:
    """CI configs: GitHub Actions (``${{ secrets.X }}``, pinned SHAs) and GitLab CI."""
    for i, kinds in enumerate(c.deal("ci", n, 3)):
        svc = SERVICES[i % len(SERVICES)]
        if i % 2 == 0:
            doc = c.doc(
                _name(".github/workflows/", tuple(f"{s}-ci" for s in SERVICES), i // 2) + ".yml",
                "yaml",
            )
            lines = [
                f"name: {svc}-ci",
                "on:",
                "  push:",
                "    branches: [main]",
                "jobs:",
                "  test:",
                "    runs-on: ubuntu-latest",
                "    env:",
                f"      HF_TOKEN: {env_ref(doc, 'gha', 'HF_TOKEN')}",
            ]
            for k in kinds:
                lines += render_yaml(doc, k, indent="      ")
            lines += [
                "    steps:",
                f"      - uses: actions/checkout@{neg(doc, 'git-sha')} # v4",
                f"      - uses: actions/setup-python@{neg(doc, 'git-sha')} # v5",
                "        with:",
                '          python-version: "3.11"',
                "      - run: pip install -r requirements.txt",
                "      - run: pytest -q",
                "      - name: publish",
                "        run: twine upload dist/*",
                "        env:",
                f"          TWINE_PASSWORD: {env_ref(doc, 'gha', 'PYPI_API_TOKEN')}",
            ]
        else:
            doc = c.doc(_name(f"services/{svc}/", (".gitlab-ci",), i // 2) + ".yml", "yaml")
            lines = [
                "stages: [test, deploy]",
                "variables:",
                '  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"',
            ]
            for k in kinds:
                lines += render_yaml(doc, k)
            lines += [
                "test:",
                f"  image: python:3.11-slim@sha256:{neg(doc, 'sha256-digest')}",
                "  script:",
                "    - pip install -r requirements.txt",
                "    - pytest -q",
                "deploy:",
                "  script:",
                f'    - echo "{env_ref(doc, "gitlab")}" | docker login -u ci --password-stdin registry.gitlab.com',
            ]
        c.write(doc, "\n".join(lines) + "\n")


def build_json_configs(c: Corpus, n: int) -> None:
    """JSON configs with nested secrets, plus lock files full of integrity hashes."""
    for i, kinds in enumerate(c.deal("json", n, 5)):
        svc = SERVICES[i % len(SERVICES)]
        doc = c.doc(
            _name(
                f"services/{svc}/config/",
                ("production", "appsettings", "providers", "local"),
                i // len(SERVICES),
            )
            + ".json",
            "json",
        )
        g = doc.g
        providers: dict[str, object] = {}
        for k in kinds:
            key = env_name(g, k).lower()
            providers[key] = gcp_info(doc) if k == "gcp-service-account-key" else doc.secret(k)
        p = g.person()
        cfg = {
            "service": svc,
            "environment": g.pick(("production", "staging")),
            "listen": {"host": doc.neg("reserved-ip", "0.0.0.0"), "port": 8080},
            "credentials": providers,
            "build": {
                "commit": neg(doc, "git-sha"),
                "image_digest": "sha256:" + neg(doc, "sha256-digest"),
            },
            "owner": {"name": doc.mark(p.name, "person-name"), "email": doc.mark(p.email, "email")},
            "features": {
                "streaming": True,
                "max_tokens": g.rng.choice((1024, 4096)),
                "model": g.pick(MODELS),
            },
            "placeholders": {"example_api_key": neg(doc, "placeholder-key")},
        }
        c.write(doc, json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
        if i % 4 == 0:
            lock = c.doc(
                f"web/{svc}-console/package-lock.json"
                if i < 28
                else f"web/{svc}-console-{i}/package-lock.json",
                "json",
            )
            packages: dict[str, object] = {"": {"name": f"{svc}-console", "version": "1.0.0"}}
            for _ in range(15):
                name = f"{lock.g.word()}-{lock.g.pick(('utils', 'core', 'react', 'parser'))}"
                ver = f"{lock.g.rng.randint(0, 9)}.{lock.g.rng.randint(0, 20)}.{lock.g.rng.randint(0, 30)}"
                packages[f"node_modules/{name}"] = {
                    "version": ver,
                    "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{ver}.tgz",
                    "integrity": lock.neg(
                        "integrity-hash", "sha512-" + b64(hashlib.sha512(lock.g.raw(16)).digest())
                    ),
                }
            doc_lock = {
                "name": f"{svc}-console",
                "lockfileVersion": 3,
                "requires": True,
                "packages": packages,
            }
            c.write(lock, json.dumps(doc_lock, indent=2, ensure_ascii=False) + "\n")


def build_gcp(c: Corpus, n: int) -> None:
    """GCP service-account key files, as downloaded from the console."""
    for i in range(n):
        doc = c.doc(f"credentials/{COMPANIES[i % len(COMPANIES)]}-sa-{i}.json", "json")
        c.write(doc, json.dumps(gcp_info(doc), indent=2, ensure_ascii=False) + "\n")


_NB_TITLES = (
    "LLM playground",
    "Customer churn EDA",
    "Fine-tuning run",
    "RAG evaluation",
    "Support ticket triage",
    "Embedding drift",
)


def build_notebooks(c: Corpus, n: int) -> None:
    """Jupyter notebooks with secrets in code, markdown and every kind of output."""
    for i, kinds in enumerate(c.deal("nb", n, 6)):
        title = _NB_TITLES[i % len(_NB_TITLES)]
        slug = title.lower().replace(" ", "_")
        doc = c.doc(f"notebooks/{i:02d}_{slug}.ipynb", "nb-code")
        g = doc.g
        count = 0
        cells = [markdown_cell(doc, f"# {title}\n\n" + " ".join(prose(g, 2)))]
        cells.append(
            code_cell(
                doc,
                "import os\nimport json\nimport pandas as pd\nimport matplotlib.pyplot as plt",
                [],
                count := count + 1,
            )
        )
        body: list[dict[str, object]] = []
        for k in kinds[:3]:
            out = [stream("client ready\n")] if g.rng.random() < 0.3 else []
            body.append(code_cell(doc, render_nb_code(doc, k), out, count := count + 1))
        for k in kinds[3:5]:
            src, outs = render_nb_output(doc, k, count := count + 1)
            body.append(code_cell(doc, src, outs, count))
        body.append(markdown_cell(doc, render_nb_markdown(doc, kinds[5])))
        if i % 3 != 2:
            people = [g.person() for _ in range(5)]
            cols = g.rng.sample(
                ["name", "email", "phone", "dob", "card_number", "iban", "address", "ip", "mrn"], 4
            )
            body.append(
                code_cell(
                    doc,
                    'df = pd.read_csv("data/customers.csv")\ndf.head()',
                    [dataframe_outputs(doc, people, cols, count := count + 1)],
                    count,
                )
            )
        png = b64(png_bytes(g))
        plot = display_data(
            {
                "image/png": doc.neg("png-base64", png, "nb-output") + "\n",
                "text/plain": "<Figure size 640x480 with 1 Axes>",
            }
        )
        body.append(
            code_cell(doc, 'df["latency_ms"].hist(bins=50)\nplt.show()', [plot], count := count + 1)
        )
        body.append(
            code_cell(
                doc,
                "trainer.train()",
                [stream("\n".join(log_line(g) for _ in range(6)) + "\n", "stderr")],
                count := count + 1,
            )
        )
        if i % 4 == 1:
            p = g.person()
            body.append(
                markdown_cell(
                    doc,
                    f"Data owner: {doc.mark(p.name, 'person-name', 'nb-markdown')} ({doc.mark(p.email, 'email', 'nb-markdown')})",
                )
            )
        g.rng.shuffle(body)
        c.write(doc, notebook_text(doc, cells + body), notebook=True)


def _table(doc: Doc, header: list[str], rows: list[list[str]], delimiter: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def build_tables(c: Corpus, n_csv: int, n_tsv: int, rows: int = 15) -> None:
    """CSV/TSV exports with PII columns, a validation fixture of negatives, a key inventory."""
    schemas = ("customers", "patients", "devices", "payouts", "employees")
    for i in range(n_csv + n_tsv):
        ext, ctx, delim = ("csv", "csv", ",") if i < n_csv else ("tsv", "tsv", "\t")
        schema = schemas[i % len(schemas)]
        doc = c.doc(f"data/exports/{schema}_{i:02d}.{ext}", ctx)
        g = doc.g
        body: list[list[str]] = []
        if schema == "customers":
            header = [
                "customer_id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "date_of_birth",
                "national_id",
                "address",
                "card_number",
                "iban",
                "signup_date",
                "plan",
            ]
            for _ in range(rows):
                p = g.person()
                body.append(
                    [
                        neg(doc, "uuid"),
                        doc.mark(p.first, "person-name"),
                        doc.mark(p.last, "person-name"),
                        doc.mark(p.email, "email"),
                        doc.mark(p.phone, "phone-number"),
                        doc.mark(p.dob, "date-of-birth"),
                        doc.mark(p.national_id[1], p.national_id[0]),
                        doc.mark(p.address, "postal-address"),
                        doc.mark(p.card, "credit-card"),
                        doc.mark(p.iban, "iban"),
                        timestamp(g)[:10],
                        g.pick(("free", "pro", "team")),
                    ]
                )
        elif schema == "patients":
            header = [
                "patient_id",
                "full_name",
                "mrn",
                "nhs_number",
                "dob",
                "passport_number",
                "phone",
                "email",
                "address",
                "last_visit",
            ]
            for _ in range(rows):
                p = g.person()
                body.append(
                    [
                        str(g.rng.randint(10000, 99999)),
                        doc.mark(p.name, "person-name"),
                        doc.mark(p.mrn, "medical-record-number"),
                        doc.mark(g.nhs(), "uk-nhs-number"),
                        doc.mark(p.dob, "date-of-birth"),
                        doc.mark(p.passport, "passport-number"),
                        doc.mark(p.phone, "phone-number"),
                        doc.mark(p.email, "email"),
                        doc.mark(p.address, "postal-address"),
                        timestamp(g)[:10],
                    ]
                )
        elif schema == "devices":
            header = ["hostname", "owner", "mac_address", "ipv4", "ipv6", "os_build", "last_seen"]
            for _ in range(rows):
                body.append(
                    [
                        f"ml-{g.pick(('gpu', 'cpu', 'edge'))}-{g.rng.randint(1, 99):02d}",
                        doc.pii("email"),
                        doc.pii("mac-address"),
                        doc.pii("ipv4"),
                        doc.pii("ipv6"),
                        neg(doc, "version-string"),
                        timestamp(g),
                    ]
                )
        elif schema == "payouts":
            header = ["payee", "wallet", "iban", "amount", "currency"]
            for _ in range(rows):
                wallet = (
                    doc.pii("bitcoin-address")
                    if g.rng.random() < 0.5
                    else doc.pii("ethereum-address")
                )
                body.append(
                    [
                        doc.pii("person-name"),
                        wallet,
                        doc.pii("iban"),
                        f"{g.rng.randint(10, 5000)}.{g.rng.randint(0, 99):02d}",
                        g.pick(("EUR", "GBP", "USD")),
                    ]
                )
        else:
            header = [
                "employee_id",
                "name",
                "national_insurance",
                "ssn",
                "email",
                "phone",
                "home_address",
                "start_date",
            ]
            for _ in range(rows):
                p = g.person()
                uk = p.country == "UK"
                body.append(
                    [
                        f"E{g.rng.randint(1000, 9999)}",
                        doc.mark(p.name, "person-name"),
                        doc.pii("uk-nino") if uk else "",
                        "" if uk else doc.pii("us-ssn"),
                        doc.mark(p.email, "email"),
                        doc.mark(p.phone, "phone-number"),
                        doc.mark(p.address, "postal-address"),
                        timestamp(g)[:10],
                    ]
                )
        c.write(doc, _table(doc, header, body, delim))
    doc = c.doc("tests/fixtures/validation_cases.csv", "csv")
    g = doc.g
    body = []
    for j in range(18):
        field_name, kind = (
            ("card_number", "luhn-invalid-card"),
            ("iban", "bad-checksum-iban"),
            ("ssn", "invalid-ssn"),
        )[j % 3]
        body.append([f"case-{j:03d}", field_name, neg(doc, kind), "reject"])
    c.write(doc, _table(doc, ["case_id", "field", "input", "expected"], body, ","))
    for ext, delim in (("csv", ","), ("tsv", "\t")):
        doc = c.doc(f"data/inventory/api_keys.{ext}", ext)
        g = doc.g
        body = []
        for k in c.deal(f"inventory-{ext}", 1, 10, SINGLE_LINE_KINDS)[0]:
            body.append([g.pick(SERVICES), env_name(g, k), doc.secret(k), timestamp(g)[:10]])
        c.write(doc, _table(doc, ["service", "env_var", "value", "rotated_at"], body, delim))


_BENIGN_PROMPTS = (
    "Write a haiku about autumn leaves.",
    "Explain gradient checkpointing in two sentences.",
    "Summarise the attached design doc in five bullet points.",
    "Translate 'good morning' into French and German.",
    "What is the difference between a process and a thread?",
    "Give me a regex that matches ISO dates.",
    "Refactor this function to use a list comprehension.",
    "List three ways to reduce LLM inference latency.",
)


def build_jsonl(c: Corpus, n: int, lines: int = 200) -> None:
    """LLM-gateway request logs: prompts and responses leaking secrets and PII."""
    for i, kinds in enumerate(c.deal("jsonl", n, 8)):
        doc = c.doc(f"logs/gateway/requests-2025-03-{i + 1:02d}.jsonl", "jsonl")
        g = doc.g
        secret_at = sorted(g.rng.sample(range(lines), len(kinds)))
        pii_at = set(g.rng.sample([j for j in range(lines) if j not in secret_at], 16))
        out = []
        for j in range(lines):
            response = g.pick(
                (
                    "Sure, here you go.",
                    "Here is a summary of the document.",
                    "I cannot help with that request.",
                    " ".join(prose(g, 2)),
                )
            )
            if j in secret_at:
                prompt = render_fragment(doc, kinds[secret_at.index(j)], "jsonl")
            elif j in pii_at:
                if g.rng.random() < 0.5:
                    prompt = "Please update my account. " + person_sentence(doc, g.person())
                else:
                    kind = g.pick(tuple(PII_FAMILY))
                    prompt = f"Can you check why my order failed? {pii_phrase(doc, kind)}"
                if g.rng.random() < 0.4:
                    response = f"Thanks, I have updated the address to {doc.pii('postal-address')}."
            else:
                prompt = g.pick(_BENIGN_PROMPTS)
            rec: dict[str, object] = {
                "ts": timestamp(g),
                "request_id": neg(doc, "uuid"),
                "route": "/v1/chat/completions",
                "model": g.pick(MODELS),
                "user": f"u_{g.rng.randint(1000, 99999)}",
                "status": 200,
                "latency_ms": g.rng.randint(80, 9000),
                "usage": {
                    "prompt_tokens": g.rng.randint(10, 3000),
                    "completion_tokens": g.rng.randint(5, 800),
                },
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": prompt},
                ],
                "response": response,
            }
            if g.rng.random() < 0.3:
                rec["client_ip"] = doc.pii("ipv4") if g.rng.random() < 0.8 else doc.pii("ipv6")
            out.append(json.dumps(rec, ensure_ascii=False))
        c.write(doc, "\n".join(out) + "\n")


def build_dockerfiles(c: Corpus, n: int) -> None:
    """Dockerfiles that bake secrets in with ENV/ARG/RUN, pinned by digest."""
    for i, kinds in enumerate(c.deal("dockerfile", n, 3)):
        svc = SERVICES[i % len(SERVICES)]
        doc = c.doc(
            f"services/{svc}/Dockerfile" if i < len(SERVICES) else f"docker/{svc}-{i}.Dockerfile",
            "dockerfile",
        )
        g = doc.g
        p = g.person()
        lines = [
            f"FROM python:3.11-slim@sha256:{neg(doc, 'sha256-digest')}",
            f'LABEL maintainer="{doc.mark(p.name, "person-name")} <{doc.mark(p.email, "email")}>"',
            "WORKDIR /app",
        ]
        for k in kinds:
            lines += render_dockerfile(doc, k)
        lines += [
            "COPY requirements.txt .",
            "RUN pip install --no-cache-dir -r requirements.txt",
            "COPY . .",
            f"ENV PORT=8080 HOST={doc.neg('reserved-ip', '0.0.0.0')}",
            f"ARG API_KEY={neg(doc, 'placeholder-key')}"
            if g.rng.random() < 0.5
            else f"ARG HF_TOKEN={env_ref(doc, 'shell', 'HF_TOKEN')}",
            "EXPOSE 8080",
            'CMD ["uvicorn", "app.main:app", "--port", "8080"]',
        ]
        c.write(doc, "\n".join(lines) + "\n")


def build_shell(c: Corpus, n: int) -> None:
    """Shell scripts: exports, curl headers, clone URLs, heredoc keys, checksums."""
    names = ("deploy", "bootstrap", "rotate", "backup", "release", "sync-models")
    for i, kinds in enumerate(c.deal("shell", n, 5)):
        doc = c.doc(_name("scripts/", names, i) + ".sh", "shell")
        g = doc.g
        p = g.person()
        blocks = [render_shell(doc, k) for k in kinds]
        blocks += [
            [f': "{env_ref(doc, "shell-required")}"'],
            [f'echo "{neg(doc, "sha256-digest")}  model.safetensors" | sha256sum -c -'],
            [f"git checkout {neg(doc, 'git-sha')}"],
            [f"ssh deploy@{doc.pii('ipv4')} 'sudo systemctl restart {g.pick(SERVICES)}'"],
            [
                f'git config user.name "{doc.mark(p.name, "person-name")}"',
                f'git config user.email "{doc.mark(p.email, "email")}"',
            ],
            [
                "python -m pip install -r requirements.txt",
                f"python -m {g.pick(SERVICES).replace('-', '_')}.main --workers {g.rng.randint(1, 8)}",
            ],
        ]
        c.write(doc, "#!/usr/bin/env bash\nset -euo pipefail\n\n" + _join_blocks(g, blocks) + "\n")


def build_toml(c: Corpus, n: int) -> None:
    """TOML: pyproject authors, Streamlit secrets.toml, app config with versions."""
    for i, kinds in enumerate(c.deal("toml", n, 4)):
        svc = SERVICES[i % len(SERVICES)]
        g0 = i % 3
        path = (
            f"services/{svc}/pyproject.toml",
            f"services/{svc}/.streamlit/secrets.toml",
            f"services/{svc}/config.toml",
        )[g0]
        if i >= 3 * len(SERVICES):
            path = path.replace(".toml", f"_{i}.toml")
        doc = c.doc(path, "toml")
        g = doc.g
        p = g.person()
        if g0 == 0:
            lines = [
                "[project]",
                f'name = "{svc}-service"',
                'version = "0.4.1"',
                f'authors = [{{ name = "{doc.mark(p.name, "person-name")}", email = "{doc.mark(p.email, "email")}" }}]',
                'dependencies = ["torch>=2.3", "transformers>=4.44", "fastapi>=0.110"]',
                "",
                "[[tool.uv.index]]",
                'name = "internal"',
                f'url = "https://pypi.{g.pick(COMPANIES)}.internal/simple"',
                "",
                f"[tool.{svc.replace('-', '_')}]",
            ]
        elif g0 == 1:
            lines = ["# Streamlit secrets", "[connections]"]
        else:
            lines = [
                "[server]",
                f'host = "{doc.neg("reserved-ip", "0.0.0.0")}"',
                "port = 8080",
                "",
                "[build]",
                f'driver_version = "{neg(doc, "version-string")}"',
                f'weights_sha256 = "{neg(doc, "sha256-digest")}"',
                "",
                "[auth]",
                f'example_token = "{neg(doc, "placeholder-key")}"',
            ]
        for k in kinds:
            lines += render_toml(doc, k)
        c.write(doc, "\n".join(lines) + "\n")


def build_text(c: Corpus, n: int) -> None:
    """Markdown runbooks and plain-text tickets and access logs."""
    for i, kinds in enumerate(c.deal("text", n, 3)):
        svc = SERVICES[i % len(SERVICES)]
        style = i % 3
        g_path = (
            f"docs/runbook-{svc}.md",
            f"tickets/ticket-{4100 + i}.txt",
            f"logs/nginx/access-{i:02d}.log",
        )[style]
        if i >= 3 * len(SERVICES):
            g_path = g_path.replace(".", f"-{i}.", 1)
        doc = c.doc(g_path, "text")
        g = doc.g
        if style == 0:
            p = g.person()
            lines = [
                f"# {svc} runbook",
                "",
                *prose(g, 3),
                "",
                "## Credentials",
                "",
                "Set the keys in the environment, never in code:",
                "",
                "```bash",
                f"export OPENAI_API_KEY={neg(doc, 'placeholder-key')}",
                f"export AWS_ACCESS_KEY_ID={doc.neg('placeholder-key', 'AKIAIOSFODNN7EXAMPLE')}",
                "```",
                "",
                "Temporary values used during the incident (to be rotated):",
                "",
            ]
            lines += [render_fragment(doc, k, "text") for k in kinds]
            lines += [
                "",
                "## Escalation",
                "",
                f"On call: {doc.mark(p.name, 'person-name')}, {doc.mark(p.phone, 'phone-number')}, {doc.mark(p.email, 'email')}",
                "",
                f"Dashboards: {neg_url(doc)}",
                f"Health check: curl http://{doc.neg('reserved-ip', '127.0.0.1')}:8080/healthz",
                f"Encoded banner for the status page: `{neg(doc, 'base64-text')}`",
                "",
            ]
        elif style == 1:
            lines = [f"Ticket #{4100 + i} - {g.pick(('billing', 'account', 'data request'))}", ""]
            for _ in range(g.rng.randint(5, 9)):
                lines.append(person_sentence(doc, g.person()))
                lines.append(g.pick(_PROSE))
            lines += [render_fragment(doc, k, "text") for k in kinds]
        else:
            lines = []
            for _ in range(40):
                ip = doc.pii("ipv4") if g.rng.random() < 0.85 else doc.pii("ipv6")
                lines.append(
                    f"{ip} - - [14/Mar/2025:{g.rng.randint(0, 23):02d}:{g.rng.randint(0, 59):02d}:{g.rng.randint(0, 59):02d} +0000] "
                    f'"POST /v1/{g.word()}s HTTP/1.1" {g.pick(("200", "200", "401", "429"))} {g.rng.randint(200, 9000)} "-" "python-requests/2.32.3"'
                )
            lines += [
                "# leaked in a debug line:",
                *[
                    render_fragment(doc, k, "text").replace("\n", " ")
                    for k in kinds
                    if k not in MULTILINE
                ],
            ]
        c.write(doc, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------
# Bulk files for throughput runs
# --------------------------------------------------------------------------------------

_BULK_TYPES = (
    ("logs", "log", "text"),
    ("gateway", "jsonl", "jsonl"),
    ("src", "py", "py"),
    ("metrics", "csv", "csv"),
)


def _bulk_filler(g: Gen, ext: str) -> list[str]:
    if ext == "log":
        return [log_line(g) for _ in range(3000)]
    if ext == "py":
        return [line for _ in range(800) for line in py_block(g)]
    if ext == "csv":
        return [
            f"{timestamp(g)},{g.rng.randint(1, 10**6)},{g.rng.random() * 3:.5f},{g.rng.random():.4f},"
            for _ in range(3000)
        ]
    return [
        json.dumps(
            {
                "ts": timestamp(g),
                "route": "/v1/chat/completions",
                "model": g.pick(MODELS),
                "status": 200,
                "latency_ms": g.rng.randint(80, 9000),
                "messages": [{"role": "user", "content": g.pick(_BENIGN_PROMPTS)}],
                "response": " ".join(prose(g, 3)),
            }
        )
        for _ in range(2000)
    ]


def _bulk_labelled(doc: Doc, ext: str) -> str:
    g = doc.g
    is_secret = g.rng.random() < 0.6
    kind = g.pick(SINGLE_LINE_KINDS) if is_secret else g.pick(tuple(PII_FAMILY))
    if ext == "py":
        return render_py(doc, kind)[0] if is_secret else f'CONTACT = "{doc.pii(kind)}"'
    if ext == "log":
        text = render_fragment(doc, kind, "text") if is_secret else pii_phrase(doc, kind)
        return f"{timestamp(g)} ERROR {g.pick(SERVICES)}.client {text.replace(chr(10), ' ')}"
    if ext == "csv":
        buf = io.StringIO()
        note = doc.secret(kind) if is_secret else pii_phrase(doc, kind)
        csv.writer(buf, lineterminator="").writerow(
            [
                timestamp(g),
                g.rng.randint(1, 10**6),
                f"{g.rng.random() * 3:.5f}",
                f"{g.rng.random():.4f}",
                note,
            ]
        )
        return buf.getvalue()
    prompt = (
        render_fragment(doc, kind, "jsonl")
        if is_secret
        else f"Please fix my profile: {pii_phrase(doc, kind)}"
    )
    return json.dumps(
        {
            "ts": timestamp(g),
            "route": "/v1/chat/completions",
            "model": g.pick(MODELS),
            "status": 200,
            "messages": [{"role": "user", "content": prompt}],
        },
        ensure_ascii=False,
    )


def build_bulk(c: Corpus, target_mb: float, file_mb: float = 4.0) -> None:
    """Large low-density files until the tree holds about ``target_mb`` MB more."""
    target = int(target_mb * 1e6)
    done, i = 0, 0
    while done < target:
        folder, ext, ctx = _BULK_TYPES[i % len(_BULK_TYPES)]
        doc = c.doc(f"bulk/{folder}/part-{i:04d}.{ext}", ctx)
        g = doc.g
        pool = _bulk_filler(g, ext)
        avg = sum(len(x) + 1 for x in pool) / len(pool)
        size = min(file_mb * 1e6, target - done + 1)
        k = max(1, int(size / avg))
        lines = g.rng.choices(pool, k=k)
        if ext == "csv":
            lines[0] = "ts,step,loss,accuracy,note"
        for j in g.rng.sample(range(1, k), min(k - 1, max(1, int(size / 40_000)))):
            lines[j] = _bulk_labelled(doc, ext)
        c.write(doc, "\n".join(lines) + "\n")
        done += c.sizes[doc.path]
        i += 1


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def build(out: Path, seed: int = 7, scale: int = 1, target_mb: float = 0) -> dict[str, Any]:
    """Generate the corpus under ``out``; return its statistics."""
    c = Corpus(out, seed)
    s = max(1, scale)
    build_python(c, 24 * s)
    build_env(c, 12 * s)
    build_k8s(c, 8 * s)
    build_ci(c, 6 * s)
    build_json_configs(c, 8 * s)
    build_gcp(c, 4 * s)
    build_notebooks(c, 16 * s)
    build_tables(c, 6 * s, 4 * s)
    build_jsonl(c, 8 * s)
    build_dockerfiles(c, 6 * s)
    build_shell(c, 8 * s)
    build_toml(c, 6 * s)
    build_text(c, 9 * s)
    base_bytes = sum(c.sizes.values())
    if target_mb > 0:
        build_bulk(c, target_mb)
    c.labels.sort(key=lambda lab: (str(lab["file"]), int(lab["line"]), int(lab["col"])))
    (out / "labels.json").write_text(
        "[\n" + ",\n".join(json.dumps(lab, ensure_ascii=False) for lab in c.labels) + "\n]\n",
        encoding="utf-8",
    )
    (out / "contexts.json").write_text(
        json.dumps(dict(sorted(c.contexts.items())), indent=0) + "\n", encoding="utf-8"
    )
    per_kind: dict[str, dict[str, int]] = {}
    for cat in ("secret", "pii", "negative"):
        counts = Counter(str(lab["kind"]) for lab in c.labels if lab["category"] == cat)
        per_kind[cat] = dict(sorted(counts.items()))
    stats = {
        "seed": seed,
        "scale": scale,
        "target_mb": target_mb,
        "files": len(c.sizes),
        "bytes": sum(c.sizes.values()),
        "base_bytes": base_bytes,
        "labels": {cat: sum(v.values()) for cat, v in per_kind.items()},
        "kinds": per_kind,
        "contexts": dict(
            sorted(
                Counter(
                    str(lab["context"]) for lab in c.labels if lab["category"] != "negative"
                ).items()
            )
        ),
    }
    (out / "corpus.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return stats


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder (tree/ and labels.json go here)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale", type=int, default=1, help="multiply the number of files of every type"
    )
    parser.add_argument(
        "--target-mb",
        type=float,
        default=0,
        help="add low-density bulk files up to about this many MB",
    )
    args = parser.parse_args()
    tree = args.out / "tree"
    if tree.exists():
        import shutil

        shutil.rmtree(tree)
    args.out.mkdir(parents=True, exist_ok=True)
    stats = build(args.out, args.seed, args.scale, args.target_mb)
    print(
        f"{stats['files']} files, {int(stats['bytes']) / 1e6:.1f} MB, labels: "
        + ", ".join(f"{k} {v}" for k, v in stats["labels"].items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Every secret rule: strings it must find, and look-alikes it must leave alone.

Tokens are generated here from a seeded RNG in each provider's published format, so
the repository holds no credential-shaped literals.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib

import pytest

from ramparts.privacy.interface import redact
from ramparts.privacy.secret_rules import RULES
from ramparts.privacy.secrets import SecretDetector, github_checksum_ok, shannon_entropy

_RNG = random.Random(20261201)  # noqa: S311 - reproducible test data, not keys
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
UPPER_B32 = string.ascii_uppercase + "234567"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


def r(alphabet: str, n: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def github(prefix: str) -> str:
    body = r(ALNUM, 30)
    crc = zlib.crc32(body.encode()) & 0xFFFFFFFF
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while crc:
        crc, rem = divmod(crc, 62)
        out = digits[rem] + out
    return f"{prefix}_{body}{out.rjust(6, '0')}"


def pem(label: str) -> str:
    lines = "\n".join(r(B64, 64) for _ in range(4))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def jwt() -> str:
    def seg(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{seg({'alg': 'HS256', 'typ': 'JWT'})}.{seg({'sub': r(ALNUM, 8)})}.{r(URLSAFE, 43)}"


AKID = "AKIA" + r(UPPER_B32, 16)
AWS_SECRET = r(B64, 40)
OPENAI = "sk-proj-" + r(URLSAFE, 74) + "T3BlbkFJ" + r(URLSAFE, 74)
DB_PASSWORD = r(ALNUM, 14)

# kind -> (texts with exactly that secret, texts with none)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "gcp-service-account-key": (
        [
            '{"type": "service_account", "private_key": "'
            + pem("PRIVATE KEY").replace("\n", "\\n")
            + '\\n"}'
        ],
        ['{"private_key": ""}'],
    ),
    "private-key": (
        [pem("RSA PRIVATE KEY"), pem("EC PRIVATE KEY"), pem("PRIVATE KEY")],
        ["-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", pem("PUBLIC KEY")],
    ),
    "openssh-private-key": ([pem("OPENSSH PRIVATE KEY")], ["ssh-rsa " + r(B64, 60) + " user@host"]),
    "pgp-private-key": ([pem("PGP PRIVATE KEY BLOCK")], [pem("PGP PUBLIC KEY BLOCK")]),
    "putty-private-key": (
        ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k"],
        ["PuTTY-User-Key-File is a format"],
    ),
    "aws-access-key-id": (
        [f"aws_access_key_id = {AKID}", f'"AccessKeyId": "{AKID}"', f"key={AKID}\\n"],
        ["AKIAIOSFODNN7EXAMPLE", "AKIA" + r(UPPER_B32, 12), "XAKIA" + r(UPPER_B32, 16)],
    ),
    "aws-secret-access-key": (
        [f"aws_secret_access_key = {AWS_SECRET}", f'"SecretAccessKey": "{AWS_SECRET}"'],
        [
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            f"data = {AWS_SECRET}",
        ],
    ),
    "aws-session-token": (
        ["aws_session_token = " + r(B64, 300)],
        ["aws_session_token = ${AWS_SESSION_TOKEN}"],
    ),
    "google-api-key": (
        ["key = AIza" + r(URLSAFE, 35), 'genai.configure(api_key="AIza' + r(URLSAFE, 35) + '")'],
        ["AIza" + r(URLSAFE, 20)],
    ),
    "google-oauth-client-secret": (["GOCSPX-" + r(URLSAFE, 28)], ["GOCSPX-short"]),
    "google-oauth-token": (["Authorization: Bearer ya29." + r(URLSAFE, 120)], ["ya29.x"]),
    "azure-storage-account-key": (
        [
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
            + r(B64, 86)
            + "==;EndpointSuffix=core.windows.net",
            'export AZURE_STORAGE_KEY="' + r(B64, 86) + '=="',
            "feature-store\tAZURE_STORAGE_ACCOUNT_KEY\t" + r(B64, 86) + "==\t2025-03-25",
            'StorageSharedKeyCredential("mlartifacts", "' + r(B64, 86) + '==")',
        ],
        ["AccountKey=<your-key>", "blob = " + r(B64, 86) + "=="],
    ),
    "cli-password": (
        ["mysql -h db.internal -u admin -p'" + r(ALNUM, 20) + "' -e 'show databases'"],
        ["mysql -h db -u admin -p -e 'select 1'", "mysql -u root -p$MYSQL_PWD"],
    ),
    "kubernetes-env-secret": (
        ['        - name: PAYMENTS_API_KEY\n          value: "' + r(ALNUM, 40) + '"'],
        ["        - name: LOG_LEVEL\n          value: debug", "- name: API_KEY\n  value: changeme"],
    ),
    "azure-sas-token": (
        [
            "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-01-01"
            "&sig=" + r(ALNUM, 43) + "%3D"
        ],
        ["https://example.com/?sig=abc"],
    ),
    "azure-ad-client-secret": (["client_secret = abc8Q~" + r(URLSAFE, 34)], ["Q~"]),
    "azure-openai-key": (
        ["AZURE_OPENAI_API_KEY=" + r(HEX, 32)],
        ["AZURE_OPENAI_API_KEY=" + "0" * 32, "azure_api_version = 2024-02-01"],
    ),
    "digitalocean-token": (["DO_TOKEN=dop_v1_" + r(HEX, 64)], ["dop_v1_" + r(HEX, 10)]),
    "alibaba-access-key-id": (["LTAI" + r(ALNUM, 20)], ["LTAI" + r(ALNUM, 5)]),
    "heroku-api-key": (
        ["HEROKU_API_KEY=6d4a2f1e-8c3b-4a5d-9e7f-1b2c3d4e5f60"],
        ["request_id = 6d4a2f1e-8c3b-4a5d-9e7f-1b2c3d4e5f60"],
    ),
    "hashicorp-vault-token": (["VAULT_TOKEN=hvs." + r(URLSAFE, 95)], ["hvs.short"]),
    "terraform-cloud-token": ([r(ALNUM, 14) + ".atlasv1." + r(URLSAFE, 67)], ["x.atlasv1.y"]),
    "openai-api-key": (
        [
            f'client = OpenAI(api_key="{OPENAI}")',
            "OPENAI_API_KEY=sk-" + r(ALNUM, 20) + "T3BlbkFJ" + r(ALNUM, 20),
            '{"source": ["openai.api_key = \\"' + OPENAI + '\\"\\n"]}',
        ],
        [
            'OpenAI(api_key="sk-...")',
            "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "task-force",
        ],
    ),
    "anthropic-api-key": (
        ["ANTHROPIC_API_KEY=sk-ant-api03-" + r(URLSAFE, 93) + "AA"],
        ["sk-ant-api03-your-key-here"],
    ),
    "huggingface-token": (
        [
            "HF_TOKEN=hf_" + r(string.ascii_letters, 34),
            "login(token='hf_" + r(string.ascii_letters, 34) + "')",
        ],
        ["hf_hub_download", "hf_" + "x" * 34],
    ),
    "cohere-api-key": (
        ['cohere.Client("' + r(ALNUM, 40) + '")', "COHERE_API_KEY=" + r(ALNUM, 40)],
        ["COHERE_API_KEY="],
    ),
    "mistral-api-key": (["MISTRAL_API_KEY=" + r(ALNUM, 32)], ["mistral-7b-instruct-v0.2"]),
    "groq-api-key": (["GROQ_API_KEY=gsk_" + r(ALNUM, 52)], ["gsk_" + r(ALNUM, 10)]),
    "replicate-api-token": (["REPLICATE_API_TOKEN=r8_" + r(ALNUM, 37)], ["r8_" + r(ALNUM, 5)]),
    "together-api-key": (
        ["TOGETHER_API_KEY=" + r(HEX, 64), "together_key: tgp_v1_" + r(URLSAFE, 43)],
        ["together with " + r(HEX, 8)],
    ),
    "perplexity-api-key": (["pplx-" + r(ALNUM, 48)], ["pplx-api"]),
    "xai-api-key": (["XAI_API_KEY=xai-" + r(ALNUM, 80)], ["xai-grok"]),
    "langsmith-api-key": (["lsv2_pt_" + r(HEX, 32) + "_" + r(HEX, 10)], ["lsv2_pt_"]),
    "pinecone-api-key": (["pcsk_" + r(ALNUM, 70)], ["pcsk_x"]),
    "wandb-api-key": (["WANDB_API_KEY=" + r(HEX, 40)], ["wandb.init(project='x')"]),
    "github-pat": (
        [f"GITHUB_TOKEN={github('ghp')}"],
        [github("ghp")[:-6] + "zzzzzz", "ghp_" + "a" * 36],
    ),
    "github-oauth-token": ([github("gho")], [github("gho")[:-1] + "!"]),
    "github-user-token": ([github("ghu")], ["ghu_" + r(ALNUM, 36)]),
    "github-app-token": ([github("ghs")], ["ghs_" + r(ALNUM, 36)]),
    "github-refresh-token": ([github("ghr")], ["ghr_" + r(ALNUM, 36)]),
    "github-fine-grained-pat": (
        ["github_pat_" + r(ALNUM, 22) + "_" + r(ALNUM, 59)],
        ["github_pat_" + r(ALNUM, 22)],
    ),
    "gitlab-pat": (["GITLAB_TOKEN=glpat-" + r(URLSAFE, 20)], ["glpat-short"]),
    "gitlab-token": (["glrt-" + r(URLSAFE, 20), "GR1348941" + r(URLSAFE, 20)], ["glrt-"]),
    "bitbucket-app-password": (["ATBB" + r(ALNUM, 32)], ["ATBB"]),
    "slack-bot-token": (
        ["xoxb-" + r("0123456789", 12) + "-" + r("0123456789", 13) + "-" + r(ALNUM, 24)],
        ["xoxb-123"],
    ),
    "slack-user-token": (
        ["xoxp-" + r("0123456789", 12) + "-" + r("0123456789", 12) + "-" + r(ALNUM, 32)],
        ["xoxp-"],
    ),
    "slack-app-token": (
        ["xapp-1-A" + r(string.ascii_uppercase, 9) + "-" + r("0123456789", 13) + "-" + r(HEX, 64)],
        ["xapp-1"],
    ),
    "slack-webhook": (
        [
            "https://hooks.slack.com/services/T"
            + r(UPPER_B32, 8)
            + "/B"
            + r(UPPER_B32, 8)
            + "/"
            + r(ALNUM, 24)
        ],
        ["https://hooks.slack.com/services/"],
    ),
    "discord-bot-token": (
        [
            "DISCORD_BOT_TOKEN=M" + r(URLSAFE, 23) + "." + r(URLSAFE, 6) + "." + r(URLSAFE, 38),
            'curl -H "Authorization: Bearer N'
            + r(ALNUM, 23)
            + "."
            + r(ALNUM, 6)
            + "."
            + r(ALNUM, 38)
            + '"',
        ],
        ["discord.py"],
    ),
    "discord-webhook": (
        ["https://discord.com/api/webhooks/" + r("0123456789", 18) + "/" + r(URLSAFE, 68)],
        ["https://discord.com/api/webhooks/"],
    ),
    "telegram-bot-token": (
        ["TELEGRAM_TOKEN=" + r("0123456789", 10) + ":AA" + r(URLSAFE, 33)],
        ["12:AA"],
    ),
    "twilio-api-key": (["TWILIO_API_KEY=SK" + r(HEX, 32)], ["SK" + "0" * 32]),
    "twilio-account-sid": (
        ["TWILIO_ACCOUNT_SID=AC" + r(HEX, 32)],
        ["AC" + "0" * 32, "ACME" + r(HEX, 32)],
    ),
    "twilio-auth-token": (["TWILIO_AUTH_TOKEN=" + r(HEX, 32)], ["TWILIO_AUTH_TOKEN=$TOKEN"]),
    "sendgrid-api-key": (["SG." + r(URLSAFE, 22) + "." + r(URLSAFE, 43)], ["SG.x.y"]),
    "mailgun-api-key": (["MAILGUN_API_KEY=key-" + r(HEX, 32)], ["mailgun.org"]),
    "mailchimp-api-key": ([r(HEX, 32) + "-us14"], ["-us14"]),
    "stripe-secret-key": (
        ["stripe.api_key = 'sk_live_" + r(ALNUM, 24) + "'", "rk_live_" + r(ALNUM, 24)],
        ["pk_live_" + r(ALNUM, 24), "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"],
    ),
    "stripe-webhook-secret": (["whsec_" + r(ALNUM, 32)], ["whsec_"]),
    "square-token": (["sq0atp-" + r(URLSAFE, 22)], ["sq0atp-"]),
    "shopify-token": (["shpat_" + r(HEX, 32)], ["shpat_"]),
    "braintree-token": (
        ["access_token$production$" + r(LOWER_ALNUM, 16) + "$" + r(HEX, 32)],
        ["access_token$production$"],
    ),
    "npm-token": (
        ["//registry.npmjs.org/:_authToken=" + github("npm")],
        ["npm_config_cache", "npm_" + r(ALNUM, 36)],
    ),
    "pypi-token": (["password = pypi-AgEIcHlwaS5vcmc" + r(URLSAFE, 70)], ["pypi-AgEIcHlwaS5vcmc"]),
    "rubygems-api-key": (["rubygems_" + r(HEX, 48)], ["rubygems_org"]),
    "docker-hub-token": (["dckr_pat_" + r(URLSAFE, 27)], ["dckr_pat_"]),
    "nuget-api-key": (["oy2" + r(LOWER_ALNUM, 43)], ["oy2"]),
    "databricks-token": (["DATABRICKS_TOKEN=dapi" + r(HEX, 32)], ["dapi" + r(HEX, 8)]),
    "atlassian-api-token": (["ATATT3" + r(URLSAFE, 186)], ["ATATT3"]),
    "linear-api-key": (["lin_api_" + r(ALNUM, 40)], ["lin_api_"]),
    "notion-token": (["ntn_" + r("0123456789", 11) + r(ALNUM, 35)], ["ntn_"]),
    "grafana-token": (["glsa_" + r(ALNUM, 32) + "_" + r(HEX, 8)], ["glsa_"]),
    "newrelic-api-key": (["NRAK-" + r(string.ascii_uppercase + string.digits, 27)], ["NRAK-"]),
    "sentry-token": (["sntrys_" + r(ALNUM, 60)], ["sntrys_"]),
    "datadog-api-key": (["DD_API_KEY=" + r(HEX, 32)], ["DD_API_KEY=<key>"]),
    "cloudflare-api-token": (["CLOUDFLARE_API_TOKEN=" + r(URLSAFE, 40)], ["cloudflare.com"]),
    "okta-api-token": (["OKTA_API_TOKEN=00" + r(URLSAFE, 40)], ["okta.com"]),
    "bearer-token": (
        ['curl -H "Authorization: Bearer ' + r(ALNUM, 40) + '" https://api.example.net/v1/models'],
        ["Authorization: Bearer $TOKEN", "the Bearer scheme is described in RFC 6750"],
    ),
    "secret-in-prose": (
        [
            "Use " + r(ALNUM, 40) + " as the internal api key for staging.",
            "my password is " + r(ALNUM, 18) + " please reset it",
            "The workshop key (rotate after the session) is `" + r(ALNUM, 40) + "`.",
        ],
        [
            "Use the staging key as the default key for tests.",
            "the token is refreshed every hour",
            "Use 6d4a2f1e-8c3b-4a5d-9e7f-1b2c3d4e5f60 as the request id key",
        ],
    ),
    "jwt": (
        [f"Authorization: Bearer {jwt()}"],
        [
            "eyJhbGciOi.eyJzdWIi.abc",
            "eyJ" + r(URLSAFE, 20) + ".eyJ" + r(URLSAFE, 20) + "." + r(URLSAFE, 20),
        ],
    ),
    "postgres-url": (
        [
            f"DATABASE_URL=postgresql://app:{DB_PASSWORD}@db:5432/x",
            f'"postgres+psycopg://u:{DB_PASSWORD}@h/d"',
        ],
        [
            "postgresql://app:${DB_PASSWORD}@db/x",
            "postgresql://app@db/x",
            "postgres://user:password@localhost/db",
            'create_engine("postgresql+psycopg2://scott:tiger@localhost/test")',
        ],
    ),
    "mysql-url": ([f"mysql+pymysql://root:{DB_PASSWORD}@db/x"], ["mysql://root:<password>@db/x"]),
    "mongodb-url": (
        [f"mongodb+srv://app:{DB_PASSWORD}@cluster0.x.mongodb.net/db"],
        ["mongodb://localhost:27017"],
    ),
    "redis-url": (
        [f"REDIS_URL=redis://:{DB_PASSWORD}@cache:6379/0"],
        ["redis://localhost:6379/0", "redis://[[username]:[password]]@localhost:6379/0"],
    ),
    "amqp-url": ([f"amqp://guest:{DB_PASSWORD}@mq:5672/"], ["amqp://mq:5672/"]),
    "mssql-url": ([f"mssql+pyodbc://sa:{DB_PASSWORD}@sql/db"], ["mssql+pyodbc://sql/db"]),
    "connection-string-password": (
        [f"Server=tcp:db.example.net,1433;Database=x;User ID=sa;Password={DB_PASSWORD};"],
        ["Server=db;Database=x;Password=$(DB_PASSWORD);"],
    ),
    "url-credentials": (
        [f"https://deploy:{DB_PASSWORD}@git.internal/repo.git"],
        ["https://git.internal/repo.git", "Url('https://foo.com:123,foo:bar@bar.com/path')"],
    ),
    "generic-password": (
        [
            'password = "Tr0ub4dor&3xQ"',
            "DB_PASSWORD=" + r(ALNUM, 16),
            '"admin_password": "' + r(ALNUM, 12) + '"',
        ],
        [
            'password = "changeme"',
            "password = os.environ['DB_PASSWORD']",
            "password = get_password()",
            "password_field = forms.CharField",
            'password: "${DB_PASSWORD}"',
            "password: _PasswordType | None = None",
            "    passwd: HTTPPasswordMgr",
            "PQchangePassword.restype = PGresult_ptr",
        ],
    ),
    "env-default-secret": (
        [
            'smtp_password: str = os.environ.get("SMTP_PASSWORD", "' + r(ALNUM, 16) + '")',
            'key = os.getenv("STRIPE_KEY", default="' + r(ALNUM, 24) + '")',
        ],
        ['os.environ.get("API_KEY", "")', 'os.getenv("LOG_LEVEL", "' + r(ALNUM, 16) + '")'],
    ),
    "generic-api-key": (
        [
            'client = Client(api_key="' + r(ALNUM, 32) + '")',
            "SECRET_KEY = '" + r(B64, 40) + "'",
            "def client(token: str = '" + r(ALNUM, 40) + "') -> Session:",
            'jwt.encode(claims, key="' + r(ALNUM, 35) + '", algorithm="HS256")',
            'payments_api_key: "' + r(HEX, 32) + '"',
            'os.environ["API_KEY"] = "key-' + r(HEX, 32) + '"',
        ],
        [
            "api_key = settings.api_key",
            'api_key: "{{ secrets.API_KEY }}"',
            "token = 3f786850e387550fdab836ed7e6dc881de23001b",
            "request_token = 6d4a2f1e-8c3b-4a5d-9e7f-1b2c3d4e5f60",
            'integrity_token = "sha512-' + r(B64, 86) + '=="',
            "secret_version = 1.2.3-rc.1",
            'INVALID_TOKEN = "ghp_' + r(ALNUM, 36) + '"',
            "cache_key = user_profile_cache",
            "# Try subkeyspace: channel=__subkeyspace@<db>__:<key>",
            "token = Token.Name.Builtin.SchemeFunction",
            "NO_CACHE_KEY = CacheStats.NO_CACHE_KEY",
            "config.stash[old_mark_config_key] = MARK_GEN._config",
            "_closure_per_cache_key: _LambdaCacheType = util.LRUCache(1000)",
            'context["key_blocksize"] = _DEFAULT_BLOCKSIZE',
            "('id_rsa'), ('application/pgp-keys', 'application/pgp-encrypted')",
        ],
    ),
}

DETECTOR = SecretDetector()


def test_every_rule_has_cases() -> None:
    kinds = {rule.kind for rule in RULES}
    assert kinds == set(CASES), kinds ^ set(CASES)
    assert len(kinds) >= 60
    assert len({rule.rule_id for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_rule_true_positives(kind: str) -> None:
    for text in CASES[kind][0]:
        found = DETECTOR.detect(text)
        assert [d.kind for d in found] == [kind], (text, found)
        det = found[0]
        assert text[det.start : det.end] == det.value


@pytest.mark.parametrize("kind", sorted(CASES))
def test_rule_false_positives(kind: str) -> None:
    for text in CASES[kind][1]:
        assert DETECTOR.detect(text) == [], text


def test_github_checksum() -> None:
    token = github("ghp")
    assert github_checksum_ok(token)
    assert not github_checksum_ok(token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_redaction_never_shows_a_whole_secret() -> None:
    for value in ("abc", "abcdefgh", OPENAI, AKID):
        shown = redact(value)
        assert value not in shown
        assert len(shown.rstrip("*")) <= max(len(value) // 4, 0)


def test_entropy() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy(r(ALNUM, 64)) > 4.5


def test_the_prefilter_finds_the_same_with_and_without_aho_corasick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ramparts.privacy.secrets as secrets_module  # noqa: PLC0415

    text = "\n".join(t for tps, fps in CASES.values() for t in (*tps, *fps))
    fast = [(d.rule_id, d.start, d.end) for d in SecretDetector().detect(text)]
    monkeypatch.setattr(secrets_module, "_automaton", lambda words: None)
    plain = [(d.rule_id, d.start, d.end) for d in SecretDetector().detect(text)]
    assert fast == plain
    assert len(fast) >= len(CASES)

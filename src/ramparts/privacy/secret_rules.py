"""The catalogue of credential rules: one rule per kind of secret.

Each rule names the keywords that must occur (lower-cased) in a text before its
regular expression runs, and a pattern whose group ``s`` is the secret itself.
Boundaries are look-arounds on the token's own alphabet, never "a quote or space
follows": inside a notebook's JSON a token is followed by ``\\"``, and inside a
log line by anything at all.

Rules are data; their true- and false-positive strings live in
``tests/privacy/test_secret_rules.py`` (generated there, so this repository holds
no credential-shaped literals). Token formats are those the providers publish.
"""

from __future__ import annotations

from ramparts.core.records import record

__all__ = ["RULES", "SECRET_NAME", "SecretRule"]

_L = r"(?<![A-Za-z0-9_\-])"  # token start: not inside a longer word
_R = r"(?![A-Za-z0-9_\-])"  # token end
_QUOTE = r"(?:\\?[\"'`])?"  # an optional quote, maybe JSON-escaped (\")
# After the name: a closing quote or bracket (os.environ["X"] = ...), a type
# annotation (token: str = ...), then the separator: = : := => ( , or a tab (TSV).
_NAME_END = _QUOTE + r"\]?" + r"(?:[ \t]*:[ \t]*[A-Za-z_][\w\[\]., |]{0,40}?(?=[ \t]*=))?"
_ASSIGN = r"[\w.\-]{0,40}?" + _NAME_END + r"[ \t]*(?::=|=>|[:=(,\t])[ \t]*" + _QUOTE
# Generic rules take only a real assignment (no call, no argument list), on one line,
# and a value that is not itself called or indexed.
# A comma counts only as a CSV cell boundary: no space after it (tuples have one).
_ASSIGN_STRICT = (
    r"[\w.\-]{0,40}?" + _NAME_END + r"(?:[ \t]*(?::=|=>|[:=\t])[ \t]*|,(?=[^\s\"']))" + _QUOTE
)
_R_VALUE = r"(?![A-Za-z0-9_\-(\[.])"


@record
class SecretRule:
    """How to recognise one kind of credential.

    ``keywords`` are lower-case substrings of which one must occur in the text (the
    prefilter); ``pattern`` must define the group ``s``. ``min_entropy`` (bits per
    character) guards rules whose values have no fixed prefix; ``check`` names an
    extra validator (a checksum or a structure test, see ``secrets.py``).
    """

    kind: str
    title: str
    keywords: tuple[str, ...]
    pattern: str
    severity: str = "high"
    confidence: str = "high"
    min_entropy: float = 0.0
    check: str = ""
    placeholders: bool = True
    """Whether documentation placeholders (EXAMPLE, xxxx, your-key...) are dropped."""
    multiline: bool = False
    """Whether a match spans lines (key blocks); others are searched line by line."""
    anchored: bool = False
    """Whether a match starts where the word holding a keyword starts (a name such as
    ``DB_PASSWORD``): it is tried there only instead of searched for along the line."""

    @property
    def rule_id(self) -> str:
        """The report's rule id, e.g. ``RMP-SECRET-AWS-ACCESS-KEY-ID``."""
        return "RMP-SECRET-" + self.kind.upper()


def _prefixed(
    kind: str,
    title: str,
    prefix: str,
    body: str,
    keywords: tuple[str, ...] = (),
    **kw: object,
) -> SecretRule:
    """A token that starts with a distinctive prefix (``keywords`` when it is a pattern)."""
    keywords = keywords or (prefix.lower().replace("\\", ""),)
    pattern = _L + "(?P<s>" + prefix + body + ")" + _R
    return SecretRule(kind, title, keywords, pattern, **kw)  # type: ignore[arg-type]


def _assigned(
    kind: str,
    title: str,
    names: str,
    keywords: tuple[str, ...],
    value: str,
    *,
    strict: bool = False,
    **kw: object,
) -> SecretRule:
    """A value with no prefix of its own, assigned to a name that says what it is."""
    assign, end = (_ASSIGN_STRICT, _R_VALUE) if strict else (_ASSIGN, _R)
    pattern = "(?i:" + names + ")" + assign + "(?P<s>" + value + ")" + end
    kw.setdefault("min_entropy", 3.0)
    return SecretRule(kind, title, keywords, pattern, **kw)  # type: ignore[arg-type]


SECRET_NAME = (
    r"\b\w{0,30}?(?:api_?key|apikey|access_?key|access_?token|auth_?token|api_?token"  # noqa: S105 - names, not a credential
    r"|bearer|token|client_?secret|secret_?key|secret|private_?key|credentials?|key)"
)
"""A name that says its value is a key, token or secret (case-insensitive)."""
_PASSWORD_NAME = r"\b\w{0,30}?(?:password|passwd|passwort|pwd)"  # noqa: S105 - names


def _key_block(kind: str, title: str, label: str) -> SecretRule:
    """A PEM-style block: its BEGIN line and a body of base64 (maybe after headers)."""
    keyword = label.rsplit(")", 1)[-1].lstrip("?").strip().lower()  # after any (?:...)?
    pattern = r"(?P<s>-----BEGIN " + label + "-----" + _PEM_BODY + ")"
    return SecretRule(
        kind, title, (keyword + "-----",), pattern, severity="critical", multiline=True
    )


_PEM_BODY = r"(?:\s|\\r|\\n)+(?:[A-Za-z0-9\-]+:[^\n\\]*(?:\s|\\r|\\n)+)*[A-Za-z0-9+/=]{40,}"
_DB_USERINFO = r"(?P<user>[^:/\s@\"'\\]{1,128}):(?P<s>[^@/\s\"'\\]{3,256})@[^\s\"'\\/]+"

_GITHUB = {
    "ghp": ("github-pat", "GitHub personal access token (classic)"),
    "gho": ("github-oauth-token", "GitHub OAuth access token"),
    "ghu": ("github-user-token", "GitHub user-to-server token"),
    "ghs": ("github-app-token", "GitHub app installation token"),
    "ghr": ("github-refresh-token", "GitHub refresh token"),
}

RULES: tuple[SecretRule, ...] = (
    # Private keys first: a key block wins over any token-shaped text inside it.
    SecretRule(
        "gcp-service-account-key",
        "Google Cloud service-account private key",
        ("private_key",),
        r"(?i:\\?\"private_key\\?\")\s*:\s*\\?\"(?P<s>-----BEGIN [A-Z ]*PRIVATE KEY-----"
        r"(?:\\\\n|\\n|[A-Za-z0-9+/=\s])+?-----END [A-Z ]*PRIVATE KEY-----)",
        severity="critical",
    ),
    _key_block("private-key", "private key (PEM)", "(?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY"),
    _key_block("openssh-private-key", "OpenSSH private key", "OPENSSH PRIVATE KEY"),
    _key_block("pgp-private-key", "PGP private key block", "PGP PRIVATE KEY BLOCK"),
    SecretRule(
        "putty-private-key",
        "PuTTY private key",
        ("putty-user-key-file",),
        r"(?P<s>PuTTY-User-Key-File-\d: [\w-]+(?:\s|\\r|\\n)+Encryption: [\w-]+)",
        severity="critical",
        multiline=True,
    ),
    # Cloud providers.
    _prefixed(
        "aws-access-key-id",
        "AWS access key id",
        "(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])",
        "[A-Z2-7]{16}",
        ("akia", "asia", "abia", "acca", "a3t"),
        severity="critical",
    ),
    _assigned(
        "aws-secret-access-key",
        "AWS secret access key",
        r"aws_?secret(?:_?access)?(?:_?key)?|secret_?access_?key|secretaccesskey",
        ("secret_access", "secretaccess", "aws_secret", "awssecret", "secret-access"),
        "[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        severity="critical",
        min_entropy=3.5,
    ),
    _assigned(
        "aws-session-token",
        "AWS session token",
        r"aws_?session_?token|sessiontoken",
        ("session_token", "sessiontoken"),
        "[A-Za-z0-9/+]{100,}={0,2}",
        severity="high",
        min_entropy=4.0,
    ),
    _prefixed(
        "google-api-key", "Google API key (Cloud, Gemini, Vertex)", "AIza", r"[0-9A-Za-z_\-]{35}"
    ),
    _prefixed(
        "google-oauth-client-secret", "Google OAuth client secret", "GOCSPX-", r"[A-Za-z0-9_\-]{28}"
    ),
    _prefixed("google-oauth-token", "Google OAuth access token", r"ya29\.", r"[0-9A-Za-z_\-]{30,}"),
    SecretRule(
        "azure-storage-account-key",
        "Azure storage account key",
        ("accountkey", "storage", "account_key"),
        r"(?i:AccountKey=|(?:storage|account)[\w.\-]{0,30}?key" + _ASSIGN + "|"
        r"StorageSharedKeyCredential\(\s*\\?[\"'][^\"'\\]{1,64}\\?[\"']\s*,\s*\\?[\"'])"
        r"(?P<s>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])",
        severity="critical",
        min_entropy=4.0,
    ),
    SecretRule(
        "azure-sas-token",
        "Azure shared access signature",
        ("sig=",),
        r"(?:sv|se|sp|sr|spr|st|srt|ss|skoid)=[^\s\"'<>]{0,400}?[?&]sig=(?P<s>[A-Za-z0-9%/+]{30,}"
        r"(?:%3[dD]|=){0,2})",
    ),
    SecretRule(
        "azure-ad-client-secret",
        "Microsoft Entra (Azure AD) client secret",
        ("q~",),
        _L + r"(?P<s>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})" + r"(?![A-Za-z0-9_~.\-])",
    ),
    _assigned(
        "azure-openai-key",
        "Azure OpenAI / AI services key",
        r"azure[\w.\-]{0,30}?(?:api_?key|key|secret)",
        ("azure",),
        "[a-f0-9]{32}",
    ),
    SecretRule(
        "digitalocean-token",
        "DigitalOcean token",
        ("dop_v1_", "doo_v1_", "dor_v1_"),
        _L + r"(?P<s>do[por]_v1_[a-f0-9]{64})" + _R,
    ),
    _prefixed("alibaba-access-key-id", "Alibaba Cloud access key id", "LTAI", "[A-Za-z0-9]{20}"),
    _assigned(
        "heroku-api-key",
        "Heroku API key",
        r"heroku[\w.\-]{0,20}?(?:api_?key|key|token)",
        ("heroku",),
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    ),
    _prefixed(
        "hashicorp-vault-token",
        "HashiCorp Vault token",
        r"hv[sb]\.",
        r"[A-Za-z0-9_\-]{90,}",
        ("hvs.", "hvb."),
    ),
    SecretRule(
        "terraform-cloud-token",
        "Terraform Cloud / Enterprise API token",
        ("atlasv1",),
        _L + r"(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70})" + _R,
    ),
    # AI providers.
    SecretRule(
        "openai-api-key",
        "OpenAI API key",
        ("sk-",),
        _L + r"(?P<s>sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{40,}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48}))" + _R,
        min_entropy=3.5,
    ),
    _prefixed(
        "anthropic-api-key",
        "Anthropic API key",
        "sk-ant-",
        r"(?:api|admin|sid)\d\d-[A-Za-z0-9_\-]{80,}",
    ),
    SecretRule(
        "huggingface-token",
        "Hugging Face access token",
        ("hf_", "api_org_"),
        _L + r"(?P<s>(?:hf_|api_org_)[A-Za-z0-9]{30,40})" + _R,
        min_entropy=3.5,
    ),
    _assigned(
        "cohere-api-key",
        "Cohere API key",
        r"co(?:here)?[\w.\-]{0,20}?(?:api_?key|key|token)|cohere",
        ("cohere", "co_api_key"),
        "[A-Za-z0-9]{40}",
    ),
    _assigned(
        "mistral-api-key",
        "Mistral AI API key",
        r"mistral[\w.\-]{0,20}?(?:api_?key|key|token)?",
        ("mistral",),
        "[A-Za-z0-9]{32}",
    ),
    _prefixed("groq-api-key", "Groq API key", "gsk_", "[A-Za-z0-9]{52}"),
    _prefixed("replicate-api-token", "Replicate API token", "r8_", "[A-Za-z0-9]{37}"),
    SecretRule(
        "together-api-key",
        "Together AI API key",
        ("together", "tgp_v1_"),
        r"(?:(?i:together)"
        + _ASSIGN
        + r"(?P<s>[a-f0-9]{64})|"
        + _L
        + r"(?P<s2>tgp_v1_[A-Za-z0-9_\-]{40,}))"
        + _R,
        min_entropy=3.0,
    ),
    _prefixed("perplexity-api-key", "Perplexity API key", "pplx-", "[A-Za-z0-9]{48}"),
    _prefixed("xai-api-key", "xAI API key", "xai-", "[A-Za-z0-9]{80}"),
    _prefixed(
        "langsmith-api-key", "LangSmith API key", "lsv2_", r"(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"
    ),
    _prefixed("pinecone-api-key", "Pinecone API key", "pcsk_", r"[A-Za-z0-9_]{60,}"),
    _assigned(
        "wandb-api-key",
        "Weights & Biases API key",
        r"wandb[\w.\-]{0,20}?(?:api_?key|key)",
        ("wandb",),
        "[a-f0-9]{40}",
    ),
    # Code hosts and CI.
    *(
        _prefixed(kind, title, prefix + "_", "[A-Za-z0-9]{36}", check="github-checksum")
        for prefix, (kind, title) in _GITHUB.items()
    ),
    _prefixed(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        "github_pat_",
        "[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
    ),
    _prefixed("gitlab-pat", "GitLab personal access token", "glpat-", r"[A-Za-z0-9_\-.]{20,}"),
    SecretRule(
        "gitlab-token",
        "GitLab runner, deploy, trigger or CI token",
        ("glrt-", "gldt-", "glptt-", "glcbt-", "glimt-", "glagent-", "gr1348941"),
        _L
        + r"(?P<s>(?:glrt-|gldt-|glptt-|glcbt-|glimt-|glagent-|GR1348941)[A-Za-z0-9_\-.]{20,})"
        + _R,
    ),
    _prefixed("bitbucket-app-password", "Bitbucket app password", "ATBB", r"[A-Za-z0-9_=.\-]{32,}"),
    # Messaging.
    _prefixed(
        "slack-bot-token", "Slack bot token", "xoxb-", r"[0-9]{8,13}-[0-9]{8,13}-[A-Za-z0-9]{20,32}"
    ),
    _prefixed(
        "slack-user-token",
        "Slack user token",
        "xox[pe]-",
        r"[0-9A-Za-z\-]{30,}",
        ("xoxp-", "xoxe-"),
    ),
    _prefixed(
        "slack-app-token", "Slack app-level token", "xapp-", r"\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}"
    ),
    SecretRule(
        "slack-webhook",
        "Slack incoming webhook",
        ("hooks.slack.com",),
        r"(?P<s>hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{30,})" + _R,
    ),
    SecretRule(
        "discord-bot-token",
        "Discord bot token",
        ("discord", "bot ", "bot.run", "token", "bearer"),
        _L + r"(?P<s>[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})" + _R,
    ),
    SecretRule(
        "discord-webhook",
        "Discord webhook",
        ("/api/webhooks/",),
        r"(?P<s>discord(?:app)?\.com/api/webhooks/\d{15,20}/[A-Za-z0-9_\-]{60,})" + _R,
    ),
    SecretRule(
        "telegram-bot-token",
        "Telegram bot token",
        (":aa",),
        r"(?<![0-9])(?P<s>\d{8,10}:AA[A-Za-z0-9_\-]{33})" + _R,
    ),
    _prefixed("twilio-api-key", "Twilio API key", "SK", "[0-9a-f]{32}", min_entropy=3.0),
    _prefixed(
        "twilio-account-sid",
        "Twilio account SID (an identifier that pairs with an auth token)",
        "AC",
        "[0-9a-f]{32}",
        ("sid", "twilio", "value:"),
        severity="low",
        min_entropy=3.0,
    ),
    _assigned(
        "twilio-auth-token",
        "Twilio auth token",
        r"twilio[\w.\-]{0,20}?(?:auth_?token|token|secret)",
        ("twilio",),
        "[a-f0-9]{32}",
    ),
    _prefixed(
        "sendgrid-api-key", "SendGrid API key", r"SG\.", r"[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"
    ),
    _assigned(
        "mailgun-api-key",
        "Mailgun API key",
        r"mailgun[\w.\-]{0,20}?(?:api_?key|key)",
        ("mailgun",),
        "(?:key-)?[0-9a-f]{32}(?:-[0-9a-f]{8}-[0-9a-f]{8})?",
    ),
    SecretRule(
        "mailchimp-api-key",
        "Mailchimp API key",
        ("-us",),
        _L + r"(?P<s>[0-9a-f]{32}-us\d{1,2})" + _R,
    ),
    # Payments and commerce.
    SecretRule(
        "stripe-secret-key",
        "Stripe secret or restricted key",
        ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_"),
        _L + r"(?P<s>[sr]k_(?:live|test|prod)_[A-Za-z0-9]{20,247})" + _R,
    ),
    _prefixed(
        "stripe-webhook-secret", "Stripe webhook signing secret", "whsec_", "[A-Za-z0-9]{32,}"
    ),
    SecretRule(
        "square-token",
        "Square access token or secret",
        ("sq0atp-", "sq0csp-", "eaaa"),
        _L
        + r"(?P<s>sq0atp-[0-9A-Za-z_\-]{22}|sq0csp-[0-9A-Za-z_\-]{43}|EAAA[A-Za-z0-9_\-]{60})"
        + _R,
    ),
    _prefixed(
        "shopify-token", "Shopify access token", "shp(?:at|ca|pa|ss)_", "[a-fA-F0-9]{32}", ("shp",)
    ),
    SecretRule(
        "braintree-token",
        "Braintree / PayPal access token",
        ("access_token$production$",),
        r"(?P<s>access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})",
    ),
    # Package registries.
    _prefixed("npm-token", "npm access token", "npm_", "[A-Za-z0-9]{36}", check="github-checksum"),
    _prefixed(
        "pypi-token",
        "PyPI upload token",
        "pypi-",
        r"AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,}",
    ),
    _prefixed("rubygems-api-key", "RubyGems API key", "rubygems_", "[a-f0-9]{48}"),
    _prefixed(
        "docker-hub-token", "Docker Hub personal access token", "dckr_pat_", r"[A-Za-z0-9_\-]{27,}"
    ),
    _prefixed("nuget-api-key", "NuGet API key", "oy2", "[a-z0-9]{43}", min_entropy=3.0),
    # Data and operations platforms.
    _prefixed(
        "databricks-token", "Databricks personal access token", "dapi", r"[a-f0-9]{32}(?:-\d)?"
    ),
    _prefixed("atlassian-api-token", "Atlassian API token", "ATATT3", r"[A-Za-z0-9_\-=]{100,}"),
    _prefixed("linear-api-key", "Linear API key", "lin_api_", "[A-Za-z0-9]{40}"),
    SecretRule(
        "notion-token",
        "Notion integration token",
        ("ntn_", "secret_"),
        _L + r"(?P<s>ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})" + _R,
        min_entropy=3.5,
    ),
    SecretRule(
        "grafana-token",
        "Grafana cloud or service-account token",
        ("glc_", "glsa_"),
        _L + r"(?P<s>glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})" + _R,
    ),
    _prefixed("newrelic-api-key", "New Relic user API key", "NRAK-", "[A-Z0-9]{27}"),
    _prefixed(
        "sentry-token", "Sentry auth token", "sntry[su]_", r"[A-Za-z0-9+/=_]{50,}", ("sntry",)
    ),
    _assigned(
        "datadog-api-key",
        "Datadog API or application key",
        r"(?:datadog|dd)[\w.\-]{0,20}?(?:api|app(?:lication)?)_?key",
        ("datadog", "dd_api", "dd_app", "ddapi", "ddapp"),
        "[a-f0-9]{32}(?:[a-f0-9]{8})?",
    ),
    _assigned(
        "cloudflare-api-token",
        "Cloudflare API token",
        r"cloudflare[\w.\-]{0,20}?(?:api_?token|token|api_?key|key)|cf_api_token",
        ("cloudflare", "cf_api"),
        r"[A-Za-z0-9_\-]{40}",
    ),
    _assigned(
        "okta-api-token",
        "Okta API token",
        r"okta[\w.\-]{0,20}?(?:api_?token|token|key)",
        ("okta",),
        r"00[A-Za-z0-9_\-]{40}",
    ),
    # Tokens with a structure of their own.
    SecretRule(
        "jwt",
        "JSON Web Token",
        ("eyj",),
        _L + r"(?P<s>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,})" + _R,
        severity="medium",
        check="jwt",
    ),
    # Connection strings with passwords.
    SecretRule(
        "postgres-url",
        "PostgreSQL URL with a password",
        ("postgres",),
        r"(?i:postgres(?:ql)?(?:\+\w+)?)://" + _DB_USERINFO,
        check="url-password",
    ),
    SecretRule(
        "mysql-url",
        "MySQL / MariaDB URL with a password",
        ("mysql", "mariadb"),
        r"(?i:mysql|mariadb)(?:\+\w+)?://" + _DB_USERINFO,
        check="url-password",
    ),
    SecretRule(
        "mongodb-url",
        "MongoDB URL with a password",
        ("mongodb",),
        r"(?i:mongodb(?:\+srv)?)://" + _DB_USERINFO,
        check="url-password",
    ),
    SecretRule(
        "redis-url",
        "Redis URL with a password",
        ("redis",),
        r"(?i:rediss?)://(?P<user>[^:/\s@\"'\\]{0,128}):(?P<s>[^@/\s\"'\\]{3,256})@[^\s\"'\\/]+",
        check="url-password",
    ),
    SecretRule(
        "amqp-url",
        "AMQP (RabbitMQ) URL with a password",
        ("amqp",),
        r"(?i:amqps?)://" + _DB_USERINFO,
        check="url-password",
    ),
    SecretRule(
        "mssql-url",
        "SQL Server URL with a password",
        ("mssql", "sqlserver"),
        r"(?i:mssql|sqlserver)(?:\+\w+)?://" + _DB_USERINFO,
        check="url-password",
    ),
    SecretRule(
        "connection-string-password",
        "connection string with a password",
        ("password=", "pwd="),
        r"(?i:Server|Data Source|Host)=[^;\"'\n]{1,200};[^\"'\n]{0,200}?(?i:Password|Pwd)="
        r"(?P<s>[^;\"'\s\\]{4,128})",
        check="url-password",
    ),
    SecretRule(
        "url-credentials",
        "URL with embedded credentials",
        ("://",),
        r"(?i:https?|ftps?|smtps?|sftp|ldaps?)://(?P<user>[^:/\s@\"'\\,]{1,128}):"
        r"(?P<s>[^@/\s\"'\\,:]{3,256})@[^\s\"'\\/]+",
        severity="medium",
        check="url-password",
    ),
    SecretRule(
        "cli-password",
        "password on a database client's command line",
        ("mysql", "mariadb"),
        r"(?i:mysql|mysqldump|mysqladmin|mariadb)\b[^\n]{0,200}?[ \t]-p\\?[\"']?"
        r"(?P<s>[^\s\"'\\$]{6,128})",
        confidence="medium",
        min_entropy=3.0,
        check="generic",
    ),
    SecretRule(
        "kubernetes-env-secret",
        "secret value in a Kubernetes or compose environment entry",
        ("value:",),
        r"(?i:name:[ \t]*\"?[\w.\-]*(?:password|passwd|secret|token|api_?key|access_?key|"
        r"private_?key|credentials?|key)[\w.\-]*\"?[ \t]*\r?\n[ \t]*value:)[ \t]*[\"']?"
        r"(?P<s>[A-Za-z0-9_\-+/.~=!@#%^&*?]{8,256})[\"']?[ \t]*(?=\r?\n|$)",
        confidence="medium",
        min_entropy=3.0,
        multiline=True,
        check="generic",
    ),
    SecretRule(
        "secret-in-prose",
        "credential written into a sentence (a prompt, a ticket, a log message)",
        ("key", "token", "secret", "password", "passwd", "credential"),
        r"(?:(?<![^\s\"'`(])(?P<s>[A-Za-z0-9_\-+/.~=!@#%^&*?]{16,256})[ \t]+(?i:as|is)[ \t]+"
        r"(?i:(?:the|my|our|your|a|an)[ \t]+)?(?i:[a-z]+[ \t]+){0,4}?"
        r"(?i:api[ _]?key|key|token|secret|password|passwd|credentials?)\b"
        r"|(?i:api[ _]?key|key|token|secret|password|passwd)\b[^\n]{0,50}?[ \t](?i:is|was)"
        r"[ \t]*:?[ \t]*\\?[\"'`]?"
        r"(?P<s2>[A-Za-z0-9_\-+/.~=!@#%^&*?]{16,256})(?![A-Za-z0-9_\-]))",
        confidence="medium",
        min_entropy=3.0,
        check="generic",
    ),
    SecretRule(
        "env-default-secret",
        "credential given as the default of an environment lookup",
        ("getenv", "environ", "env.get", "env("),
        r"(?i:getenv|environ\.get|environ\.setdefault|env\.get|env)\(\s*\\?[\"']"
        r"(?i:\w{0,40}?(?:password|passwd|pwd|secret|token|api_?key|access_?key|key|credentials?)"
        r"\w{0,20})\\?[\"']\s*,\s*(?:default\s*=\s*)?\\?[\"']"
        r"(?P<s>[^\s\"'`\\$<>{}]{8,256})\\?[\"']",
        confidence="medium",
        min_entropy=3.0,
        check="generic",
    ),
    # Generic assignments: a name that says "secret" and a value that looks random.
    _assigned(
        "generic-password",
        "hard-coded password",
        _PASSWORD_NAME,
        ("password", "passwd", "passwort", "pwd"),
        r"[^\s\"'`,;)(}{\\<>$\[\]=][^\s\"'`,;)(}{\\<>$\[\]]{7,127}",
        strict=True,
        anchored=True,
        severity="high",
        confidence="medium",
        min_entropy=3.0,
        check="generic",
    ),
    SecretRule(
        "bearer-token",
        "bearer token in an Authorization header",
        ("bearer",),
        r"(?i:\bBearer)[ \t]+(?P<s>[A-Za-z0-9_\-+/.~=@!#%^&*?]{16,512})" + _R_VALUE,
        confidence="medium",
        min_entropy=3.0,
        check="generic",
    ),
    _assigned(
        "generic-api-key",
        "hard-coded API key or token",
        SECRET_NAME,
        ("key", "token", "secret", "bearer", "credential"),
        r"[A-Za-z0-9_\-+/.~][A-Za-z0-9_\-+/.~=]{15,255}",
        strict=True,
        anchored=True,
        severity="high",
        confidence="medium",
        min_entropy=3.5,
        check="generic",
    ),
)
"""Every built-in rule, most specific first (an overlap keeps the earlier rule)."""

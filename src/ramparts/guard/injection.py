"""Prompt-injection detection, tier 1: curated rules, scored.

:class:`RuleDetector` holds a small, documented set of patterns (:data:`RULES`) for
the shapes that injected instructions take: overriding earlier instructions
("ignore all previous instructions", and the same in Spanish, French, German,
Portuguese and Italian), switching the model's role ("you are now", "act as an
unfiltered AI", DAN, "developer mode"), asking for the system prompt, and forging the
delimiters of a chat template (``<|im_start|>system``, ``[INST]``, ``<<SYS>>``,
``</system>``, ``### Instruction``).

Each rule has a weight in [0, 1]; a text's score is the noisy-OR of the weights of the
distinct rules it matches (``1 - prod(1 - w)``), so one strong rule decides alone and
weak ones only together. :class:`InjectionGuard` hits when the score reaches its
threshold (0.75 by default): "ignore the previous instructions" (0.95) does, "you are
now a translator" (0.5) does not, "you are now DAN" (0.5 and 0.45: 0.73) nearly does.

Rules run on the views of :func:`ramparts.guard.normalize.normalize`, lower-cased,
so evasions by zero-width characters, homoglyphs, spaced-out letters, tag characters,
base64, hex or ROT13 are read through. A rule's regular expression runs only when one
of its keywords starts a word, anchored there (one Aho-Corasick pass over each view,
then a few anchored matches): the cost does not grow with the number of rules.

Tier 2 plugs in through :class:`InjectionDetector`: anything with a ``name`` and a
``score(text) -> float`` (a classifier); the guard takes the highest score of its
detectors over all views (over the views named in the detector's ``views``, when it
has that attribute). The package ships one such classifier,
:class:`ramparts.guard.classifier.InjectionClassifier` (see
``docs/injection-classifier.md``): ``InjectionGuard(detectors=[RuleDetector(),
default_classifier()])`` runs both tiers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from ramparts.core.records import record
from ramparts.guard.interface import (
    Action,
    BaseGuard,
    FailMode,
    GuardConfigError,
    GuardContext,
    Hit,
    Role,
    Span,
)
from ramparts.guard.markup import lowered
from ramparts.guard.normalize import Normalized, normalize

__all__ = [
    "DEFAULT_THRESHOLD",
    "RULES",
    "InjectionDetector",
    "InjectionGuard",
    "InjectionRule",
    "RuleDetector",
    "RuleMatch",
]

DEFAULT_THRESHOLD = 0.75
"""Score at which :class:`InjectionGuard` hits."""


class InjectionDetector(Protocol):
    """Scores how likely a text is to carry injected instructions (0: not at all)."""

    @property
    def name(self) -> str:
        """The detector's name, shown in verdicts."""
        ...

    def score(self, text: str) -> float:
        """A score in [0, 1] for one view of the text."""
        ...


@record
class InjectionRule:
    """One pattern of injected instructions.

    ``pattern`` is tried on the lower-cased view (on the view as it is when
    ``case_sensitive``) only where one of ``keywords`` (lower case) starts: every match
    of the pattern must begin with one of them. A keyword that starts with a letter is
    a whole word, or the start of one when it ends in ``*`` (``ignor*``); one that starts
    with punctuation (``<|``) may occur anywhere.
    """

    rule_id: str
    title: str
    weight: float
    keywords: tuple[str, ...]
    pattern: str
    case_sensitive: bool = False
    language: str = "en"


@record
class RuleMatch:
    """Where a rule matched one view: ``start``/``end`` are offsets into that view."""

    rule: InjectionRule
    start: int
    end: int


def _words(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# Verbs that throw instructions away, in English, Spanish, French, German, Portuguese
# and Italian (diacritics are removed before matching: "esqueça" reads "esqueca").
_DROP_VERBS = (
    r"ignor\w{0,5}",
    r"disregard\w{0,3}",
    r"forget\w{0,3}",
    "forgot",
    "skip",
    r"overrid\w{1,3}",
    r"bypass\w{0,3}",
    r"neglect\w{0,3}",
    "overlook",
    "abandon",
    "discard",
    "drop",
    "set aside",
    r"(?:do not|don'?t|never|stop) (?:follow|obey)(?:ing)?",
    r"olvid\w{1,4}",
    r"omit\w{0,3}",
    r"descart\w{1,3}",
    r"desobedec\w{1,2}",
    r"oubli\w{1,3}",
    r"neglig\w{1,3}",
    r"ne (?:tiens|tenez) (?:pas |plus )?compte (?:de|des|du)",
    "vergiss",
    "vergessen",
    r"missacht\w{1,3}",
    r"uberspring\w{0,2}",
    r"esquec\w{1,3}",
    r"desconsider\w{1,3}",
    r"dimentic\w{1,4}",
    r"trascur\w{1,3}",
    r"tralasci\w{1,3}",
)
_DROP_KEYWORDS = (
    "ignor*",
    "disregard*",
    "forget*",
    "forgot",
    "skip",
    "overrid*",
    "bypass*",
    "neglect*",
    "overlook",
    "abandon",
    "discard",
    "drop",
    "set aside",
    "do not",
    "don't",
    "dont",
    "never",
    "stop",
    "olvid*",
    "omit*",
    "descart*",
    "desobedec*",
    "oubli*",
    "neglig*",
    "ne tiens",
    "ne tenez",
    "vergiss",
    "vergessen",
    "missacht*",
    "uberspring*",
    "esquec*",
    "desconsider*",
    "dimentic*",
    "trascur*",
    "tralasci*",
)
# Qualifiers that point back at earlier instructions.
_BACK = (
    "previous",
    "previously given",
    "prior",
    "above",
    "earlier",
    "preceding",
    "former",
    "foregoing",
    "original",
    "initial",
    "system",
    "developer",
    "safety",
    "anteriores",
    "previas",
    "precedentes",
    "anterieures",
    "vorherigen",
    "vorigen",
    "bisherigen",
    "obigen",
    "vorangegangenen",
    "urspr?unglichen",
    "precedenti",
)
# Qualifiers that take in every instruction.
_ALL = (
    "all",
    "any",
    "every",
    "your",
    "these",
    "those",
    "existing",
    "todas",
    "todos",
    "tus",
    "sus",
    "toutes",
    "tous",
    "tes",
    "vos",
    "alle",
    "deine",
    "ihre",
    "suas",
    "tutte",
    "tue",
)
_ORDERS = (
    r"instructions?",
    r"prompts?",
    r"directives?",
    r"directions?",
    r"commands?",
    r"guardrails?",
    "programming",
    r"orders?",
    "instrucciones",
    "indicaciones",
    "ordenes",
    "directrices",
    "consignes",
    "ordres",
    "anweisungen",
    "instruktionen",
    "befehle",
    "vorgaben",
    "anordnungen",
    "instrucoes",
    "ordens",
    "diretrizes",
    "comandos",
    "istruzioni",
    "direttive",
    "ordini",
    "comandi",
)
_LIMITS = (
    r"rules?",
    r"guidelines?",
    r"restrictions?",
    r"constraints?",
    r"polic(?:y|ies)",
    r"limitations?",
    r"filters?",
    r"safeguards?",
    "regeln",
    "reglas",
    "regles",
    "regole",
    "regras",
    "restricciones",
    "einschrankungen",
    "restricoes",
    "restrizioni",
)
_VERB = r"\b" + _words(*_DROP_VERBS) + r"\b"
_GAP = r"(?:\s+[\w'-]+){0,3}?"
_NOUN = r"\s+" + _words(*_ORDERS, *_LIMITS) + r"\b"
_ORDER_NOUN = r"\s+" + _words(*_ORDERS) + r"\b"
# "Ignore any instructions in the document": advice to the model, not an attack.
_NOT_EMBEDDED = (
    r"(?!\s+(?:(?:that|which)\s+(?:are|appear|may\s+be|might\s+be)\s+)?"
    r"(?:in|within|inside|contained\s+in|embedded\s+in|found\s+in|from)\s+"
    r"(?:the\s+|this\s+|that\s+|any\s+|these\s+|those\s+|an?\s+)?(?:retrieved\s+|following\s+)?"
    r"(?:documents?|texts?|e-?mails?|(?:web\s*)?pages?|websites?|articles?|files?|content|"
    r"inputs?|data|messages?|search\s+results?|tool\s+outputs?|results?|pdfs?|attachments?|"
    r"passages?|excerpts?|quotes?|reviews?|comments?)\b)"
)
_BACK_WORD = r"\s+" + _words(*_BACK) + r"\b"
_ALL_WORD = r"\s+" + _words(*_ALL) + r"\b"

# Short words ("tu", "du", "ab", "ora") are everywhere; where a phrase starts with one,
# the rule starts at a rarer word and looks back for the short one (one blank between).
_LANG_ROLE = (
    r"\byou\s+are\s+now\b|\bahora\s+eres\b"
    r"|(?:(?<=\btu\ses\s)|(?<=\bvous\setes\s))(?:maintenant|desormais)\b"
    r"|\bdesormais,?\s+(?:tu\s+es|vous\s+etes)\b"
    r"|(?<=\bdu\s)bist\s+jetzt\b|(?<=\bab\s)jetzt\s+bist\s+du\b|\bvon\s+nun\s+an\s+bist\s+du\b"
    r"|\bagora\s+voce\s+e\b|(?:(?<=\bora\s)|(?<=\badesso\s)|(?<=\bpoi\s))sei\b"
)
_NO_LIMITS_BEFORE = (
    r"(?<=\bno\s)|(?<=\bwithout\s)|(?<=\bwithout\sany\s)|(?<=\bno\sany\s)|(?<=\bfree\sof\s)"
    r"|(?<=\bfree\sfrom\s)|(?<=\bfree\sof\sany\s)|(?<=\bbound\sby\s)|(?<=\bbound\sby\sany\s)"
)

RULES: tuple[InjectionRule, ...] = (
    # Overriding earlier instructions.
    InjectionRule(
        "override-earlier",
        "instructions to ignore earlier instructions",
        0.95,
        _DROP_KEYWORDS,
        _VERB + _GAP + _BACK_WORD + r"(?:\s+[\w'-]+){0,2}?" + _NOUN + _NOT_EMBEDDED,
        language="*",
    ),
    InjectionRule(
        "override-earlier-after",
        "instructions to ignore earlier instructions (qualifier after the noun)",
        0.95,
        _DROP_KEYWORDS,
        _VERB + _GAP + _NOUN + _BACK_WORD,
        language="*",
    ),
    InjectionRule(
        "override-all",
        "instructions to ignore all instructions",
        0.9,
        _DROP_KEYWORDS,
        _VERB + _GAP + _ALL_WORD + r"(?:\s+[\w'-]+){0,2}?" + _ORDER_NOUN + _NOT_EMBEDDED,
        language="*",
    ),
    InjectionRule(
        "override-rules",
        "instructions to ignore all rules or restrictions",
        0.6,
        _DROP_KEYWORDS,
        _VERB + _GAP + _ALL_WORD + r"(?:\s+[\w'-]+){0,2}?" + r"\s+" + _words(*_LIMITS) + r"\b",
        language="*",
    ),
    InjectionRule(
        "ignore-above-and",
        "'ignore the above and ...'",
        0.9,
        ("ignore", "disregard", "forget"),
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?(?:the\s+|everything\s+)?"
        r"(?:above|previous(?:ly)?|prior|preceding|before(?:hand)?|earlier)\s*[,.;:!]?\s*"
        r"(?:and|then)\s+(?:instead|now|just|only|simply|say|print|output|respond|reply|write|"
        r"tell|repeat|translate|answer)\b",
    ),
    InjectionRule(
        "ignore-above",
        "'ignore the above'",
        0.6,
        ("ignore", "disregard", "forget"),
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?(?:the\s+|everything\s+)?"
        r"(?:above|previous(?:ly)?|prior|preceding|before(?:hand)?|earlier)(?=\s*(?:[,.;:!\n]|$))",
    ),
    InjectionRule(
        "forget-everything",
        "'forget everything you were told'",
        0.75,
        ("forget", "olvida", "oublie", "vergiss", "esquec*", "dimentica"),
        r"\b(?:forget|olvida|oublie|vergiss|esqueca|dimentica)\s+(?:everything|all|todo|tout|"
        r"alles|tudo|tutto)\s+(?:you\s+(?:were|have\s+been)\s+(?:told|taught|given)|"
        r"(?:that\s+)?(?:i|we)\s+(?:said|told\s+you)\s+(?:before|earlier)|"
        r"(?:lo\s+)?(?:anterior|precedent|davor|bisherige|anterior|precedente))",
        language="*",
    ),
    InjectionRule(
        "new-instructions",
        "a block of 'new instructions'",
        0.6,
        (
            *("new", "updated", "real", "actual", "true", "revised", "secret", "hidden"),
            *("nuevas", "nouvelles", "neue", "novas", "nuove"),
        ),
        r"\b(?:new|updated|real|actual|true|revised|secret|hidden|nuevas|nouvelles|neue|novas|nuove)"
        r"\s+(?:system\s+)?(?:instructions?|prompt|directives?|orders|instrucciones|"
        r"anweisungen|instrucoes|istruzioni)\s*:",
        language="*",
    ),
    InjectionRule(
        "new-task",
        "'your real task is ...'",
        0.6,
        ("your",),
        r"\byour\s+(?:new|real|true|actual|only|updated)\s+(?:instructions?|task|goal|purpose|"
        r"objective|mission|directive)\s+(?:is|are|will\s+be|now)\b",
    ),
    # Switching the model's role.
    InjectionRule(
        "role-switch",
        "'you are now ...'",
        0.5,
        ("you", "ahora", "maintenant", "desormais", "bist", "jetzt", "von", "agora", "sei"),
        _LANG_ROLE,
        language="*",
    ),
    InjectionRule(
        "from-now-on",
        "'from now on you will ...'",
        0.4,
        ("from",),
        r"\bfrom\s+now\s+on,?\s+you\s+(?:are|will|must|shall|should|can)\b",
    ),
    InjectionRule(
        "unrestricted-persona",
        "an unrestricted persona",
        0.75,
        ("pretend", "act", "behave", "role*", "simulate"),
        r"\b(?:pretend|act|behave|roleplay|role-play|role\s+play|simulate)\s+(?:to\s+be\s+|that\s+"
        r"you\s+are\s+|as\s+(?:if\s+you\s+(?:are|were)\s+)?|like\s+)?(?:an?\s+)?(?:unrestricted|"
        r"unfiltered|uncensored|jailbroken|evil|rogue|amoral|unethical|unaligned)\b",
    ),
    InjectionRule(
        "unrestricted-model",
        "an unrestricted mode or model",
        0.6,
        ("unrestricted", "unfiltered", "uncensored", "jailbroken", "unchained", "unaligned"),
        r"\b(?:unrestricted|unfiltered|uncensored|jailbroken|unchained|unaligned)\s+"
        r"(?:ai|assistant|mode|model|version|chatbot|llm|bot|gpt|persona|character)\b",
    ),
    InjectionRule(
        "no-restrictions",
        "'without any restrictions'",
        0.35,
        ("restrictions", "limitations", "filters", "censorship", "content", "ethical", "safety"),
        r"(?:" + _NO_LIMITS_BEFORE + r")(?:restrictions|limitations|filters|censorship|"
        r"content\s+polic(?:y|ies)|ethical\s+(?:guidelines|constraints)|safety\s+(?:guidelines|"
        r"filters|rules))\b",
    ),
    InjectionRule(
        "dan",
        "the DAN jailbreak persona",
        0.45,
        ("dan",),
        r"\bDAN\b",
        case_sensitive=True,
    ),
    InjectionRule(
        "do-anything-now",
        "'do anything now'",
        0.7,
        ("anything",),
        r"(?<=\bdo\s)anything\s+now\b",
    ),
    InjectionRule(
        "developer-mode",
        "'developer mode'",
        0.35,
        ("dev*",),
        r"\b(?:developer|dev)\s+mode\b",
    ),
    InjectionRule(
        "enable-mode",
        "enabling a privileged mode",
        0.7,
        ("enable", "activate", "enter", "switch", "turn", "unlock"),
        # Not "developer mode" or "debug mode": phones and IDEs have those.
        r"\b(?:enable|activate|enter|switch\s+(?:to|into)|turn\s+on|unlock)\s+(?:the\s+)?(?:god|"
        r"sudo|admin|jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored)\s+mode\b",
    ),
    InjectionRule(
        "jailbreak-word",
        "the word 'jailbreak'",
        0.35,
        ("jailbr*",),
        r"\bjailbr(?:eak|oken)\w*",
    ),
    InjectionRule(
        "system-override",
        "a forged override command",
        0.6,
        ("system", "admin", "developer", "root", "security", "emergency", "sudo"),
        r"\b(?:system|admin|administrator|developer|root|security|emergency|sudo)\s+(?:override|"
        r"mode\s+activated|access\s+granted)\b",
    ),
    # Extracting the system prompt.
    InjectionRule(
        "prompt-extraction-yours",
        "a request for the model's own system prompt",
        0.85,
        (
            *("reveal", "show", "print", "output", "repeat", "display", "leak", "dump"),
            *("disclose", "expose", "recite", "echo", "write", "spell", "tell", "give"),
            *("share", "list", "paste", "copy", "what"),
        ),
        r"\b(?:reveal|show|print|output|repeat|display|leak|dump|disclose|expose|recite|echo|"
        r"write\s+out|spell\s+out|tell|give|share|list|paste|copy|what\s+(?:is|are|was|were))"
        r"\s+(?:me\s+|us\s+)?(?:all\s+(?:of\s+)?)?your\s+(?:full\s+|entire\s+|complete\s+|exact\s+|"
        r"original\s+|initial\s+|hidden\s+|secret\s+|internal\s+|first\s+)*(?:system\s+(?:prompt|"
        r"message|instructions?)|(?:initial|original|hidden|secret|internal|developer|first|pre-?)"
        r"\s*(?:prompt|instructions?)|prompt|instructions)\b",
    ),
    InjectionRule(
        "prompt-extraction",
        "a request for the system prompt",
        0.55,
        (
            *("reveal", "show", "print", "output", "repeat", "display", "leak", "dump"),
            *("disclose", "expose", "recite", "echo"),
        ),
        r"\b(?:reveal|show|print|output|repeat|display|leak|dump|disclose|expose|recite|echo)"
        r"\s+(?:me\s+|us\s+)?the\s+(?:full\s+|entire\s+|complete\s+|exact\s+|hidden\s+)*(?:system"
        r"\s+(?:prompt|message)|initial\s+prompt|hidden\s+prompt|prompt\s+above)\b",
    ),
    InjectionRule(
        "repeat-above",
        "'repeat the words above'",
        0.8,
        ("repeat", "print", "output", "echo", "recite"),
        r"\b(?:repeat|print|output|echo|recite)\s+(?:everything|all|the\s+(?:text|words|lines|"
        r"content|messages?|instructions|prompt)s?)\s+(?:above|before|prior|so\s+far)\b",
    ),
    InjectionRule(
        "starting-with-you-are",
        "'... starting with \"You are\"'",
        0.7,
        ("starting", "beginning"),
        r"\b(?:starting|beginning)\s+with\s+[\"'`]?\s*you\s+are\b",
    ),
    InjectionRule(
        "prompt-extraction-es",
        "a request for the system prompt (Spanish)",
        0.85,
        ("muestra*", "revela*", "repite", "dime", "imprime", "ensename"),
        r"\b(?:muestra|muestrame|revela|revelame|repite|dime|imprime|ensename)\s+(?:me\s+)?"
        r"(?:tu|tus|el|las)\s+(?:prompt|mensaje|instrucciones)\s+(?:del\s+sistema|de\s+sistema|"
        r"iniciales|originales|ocultas)\b",
        language="es",
    ),
    InjectionRule(
        "prompt-extraction-fr",
        "a request for the system prompt (French)",
        0.85,
        ("montre*", "revele*", "repete*", "affiche*", "donne*"),
        r"\b(?:montre|montrez|revele|revelez|repete|repetez|affiche|affichez|donne|donnez)"
        r"(?:-moi|-nous)?\s+(?:ton|votre|le|tes|vos|les)\s+(?:prompt|message|instructions)\s+"
        r"(?:systeme|du\s+systeme|initial(?:es)?|d'origine|cachees?)\b",
        language="fr",
    ),
    InjectionRule(
        "prompt-extraction-de",
        "a request for the system prompt (German)",
        0.85,
        ("zeig*", "verrate", "wiederhole", "gib", "nenne"),
        r"\b(?:zeige|zeig|verrate|wiederhole|gib|nenne)\s+(?:mir\s+|uns\s+)?(?:deinen|deine|den|"
        r"die|ihren|ihre)\s+(?:system-?prompt|systemnachricht|(?:anfangs|ursprunglichen\s+|"
        r"geheimen\s+|versteckten\s+)?anweisungen)\b",
        language="de",
    ),
    InjectionRule(
        "prompt-extraction-pt",
        "a request for the system prompt (Portuguese)",
        0.85,
        ("mostr*", "revel*", "repit*", "repete", "diga", "imprima"),
        r"\b(?:mostre|mostra|revele|revela|repita|repete|diga|imprima)\s+(?:me\s+)?(?:o\s+|as\s+)?"
        r"(?:seu|suas|o|as)\s+(?:prompt|mensagem|instrucoes)\s+(?:do\s+sistema|de\s+sistema|"
        r"iniciais|originais|ocultas)\b",
        language="pt",
    ),
    InjectionRule(
        "prompt-extraction-it",
        "a request for the system prompt (Italian)",
        0.85,
        ("mostra*", "rivela*", "ripeti", "dimmi", "stampa"),
        r"\b(?:mostra|mostrami|rivela|rivelami|ripeti|dimmi|stampa)\s+(?:il\s+|le\s+)?(?:tuo|tue|"
        r"il|le)\s+(?:prompt|messaggio|istruzioni)\s+(?:di\s+sistema|del\s+sistema|iniziali|"
        r"originali|nascoste)\b",
        language="it",
    ),
    # Forged delimiters of chat templates.
    InjectionRule(
        "chat-template-token",
        "a chat-template control token",
        0.8,
        ("<|",),
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|"
        r"end_header_id|begin_of_text|end_of_turn|start_of_turn)\|>",
        language="*",
    ),
    InjectionRule(
        "inst-marker",
        "a Llama [INST] or <<SYS>> marker",
        0.7,
        ("[inst]", "[/inst]", "<<sys>>", "<</sys>>"),
        r"\[/?inst\]|<</?sys>>",
        language="*",
    ),
    InjectionRule(
        "role-tag",
        "a forged system or instruction tag",
        0.55,
        (
            *("<sys", "</sys", "<instruction", "</instruction"),
            *("<admin", "</admin", "<developer", "</developer"),
        ),
        r"</?(?:system|sys|instructions?|admin|developer)(?:[_-](?:prompt|message|instructions?))?"
        r"\s*>",
        language="*",
    ),
    InjectionRule(
        "instruction-heading",
        "a forged '### Instruction' heading",
        0.45,
        ("##",),
        r"(?<![^\s])#{2,}[ \t]*(?:new[ \t]+)?(?:instructions?|system(?:[ \t]+prompt)?|response)"
        r"[ \t]*:?[ \t]*(?=\n|\Z)",
        language="*",
    ),
    InjectionRule(
        "end-of-input",
        "a forged end of the user's input",
        0.35,
        ("end",),
        r"\bend\s+of\s+(?:the\s+)?(?:user\s+)?(?:input|prompt|context|instructions|system\s+prompt)"
        r"\b",
    ),
    InjectionRule(
        "begin-instructions",
        "a forged beginning of new instructions",
        0.6,
        ("begin", "start"),
        r"\b(?:begin|start\s+of)\s+(?:new\s+|system\s+|admin\s+|developer\s+)+(?:instructions?|"
        r"prompt|message)\b",
    ),
)
"""The built-in rules, in the order they are reported."""


def _automaton(words: Iterable[str]) -> Any:
    """An Aho-Corasick automaton (pyahocorasick) mapping each keyword to itself."""
    import ahocorasick  # noqa: PLC0415 - imported once per detector, not at module import

    automaton = ahocorasick.Automaton()
    for word in sorted(set(words)):
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


class RuleDetector:
    """Scores a text by the injection rules it matches (tier 1)."""

    name = "rules"

    def __init__(self, rules: Sequence[InjectionRule] = RULES) -> None:
        if not rules:
            raise GuardConfigError("a rule detector needs at least one rule")
        self._rules = tuple(rules)
        self._compiled = tuple(re.compile(rule.pattern) for rule in self._rules)
        # keyword -> (rules for which it is a whole word, rules for which it is a stem)
        by_keyword: dict[str, tuple[list[int], list[int]]] = {}
        for index, rule in enumerate(self._rules):
            for keyword in rule.keywords:
                word = keyword.rstrip("*")
                whole = word[:1].isalnum() and not keyword.endswith("*")
                by_keyword.setdefault(word, ([], []))[0 if whole else 1].append(index)
        self._by_keyword = {k: (tuple(w), tuple(s)) for k, (w, s) in by_keyword.items()}
        self._automaton = _automaton(self._by_keyword)

    @property
    def rules(self) -> tuple[InjectionRule, ...]:
        """The rules this detector runs."""
        return self._rules

    def matches(self, text: str) -> list[RuleMatch]:
        """The first match of every rule that matches ``text``, in rule order."""
        low = lowered(text)
        n = len(low)
        found: dict[int, RuleMatch] = {}
        for end, keyword in self._automaton.iter(low):
            start = end - len(keyword) + 1
            if (
                keyword[0].isalnum()
                and start
                and (low[start - 1].isalnum() or low[start - 1] == "_")
            ):
                continue  # inside a word: no word-led rule starts there
            whole, stems = self._by_keyword[keyword]
            if end + 1 < n and (low[end + 1].isalnum() or low[end + 1] == "_"):
                whole = ()  # the keyword goes on into a longer word
            for index in (*whole, *stems):
                if index in found:
                    continue
                rule = self._rules[index]
                match = self._compiled[index].match(text if rule.case_sensitive else low, start)
                if match is not None and match.end() > start:
                    found[index] = RuleMatch(rule, start, match.end())
            if len(found) == len(self._rules):
                break
        return [found[i] for i in sorted(found)]

    @staticmethod
    def combine(matches: Iterable[RuleMatch]) -> float:
        """The noisy-OR of the weights of the distinct rules matched."""
        weights = {m.rule.rule_id: m.rule.weight for m in matches}
        miss = 1.0
        for weight in weights.values():
            miss *= 1.0 - weight
        return 1.0 - miss

    def score(self, text: str) -> float:
        """The combined weight of the rules ``text`` matches."""
        return self.combine(self.matches(text))


class InjectionGuard(BaseGuard):
    """Blocks (by default) text whose injection score reaches the threshold.

    Applies to the roles given (user messages and tool results by default: a system
    prompt legitimately says "you are now..."). The score is the highest of: the rule
    detectors' combined score over every view, and each other detector's score on each
    view. Spans for ``REDACT`` are the rule matches when the text needed no
    normalisation, otherwise the whole text.
    """

    name = "injection"
    default_action = Action.BLOCK
    __slots__ = ("_detectors", "_roles", "_threshold")

    def __init__(
        self,
        *,
        detectors: Sequence[InjectionDetector] | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        roles: Iterable[Role] = (Role.USER, Role.TOOL),
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        if not 0.0 < threshold <= 1.0:
            raise GuardConfigError(f"threshold {threshold} is outside (0, 1]")
        self._detectors: tuple[InjectionDetector, ...] = (
            (_default_rules(),) if detectors is None else tuple(detectors)
        )
        if not self._detectors:
            raise GuardConfigError("an injection guard needs at least one detector")
        self._threshold = threshold
        self._roles = frozenset(roles)

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A ``prompt_injection`` hit when the score reaches the threshold."""
        if ctx.role not in self._roles or not text:
            return None
        norm = normalize(text)
        best, reasons, spans = 0.0, "", []
        for detector in self._detectors:
            score, reason, found = _score(detector, norm)
            spans.extend(found)
            if score > best:
                best, reasons = score, reason
            if best >= self._threshold:
                break
        if best < self._threshold:
            return None
        if norm.unchanged and spans:
            marks = tuple(Span(m.start, m.end, _MARK) for m in spans if m.end <= len(text))
        else:
            marks = (Span(0, len(text), _MARK),)
        return Hit(
            "prompt_injection", f"injection score {best:.2f}: {reasons}", round(best, 4), marks
        )


_MARK = "[REDACTED:prompt-injection]"


def _score(detector: InjectionDetector, norm: Normalized) -> tuple[float, str, list[RuleMatch]]:
    """``detector``'s score of the views of a text, why, and its rule matches in the
    primary view. Rules combine over all views; other detectors count their best view."""
    if isinstance(detector, RuleDetector):
        found: list[RuleMatch] = []
        primary: list[RuleMatch] = []
        views: list[str] = []
        for view in norm.views:
            matches = detector.matches(view.text)
            if matches:
                views.append(view.name)
                found.extend(matches)
                if view.name == "text":
                    primary = matches
        if not found:
            return 0.0, "", []
        why = ", ".join(dict.fromkeys(m.rule.rule_id for m in found))
        return detector.combine(found), f"rules {why} in {'/'.join(views)}", primary
    best, reason = 0.0, ""
    wanted = getattr(detector, "views", None)
    for view in norm.views:
        if wanted is not None and view.name not in wanted:
            continue
        value = min(max(float(detector.score(view.text)), 0.0), 1.0)
        if value > best:
            best, reason = value, f"{detector.name} in {view.name}"
    return best, reason, []


@functools.cache
def _default_rules() -> RuleDetector:
    """The built-in rule detector, compiled once per process."""
    return RuleDetector()

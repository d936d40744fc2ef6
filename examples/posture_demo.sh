#!/usr/bin/env bash
# The posture demo of `make demo`: score a copy of the sample project, fix it the way the
# failing controls say (remove the hostile pickle, sign, attest, register, put a gateway
# in front, add CI steps, keep raw data and notebook outputs out), score it again, and
# show what changed. Nothing here needs a network.
# Usage: examples/posture_demo.sh BIN_DIR SAMPLE_DIR WORK_DIR
set -euo pipefail
BIN=$1 SAMPLE=$2 WORK=$3
R="$BIN/ramparts"

rm -rf "$WORK" && mkdir -p "$WORK"
export RAMPARTS_STATE_DIR="$WORK/state"
export RAMPARTS_AUDIT__WORM_DIR="$WORK/worm"   # checkpoints also go to a write-once folder
mkdir -p "$WORK/worm"
unset RAMPARTS_API_URL RAMPARTS_TOKEN RAMPARTS_REDIS_URL RAMPARTS_DATABASE_URL
P="$WORK/project"
cp -R "$SAMPLE" "$P"

step() { printf '\n== %s\n' "$*"; }
score() { "$BIN/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["score"]["value"])' "$1"; }

step "ramparts posture on the sample project as it is (the run is recorded for the next diff)"
"$R" --quiet posture "$P" --approved-provider openai -f json -o "$WORK/before.json"
"$R" posture "$P" --approved-provider openai --no-record | head -n 24
BEFORE=$(score "$WORK/before.json")

step "fix it: what the failing controls ask for"
rm "$P/models/classifier.pkl" "$P/notebooks/exploration.ipynb" "$P/data/customers.csv"
rm -rf "$P/.cursor" "$P/infra" "$P/deploy"
rm -f "$P/summarise.py"
sed -i 's/model = pickle.load(fh).*/model = None  # loaded from the registry, never unpickled/' "$P/serve.py"
sed -i 's#http://inference.internal:8080#https://inference.internal#' "$P/config/settings.yaml"
"$R" keygen "$WORK/signing.pem" >/dev/null
"$R" sign "$P/models" --key "$WORK/signing.pem" >/dev/null
"$R" attest "$P/models" --key "$WORK/signing.pem" --builder-id https://ci.example/runner \
  --repository https://git.example/acme/sample --commit 0123456789abcdef0123456789abcdef01234567 \
  --output "$P/models.provenance.json" >/dev/null
"$R" --quiet bom "$P" --output "$P/bom.cdx.json" 2>/dev/null
"$R" registry push "$P/models" --name churn --team ml --signature "$P/models/model.sig" \
  --provenance "$P/models.provenance.json" >/dev/null
"$R" audit checkpoint >/dev/null
cat >"$P/gateway.toml" <<'TOML'
[gateway]
limiter_unavailable = "closed"

[[routes]]
name = "openai"
upstream = "https://api.openai.com/v1"
upstream_key_env = "OPENAI_API_KEY"
TOML
cat >"$P/.github/workflows/ci.yml" <<'YAML'
name: ci
on: [push, pull_request]
permissions:
  contents: read
  security-events: write
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install ramparts -r requirements.txt
      - run: ramparts scan . --format sarif --output ramparts.sarif
      - run: ramparts scan deps .
      - run: ramparts sign models --sigstore
      - run: ramparts attest models --key signing.pem --output models.provenance.json
      - run: ramparts posture . --fail-under 60
      - uses: github/codeql-action/upload-sarif@v3
        with:
          sarif_file: ramparts.sarif
      - run: python -m pytest
YAML
"$R" --quiet posture "$P" --approved-provider openai --templates --no-record -f json -o /dev/null
echo "signed, attested, registered, ML-BOM written, gateway configured, CI steps added"

step "ramparts posture again: the score rises and the diff says why"
# The reports first (not recorded), so that each compares with the run before the fixes.
"$R" --quiet posture "$P" --approved-provider openai --no-record -f markdown -o "$WORK/posture.md"
"$R" --quiet posture "$P" --approved-provider openai --no-record -f html -o "$WORK/posture.html"
"$R" --quiet posture "$P" --approved-provider openai -f json -o "$WORK/after.json"
AFTER=$(score "$WORK/after.json")
"$BIN/python" - "$WORK/after.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
previous = report.get("previous") or {}
for change in previous.get("changes", [])[:25]:
    print("  " + change["text"])
PY
echo "score before: $BEFORE, after: $AFTER (reports: $WORK/posture.md, $WORK/posture.html)"
"$BIN/python" -c 'import sys; sys.exit(0 if float(sys.argv[2]) > float(sys.argv[1]) else "demo: the score did not rise")' "$BEFORE" "$AFTER"

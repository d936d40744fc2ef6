#!/usr/bin/env bash
# The registry demo of `make demo`: the sample model is refused by the prod gates until it
# is clean, signed, attested and approved by someone other than its author; then it is
# promoted, a newer version replaces it, and one command rolls prod back. Alice, Bob and
# Carol talk to the control plane (`ramparts serve`, started here on a free loopback port).
# Usage: examples/registry_demo.sh BIN_DIR SAMPLE_DIR WORK_DIR
set -euo pipefail
BIN=$1 SAMPLE=$2 WORK=$3
R="$BIN/ramparts"
PY="$BIN/python"

rm -rf "$WORK" && mkdir -p "$WORK"
export RAMPARTS_STATE_DIR="$WORK/state"
export RAMPARTS_REGISTRY__TRUSTED_KEYS="[\"$WORK/signing.pub.pem\"]"
export RAMPARTS_REGISTRY__PROVENANCE_BUILDER=https://ci.example/runner
export RAMPARTS_REGISTRY__PROVENANCE_REPOSITORY=https://git.example/acme/sample
unset RAMPARTS_API_URL RAMPARTS_TOKEN

step() { printf '\n== %s\n' "$*"; }
refused() {  # run a command that must be refused (exit 1)
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -ne 1 ]; then echo "demo: expected a refusal (exit 1), got exit $rc" >&2; exit 1; fi
}
totp() { "$PY" -c 'import json,sys,pyotp; print(pyotp.TOTP(json.load(open(sys.argv[1]))["secret"]).now())' "$1"; }
as() { RAMPARTS_API_URL=$URL RAMPARTS_TOKEN=$(cat "$WORK/$1.token") "${@:2}"; }

step "people: alice writes models, bob approves them, carol publishes them (team sample)"
"$R" identity create alice --role model-author --team sample >/dev/null
"$R" identity create bob --role model-approver --team sample >/dev/null
"$R" identity create carol --role model-publisher --team sample >/dev/null
for who in bob carol; do
  "$R" -f json identity mfa "$who" >"$WORK/$who.mfa" 2>/dev/null
  "$R" identity token "$who" --totp "$(totp "$WORK/$who.mfa")" >"$WORK/$who.token" 2>/dev/null
done
"$R" identity token alice >"$WORK/alice.token" 2>/dev/null
"$R" identity list

step "the control plane: ramparts serve (every request authenticated, authorised, audited)"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$R" serve --port "$PORT" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
"$PY" - "$URL" <<'WAIT'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("demo: the control plane did not start")
WAIT
echo "serving on $URL (OpenAPI: $URL/openapi.json)"

step "alice pushes the sample's models: scanned, hashed, described in an ML-BOM, stored encrypted"
cp -R "$SAMPLE/models" "$WORK/models"
as alice "$R" registry push "$WORK/models" --name sample
step "the prod gates refuse sample@1 (a hostile pickle, no signature, no provenance, no approval)"
refused as carol "$R" registry promote sample@1 --stage prod

step "alice removes the hostile pickle, signs the model and attests its provenance"
rm "$WORK/models/classifier.pkl"
"$R" keygen "$WORK/signing.pem" >/dev/null
"$R" sign "$WORK/models" --key "$WORK/signing.pem" >/dev/null
"$R" attest "$WORK/models" --key "$WORK/signing.pem" --builder-id https://ci.example/runner \
  --repository https://git.example/acme/sample --commit 0123456789abcdef0123456789abcdef01234567 >/dev/null
as alice "$R" registry push "$WORK/models" --name sample
as carol "$R" registry gates sample@2 --stage prod || true
step "alice may not approve her own version; bob (with his second factor) may"
refused as alice "$R" registry approve sample@2
as bob "$R" registry approve sample@2 --comment "reviewed eval report"
step "carol promotes sample@2 to prod"
as carol "$R" registry promote sample@2 --stage prod

step "a newer version goes to prod, then carol rolls prod back with one command"
printf '{"labels": 3, "retrained": true}' >"$WORK/models/config.json"
"$R" sign "$WORK/models" --key "$WORK/signing.pem" >/dev/null
rm "$WORK/models.intoto.jsonl"
"$R" attest "$WORK/models" --key "$WORK/signing.pem" --builder-id https://ci.example/runner \
  --repository https://git.example/acme/sample --commit 89abcdef0123456789abcdef0123456789abcdef >/dev/null
as alice "$R" registry push "$WORK/models" --name sample >/dev/null
as bob "$R" registry approve sample@3 >/dev/null
as carol "$R" registry promote sample@3 --stage prod | tail -1
as carol "$R" registry rollback sample --stage prod
as carol "$R" registry list sample

step "every step above is in the tamper-evident audit log"
kill $SERVER && wait $SERVER 2>/dev/null || true
trap - EXIT
"$R" audit verify

#!/usr/bin/env bash
# Runs the outside judge — scim2-tester through scim2-cli's `scim test` — against the
# built-in reference endpoint, and keeps its output.
#
#   scripts/outside-judge.sh [OUTPUT_FILE]
#
# Environment:
#   JUDGE_VENV        where the Python venv lives (default: target/judge-venv)
#   CARGO_TARGET_DIR  honoured for the example build
#
# The bearer token is random per run, passed to the server and to the judge only through
# environment variables (never on a command line), and never printed.
set -euo pipefail

# Pinned versions: the results recorded in docs/outside-judge.md are for exactly these.
SCIM2_TESTER=0.5.2
SCIM2_CLI=0.6.0
SCIM2_CLIENT=0.13.2
SCIM2_MODELS=0.12.3

cd "$(dirname "$0")/.."
output="${1:-target/outside-judge.txt}"
venv="${JUDGE_VENV:-target/judge-venv}"
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$(dirname "$output")"

if [ ! -x "$venv/bin/scim" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet \
        "scim2-tester==$SCIM2_TESTER" "scim2-cli==$SCIM2_CLI" \
        "scim2-client==$SCIM2_CLIENT" "scim2-models==$SCIM2_MODELS"
fi

cargo build --quiet --example reference_serve

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"

SCIMREPLAY_TOKEN="$token" "$target_dir/debug/examples/reference_serve" "$port" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

for _ in $(seq 50); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

status=0
SCIM_CLI_HEADERS="Authorization: Bearer $token" \
    "$venv/bin/scim" --url "http://127.0.0.1:$port/scim/v2" test >"$output" 2>&1 || status=$?

echo "scim2-tester $SCIM2_TESTER via scim2-cli $SCIM2_CLI: exit $status"
grep -E '^[A-Z]+ ' "$output" | awk '{print $1}' | sort | uniq -c
grep -E '^(ERROR|CRITICAL|SKIPPED|WARNING)' -A2 "$output" || true
echo "full output: $output"
exit "$status"

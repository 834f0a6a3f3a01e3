#!/usr/bin/env bash
# The catalogue against a real third-party SCIM server: scim2-server (PyPI, the python-scim
# project), pinned in tests/scim2-server/requirements.txt.
#
# It installs the server into a virtual environment, starts it on a free loopback port,
# replays the whole catalogue against it, and fails when anything changed:
#   - the findings (one line per failed check or skipped step) differ from
#     tests/scim2-server/expected-findings.txt, or
#   - a transcript differs from, or is missing in, the baseline snapshots/scim2-server/.
# Each expected finding is explained in docs/scim2-server-findings.md.
#
# Usage: .ci/third-party.sh            compare (CI; writes nothing into the repository)
#        .ci/third-party.sh --bless    rewrite the baseline and the expected findings
set -euo pipefail
cd "$(dirname "$0")/.."

bless=false
case "${1:-}" in
  --bless) bless=true ;;
  "") ;;
  *) echo "usage: $0 [--bless]" >&2; exit 3 ;;
esac

work="${CARGO_TARGET_DIR:-target}/third-party"
venv="$work/scim2-venv"
out="$work/run"
expected="tests/scim2-server/expected-findings.txt"
requirements="tests/scim2-server/requirements.txt"
mkdir -p "$work"
rm -rf "$out"
mkdir -p "$out"

# The venv is reused while the pinned requirements are unchanged.
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
  echo "== installing scim2-server into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="third-party-$(date +%s)-$$"
echo "== starting scim2-server on 127.0.0.1:$port"
"$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" \
  >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

ready=false
for _ in $(seq 1 100); do
  if ! kill -0 "$server" 2>/dev/null; then
    break
  fi
  if "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; then
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
PY
    ready=true
    break
  fi
  sleep 0.1
done
if ! $ready; then
  echo "scim2-server did not start; its log:" >&2
  cat "$out/server.log" >&2
  exit 1
fi

snapshot_mode=(--require-snapshots)
if $bless; then
  rm -rf snapshots/scim2-server
  snapshot_mode=(--update-snapshots)
fi

echo "== scimreplay run against scim2-server"
status=0
# One scenario at a time: the server's answers to list queries then do not depend on timing.
SCIMREPLAY_TOKEN="$token" CI=true cargo run --quiet -- run \
  --target "http://127.0.0.1:$port/v2" \
  --baseline scim2-server "${snapshot_mode[@]}" \
  --jobs 1 --timeout 30 --color never \
  --findings "$out/findings.txt" --json "$out/report.json" \
  --state-dir "$out/state" >"$out/run.txt" 2>&1 || status=$?
tail -n 1 "$out/run.txt"
# 0, 1 (checks failed) and 2 (drift) are results to compare; anything else is a broken run.
if [ "$status" -gt 2 ]; then
  echo "scimreplay exited with $status:" >&2
  cat "$out/run.txt" >&2
  exit 1
fi

if $bless; then
  # A failing transcript is only a pending proposal (.snap.new); this baseline records the
  # server as it is, failures included, so bless accepts them on purpose.
  cargo run --quiet -- accept --baseline scim2-server --snapshot-dir snapshots --color never >/dev/null
  cp "$out/findings.txt" "$expected"
  echo "== wrote snapshots/scim2-server/ and $expected; review the diff"
  exit 0
fi

failed=false
if ! diff -u "$expected" "$out/findings.txt"; then
  echo "the findings against scim2-server changed (diff above: - expected, + now)" >&2
  failed=true
fi
snapshots="$(python3 - "$out/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for scenario in report["scenarios"]:
    state = scenario["snapshot"]["state"]
    # A transcript with skipped steps is never stored, so it has no baseline to match.
    incomplete = any(step["status"] == "skipped" for step in scenario["steps"])
    if state != "matched" and not (state == "missing" and incomplete):
        print(f"{scenario['name']}: snapshot {state}")
PY
)"
if [ -n "$snapshots" ]; then
  echo "$snapshots" >&2
  echo "the transcripts against scim2-server differ from snapshots/scim2-server/" >&2
  grep -A20 "snapshot diff against" "$out/run.txt" | head -n 120 >&2 || true
  failed=true
fi
if $failed; then
  echo "if the change is intended: .ci/third-party.sh --bless, then review the diff and" >&2
  echo "update docs/scim2-server-findings.md" >&2
  exit 1
fi
echo "== scim2-server: findings and baseline unchanged ($(wc -l <"$expected") expected findings)"

#!/usr/bin/env bash
# The load harness beside oha, and Entra's initial cycle at 10 k users (docs/performance.md).
#
#   benches/load-vs-oha.sh [CONCURRENCY] [SECONDS]      defaults: 16 in flight, 10 s per tool
#   ORDER=oha benches/load-vs-oha.sh ...                 oha's probe run first instead of ours
#   PROBE_ONLY=1 benches/load-vs-oha.sh ...              skip the initial cycle (step 4)
#   PIN=1 benches/load-vs-oha.sh ...                     the server on CPU 0, each client on CPU 1
#
# Unpinned, the server and the client share every core, so a client that spends more CPU per
# request also slows the server it measures. Pinned, each has a core of its own and the
# question is only whether the client keeps up with the server (needs taskset, 2+ cores).
#
# 1. Installs oha from crates.io into a local root (OHA_ROOT, default
#    ~/.cache/scimreplay-bench) unless one is on PATH or already there.
# 2. Builds the release binary and starts `scimreplay serve` on a free loopback port.
# 3. Sends Test Connection's probe (`GET /Users?filter=userName eq "<guid>"`) for SECONDS with
#    `scimreplay load --profile probe --rate 0 --concurrency C`, then the same request with
#    `oha -c C`, and prints both requests/s and their ratio (the target is >= 0.8).
# 4. Against a fresh `serve`, runs the initial cycle of 10 000 users / 100 groups / 10 000
#    memberships at `--rate 0` and prints requests/s, p99 per action kind and the peak RSS
#    of both processes.
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency="${1:-16}"
seconds="${2:-10}"
target_dir="${CARGO_TARGET_DIR:-target}"
oha_root="${OHA_ROOT:-$HOME/.cache/scimreplay-bench}"
token="bench-token-$$"
work="$(mktemp -d)"
servers=()
cleanup() {
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

if command -v oha >/dev/null; then
    oha="$(command -v oha)"
elif [ -x "$oha_root/bin/oha" ]; then
    oha="$oha_root/bin/oha"
else
    cargo install oha --locked --root "$oha_root"
    oha="$oha_root/bin/oha"
fi
cargo build --quiet --release --bin scimreplay
bin="$target_dir/release/scimreplay"

server_cpu=()
client_cpu=()
if [ -n "${PIN:-}" ]; then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `scimreplay serve` under /usr/bin/time (peak RSS into $1); sets $base and $serve.
start_serve() {
    local port
    port="$(free_port)"
    SCIMREPLAY_TOKEN="$token" /usr/bin/time -f "%M" -o "$1" \
        "${server_cpu[@]}" "$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
    local timer=$!
    servers+=("$timer")
    base="http://127.0.0.1:$port/scim/v2"
    for _ in $(seq 100); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    serve="$(pgrep -P "$timer")"
}

# Stops the server started last (its timer writes the peak RSS on exit).
stop_serve() {
    kill -TERM "$serve" 2>/dev/null || true
    wait "${servers[-1]}" 2>/dev/null || true
}

json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

echo "machine: $(nproc) cores; $(uptime)"
echo "oha: $("$oha" --version)"

start_serve "$work/serve-probe.rss"
guid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
url="$base/Users?filter=userName+eq+%22$guid%22"

run_harness() {
    SCIMREPLAY_TOKEN="$token" "${client_cpu[@]}" "$bin" load --target "$base" --profile probe --rate 0 \
        --concurrency "$concurrency" --duration "$seconds" --json "$work/probe.json" >"$work/probe.out"
    harness="$(json "$work/probe.json" 'r["requests_per_s"]')"
    echo "scimreplay load --profile probe --rate 0 --concurrency $concurrency --duration $seconds: $harness req/s"
}
run_oha() {
    "${client_cpu[@]}" "$oha" --no-tui -z "${seconds}s" -c "$concurrency" --output-format json \
        -H "Authorization: Bearer $token" "$url" >"$work/oha.json"
    ohas="$(json "$work/oha.json" 'round(r["summary"]["requestsPerSec"], 1)')"
    local ok
    ok="$(json "$work/oha.json" 'r["statusCodeDistribution"]')"
    echo "oha --no-tui -z ${seconds}s -c $concurrency GET /Users?filter=userName eq \"<guid>\": $ohas req/s (statuses $ok)"
}

echo
echo "== probe, $concurrency in flight, $seconds s each (${ORDER:-harness} first${PIN:+, server on CPU 0, client on CPU 1})"
# ORDER=oha runs oha first: alternate between runs so neither tool always gets the warmer
# (or the quieter) machine.
if [ "${ORDER:-harness}" = oha ]; then
    run_oha
    run_harness
else
    run_harness
    run_oha
fi
python3 -c "print(f'ratio harness / oha: {float($harness) / float($ohas):.2f}')"
stop_serve
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

[ -n "${PROBE_ONLY:-}" ] && exit 0

echo
echo "== initial cycle: 10 000 users, 100 groups, 10 000 memberships, --rate 0, concurrency $concurrency"
start_serve "$work/serve-cycle.rss"
SCIMREPLAY_TOKEN="$token" /usr/bin/time -f "%e %M" -o "$work/load.time" \
    "$bin" load --target "$base" --users 10000 --groups 100 --members 10000 --rate 0 \
    --concurrency "$concurrency" --json "$work/cycle.json" >"$work/cycle.out" || true
stop_serve
tail -n +2 "$work/cycle.out" | sed -n '1,20p'
json "$work/cycle.json" '"requests %d in %.1f s: %.1f req/s, failures %d" % (r["requests"], r["duration_s"], r["requests_per_s"], r["failures"])'
json "$work/cycle.json" '"; ".join("%s p99 %.2f ms" % (k, v["latency_ms"]["p99"]) for k, v in r["kinds"].items())'
read -r wall load_rss <"$work/load.time"
echo "peak RSS: scimreplay load $((load_rss / 1024)) MiB (wall $wall s), scimreplay serve $(($(tail -1 "$work/serve-cycle.rss") / 1024)) MiB"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

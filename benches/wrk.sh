#!/usr/bin/env bash
# Load-tests the reference endpoint on loopback with wrk (see docs/bench.md).
#
#   benches/wrk.sh [USERS] [DURATION]      defaults: 10000 users, 15s per run
#
# Builds the `reference_serve` example in release mode, seeds USERS users over one
# keep-alive connection, then runs wrk against a GET by id and three filter queries.
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-10000}"
duration="${2:-15s}"
target_dir="${CARGO_TARGET_DIR:-target}"
token="bench-token"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cargo build --quiet --release --example reference_serve
SCIMREPLAY_TOKEN="$token" "$target_dir/release/examples/reference_serve" "$port" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
sleep 1

id="$(python3 - "$port" "$users" "$token" <<'PY'
import http.client, json, sys
port, n, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json; charset=utf-8"}
middle = None
for i in range(n):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"user{i}@example.com",
            "externalId": f"ext-{i}", "active": True, "name": {"givenName": "User", "familyName": str(i)},
            "emails": [{"value": f"user{i}@example.com", "type": "work", "primary": True}]}
    conn.request("POST", "/scim/v2/Users", json.dumps(body), headers)
    reply = conn.getresponse()
    created = json.loads(reply.read())
    assert reply.status == 201, created
    if i == n // 2:
        middle = created["id"]
print(middle)
PY
)"
half=$((users / 2))
base="http://127.0.0.1:$port/scim/v2"
echo "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); users: $users"
for url in \
    "$base/Users/$id" \
    "$base/Users?filter=userName+eq+%22user$half%40example.com%22" \
    "$base/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22user$half%40example.com%22" \
    "$base/Users?filter=name.familyName+eq+%22$half%22"; do
    wrk -t2 -c32 -d"$duration" -H "Authorization: Bearer $token" "$url"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
done

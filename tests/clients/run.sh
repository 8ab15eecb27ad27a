#!/usr/bin/env bash
# Runs third-party OAuth libraries, unmodified and at pinned versions, against one real `serve` process
# (docs/CLIENTS.md):
#
#   bash tests/clients/run.sh [BINARY]                   every driver must pass
#   bash tests/clients/run.sh --prove-failure [BINARY]   every driver must FAIL on a broken answer, naming its
#                                                        library, the step and the mock's answer
#
# BINARY defaults to target/release/amazon-music-mock. Installs the Python packages into a venv under target/
# (python/requirements.txt) and the Node packages with `npm ci` (node/package-lock.json), starts the server on
# a free port, runs the drivers in parallel, each in a mock session of its own, and stops the server. Exits 1
# naming the drivers that did not do what the mode expects.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
target_dir="${CARGO_TARGET_DIR:-$top/target}"

mode=pass
if [ "${1:-}" = --prove-failure ]; then
  mode=fail
  shift
fi
bin="${1:-$target_dir/release/amazon-music-mock}"
[ -x "$bin" ] || { echo "error: no server binary at $bin (cargo build --release)" >&2; exit 1; }

# Library name as the driver prints it | language | driver file.
drivers=(
  "authlib|python|authlib_driver.py"
  "requests-oauthlib|python|requests_oauthlib_driver.py"
  "oauthlib|python|oauthlib_driver.py"
  "ask-sdk LwaClient|python|ask_sdk_driver.py"
  "openid-client|node|openid_client.mjs"
  "simple-oauth2|node|simple_oauth2.mjs"
)

# --- Install the pinned libraries ---------------------------------------------------------------------------
venv="$target_dir/clients/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { echo "error: python3 -m venv failed: install python3-venv" >&2; exit 1; }
fi
if ! cmp -s "$here/python/requirements.txt" "$venv/requirements.txt"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
  cp "$here/python/requirements.txt" "$venv/requirements.txt"
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed; the Node drivers need it" >&2; exit 1; }
done
(cd "$here/node" && npm ci --silent --no-audit --no-fund)

# --- One server for every driver ----------------------------------------------------------------------------
work=$(mktemp -d)
"$bin" serve --bind 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on //p' "$work/serve.log" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  cat "$work/serve.log" >&2
  echo "error: $bin serve printed no listening line" >&2
  exit 1
fi
echo "server: $url ($mode mode)"

# --- The drivers, in parallel, one mock session each ---------------------------------------------------------
pids=()
for entry in "${drivers[@]}"; do
  IFS='|' read -r library lang file <<<"$entry"
  name=${file%.*}
  if [ "$mode" = fail ]; then
    session="fail-$name"
    # The broken answer: the first GET /v1/me of the session is a 500 INTERNAL (docs/ADMIN.md, faults).
    curl -sf -X POST "$url/s/$session/__admin/faults" -H 'content-type: application/json' \
      -d '{"route":"GET /v1/me","error":"INTERNAL","count":1}' >/dev/null
  else
    session="clients-$name"
  fi
  case $lang in
    python) run=("$venv/bin/python" "$here/python/$file") ;;
    node) run=(node "$here/node/$file") ;;
  esac
  timeout 120 "${run[@]}" "$url" "$session" >"$work/$name.out" 2>&1 &
  pids+=($!)
done

passed=0
failed=()
i=0
for entry in "${drivers[@]}"; do
  IFS='|' read -r library lang file <<<"$entry"
  name=${file%.*}
  code=0
  wait "${pids[$i]}" || code=$?
  i=$((i + 1))
  printf '\n--- %s (%s, exit %s)\n' "$library" "$file" "$code"
  cat "$work/$name.out"
  if [ "$mode" = pass ]; then
    [ "$code" = 0 ] && passed=$((passed + 1)) || failed+=("$library")
  else
    # It must have failed, at the faulted step, naming the library, the step and the mock's 500 answer.
    if [ "$code" != 0 ] && grep -q "^FAIL $library: step \"GET /v1/me[^\"]*\": .*the mock answered 500 .*INTERNAL" \
      "$work/$name.out"; then
      echo ">>> failed as it must: library, step and the mock's answer named"
      passed=$((passed + 1))
    else
      echo ">>> did not fail as it must (exit $code, no FAIL line naming $library, GET /v1/me and the 500)"
      failed+=("$library")
    fi
  fi
done

echo
if [ "$mode" = pass ]; then
  echo "drivers: $passed passed, ${#failed[@]} failed"
else
  echo "failure proof: $passed passed, ${#failed[@]} failed"
fi
if [ "${#failed[@]}" != 0 ]; then
  printf 'error: these drivers did not do what the %s mode expects: %s\n' "$mode" "$(IFS=,; echo "${failed[*]}" | sed 's/,/, /g')" >&2
  exit 1
fi

#!/usr/bin/env bash
# Run the integration tests against a private, throw-away RabbitMQ node (Debian's
# rabbitmq-server package: apt-get install -y rabbitmq-server) to check that the tests
# encode RabbitMQ's real behaviour.  Not run by ctest (its name does not start with test_).
#
#   bash tests/integration/run_against_rabbitmq.sh [test-file ...]
#   bash tests/integration/run_against_rabbitmq.sh --serve   # keep the node up until Ctrl-C
#
# The node has the management plugin (the admin API tests' reference) on RMQ_HTTP_PORT, and
# admin-ui/dev_server.py serves Roost's dashboard in front of it, so test_dashboard.js
# drives the same UI against RabbitMQ's API.  --serve prints the environment the tests
# get, for trying things by hand.
#
# Env: RMQ_PORT (AMQP, default 5699), RMQ_HTTP_PORT (15699), RMQ_DIST_PORT (25699),
# RMQ_EPMD_PORT (4399), RMQ_REMOTE_PORT (5698).  Every port is private to this node: a
# RabbitMQ already running on the machine (5672, 15672, epmd 4369) is not touched.  The
# node, its own epmd, the dashboard server and the temp dir are removed on exit.
# AMQP listens on 127.0.0.1:RMQ_PORT and, when the machine has a non-loopback IPv4 address
# (the first of `ip -4 -o addr show scope global`), also on <address>:RMQ_REMOTE_PORT, given
# to the tests as ROOST_EXTERNAL_REMOTE=<address>:<port> (test_access_control.py connects
# there to be a non-loopback client).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RMQ_PORT="${RMQ_PORT:-5699}"
RMQ_DIST_PORT="${RMQ_DIST_PORT:-25699}"
RMQ_EPMD_PORT="${RMQ_EPMD_PORT:-4399}"
RMQ_HTTP_PORT="${RMQ_HTTP_PORT:-15699}"
RMQ_REMOTE_PORT="${RMQ_REMOTE_PORT:-5698}"
SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server

if [[ ! -x "$SERVER" ]]; then
  echo "rabbitmq-server is not installed (apt-get install -y rabbitmq-server)" >&2
  exit 2
fi

BASE="$(mktemp -d /tmp/roost-rabbitmq.XXXXXX)"
mkdir -p "$BASE/mnesia" "$BASE/log" "$BASE/home"
echo '[rabbitmq_management].' >"$BASE/enabled_plugins"
printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\nlisteners.tcp.1 = 127.0.0.1:%s\n' \
  "$RMQ_HTTP_PORT" "$RMQ_PORT" >"$BASE/rabbitmq.conf"
REMOTE_ADDR="$(ip -4 -o addr show scope global 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')"
ROOST_EXTERNAL_REMOTE=""
if [[ -n "$REMOTE_ADDR" ]]; then
  printf 'listeners.tcp.2 = %s:%s\n' "$REMOTE_ADDR" "$RMQ_REMOTE_PORT" >>"$BASE/rabbitmq.conf"
  ROOST_EXTERNAL_REMOTE="$REMOTE_ADDR:$RMQ_REMOTE_PORT"
fi
WRAPPER_PID=""
DASHBOARD_PID=""

cleanup() {
  if [[ -n "$DASHBOARD_PID" ]]; then kill -TERM "$DASHBOARD_PID" 2>/dev/null; fi
  if [[ -n "$WRAPPER_PID" ]] && kill -0 "$WRAPPER_PID" 2>/dev/null; then
    local beam
    beam="$(pgrep -P "$WRAPPER_PID" beam.smp || true)"
    if [[ -n "$beam" ]]; then kill -TERM "$beam" 2>/dev/null; fi
    for _ in $(seq 1 300); do kill -0 "$WRAPPER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$WRAPPER_PID" 2>/dev/null; then
      echo "rabbitmq did not stop within 30 s; killing it" >&2
      [[ -n "$beam" ]] && kill -KILL "$beam" 2>/dev/null
      kill -KILL "$WRAPPER_PID" 2>/dev/null
    fi
  fi
  ERL_EPMD_PORT="$RMQ_EPMD_PORT" epmd -port "$RMQ_EPMD_PORT" -kill >/dev/null 2>&1 || true
  rm -rf "$BASE"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

export HOME="$BASE/home" ERL_EPMD_PORT="$RMQ_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
# The AMQP listeners are in rabbitmq.conf (RABBITMQ_NODE_IP_ADDRESS / _PORT would replace them).
export RABBITMQ_NODENAME="roosttest@localhost" RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
export RABBITMQ_MNESIA_BASE="$BASE/mnesia" RABBITMQ_LOG_BASE="$BASE/log"
export RABBITMQ_ENABLED_PLUGINS_FILE="$BASE/enabled_plugins" RABBITMQ_CONFIG_FILE="$BASE/rabbitmq"

coproc RMQ { exec "$SERVER" 2>&1; }
WRAPPER_PID=$RMQ_PID
ready=""
while IFS= read -r -t 90 -u "${RMQ[0]}" line; do
  echo "rabbitmq: $line"
  if [[ "$line" == *"Starting broker... completed"* ]]; then ready=1; break; fi
done
if [[ -z "$ready" ]]; then
  echo "rabbitmq did not start (see $BASE/log)" >&2
  exit 1
fi
# keep draining the node's output so it never blocks on a full pipe
exec {RMQ_OUT}<&"${RMQ[0]}"
cat <&"$RMQ_OUT" >"$BASE/log/stdout.log" &

# The dashboard's files in front of the node's API; port 0, read back from its first line.
# (A process substitution, not a second coproc: bash runs one coproc at a time.)
exec {DASHBOARD_OUT}< <(exec /usr/bin/python3 "$HERE/../../admin-ui/dev_server.py" --port 0 \
  --upstream "http://127.0.0.1:$RMQ_HTTP_PORT" 2>&1)
DASHBOARD_PID=$!
dashboard_port=""
if IFS= read -r -t 10 -u "$DASHBOARD_OUT" line && [[ "$line" == "listening http "* ]]; then
  dashboard_port="${line##* }"
fi
if [[ -z "$dashboard_port" ]]; then
  echo "admin-ui/dev_server.py did not start: ${line:-no output}" >&2
  exit 1
fi
cat <&"$DASHBOARD_OUT" >"$BASE/log/dashboard.log" &

unset ROOST_BIN
export ROOST_EXTERNAL_PORT="$RMQ_PORT" ROOST_EXTERNAL_HTTP_PORT="$RMQ_HTTP_PORT" ROOST_EXTERNAL_REMOTE
export ROOST_DASHBOARD_URL="http://127.0.0.1:$dashboard_port" NODE_PATH="$HERE/../node_modules"
cd "$HERE"
if [[ "${1:-}" == "--serve" ]]; then
  echo "RabbitMQ is up (management API on 127.0.0.1:$RMQ_HTTP_PORT); Ctrl-C stops it. For the tests:"
  echo "export ROOST_EXTERNAL_PORT=$RMQ_PORT ROOST_EXTERNAL_HTTP_PORT=$RMQ_HTTP_PORT ROOST_DASHBOARD_URL=$ROOST_DASHBOARD_URL ROOST_EXTERNAL_REMOTE=$ROOST_EXTERNAL_REMOTE"
  wait "$WRAPPER_PID"
  exit 1
fi
files=("$@")
if [[ ${#files[@]} -eq 0 ]]; then files=(test_*.py test_*.js test_*.sh); fi
status=0
for f in "${files[@]}"; do
  case "$f" in
    *.py) runner=/usr/bin/python3 ;;
    *.js) runner=node ;;
    *) runner=bash ;;
  esac
  out="$(timeout 300 "$runner" "$f" 2>&1)"
  rc=$?
  echo "== $f: exit $rc, $(tail -n 1 <<<"$out")"
  if [[ $rc -ne 0 ]]; then status=1; grep -v '^ok ' <<<"$out"; fi
done
exit $status

#!/usr/bin/env bash
# Run the integration tests against a private, throw-away RabbitMQ node (Debian's
# rabbitmq-server package: apt-get install -y rabbitmq-server) to check that the tests
# encode RabbitMQ's real behaviour.  Not run by ctest (its name does not start with test_).
#
#   bash tests/integration/run_against_rabbitmq.sh [test-file ...]
#
# Env: RMQ_PORT (AMQP, default 5699), RMQ_DIST_PORT (25699), RMQ_EPMD_PORT (4399).
# The node, its own epmd and its temp dir are removed on exit.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RMQ_PORT="${RMQ_PORT:-5699}"
RMQ_DIST_PORT="${RMQ_DIST_PORT:-25699}"
RMQ_EPMD_PORT="${RMQ_EPMD_PORT:-4399}"
SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server

if [[ ! -x "$SERVER" ]]; then
  echo "rabbitmq-server is not installed (apt-get install -y rabbitmq-server)" >&2
  exit 2
fi

BASE="$(mktemp -d /tmp/roost-rabbitmq.XXXXXX)"
mkdir -p "$BASE/mnesia" "$BASE/log" "$BASE/home"
echo '[].' >"$BASE/enabled_plugins"
: >"$BASE/rabbitmq.conf"
WRAPPER_PID=""

cleanup() {
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
export RABBITMQ_NODENAME="roosttest@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$RMQ_PORT" RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
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

unset ROOST_BIN
export ROOST_EXTERNAL_PORT="$RMQ_PORT" NODE_PATH="$HERE/../node_modules"
cd "$HERE"
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

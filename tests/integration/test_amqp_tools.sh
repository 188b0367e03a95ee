#!/usr/bin/env bash
# Round trips with Debian's amqp-tools (librabbitmq): amqp-declare-queue, amqp-publish,
# amqp-get, amqp-consume -c, amqp-delete-queue.
# The broker is supervised by start_roost.py (port 0, temp data dir) and stopped by PID on
# exit; with ROOST_EXTERNAL_PORT=<port> an existing broker is used instead.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3
TOOL_TIMEOUT=20
WORK="$(mktemp -d /tmp/roost-amqp-tools.XXXXXX)"
SUP_PID=""
PASSED=0
FAILED=0
FAILURES=()

for t in amqp-declare-queue amqp-publish amqp-get amqp-consume amqp-delete-queue; do
  if ! command -v "$t" >/dev/null; then
    echo "FAIL  $t not installed (apt-get install -y amqp-tools)"
    echo "0 passed, 1 failed"
    exit 1
  fi
done

finish() {
  local rc=0
  if [[ -n "$SUP_PID" ]] && kill -0 "$SUP_PID" 2>/dev/null; then
    kill -TERM "$SUP_PID" 2>/dev/null
    wait "$SUP_PID"
    rc=$?
    if [[ $rc -ne 0 ]]; then
      echo "FAIL  broker shutdown (supervisor exit status $rc, see above)"
      FAILED=$((FAILED + 1))
      FAILURES+=("broker shutdown")
    fi
  fi
  rm -rf "$WORK"
  if [[ ${#FAILURES[@]} -gt 0 ]]; then echo "failed: ${FAILURES[*]}"; fi
  echo "$PASSED passed, $FAILED failed"
  if [[ $FAILED -ne 0 ]]; then exit 1; fi
  exit 0
}
trap finish EXIT
trap 'echo "interrupted"; FAILED=$((FAILED + 1)); exit 1' INT TERM
# global watchdog: the whole file must finish well within ctest's 300 s
MAIN_PID=$$
(
  trap 'kill "$SP" 2>/dev/null; exit 0' TERM
  sleep 240 & SP=$!
  if wait "$SP"; then echo "WATCHDOG: test_amqp_tools.sh exceeded 240 s"; kill -TERM "$MAIN_PID"; fi
) 2>/dev/null &
WATCHDOG_PID=$!
trap 'kill "$WATCHDOG_PID" 2>/dev/null; finish' EXIT

if [[ -n "${ROOST_EXTERNAL_PORT:-}" ]]; then
  PORT="$ROOST_EXTERNAL_PORT"
  echo "# external broker on 127.0.0.1:$PORT"
else
  coproc SUP { exec "$PY" "$HERE/start_roost.py"; }
  SUP_PID=$SUP_PID
  line=""
  if ! read -r -t 15 -u "${SUP[0]}" line || [[ -z "$line" ]]; then
    echo "FAIL  broker did not start"
    FAILED=$((FAILED + 1))
    exit 1
  fi
  PORT="${line%% *}"
  echo "# roost pid ${line##* } on 127.0.0.1:$PORT (supervisor pid $SUP_PID)"
fi

# amqp-consume runs a command per message with the body on stdin.  (popt would take a "-c"
# inside the command's own arguments, so only argument-less commands are used.)  Bodies
# published with amqp-publish -l keep their trailing newline.
SHOW=cat

CONN=(--server=127.0.0.1 --port="$PORT" --username=guest --password=guest --vhost=/)
QN=0
uniq_q() { QN=$((QN + 1)); echo "amqptools.$1.$$.$RANDOM.$QN"; }
t() { timeout "$TOOL_TIMEOUT" "$@"; }

run_test() {
  local name="$1"
  local out="$WORK/$name.out"
  local start=$SECONDS
  ( set -e; "$name" ) >"$out" 2>&1   # not inside 'if': set -e must stay effective
  local rc=$?
  if [[ $rc -eq 0 ]]; then
    PASSED=$((PASSED + 1))
    echo "ok    $name ($((SECONDS - start))s)"
  else
    FAILED=$((FAILED + 1))
    FAILURES+=("$name")
    echo "FAIL  $name ($((SECONDS - start))s)"
    sed 's/^/      /' "$out"
  fi
}

expect_eq() { # expect_eq <what> <expected> <actual>
  if [[ "$2" != "$3" ]]; then
    echo "$1: expected [$2] got [$3]"
    return 1
  fi
}

# ---------------------------------------------------------------- tests

test_declare_publish_get() {
  local q
  q=$(uniq_q get)
  expect_eq "declare output" "$q" "$(t amqp-declare-queue "${CONN[@]}" -q "$q")"
  for i in 1 2 3; do t amqp-publish "${CONN[@]}" -r "$q" -b "body-$i"; done
  expect_eq "get 1" "body-1" "$(t amqp-get "${CONN[@]}" -q "$q")"
  expect_eq "get 2" "body-2" "$(t amqp-get "${CONN[@]}" -q "$q")"
  expect_eq "get 3" "body-3" "$(t amqp-get "${CONN[@]}" -q "$q")"
  local rc=0
  t amqp-get "${CONN[@]}" -q "$q" >/dev/null 2>&1 || rc=$?
  expect_eq "amqp-get exit status on an empty queue" "2" "$rc"
  expect_eq "delete count" "0" "$(t amqp-delete-queue "${CONN[@]}" -q "$q")"
}

test_server_named_queue() {
  local q
  q=$(t amqp-declare-queue "${CONN[@]}" -q "")
  [[ "$q" == amq.gen-* ]] || { echo "server-named queue: [$q]"; return 1; }
  t amqp-delete-queue "${CONN[@]}" -q "$q" >/dev/null
}

test_durable_queue() {
  local q
  q=$(uniq_q durable)
  t amqp-declare-queue "${CONN[@]}" -d -q "$q" >/dev/null
  t amqp-publish "${CONN[@]}" -p -r "$q" -b "persistent"
  expect_eq "get" "persistent" "$(t amqp-get "${CONN[@]}" -q "$q")"
  t amqp-delete-queue "${CONN[@]}" -q "$q" >/dev/null
}

test_line_buffered_publish_and_consume_count() {
  local q
  q=$(uniq_q lines)
  t amqp-declare-queue "${CONN[@]}" -q "$q" >/dev/null
  printf 'line-1\nline-2\nline-3\nline-4\nline-5\n' | t amqp-publish "${CONN[@]}" -l -r "$q"
  # amqp-consume runs the command once per message with the body on stdin
  local got
  got=$(t amqp-consume "${CONN[@]}" -q "$q" -c 3 "$SHOW")
  expect_eq "consumed" $'line-1\nline-2\nline-3' "$got"
  got=$(t amqp-consume "${CONN[@]}" -q "$q" -c 2 -A "$SHOW")
  expect_eq "consumed (no-ack)" $'line-4\nline-5' "$got"
  expect_eq "delete count" "0" "$(t amqp-delete-queue "${CONN[@]}" -q "$q")"
}

test_consume_with_prefetch_leaves_rest() {
  local q
  q=$(uniq_q prefetch)
  t amqp-declare-queue "${CONN[@]}" -q "$q" >/dev/null
  seq 1 10 | t amqp-publish "${CONN[@]}" -l -r "$q"
  local got
  got=$(t amqp-consume "${CONN[@]}" -q "$q" -c 4 -p 1 "$SHOW" | tr '\n' ' ')
  expect_eq "consumed" "1 2 3 4 " "$got"
  # anything delivered but not acked before amqp-consume exited is requeued (asynchronously,
  # so compare as a set)
  got=$(t amqp-consume "${CONN[@]}" -q "$q" -c 6 "$SHOW" | sort -n | tr '\n' ' ')
  expect_eq "rest" "5 6 7 8 9 10 " "$got"
  expect_eq "delete count" "0" "$(t amqp-delete-queue "${CONN[@]}" -q "$q")"
}

test_large_body_from_stdin() {
  local q
  q=$(uniq_q large)
  t amqp-declare-queue "${CONN[@]}" -q "$q" >/dev/null
  head -c 700000 /dev/urandom | base64 -w 0 >"$WORK/large.txt"
  t amqp-publish "${CONN[@]}" -r "$q" <"$WORK/large.txt"
  t amqp-get "${CONN[@]}" -q "$q" >"$WORK/large.got"
  cmp "$WORK/large.txt" "$WORK/large.got"
  t amqp-delete-queue "${CONN[@]}" -q "$q" >/dev/null
}

test_publish_with_properties_and_headers() {
  local q
  q=$(uniq_q props)
  t amqp-declare-queue "${CONN[@]}" -q "$q" >/dev/null
  t amqp-publish "${CONN[@]}" -r "$q" -C text/plain -E utf-8 -H "x-roost: yes" -H "n: 1" -t reply.q -b "with props"
  expect_eq "get" "with props" "$(t amqp-get "${CONN[@]}" -q "$q")"
  t amqp-delete-queue "${CONN[@]}" -q "$q" >/dev/null
}

test_consume_binds_queue_to_exchange() {
  local q
  q=$(uniq_q bound)
  # amqp-consume declares the queue (auto-delete), binds the queue to amq.topic (-e/-r), then exits after one message.
  t amqp-consume "${CONN[@]}" -q "$q" -e amq.topic -r "$q.#" -c 1 "$SHOW" >"$WORK/bound.out" &
  local cpid=$! tries=0
  # amqp-publish has no mandatory flag: keep publishing (bounded) until the consumer,
  # once its binding exists, has received one message and exited
  while kill -0 "$cpid" 2>/dev/null && [[ $tries -lt 100 ]]; do
    t amqp-publish "${CONN[@]}" -e amq.topic -r "$q.a.b" -b "routed-$tries
"
    tries=$((tries + 1))
    sleep 0.05  # pacing only
  done
  wait "$cpid"
  grep -q '^routed-[0-9]*$' "$WORK/bound.out" || { echo "consumer output:"; cat "$WORK/bound.out"; return 1; }
  # the auto-delete queue went away with its only consumer
  local rc=0
  t amqp-get "${CONN[@]}" -q "$q" >/dev/null 2>&1 || rc=$?
  expect_eq "amqp-get on the auto-deleted queue" 1 "$rc"
}

test_errors_are_reported() {
  local q rc=0 err
  q=$(uniq_q missing)
  err=$(t amqp-get "${CONN[@]}" -q "$q" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 ]] || { echo "amqp-get on a missing queue succeeded"; return 1; }
  [[ "$err" == *"server channel error 404, message: NOT_FOUND - no queue '$q' in vhost '/'"* ]] || {
    echo "stderr: $err"; return 1; }
  rc=0
  err=$(t amqp-publish "${CONN[@]}" -e "$q" -r k -b x 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 ]] || { echo "amqp-publish to a missing exchange succeeded"; return 1; }
  [[ "$err" == *"server channel error 404, message: NOT_FOUND - no exchange '$q' in vhost '/'"* ]] || {
    echo "stderr: $err"; return 1; }
  rc=0
  err=$(t amqp-get --server=127.0.0.1 --port="$PORT" --username=guest --password=wrong -q "$q" 2>&1 >/dev/null) || rc=$?
  [[ $rc -ne 0 ]] || { echo "bad password accepted"; return 1; }
  echo "bad password: $err"
}

for name in $(declare -F | awk '{print $3}' | grep '^test_'); do
  run_test "$name"
done

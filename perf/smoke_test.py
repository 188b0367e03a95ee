#!/usr/bin/python3
"""Smoke test for roost-perf: short, bounded load runs against a real roost.

Registered in ctest as integration.roost_perf_smoke. It uses the integration
suite's fixture (tests/integration/roost_fixture.py): one roost on port 0 with
a temp data dir for the whole file ($ROOST_BIN), stopped by PID at the end, a
per-test time limit, a watchdog for the file, and `N passed, M failed` as the
last line. With ROOST_EXTERNAL_PORT=<port> the same runs go against an
existing broker (e.g. a private RabbitMQ node).

Each scenario runs $ROOST_PERF (default build/perf/roost-perf) for 2 s at a
modest paced rate, so it stays quick on a loaded machine or a sanitizer build,
then checks the exit status, that the RESULT line parses, and that every
message arrived (per queue for fanout). One extra scenario publishes a fixed
count unpaced, to cover the batched full-speed path, and one runs over
amqps:// against a roost of its own with a certificate made at test time.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import roost_fixture as rf  # noqa: E402
import tls_certs  # noqa: E402

PERF = os.environ.get("ROOST_PERF") or os.path.join(HERE, "..", "build", "perf", "roost-perf")
RUN_TIMEOUT = 50  # seconds per roost-perf run; its own drain bound is far below
RESULT_KEYS = ["sent", "confirmed", "received", "send_rate", "recv_rate", "p50_us", "p95_us", "p99_us", "max_us"]
RESULT_RE = re.compile(r"RESULT " + " ".join(r"%s=(\d+)" % k for k in RESULT_KEYS))


def run_perf(*args, uri=None):
    """Runs roost-perf; returns (exit status, RESULT fields as ints, full output)."""
    uri = uri or "amqp://guest:guest@%s:%d/%%2F" % (rf.HOST, rf.BROKER.port)
    cmd = [PERF, "--uri", uri, "--drain", "15"] + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=RUN_TIMEOUT, text=True)
    output = "$ %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr)
    lines = p.stdout.strip().splitlines()
    m = RESULT_RE.fullmatch(lines[-1]) if lines else None
    assert m, "last line is not a RESULT line:\n" + output
    print(m.group(0))
    return p.returncode, dict(zip(RESULT_KEYS, map(int, m.groups()))), output


def check_run(args, expect_per_queue=None, queues=1, uri=None):
    """A run must exit 0, send something, and deliver every message to every queue."""
    rc, r, out = run_perf(*args, uri=uri)
    assert rc == 0, "exit status %d:\n%s" % (rc, out)
    assert r["sent"] > 0, "nothing sent:\n" + out
    expected = (expect_per_queue if expect_per_queue is not None else r["sent"]) * queues
    assert r["received"] == expected, "received %d, expected %d:\n%s" % (r["received"], expected, out)
    assert 0 < r["send_rate"] and 0 < r["recv_rate"], out
    assert r["p50_us"] <= r["p95_us"] <= r["p99_us"] <= r["max_us"] and r["max_us"] > 0, out
    return r


def test_transient_autoack_one_to_one():
    check_run(["--autoack", "--duration", "2", "--rate", "10000"])


def test_manual_ack_prefetch_100_two_by_two():
    check_run(["--producers", "2", "--consumers", "2", "--prefetch", "100", "--duration", "2", "--rate", "5000"])


def test_persistent_durable_confirms():
    rc, r, out = run_perf("--persistent", "--durable", "--confirm", "100", "--duration", "2", "--rate", "2000")
    assert rc == 0, "exit status %d:\n%s" % (rc, out)
    assert r["confirmed"] > 0, "nothing confirmed:\n" + out
    assert r["confirmed"] == r["received"], "confirmed %d != received %d:\n%s" % (r["confirmed"], r["received"], out)
    assert r["confirmed"] == r["sent"], "confirmed %d of %d sent:\n%s" % (r["confirmed"], r["sent"], out)


def test_fanout_to_three_queues():
    check_run(["--exchange", rf.uniq("perf-fanout"), "--exchange-type", "fanout", "--queues", "3",
               "--consumers", "3", "--duration", "2", "--rate", "5000"], queues=3)


def test_unpaced_fixed_count_multiple_ack():
    check_run(["--pmessages", "50000", "--prefetch", "500", "--multiple-ack", "50"], expect_per_queue=50000)


def test_over_tls():
    """amqps:// against a roost of its own with a test certificate (made with openssl)."""
    certs = tls_certs.make(rf.new_data_dir("roost-perf-tls-"))
    b = rf.start_broker(extra_args=["--tls-cert", certs.server_cert, "--tls-key", certs.server_key,
                                    "--amqps-port", "0"])
    uri = "amqps://guest:guest@%s:%d/%%2F" % (rf.HOST, b.listening["amqps"])
    check_run(["--pmessages", "50000", "--autoack"], expect_per_queue=50000, uri=uri)
    rc, r, out = run_perf("--persistent", "--durable", "--confirm", "100", "--pmessages", "5000", uri=uri)
    assert rc == 0 and r["confirmed"] == r["sent"] == 5000, out


def test_refused_login_exits_non_zero():
    rc, r, out = run_perf("--duration", "1", uri="amqp://guest:wrong@%s:%d/%%2F" % (rf.HOST, rf.BROKER.port))
    assert rc != 0, "a refused login must fail the run:\n" + out
    assert r["sent"] == 0, out


if __name__ == "__main__":
    if not os.path.exists(PERF):
        print("roost-perf not found at %s (set ROOST_PERF)\n0 passed, 1 failed" % PERF)
        sys.exit(1)
    rf.main(test_timeout=60, total_timeout=110)

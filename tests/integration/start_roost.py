#!/usr/bin/python3
"""Supervise one broker for a shell test.

Starts $ROOST_BIN exactly like roost_fixture.py does (port 0, fresh temp data dir), prints
one line "<port> <broker-pid>" on stdout once the broker listens, then waits.  On SIGTERM
or SIGINT (or when its own parent dies, or after --max-seconds) it stops the broker
(SIGTERM, bounded wait, SIGKILL), removes the temp dir and exits 0 only if the broker
exited cleanly with status 0.  On failure it prints the broker's stderr.

With ROOST_EXTERNAL_PORT set it prints "<port> 0" and starts nothing.
"""
import argparse
import os
import signal
import sys
import time

import roost_fixture as rf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-seconds", type=int, default=280)
    args = ap.parse_args()

    # Die (gracefully) with the shell that started us.
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    stop = {"why": None}

    def on_signal(signum, frame):
        stop["why"] = signal.Signals(signum).name

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.alarm(args.max_seconds)

    broker = rf.Broker()
    try:
        broker.start()
    except rf.BrokerFailed as e:
        print("start_roost: %s" % e, file=sys.stderr)
        sys.exit(1)
    print("%d %d" % (broker.port, broker.pid or 0), flush=True)
    while stop["why"] is None and broker.alive():
        time.sleep(0.2)  # signal handlers set stop["why"]; this only polls that flag
    if stop["why"] == "SIGALRM":
        print("start_roost: --max-seconds (%d) reached" % args.max_seconds, file=sys.stderr)
    problems = broker.stop()
    for p in problems:
        print("start_roost: %s" % p, file=sys.stderr)
    if problems and not broker.external:
        sys.stdout = sys.stderr
        broker.dump_logs()
    broker.cleanup()
    sys.exit(1 if problems or stop["why"] == "SIGALRM" else 0)


if __name__ == "__main__":
    main()

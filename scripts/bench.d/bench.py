#!/usr/bin/python3
"""Roost vs RabbitMQ, side by side on this machine (driven by scripts/bench).

Starts Roost and a private RabbitMQ node (and for j a three-node cluster of
each), runs every scenario with roost-perf against both in alternation (Roost,
RabbitMQ, Roost, RabbitMQ, ...), and writes results.md (medians, Roost/RabbitMQ
ratio, targets), results.json (every run) and ratio.png under
bench-results/<date-time>/.

Scenarios (16-byte bodies unless said; every run uses fresh queue names):
  a  1 producer -> 1 consumer, transient, autoack
  b  as a, manual ack of every message, prefetch 100
  c  persistent messages, durable queue, confirms (window 100), manual ack, prefetch 100
  d  4 producers -> 4 consumers on one queue, transient, autoack
  e  1 producer -> fanout exchange -> 10 queues, one consumer each (delivered msg/s, all consumers)
  f  latency at a fixed 1,000 msg/s: transient autoack, and persistent with confirms as in c
  g  a with 1 KiB and with 64 KiB bodies (msg/s and MB/s)
  h  broker RSS with 1,000,000 transient 16-byte messages queued and no consumer
  i  broker RSS with 1,000 idle connections (one channel each): before, during, per connection
  j  three-node clusters on this machine, Roost (etcd, lease TTL 2 s) and RabbitMQ (a quorum
     queue, a member on each node): c on a quorum queue (x-queue-type quorum, durable) through
     the leader, and the failover time: a publisher sending persistent messages with confirms
     to the leader (RabbitMQ: the node holding the queue's leader), kill -9 of that node, and
     the time until a publish is confirmed again, the publisher reconnecting to the surviving
     nodes in turn every 50 ms (a Roost follower forwards clients to the leader). Targets:
     Roost >= 5x RabbitMQ's msg/s, failover under twice the lease (4 s)
  t  a and c over TLS (AMQPS): both brokers present the same certificate (made with openssl
     for the run), roost-perf connects with amqps://
  s  stream queues (RabbitMQ's stream over AMQP 0-9-1): publish with confirms (and again
     against a second Roost with --sync normal, the durability of RabbitMQ's streams); RSS with a
     10M-message stream (--quick: 1M) and no consumer; one consumer replaying 1M messages from
     "first", then ten at once (stream_scenarios.py). Targets: >= 5x on each rate, ten readers
     under twice one reader's time, RSS <= 60 MB
  r  inspecting and repairing queues, Roost only (RabbitMQ has neither): browsing page 1 and
     page 10,000 of a 10M-message queue (--quick: 1M) while a publisher runs flat out, and the
     publisher's rate with and without the browsing; redriving 1M dead letters
     (repair_scenarios.py). Targets: each page <= 100 ms, the publisher loses <= 10%
Units: MB = 10^6 bytes, KB = 10^3 bytes, GB/s = 10^9 bytes/s.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from amqp_admin import Admin, AmqpError  # noqa: E402
from brokers import Roost, RabbitMQ, stop_default_rabbitmq  # noqa: E402
from failover_probe import measure_failover  # noqa: E402
from processes import Interrupted, TimeCap, BrokerDown, log, rss_kib, PidBook, START  # noqa: E402
from rabbitmq_cluster import RabbitMQCluster  # noqa: E402
from rabbitmq_node import RABBITMQ_SERVER  # noqa: E402
from roost_cluster import ETCD, LEASE_TTL, RoostCluster  # noqa: E402
from repair_scenarios import RepairScenarios  # noqa: E402
from stream_scenarios import StreamScenarios  # noqa: E402


class Variant:
    def __init__(self, vid, letter, title, kind, flags=(), size=16, tls=False, cluster=False, sync_normal=False):
        self.id, self.letter, self.title, self.kind, self.flags, self.size = vid, letter, title, kind, list(flags), size
        self.tls = tls  # through the brokers' AMQPS listeners
        self.cluster = cluster  # against the three-node clusters rather than the single brokers
        self.sync_normal = sync_normal  # against a second Roost started with --sync normal


AUTOACK = ["--autoack"]
PERSISTENT_CONFIRMED = ["--persistent", "--durable", "--confirm", "100", "--prefetch", "100"]


VARIANTS = [
    Variant("a", "a", "1→1 transient, autoack", "tput", AUTOACK),
    Variant("b", "b", "1→1 manual ack (every message), prefetch 100", "tput", ["--prefetch", "100"]),
    Variant("c", "c", "persistent, durable queue, confirms (window 100), manual ack, prefetch 100", "tput",
            PERSISTENT_CONFIRMED),
    Variant("d", "d", "4 producers → 4 consumers, one queue, autoack", "tput",
            ["--producers", "4", "--consumers", "4", "--autoack"]),
    Variant("e", "e", "1 producer → fanout → 10 queues × 1 consumer, autoack", "fanout",
            ["--exchange-type", "fanout", "--queues", "10", "--consumers", "10", "--autoack"]),
    Variant("f-t", "f", "1,000 msg/s, transient, autoack", "latency", ["--rate", "1000", "--autoack"]),
    Variant("f-p", "f", "1,000 msg/s, persistent + confirms (as c)", "latency",
            ["--rate", "1000", "--persistent", "--durable", "--confirm", "100", "--prefetch", "100"]),
    Variant("g-1k", "g", "as a, 1 KiB bodies", "tput", ["--size", "1024", "--autoack"], size=1024),
    Variant("g-64k", "g", "as a, 64 KiB bodies", "tput", ["--size", "65536", "--autoack"], size=65536),
    Variant("h", "h", "1,000,000 × 16 B transient queued, no consumer", "rss_queue"),
    Variant("i", "i", "1,000 idle connections, one channel each", "rss_conns"),
    Variant("j-c", "j", "as c on a quorum queue, 3-node clusters", "tput",
            PERSISTENT_CONFIRMED + ["--queue-type", "quorum"], cluster=True),
    Variant("j-f", "j", "failover of a 3-node cluster: leader kill -9 → first confirm", "failover", cluster=True),
    Variant("a-tls", "t", "as a, over TLS", "tput", AUTOACK, tls=True),
    Variant("c-tls", "t", "as c, over TLS", "tput", PERSISTENT_CONFIRMED, tls=True),
    Variant("s-pub", "s", "publish with confirms (window 100) into a stream", "stream_pub"),
    Variant("s-pub-n", "s", "as s-pub, Roost with --sync normal: commits reach the OS, not the disk, before the "
            "confirm, as RabbitMQ's streams (which never fsync)", "stream_pub", sync_normal=True),
    Variant("s-rss", "s", "RSS with a 10M-message stream (quick: 1M), no consumer", "rss_stream"),
    Variant("s-replay", "s", "replay 1M from first: one consumer, then ten at once", "stream_replay"),
    Variant("r-browse", "r", "browse a 10M-message queue (quick: 1M), page 1 and page 10,000, under a flat-out "
            "publisher (Roost only)", "browse"),
    Variant("r-redrive", "r", "redrive 1M dead letters back to their queue, unpaced (Roost only)", "redrive"),
]
ROOST_ONLY_KINDS = ("browse", "redrive")
MEMORY_KINDS = ("rss_queue", "rss_conns", "rss_stream")

# (variant, metric, row label, unit, better, target text, check(roost, rabbit) -> bool, chart label)
ROWS = [
    ("a", "msg_s", "a · 1→1 transient, autoack", "msg/s", "higher", "≥ 10×", lambda r, q: r >= 10 * q, "a"),
    ("b", "msg_s", "b · manual ack each, prefetch 100", "msg/s", "higher", "≥ 8×", lambda r, q: r >= 8 * q, "b"),
    ("c", "msg_s", "c · persistent, durable, confirms 100, manual ack", "msg/s", "higher", "≥ 5×",
     lambda r, q: r >= 5 * q, "c"),
    ("d", "msg_s", "d · 4 → 4 on one queue", "msg/s", "higher", "≥ 8×", lambda r, q: r >= 8 * q, "d"),
    ("e", "msg_s", "e · fanout to 10 queues, delivered (all consumers)", "msg/s", "higher", "≥ 5×",
     lambda r, q: r >= 5 * q, "e"),
    ("f-t", "p50_us", "f · latency @1k msg/s transient, p50", "µs", "lower", "", None, "f t p50"),
    ("f-t", "p99_us", "f · latency @1k msg/s transient, p99", "µs", "lower", "≤ 200 µs", lambda r, q: r <= 200,
     "f t p99"),
    ("f-p", "p50_us", "f · latency @1k msg/s persistent+confirms, p50", "µs", "lower", "", None, "f p p50"),
    ("f-p", "p99_us", "f · latency @1k msg/s persistent+confirms, p99", "µs", "lower", "≤ 2 ms",
     lambda r, q: r <= 2000, "f p p99"),
    ("g-1k", "msg_s", "g · 1 KiB bodies", "msg/s", "higher", "", None, "g 1K"),
    ("g-1k", "mb_s", "g · 1 KiB bodies", "MB/s", "higher", "", None, None),
    ("g-64k", "msg_s", "g · 64 KiB bodies", "msg/s", "higher", "", None, None),
    ("g-64k", "mb_s", "g · 64 KiB bodies", "MB/s", "higher", "≥ 2 GB/s", lambda r, q: r >= 2000, "g 64K"),
    ("h", "rss_mb", "h · RSS, 1M × 16 B queued, no consumer", "MB", "lower", "≤ 100 MB and ≤ 1/30 of RabbitMQ",
     lambda r, q: r <= 100 and r * 30 <= q, "h RSS"),
    ("j-c", "msg_s", "j · 3-node cluster: c on a quorum queue", "msg/s", "higher", "≥ 5×", lambda r, q: r >= 5 * q,
     "j cluster"),
    ("j-f", "failover_s", "j · 3-node cluster: failover, leader kill -9 → first confirm", "s", "lower",
     "< %d s (twice the lease)" % (2 * LEASE_TTL), lambda r, q: r < 2 * LEASE_TTL, "j failover"),
    ("a-tls", "msg_s", "t · a over TLS: 1→1 transient, autoack", "msg/s", "higher", "≥ 5×", lambda r, q: r >= 5 * q,
     "a TLS"),
    ("c-tls", "msg_s", "t · c over TLS: persistent, confirms", "msg/s", "higher", "≥ 5×", lambda r, q: r >= 5 * q,
     "c TLS"),
    ("s-pub", "msg_s", "s · stream: publish with confirms 100", "msg/s", "higher", "≥ 5×", lambda r, q: r >= 5 * q,
     "s pub"),
    ("s-pub-n", "msg_s", "s · stream: publish with confirms 100, Roost --sync normal (no fsync, as RabbitMQ's)",
     "msg/s", "higher", "≥ 5×", lambda r, q: r >= 5 * q, "s pub n"),
    ("s-replay", "one_msg_s", "s · stream: one consumer replays 1M from first", "msg/s", "higher", "≥ 5×",
     lambda r, q: r >= 5 * q, "s replay"),
    ("s-replay", "ten_msg_s", "s · stream: ten consumers replay 1M at once (all)", "msg/s", "higher", "≥ 5×",
     lambda r, q: r >= 5 * q, "s ten"),
    ("s-replay", "ten_cost", "s · stream: ten replays' time / one replay's", "×", "lower", "< 2",
     lambda r, q: r < 2, None),
    ("s-rss", "rss_mb", "s · RSS with a 10M-message stream, no consumer", "MB", "lower", "≤ 60 MB",
     lambda r, q: r <= 60, "s RSS"),
    ("r-browse", "page1_ms", "r · browse page 1 of a deep queue under a flat-out publisher (median)", "ms", "lower",
     "≤ 100 ms", lambda r, q: r <= 100, None),
    ("r-browse", "page1_max_ms", "r · browse page 1, slowest", "ms", "lower", "", None, None),
    ("r-browse", "deep_ms", "r · browse page 10,000 (offset 999,900) under the publisher (median)", "ms", "lower",
     "≤ 100 ms", lambda r, q: r <= 100, None),
    ("r-browse", "deep_max_ms", "r · browse page 10,000, slowest", "ms", "lower", "", None, None),
    ("r-browse", "pub_drop_pct", "r · publisher's rate lost to browsing without pause", "%", "lower", "≤ 10 %",
     lambda r, q: r <= 10, None),
    ("r-redrive", "redrive_msg_s", "r · redrive 1M dead letters", "msg/s", "higher", "", None, None),
    ("i", "before_mb", "i · RSS before the idle connections", "MB", "lower", "", None, None),
    ("i", "during_mb", "i · RSS with 1,000 idle connections", "MB", "lower", "", None, None),
    ("i", "per_conn_kb", "i · per idle connection (+ channel)", "KB", "lower", "≤ 20 KB", lambda r, q: r <= 20,
     "i conn"),
]

PROFILES = {
    # seconds per throughput run, per latency run, drain allowance, hold for idle connections;
    # cluster_cap: added to the time cap when j runs (booting and restoring the clusters)
    "full": {"tput": 4.0, "latency": 8.0, "drain": 4.0, "hold": 5.0, "cap": 900, "cluster_cap": 240, "rounds": 3,
             "mem_rounds": 3, "stream_cap": 900},
    "quick": {"tput": 1.0, "latency": 2.0, "drain": 2.0, "hold": 3.0, "cap": 240, "cluster_cap": 150, "rounds": 2,
              "mem_rounds": 1, "stream_cap": 240},
}
LETTERS = "abcdefghijrst"


def parse_result(text):
    lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
    if not lines:
        return None
    out = {}
    for kv in lines[-1].split()[1:]:
        k, _, v = kv.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


class Bench(StreamScenarios, RepairScenarios):
    def __init__(self, a):
        self.a = a
        self.profile = dict(PROFILES["quick" if a.quick else "full"])
        self.rounds = a.rounds or self.profile["rounds"]
        self.mem_rounds = a.rounds or self.profile["mem_rounds"]
        wanted = set((a.only or LETTERS).replace(",", "").replace(" ", ""))
        bad = wanted - set(LETTERS)
        if bad:
            sys.exit("bench: unknown scenario(s) %s (a..j, r, s, t)" % ",".join(sorted(bad)))
        self.variants = [v for v in VARIANTS if v.letter in wanted]
        clusters = any(v.cluster for v in self.variants)
        if clusters and not os.access(ETCD, os.X_OK):
            sys.exit("bench: %s is missing (scripts/install-deps bench installs etcd-server)" % ETCD)
        streams = any(v.letter == "s" for v in self.variants)
        default_cap = (self.profile["cap"] + (self.profile["cluster_cap"] if clusters else 0)
                       + (self.profile["stream_cap"] if streams else 0)) \
            * max(1.0, self.rounds / self.profile["rounds"])
        self.cap = a.time_cap or default_cap
        self.out = a.out or os.path.join(a.root, "bench-results", datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S"))
        os.makedirs(os.path.join(self.out, "logs"), exist_ok=True)
        self.pids = PidBook(a.work)
        # Only when TLS is measured: RabbitMQ gets no TLS listener otherwise.
        tls = make_certificates(a) if any(v.tls for v in self.variants) else None
        self.roost = Roost(os.path.abspath(a.roost), a.work, self.pids, tls)
        # Started by the first round that needs it (ensure_up).
        self.roost_sync_normal = Roost(os.path.abspath(a.roost), a.work, self.pids, extra_args=["--sync", "normal"],
                                       dirname="roost-sync-normal")
        self.rabbit = RabbitMQ(a.work, self.pids, tls)
        # Booted by their first round (make_whole): only when j runs, and not during the memory scenarios.
        self.roost_cluster = RoostCluster(os.path.abspath(a.roost), a.work, self.pids)
        self.rabbit_cluster = RabbitMQCluster(a.work, self.pids)
        self.perf_bin = os.path.abspath(a.perf)
        self.runs, self.events = [], []
        self.stream_filled = {}  # broker name -> messages in its bench stream (s-rss fills it, s-replay reads it)
        self.skipped = 0
        self.current = None  # the roost-perf process running now
        self.status = "running"
        self.started_at = datetime.datetime.now()

    # ------------------------------------------------------------ helpers
    def remaining(self):
        return self.cap - (time.monotonic() - START)

    def event(self, msg):
        log(msg)
        self.events.append({"t": round(time.monotonic() - START, 1), "msg": msg})

    def ensure_up(self, broker):
        if broker.alive():
            return
        if getattr(broker, "generation", 1) == 0:  # a broker only some scenario needs, not started yet
            broker.start()
            return
        self.event("%s is not running (it died?); restarting it" % broker.label)
        broker.stop()
        broker.start()

    def perf(self, broker, flags, timeout, logname, tls=False):
        cmd = [self.perf_bin, "--uri", broker.tls_uri if tls else broker.uri] + flags
        path = os.path.join(self.out, "logs", logname + ".log")
        t0 = time.monotonic()
        with open(path, "w") as lf:
            lf.write("$ " + " ".join(cmd) + "\n")
            lf.flush()
            self.current = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                            stdin=subprocess.DEVNULL)
            self.pids.add(self.current.pid, "roost-perf")
            try:
                out, _ = self.current.communicate(timeout=timeout)
                rc = self.current.returncode
            except subprocess.TimeoutExpired:
                self.current.kill()
                out, _ = self.current.communicate()
                rc = "timeout after %.0f s" % timeout
            except BaseException:  # Interrupted, TimeCap: do not leave it running
                self.current.kill()
                self.current.wait()
                raise
            finally:
                self.current = None
            lf.write(out)
        return rc, parse_result(out), out, time.monotonic() - t0, cmd

    def record(self, v, broker, rnd, rc, result, metrics, wall, cmd, note=None, accept=False):
        ok = (rc == 0 or accept) and metrics is not None
        entry = {"scenario": v.id, "broker": broker.name, "round": rnd, "ok": ok, "rc": rc, "wall_s": round(wall, 2),
                 "cmd": cmd, "result": result, "metrics": metrics}
        if note:
            entry["note"] = note
        self.runs.append(entry)
        shown = ", ".join("%s=%s" % (k, fmt_num(x)) for k, x in (metrics or {}).items())
        log("%-6s %-8s round %d: %s%s%s" % (v.id, broker.label, rnd, "ok" if ok else "FAILED (%s)" % rc,
                                             " — " + shown if shown else "", " (%s)" % note if note else ""))

    # ------------------------------------------------------------ scenario kinds
    def run_load(self, v, broker, rnd):
        p = self.profile
        dur = p["latency"] if v.kind == "latency" else p["tput"]
        flags = list(v.flags) + ["--duration", str(dur), "--drain", str(p["drain"])]
        exchange = None
        if v.kind == "fanout":
            exchange = "bench-fanout-%d-%d" % (os.getpid(), int(time.time() * 1000) % 10 ** 8)
            flags = ["--exchange", exchange] + flags
        rc, res, out, wall, cmd = self.perf(broker, flags, dur + p["drain"] + 45, "%s-%s-%d" % (v.id, broker.name, rnd),
                                            tls=v.tls)
        if exchange:
            try:
                with Admin("127.0.0.1", broker.port) as adm:
                    adm.exchange_delete(exchange)
            except (OSError, AmqpError) as e:
                self.event("could not delete exchange %s on %s: %s" % (exchange, broker.label, e))
        metrics = None
        if res is not None and res.get("received", 0) > 0:
            if v.kind == "latency":
                metrics = {"p50_us": res["p50_us"], "p99_us": res["p99_us"], "msg_s": res["recv_rate"]}
            else:
                metrics = {"msg_s": res["recv_rate"], "mb_s": res["recv_rate"] * v.size / 1e6}
        # A broker whose consumers fall behind an unthrottled producer cannot empty its queues
        # within the drain allowance; roost-perf then exits 1, but the consumers were busy the
        # whole time, so recv_rate still is the delivered rate. Such a run counts, with a note;
        # any other error fails it. Latency runs must drain: they are paced.
        # (A producer whose connection.close a backlogged broker does not answer in time only
        # makes roost-perf's "sent" uncertain, which matters for that same drain check.)
        accept, note = False, None
        errors = [l for l in out.splitlines() if l.startswith("roost-perf: ")
                  and "raising --consumers" not in l and not re.match(r"roost-perf: \d+ producer\(s\)", l)]
        undrained = [l for l in errors if re.search(r"delivered \d+ of \d+ .* within the .* drain", l)]
        slow_close = [l for l in errors if "connection.close was not answered in time" in l]
        if (rc == 1 and v.kind != "latency" and undrained
                and len(undrained) + len(slow_close) == len(errors)):
            accept = True
            note = "not drained within %.0f s: %s" % (p["drain"], undrained[0][len("roost-perf: "):])
            if slow_close:
                note += "; %d producer close(s) unanswered in time" % len(slow_close)
        self.record(v, broker, rnd, rc, res, metrics, wall, cmd, note, accept)

    def stable_rss(self, pid, limit=20.0):
        """VmRSS (KiB) once it has stayed within 1% for 5 s (11 samples 0.5 s apart), or after limit seconds.

        Both brokers give memory back some time after a burst (Erlang's GC, Roost's heap trim once
        traffic stops), so a single pair of equal samples could catch a pause before that happens.
        After h's burst Roost's RSS plateaus for 2-4 s while the scratch store writes the paged-out
        messages, and trims one second after that: a 2 s window sometimes took the plateau."""
        window, deadline = [], time.monotonic() + limit
        while True:
            window = (window + [rss_kib(pid)])[-11:]
            if (len(window) == 11 and max(window) - min(window) <= 0.01 * max(window)) or time.monotonic() > deadline:
                return window[-1]
            time.sleep(0.5)

    def run_rss_queue(self, v, broker, rnd):
        n = 1_000_000
        queue = "bench-h-%s-%d-%d" % (broker.name, os.getpid(), int(time.time() * 1000) % 10 ** 8)
        before = self.stable_rss(broker.pid, limit=5)
        metrics, note, rc, res, wall, cmd = None, None, "error", None, 0.0, []
        try:
            rc, res, _out, wall, cmd = self.perf(
                broker, ["--no-consume", "--pmessages", str(n), "--queue", queue, "--producers", "1"],
                min(240, max(30, self.remaining() - 30)), "h-%s-%d" % (broker.name, rnd))
            if rc == 0:
                depth, t0 = None, time.monotonic()
                with Admin("127.0.0.1", broker.port, timeout=60) as adm:
                    while time.monotonic() - t0 < 120:
                        got = adm.queue_depth(queue)
                        depth = got[0] if got else None
                        if depth is not None and depth >= n:
                            break
                        time.sleep(0.2)
                if depth is None or depth < n:
                    rc, note = "queue depth %s, not %d" % (depth, n), "depth never reached 1M"
                else:
                    full = self.stable_rss(broker.pid)
                    metrics = {"rss_mb": full * 1024 / 1e6, "baseline_mb": before * 1024 / 1e6, "depth": depth,
                               "publish_s": round(wall, 2), "publish_rate": res.get("send_rate") if res else None}
        finally:
            try:
                with Admin("127.0.0.1", broker.port, timeout=120) as adm:
                    adm.queue_delete(queue)
            except (OSError, AmqpError) as e:
                self.event("could not delete queue %s on %s: %s" % (queue, broker.label, e))
        if metrics is not None:
            time.sleep(1.0)
            metrics["after_delete_mb"] = rss_kib(broker.pid) * 1024 / 1e6
        self.record(v, broker, rnd, rc, res, metrics, wall, cmd, note)

    def run_rss_conns(self, v, broker, rnd):
        n, hold = 1000, self.profile["hold"]
        before = self.stable_rss(broker.pid, limit=5)
        cmd = [self.perf_bin, "--uri", broker.uri, "--connections-only", str(n), "--duration", str(hold)]
        path = os.path.join(self.out, "logs", "i-%s-%d.log" % (broker.name, rnd))
        lines, opened = [], threading.Event()
        t0 = time.monotonic()
        self.current = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        stdin=subprocess.DEVNULL)
        proc = self.current
        self.pids.add(proc.pid, "roost-perf")

        def reader():
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("opened "):
                    opened.set()
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        during, open_s, rc = None, None, "error"
        try:
            deadline = time.monotonic() + 120
            while not opened.wait(0.2):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
            if opened.is_set():
                open_s = time.monotonic() - t0
                time.sleep(min(1.0, hold / 4))
                samples = []
                for _ in range(3):
                    samples.append(rss_kib(broker.pid))
                    time.sleep(min(0.5, hold / 8))
                during = max(samples)
            try:
                proc.wait(timeout=hold + 60)
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = "timeout"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            self.current = None
            th.join(timeout=5)
            with open(path, "w") as lf:
                lf.write("$ " + " ".join(cmd) + "\n" + "".join(lines))
        metrics, note = None, None
        if during is not None:
            metrics = {"before_mb": before * 1024 / 1e6, "during_mb": during * 1024 / 1e6,
                       "per_conn_kb": (during - before) * 1024 / 1e3 / n, "open_s": round(open_s, 2)}
            if during < before and rc == 0:
                rc, note = "RSS shrank while the connections were open", "broker was still returning memory"
        self.record(v, broker, rnd, rc, parse_result("".join(lines)), metrics, time.monotonic() - t0, cmd, note)

    def run_failover(self, v, cluster, rnd):
        queue = "bench-j-%s-%d-%d" % (cluster.name, os.getpid(), rnd)
        t0 = time.monotonic()
        details = measure_failover(cluster, queue)
        self.record(v, cluster, rnd, 0, details, {"failover_s": details["failover_s"]}, time.monotonic() - t0, [])

    def pair(self, v):
        if v.kind in ROOST_ONLY_KINDS:
            return (self.roost,)
        if v.cluster:
            return self.roost_cluster, self.rabbit_cluster
        return (self.roost_sync_normal if v.sync_normal else self.roost), self.rabbit

    def estimate(self, v, broker):
        p = self.profile
        if v.cluster:
            roost = broker is self.roost_cluster
            # Booting the cluster, or restarting the node the last failover round killed.
            prepare = (5 if roost else 25) if broker.started else (10 if roost else 60)
            if v.kind == "failover":
                return prepare + 10
            return prepare + p["tput"] + (1 if roost else p["drain"] + 6)
        if v.kind in ("stream_pub", "rss_stream", "stream_replay"):
            return self.stream_estimate(v, broker)
        if v.kind in ROOST_ONLY_KINDS:
            return self.repair_estimate(v)
        if v.kind == "rss_queue":
            return 15 if broker is self.roost else 50
        if v.kind == "rss_conns":
            return p["hold"] + (5 if broker is self.roost else 15)
        if v.kind == "latency" or broker.name == "roost":
            return (p["latency"] if v.kind == "latency" else p["tput"]) + 1
        return p["tput"] + p["drain"] + 6  # RabbitMQ falls behind unthrottled producers, then deletes the backlog

    # ------------------------------------------------------------ main
    def run(self):
        note = stop_default_rabbitmq()
        if note:
            self.event(note)
        if not all(v.cluster for v in self.variants):
            self.rabbit.start()
            self.roost.start()
        self.load_at_start = open("/proc/loadavg").read().split()[:3]
        # The memory scenarios go first, on freshly started brokers: allocator state left
        # over from throughput runs (64 KiB bodies, say) would muddy the RSS numbers of both.
        # Every round of i comes before h: after a million messages both brokers keep
        # hundreds of MB (RabbitMQ then shrinks while i measures), which would swamp the
        # per-connection difference. The throughput scenarios run round-major (every
        # scenario's round 1, then every round 2, ...): a time cap then trims late rounds
        # rather than whole scenarios, and load from elsewhere on the machine spreads over
        # the scenarios instead of hitting one.
        # The stream's RSS last: its stream stays for the replays.
        schedule = [(v, rnd) for kind in ("rss_conns", "rss_queue", "rss_stream") for v in self.variants
                    if v.kind == kind for rnd in range(1, self.mem_rounds + 1)]
        schedule += [(v, rnd) for rnd in range(1, self.rounds + 1) for v in self.variants
                     if v.kind not in MEMORY_KINDS]
        roost_used = False
        for v, rnd in schedule:
            # A round runs for both brokers or for neither, so the medians stay comparable.
            if self.remaining() - 30 < sum(self.estimate(v, b) for b in self.pair(v)):
                self.event("time cap: skipping %s round %d" % (v.id, rnd))
                self.skipped += 1
                continue
            if v.kind in MEMORY_KINDS and roost_used:
                # Roost's allocator keeps the pages it freed, so a second memory round on the
                # same process would measure nothing: give every memory round a fresh Roost
                # (well under a second). RabbitMQ's node stays up (a restart costs 10-30 s here,
                # and Erlang hands memory back by itself); that can only flatter RabbitMQ.
                self.roost.stop()
                self.roost.start()
            roost_used = True
            for broker in self.pair(v):
                if not v.cluster:
                    self.ensure_up(broker)
                try:
                    if v.cluster:
                        broker.make_whole()  # a run that cannot have its three nodes fails alone
                    {"rss_queue": self.run_rss_queue, "rss_conns": self.run_rss_conns,
                     "failover": self.run_failover, "stream_pub": self.run_stream_pub,
                     "rss_stream": self.run_rss_stream,
                     "stream_replay": self.run_stream_replay, "browse": self.run_browse,
                     "redrive": self.run_redrive}.get(v.kind, self.run_load)(v, broker, rnd)
                except (OSError, AmqpError, BrokerDown, subprocess.SubprocessError) as e:
                    self.record(v, broker, rnd, "error: %s" % e, None, None, 0.0, [])
        self.status = "complete" if not self.skipped else "%d round(s) skipped to stay within the time cap" % self.skipped

    def shutdown(self):
        if self.current is not None and self.current.poll() is None:
            self.current.kill()
            self.current.wait()
        for b in (self.roost, self.roost_sync_normal, self.rabbit, self.roost_cluster, self.rabbit_cluster):
            try:
                b.stop()
            except Exception as e:  # keep stopping the others
                log("stopping %s: %s" % (b.label, e))
        # Broker logs are worth keeping next to the results (they are small).
        for src, name in self.broker_logs():
            dst = os.path.join(self.out, "logs", name)
            try:
                if os.path.isdir(src):
                    shutil.copytree(src, dst, dirs_exist_ok=True)
                else:
                    shutil.copy(src, dst)
            except OSError:
                pass

    def broker_logs(self):
        """(path, name under logs/) of each log the brokers and clusters wrote."""
        for b in (self.roost, self.roost_sync_normal, self.rabbit):
            for i, src in enumerate(b.logs):
                yield src, "broker-%s-%d%s" % (getattr(b, "dirname", b.name), i + 1, "" if os.path.isdir(src) else ".log")
        for c in (self.roost_cluster, self.rabbit_cluster):
            for src in c.logs:
                yield src, "cluster-%s-%s" % (c.name, os.path.relpath(src, c.base).replace(os.sep, "-"))

    # ------------------------------------------------------------ report
    def summarize(self):
        rows = []
        for vid, metric, label, unit, better, target, check, chart in ROWS:
            if vid not in [v.id for v in self.variants]:
                continue
            med, counts = {}, {}
            for b in ("roost", "rabbitmq"):
                runs = [r for r in self.runs if r["scenario"] == vid and r["broker"] == b]
                vals = [r["metrics"][metric] for r in runs if r["ok"] and r["metrics"].get(metric) is not None]
                med[b] = statistics.median(vals) if vals else None
                undrained = sum(1 for r in runs if r["ok"] and "not drained" in (r.get("note") or ""))
                counts[b] = "%d/%d" % (len(vals), len(runs)) + (" (%d undrained)" % undrained if undrained else "")
            r, q = med["roost"], med["rabbitmq"]
            ratio = r / q if r is not None and q not in (None, 0) else None
            holds = None
            if check is not None and r is not None and (q is not None or "×" not in target and "RabbitMQ" not in target):
                holds = bool(check(r, q if q is not None else 0))
            rows.append({"scenario": vid, "metric": metric, "label": label, "unit": unit, "better": better,
                         "roost": r, "rabbitmq": q, "ratio": ratio, "target": target, "holds": holds,
                         "ok_runs": counts, "chart": chart})
        return rows

    def machine(self):
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
        try:
            git = subprocess.run(["git", "-C", self.a.root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
            dirty = subprocess.run(["git", "-C", self.a.root, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10).stdout.strip()
            git += "+dirty" if dirty else ""
        except (OSError, subprocess.SubprocessError):
            git = "?"
        # From the single brokers, or from the clusters when only j ran (same binaries).
        rabbit = self.rabbit if self.rabbit.version else self.rabbit_cluster
        roost_version = self.roost.version or self.roost_cluster.version
        return {"date": self.started_at.strftime("%Y-%m-%d %H:%M:%S"), "nproc": os.cpu_count(), "cpu": cpu,
                "ram_gb": round(mem_kib * 1024 / 1e9, 1), "rabbitmq_version": rabbit.version,
                "erlang": rabbit.platform, "roost_version": roost_version, "roost_git": git,
                "loadavg_at_start": getattr(self, "load_at_start", None)}

    def report(self):
        rows = self.summarize()
        m = self.machine()
        mode = "quick" if self.a.quick else "full"
        wall = time.monotonic() - START
        md = []
        md.append("# Roost vs RabbitMQ — %s" % m["date"])
        md.append("")
        md.append("%s run, %d round(s) per scenario (%d for memory), alternating Roost / RabbitMQ; medians. "
                  "Machine: nproc %s, %s, %.1f GB RAM. RabbitMQ %s (%s, private node, default config, no plugins); "
                  "Roost %s (git %s, Release, default flags). Load average at start: %s. Bench wall time %.0f s%s."
                  % (mode, self.rounds, self.mem_rounds, m["nproc"], m["cpu"], m["ram_gb"], m["rabbitmq_version"],
                     m["erlang"], m["roost_version"], m["roost_git"], " ".join(m["loadavg_at_start"] or ["?"]), wall,
                     "" if self.status == "complete" else " — **%s, results partial**" % self.status))
        md.append("")
        judged = [r for r in rows if r["holds"] is not None]
        md.append("Targets: %d of %d hold%s." % (sum(1 for r in judged if r["holds"]), len(judged),
                  "" if not judged else " (" + ", ".join("%s %s" % (r["chart"] or r["scenario"], "✅" if r["holds"] else "❌")
                                                        for r in judged) + ")"))
        md.append("")
        md.append("| scenario | unit | Roost | RabbitMQ | Roost/RabbitMQ | target | holds | ok runs R · Q |")
        md.append("| --- | --- | ---: | ---: | ---: | --- | :---: | --- |")
        for r in rows:
            holds = {True: "✅", False: "❌", None: "–" if r["target"] else ""}[r["holds"]]
            md.append("| %s | %s | %s | %s | %s | %s | %s | %s · %s |" % (
                r["label"], r["unit"], fmt_num(r["roost"]), fmt_num(r["rabbitmq"]),
                "%.2f×" % r["ratio"] if r["ratio"] is not None else "–", r["target"], holds,
                r["ok_runs"]["roost"], r["ok_runs"]["rabbitmq"]))
        md.append("")
        md.append("Throughput is delivered msg/s (roost-perf recv_rate, all consumers together); "
                  "latency is publish → delivery; RSS is VmRSS of the broker process (beam.smp for RabbitMQ), "
                  "measured first, on fresh brokers (Roost is restarted before every memory round, RabbitMQ is not). "
                  "An *undrained* run is one whose consumers were still behind the producer when the drain allowance "
                  "(%.0f s) ran out; its delivered rate counts. "
                  "MB = 10^6 B, KB = 10^3 B. Durations: %.0f s per throughput run, %.0f s per latency run. "
                  "Raw runs: results.json; roost-perf output: logs/." % (self.profile["drain"], self.profile["tput"],
                                                                        self.profile["latency"]))
        if any(v.cluster for v in self.variants):
            md.append("")
            md.append("j: three nodes of each on this machine. Roost: etcd and three roost processes, lease TTL %d s, "
                      "confirms once every in-sync replica has the batch; roost-perf on the leader. RabbitMQ: three "
                      "clustered nodes, a quorum queue (a member on each, its leader on the node roost-perf uses). "
                      "Failover: a probe publishes persistent messages with confirms, one at a time, to a quorum "
                      "queue through the node holding its leader (Roost: the leader), which gets kill -9; the time "
                      "runs until a publish is confirmed again, the probe reconnecting to the surviving nodes in "
                      "turn every 50 ms (a Roost follower forwards it to the new leader). The killed node is "
                      "restarted before the next round." % LEASE_TTL)
        if self.events:
            md.append("")
            md.append("Events: " + "; ".join("%s (at %.0f s)" % (e["msg"], e["t"]) for e in self.events))
        text = "\n".join(md) + "\n"
        with open(os.path.join(self.out, "results.md"), "w") as f:
            f.write(text)
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump({"machine": m, "mode": mode, "status": self.status, "rounds": self.rounds,
                       "memory_rounds": self.mem_rounds, "profile": self.profile, "wall_s": round(wall, 1),
                       "summary": rows, "runs": self.runs, "events": self.events}, f, indent=1, default=str)
        self.chart(rows, m)
        print()
        print(text)
        print("results in %s" % os.path.relpath(self.out, self.a.root))

    def chart(self, rows, m):
        pts = []
        for r in rows:
            if not r["chart"] or r["roost"] is None or r["rabbitmq"] is None or r["roost"] <= 0 or r["rabbitmq"] <= 0:
                continue
            adv = r["roost"] / r["rabbitmq"] if r["better"] == "higher" else r["rabbitmq"] / r["roost"]
            color = {True: "0x2ca02c", False: "0xd62728", None: "0x7f7f7f"}[r["holds"]]
            pts.append((r["chart"], adv, color))
        if not pts or not shutil.which("gnuplot"):
            return
        dat = os.path.join(self.out, "ratio.dat")
        with open(dat, "w") as f:
            for i, (lab, adv, color) in enumerate(pts):
                f.write('%d "%s" %.6g %s\n' % (i, lab, adv, color))
        lo = min(0.5, min(p[1] for p in pts) / 2)
        hi = max(20, max(p[1] for p in pts) * 2)
        gp = """
set terminal pngcairo size 1100,560 font ",10"
set output '{out}'
set title "Roost vs RabbitMQ {v} — how many times better Roost is (rates: Roost/RabbitMQ; latency, RSS: RabbitMQ/Roost)\\n{date}, nproc {nproc}, {cpu}" noenhanced
set logscale y
set yrange [{lo}:{hi}]
set ylabel "advantage (×, log scale)"
set grid ytics
set style fill solid 0.85 border -1
set boxwidth 0.7
set xrange [-0.6:{n}-0.4]
set key top left horizontal
plot '{dat}' using 1:3:4:xtic(2) with boxes lc rgb variable notitle, \\
     '{dat}' using 1:3:(sprintf("%.2g×", $3)) with labels offset 0,0.8 notitle, \\
     1 with lines dt 2 lc rgb "black" title "parity (1×)", \\
     NaN with boxes lc rgb "0x2ca02c" title "target holds", \\
     NaN with boxes lc rgb "0xd62728" title "target missed", \\
     NaN with boxes lc rgb "0x7f7f7f" title "no target"
""".format(out=os.path.join(self.out, "ratio.png"), v=m["rabbitmq_version"], date=m["date"], nproc=m["nproc"],
           cpu=m["cpu"].replace('"', ""), lo=lo, hi=hi, n=len(pts), dat=dat)
        with open(os.path.join(self.out, "ratio.gp"), "w") as f:
            f.write(gp)
        r = subprocess.run(["gnuplot", os.path.join(self.out, "ratio.gp")], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            log("gnuplot failed: %s" % r.stderr.strip())


def make_certificates(a):
    """A CA and a server certificate for 127.0.0.1, made with openssl in the work dir (the
    integration tests' tls_certs.py); both brokers present the same one."""
    sys.path.insert(0, os.path.join(a.root, "tests", "integration"))
    import tls_certs  # noqa: E402
    directory = os.path.join(a.work, "tls")
    os.makedirs(directory)
    return tls_certs.make(directory)


def fmt_num(x):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 s runs (2 s for latency), 2 rounds, memory scenarios "
                    "once: about 4 minutes, 1 of them for j (RabbitMQ alone needs ~40 s to take 1M messages)")
    ap.add_argument("--only", metavar="LIST", help="scenarios to run, e.g. a,c or j (default: all of a..j, r, s and t)")
    ap.add_argument("--rounds", type=int, metavar="N", help="rounds per scenario and broker, memory scenarios "
                    "included (default 3; with --quick 2, and 1 for the memory scenarios)")
    ap.add_argument("--time-cap", type=float, metavar="SECONDS", help="hard cap on the benchmark phase "
                    "(default 900, or 240 with --quick, plus 240 / 150 when j runs; scaled up with more --rounds "
                    "than the default)")
    ap.add_argument("--out", metavar="DIR", help="results directory (default bench-results/<date-time>)")
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--roost", help=argparse.SUPPRESS)
    ap.add_argument("--perf", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not (a.root and a.work and a.roost and a.perf):
        ap.error("run me through scripts/bench")
    if a.rounds is not None and a.rounds < 1:
        ap.error("--rounds must be at least 1")
    for path in (a.roost, a.perf, RABBITMQ_SERVER):
        if not os.access(path, os.X_OK):
            sys.exit("bench: %s is missing or not executable" % path)

    def on_signal(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    def on_alarm(_signum, _frame):
        raise TimeCap()

    signal.signal(signal.SIGTERM, on_signal)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)

    bench = Bench(a)
    log("results go to %s; time cap %.0f s" % (os.path.relpath(bench.out, a.root), bench.cap))
    signal.alarm(int(bench.cap))
    rc = 0
    try:
        bench.run()
    except TimeCap:
        bench.status = "stopped by the %.0f s time cap" % bench.cap
        log(bench.status)
        rc = 1
    except Interrupted as e:
        bench.status = "interrupted (%s)" % e
        log(bench.status)
        rc = 130
    except BrokerDown as e:
        bench.status = "failed: %s" % e
        log(bench.status)
        rc = 1
    finally:
        signal.alarm(0)
        # A second Ctrl-C / TERM must not cut the shutdown short.
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        bench.shutdown()
    if bench.runs:
        bench.report()
    if rc == 0 and not all(r["ok"] for r in bench.runs):
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())

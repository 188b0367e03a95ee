"""Scenario s: stream queues (x-queue-type stream), Roost against RabbitMQ's stream over AMQP 0-9-1.

A mixin of Bench (bench.py): it uses Bench's perf(), record(), stable_rss(), profile and event().

  s-pub     publish with confirms (window 100) into a fresh stream, no consumer, for the run's duration
  s-pub-n   the same against a second Roost started with --sync normal (no fsync per commit), the
            durability of RabbitMQ's streams, which never fsync their segments
  s-rss     a stream of STREAM_MESSAGES (10,000,000; --quick 1,000,000) 16-byte messages is written by
            4 producers with confirms, then the broker's RSS with no consumer; the stream stays for:
  s-replay  one consumer replays REPLAY_MESSAGES (1,000,000) from "first" (prefetch 1,000), then ten
            consumers replay the same million at once: the rates, and what ten cost against one
            (ten's time / one's time; Roost's target: under 2)
"""
import os
import time

from amqp_admin import Admin, AmqpError  # noqa: E402

STREAM_MESSAGES = {"full": 10_000_000, "quick": 1_000_000}
REPLAY_MESSAGES = 1_000_000
REPLAY_PREFETCH = "1000"
STREAM_FLAGS = ["--queue-type", "stream", "--durable"]


class StreamScenarios:
    @staticmethod
    def stream_key(broker):
        """A restarted broker has a fresh data dir: its stream is gone."""
        return getattr(broker, "dirname", broker.name), broker.generation

    def stream_estimate(self, v, broker):
        """Seconds a round of a stream scenario takes on this broker (for the time cap)."""
        roost = broker.name == "roost"
        if v.kind == "stream_pub":
            return self.profile["tput"] + (3 if roost else 10)
        if v.kind == "rss_stream":
            n = STREAM_MESSAGES["quick" if self.a.quick else "full"]
            return 10 + n / (300_000 if roost else 60_000)
        return 5 + (2 if roost else 30) + (0 if self.stream_filled.get(self.stream_key(broker)) else 20)

    def stream_name(self, broker):
        return "bench-s-%s-%d" % (broker.name, os.getpid())

    def fill_stream(self, broker, n, logname):
        """Writes n messages into the broker's bench stream with 4 confirming producers; the perf result."""
        producers = 4
        flags = STREAM_FLAGS + ["--queue", self.stream_name(broker), "--persistent", "--confirm", "100",
                                "--no-consume", "--producers", str(producers), "--pmessages", str(n // producers)]
        rc, res, _out, wall, cmd = self.perf(broker, flags, max(60, self.remaining() - 30), logname)
        if rc == 0:
            self.stream_filled[self.stream_key(broker)] = n
        return rc, res, wall, cmd

    def run_stream_pub(self, v, broker, rnd):
        p = self.profile
        queue = "bench-s-pub-%s-%d-%d" % (broker.name, os.getpid(), rnd)
        flags = STREAM_FLAGS + ["--queue", queue, "--persistent", "--confirm", "100", "--no-consume",
                                "--duration", str(p["tput"])]
        rc, res, _out, wall, cmd = self.perf(broker, flags, p["tput"] + 60, "%s-%s-%d" % (v.id, broker.name, rnd))
        self.delete_stream(broker, queue)
        metrics = {"msg_s": res["send_rate"]} if rc == 0 and res and res.get("confirmed", 0) > 0 else None
        self.record(v, broker, rnd, rc, res, metrics, wall, cmd)

    def run_rss_stream(self, v, broker, rnd):
        n = STREAM_MESSAGES["quick" if self.a.quick else "full"]
        before = self.stable_rss(broker.pid, limit=5)
        self.delete_stream(broker, self.stream_name(broker))
        self.stream_filled.pop(self.stream_key(broker), None)
        rc, res, wall, cmd = self.fill_stream(broker, n, "%s-%s-%d" % (v.id, broker.name, rnd))
        metrics = None
        if rc == 0:
            full = self.stable_rss(broker.pid)
            metrics = {"rss_mb": full * 1024 / 1e6, "baseline_mb": before * 1024 / 1e6, "messages": n,
                       "fill_s": round(wall, 2), "fill_rate": res.get("send_rate") if res else None}
        self.record(v, broker, rnd, rc, res, metrics, wall, cmd)

    def replay(self, broker, consumers, logname):
        flags = STREAM_FLAGS + ["--queue", self.stream_name(broker), "--producers", "0", "--consumers",
                                str(consumers), "--cmessages", str(REPLAY_MESSAGES), "--stream-offset", "first",
                                "--prefetch", REPLAY_PREFETCH, "--drain", "300"]
        return self.perf(broker, flags, 360, logname)

    def run_stream_replay(self, v, broker, rnd):
        if self.stream_filled.get(self.stream_key(broker), 0) < REPLAY_MESSAGES:
            rc, res, wall, cmd = self.fill_stream(broker, REPLAY_MESSAGES, "s-fill-%s-%d" % (broker.name, rnd))
            if rc != 0:
                self.record(v, broker, rnd, rc, res, None, wall, cmd, "the stream could not be filled")
                return
        rc1, one, _o1, wall1, cmd = self.replay(broker, 1, "%s-one-%s-%d" % (v.id, broker.name, rnd))
        rc10, ten, _o10, wall10, _cmd = self.replay(broker, 10, "%s-ten-%s-%d" % (v.id, broker.name, rnd))
        rc = rc1 if rc1 != 0 else rc10
        metrics = None
        if rc == 0 and one and ten and one.get("recv_rate") and ten.get("recv_rate"):
            one_s = REPLAY_MESSAGES / one["recv_rate"]
            ten_s = 10 * REPLAY_MESSAGES / ten["recv_rate"]
            metrics = {"one_msg_s": one["recv_rate"], "ten_msg_s": ten["recv_rate"], "one_s": round(one_s, 2),
                       "ten_s": round(ten_s, 2), "ten_cost": ten_s / one_s}
        self.record(v, broker, rnd, rc, {"one": one, "ten": ten}, metrics, wall1 + wall10, cmd)

    def delete_stream(self, broker, queue):
        try:
            with Admin("127.0.0.1", broker.port, timeout=120) as adm:
                if adm.queue_depth(queue) is not None:
                    adm.queue_delete(queue)
        except (OSError, AmqpError) as e:
            self.event("could not delete stream %s on %s: %s" % (queue, broker.label, e))

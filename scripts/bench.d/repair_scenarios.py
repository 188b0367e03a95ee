"""Scenario r: inspecting and repairing queues (Roost only: RabbitMQ has no non-destructive browse
and no redrive, so these rows have no RabbitMQ column).

A mixin of Bench (bench.py): it uses Bench's perf(), record(), profile and event().

  r-browse   a queue of BROWSE_MESSAGES (10,000,000; --quick 1,000,000) 16-byte transient messages,
             nearly all paged out to the scratch store; then a flat-out publisher into it for the run's
             duration, once alone and once while a client browses it without pause, alternating page 1
             and page 10,000 (limit 100: from position 999,900). Metrics: each page's median and worst
             answer time, and how much the browsing cost the publisher's rate.
  r-redrive  REDRIVE_MESSAGES (1,000,000) dead letters (published to a queue whose policy gives them a
             TTL of 0 and a dead-letter queue), redriven back unpaced: dead letters moved per second.
"""
import base64
import http.client
import json
import statistics
import threading
import time
import urllib.parse

BROWSE_MESSAGES = {"full": 10_000_000, "quick": 1_000_000}
REDRIVE_MESSAGES = 1_000_000
DEEP_PAGE_OFFSET = 999_900  # page 10,000 of 100


class Http:
    """The admin API of one broker, one keep-alive connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.auth = "Basic " + base64.b64encode(b"guest:guest").decode()

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, data, headers)
        resp = self.conn.getresponse()
        text = resp.read()
        if resp.status >= 300:
            raise OSError("%s %s: %d %s" % (method, path, resp.status, text[:200]))
        return json.loads(text) if text else None

    def close(self):
        self.conn.close()


def quoted(name):
    return urllib.parse.quote(name, safe="")


class RepairScenarios:
    def repair_estimate(self, v):
        n = BROWSE_MESSAGES["quick" if self.a.quick else "full"]
        if v.kind == "browse":
            return 20 + n / 400_000 + 2 * self.profile["tput"]
        return 20 + REDRIVE_MESSAGES / 100_000

    def fill(self, broker, queue, n, logname):
        producers = 4
        flags = ["--queue", queue, "--no-consume", "--producers", str(producers), "--pmessages", str(n // producers)]
        return self.perf(broker, flags, max(60, self.remaining() - 30), logname)

    def publish_for(self, broker, queue, logname):
        flags = ["--queue", queue, "--no-consume", "--duration", str(self.profile["tput"])]
        rc, res, _out, _wall, _cmd = self.perf(broker, flags, self.profile["tput"] + 60, logname)
        return res["send_rate"] if rc == 0 and res else None

    def run_browse(self, v, broker, rnd):
        n = BROWSE_MESSAGES["quick" if self.a.quick else "full"]
        queue = "bench-r-browse-%d-%d" % (int(time.time()), rnd)
        rc, res, _out, wall, cmd = self.fill(broker, queue, n, "%s-fill-%d" % (v.id, rnd))
        if rc != 0:
            self.record(v, broker, rnd, rc, res, None, wall, cmd, "the queue could not be filled")
            return
        alone = self.publish_for(broker, queue, "%s-alone-%d" % (v.id, rnd))
        times = {"first": [], "deep": []}
        stop = threading.Event()
        errors = []

        def browse():
            api = Http(broker.http_port)
            path = "/api/queues/%2F/" + quoted(queue) + "/messages?state=ready&limit=100"
            try:
                while not stop.is_set():
                    for which, offset in (("first", 0), ("deep", DEEP_PAGE_OFFSET)):
                        t0 = time.monotonic()
                        page = api.call("GET", "%s&offset=%d" % (path, offset))
                        times[which].append((time.monotonic() - t0) * 1000)
                        if len(page["messages"]) != 100:
                            raise OSError("page at %d held %d messages" % (offset, len(page["messages"])))
            except (OSError, ValueError, KeyError) as e:
                errors.append(str(e))
            finally:
                api.close()

        browser = threading.Thread(target=browse)
        browser.start()
        try:
            during = self.publish_for(broker, queue, "%s-browsed-%d" % (v.id, rnd))
        finally:
            stop.set()
            browser.join(timeout=120)
        self.delete_queue_of(broker, queue)
        metrics = None
        if alone and during and times["first"] and times["deep"] and not errors:
            metrics = {"page1_ms": statistics.median(times["first"]), "page1_max_ms": max(times["first"]),
                       "deep_ms": statistics.median(times["deep"]), "deep_max_ms": max(times["deep"]),
                       "pages": len(times["first"]) + len(times["deep"]), "pub_alone": alone, "pub_browsed": during,
                       "pub_drop_pct": 100.0 * (alone - during) / alone, "messages": n}
        self.record(v, broker, rnd, 0 if metrics else "failed", None, metrics, wall, cmd,
                    "; ".join(errors) if errors else None)

    def run_redrive(self, v, broker, rnd):
        api = Http(broker.http_port)
        source, dlq = "bench-r-src-%d" % rnd, "bench-r-dlq-%d" % rnd
        policy = "/api/policies/%2F/bench-r-dead-on-arrival"
        try:
            api.call("PUT", "/api/queues/%2F/" + dlq, {"durable": False})
            api.call("PUT", policy, {"pattern": "^" + source + "$", "apply-to": "queues", "definition": {
                "message-ttl": 0, "dead-letter-exchange": "", "dead-letter-routing-key": dlq}})
            rc, res, _out, wall, cmd = self.fill(broker, source, REDRIVE_MESSAGES, "%s-fill-%d" % (v.id, rnd))
            api.call("DELETE", policy)
            deadline = time.monotonic() + 300
            while api.call("GET", "/api/queues/%2F/" + dlq)["messages_ready"] < REDRIVE_MESSAGES:
                if time.monotonic() > deadline:
                    raise OSError("the dead letters did not all arrive")
                time.sleep(0.2)
            t0 = time.monotonic()
            api.call("POST", "/api/queues/%2F/" + dlq + "/redrive", {})
            while True:
                run = api.call("GET", "/api/queues/%2F/" + dlq + "/redrive")["run"]
                if run["state"] != "running":
                    break
                time.sleep(0.05)
            seconds = time.monotonic() - t0
            metrics = None
            if run["state"] == "finished" and run["moved"] == REDRIVE_MESSAGES:
                metrics = {"redrive_msg_s": REDRIVE_MESSAGES / seconds, "redrive_s": round(seconds, 2)}
            self.record(v, broker, rnd, rc if metrics else "redrive %s, moved %d" % (run["state"], run["moved"]),
                        res, metrics, wall + seconds, cmd)
        finally:
            for q in (source, dlq):
                self.delete_queue_of(broker, q)
            api.close()

    def delete_queue_of(self, broker, queue):
        try:
            Http(broker.http_port).call("DELETE", "/api/queues/%2F/" + quoted(queue))
        except OSError as e:
            self.event("could not delete queue %s on %s: %s" % (queue, broker.label, e))

"""The memory alarm, as RabbitMQ's vm_memory_high_watermark.

The broker starts with an absolute --memory-high-watermark a little above
its own idle resident size. A publisher then queues more than that margin:
the alarm goes up, the publisher (pika announces the capability) gets
connection.blocked "low on memory" and is no longer read; /api/nodes,
/api/health/checks/alarms and /metrics say so. A consumer on another
connection keeps draining; once the queue is empty the broker gives the
memory back, the alarm clears, the publisher is unblocked and what it sent
meanwhile arrives.
"""
import os
import time

import admin_http as ah
import roost_fixture as rf

MARGIN = 24 * 1024 * 1024
BODY = b"m" * (16 * 1024)


def resident_bytes(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sanitized(pid):
    """The broker is scripts/test's AddressSanitizer build: it keeps freed memory (quarantine,
    shadow pages) resident, so its resident size does not come back down after a flood."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def metric(port, name):
    _, text, _ = ah.api("GET", "/metrics", port=port, user=None)
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no %s in /metrics" % name)


def node(port):
    nodes = ah.ok("GET", "/api/nodes", port=port)
    assert len(nodes) == 1, nodes
    return nodes[0]


def test_nodes_report_memory_and_no_alarm_at_rest():
    b = rf.start_broker(extra_args=["--memory-high-watermark", "0.4"])
    n = node(b.http_port)
    assert n["mem_alarm"] is False and n["disk_free_alarm"] is False, n
    assert 0 < n["mem_used"] < n["mem_limit"], n
    assert n["mem_calculation_strategy"] == "rss", n
    status, body, _ = ah.api("GET", "/api/health/checks/alarms", port=b.http_port)
    assert status == 200 and body == {"status": "ok"}, (status, body)
    assert metric(b.http_port, "rabbitmq_alarms_memory_used_watermark") == 0


@rf.timeout(120)
def test_publishers_blocked_above_the_watermark_consumers_drain_and_it_clears():
    probe = rf.start_broker()
    idle = resident_bytes(probe.pid)
    rf.stop_broker_clean(probe)
    b = rf.start_broker(extra_args=["--memory-high-watermark", str(idle + MARGIN)])
    limit = node(b.http_port)["mem_limit"]
    assert limit == idle + MARGIN, (limit, idle)

    conn = rf.connect(port=b.port)
    events = []
    conn.add_on_connection_blocked_callback(lambda c, m: events.append(("blocked", m.method.reason)))
    conn.add_on_connection_unblocked_callback(lambda c, m: events.append(("unblocked", None)))
    ch = conn.channel()
    q = rf.uniq("mem")
    ch.queue_declare(q)
    # The broker decides to block when it next reads: keep publishing until
    # told, looking for the news after every message. Once blocked, what we
    # write is no longer read: a few messages more than the socket buffers
    # hold, and basic_publish would wait for ever (pika dispatches the
    # blocked callback only between calls).
    sent = 0
    deadline = time.monotonic() + 20
    while not events and time.monotonic() < deadline:
        ch.basic_publish("", q, BODY)
        sent += 1
        conn.process_data_events(time_limit=0)
        # On a loaded machine the news can come later than the socket buffers fill: once the
        # node reports the alarm, write one message more (the read that blocks) and wait.
        if sent % 16 == 0 and node(b.http_port)["mem_alarm"]:
            ch.basic_publish("", q, BODY)
            sent += 1
            rf.wait_until(conn, lambda: events, 10, "connection.blocked once the alarm is raised")
    assert events, "no connection.blocked after %d messages of %d KiB" % (sent, len(BODY) >> 10)
    assert events[0] == ("blocked", "low on memory"), events

    n = node(b.http_port)
    assert n["mem_alarm"] is True and n["mem_used"] > n["mem_limit"], n
    status, body, _ = ah.api("GET", "/api/health/checks/alarms", port=b.http_port)
    assert status == 503 and body["status"] == "failed" and "memory" in body["reason"], (status, body)
    assert metric(b.http_port, "rabbitmq_alarms_memory_used_watermark") == 1

    # Blocked: what it publishes now is not read, so it does not reach the queue.
    for _ in range(8):
        ch.basic_publish("", q, b"while blocked")
    consumer = rf.connect(port=b.port)
    cch = consumer.channel()
    queued = cch.queue_declare(q, passive=True).method.message_count
    assert queued <= sent, (queued, sent)

    # A consumer on another connection drains everything queued before the block.
    received = []
    cch.basic_consume(q, lambda c, m, p, body: (received.append(body), c.basic_ack(m.delivery_tag)))
    rf.wait_until(consumer, lambda: len(received) >= queued, 30, "the consumer drained %d messages" % queued)
    assert all(body == BODY for body in received[:queued])

    if sanitized(b.pid):
        print("#   AddressSanitizer build: the alarm clearing is checked by the plain build's pass")
        return
    # Drained and quiet: the memory goes back, the alarm clears, the publisher goes on.
    rf.wait_until(conn, lambda: ("unblocked", None) in events, 30, "connection.unblocked once drained")
    rf.wait_until(consumer, lambda: received[-1:] == [b"while blocked"] and len(received) == sent + 8, 15,
                  "the messages sent while blocked")
    assert node(b.http_port)["mem_alarm"] is False
    status, _, _ = ah.api("GET", "/api/health/checks/alarms", port=b.http_port)
    assert status == 200
    consumer.close()
    conn.close()


if __name__ == "__main__":
    rf.main(file_broker=False)

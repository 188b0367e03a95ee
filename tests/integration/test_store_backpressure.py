"""Publishers outrunning the store are paused and told so.

With a tiny --store-backlog-high, a pipelining publisher of persistent
messages pushes the store's backlog over the mark: the broker stops reading
it and, since pika announces the connection.blocked capability, sends
connection.blocked, then connection.unblocked once the store caught up.
Nothing is lost on the way.
"""
import pika

import roost_fixture as rf


def test_blocked_then_unblocked_and_nothing_lost():
    b = rf.start_broker(extra_args=["--store-backlog-high", "20"])
    conn = rf.connect(port=b.port)
    events = []
    conn.add_on_connection_blocked_callback(lambda c, m: events.append("blocked"))
    conn.add_on_connection_unblocked_callback(lambda c, m: events.append("unblocked"))
    ch = conn.channel()
    q = rf.uniq("bp")
    ch.queue_declare(q, durable=True)
    n = 5000
    props = pika.BasicProperties(delivery_mode=2)
    for i in range(n):
        ch.basic_publish("", q, b"m%d" % i, props)
    rf.wait_until(conn, lambda: "unblocked" in events, 30, "connection.unblocked after the store caught up")
    assert "blocked" in events, "expected connection.blocked, got %r" % (events,)
    assert events.index("blocked") < events.index("unblocked"), events
    rf.wait_until(conn, lambda: ch.queue_declare(q, durable=True, passive=True).method.message_count == n, 30,
                  "all %d messages queued" % n)
    conn.close()


if __name__ == "__main__":
    rf.main(file_broker=False)

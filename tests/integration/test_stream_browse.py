#!/usr/bin/python3
"""Browsing a stream through the admin API (Roost's; RabbitMQ has no such endpoint):
GET /api/queues/{vhost}/{name}/messages?offset=N | from_time=MS & limit=L [& encoding, truncate]

- reads a page of messages from an offset (default: the first kept) or from the first message
  appended at or after a time, from the in-memory tail or from the store (a stream of 5,000
  messages keeps only its newest 4,096 in memory, and none after a restart), each with its
  offset, append time, exchange, routing key, properties (x-stream-offset among the headers)
  and payload as RabbitMQ's get shows it; next_offset continues after the page;
- changes nothing: a consumer from "first" afterwards gets every message, and the API's
  counts stay;
- refuses what it cannot do with a 400 and a reason: offset and from_time
  together, a limit outside 1..1000, a number that is not one; an unknown queue is a 404.
"""
import base64
import time

import pika

import admin_http
import roost_fixture as rf
from admin_http import q as quote
from stream_support import confirm_channel, declare_stream, publish, Reader, get_queue

TAIL = 4096  # messages a stream keeps in memory


def browse(name, port=None, **query):
    path = "/api/queues/%2F/" + quote(name) + "/messages"
    if query:
        path += "?" + "&".join("%s=%s" % kv for kv in query.items())
    return admin_http.ok("GET", path, expect=200, port=port)


def offsets_and_bodies(page):
    return [(m["offset"], m["payload"]) for m in page["messages"]]


def body(i):
    return "message %05d" % i


def test_pages_from_the_store_and_the_tail_with_the_offset_header():
    if rf.external():
        rf.skip("browsing a stream is Roost's")
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch)
    n = TAIL + 904
    publish(ch, s, [body(i).encode() for i in range(n)], pika.BasicProperties(message_id="m", headers={"k": "v"}))
    first = browse(s, limit=3)  # no offset: from the first, read back from the store
    rf.eq(offsets_and_bodies(first), [(i, body(i)) for i in range(3)])
    rf.eq(first["next_offset"], 3)
    m = first["messages"][0]
    rf.eq((m["exchange"], m["routing_key"], m["payload_bytes"], m["payload_encoding"]), ("", s, 13, "string"))
    rf.eq(m["properties"]["message_id"], "m")
    rf.eq(m["properties"]["headers"], {"k": "v", "x-stream-offset": 0})
    assert abs(m["appended_at"] / 1000 - time.time()) < 120, m["appended_at"]
    across = browse(s, offset=n - TAIL - 2, limit=4)  # the store's last two, the tail's first two
    rf.eq(offsets_and_bodies(across), [(i, body(i)) for i in range(n - TAIL - 2, n - TAIL + 2)])
    end = browse(s, offset=n - 2, limit=1000)
    rf.eq(offsets_and_bodies(end), [(n - 2, body(n - 2)), (n - 1, body(n - 1))])
    rf.eq(end["next_offset"], n)
    rf.eq(browse(s, offset=n + 10), {"next_offset": n + 10, "messages": []})
    page = browse(s, offset=100, limit=1000)
    rf.eq([o for o, _ in offsets_and_bodies(page)], list(range(100, 1100)))


def test_from_a_time_encodings_and_truncation():
    if rf.external():
        rf.skip("browsing a stream is Roost's")
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch)
    publish(ch, s, [b"before-1", b"before-2"])
    # The next append is stamped later than these (append times are milliseconds).
    since = int(time.time() * 1000) + 2
    while int(time.time() * 1000) < since:
        pass
    publish(ch, s, [b"\x00\xffbinary", b"after"])
    page = browse(s, from_time=since)
    rf.eq([m["offset"] for m in page["messages"]], [2, 3])
    rf.eq((page["messages"][0]["payload"], page["messages"][0]["payload_encoding"]),
          (base64.b64encode(b"\x00\xffbinary").decode(), "base64"))
    assert page["messages"][0]["appended_at"] >= since
    rf.eq(browse(s, from_time=since + 3_600_000)["messages"], [])
    as_base64 = browse(s, offset=3, encoding="base64")["messages"][0]
    rf.eq((as_base64["payload"], as_base64["payload_encoding"]), (base64.b64encode(b"after").decode(), "base64"))
    cut = browse(s, offset=0, truncate=3)["messages"][0]
    rf.eq((cut["payload"], cut["payload_bytes"]), ("bef", 8))


def test_browsing_changes_nothing():
    if rf.external():
        rf.skip("browsing a stream is Roost's")
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch)
    publish(ch, s, [body(i).encode() for i in range(50)])
    before = get_queue(s)
    for offset in (0, 25, 49):
        browse(s, offset=offset, limit=10)
    after = get_queue(s)
    rf.eq((after["messages"], after["first_offset"], after["last_offset"]),
          (before["messages"], before["first_offset"], before["last_offset"]))
    r = Reader(s, "first").wait(50)
    rf.eq(r.offsets, list(range(50)))
    rf.eq([b.decode() for b in r.bodies], [body(i) for i in range(50)])
    r.conn.close()


def test_a_restarted_stream_is_browsed_from_the_store():
    if rf.external():
        rf.skip("browsing a stream is Roost's")
    b = rf.start_broker()
    ch = confirm_channel(rf.connect(port=b.port))
    s = declare_stream(ch, port=b.port)
    publish(ch, s, [body(i).encode() for i in range(20)])
    b = rf.restart_broker(b, kill=True)
    page = browse(s, port=b.http_port, offset=15)
    rf.eq(offsets_and_bodies(page), [(i, body(i)) for i in range(15, 20)])


def test_refusals():
    if rf.external():
        rf.skip("browsing a stream is Roost's")
    ch = confirm_channel(rf.connect())
    s = declare_stream(ch)
    path = "/api/queues/%2F/" + quote(s) + "/messages"
    admin_http.refused("GET", path + "?offset=1&from_time=5", reason="give offset or from_time, not both")
    admin_http.refused("GET", path + "?limit=0", reason="limit must be between 1 and 1000")
    admin_http.refused("GET", path + "?limit=1001", reason="limit must be between 1 and 1000")
    admin_http.refused("GET", path + "?offset=-1", reason="offset must be a non-negative integer, got '-1'")
    admin_http.refused("GET", path + "?encoding=hex", reason="encoding must be auto or base64")
    admin_http.refused("GET", "/api/queues/%2F/no-such-stream/messages", status=404)


if __name__ == "__main__":
    rf.main()

#!/usr/bin/python3
"""Writes the seed corpora of the codec and connection targets into fuzz/corpus/.

Every seed is what a real client puts on the wire: the golden frames of
tests/unit/golden_frames.hpp (read from that file, so both stay one set of
bytes) and frames marshalled by Debian's python3-pika, the same encoder the
golden frames came from. Run it with Debian's python (it has pika) after
changing it; the seeds are committed, so the fuzz build needs no python.
The HTTP, topic, regex, recovery and stream chunk seeds are plain text or hand-made and
are committed as they are.

    /usr/bin/python3 fuzz/make_seeds.py
"""
import datetime
import decimal
import pathlib
import re
import struct

import pika.data
import pika.frame
import pika.spec as spec

ROOT = pathlib.Path(__file__).resolve().parent
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


def golden_frames():
    """The arrays of golden_frames.hpp, by name."""
    text = (ROOT.parent / "tests/unit/golden_frames.hpp").read_text()
    arrays = re.findall(r"unsigned char (\w+)\[\] = \{([^}]*)\}", text)
    return {name: bytes(int(b, 16) for b in re.findall(r"0x[0-9a-f]{2}", body)) for name, body in arrays}


def method(channel, m):
    return pika.frame.Method(channel, m).marshal()


def header(channel, size, props):
    return pika.frame.Header(channel, size, props).marshal()


def body(channel, data):
    return pika.frame.Body(channel, data).marshal()


def payload(frame):
    return frame[7:-1]


def table(value):
    pieces = []
    pika.data.encode_table(pieces, value)
    return b"".join(pieces)


# Field value tags pika never writes (it picks one type per Python type), built by hand.
def raw_table(entries):
    inner = b"".join(bytes([len(name)]) + name + value for name, value in entries)
    return struct.pack(">I", len(inner)) + inner


def raw_array(values):
    inner = b"".join(values)
    return b"A" + struct.pack(">I", len(inner)) + inner


HAND_MADE_VALUES = [
    (b"b", b"b\xff"), (b"B", b"B\xff"), (b"s", b"s\x80\x00"), (b"u", b"u\xff\xff"),
    (b"i", b"i\xff\xff\xff\xff"), (b"f", b"f\x7f\xc0\x00\x00"), (b"d", b"d\x7f\xf8\x00\x00\x00\x00\x00\x00"),
    (b"x", b"x\x00\x00\x00\x03abc"), (b"t2", b"t\x02"),
]

TABLES = {
    "empty": {},
    "scalars": {"int": 7, "long": 2**40, "negative": -5, "str": "text", "true": True, "none": None,
                "decimal": decimal.Decimal("3.14"), "timestamp": datetime.datetime(2023, 11, 14, 22, 13, 20)},
    "x_death": {"x-death": [{"count": 1, "reason": "rejected", "queue": "q", "time": datetime.datetime(2024, 1, 1),
                             "exchange": "", "routing-keys": ["q"]}],
                "x-first-death-reason": "rejected", "x-first-death-queue": "q"},
    "nested": {"a": [[[1, [2, {"b": [{"c": {}}]}]]]], "d": {"e": {"f": {"g": [None, "h", []]}}}},
    "headers_binding": {"x-match": "any", "format": "pdf", "type": "report"},
}


def table_seeds():
    seeds = {name: table(value) for name, value in TABLES.items()}
    seeds["hand_made_tags"] = raw_table(HAND_MADE_VALUES)
    seeds["array_of_every_tag"] = raw_table([(b"all", raw_array([value for _, value in HAND_MADE_VALUES]))])
    # Two tables: a message's headers, then a binding's arguments (see field_table.cpp).
    seeds["headers_then_binding"] = table({"format": "pdf", "n": 1}) + table(TABLES["headers_binding"])
    seeds["all_with_x"] = table({"x-a": 1, "b": 2}) + table({"x-match": "all-with-x", "x-a": 1, "b": None})
    # The last entry of a repeated name wins in RabbitMQ's routing map.
    seeds["repeated_names"] = raw_table([(b"k", b"I\x00\x00\x00\x01"), (b"k", b"S\x00\x00\x00\x01v")])
    return seeds


PROPERTIES = {
    "empty": spec.BasicProperties(),
    "persistent": spec.BasicProperties(delivery_mode=2, content_type="application/json"),
    "ttl_and_priority": spec.BasicProperties(expiration="60000", priority=9, user_id="guest"),
    "reply_to": spec.BasicProperties(reply_to="amq.rabbitmq.reply-to", correlation_id="c1", message_id="m1"),
    "headers": spec.BasicProperties(headers={"x-delay": 500, "deep": {"list": [1, "x", None, {"t": True}]}}),
}


def property_seeds():
    seeds = {name: payload(header(1, 5, props))[12:] for name, props in PROPERTIES.items()}
    seeds["golden_all_fields"] = payload(golden_frames()["content_header_frame"])[12:]
    return seeds


def method_seeds():
    golden = golden_frames()
    seeds = {name.removesuffix("_frame"): payload(frame) for name, frame in golden.items() if frame[0] == 1}
    for name, m in {
        "connection_tune_ok": spec.Connection.TuneOk(2047, 131072, 60),
        "connection_open": spec.Connection.Open("/"),
        "connection_close": spec.Connection.Close(200, "bye", 0, 0),
        "channel_open": spec.Channel.Open(),
        "channel_flow": spec.Channel.Flow(True),
        "channel_close": spec.Channel.Close(406, "PRECONDITION_FAILED", 50, 10),
        "exchange_bind": spec.Exchange.Bind(destination="d", source="s", routing_key="a.*.#", arguments={"k": 1}),
        "exchange_delete": spec.Exchange.Delete(exchange="ex", if_unused=True),
        "queue_bind_headers": spec.Queue.Bind(queue="q", exchange="amq.headers", arguments={"x-match": "any", "a": 1}),
        "queue_purge": spec.Queue.Purge(queue="q"),
        "queue_delete": spec.Queue.Delete(queue="q", if_unused=True, if_empty=True),
        "queue_unbind": spec.Queue.Unbind(queue="q", exchange="amq.topic", routing_key="a.#"),
        "basic_qos": spec.Basic.Qos(prefetch_count=10, global_qos=True),
        "basic_cancel": spec.Basic.Cancel("ctag1"),
        "basic_get": spec.Basic.Get(queue="q", no_ack=True),
        "basic_nack": spec.Basic.Nack(5, multiple=True, requeue=False),
        "basic_reject": spec.Basic.Reject(3, requeue=True),
        "basic_recover": spec.Basic.Recover(requeue=True),
        "confirm_select": spec.Confirm.Select(),
        "tx_select": spec.Tx.Select(),
        "tx_commit": spec.Tx.Commit(),
    }.items():
        seeds[name] = payload(method(1, m))
    return seeds


def login():
    start_ok = spec.Connection.StartOk(
        client_properties={"product": "pika", "capabilities": {"publisher_confirms": True, "basic.nack": True,
                                                                "consumer_cancel_notify": True,
                                                                "connection.blocked": True,
                                                                "authentication_failure_close": True}},
        mechanism="PLAIN", response="\0guest\0guest", locale="en_US")
    return (PROTOCOL_HEADER + method(0, start_ok) + method(0, spec.Connection.TuneOk(2047, 131072, 60))
            + method(0, spec.Connection.Open("/")))


def publish(channel, exchange, key, data, props=None, mandatory=False):
    props = props or spec.BasicProperties()
    frames = method(channel, spec.Basic.Publish(exchange=exchange, routing_key=key, mandatory=mandatory))
    frames += header(channel, len(data), props)
    # Two body frames when there is enough to split: content assembly across frames.
    half = len(data) // 2
    return frames + (body(channel, data[:half]) + body(channel, data[half:]) if half else body(channel, data))


def session_seeds():
    """What a logged-in client sends next: one scenario per seed, on channel 1 unless said."""
    def on(*methods, channel=1):
        return b"".join(m if isinstance(m, bytes) else method(channel, m) for m in methods)

    persistent = spec.BasicProperties(delivery_mode=2, headers={"k": "v"}, expiration="1000", priority=3)
    headers_args = {"x-match": "all", "format": "pdf", "nested": {"a": [1, None]}}
    return {
        "publish_get_ack": on(spec.Channel.Open(), spec.Queue.Declare(queue="q"), publish(1, "", "q", b"hello world"),
                              spec.Basic.Get(queue="q"), spec.Basic.Ack(1)),
        "consume_and_ack": on(
            spec.Channel.Open(), spec.Basic.Qos(prefetch_count=2),
            spec.Queue.Declare(queue="work", durable=True, arguments={"x-max-length": 3, "x-overflow": "reject-publish"}),
            spec.Basic.Consume(queue="work", consumer_tag="c1"), publish(1, "", "work", b"job one", persistent),
            publish(1, "", "work", b"job two"), spec.Basic.Ack(2, multiple=True), spec.Basic.Cancel("c1")),
        "confirms_and_nack": on(spec.Channel.Open(), spec.Confirm.Select(), spec.Queue.Declare(queue="", exclusive=True),
                                publish(1, "amq.direct", "nobody", b"lost", mandatory=True),
                                spec.Basic.Nack(1, requeue=True)),
        "transactions": on(spec.Channel.Open(), spec.Tx.Select(), publish(3, "", "missing", b"x"), spec.Tx.Rollback(),
                           publish(3, "", "missing", b"y"), spec.Tx.Commit(), channel=3),
        "topology": on(
            spec.Channel.Open(),
            spec.Exchange.Declare(exchange="logs", type="topic", durable=True, arguments={"alternate-exchange": "ae"}),
            spec.Exchange.Declare(exchange="ae", type="fanout"),
            spec.Queue.Declare(queue="errors", arguments={"x-dead-letter-exchange": "logs", "x-message-ttl": 0}),
            spec.Queue.Bind(queue="errors", exchange="logs", routing_key="app.*.error"),
            spec.Queue.Bind(queue="errors", exchange="ae", routing_key=""),
            spec.Exchange.Bind(destination="ae", source="logs", routing_key="#"),
            publish(1, "logs", "app.db.error", b"disk full"),
            spec.Queue.Unbind(queue="errors", exchange="logs", routing_key="app.*.error"),
            spec.Queue.Purge(queue="errors"), spec.Exchange.Delete(exchange="logs"), spec.Queue.Delete(queue="errors")),
        "headers_exchange": on(
            spec.Channel.Open(), spec.Queue.Declare(queue="h"),
            spec.Queue.Bind(queue="h", exchange="amq.headers", routing_key="", arguments=headers_args),
            publish(1, "amq.headers", "", b"doc", spec.BasicProperties(headers=headers_args))),
        "priority_and_reject": on(
            spec.Channel.Open(), spec.Queue.Declare(queue="p", arguments={"x-max-priority": 5}),
            publish(1, "", "p", b"low", spec.BasicProperties(priority=1)),
            publish(1, "", "p", b"high", spec.BasicProperties(priority=9)),
            spec.Basic.Get(queue="p"), spec.Basic.Reject(1, requeue=True), spec.Basic.Recover(requeue=True)),
        "direct_reply_to": on(
            spec.Channel.Open(), spec.Basic.Consume(queue="amq.rabbitmq.reply-to", consumer_tag="rpc", no_ack=True),
            publish(1, "", "amq.rabbitmq.reply-to", b"req", spec.BasicProperties(reply_to="amq.rabbitmq.reply-to"))),
        "channel_errors": on(spec.Channel.Open(), spec.Queue.Declare(queue="absent", passive=True), spec.Basic.Ack(9),
                             spec.Channel.CloseOk())
        + on(spec.Channel.Open(), spec.Channel.Open(), spec.Channel.Close(200, "bye", 0, 0), channel=2),
        "flow_and_close": on(spec.Channel.Open(), spec.Channel.Flow(False), spec.Channel.Flow(True),
                             pika.frame.Heartbeat().marshal())
        + on(spec.Connection.Close(200, "bye", 0, 0), channel=0),
    }


def frame_reader_seeds():
    golden = golden_frames()
    return {
        "pika_login": login(),
        "golden_login_and_frames": PROTOCOL_HEADER + golden["start_ok_frame"]
        + method(0, spec.Connection.TuneOk(2047, 131072, 0)) + method(0, spec.Connection.Open("/"))
        + method(1, spec.Channel.Open()) + golden["queue_declare_frame"] + golden["heartbeat_frame"]
        + golden["basic_publish_frame"],
        "login_then_session": login() + session_seeds()["publish_get_ack"],
        "wrong_protocol_header": b"AMQP\x01\x01\x00\x0a",
        "http_request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "frame_too_large": PROTOCOL_HEADER + b"\x01\x00\x00\x7f\xff\xff\xff",
        "bad_frame_end": PROTOCOL_HEADER + golden["start_ok_frame"][:-1] + b"\x00",
        "unknown_frame_type": PROTOCOL_HEADER + b"\x09\x00\x00\x00\x00\x00\x00\xce",
        "small_frame_max": PROTOCOL_HEADER + golden["start_ok_frame"]
        + method(0, spec.Connection.TuneOk(0, 4096, 0)) + method(0, spec.Connection.Open("/"))
        + method(1, spec.Channel.Open()) + publish(1, "", "q", b"z" * 5000),
    }


def write(target, seeds):
    folder = ROOT / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)


if __name__ == "__main__":
    write("method", method_seeds())
    write("properties", property_seeds())
    write("field_table", table_seeds())
    write("frame_reader", frame_reader_seeds())
    write("connection", session_seeds())

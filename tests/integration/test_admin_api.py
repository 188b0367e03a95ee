"""The admin HTTP API against a running broker with real AMQP traffic from pika:
every endpoint family, rabbitmqadmin (Debian's), definitions export -> import into a
fresh broker, bad input, a slow HTTP client, and DELETE of a connection closing pika's
connection with 320."""
import base64
import http.client
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse

import pika

import roost_fixture as rf

AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()
RABBITMQADMIN = "/usr/bin/rabbitmqadmin"


def api(method, path, body=None, port=None, auth=True, headers=None, raw_body=None, timeout=10):
    """One HTTP request; returns (status, parsed JSON or text, response headers)."""
    conn = http.client.HTTPConnection(rf.HOST, port or rf.http_port(), timeout=timeout)
    h = dict(headers or {})
    if auth:
        h["Authorization"] = AUTH
    data = raw_body
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, data, h)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        ctype = resp.getheader("Content-Type") or ""
        parsed = json.loads(text) if ctype.startswith("application/json") and text else text
        return resp.status, parsed, dict(resp.getheaders())
    finally:
        conn.close()


def ok(method, path, body=None, expect=(200, 201, 204), **kw):
    status, data, headers = api(method, path, body, **kw)
    assert status in (expect if isinstance(expect, tuple) else (expect,)), \
        "%s %s -> %d %r" % (method, path, status, data)
    return data


def q(name):
    return urllib.parse.quote(name, safe="")


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


def assert_error(status, data, expected_status):
    assert status == expected_status, "status %d (%r), expected %d" % (status, data, expected_status)
    assert isinstance(data, dict) and "error" in data and "reason" in data, "error body %r" % (data,)


# ---------------------------------------------------------------- basics

def test_listening_line_and_auth():
    assert rf.http_port() and rf.http_port() != rf.port()
    status, data, headers = api("GET", "/api/overview", auth=False)
    assert status == 401 and data == "", (status, data)  # RabbitMQ: an empty 401 without credentials
    assert "www-authenticate" in {k.lower() for k in headers}
    bad = "Basic " + base64.b64encode(b"guest:wrong").decode()
    status, data, _ = api("GET", "/api/overview", auth=False, headers={"Authorization": bad})
    assert_error(status, data, 401)
    assert data["error"] == "not_authorized", data
    assert ok("GET", "/api/whoami")["name"] == "guest"


def test_overview_counts_real_traffic_and_rates():
    conn = rf.connect()
    ch = conn.channel()
    name = rf.uniq("q")
    ch.queue_declare(name)
    ch.confirm_delivery()
    before = ok("GET", "/api/overview")["message_stats"].get("publish", 0)
    for i in range(50):
        ch.basic_publish("", name, b"m%d" % i)
    o = ok("GET", "/api/overview")
    assert o["message_stats"]["publish"] >= before + 50
    assert o["message_stats"]["confirm"] >= 50
    assert o["object_totals"]["connections"] >= 1
    assert o["object_totals"]["queues"] >= 1
    assert o["queue_totals"]["messages_ready"] >= 50
    assert {"amqp", "http"} <= {l["protocol"] for l in o["listeners"]}
    assert [l["port"] for l in o["listeners"] if l["protocol"] == "amqp"] == [rf.port()]
    # Rates are sampled each second: keep publishing until a sample shows them.
    def rate_seen():
        for i in range(20):
            ch.basic_publish("", name, b"r")
        return ok("GET", "/api/overview")["message_stats"]["publish_details"]["rate"] > 0
    wait_for(rate_seen, 5, "a publish rate > 0")
    ok("DELETE", "/api/queues/%2F/" + q(name))


# ---------------------------------------------------------------- queues

def test_queue_lifecycle_with_pika_traffic():
    name = rf.uniq("q")
    path = "/api/queues/%2F/" + q(name)
    assert api("PUT", path, {"durable": True, "auto_delete": False, "arguments": {"x-max-length": 100}})[0] == 201
    assert api("PUT", path, {"durable": True, "arguments": {"x-max-length": 100}})[0] == 204
    status, data, _ = api("PUT", path, {"durable": False})
    assert_error(status, data, 409)
    conn = rf.connect()
    ch = conn.channel()
    ch.queue_declare(name, passive=True)  # pika sees the queue the API declared
    for i in range(5):
        ch.basic_publish("", name, b"body-%d" % i, pika.BasicProperties(content_type="text/plain", headers={"n": i}))
    wait_for(lambda: ok("GET", path)["messages_ready"] == 5, what="5 ready")
    info = ok("GET", path)
    assert info["durable"] is True and info["arguments"] == {"x-max-length": 100}
    assert info["message_stats"]["publish"] == 5
    got = ok("POST", path + "/get", {"count": 2, "ackmode": "ack_requeue_true", "encoding": "auto"})
    assert [m["payload"] for m in got] == ["body-0", "body-1"]
    assert got[0]["properties"]["headers"] == {"n": 0}
    assert got[0]["properties"]["content_type"] == "text/plain"
    assert ok("GET", path)["messages_ready"] == 5
    method, props, body = ch.basic_get(name, auto_ack=True)
    assert body == b"body-0" and method.redelivered
    ok("POST", path + "/get", {"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})
    assert ok("GET", path)["messages_ready"] == 3
    # A consumer with unacked messages shows up as consumers / unacked.
    ch.basic_qos(prefetch_count=2)
    ch.basic_consume(name, lambda *a: None, consumer_tag="admin-test")
    wait_for(lambda: ok("GET", path)["messages_unacknowledged"] == 2, what="2 unacked")
    info = ok("GET", path)
    assert info["consumers"] == 1 and info["messages"] == 3
    consumers = [c for c in ok("GET", "/api/consumers/%2F") if c["queue"]["name"] == name]
    assert consumers and consumers[0]["consumer_tag"] == "admin-test" and consumers[0]["prefetch_count"] == 2
    status, data, _ = api("DELETE", path + "?if-unused=true")
    assert_error(status, data, 409)
    ch.basic_cancel("admin-test")
    ch.basic_recover(requeue=True)
    wait_for(lambda: ok("GET", path)["messages_ready"] == 3, what="requeued")
    status, data, _ = api("DELETE", path + "?if-empty=true")
    assert_error(status, data, 409)
    assert api("DELETE", path + "/contents")[0] == 204
    assert ok("GET", path)["messages_ready"] == 0
    assert api("DELETE", path + "?if-empty=true&if-unused=true")[0] == 204
    assert api("GET", path)[0] == 404
    rf.expect_channel_error(lambda: conn.channel().queue_declare(name, passive=True), 404)


def test_list_pagination_sort_filter():
    prefix = rf.uniq("page")
    for i in range(7):
        ok("PUT", "/api/queues/%2F/" + q("%s-%d" % (prefix, i)), {"durable": False})
    conn = rf.connect()
    ch = conn.channel()
    ch.basic_publish("", prefix + "-3", b"x")
    ch.basic_publish("", prefix + "-3", b"y")
    page = ok("GET", "/api/queues/%2F?page=2&page_size=3&sort=name&name=" + q(prefix))
    assert page["filtered_count"] == 7 and page["page_count"] == 3 and page["page"] == 2
    assert [i["name"] for i in page["items"]] == ["%s-%d" % (prefix, i) for i in (3, 4, 5)]
    regex = ok("GET", "/api/queues?use_regex=true&page=1&name=" + q("^" + prefix.replace(".", r"\.") + "-[02]$"))
    assert sorted(i["name"] for i in regex["items"]) == [prefix + "-0", prefix + "-2"]
    wait_for(lambda: ok("GET", "/api/queues/%2F/" + q(prefix + "-3"))["messages"] == 2)
    top = ok("GET", "/api/queues?sort=messages&sort_reverse=true&columns=name,messages")
    assert top[0] == {"name": prefix + "-3", "messages": 2}
    assert_error(*api("GET", "/api/queues?page=1&page_size=501")[:2], 400)
    for i in range(7):
        ok("DELETE", "/api/queues/%2F/" + q("%s-%d" % (prefix, i)))


# ---------------------------------------------------------------- exchanges and bindings

def test_exchanges_bindings_and_publish():
    x, dest_x, queue = rf.uniq("x"), rf.uniq("x2"), rf.uniq("q")
    assert api("PUT", "/api/exchanges/%2F/" + q(x), {"type": "topic", "durable": False})[0] == 201
    assert api("PUT", "/api/exchanges/%2F/" + q(dest_x), {"type": "fanout", "durable": False})[0] == 201
    ok("PUT", "/api/queues/%2F/" + q(queue), {"durable": False})
    status, _, headers = api("POST", "/api/bindings/%%2F/e/%s/q/%s" % (q(x), q(queue)), {"routing_key": "app.*"})
    assert status == 201
    location = headers["Location"]
    assert location.endswith("/app.%252A"), location  # the properties key "app.%2A", escaped once more
    props_key = urllib.parse.unquote(location.rsplit("/", 1)[1])
    b = ok("GET", "/api/bindings/%%2F/e/%s/q/%s/%s" % (q(x), q(queue), q(props_key)))
    assert b["routing_key"] == "app.*" and b["source"] == x and b["destination"] == queue
    assert api("POST", "/api/bindings/%%2F/e/%s/e/%s" % (q(x), q(dest_x)), {"routing_key": "#"})[0] == 201
    assert len(ok("GET", "/api/exchanges/%2F/" + q(x) + "/bindings/source")) == 2
    assert len(ok("GET", "/api/exchanges/%2F/" + q(dest_x) + "/bindings/destination")) == 1
    assert len(ok("GET", "/api/queues/%2F/" + q(queue) + "/bindings")) == 2  # default + topic

    # Publish through the API, receive with pika; unroutable reports routed=false.
    conn = rf.connect()
    ch = conn.channel()
    r = ok("POST", "/api/exchanges/%2F/" + q(x) + "/publish",
           {"routing_key": "app.start", "payload": "hello", "payload_encoding": "string",
            "properties": {"delivery_mode": 2, "headers": {"k": "v"}, "correlation_id": "c1"}})
    assert r == {"routed": True}
    method, props, body = rf.get_eventually(ch, queue, auto_ack=True)
    assert body == b"hello" and method.routing_key == "app.start" and method.exchange == x
    assert props.headers == {"k": "v"} and props.correlation_id == "c1" and props.delivery_mode == 2
    assert ok("POST", "/api/exchanges/%2F/" + q(x) + "/publish",
              {"routing_key": "other", "payload": "", "payload_encoding": "string", "properties": {}}) \
        == {"routed": False}
    # Messages published with pika are routed by bindings made over HTTP.
    ch.basic_publish(x, "app.stop", b"from pika")
    assert rf.get_eventually(ch, queue, auto_ack=True)[2] == b"from pika"

    assert_error(*api("DELETE", "/api/exchanges/%2F/" + q(x) + "?if-unused=true")[:2], 409)
    assert api("DELETE", "/api/bindings/%%2F/e/%s/q/%s/%s" % (q(x), q(queue), q(props_key)))[0] == 204
    ch.basic_publish(x, "app.again", b"unbound")
    time.sleep(0.1)  # nothing to await: the message must *not* arrive
    assert ch.basic_get(queue, auto_ack=True)[0] is None
    assert api("DELETE", "/api/exchanges/%2F/" + q(x))[0] == 204
    assert api("GET", "/api/exchanges/%2F/" + q(x))[0] == 404
    assert ok("GET", "/api/exchanges/%2F/amq.default")["name"] == ""
    ok("DELETE", "/api/exchanges/%2F/" + q(dest_x))
    ok("DELETE", "/api/queues/%2F/" + q(queue))


# ---------------------------------------------------------------- binding properties keys
# A binding is addressed by the last path segment, its properties key.  RabbitMQ 3.10.8
# lists it as the routing key quoted as a form value ('~' escaped too, "~" alone for the
# empty key, "~<hash>" appended for arguments) and reads the segment by decoding it twice:
# once as a path segment, then again part by part after splitting it at '~'.  So the raw
# key quoted once (rabbitmqadmin) and the listed key quoted once (the dashboard) both
# name the binding, except where the second decoding changes the raw key.

LISTED_KEYS = {  # routing key -> properties_key as RabbitMQ lists it
    "a.*": "a.%2A", "a.#": "a.%23", "a b": "a+b", "a/b": "a%2Fb", "a%b": "a%25b", "a+b": "a%2Bb",
    "é.日本": "%C3%A9.%E6%97%A5%E6%9C%AC", "": "~", "%2A": "%252A", "a~b": "a%7Eb",
}
# What the raw key quoted once names instead, for the keys the second decoding changes
# ('+' is read as a space, "%2A" as '*', '~' starts the arguments hash); None: nothing.
RAW_KEY_NAMES_OTHER = {"a+b": "a b", "%2A": None, "a~b": None}


def _binding_paths():
    x, queue = rf.uniq("pk-x"), rf.uniq("pk-q")
    ok("PUT", "/api/exchanges/%2F/" + q(x), {"type": "topic", "durable": False})
    ok("PUT", "/api/queues/%2F/" + q(queue), {"durable": False})
    return x, queue, "/api/bindings/%%2F/e/%s/q/%s" % (q(x), q(queue))


def _named(path, segment):
    """The (routing key, arguments) of the binding GET path/segment finds, or None for 404."""
    status, data, _ = api("GET", path + "/" + segment)
    if status == 404:
        return None
    assert status == 200, "GET %s/%s -> %d %r" % (path, segment, status, data)
    return data["routing_key"], data["arguments"]


def test_binding_properties_keys_listed_and_read_back_as_rabbitmq_does():
    x, queue, path = _binding_paths()
    for key in LISTED_KEYS:
        assert api("POST", path, {"routing_key": key, "arguments": {}})[0] == 201
    assert api("POST", path, {"routing_key": "k", "arguments": {}})[0] == 201
    assert api("POST", path, {"routing_key": "k", "arguments": {"x": 1}})[0] == 201
    listed = {(b["routing_key"], json.dumps(b["arguments"])): b["properties_key"] for b in ok("GET", path)}
    rf.eq({k: v for (k, args), v in listed.items() if args == "{}" and k != "k"}, LISTED_KEYS, "listed properties keys")
    with_args = listed[("k", '{"x": 1}')]
    assert with_args.startswith("k~") and len(with_args) > 2, with_args
    hash_ = with_args[2:]

    for key, props in LISTED_KEYS.items():
        rf.eq(_named(path, q(props)), (key, {}), "listed key %r quoted once" % props)
        if key:
            want = RAW_KEY_NAMES_OTHER.get(key, key)
            rf.eq(_named(path, q(key)), want and (want, {}), "raw key %r quoted once" % key)
    rf.eq(_named(path, "a.*"), ("a.*", {}), "a raw key sent as it is")
    rf.eq(_named(path, "a.%25252A"), None, "a key quoted twice")
    rf.eq(_named(path, "a%7Eb"), None, "the listed key with '~' sent as it is (key 'a', hash 'b')")
    rf.eq(_named(path, "%7E"), ("", {}), "'~' for the empty key, quoted")
    rf.eq(_named(path, "k"), ("k", {}), "a key without hash: the binding without arguments")
    # the hash is unquoted a second time too: its first character escaped twice still matches
    for segment in ("k~" + hash_, "k%7E" + hash_, "k~" + hash_ + "~", "k~%%25%02X%s" % (ord(hash_[0]), hash_[1:])):
        rf.eq(_named(path, segment), ("k", {"x": 1}), segment)
    for segment in ("k%257E" + hash_, "k~" + hash_ + "~x", "k~~", "k~" + hash_[:-1]):
        rf.eq(_named(path, segment), None, segment)

    # DELETE reads the key the same way; every listed key, quoted once, removes its binding.
    assert api("DELETE", path + "/" + q("a.*"))[0] == 204
    assert api("DELETE", path + "/" + q("a+b"))[0] == 204  # that is "a b"
    rf.eq(sorted(b["routing_key"] for b in ok("GET", path)),
          sorted([k for k in LISTED_KEYS if k not in ("a.*", "a b")] + ["k", "k"]), "bindings left")
    for props in list(listed.values()):
        want = 404 if props in ("a.%2A", "a+b") else 204
        rf.eq(api("DELETE", path + "/" + q(props))[0], want, "DELETE of %r" % props)
    rf.eq(ok("GET", path), [], "bindings left")
    ok("DELETE", "/api/exchanges/%2F/" + q(x))
    ok("DELETE", "/api/queues/%2F/" + q(queue))


# ---------------------------------------------------------------- connections

def _local_port(conn):
    return conn._impl._transport._sock.getsockname()[1]


def _connection_named(port):
    for c in ok("GET", "/api/connections"):
        if c["peer_port"] == port:
            return c
    return None


def test_connections_channels_and_forced_close():
    conn = rf.connect(client_properties={"connection_name": "admin-test"})
    ch = conn.channel()
    ch2 = conn.channel()
    ch2.confirm_delivery()
    local = _local_port(conn)
    info = wait_for(lambda: _connection_named(local), what="the connection listed")
    assert info["user"] == "guest" and info["vhost"] == "/" and info["channels"] == 2
    assert info["state"] == "running" and info["peer_host"] == rf.HOST
    name = info["name"]
    assert ok("GET", "/api/connections/" + q(name))["peer_port"] == local
    chans = ok("GET", "/api/connections/" + q(name) + "/channels")
    assert sorted(c["number"] for c in chans) == [1, 2]
    assert [c["confirm"] for c in sorted(chans, key=lambda c: c["number"])] == [False, True]
    assert len([c for c in ok("GET", "/api/channels") if c["connection_details"]["name"] == name]) == 2
    assert api("DELETE", "/api/connections/" + q(name), headers={"X-Reason": "maintenance"})[0] == 204
    err = rf.expect_connection_error(lambda: rf.drain(conn, 5), 320)
    assert "maintenance" in str(err.reply_text)
    wait_for(lambda: _connection_named(local) is None, what="the connection gone")
    assert_error(*api("DELETE", "/api/connections/" + q(name))[:2], 404)
    del ch


# ---------------------------------------------------------------- definitions

def test_definitions_export_import_into_fresh_broker():
    x, q1, q2 = rf.uniq("defs-x"), rf.uniq("defs-q1"), rf.uniq("defs-q2")
    conn = rf.connect()
    ch = conn.channel()
    ch.exchange_declare(x, "headers", durable=True, arguments={"alternate-exchange": "amq.fanout"})
    ch.queue_declare(q1, durable=True, arguments={"x-message-ttl": 60000})
    ch.queue_declare(q2, durable=False, auto_delete=True)
    ch.queue_bind(q1, x, arguments={"x-match": "any", "a": 1})
    ch.queue_bind(q2, "amq.topic", "k.#")
    ch.queue_declare("", exclusive=True)  # exclusive queues are not exported
    defs = ok("GET", "/api/definitions")
    names = {qq["name"] for qq in defs["queues"]}
    assert {q1, q2} <= names and not any(n.startswith("amq.gen-") for n in names)
    assert x in {e["name"] for e in defs["exchanges"]}
    assert not any(e["name"].startswith("amq.") or e["name"] == "" for e in defs["exchanges"])

    fresh = rf.start_broker()
    before = ok("GET", "/api/definitions", port=fresh.http_port)
    assert before["queues"] == [] and before["exchanges"] == [] and before["bindings"] == []
    assert api("POST", "/api/definitions", defs, port=fresh.http_port)[0] == 204
    after = ok("GET", "/api/definitions", port=fresh.http_port)
    key = lambda items: sorted(json.dumps(i, sort_keys=True) for i in items)
    for section in ("queues", "exchanges", "bindings"):
        assert key(after[section]) == key(defs[section]), section
    # The imported topology routes: a headers match reaches q1 on the fresh broker.
    c2 = rf.connect(port=fresh.port)
    ch2 = c2.channel()
    ch2.basic_publish(x, "", b"via imported binding", pika.BasicProperties(headers={"a": 1}))
    assert rf.get_eventually(ch2, q1, auto_ack=True)[2] == b"via imported binding"
    # Durable definitions imported over HTTP are persisted like AMQP ones.
    c2.close()
    restarted = rf.restart_broker(fresh)
    again = ok("GET", "/api/definitions", port=restarted.http_port)
    durable = lambda items: key(i for i in items if i.get("durable", True))
    assert durable(again["queues"]) == durable(defs["queues"])
    for qq in (q1, q2):
        ch.queue_delete(qq)
    ch.exchange_delete(x)


def test_definitions_import_all_or_nothing():
    good_q, x = rf.uniq("imp-q"), rf.uniq("imp-x")
    doc = {"queues": [{"name": good_q, "vhost": "/", "durable": True, "auto_delete": False, "arguments": {}}],
           "exchanges": [{"name": x, "vhost": "/", "type": "direct", "durable": True, "auto_delete": False,
                          "internal": False, "arguments": {}}],
           "bindings": [{"source": x, "vhost": "/", "destination": "nope", "destination_type": "queue",
                         "routing_key": "", "arguments": {}}]}
    assert_error(*api("POST", "/api/definitions", doc)[:2], 400)
    doc["bindings"] = []
    doc["queues"].append({"name": "q", "vhost": "no-such-vhost", "durable": True})
    assert_error(*api("POST", "/api/definitions", doc)[:2], 400)
    assert api("GET", "/api/queues/%2F/" + q(good_q))[0] == 404
    assert api("GET", "/api/exchanges/%2F/" + q(x))[0] == 404
    doc["queues"].pop()
    assert api("POST", "/api/definitions", doc)[0] == 204
    assert api("GET", "/api/queues/%2F/" + q(good_q))[0] == 200
    ok("DELETE", "/api/queues/%2F/" + q(good_q))
    ok("DELETE", "/api/exchanges/%2F/" + q(x))


# ---------------------------------------------------------------- misc endpoints

def test_vhosts_users_permissions_health_metrics():
    assert [v["name"] for v in ok("GET", "/api/vhosts")] == ["/"]
    assert ok("GET", "/api/vhosts/%2F")["name"] == "/"
    assert "guest" in [u["name"] for u in ok("GET", "/api/users")]
    assert ok("GET", "/api/permissions")[0]["user"] == "guest"
    assert ok("GET", "/api/health/checks/alarms") == {"status": "ok"}
    assert ok("GET", "/api/health/checks/virtual-hosts") == {"status": "ok"}
    assert ok("GET", "/api/health/checks/port-listener/%d" % rf.port()) == {"status": "ok"}
    status, data, _ = api("GET", "/api/health/checks/port-listener/1")
    assert status == 503 and data["status"] == "failed"
    name = rf.uniq("metrics")
    conn = rf.connect()
    ch = conn.channel()
    ch.queue_declare(name)
    for _ in range(3):
        ch.basic_publish("", name, b"m")
    wait_for(lambda: ok("GET", "/api/queues/%2F/" + q(name))["messages_ready"] == 3)
    status, text, headers = api("GET", "/metrics", auth=False)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'rabbitmq_queue_messages_ready{vhost="/",queue="%s"} 3\n' % name in text
    assert 'rabbitmq_queue_messages_unacked{vhost="/",queue="%s"} 0\n' % name in text
    assert "\nrabbitmq_connections " in text
    ch.queue_delete(name)


# ---------------------------------------------------------------- bad input

def _raw_http(request_bytes, port=None, read_timeout=5):
    s = socket.create_connection((rf.HOST, port or rf.http_port()), timeout=read_timeout)
    try:
        s.sendall(request_bytes)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")]
                if length and len(rest) >= length[0]:
                    break
        return data
    finally:
        s.close()


def test_bad_input_is_a_clear_4xx_and_changes_nothing():
    name = rf.uniq("bad")
    path = "/api/queues/%2F/" + q(name)
    for body, expected in ((b'{"durable": tru', 400), (b'[1,2]', 400), (b'{"durable": 5}', 400),
                           (b'{"durable": true, "colour": "red"}', 400), (b'{"arguments": "x"}', 400)):
        status, data, _ = api("PUT", path, raw_body=body, headers={"Content-Type": "application/json"})
        assert_error(status, data, expected)
    status, data, _ = api("PUT", path, raw_body=b"durable=true",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(status, data, 415)
    assert_error(*api("PUT", "/api/queues/no-such-vhost/" + q(name), {})[:2], 404)
    assert_error(*api("POST", "/api/overview", {})[:2], 405)
    assert api("GET", path)[0] == 404  # none of the above declared anything
    # A path with '..' (sent raw: clients would normalise it).
    reply = _raw_http(b"GET /api/queues/%2F/../x HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH.encode() + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400"), reply[:100]
    reply = _raw_http(b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.split(b" ")[1] in (b"400", b"404"), reply[:100]
    # Garbage instead of HTTP.
    reply = _raw_http(b"\x00\x01\x02 not http at all\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400"), reply[:100]
    # A body over the limit: 413, the broker keeps going.
    big = b'{"durable": true, "arguments": {"x": "' + b"a" * (16 * 1024 * 1024) + b'"}}'
    status, data, _ = api("PUT", path, raw_body=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(status, data, 413)
    assert api("GET", path)[0] == 404
    assert ok("GET", "/api/overview")["object_totals"]["queues"] >= 0


# ---------------------------------------------------------------- robustness

def test_slow_http_clients_do_not_stall_amqp_or_http():
    # Clients that send half a request and stop, or connect and say nothing.
    idle = [socket.create_connection((rf.HOST, rf.http_port())) for _ in range(5)]
    for s in idle[:3]:
        s.sendall(b"GET /api/overview HTTP/1.1\r\nHost: x\r\nAuth")
    # One that never reads its (large) response.
    reader = socket.create_connection((rf.HOST, rf.http_port()))
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    for _ in range(50):
        reader.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        conn = rf.connect()
        ch = conn.channel()
        name = rf.uniq("q")
        ch.queue_declare(name)
        t0 = time.monotonic()
        for i in range(200):
            ch.basic_publish("", name, b"x")
        rf.wait_message_count(ch, name, 200)
        assert time.monotonic() - t0 < 5
        t0 = time.monotonic()
        assert ok("GET", "/api/queues/%2F/" + q(name))["messages_ready"] == 200
        assert time.monotonic() - t0 < 2
        ch.queue_delete(name)
    finally:
        for s in idle + [reader]:
            s.close()


def test_shutdown_with_open_http_connections_is_clean():
    b = rf.start_broker()
    idle = socket.create_connection((rf.HOST, b.http_port))
    half = socket.create_connection((rf.HOST, b.http_port))
    half.sendall(b"PUT /api/queues/%2F/q HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    keep = http.client.HTTPConnection(rf.HOST, b.http_port, timeout=5)
    keep.request("GET", "/api/overview", headers={"Authorization": AUTH})
    assert keep.getresponse().read()
    t0 = time.monotonic()
    rf.stop_broker_clean(b)  # SIGTERM; must exit 0
    assert time.monotonic() - t0 < 8
    for s in (idle, half):
        s.settimeout(5)
        assert s.recv(100) == b""  # the broker closed them
        s.close()
    keep.close()


@rf.timeout(90)
def test_http_answers_while_amqp_runs_full_speed():
    name = rf.uniq("flood")
    stop = threading.Event()
    published = [0]
    errors = []

    def flood():
        try:
            c = pika.BlockingConnection(rf.params())
            ch = c.channel()
            ch.queue_declare(name, auto_delete=False)
            while not stop.is_set():
                for _ in range(200):
                    ch.basic_publish("", name, b"x" * 64)
                published[0] += 200
                c.process_data_events(0)
            c.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    try:
        wait_for(lambda: published[0] >= 2000 or errors, 20, "the flood to start")
        slowest, rounds = 0.0, 0
        until = time.monotonic() + 3
        while time.monotonic() < until:
            t0 = time.monotonic()
            ok("GET", "/api/overview")
            ok("GET", "/api/queues/%2F/" + q(name))
            slowest = max(slowest, time.monotonic() - t0)
            rounds += 1
        assert slowest < 2.0, "HTTP took %.2fs under load" % slowest
        assert rounds >= 10 and not errors
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors
    conn = rf.connect()
    conn.channel().queue_delete(name)


def test_static_files_served_from_http_static():
    root = rf.new_data_dir("roost-static-")
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<!doctype html><title>Roost</title>")
    os.mkdir(os.path.join(root, "js"))
    with open(os.path.join(root, "js", "app.js"), "w") as f:
        f.write("export const x = 1;")
    b = rf.start_broker(extra_args=["--http-static", root])
    status, body, headers = api("GET", "/", port=b.http_port, auth=False)
    assert status == 200 and "<title>Roost</title>" in body and headers["Content-Type"].startswith("text/html")
    status, body, headers = api("GET", "/js/app.js", port=b.http_port, auth=False)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert api("GET", "/missing.js", port=b.http_port, auth=False)[0] == 404
    reply = _raw_http(b"GET /js/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", port=b.http_port)
    assert reply.split(b" ")[1] in (b"400", b"404") and b"root:" not in reply


@rf.timeout(120)
def test_ten_thousand_queues_metrics_and_lists_stay_cheap():
    b = rf.start_broker()
    doc = {"queues": [{"name": "many-%05d" % i, "vhost": "/", "durable": False, "auto_delete": False,
                       "arguments": {}} for i in range(10000)]}
    assert api("POST", "/api/definitions", doc, port=b.http_port, timeout=60)[0] == 204
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    ch.basic_publish("", "many-04242", b"x")
    rf.wait_message_count(ch, "many-04242", 1)
    t0 = time.monotonic()
    status, text, _ = api("GET", "/metrics", port=b.http_port, auth=False, timeout=30)
    scrape = time.monotonic() - t0
    assert status == 200
    assert text.count("\nrabbitmq_queue_messages_ready{") == 10000
    assert 'rabbitmq_queue_messages_ready{vhost="/",queue="many-04242"} 1\n' in text
    assert scrape < 3.0, "scrape of 10,000 queues took %.2fs" % scrape
    t0 = time.monotonic()
    page = ok("GET", "/api/queues/%2F?page=3&page_size=500&sort=messages&sort_reverse=true", port=b.http_port)
    assert page["total_count"] == 10000 and page["page_count"] == 20 and len(page["items"]) == 500
    # Generous for a loaded 2-core machine (about 0.2 s when idle); catches quadratic behaviour.
    assert time.monotonic() - t0 < 5.0, "a sorted page of 10,000 queues took %.2fs" % (time.monotonic() - t0)
    top = ok("GET", "/api/queues/%2F?page=1&page_size=1&sort=messages&sort_reverse=true", port=b.http_port)
    assert top["items"][0]["name"] == "many-04242"
    assert ok("GET", "/api/overview", port=b.http_port)["object_totals"]["queues"] == 10000


# ---------------------------------------------------------------- rabbitmqadmin

def admin(*args, check=True):
    cmd = [RABBITMQADMIN, "-H", rf.HOST, "-P", str(rf.http_port()), "-u", "guest", "-p", "guest"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr)
    return p


@rf.timeout(120)
def test_rabbitmqadmin_lists_declares_publishes_gets_deletes():
    if not os.path.exists(RABBITMQADMIN):
        rf.skip("rabbitmqadmin is not installed (apt-get install rabbitmq-server)")
    name, x = rf.uniq("rmqa"), rf.uniq("rmqa-x")
    admin("declare", "queue", "name=" + name, "durable=false")
    admin("declare", "exchange", "name=" + x, "type=direct", "durable=false")
    admin("declare", "binding", "source=" + x, "destination=" + name, "routing_key=k")
    listed = json.loads(admin("-f", "raw_json", "list", "queues").stdout)
    assert name in [i["name"] for i in listed]
    assert name in admin("list", "queues", "name", "messages").stdout
    assert x in admin("-V", "/", "list", "exchanges").stdout
    assert "k" in admin("list", "bindings").stdout
    admin("publish", "exchange=" + x, "routing_key=k", "payload=hello from rabbitmqadmin")
    admin("publish", "routing_key=" + name, "payload=second")
    conn = rf.connect()
    ch = conn.channel()
    rf.wait_message_count(ch, name, 2)
    got = json.loads(admin("-f", "raw_json", "get", "queue=" + name, "ackmode=ack_requeue_false", "count=1").stdout)
    assert got[0]["payload"] == "hello from rabbitmqadmin"
    assert "second" in admin("get", "queue=" + name, "ackmode=ack_requeue_true").stdout
    admin("purge", "queue", "name=" + name)
    assert ch.queue_declare(name, passive=True).method.message_count == 0
    assert "rabbitmq_version" in admin("show", "overview").stdout
    assert "guest" in admin("list", "users").stdout
    assert "/" in admin("list", "vhosts").stdout
    assert admin("list", "connections").stdout.count("guest") >= 1
    export = os.path.join(rf.new_data_dir(), "defs.json")
    admin("export", export)
    with open(export) as f:
        assert name in [i["name"] for i in json.load(f)["queues"]]
    admin("import", export)
    admin("delete", "binding", "source=" + x, "destination_type=queue", "destination=" + name, "properties_key=k")
    assert [b for b in ok("GET", "/api/exchanges/%2F/" + q(x) + "/bindings/source")] == []
    local = _local_port(conn)
    cname = wait_for(lambda: _connection_named(local), what="connection listed")["name"]
    admin("close", "connection", "name=" + cname)
    rf.expect_connection_error(lambda: rf.drain(conn, 5), 320)
    admin("delete", "exchange", "name=" + x)
    admin("delete", "queue", "name=" + name)
    assert api("GET", "/api/queues/%2F/" + q(name))[0] == 404
    p = admin("declare", "queue", "name=" + name, "durable=maybe", check=False)
    assert p.returncode != 0


@rf.timeout(120)
def test_rabbitmqadmin_deletes_bindings_by_properties_key():
    """delete binding with properties_key=<listed key>, and =<raw key> where RabbitMQ's reading
    allows it, for every kind of routing-key character; one binding at a time."""
    if not os.path.exists(RABBITMQADMIN):
        rf.skip("rabbitmqadmin is not installed (apt-get install rabbitmq-server)")
    x, queue, path = _binding_paths()
    target = ["source=" + x, "destination_type=queue", "destination=" + queue]

    def bound():
        return [(b["routing_key"], b["arguments"]) for b in ok("GET", path)]

    def declare(key, arguments="{}"):
        admin("declare", "binding", "source=" + x, "destination=" + queue, "routing_key=" + key,
              "arguments=" + arguments)
        return ok("GET", path)[0]["properties_key"]

    for key, props in LISTED_KEYS.items():
        rf.eq(declare(key), props, "properties_key of %r" % key)
        if not key:
            admin("delete", "binding", *target)  # rabbitmqadmin's default properties_key is "~"
        elif key in RAW_KEY_NAMES_OTHER:
            p = admin("delete", "binding", *target, "properties_key=" + key, check=False)
            assert p.returncode != 0 and "Not found" in p.stderr + p.stdout, (key, p.returncode, p.stderr)
            rf.eq(bound(), [(key, {})], "binding after a delete by the raw key %r" % key)
        else:
            admin("delete", "binding", *target, "properties_key=" + key)
        if key not in RAW_KEY_NAMES_OTHER:
            rf.eq(bound(), [], "bindings after deleting by the raw key %r" % key)
            declare(key)
        admin("delete", "binding", *target, "properties_key=" + props)
        rf.eq(bound(), [], "bindings after deleting by %r" % props)
    props = declare("k", '{"x-k": "v"}')
    assert props.startswith("k~"), props
    # "k" names the binding without arguments, which is not there
    assert admin("delete", "binding", *target, "properties_key=k", check=False).returncode != 0
    rf.eq(bound(), [("k", {"x-k": "v"})], "binding with arguments after properties_key=k")
    admin("delete", "binding", *target, "properties_key=" + props)
    rf.eq(bound(), [], "bindings after deleting by 'k~<hash>'")
    admin("delete", "exchange", "name=" + x)
    admin("delete", "queue", "name=" + queue)


if __name__ == "__main__":
    rf.main()

"""Definitions with access control through the admin HTTP API: export in RabbitMQ 3.10.8's
shape (users with hashes and limits, vhosts, permissions, topic permissions, vhost limits as
parameters), import (creating users, vhosts, permissions, limits; refusals; all or nothing),
a file exported from RabbitMQ 3.10.8 (fixtures/) imported as is with every user logging in
over AMQP with its RabbitMQ password, and --load-definitions at boot (a bad file stops roost).

Expectations are RabbitMQ's (run_against_rabbitmq.sh runs this file against a node)."""
import hashlib
import json
import os
import subprocess
import time

import pika.exceptions as pe

import roost_fixture as rf
from admin_http import EVERYTHING, amqp, api, cleanup, make_user, make_vhost, ok, q, rabbit_hash, refused, roost_only

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "rabbitmq-3.10.8-definitions.json")
# The test passwords of the fixture's users (fixtures/make_rabbitmq_definitions.py).
FIXTURE_PASSWORDS = {"guest": "guest", "fx-admin": "fx-admin-pass", "fx-app": "fx-app-pass",
                     "fx-monitor": "fx-monitor-pass", "fx-sha512": "fx-sha512-pass", "fx-md5": "fx-md5-pass"}
FIXTURE_VHOSTS = {"guest": "/", "fx-admin": "/", "fx-app": "fx-vhost", "fx-monitor": "fx-vhost",
                  "fx-sha512": "fx-vhost", "fx-md5": "/"}


def test_definitions_export_access_control_in_rabbitmqs_shape():
    vh = make_vhost(rf.uniq("defs-vh"))
    user = make_user(rf.uniq("defs-user"), tags="management", vhost=vh)
    ok("PUT", "/api/topic-permissions/%s/%s" % (q(vh), q(user)), {"exchange": "amq.topic", "write": "^a", "read": ""})
    ok("PUT", "/api/user-limits/%s/max-connections" % q(user), {"value": 3})
    ok("PUT", "/api/vhost-limits/%s/max-queues" % q(vh), {"value": 5})
    defs = ok("GET", "/api/definitions")
    assert {"users", "vhosts", "permissions", "topic_permissions", "parameters", "global_parameters", "policies",
            "queues", "exchanges", "bindings"} <= set(defs)
    exported = [u for u in defs["users"] if u["name"] == user]
    assert len(exported) == 1 and set(exported[0]) == {"name", "password_hash", "hashing_algorithm", "tags", "limits"}
    assert exported[0]["limits"] == {"max-connections": 3} and exported[0]["tags"] == ["management"]
    assert {"name": vh} in defs["vhosts"]  # 3.10 exports a vhost's name only
    assert dict(EVERYTHING, user=user, vhost=vh) in defs["permissions"]
    assert {"user": user, "vhost": vh, "exchange": "amq.topic", "write": "^a", "read": ""} in defs["topic_permissions"]
    assert {"vhost": vh, "component": "vhost-limits", "name": "limits", "value": {"max-queues": 5}} in defs["parameters"]
    per_vhost = ok("GET", "/api/definitions/" + q(vh))
    assert set(per_vhost) == {"rabbit_version", "parameters", "policies", "queues", "exchanges", "bindings"}, per_vhost
    assert per_vhost["parameters"][0]["value"] == {"max-queues": 5}
    cleanup([user], [vh])


def test_definitions_import_creates_users_vhosts_permissions_limits():
    vh, user = rf.uniq("imp-vh"), rf.uniq("imp-user")
    hashed = rabbit_hash("imported-pw", hashlib.sha512)
    doc = {"users": [{"name": user, "password_hash": hashed, "hashing_algorithm": "rabbit_password_hashing_sha512",
                      "tags": ["management"], "limits": {"max-channels": 9}}],
           "vhosts": [{"name": vh, "description": "imported", "tags": ["t"]}],
           "permissions": [dict(EVERYTHING, user=user, vhost=vh)],
           "topic_permissions": [{"user": user, "vhost": vh, "exchange": "amq.topic", "write": ".*", "read": ".*"}],
           "parameters": [{"vhost": vh, "component": "vhost-limits", "name": "limits", "value": {"max-queues": 3}}],
           "queues": [{"name": "imported-q", "vhost": vh, "durable": True, "auto_delete": False, "arguments": {}}]}
    assert api("POST", "/api/definitions", doc)[0] == 204
    assert ok("GET", "/api/users/" + q(user))["limits"] == {"max-channels": 9}
    v = ok("GET", "/api/vhosts/" + q(vh))
    assert v["description"] == "imported" and v["tags"] == ["t"]
    assert ok("GET", "/api/vhost-limits/" + q(vh)) == [{"vhost": vh, "value": {"max-queues": 3}}]
    assert ok("GET", "/api/permissions/%s/guest" % q(vh))["configure"] == ".*"  # the importer's, as RabbitMQ
    assert len(ok("GET", "/api/topic-permissions/%s/%s" % (q(vh), q(user)))) == 1
    conn = amqp(user, "imported-pw", vh)
    conn.channel().queue_declare("imported-q", passive=True)
    conn.close()
    assert api("POST", "/api/definitions", doc)[0] == 204  # again: the same
    cleanup([user], [vh])


def test_definitions_import_refusals():
    vh = rf.uniq("never-vh")
    bad_docs = [
        {"permissions": [dict(EVERYTHING, user="no-such-user", vhost="/")]},
        {"permissions": [dict(EVERYTHING, user="guest", vhost="no-such-vhost")]},
        {"topic_permissions": [{"user": "guest", "vhost": "/", "exchange": "x", "write": "(", "read": ""}]},
        {"users": [{"name": rf.uniq("no-tags"), "password_hash": ""}]},
        {"users": [{"name": rf.uniq("not-base64"), "password_hash": "!!!", "tags": ""}]},
        {"parameters": [{"vhost": "/", "component": "vhost-limits", "name": "limits", "value": {"max-queues": "x"}}]},
    ]
    reasons = [["no_such_user", "no-such-user"], ["no_such_vhost", "no-such-vhost"], None, "tags_not_present",
               ["not_base64", "!!!"], None]
    for doc, reason in zip(bad_docs, reasons):
        data = refused("POST", "/api/definitions", dict(doc, vhosts=[{"name": vh}]))
        if reason is not None:
            assert data["reason"] == reason, (doc, data)
        cleanup(vhosts=[vh])  # RabbitMQ applies what comes before the bad entry


def test_definitions_import_is_all_or_nothing():
    roost_only("RabbitMQ 3.10.8 applies a document's entries until one fails; Roost checks it whole first")
    vh, user = rf.uniq("aon-vh"), rf.uniq("aon-user")
    doc = {"users": [{"name": user, "password_hash": "", "tags": ""}], "vhosts": [{"name": vh}],
           "permissions": [dict(EVERYTHING, user=user, vhost=vh)],
           "queues": [{"name": "q", "vhost": vh, "durable": True}],
           "topic_permissions": [{"user": user, "vhost": vh, "exchange": "x", "write": "[", "read": ""}]}
    refused("POST", "/api/definitions", doc)
    assert api("GET", "/api/users/" + q(user))[0] == 404
    assert api("GET", "/api/vhosts/" + q(vh))[0] == 404
    del doc["topic_permissions"]
    assert api("POST", "/api/definitions", doc)[0] == 204
    assert ok("GET", "/api/queues/%s/q" % q(vh))["durable"] is True
    cleanup([user], [vh])


def test_definitions_with_a_delaying_exchange_and_its_bindings_import():
    roost_only("RabbitMQ 3.10.8 has no x-delayed-message without the plugin")
    vh = rf.uniq("delay-vh")
    x = {"name": "later", "vhost": vh, "type": "x-delayed-message", "durable": True, "auto_delete": False,
         "internal": False, "arguments": {"x-delayed-type": "topic"}}
    doc = {"vhosts": [{"name": vh}], "exchanges": [x], "queues": [{"name": "due", "vhost": vh, "durable": True}],
           "bindings": [{"source": "later", "vhost": vh, "destination": "due", "destination_type": "queue",
                         "routing_key": "a.#", "arguments": {}}]}
    assert api("POST", "/api/definitions", doc)[0] == 204
    assert api("POST", "/api/definitions", doc)[0] == 204  # again, over what is there now
    exported = ok("GET", "/api/definitions")
    assert [e["type"] for e in exported["exchanges"] if e["vhost"] == vh] == ["x-delayed-message"]
    bad = dict(doc, exchanges=[dict(x, name="later2", arguments={})], bindings=[])
    refused("POST", "/api/definitions", bad)  # no x-delayed-type: refused as a declare is
    cleanup([], [vh])


def _fixture_logins(port, http_port):
    for user, password in FIXTURE_PASSWORDS.items():
        conn = amqp(user, password, FIXTURE_VHOSTS[user], port=port)
        conn.close()
        try:
            amqp(user, password + "-wrong", FIXTURE_VHOSTS[user], port=port)
            raise AssertionError("%s logged in with a wrong password" % user)
        except (pe.ProbableAuthenticationError, pe.AMQPConnectionError):
            pass
    # fx-app's rules came along: fx-* only, topic keys fx.* only on amq.topic.
    conn = amqp("fx-app", FIXTURE_PASSWORDS["fx-app"], "fx-vhost", port=port)
    ch = conn.channel()
    ch.queue_declare("fx-queue", passive=True)
    rf.expect_channel_error(lambda: conn.channel().queue_declare("not-fx"), 403)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("amq.topic", "fx.ok", b"allowed")
    rf.expect_channel_error(lambda: ch.basic_publish("amq.topic", "other.key", b"refused"), 403)
    conn.close()
    me = ok("GET", "/api/whoami", user="fx-admin", password=FIXTURE_PASSWORDS["fx-admin"], port=http_port)
    assert me == {"name": "fx-admin", "tags": ["administrator"]}, me
    assert ok("GET", "/api/vhost-limits/fx-vhost", port=http_port) == \
        [{"vhost": "fx-vhost", "value": {"max-queues": 100, "max-connections": 50}}]
    assert ok("GET", "/api/users/fx-app", port=http_port)["limits"] == {"max-connections": 5, "max-channels": 20}
    # The policy and the operator policy came along and apply to fx-queue (RabbitMQ applies
    # them a moment after the import; Roost before the POST returns).
    want = ("fx-ttl", "fx-cap", {"message-ttl": 60000, "dead-letter-exchange": "fx-dead", "max-length": 500})
    deadline = time.monotonic() + 15
    while True:
        got = ok("GET", "/api/queues/fx-vhost/fx-queue", port=http_port)
        got = (got.get("policy"), got.get("operator_policy"), got.get("effective_policy_definition"))
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    rf.eq(got, want, "fx-queue's policies")


def _fixture_bytes():
    with open(FIXTURE, "rb") as f:
        return f.read()


@rf.timeout(120)
def test_rabbitmq_exported_definitions_import_as_is_and_users_log_in():
    body = _fixture_bytes()
    if rf.external():
        # The file came from RabbitMQ: it imports there too, and the passwords are right.
        assert api("POST", "/api/definitions", raw_body=body)[0] == 204
        _fixture_logins(rf.port(), rf.http_port())
        cleanup([u for u in FIXTURE_PASSWORDS if u != "guest"], ["fx-vhost"])
        return
    fresh = rf.start_broker()
    status, data, _ = api("POST", "/api/definitions", port=fresh.http_port, raw_body=body)
    assert status == 204, (status, data)
    _fixture_logins(fresh.port, fresh.http_port)
    exported = ok("GET", "/api/definitions", port=fresh.http_port)
    with open(FIXTURE) as f:
        original = json.load(f)
    key = lambda items: sorted(json.dumps(i, sort_keys=True) for i in items)
    for section in ("users", "vhosts", "permissions", "topic_permissions", "parameters", "policies", "queues",
                    "exchanges", "bindings"):
        assert key(exported[section]) == key(original[section]), section


@rf.timeout(120)
def test_load_definitions_at_boot():
    roost_only("starts roost processes with --load-definitions (RabbitMQ's load_definitions is a config setting)")
    data_dir = rf.new_data_dir()
    b = rf.start_broker(data_dir=data_dir, extra_args=["--load-definitions", FIXTURE])
    _fixture_logins(b.port, b.http_port)
    assert "applied definitions from" in b.stderr_text()
    # Applied again at every boot, over what the store already holds.
    ok("PUT", "/api/vhost-limits/fx-vhost/max-queues", {"value": 1}, port=b.http_port)
    b = rf.restart_broker(b)
    assert ok("GET", "/api/vhost-limits/fx-vhost", port=b.http_port)[0]["value"]["max-queues"] == 100
    _fixture_logins(b.port, b.http_port)


def _run_roost_expecting_failure(args):
    data_dir = rf.new_data_dir()
    cmd = [rf.broker_binary(), "--bind", rf.HOST, "--amqp-port", "0", "--http-port", "0", "--data-dir", data_dir] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    return p


def test_load_definitions_refuses_a_bad_file_and_stops():
    roost_only("starts roost processes with --load-definitions")
    bad = os.path.join(rf.new_data_dir(), "bad.json")
    with open(bad, "w") as f:
        json.dump({"vhosts": [{"name": "fine"}],
                   "permissions": [dict(EVERYTHING, user="no-such-user", vhost="fine")]}, f)
    for path, words in ((bad, "no_such_user"), (bad + ".missing", "cannot read"), (FIXTURE + "x", "cannot read")):
        p = _run_roost_expecting_failure(["--load-definitions", path])
        assert p.returncode != 0, (p.returncode, p.stdout, p.stderr)
        assert "listening" not in p.stdout, p.stdout
        lines = [l for l in p.stderr.splitlines() if l.startswith("roost: ")]
        assert len(lines) == 1 and words in lines[0] and path in lines[0], p.stderr
    broken = os.path.join(rf.new_data_dir(), "broken.json")
    with open(broken, "w") as f:
        f.write('{"users": [')
    p = _run_roost_expecting_failure(["--load-definitions", broken])
    assert p.returncode != 0 and "not valid JSON" in p.stderr, p.stderr


if __name__ == "__main__":
    rf.main()

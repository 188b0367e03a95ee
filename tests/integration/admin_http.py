"""Helpers shared by the admin API tests of access control (test_admin_access.py,
test_definitions.py): one HTTP request as any user, expecting success or a RabbitMQ error
body, and short-lived users, vhosts and pika connections. Not a test file itself."""
import base64
import http.client
import json
import os
import time
import urllib.parse

import pika

import roost_fixture as rf

EVERYTHING = {"configure": ".*", "write": ".*", "read": ".*"}


def api(method, path, body=None, user="guest", password=None, port=None, raw_body=None):
    """One request; returns (status, parsed JSON body or raw text, headers). user=None: no credentials."""
    conn = http.client.HTTPConnection(rf.HOST, port or rf.http_port(), timeout=15)
    headers = {}
    if user is not None:
        pw = password if password is not None else ("guest" if user == "guest" else user + "-pw")
        headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    data = raw_body
    if raw_body is not None:
        headers["Content-Type"] = "application/json"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, data, headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        ctype = resp.getheader("Content-Type") or ""
        parsed = json.loads(text) if text and ctype.startswith("application/json") else text
        return resp.status, parsed, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def ok(method, path, body=None, expect=(200, 201, 204), **kw):
    status, data, _ = api(method, path, body, **kw)
    assert status in (expect if isinstance(expect, tuple) else (expect,)), "%s %s -> %d %r" % (method, path, status, data)
    return data


def refused(method, path, body=None, status=400, reason=None, **kw):
    got, data, _ = api(method, path, body, **kw)
    assert got == status, "%s %s -> %d %r, expected %d" % (method, path, got, data, status)
    assert isinstance(data, dict) and "error" in data and "reason" in data, "error body %r" % (data,)
    if reason is not None:
        assert data["reason"] == reason, "%s %s: reason %r, expected %r" % (method, path, data["reason"], reason)
    return data


def q(name):
    return urllib.parse.quote(name, safe="")


def wait_for(pred, timeout=15.0, what="condition"):
    """RabbitMQ lists connections, channels and consumers only after its stats interval."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.1)


def make_user(name, tags="", vhost=None, password=None, port=None):
    """A user (password <name>-pw) with every permission in vhost, removed after the file."""
    ok("PUT", "/api/users/" + q(name), {"password": password or name + "-pw", "tags": tags}, port=port)
    if vhost is not None:
        ok("PUT", "/api/permissions/%s/%s" % (q(vhost), q(name)), EVERYTHING, port=port)
    return name


def make_vhost(name, port=None):
    assert api("PUT", "/api/vhosts/" + q(name), {}, port=port)[0] == 201
    return name


def cleanup(users=(), vhosts=(), port=None):
    for u in users:
        api("DELETE", "/api/users/" + q(u), port=port)
    for v in vhosts:
        api("DELETE", "/api/vhosts/" + q(v), port=port)


def amqp(user, password, vhost="/", port=None):
    return rf.connect(port=port or rf.port(), virtual_host=vhost,
                      credentials=pika.PlainCredentials(user, password))


def rabbit_hash(password, digest):
    salt = os.urandom(4)
    return base64.b64encode(salt + digest(salt + password.encode()).digest()).decode()


def roost_only(reason):
    if rf.external():
        rf.skip(reason)

"""Setup for the access-control tests through the management HTTP API, on RabbitMQ's paths,
so that the same test runs against Roost and against a RabbitMQ node with the management
plugin (run_against_rabbitmq.sh):

    PUT    /api/users/{user}                      {"password": ..., "tags": "a,b"}
    PUT    /api/vhosts/{vhost}                    {}
    PUT    /api/permissions/{vhost}/{user}        {"configure": ..., "write": ..., "read": ...}
    PUT    /api/topic-permissions/{vhost}/{user}  {"exchange": ..., "write": ..., "read": ...}
    PUT    /api/vhost-limits/{vhost}/{name}       {"value": N}   (max-connections, max-queues)
    PUT    /api/user-limits/{user}/{name}         {"value": N}   (max-connections, max-channels)
    DELETE the same paths (and /api/topic-permissions/{vhost}/{user})

    acc = access_api.Accounts()          # closed (users and vhosts deleted) after the test
    user = acc.user(tags="impersonator")  # a fresh user named after the test; password acc.password(user)
    vh = acc.vhost()
    acc.permit(user, vh, ".*", ".*", ".*")

Every call must succeed (2xx) unless `expect` says otherwise; a failure names the request and
the answer. Admin credentials: guest/guest from loopback (both brokers' default).
"""
import base64
import http.client
import json
import os
import urllib.parse

import roost_fixture as rf

ADMIN = ("guest", "guest")


def q(segment):
    """One path segment, percent-encoded as the management API wants ("/" is %2F)."""
    return urllib.parse.quote(segment, safe="")


def short_name(prefix):
    """A fresh name, short enough that reply texts naming a user, a vhost and a resource stay
    under AMQP's 255-byte limit."""
    return "%s-%s" % (prefix, os.urandom(5).hex())


def api(method, path, body=None, port=None, credentials=ADMIN, timeout=10):
    """One request; returns (status, text)."""
    conn = http.client.HTTPConnection(rf.HOST, port or rf.http_port(), timeout=timeout)
    token = base64.b64encode(("%s:%s" % credentials).encode()).decode()
    headers = {"Authorization": "Basic " + token}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, data, headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def call(method, path, body=None, port=None, expect=(200, 201, 204)):
    status, text = api(method, path, body, port=port)
    assert status in expect, "%s %s %s -> %d %s" % (method, path, json.dumps(body), status, text[:300])
    return json.loads(text) if text.strip().startswith(("{", "[")) else text


class Accounts:
    """Users and vhosts made for one test, deleted (best effort) when it ends. `port`: the HTTP
    port of the broker to talk to (default: the file's broker)."""

    def __init__(self, port=None, track=True):
        self.port = port
        self.users = {}   # name -> password
        self.vhosts = []
        if track:
            rf.track(self)

    def user(self, name=None, password=None, tags=""):
        name = name or short_name("u")
        password = "pw-" + name if password is None else password
        call("PUT", "/api/users/%s" % q(name), {"password": password, "tags": tags}, port=self.port)
        self.users[name] = password
        return name

    def password(self, user):
        return self.users[user]

    def vhost(self, name=None):
        name = name or short_name("v")
        call("PUT", "/api/vhosts/%s" % q(name), {}, port=self.port)
        self.vhosts.append(name)
        return name

    def permit(self, user, vhost, configure, write, read):
        call("PUT", "/api/permissions/%s/%s" % (q(vhost), q(user)),
             {"configure": configure, "write": write, "read": read}, port=self.port)

    def unpermit(self, user, vhost):
        call("DELETE", "/api/permissions/%s/%s" % (q(vhost), q(user)), port=self.port)

    def topic(self, user, vhost, exchange, write, read):
        call("PUT", "/api/topic-permissions/%s/%s" % (q(vhost), q(user)),
             {"exchange": exchange, "write": write, "read": read}, port=self.port)

    def vhost_limit(self, vhost, name, value):
        call("PUT", "/api/vhost-limits/%s/%s" % (q(vhost), q(name)), {"value": value}, port=self.port)

    def user_limit(self, user, name, value):
        call("PUT", "/api/user-limits/%s/%s" % (q(user), q(name)), {"value": value}, port=self.port)

    def delete_user(self, user):
        call("DELETE", "/api/users/%s" % q(user), port=self.port)
        self.users.pop(user, None)

    def delete_vhost(self, vhost):
        call("DELETE", "/api/vhosts/%s" % q(vhost), port=self.port)
        self.vhosts.remove(vhost)

    def close(self):
        for user in list(self.users):
            api("DELETE", "/api/users/%s" % q(user), port=self.port)
        for vhost in self.vhosts:
            api("DELETE", "/api/vhosts/%s" % q(vhost), port=self.port)
        self.users.clear()
        self.vhosts = []

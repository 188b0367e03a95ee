"""Users, vhosts, permissions, topic permissions and limits through the admin HTTP API
(http.client and Debian's rabbitmqadmin), authorisation by tag (management, policymaker,
monitoring, administrator, none), and what happens over AMQP (pika): new users log in,
deleted users and vhosts lose their connections with 320, limits hold, and everything
survives a restart and a SIGKILL. Definitions are test_definitions.py's.

Every expectation is RabbitMQ 3.10.8's (run_against_rabbitmq.sh runs this file against a
node); the few places where Roost differs on purpose skip there with the reason."""
import base64
import hashlib
import json
import os
import subprocess

import pika
import pika.exceptions as pe

import roost_fixture as rf
from admin_http import (EVERYTHING, amqp, api, cleanup, make_user, make_vhost, ok, q, rabbit_hash, refused,
                        roost_only, wait_for)

RABBITMQADMIN = "/usr/bin/rabbitmqadmin"


# ---------------------------------------------------------------- users

def test_users_create_update_delete_and_log_in_over_amqp():
    name = rf.uniq("user")
    path = "/api/users/" + q(name)
    status, body, _ = api("PUT", path, {"password": "first-pw", "tags": "management, policymaker"})
    assert status == 201 and body == "", (status, body)
    user = ok("GET", path)
    assert set(user) == {"name", "password_hash", "hashing_algorithm", "tags", "limits"}, user
    assert user["tags"] == ["management", "policymaker"] and user["limits"] == {}
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert len(base64.b64decode(user["password_hash"])) == 36
    assert "first-pw" not in json.dumps(ok("GET", "/api/users"))
    assert name in [u["name"] for u in ok("GET", "/api/users")]
    ok("PUT", "/api/permissions/%2F/" + q(name), EVERYTHING)
    amqp(name, "first-pw").close()
    assert ok("GET", "/api/whoami", user=name, password="first-pw") == {"name": name,
                                                                       "tags": ["management", "policymaker"]}
    assert api("PUT", path, {"password": "second-pw", "tags": ["monitoring"]})[0] == 204
    assert ok("GET", path)["tags"] == ["monitoring"]
    amqp(name, "second-pw").close()
    try:
        amqp(name, "first-pw")
        raise AssertionError("the old password still logs in")
    except (pe.ProbableAuthenticationError, pe.AMQPConnectionError):
        pass
    # Without password or hash the user keeps none (RabbitMQ 3.10: "will not be able to log in with a password").
    assert api("PUT", path, {"tags": "management"})[0] == 204
    assert ok("GET", path)["password_hash"] == ""
    assert api("GET", "/api/whoami", user=name, password="second-pw")[0] == 401
    assert api("DELETE", path)[0] == 204
    refused("GET", path, status=404, reason="Not Found")
    refused("DELETE", path, status=404)


def test_users_with_sha512_and_md5_hashes_log_in_with_their_passwords():
    names = []
    for algorithm, digest in (("sha512", hashlib.sha512), ("md5", hashlib.md5), ("sha256", hashlib.sha256)):
        name = rf.uniq("hash-" + algorithm)
        names.append(name)
        password = "pw-for-" + algorithm
        hashed = rabbit_hash(password, digest)
        assert api("PUT", "/api/users/" + q(name),
                   {"password_hash": hashed, "hashing_algorithm": "rabbit_password_hashing_" + algorithm,
                    "tags": "management"})[0] == 201
        user = ok("GET", "/api/users/" + q(name))
        assert user["password_hash"] == hashed and user["hashing_algorithm"].endswith(algorithm)
        ok("PUT", "/api/permissions/%2F/" + q(name), EVERYTHING)
        amqp(name, password).close()
        assert ok("GET", "/api/whoami", user=name, password=password)["name"] == name
    cleanup(names)


def test_user_bodies_refused_with_rabbitmqs_reasons():
    path = "/api/users/" + q(rf.uniq("bad"))
    refused("PUT", path, {"password": "p"}, reason="tags_not_present")
    refused("PUT", path, {"password": "p", "password_hash": "", "tags": ""},
            reason="both_password_and_password_hash_are_provided")
    refused("PUT", path, {"password_hash": "!!!", "tags": ""}, reason=["not_base64", "!!!"])
    refused("PUT", path, status=400, raw_body=b"{oops")
    refused("GET", path, status=404)


def test_unknown_hashing_algorithm_is_400():
    roost_only("RabbitMQ 3.10.8 accepts any hashing_algorithm: it stores the name with a password_hash "
               "(the user then cannot log in) and ignores it with a password")
    path = "/api/users/" + q(rf.uniq("algo"))
    refused("PUT", path, {"password_hash": "AAAA", "hashing_algorithm": "rabbit_password_hashing_sha1", "tags": ""})
    refused("PUT", path, {"password": "p", "hashing_algorithm": "sha256", "tags": ""})
    refused("GET", path, status=404)


def test_users_without_permissions_and_bulk_delete():
    a, b, c = (make_user(rf.uniq(n)) for n in ("lone-a", "lone-b", "lone-c"))
    with_perms = make_user(rf.uniq("has-perms"), vhost="/")
    listed = [u["name"] for u in ok("GET", "/api/users/without-permissions")]
    assert {a, b, c} <= set(listed) and with_perms not in listed
    assert api("PUT", "/api/users/without-permissions", {"password": "p", "tags": ""})[0] == 405
    # Deleted in order until the first unknown name; those before it stay deleted (RabbitMQ does this).
    data = refused("POST", "/api/users/bulk-delete", {"users": [a, "no-such-user-" + a, b]})
    assert data["reason"] == ["no_such_user", "no-such-user-" + a], data
    assert api("GET", "/api/users/" + q(a))[0] == 404
    assert api("GET", "/api/users/" + q(b))[0] == 200
    refused("POST", "/api/users/bulk-delete", {}, reason="[{key_missing,users}]")
    assert api("POST", "/api/users/bulk-delete", {"users": [b, c, with_perms]})[0] == 204
    for u in (b, c, with_perms):
        assert api("GET", "/api/users/" + q(u))[0] == 404


def test_deleting_a_user_closes_its_connections():
    name = make_user(rf.uniq("doomed-user"), vhost="/")
    conn = amqp(name, name + "-pw")
    assert api("DELETE", "/api/users/" + q(name))[0] == 204
    rf.expect_connection_error(lambda: rf.drain(conn, 5), 320, "CONNECTION_FORCED - user '%s' is deleted" % name)


# ---------------------------------------------------------------- vhosts

def test_vhosts_create_update_list_delete():
    name = rf.uniq("vh")
    path = "/api/vhosts/" + q(name)
    assert api("PUT", path, {"description": "first", "tags": "a,b"})[0] == 201
    v = ok("GET", path)
    assert v["name"] == name and v["description"] == "first" and v["tags"] == ["a", "b"], v
    assert v["metadata"] == {"description": "first", "tags": ["a", "b"]} and v["tracing"] is False
    # The creator gets every permission in the new vhost.
    assert ok("GET", "/api/permissions/%s/guest" % q(name)) == dict(EVERYTHING, user="guest", vhost=name)
    assert name in [x["name"] for x in ok("GET", "/api/vhosts")]
    ok("PUT", "/api/vhost-limits/%s/max-queues" % q(name), {"value": 4})
    # An update replaces description and tags (absent: empty) and keeps the limits.
    assert api("PUT", path, {"tags": ["c"]})[0] == 204
    v = ok("GET", path)
    assert v["description"] == "" and v["tags"] == ["c"], v
    assert ok("GET", "/api/vhost-limits/" + q(name)) == [{"vhost": name, "value": {"max-queues": 4}}]
    assert ok("GET", "/api/vhosts/%2F")["description"] == "Default virtual host"
    assert api("DELETE", path)[0] == 204
    refused("DELETE", path, status=404, reason="Not Found")
    refused("GET", path, status=404)
    assert api("GET", "/api/permissions/%s/guest" % q(name))[0] == 404


def test_vhost_default_queue_type_is_kept():
    roost_only("RabbitMQ 3.10.8 ignores default_queue_type in PUT /api/vhosts and shows 'undefined' (3.11 keeps it)")
    name = make_vhost(rf.uniq("dqt"))
    assert ok("GET", "/api/vhosts/" + q(name))["default_queue_type"] == "undefined"
    assert api("PUT", "/api/vhosts/" + q(name), {"default_queue_type": "quorum"})[0] == 204
    assert ok("GET", "/api/vhosts/" + q(name))["default_queue_type"] == "quorum"
    refused("PUT", "/api/vhosts/" + q(name), {"default_queue_type": "lazy"})
    cleanup(vhosts=[name])


def test_deleting_a_vhost_closes_its_connections_with_320():
    name = make_vhost(rf.uniq("doomed-vh"))
    conn = amqp("guest", "guest", name)
    ch = conn.channel()
    ch.queue_declare("in-doomed", durable=True)
    other = amqp("guest", "guest", "/")
    assert api("DELETE", "/api/vhosts/" + q(name))[0] == 204
    rf.expect_connection_error(lambda: rf.drain(conn, 5), 320, "CONNECTION_FORCED - vhost '%s' is deleted" % name)
    assert other.is_open
    rf.drain(other, 0.2)
    assert api("GET", "/api/queues/%s/in-doomed" % q(name))[0] == 404
    try:
        amqp("guest", "guest", name)
        raise AssertionError("opened a deleted vhost")
    except (pe.ConnectionClosedByBroker, pe.AMQPConnectionError):
        pass


# ---------------------------------------------------------------- permissions

def test_permissions_set_show_list_clear_and_refusals():
    vh = make_vhost(rf.uniq("perm-vh"))
    user = make_user(rf.uniq("perm-user"))
    path = "/api/permissions/%s/%s" % (q(vh), q(user))
    rules = {"configure": "^mine-", "write": ".*", "read": ""}
    assert api("PUT", path, rules)[0] == 201
    assert api("PUT", path, rules)[0] == 204
    assert ok("GET", path) == dict(rules, user=user, vhost=vh)
    assert ok("GET", "/api/users/%s/permissions" % q(user)) == [dict(rules, user=user, vhost=vh)]
    assert {p["user"] for p in ok("GET", "/api/vhosts/%s/permissions" % q(vh))} == {"guest", user}
    assert dict(rules, user=user, vhost=vh) in ok("GET", "/api/permissions")
    refused("PUT", "/api/permissions/%s/no-such-user" % q(vh), rules, reason="vhost_or_user_not_found")
    refused("PUT", "/api/permissions/no-such-vhost/%s" % q(user), {}, reason="vhost_or_user_not_found")
    refused("PUT", path, {"configure": "a"}, reason="[{key_missing,write},{key_missing,read}]")
    data = refused("PUT", path, {"configure": "(", "write": "", "read": ""})
    assert data["reason"][0] == "invalid_regexp", data
    refused("GET", "/api/users/no-such-user/permissions", status=404)
    refused("GET", "/api/vhosts/no-such-vhost/permissions", status=404)
    # Over AMQP the rules hold: configure only ^mine-.
    conn = amqp(user, user + "-pw", vh)
    ch = conn.channel()
    ch.queue_declare("mine-q")
    rf.expect_channel_error(lambda: conn.channel().queue_declare("theirs"), 403)
    assert api("DELETE", path)[0] == 204
    refused("DELETE", path, status=404, reason="Not Found")
    refused("GET", path, status=404)
    cleanup([user], [vh])


def test_topic_permissions_per_exchange_and_on_amqp():
    user = make_user(rf.uniq("topic-user"), vhost="/")
    path = "/api/topic-permissions/%%2F/%s" % q(user)
    assert api("PUT", path, {"exchange": "amq.topic", "write": "^{username}\\.", "read": ".*"})[0] == 201
    assert api("PUT", path, {"exchange": "other", "write": "^x", "read": "^x"})[0] == 204
    mine = sorted(ok("GET", path), key=lambda t: t["exchange"])
    assert mine == [{"user": user, "vhost": "/", "exchange": "amq.topic", "write": "^{username}\\.", "read": ".*"},
                    {"user": user, "vhost": "/", "exchange": "other", "write": "^x", "read": "^x"}], mine
    assert len(ok("GET", "/api/users/%s/topic-permissions" % q(user))) == 2
    assert {t["user"] for t in ok("GET", "/api/topic-permissions")} >= {user}
    assert {t["user"] for t in ok("GET", "/api/vhosts/%2F/topic-permissions")} >= {user}
    refused("PUT", path, {"write": "a", "read": "b"}, reason="[{key_missing,exchange}]")
    assert refused("PUT", path, {"exchange": "x", "write": "(", "read": ""})["reason"][0] == "invalid_regexp"
    refused("PUT", "/api/topic-permissions/%2F/no-such-user", {}, reason="vhost_or_user_not_found")
    conn = amqp(user, user + "-pw")
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("amq.topic", user + ".ok", b"allowed")
    rf.expect_channel_error(lambda: ch.basic_publish("amq.topic", "someone-else.x", b"no"), 403)
    assert api("DELETE", path)[0] == 204
    refused("GET", path, status=404)
    refused("DELETE", path, status=404)
    cleanup([user])


# ---------------------------------------------------------------- limits

def test_user_limits_set_list_clear_and_enforced():
    user = make_user(rf.uniq("limited"), tags="management", vhost="/")
    base = "/api/user-limits/" + q(user)
    assert api("PUT", base + "/max-connections", {"value": 1})[0] == 204
    assert api("PUT", base + "/max-channels", {"value": 2})[0] == 204
    assert ok("GET", base) == [{"user": user, "value": {"max-connections": 1, "max-channels": 2}}]
    assert {"user": user, "value": {"max-connections": 1, "max-channels": 2}} in ok("GET", "/api/user-limits")
    assert ok("GET", "/api/users/" + q(user))["limits"] == {"max-connections": 1, "max-channels": 2}
    refused("PUT", base + "/max-queues", {"value": 1}, reason='Unrecognised terms [{<<"max-queues">>,1}] in user-limits')
    refused("PUT", base + "/max-channels", {"value": "x"}, reason='max-channels should be a number, actually was <<"x">>')
    refused("PUT", base + "/max-channels", {}, reason="[{key_missing,value}]")
    refused("PUT", "/api/user-limits/no-such-user/max-channels", {"value": 1}, reason=["no_such_user", "no-such-user"])
    refused("GET", "/api/user-limits/no-such-user", status=404)
    first = amqp(user, user + "-pw")
    try:
        amqp(user, user + "-pw")
        raise AssertionError("a second connection opened past max-connections 1")
    except (pe.ConnectionClosedByBroker, pe.AMQPConnectionError):
        pass
    first.channel()
    first.channel()
    rf.expect_connection_error(lambda: first.channel(), 530)
    assert api("DELETE", base + "/max-connections")[0] == 204
    assert api("DELETE", base + "/max-connections")[0] == 204
    assert ok("GET", base) == [{"user": user, "value": {"max-channels": 2}}]
    cleanup([user])


def test_vhost_limits_set_list_clear_and_enforced():
    vh = make_vhost(rf.uniq("lim-vh"))
    base = "/api/vhost-limits/" + q(vh)
    assert api("PUT", base + "/max-queues", {"value": 1})[0] == 204
    assert api("PUT", base + "/max-connections", {"value": -1})[0] == 204
    assert ok("GET", base) == [{"vhost": vh, "value": {"max-queues": 1, "max-connections": -1}}]
    assert {"vhost": vh, "value": {"max-queues": 1, "max-connections": -1}} in ok("GET", "/api/vhost-limits")
    refused("PUT", base + "/max-channels", {"value": 5},
            reason='Validation failed\n\nUnrecognised terms [{<<"max-channels">>,5}] in limits\n')
    refused("PUT", base + "/max-queues", {"value": 1.5},
            reason="Validation failed\n\nmax-queues should be a number, actually was 1.5\n")
    refused("PUT", "/api/vhost-limits/no-such-vhost/max-queues", {"value": 1}, status=404, reason="vhost_not_found")
    refused("GET", "/api/vhost-limits/no-such-vhost", status=404)
    conn = amqp("guest", "guest", vh)
    ch = conn.channel()
    ch.queue_declare("first")
    rf.expect_channel_error(lambda: ch.queue_declare("second"), 406)
    assert api("DELETE", base + "/max-queues")[0] == 204
    assert ok("GET", base) == [{"vhost": vh, "value": {"max-connections": -1}}]
    assert api("DELETE", base + "/max-connections")[0] == 204
    assert ok("GET", base) == []
    conn.channel().queue_declare("second")
    cleanup(vhosts=[vh])


# ---------------------------------------------------------------- authorisation by tag

def test_login_failures_as_rabbitmq_answers_them():
    status, body, headers = api("GET", "/api/overview", user=None)
    assert status == 401 and body == "" and "www-authenticate" in headers, (status, body, headers)
    status, body, headers = api("GET", "/api/overview", password="wrong")
    assert status == 401 and body == {"error": "not_authorized", "reason": "Login failed"}, (status, body)
    assert "www-authenticate" in headers
    # Unknown endpoints and wrong methods are answered before any login.
    assert api("GET", "/api/no-such-endpoint", user=None)[0] == 404
    assert api("POST", "/api/overview", user=None)[0] == 405


def test_a_user_without_management_tags_gets_401_everywhere():
    for tags in ("", "impersonator"):
        user = make_user(rf.uniq("no-mgmt"), tags=tags, vhost="/")
        for method, path in (("GET", "/api/overview"), ("GET", "/api/whoami"), ("GET", "/api/queues"),
                             ("GET", "/api/queues/%2F"), ("GET", "/api/vhosts"), ("GET", "/api/connections"),
                             ("GET", "/api/users"), ("GET", "/api/definitions"), ("GET", "/api/user-limits"),
                             ("PUT", "/api/queues/%2F/" + q(user))):
            status, body, headers = api(method, path, {} if method == "PUT" else None, user=user)
            assert status == 401 and body == {"error": "not_authorised", "reason": "Not management user"}, \
                (method, path, status, body)
            assert "www-authenticate" not in headers
        assert api("GET", "/api/queues/%2F/" + q(user))[0] == 404
        amqp(user, user + "-pw").close()  # AMQP does not care about tags
        cleanup([user])


ADMIN_ONLY = [("GET", "/api/users"), ("GET", "/api/users/guest"), ("PUT", "/api/users/x-never"),
              ("DELETE", "/api/users/guest"), ("GET", "/api/users/without-permissions"),
              ("POST", "/api/users/bulk-delete"), ("GET", "/api/vhosts/%2F"), ("PUT", "/api/vhosts/x-never"),
              ("DELETE", "/api/vhosts/%2F"), ("GET", "/api/permissions"), ("GET", "/api/permissions/%2F/guest"),
              ("PUT", "/api/permissions/%2F/guest"), ("GET", "/api/topic-permissions"),
              ("GET", "/api/users/guest/permissions"), ("GET", "/api/vhosts/%2F/permissions"),
              ("PUT", "/api/user-limits/guest/max-channels"), ("DELETE", "/api/user-limits/guest/max-channels"),
              ("PUT", "/api/vhost-limits/%2F/max-queues"), ("DELETE", "/api/vhost-limits/%2F/max-queues"),
              ("GET", "/api/definitions"), ("GET", "/api/definitions/%2F"), ("POST", "/api/definitions")]


def _scope_users(tag):
    """A vhost of its own with a queue, a user with `tag` and permissions only there, a queue in /."""
    vh = make_vhost(rf.uniq(tag + "-vh"))
    user = make_user(rf.uniq(tag), tags=tag, vhost=vh)
    ok("PUT", "/api/queues/%s/%s" % (q(vh), "its-queue"), {"durable": False})
    root_q = rf.uniq("root-q")
    ok("PUT", "/api/queues/%2F/" + q(root_q), {"durable": False})
    return vh, user, root_q


def _check_vhost_scoped(user, vh, root_q, sees_all_vhosts):
    vhosts = {v["name"] for v in ok("GET", "/api/vhosts", user=user)}
    assert vh in vhosts and (("/" in vhosts) == sees_all_vhosts), vhosts
    queues = {(x["vhost"], x["name"]) for x in ok("GET", "/api/queues", user=user)}
    assert (vh, "its-queue") in queues and ("/", root_q) not in queues, queues
    assert {x["vhost"] for x in ok("GET", "/api/exchanges", user=user)} == {vh}
    assert ok("GET", "/api/queues/%s/its-queue" % q(vh), user=user)["name"] == "its-queue"
    refused("GET", "/api/queues/%2F", status=401, reason="User not authorised to access virtual host", user=user)
    refused("GET", "/api/queues/%2F/" + q(root_q), status=401, user=user)
    refused("PUT", "/api/queues/%2F/x", {}, status=401, user=user)
    if not sees_all_vhosts:
        refused("GET", "/api/vhost-limits/%2F", status=401, user=user)
    assert api("GET", "/api/queues/no-such-vhost", user=user)[0] == 404
    for method, path in ADMIN_ONLY:
        refused(method, path, {"value": 1} if method in ("PUT", "POST") else None, status=401,
                reason="Not administrator user", user=user)
    assert api("GET", "/api/user-limits", user=user)[0] == 200
    assert ok("GET", "/api/whoami", user=user)["name"] == user
    # Acting in its own vhost works, through the same AMQP checks.
    assert api("PUT", "/api/queues/%s/made-by-api" % q(vh), {"durable": False}, user=user)[0] == 201
    assert api("DELETE", "/api/queues/%s/made-by-api" % q(vh), user=user)[0] == 204


def test_management_tag_sees_and_acts_only_in_its_vhosts():
    vh, user, root_q = _scope_users("management")
    _check_vhost_scoped(user, vh, root_q, sees_all_vhosts=False)
    overview = ok("GET", "/api/overview", user=user)
    assert "listeners" not in overview
    cleanup([user], [vh])
    ok("DELETE", "/api/queues/%2F/" + q(root_q))


def test_policymaker_tag_is_management_on_these_endpoints():
    vh, user, root_q = _scope_users("policymaker")
    _check_vhost_scoped(user, vh, root_q, sees_all_vhosts=False)
    cleanup([user], [vh])
    ok("DELETE", "/api/queues/%2F/" + q(root_q))


def test_monitoring_tag_sees_every_vhost_and_connection():
    vh, user, root_q = _scope_users("monitoring")
    _check_vhost_scoped(user, vh, root_q, sees_all_vhosts=True)
    assert api("GET", "/api/vhost-limits/%2F", user=user)[0] == 200
    assert "listeners" in ok("GET", "/api/overview", user=user)
    amqp("guest", "guest").channel()
    listed = wait_for(lambda: [c for c in ok("GET", "/api/connections", user=user) if c["user"] == "guest"],
                      what="guest's connection listed for the monitor")
    name = listed[-1]["name"]
    assert ok("GET", "/api/connections/" + q(name), user=user)["user"] == "guest"
    refused("DELETE", "/api/connections/" + q(name), status=401, reason="User not authorised to access object",
            user=user)
    wait_for(lambda: any(c["user"] == "guest" for c in ok("GET", "/api/channels", user=user)),
             what="guest's channel listed for the monitor")
    cleanup([user], [vh])
    ok("DELETE", "/api/queues/%2F/" + q(root_q))


def test_management_sees_only_its_own_connections():
    vh, user, root_q = _scope_users("management")
    mine = amqp(user, user + "-pw", vh)
    amqp("guest", "guest")
    own = wait_for(lambda: ok("GET", "/api/connections", user=user), what="the user's own connection listed")
    assert {c["user"] for c in own} == {user}, own
    everyone = wait_for(lambda: [c for c in ok("GET", "/api/connections") if c["user"] == "guest"],
                        what="guest's connection listed")
    refused("GET", "/api/connections/" + q(everyone[-1]["name"]), status=401,
            reason="User not authorised to access object", user=user)
    assert {c["user"] for c in ok("GET", "/api/channels", user=user)} <= {user}
    assert api("DELETE", "/api/connections/" + q(own[0]["name"]), user=user)[0] == 204
    rf.expect_connection_error(lambda: rf.drain(mine, 5), 320)
    cleanup([user], [vh])
    ok("DELETE", "/api/queues/%2F/" + q(root_q))


def test_api_actions_obey_amqp_permissions():
    vh = make_vhost(rf.uniq("acl-vh"))
    user = make_user(rf.uniq("mr"), tags="management")
    ok("PUT", "/api/permissions/%s/%s" % (q(vh), q(user)), {"configure": "^mr-", "write": "^mr-", "read": "^mr-"})
    ok("PUT", "/api/queues/%s/other" % q(vh), {"durable": False})
    ok("PUT", "/api/exchanges/%s/other-x" % q(vh), {"type": "direct", "durable": False})
    ok("POST", "/api/exchanges/%s/amq.default/publish" % q(vh),
       {"routing_key": "other", "payload": "m", "payload_encoding": "string", "properties": {}})
    base = "/api/queues/" + q(vh)
    for method, path, body in (("PUT", base + "/q", {}), ("DELETE", base + "/other", None),
                               ("DELETE", base + "/other/contents", None),
                               ("PUT", "/api/exchanges/%s/x" % q(vh), {"type": "direct"}),
                               ("DELETE", "/api/exchanges/%s/other-x" % q(vh), None),
                               ("PUT", base + "/mr-dlq", {"arguments": {"x-dead-letter-exchange": "amq.direct"}})):
        refused(method, path, body, status=401, reason="Access refused.", user=user)
    assert api("PUT", base + "/mr-q", {"durable": False}, user=user)[0] == 201
    refused("POST", "/api/bindings/%s/e/other-x/q/mr-q" % q(vh), {"routing_key": "k"}, status=401,
            reason="Access refused.", user=user)
    refused("POST", base + "/other/get", {"count": 1, "ackmode": "ack_requeue_true", "encoding": "auto"}, status=401,
            reason="ACCESS_REFUSED - access to queue 'other' in vhost '%s' refused for user '%s'" % (vh, user),
            user=user)
    refused("POST", "/api/exchanges/%s/other-x/publish" % q(vh),
            {"routing_key": "k", "payload": "m", "payload_encoding": "string", "properties": {}},
            reason="403 ACCESS_REFUSED - access to exchange 'other-x' in vhost '%s' refused for user '%s'" % (vh, user),
            user=user)
    conn = amqp("guest", "guest", vh)
    assert conn.channel().queue_declare("other", passive=True).method.message_count == 1  # not taken, not purged
    assert api("DELETE", base + "/no-such-queue", user=user)[0] == 404
    assert api("DELETE", base + "/mr-q", user=user)[0] == 204
    cleanup([user], [vh])


def test_administrator_without_permissions_manages_users_but_not_queues():
    vh = make_vhost(rf.uniq("adm-vh"))
    adm = make_user(rf.uniq("adm"), tags="administrator")
    other = rf.uniq("made-by-adm")
    assert api("PUT", "/api/users/" + q(other), {"password": "p", "tags": ""}, user=adm)[0] == 201
    assert api("PUT", "/api/permissions/%s/%s" % (q(vh), q(other)), EVERYTHING, user=adm)[0] == 201
    assert {v["name"] for v in ok("GET", "/api/vhosts", user=adm)} >= {"/", vh}
    ok("PUT", "/api/queues/%s/q" % q(vh), {"durable": False})
    assert ok("GET", "/api/queues/%s/q" % q(vh), user=adm)["name"] == "q"
    assert ("/" in {x["vhost"] for x in ok("GET", "/api/exchanges", user=adm)})
    refused("PUT", "/api/queues/%s/q2" % q(vh), {}, status=401, reason="Access refused.", user=adm)
    refused("POST", "/api/exchanges/%s/amq.default/publish" % q(vh),
            {"routing_key": "q", "payload": "m", "payload_encoding": "string", "properties": {}},
            status=401, reason="Access refused.", user=adm)
    assert api("GET", "/api/definitions", user=adm)[0] == 200
    cleanup([adm, other], [vh])


# ---------------------------------------------------------------- rabbitmqadmin

def admin(*args, check=True):
    cmd = [RABBITMQADMIN, "-H", rf.HOST, "-P", str(rf.http_port()), "-u", "guest", "-p", "guest"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, "%s -> %d\n%s\n%s" % (" ".join(args), p.returncode, p.stdout, p.stderr)
    return p


@rf.timeout(120)
def test_rabbitmqadmin_users_vhosts_permissions_limits_definitions():
    if not os.path.exists(RABBITMQADMIN):
        rf.skip("rabbitmqadmin is not installed (apt-get install rabbitmq-server)")
    user, vh = rf.uniq("rmqa-user"), rf.uniq("rmqa-vh")
    admin("declare", "user", "name=" + user, "password=rmqa-pw", "tags=management")
    assert user in admin("list", "users").stdout
    listed = json.loads(admin("-f", "raw_json", "list", "users").stdout)
    assert [u["tags"] for u in listed if u["name"] == user] == [["management"]]
    admin("declare", "vhost", "name=" + vh)
    assert vh in [v["name"] for v in json.loads(admin("-f", "raw_json", "list", "vhosts").stdout)]
    admin("declare", "permission", "vhost=" + vh, "user=" + user, "configure=.*", "write=.*", "read=^r")
    perms = json.loads(admin("-f", "raw_json", "list", "permissions").stdout)
    assert {"user": user, "vhost": vh, "configure": ".*", "write": ".*", "read": "^r"} in perms
    admin("declare", "vhost_limit", "vhost=" + vh, "name=max-queues", "value=7")
    assert [lim["value"] for lim in json.loads(admin("-f", "raw_json", "list", "vhost_limits").stdout)
            if lim["vhost"] == vh] == [{"max-queues": 7}]
    amqp(user, "rmqa-pw", vh).close()
    export = os.path.join(rf.new_data_dir(), "defs.json")
    admin("export", export)
    with open(export) as f:
        defs = json.load(f)
    assert user in [u["name"] for u in defs["users"]] and {"name": vh} in defs["vhosts"]
    assert {"vhost": vh, "component": "vhost-limits", "name": "limits", "value": {"max-queues": 7}} in defs["parameters"]
    admin("delete", "permission", "vhost=" + vh, "user=" + user)
    admin("delete", "user", "name=" + user)
    admin("delete", "vhost", "name=" + vh)
    assert api("GET", "/api/users/" + q(user))[0] == 404
    # Import brings them back, with the same password hash.
    defs = {"users": [u for u in defs["users"] if u["name"] == user], "vhosts": [{"name": vh}],
            "permissions": [p for p in defs["permissions"] if p["user"] == user],
            "parameters": [p for p in defs["parameters"] if p["vhost"] == vh]}
    with open(export, "w") as f:
        json.dump(defs, f)
    admin("import", export)
    assert ok("GET", "/api/permissions/%s/%s" % (q(vh), q(user)))["read"] == "^r"
    assert ok("GET", "/api/vhost-limits/" + q(vh)) == [{"vhost": vh, "value": {"max-queues": 7}}]
    amqp(user, "rmqa-pw", vh).close()
    admin("delete", "vhost_limit", "vhost=" + vh, "name=max-queues")
    assert ok("GET", "/api/vhost-limits/" + q(vh)) == []
    admin("delete", "user", "name=" + user)
    admin("delete", "vhost", "name=" + vh)
    assert admin("delete", "user", "name=" + user, check=False).returncode != 0


# ---------------------------------------------------------------- durability

def _make_access_state(http_port):
    vh = "durable-vh"
    ok("PUT", "/api/vhosts/" + vh, {"description": "kept", "tags": "x"}, port=http_port)
    ok("PUT", "/api/users/keeper", {"password": "keeper-pw", "tags": "management"}, port=http_port)
    ok("PUT", "/api/permissions/%s/keeper" % vh, {"configure": "^k", "write": ".*", "read": ".*"}, port=http_port)
    ok("PUT", "/api/topic-permissions/%s/keeper" % vh, {"exchange": "amq.topic", "write": "^k", "read": ""},
       port=http_port)
    ok("PUT", "/api/user-limits/keeper/max-channels", {"value": 4}, port=http_port)
    ok("PUT", "/api/vhost-limits/%s/max-queues" % vh, {"value": 6}, port=http_port)
    ok("PUT", "/api/users/gone", {"password": "gone-pw", "tags": ""}, port=http_port)
    ok("DELETE", "/api/users/gone", port=http_port)


def _check_access_state(b):
    vh = "durable-vh"
    v = ok("GET", "/api/vhosts/" + vh, port=b.http_port)
    assert v["description"] == "kept" and v["tags"] == ["x"], v
    assert ok("GET", "/api/permissions/%s/keeper" % vh, port=b.http_port)["configure"] == "^k"
    assert ok("GET", "/api/topic-permissions/%s/keeper" % vh, port=b.http_port)[0]["write"] == "^k"
    assert ok("GET", "/api/user-limits/keeper", port=b.http_port)[0]["value"] == {"max-channels": 4}
    assert ok("GET", "/api/vhost-limits/" + vh, port=b.http_port)[0]["value"] == {"max-queues": 6}
    assert api("GET", "/api/users/gone", port=b.http_port)[0] == 404
    conn = amqp("keeper", "keeper-pw", vh, port=b.port)
    rf.expect_channel_error(lambda: conn.channel().queue_declare("not-k"), 403)
    conn.close()


@rf.timeout(120)
def test_users_vhosts_permissions_survive_restart_and_sigkill():
    b = rf.start_broker()
    _make_access_state(b.http_port)
    b = rf.restart_broker(b)
    _check_access_state(b)
    # Each 2xx answer waited for the commit: a SIGKILL right after loses nothing.
    ok("PUT", "/api/users/late", {"password": "late-pw", "tags": ""}, port=b.http_port)
    ok("PUT", "/api/permissions/durable-vh/late", EVERYTHING, port=b.http_port)
    b = rf.restart_broker(b, kill=True)
    _check_access_state(b)
    amqp("late", "late-pw", "durable-vh", port=b.port).close()


@rf.timeout(120)
def test_a_deleted_vhosts_queues_are_gone_after_restart_and_sigkill():
    b = rf.start_broker()
    for kill in (False, True):
        make_vhost("short-lived", port=b.http_port)
        conn = amqp("guest", "guest", "short-lived", port=b.port)
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("kept-q", durable=True)
        for i in range(20):
            ch.basic_publish("", "kept-q", b"m%d" % i, pika.BasicProperties(delivery_mode=2))
        assert api("DELETE", "/api/vhosts/short-lived", port=b.http_port)[0] == 204
        rf.expect_connection_error(lambda: rf.drain(conn, 5), 320, "CONNECTION_FORCED - vhost 'short-lived' is deleted")
        b = rf.restart_broker(b, kill=kill)
        assert api("GET", "/api/vhosts/short-lived", port=b.http_port)[0] == 404
        make_vhost("short-lived", port=b.http_port)
        assert api("GET", "/api/queues/short-lived/kept-q", port=b.http_port)[0] == 404
        assert ok("GET", "/api/queues", port=b.http_port) == []
        ok("DELETE", "/api/vhosts/short-lived", port=b.http_port)


if __name__ == "__main__":
    rf.main()

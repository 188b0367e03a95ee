#!/usr/bin/python3
"""roostctl, the operator's tool, run as a program against the real broker: every verb, its
output (tab-separated as rabbitmqctl -q prints it) and its exit code, and what each change
does to AMQP clients (pika): a user added logs in, permissions allow and refuse, topic
permissions, limits, policies seen through the admin API, a connection closed, queues purged
and deleted, definitions exported and imported back.

roostctl reaches the broker through the control socket DATA_DIR/roost.ctl (mode 0600; no
password); the last tests check that socket, and the error when no broker runs on a data dir.

Against RabbitMQ (run_against_rabbitmq.sh exports ROOST_EXTERNAL_CTL, its rabbitmqctl with the
node's arguments) the same tests run through rabbitmqctl, which checks that what is asserted
here is what rabbitmqctl 3.10 prints; the tests of the control socket and of Roost's status
text are skipped there.
"""
import json
import os
import shlex
import socket
import stat
import subprocess
import tempfile
import time

import pika
import pika.exceptions as pe

import access_api
import admin_http
import roost_fixture as rf

CTL_TIMEOUT = 30  # seconds for one roostctl run


def roostctl_binary():
    explicit = os.environ.get("ROOSTCTL_BIN")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(rf.broker_binary()), "roostctl")


def ctl_command(data_dir):
    external = os.environ.get("ROOST_EXTERNAL_CTL")
    if rf.external():
        if not external:
            rf.skip("no ROOST_EXTERNAL_CTL for the external broker")
        return shlex.split(external)
    return [roostctl_binary(), "--data-dir", data_dir or rf.BROKER.data_path]


def run(*args, data_dir=None, stdin=None, cwd=None, command=None):
    """One roostctl run; returns the CompletedProcess (text stdout and stderr)."""
    argv = (command if command is not None else ctl_command(data_dir)) + list(args)
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=CTL_TIMEOUT, cwd=cwd)


def ok(*args, **kw):
    """stdout of a run that must succeed."""
    p = run(*args, **kw)
    assert p.returncode == 0, "%s: exit %d, stderr %r" % (" ".join(args), p.returncode, p.stderr)
    return p.stdout


def fails(code, stderr, *args, **kw):
    """A run that must fail with this exit code and exactly this text on stderr."""
    p = run(*args, **kw)
    assert p.returncode == code, "%s: exit %d (expected %d), stderr %r" % (" ".join(args), p.returncode, code,
                                                                        p.stderr)
    rf.eq(p.stderr, stderr, " ".join(args))
    return p


def rows(*args, **kw):
    """A list run with -q: the header line, then the rows (in the broker's order), each a list
    of cells; nothing at all for an empty list."""
    lines = ok("-q", *args, **kw).splitlines()
    return [line.split("\t") for line in lines if line]


def tool_name():
    return "rabbitmqctl" if rf.external() else "roostctl"


def row_of(table, first):
    """The row whose first cell is `first` (or None)."""
    return next((r for r in table[1:] if r[0] == first), None)


def login(user, password, vhost="/"):
    return rf.connect(credentials=pika.PlainCredentials(user, password), virtual_host=vhost)


def refused_login(user, password, vhost="/"):
    """pika's refusal of a login or of the vhost (ProbableAuthentication/AccessDenied)."""
    try:
        conn = pika.BlockingConnection(rf.params(credentials=pika.PlainCredentials(user, password),
                                                 virtual_host=vhost))
    except (pe.ProbableAuthenticationError, pe.ProbableAccessDeniedError) as e:
        return e
    conn.close()
    raise AssertionError("%s logged into %r" % (user, vhost))


def roost_only(why):
    if rf.external():
        rf.skip(why)


# ---------------------------------------------------------------- users

def test_add_user_logs_in_change_password_tags_and_delete():
    acc = access_api.Accounts()
    user = access_api.short_name("ctl")
    rf.eq(ok("add_user", user, "first-pw"),
          'Adding user "%s" ...\nDone. Don\'t forget to grant the user permissions to some virtual hosts! '
          "See '%s help set_permissions' to learn more.\n" % (user, tool_name()))
    acc.users[user] = "first-pw"
    fails(70, 'Error:\nUser "%s" already exists\n' % user, "add_user", user, "other")
    # No permissions yet: the login works, the vhost does not.
    refused_login(user, "first-pw")
    rf.eq(ok("set_permissions", user, ".*", ".*", ".*"), 'Setting permissions for user "%s" in vhost "/" ...\n' % user)
    login(user, "first-pw").close()

    rf.eq(ok("-q", "change_password", user, "second-pw"), "")
    refused_login(user, "first-pw")
    login(user, "second-pw").close()
    # The password from standard input, kept out of the command line.
    ok("change_password", user, stdin="third-pw\n")
    login(user, "third-pw").close()

    rf.eq(ok("set_user_tags", user, "monitoring", "management"),
          'Setting tags for user "%s" to [monitoring, management] ...\n' % user)
    users = rows("list_users")
    rf.eq(users[0], ["user", "tags"])
    rf.eq(row_of(users, user), [user, "[monitoring, management]"])
    rf.eq(row_of(users, "guest"), ["guest", "[administrator]"])
    login(user, "third-pw").close()  # setting tags kept the password

    rf.eq(ok("delete_user", user), 'Deleting user "%s" ...\n' % user)
    acc.users.pop(user)
    assert row_of(rows("list_users"), user) is None
    refused_login(user, "third-pw")
    fails(67, 'Error:\nUser "%s" does not exist\n' % user, "delete_user", user)
    fails(67, 'Error:\nUser "%s" does not exist\n' % user, "change_password", user, "x")


def test_add_user_takes_the_password_from_standard_input():
    acc = access_api.Accounts()
    user = access_api.short_name("ctl")
    ok("-q", "add_user", user, stdin="from-stdin\n")
    acc.users[user] = "from-stdin"
    ok("-q", "set_permissions", user, ".*", ".*", ".*")
    login(user, "from-stdin").close()
    fails(65, "Error:\nPassword is not provided via argument or stdin\n", "-q", "add_user",
          access_api.short_name("ctl"), stdin="")


# ---------------------------------------------------------------- vhosts and permissions

def test_vhosts_added_listed_and_deleted():
    vhost = access_api.short_name("vh")
    rf.eq(ok("add_vhost", vhost), 'Adding vhost "%s" ...\n' % vhost)
    ok("add_vhost", vhost)  # adding it again changes nothing
    listed = rows("list_vhosts", "name", "tracing")
    rf.eq(listed[0], ["name", "tracing"])
    rf.eq(row_of(listed, vhost), [vhost, "false"])
    assert row_of(listed, "/") is not None
    rf.eq(ok("delete_vhost", vhost), 'Deleting vhost "%s" ...\n' % vhost)
    assert row_of(rows("list_vhosts"), vhost) is None
    fails(65, "Virtual host '%s' does not exist\n" % vhost, "-q", "delete_vhost", vhost)


def test_set_permissions_allows_and_refuses_then_clear_permissions():
    acc = access_api.Accounts()
    user = acc.user(password="pw")
    vhost = acc.vhost()
    ok("set_permissions", "-p", vhost, user, "^own-", ".*", ".*")
    listed = rows("list_permissions", "-p", vhost)  # guest's too: it made the vhost through the API
    rf.eq(listed[0], ["user", "configure", "write", "read"])
    rf.eq(sorted(listed[1:]), sorted([["guest", ".*", ".*", ".*"], [user, "^own-", ".*", ".*"]]))
    conn = login(user, "pw", vhost)
    ch = conn.channel()
    ch.queue_declare("own-q")
    rf.expect_channel_error(lambda: ch.queue_declare("other-q"), 403,
                            "ACCESS_REFUSED - access to queue 'other-q' in vhost '%s' refused for user '%s'"
                            % (vhost, user))
    conn.close()
    rf.eq(ok("clear_permissions", "-p", vhost, user),
          'Clearing permissions for user "%s" in vhost "%s" ...\n' % (user, vhost))
    rf.eq(rows("list_permissions", "-p", vhost)[1:], [["guest", ".*", ".*", ".*"]])
    refused_login(user, "pw", vhost)
    # rabbitmqctl's words for a missing user or vhost (the user is checked first).
    fails(67, "Error:\nUser nobody-%s does not exist\n" % user, "-q", "set_permissions", "-p", vhost,
          "nobody-" + user, ".*", ".*", ".*")
    fails(69, "Error:\nVirtual host no-%s does not exist\n" % vhost, "-q", "set_permissions", "-p",
          "no-" + vhost, user, ".*", ".*", ".*")
    fails(65, "Virtual host 'no-%s' does not exist\n" % vhost, "-q", "list_permissions", "-p", "no-" + vhost)


def test_topic_permissions_refuse_and_allow_routing_keys():
    acc = access_api.Accounts()
    user = acc.user(password="pw")
    vhost = acc.vhost()
    acc.permit(user, vhost, ".*", ".*", ".*")
    rf.eq(ok("set_topic_permissions", "-p", vhost, user, "amq.topic", "^ok\\.", ".*"),
          'Setting topic permissions on "amq.topic" for user "%s" in vhost "%s" ...\n' % (user, vhost))
    rf.eq(rows("list_topic_permissions", "-p", vhost),
          [["user", "exchange", "write", "read"], [user, "amq.topic", "^ok\\.", ".*"]])
    conn = login(user, "pw", vhost)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("amq.topic", "ok.fine", b"x")
    rf.expect_channel_error(lambda: ch.basic_publish("amq.topic", "not.fine", b"x"), 403,
                            "ACCESS_REFUSED - access to topic 'not.fine' in exchange 'amq.topic' in vhost '%s' "
                            "refused for user '%s'" % (vhost, user))
    ok("clear_topic_permissions", "-p", vhost, user, "amq.topic")
    rf.eq(ok("-q", "list_topic_permissions", "-p", vhost), "\n")  # rabbitmqctl's empty line
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("amq.topic", "not.fine", b"x")  # allowed again
    conn.close()


# ---------------------------------------------------------------- limits and policies

def test_vhost_and_user_limits_apply_to_clients():
    acc = access_api.Accounts()
    user = acc.user(password="pw")
    vhost = acc.vhost()
    acc.permit(user, vhost, ".*", ".*", ".*")
    rf.eq(ok("set_vhost_limits", "-p", vhost, '{"max-queues": 1, "max-connections": 5}'),
          'Setting vhost limits to "{"max-queues": 1, "max-connections": 5}" for vhost "%s" ...\n' % vhost)
    # set_vhost_limits replaces: max-connections goes.
    ok("-q", "set_vhost_limits", "-p", vhost, '{"max-queues": 1}')
    limits = admin_http.ok("GET", "/api/vhost-limits/%s" % admin_http.q(vhost))
    rf.eq([item["value"] for item in limits], [{"max-queues": 1}])
    conn = login(user, "pw", vhost)
    ch = conn.channel()
    ch.queue_declare("first")
    rf.expect_channel_error(lambda: ch.queue_declare("second"), 406,
                            "PRECONDITION_FAILED - cannot declare queue 'second': queue limit in vhost '%s' (1) "
                            "is reached" % vhost)
    conn.close()
    # A bad limit is refused whole: the limits stay as they were.
    p = run("-q", "set_vhost_limits", "-p", vhost, '{"max-connections": 3, "zzz-unknown": 1}')
    rf.eq(p.returncode, 69, p.stderr)
    assert p.stderr.startswith("Error:\nValidation failed\n"), p.stderr
    limits = admin_http.ok("GET", "/api/vhost-limits/%s" % admin_http.q(vhost))
    rf.eq([item["value"] for item in limits], [{"max-queues": 1}])
    ok("clear_vhost_limits", "-p", vhost)
    rf.eq(admin_http.ok("GET", "/api/vhost-limits/%s" % admin_http.q(vhost)), [])

    # set_user_limits adds to the user's limits.
    ok("-q", "set_user_limits", user, '{"max-channels": 4}')
    ok("-q", "set_user_limits", user, '{"max-connections": 1}')
    limits = admin_http.ok("GET", "/api/user-limits/%s" % admin_http.q(user))
    rf.eq([item["value"] for item in limits], [{"max-channels": 4, "max-connections": 1}])
    first = login(user, "pw", vhost)
    e = refused_login(user, "pw", vhost)
    assert "user connection limit (1) is reached" in str(e), e
    first.close()
    ok("-q", "clear_user_limits", user, "all")
    rf.eq(admin_http.ok("GET", "/api/user-limits/%s" % admin_http.q(user)), [])
    fails(69, "Error:\nJSON decoding error. Reason: badarg\n", "-q", "set_user_limits", user, "{not json")


def test_set_policy_applies_to_queues_and_clear_policy_removes_it():
    acc = access_api.Accounts()
    vhost = acc.vhost()
    rf.eq(ok("set_policy", "-p", vhost, "--priority", "3", "--apply-to", "queues", "ttl", "^ttl\\.",
             '{"message-ttl": 60000}'),
          'Setting policy "ttl" for pattern "^ttl\\." to "{"message-ttl": 60000}" with priority "3" for vhost "%s" '
          "...\n" % vhost)
    rf.eq(rows("list_policies", "-p", vhost),
          [["vhost", "name", "pattern", "apply-to", "definition", "priority"],
           [vhost, "ttl", "^ttl\\.", "queues", '{"message-ttl":60000}', "3"]])
    conn = rf.connect(virtual_host=vhost)
    conn.channel().queue_declare("ttl.q")
    conn.channel().queue_declare("other.q")
    path = "/api/queues/%s/" % admin_http.q(vhost)

    def effective(queue):
        return admin_http.ok("GET", path + queue)

    rf.wait_until(conn, lambda: effective("ttl.q").get("policy") == "ttl", what="the policy on ttl.q")
    rf.eq(effective("ttl.q").get("effective_policy_definition"), {"message-ttl": 60000})
    assert effective("other.q").get("policy") in (None, ""), effective("other.q")
    rf.eq(sorted(rows("list_queues", "-p", vhost, "name", "policy")[1:]), [["other.q", ""], ["ttl.q", "ttl"]])
    rf.eq(ok("clear_policy", "-p", vhost, "ttl"), 'Clearing policy "ttl" on vhost "%s" ...\n' % vhost)
    rf.wait_until(conn, lambda: effective("ttl.q").get("policy") in (None, ""), what="the policy gone")
    rf.eq(ok("-q", "list_policies", "-p", vhost), "\n")
    fails(69, "Error:\nParameter does not exist\n", "-q", "clear_policy", "-p", vhost, "ttl")
    fails(69, 'Error:\nValidation failed\n\n[{<<"foo">>,1}] are not recognised policy settings\n\n', "-q",
          "set_policy", "-p", vhost, "bad", ".*", '{"foo": 1}')
    fails(65, "Virtual host 'no-%s' does not exist\n" % vhost, "-q", "set_policy", "-p", "no-" + vhost, "p", ".*",
          '{"max-length": 1}')
    conn.close()


# ---------------------------------------------------------------- queues, exchanges, bindings

def test_lists_of_queues_exchanges_and_bindings():
    acc = access_api.Accounts()
    vhost = acc.vhost()
    conn = rf.connect(virtual_host=vhost)
    ch = conn.channel()
    ch.queue_declare("orders", durable=True, arguments={"x-max-length": 10})
    ch.queue_declare("scratch", auto_delete=True)
    ch.exchange_declare("logs", "topic")
    ch.queue_bind("orders", "logs", "app.#")
    ch.confirm_delivery()
    for _ in range(3):
        ch.basic_publish("", "orders", b"m")
    lines = ok("list_queues", "-p", vhost).splitlines()  # rows in the broker's order
    rf.eq(lines[:3], ["Timeout: 60.0 seconds ...", "Listing queues for vhost %s ..." % vhost, "name\tmessages"])
    rf.eq(sorted(lines[3:]), ["orders\t3", "scratch\t0"])
    listed = rows("list_queues", "-p", vhost, "name,durable", "auto_delete", "arguments", "messages_ready")
    rf.eq(listed[0], ["name", "durable", "auto_delete", "arguments", "messages_ready"])
    rf.eq(sorted(listed[1:]), [["orders", "true", "false", '[{"x-max-length",10}]', "3"],
                               ["scratch", "false", "true", "[]", "0"]])
    rf.eq(sorted(ok("-s", "list_queues", "-p", vhost).splitlines()), ["orders\t3", "scratch\t0"])
    exchanges = rows("list_exchanges", "-p", vhost, "name", "type", "durable")
    rf.eq(exchanges[0], ["name", "type", "durable"])
    rf.eq(row_of(exchanges, "logs"), ["logs", "topic", "false"])
    rf.eq(row_of(exchanges, "amq.topic"), ["amq.topic", "topic", "true"])
    bindings = rows("list_bindings", "-p", vhost)
    rf.eq(bindings[0], ["source_name", "source_kind", "destination_name", "destination_kind", "routing_key",
                        "arguments"])
    assert ["logs", "exchange", "orders", "queue", "app.#", "[]"] in bindings, bindings
    assert ["", "exchange", "orders", "queue", "orders", "[]"] in bindings, bindings
    conn.close()
    # A missing vhost lists nothing, as rabbitmqctl; an unknown column is a usage error.
    rf.eq(ok("-q", "list_queues", "-p", "no-" + vhost), "")
    p = run("list_queues", "bogus_column")
    rf.eq(p.returncode, 64)
    assert p.stderr.startswith("Error (argument validation): Info key(s) bogus_column are not supported"), p.stderr


def test_purge_queue_and_delete_queue():
    conn = rf.connect()
    ch = conn.channel()
    queue = rf.uniq("ctl-q")
    ch.queue_declare(queue)
    ch.confirm_delivery()
    for _ in range(5):
        ch.basic_publish("", queue, b"m")
    rf.eq(ok("purge_queue", queue), "Purging queue '%s' in vhost '/' ...\n" % queue)
    rf.eq(ch.queue_declare(queue, passive=True).method.message_count, 0)
    for _ in range(2):
        ch.basic_publish("", queue, b"m")
    fails(64, "Error:\nQueue is not empty\n", "-q", "delete_queue", "--if-empty", queue)
    rf.eq(ch.queue_declare(queue, passive=True).method.message_count, 2)
    rf.eq(ok("delete_queue", queue),
          "Deleting queue '%s' on vhost '/' ...\nQueue was successfully deleted with 2 ready messages\n" % queue)
    rf.expect_channel_error(lambda: ch.queue_declare(queue, passive=True), 404)
    fails(64, "Error:\nQueue not found\n", "-q", "delete_queue", queue)
    p = run("-q", "purge_queue", queue)
    rf.eq(p.returncode, 69, p.stderr)


def test_list_delete_and_move_messages():
    roost_only("roostctl's message commands are Roost's")
    conn = rf.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    src, dst = rf.uniq("ctl-src"), rf.uniq("ctl-dst")
    ch.queue_declare(src)
    ch.queue_declare(dst)
    for i in range(6):
        ch.basic_publish("", src, b"m%d" % i, pika.BasicProperties(type="even" if i % 2 == 0 else "odd"))
    table = rows("list_messages", src)
    rf.eq(table[0], ["id", "state", "position", "exchange", "routing_key", "redelivered", "payload_bytes", "payload"])
    rf.eq([r[7] for r in table[1:]], ["m%d" % i for i in range(6)])
    rf.eq([r[1] for r in table[1:]], ["ready"] * 6)
    rf.eq([r[7] for r in rows("list_messages", src, "type=odd", "limit=2")[1:]], ["m1", "m3"])
    ids = [r[0] for r in table[1:]]
    rf.eq(ok("-q", "delete_messages", src, ids[0], ids[1]), "Deleted 2 messages; skipped 0 unacked, 0 no longer in the queue\n")
    rf.eq(ok("-q", "move_messages", src, dst, "type=even", "max=5"),
          "Moved 2 messages; skipped 0 unacked, 0 no longer in the queue, 0 refused by the target\n")
    rf.eq([r[7] for r in rows("list_messages", src)[1:]], ["m3", "m5"])
    rf.eq([r[7] for r in rows("list_messages", dst)[1:]], ["m2", "m4"])
    for args, reason in (((src, "x"), "'x' is neither a message id nor a condition name=value"),
                         ((src, ids[2], "type=odd"), "give message ids or conditions, not both")):
        p = run("-q", "delete_messages", *args)
        rf.eq((p.returncode, p.stderr.startswith("Error (argument validation): " + reason + "\n")), (64, True), p.stderr)
    p = run("-q", "list_messages", src, "colour=red")
    rf.eq((p.returncode, "unknown filter 'colour'" in p.stderr), (69, True), p.stderr)
    conn.close()


def test_redrive_and_redrive_status():
    roost_only("roostctl's redrive is Roost's")
    conn = rf.connect()
    ch = conn.channel()
    origin, dlq = rf.uniq("ctl-origin"), rf.uniq("ctl-dlq")
    ch.queue_declare(dlq)
    ch.queue_declare(origin, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    for i in range(3):
        ch.basic_publish("", origin, b"d%d" % i)
    for _ in range(3):
        m, _, _ = rf.get_eventually(ch, origin)
        ch.basic_nack(m.delivery_tag, requeue=False)
    rf.wait_message_count(ch, dlq, 3)
    rf.eq(ok("-q", "redrive_status", dlq),
          "No redrive yet\nDead-lettered messages: 3\nqueue\treason\texchange\tmessages\n%s\trejected\t\t3\n" % origin)
    # Three in-memory messages are one page: the run has finished when the command returns.
    rf.eq(ok("-q", "redrive", dlq, "max=2"), "Redrive finished; roostctl redrive_status %s shows its progress\n" % dlq)
    rf.eq(ok("-q", "redrive_status", dlq).splitlines()[0], "Last redrive: finished, moved 2, unroutable 0, refused 0")
    rf.wait_message_count(ch, origin, 2)
    rf.wait_message_count(ch, dlq, 1)
    conn.close()


def test_list_scheduled_and_cancel_scheduled():
    roost_only("roostctl's schedule commands are Roost's")
    conn = rf.connect()
    ch = conn.channel()
    x, q = rf.uniq("ctl-later"), rf.uniq("ctl-due")
    ch.exchange_declare(x, "x-delayed-message", arguments={"x-delayed-type": "direct"})
    ch.queue_declare(q)
    ch.queue_bind(q, x, "k")
    ch.confirm_delivery()
    for name, delay in (("second", 7200000), ("first", 3600000)):
        ch.basic_publish(x, "k", name.encode(), pika.BasicProperties(message_id=name, headers={"x-delay": delay}))
    table = rows("list_scheduled", x)
    rf.eq(table[0], ["id", "due_at", "exchange", "routing_key", "queues", "payload"])
    rf.eq([(r[2], r[3], r[4], r[5]) for r in table[1:]], [(x, "k", "[%s]" % q, "first"), (x, "k", "[%s]" % q, "second")])
    rf.eq([r[5] for r in rows("list_scheduled", "message_id=second")[1:]], ["second"])
    rf.eq(ok("-q", "cancel_scheduled", table[1][0]), "Cancelled 1 scheduled messages\n")
    rf.eq(ok("-q", "cancel_scheduled", "exchange=" + x), "Cancelled 1 scheduled messages\n")
    rf.eq(rows("list_scheduled", x), [])
    conn.close()


# ---------------------------------------------------------------- connections

def test_close_connection_closes_a_pika_connection():
    acc = access_api.Accounts()
    user = acc.user(password="pw")
    acc.permit(user, "/", ".*", ".*", ".*")
    conn = login(user, "pw")
    listed = rows("list_connections", "pid", "user", "state", "vhost")
    rf.eq(listed[0], ["pid", "user", "state", "vhost"])
    mine = [r for r in listed[1:] if r[1] == user]
    rf.eq(len(mine), 1, "connections of %s: %r" % (user, listed))
    rf.eq(mine[0][2:], ["running", "/"])
    rf.eq(ok("close_connection", mine[0][0], "maintenance"),
          "Closing connection %s, reason: maintenance...\n" % mine[0][0])
    closed = None
    deadline = time.monotonic() + 10
    while closed is None:
        assert time.monotonic() < deadline, "the broker did not close the connection within 10 s"
        try:
            conn.process_data_events(time_limit=0.1)
        except pe.ConnectionClosedByBroker as e:
            closed = e
    rf.eq(closed.reply_code, 320)
    assert "maintenance" in closed.reply_text, closed.reply_text
    assert [r for r in rows("list_connections", "user")[1:] if r[0] == user] == []


# ---------------------------------------------------------------- definitions

def test_export_then_import_definitions_round_trip():
    acc = access_api.Accounts()
    user = acc.user(password="round-trip-pw", tags="monitoring")
    vhost = acc.vhost()
    acc.permit(user, vhost, "^rt", ".*", ".*")
    conn = rf.connect(virtual_host=vhost)
    ch = conn.channel()
    ch.exchange_declare("rt-x", "fanout", durable=True)
    ch.queue_declare("rt-q", durable=True, arguments={"x-max-length": 7})
    ch.queue_bind("rt-q", "rt-x")
    conn.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "defs.json")
        rf.eq(ok("export_definitions", path), 'Exporting definitions in JSON to a file at "%s" ...\n' % path)
        with open(path) as f:
            exported = json.load(f)
        rf.eq(json.loads(ok("export_definitions", "-")).keys(), exported.keys())
        assert {"name": vhost} in [{"name": v["name"]} for v in exported["vhosts"]], exported["vhosts"]
        # Gone, then back from the file: the user logs in with the same password.
        acc.delete_user(user)
        acc.delete_vhost(vhost)
        assert row_of(rows("list_vhosts"), vhost) is None
        imported = ok("import_definitions", path)
        assert imported.startswith('Importing definitions in JSON from a file at "%s" ...\n' % path), imported
        acc.users[user] = "round-trip-pw"
        acc.vhosts.append(vhost)
    rf.eq(row_of(rows("list_users"), user), [user, "[monitoring]"])
    assert [user, "^rt", ".*", ".*"] in rows("list_permissions", "-p", vhost)
    rf.eq(rows("list_queues", "-p", vhost, "name", "durable", "arguments")[1:],
          [["rt-q", "true", '[{"x-max-length",7}]']])
    bindings = rows("list_bindings", "-p", vhost)
    assert ["rt-x", "exchange", "rt-q", "queue", "rt-q", "[]"] in bindings, bindings  # pika: key = queue
    login(user, "round-trip-pw", vhost).close()


def test_definitions_files_that_are_missing_or_bad():
    with tempfile.TemporaryDirectory() as tmp:
        missing = os.path.join(tmp, "missing.json")
        p = run("import_definitions", missing)
        rf.eq(p.returncode, 65, p.stderr)
        assert p.stderr.startswith("Error (argument validation): Bad argument: File %s does not exist\n" % missing)
        rf.eq(p.stdout, "")
        p = run("export_definitions", os.path.join(tmp, "no-dir", "x.json"))
        rf.eq(p.returncode, 65, p.stderr)
        assert p.stderr.startswith("Error (argument validation): Bad argument: Directory %s does not exist\n"
                                   % os.path.join(tmp, "no-dir")), p.stderr
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write("{bad")
        p = run("-q", "import_definitions", bad)
        rf.eq(p.returncode, 65, p.stderr)
        assert p.stderr.startswith("Error:\nFailed to deserialise input (format: JSON)"), p.stderr


# ---------------------------------------------------------------- usage, status, the control socket

def test_usage_errors_and_help():
    p = run("set_permissions", "only-a-user")
    rf.eq(p.returncode, 64)
    assert p.stderr.startswith("Error (argument validation): not enough arguments.\n"), p.stderr
    p = run("list_users", "--bogus")
    rf.eq(p.returncode, 64)
    assert p.stderr.startswith("Error (argument validation): Invalid options for this command:\n--bogus : \n"), \
        p.stderr
    p = run("frobnicate")
    rf.eq(p.returncode, 64)
    assert "Command 'frobnicate' not found." in p.stderr, p.stderr
    p = run("help")
    rf.eq(p.returncode, 0)
    for verb in ("add_user", "set_permissions", "list_queues", "import_definitions"):
        assert "   %s " % verb in p.stdout, verb


def test_status_names_the_listeners_and_totals():
    roost_only("Roost's status text")
    out = ok("status")
    assert out.startswith("Status of node "), out
    assert "Interface: 127.0.0.1, port: %d, protocol: amqp, purpose: AMQP 0-9-1\n" % rf.port() in out, out
    assert "Interface: 127.0.0.1, port: %d, protocol: http, purpose: HTTP API\n" % rf.http_port() in out, out
    vhosts = len(rows("list_vhosts")) - 1
    assert "Virtual host count: %d\n" % vhosts in out, out
    assert "Control socket: %s\n" % os.path.join(rf.BROKER.data_path, "roost.ctl") in out, out


def test_no_broker_on_the_data_dir_is_a_clear_error():
    roost_only("Roost's data dir")
    with tempfile.TemporaryDirectory() as empty:
        p = run("list_users", data_dir=empty)
        rf.eq(p.returncode, 69)
        rf.eq(p.stdout, "")
        rf.eq(p.stderr, "Error: unable to perform an operation: no broker is running on data dir %s (no control "
                        "socket at %s/roost.ctl); give roostctl the --data-dir the broker runs with\n" % (empty, empty))
        # A socket file nobody listens on: what a killed broker leaves behind.
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(os.path.join(empty, "roost.ctl"))
        stale.close()
        p = run("add_user", "x", "y", data_dir=empty)
        rf.eq(p.returncode, 69)
        assert p.stderr.startswith("Error: unable to perform an operation: no broker is listening on "), p.stderr
        # The default data dir is ./data, as the broker's.
        p = run("list_users", command=[roostctl_binary()], cwd=empty)
        rf.eq(p.returncode, 69)
        assert "no broker is running on data dir ./data " in p.stderr, p.stderr
    out = ok("-q", "list_users", command=[roostctl_binary()], cwd=os.path.dirname(rf.BROKER.data_path))
    assert "guest\t[administrator]\n" in out, out


def test_control_socket_is_the_brokers_users_only_and_goes_with_the_broker():
    roost_only("Roost's control socket")
    path = os.path.join(rf.BROKER.data_path, "roost.ctl")
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode), oct(st.st_mode)
    rf.eq(oct(stat.S_IMODE(st.st_mode)), oct(0o600))
    rf.eq(st.st_uid, os.geteuid())
    if os.geteuid() == 0:  # another user may not use it (root may: it is not refused by modes)
        nobody = subprocess.run(ctl_command(None) + ["list_users"], capture_output=True, text=True,
                                timeout=CTL_TIMEOUT, preexec_fn=lambda: os.setuid(65534))
        rf.eq(nobody.returncode, 69)
        assert "permission denied" in nobody.stderr, nobody.stderr
    # A second broker: its socket replaces a stale one, and is removed when it stops.
    data_dir = rf.new_data_dir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.path.join(data_dir, "roost.ctl"))
    stale.close()
    b = rf.start_broker(data_dir=data_dir)
    assert "guest\t[administrator]\n" in ok("-q", "list_users", data_dir=data_dir)
    rf.stop_broker_clean(b)
    assert not os.path.exists(os.path.join(data_dir, "roost.ctl")), os.listdir(data_dir)
    p = run("list_users", data_dir=data_dir)
    rf.eq(p.returncode, 69)


def test_a_data_dir_too_long_for_a_socket_address_still_works():
    roost_only("Roost's control socket")
    deep = rf.new_data_dir()
    for _ in range(3):
        deep = os.path.join(deep, "d" * 40)
    os.makedirs(deep)
    assert len(os.path.join(deep, "roost.ctl")) > 108
    rf.start_broker(data_dir=deep)
    assert "guest\t[administrator]\n" in ok("-q", "list_users", data_dir=deep)


if __name__ == "__main__":
    rf.main()

"""Access control over AMQP as RabbitMQ 3.10 does it, driven by pika (plus raw frames where
the exact frame matters, py-amqp for AMQPLAIN; update-secret is in test_update_secret.py).

Users, vhosts, permissions, topic permissions and limits are set up through the management
HTTP API on RabbitMQ's paths (access_api.py), so the file runs unchanged against a private
RabbitMQ node (run_against_rabbitmq.sh). Every refusal is checked with its exact code and text:
logins, vhost access, each row of the access-control table, the default exchange and Direct
Reply-to, topic permissions, user_id, vhost and user limits, changes to permissions on open
connections, deleted users and vhosts.
"""
import ast
import os
import re
import struct
import subprocess
import time

import pika
import pika.exceptions as pe

import access_api
import raw_amqp as raw
import roost_fixture as rf

LOGIN_REFUSED = ("ACCESS_REFUSED - Login was refused using authentication mechanism %s. "
                 "For details see the broker logfile.")


# ---------------------------------------------------------------- helpers

def no_access(kind, name, vhost, user):
    return "ACCESS_REFUSED - access to %s '%s' in vhost '%s' refused for user '%s'" % (kind, name, vhost, user)


def no_topic_access(key, exchange, vhost, user):
    return ("ACCESS_REFUSED - access to topic '%s' in exchange '%s' in vhost '%s' refused for user '%s'"
            % (key, exchange, vhost, user))


DEFAULT_EXCHANGE = "ACCESS_REFUSED - operation not permitted on the default exchange"


def connect_as(acc, user, vhost="/", **kw):
    return rf.connect(credentials=pika.PlainCredentials(user, acc.password(user)), virtual_host=vhost, **kw)


def pika_refusal(**kw):
    """Open a pika connection the broker must refuse. Returns (pika exception type, code, text):
    pika reports a close during the handshake as ProbableAuthenticationError (at start-ok) or
    ProbableAccessDeniedError (at open), wrapping the broker's connection.close in its message."""
    try:
        conn = pika.BlockingConnection(rf.params(**kw))
    except (pe.ProbableAuthenticationError, pe.ProbableAccessDeniedError) as e:
        m = re.match(r"ConnectionClosedByBroker: \((\d+)\) (.*)$", str(e.args[0]), re.S)
        assert m, "pika did not pass on the broker's connection.close: %r" % (e.args,)
        return type(e), int(m.group(1)), ast.literal_eval(m.group(2))
    conn.close()
    raise AssertionError("the broker accepted a connection it should refuse (%r)" % (kw,))


def raw_start_ok(user, password, port=None, host=rf.HOST, failure_close=True):
    """A raw connection up to and including connection.start-ok (PLAIN), announcing the
    authentication_failure_close capability or not."""
    c = rf.track(raw.RawConnection(port or rf.port(), host=host))
    c.send(raw.PROTOCOL_HEADER)
    c.expect_method(0, raw.CONNECTION_START)
    caps = [("authentication_failure_close", "t", True)] if failure_close else []
    props = raw.table([("product", "S", "roost-access-test"), ("capabilities", "F", caps)])
    response = b"\x00" + user.encode() + b"\x00" + password.encode()
    c.send_method(0, raw.CONNECTION_START_OK,
                  props + raw.shortstr("PLAIN") + raw.longstr(response) + raw.shortstr("en_US"))
    return c


def raw_tuned(user, password, **kw):
    c = raw_start_ok(user, password, **kw)
    c.expect_method(0, raw.CONNECTION_TUNE)
    c.send_method(0, raw.CONNECTION_TUNE_OK, struct.pack(">HIH", 2047, 131072, 0))
    return c


def raw_open_refused(user, password, vhost, code, text):
    """connection.open must be answered by connection.close(code, text) naming connection.open."""
    c = raw_tuned(user, password)
    c.send_method(0, raw.CONNECTION_OPEN, raw.shortstr(vhost) + raw.shortstr("") + raw.bits(False))
    got = c.expect_connection_close()
    rf.check_reply(got[0], got[1], code, text)
    rf.eq(got[2:], (10, 40), "class/method of the refusal")
    c.send_close_ok()


def closed_silently(c, timeout=10):
    """The broker closes the socket without sending a frame."""
    try:
        f = c.read_frame(timeout)
    except raw.ServerClosedSocket:
        return
    raise AssertionError("expected the socket to be closed without a frame, got %r" % (f,))


def wait_closed_by_broker(conn, timeout=10.0):
    """Process events until the broker closes the connection; returns (code, text)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn.process_data_events(time_limit=0.1)
        except pe.ConnectionClosedByBroker as e:
            return e.reply_code, e.reply_text
    raise AssertionError("the broker did not close the connection within %.0fs" % timeout)


def connect_eventually(acc, user, vhost, timeout=5.0):
    """RabbitMQ forgets a closed connection for its limits asynchronously: retry (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect_as(acc, user, vhost)
        except pe.ProbableAccessDeniedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Scene:
    """A fresh vhost; guest (every permission there) for fixtures, on `admin`; a user with the
    given permissions, on `conn`. Everything is deleted after the test."""

    def __init__(self, configure, write, read, tags=""):
        self.acc = access_api.Accounts()
        self.vhost = self.acc.vhost()
        self.acc.permit("guest", self.vhost, ".*", ".*", ".*")
        self.user = self.acc.user(tags=tags)
        self.acc.permit(self.user, self.vhost, configure, write, read)
        self.admin = rf.connect(virtual_host=self.vhost)
        self.ach = self.admin.channel()
        self.conn = connect_as(self.acc, self.user, self.vhost)

    def permit(self, configure, write, read):
        self.acc.permit(self.user, self.vhost, configure, write, read)

    def no_access(self, kind, name):
        return no_access(kind, name, self.vhost, self.user)

    def allowed(self, act):
        """act(channel) on a new channel of the user's connection must succeed."""
        ch = self.conn.channel()
        result = act(ch)
        if ch.is_open:
            ch.close()
        return result

    def refused(self, act, text=None, code=403, prefix=None):
        """act(channel) on a new channel must close it with code and text."""
        ch = self.conn.channel()
        return rf.expect_channel_error(lambda: act(ch), code, text, prefix)

    def publish(self, exchange, key, body=b"m", properties=None):
        """A confirmed publish on a new channel (a refusal closes the channel before the ack)."""
        def act(ch):
            ch.confirm_delivery()
            ch.basic_publish(exchange, key, body, properties)
        return act


def first_global_ipv4():
    """A non-loopback IPv4 address of this machine (first of `ip -4 -o addr show scope global`)."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    return None


# ---------------------------------------------------------------- login

def test_wrong_password_and_unknown_user_get_the_same_403_with_authentication_failure_close():
    acc = access_api.Accounts()
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    for who, password in ((user, "not-the-password"), (access_api.short_name("nobody"), "whatever")):
        kind, code, text = pika_refusal(credentials=pika.PlainCredentials(who, password))
        rf.eq(kind, pe.ProbableAuthenticationError, "pika's exception for %s" % who)
        rf.check_reply(code, text, 403, LOGIN_REFUSED % "PLAIN")
        c = raw_start_ok(who, password)
        got = c.expect_connection_close()
        rf.check_reply(got[0], got[1], 403, LOGIN_REFUSED % "PLAIN")
        rf.eq(got[2:], (0, 0), "class/method of the login refusal")
        c.send_close_ok()
        closed_silently(c)
    # The right password still works.
    connect_as(acc, user).channel().queue_declare("", exclusive=True)


def test_login_refused_over_amqplain_names_the_mechanism():
    import amqp
    acc = access_api.Accounts()
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    for who, password in ((user, "wrong"), (access_api.short_name("nobody"), "wrong")):
        c = amqp.Connection("%s:%d" % (rf.HOST, rf.port()), userid=who, password=password,
                            login_method="AMQPLAIN", connect_timeout=10)
        try:
            c.connect()
        except amqp.exceptions.AccessRefused as e:
            rf.check_reply(e.reply_code, e.reply_text, 403, LOGIN_REFUSED % "AMQPLAIN")
            rf.eq(e.method_sig, (0, 0), "class/method")
        else:
            c.close()
            raise AssertionError("AMQPLAIN login of %s with a wrong password was accepted" % who)
    c = amqp.Connection("%s:%d" % (rf.HOST, rf.port()), userid=user, password=acc.password(user),
                        login_method="AMQPLAIN", connect_timeout=10)
    c.connect()
    c.close()


def test_refused_login_without_authentication_failure_close_just_drops_the_socket():
    # RabbitMQ sends nothing to a client that did not announce the capability; it resets
    # the socket (after ~3 s). Same for a user that does not exist.
    acc = access_api.Accounts()
    user = acc.user()
    for who in (user, access_api.short_name("nobody")):
        closed_silently(raw_start_ok(who, "wrong", failure_close=False))


def test_guest_only_from_loopback_while_other_users_log_in_from_anywhere():
    if rf.external():
        remote = os.environ.get("ROOST_EXTERNAL_REMOTE")
        if not remote:
            rf.skip("ROOST_EXTERNAL_REMOTE (<address>:<port> of the external broker on a non-loopback "
                    "address) is not set")
        host, port = remote.rsplit(":", 1)
        port = int(port)
        loopback_port = rf.port()
        acc = access_api.Accounts()
    else:
        host = first_global_ipv4()
        if host is None:
            rf.skip("this machine has no non-loopback IPv4 address (ip -4 -o addr show scope global)")
        b = rf.start_broker(bind="0.0.0.0")
        port = loopback_port = b.port
        acc = access_api.Accounts(port=b.http_port)
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    kind, code, text = pika_refusal(host=host, port=port)  # guest/guest
    rf.eq(kind, pe.ProbableAuthenticationError, "pika's exception")
    rf.check_reply(code, text, 403, LOGIN_REFUSED % "PLAIN")
    c = raw_start_ok("guest", "guest", port=port, host=host)
    got = c.expect_connection_close()
    rf.check_reply(got[0], got[1], 403, LOGIN_REFUSED % "PLAIN")
    remote_user = rf.connect(host=host, port=port, credentials=pika.PlainCredentials(user, acc.password(user)))
    remote_user.channel().queue_declare("", exclusive=True)
    local_guest = rf.connect(port=loopback_port)  # guest over loopback, same broker
    local_guest.channel().queue_declare("", exclusive=True)


# ---------------------------------------------------------------- vhosts

def test_vhost_without_permissions_and_unknown_vhost_are_530():
    acc = access_api.Accounts()
    user = acc.user()
    vh = acc.vhost()
    text = "NOT_ALLOWED - access to vhost '%s' refused for user '%s'" % (vh, user)
    kind, code, got = pika_refusal(credentials=pika.PlainCredentials(user, acc.password(user)), virtual_host=vh)
    rf.eq(kind, pe.ProbableAccessDeniedError, "pika's exception")
    rf.check_reply(code, got, 530, text)
    raw_open_refused(user, acc.password(user), vh, 530, text)
    missing = access_api.short_name("no-such-vhost")
    raw_open_refused(user, acc.password(user), missing, 530, "NOT_ALLOWED - vhost %s not found" % missing)
    # Permissions in one vhost open that one only.
    acc.permit(user, vh, "", "", "")
    connect_as(acc, user, vh).channel()
    raw_open_refused(user, acc.password(user), "/", 530,
                     "NOT_ALLOWED - access to vhost '/' refused for user '%s'" % user)


# ---------------------------------------------------------------- the access-control table

def test_exchange_declare_needs_configure_and_for_an_alternate_exchange_read_then_write():
    s = Scene("^c", "^w", "^(cr|r)\\.")
    s.refused(lambda ch: ch.exchange_declare("x.none", "direct"), s.no_access("exchange", "x.none"))
    s.allowed(lambda ch: ch.exchange_declare("c.plain", "direct"))
    # A new exchange with an alternate exchange: read on it first, then write on the other.
    s.refused(lambda ch: ch.exchange_declare("c.ae", "direct", arguments={"alternate-exchange": "w.ae"}),
              s.no_access("exchange", "c.ae"))
    s.refused(lambda ch: ch.exchange_declare("c.ae", "direct", arguments={"alternate-exchange": "r.ae"}),
              s.no_access("exchange", "c.ae"))
    s.refused(lambda ch: ch.exchange_declare("cr.ae", "direct", arguments={"alternate-exchange": "r.ae"}),
              s.no_access("exchange", "r.ae"))
    s.allowed(lambda ch: ch.exchange_declare("cr.ae", "direct", arguments={"alternate-exchange": "w.ae"}))
    # An alternate exchange that is not a string is refused before the read check.
    s.refused(lambda ch: ch.exchange_declare("c.int", "direct", arguments={"alternate-exchange": 5}),
              "PRECONDITION_FAILED - invalid type 'signedint' for arg 'alternate-exchange' in exchange 'c.int' in "
              "vhost '%s'" % s.vhost, code=406)
    # Redeclaring an existing exchange checks configure only.
    s.ach.exchange_declare("c.exists", "direct", arguments={"alternate-exchange": "nowhere"})
    s.allowed(lambda ch: ch.exchange_declare("c.exists", "direct", arguments={"alternate-exchange": "nowhere"}))
    # The default exchange is refused before any permission; amq.* names after configure.
    s.refused(lambda ch: ch.exchange_declare("", "direct"), DEFAULT_EXCHANGE)
    s.refused(lambda ch: ch.exchange_declare("amq.x", "direct"), s.no_access("exchange", "amq.x"))
    s.permit("^(c|amq)", "^w", "^(cr|r)\\.")
    s.refused(lambda ch: ch.exchange_declare("amq.x", "direct"),
              "ACCESS_REFUSED - exchange name 'amq.x' contains reserved prefix 'amq.*'")
    s.allowed(lambda ch: ch.exchange_declare("amq.direct", "direct", durable=True))  # exists: compared
    # The type comes before everything: an unknown one is a connection error even without configure.
    other = connect_as(s.acc, s.user, s.vhost)
    rf.expect_connection_error(lambda: other.channel().exchange_declare("x.none", "nosuchtype"), 503,
                               "COMMAND_INVALID - unknown exchange type 'nosuchtype'")


def test_queue_declare_needs_configure_and_for_a_dead_letter_exchange_read_then_write():
    s = Scene("^c", "^w", "^(cr|r)\\.")
    s.refused(lambda ch: ch.queue_declare("x.none"), s.no_access("queue", "x.none"))
    s.allowed(lambda ch: ch.queue_declare("c.plain"))
    s.refused(lambda ch: ch.queue_declare("c.dlx", arguments={"x-dead-letter-exchange": "w.dlx"}),
              s.no_access("queue", "c.dlx"))
    s.refused(lambda ch: ch.queue_declare("cr.dlx", arguments={"x-dead-letter-exchange": "r.dlx"}),
              s.no_access("exchange", "r.dlx"))
    s.allowed(lambda ch: ch.queue_declare("cr.dlx", arguments={"x-dead-letter-exchange": "w.dlx"}))
    s.refused(lambda ch: ch.queue_declare("c.int", arguments={"x-dead-letter-exchange": 5}),
              "PRECONDITION_FAILED - invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'c.int' in "
              "vhost '%s'" % s.vhost, code=406)
    # A dead-letter exchange "" is the default exchange, checked as amq.default.
    s.refused(lambda ch: ch.queue_declare("cr.dlx-default", arguments={"x-dead-letter-exchange": ""}),
              s.no_access("exchange", "amq.default"))
    s.ach.queue_declare("c.exists", arguments={"x-dead-letter-exchange": "nowhere"})
    s.allowed(lambda ch: ch.queue_declare("c.exists", arguments={"x-dead-letter-exchange": "nowhere"}))
    # A server-named queue is checked under the name it gets.
    err = s.refused(lambda ch: ch.queue_declare(""), prefix="ACCESS_REFUSED - access to queue 'amq.gen-")
    assert err.reply_text.endswith("' in vhost '%s' refused for user '%s'" % (s.vhost, s.user)), err.reply_text
    # amq.* names are refused before configure is looked at, even for a queue that exists.
    reserved = "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'"
    s.refused(lambda ch: ch.queue_declare("amq.q"), reserved)
    s.permit("^(c|amq\\.)", "^w", "^(cr|r)\\.")
    s.refused(lambda ch: ch.queue_declare("amq.q"), reserved)
    generated = s.allowed(lambda ch: ch.queue_declare("").method.queue)
    assert generated.startswith("amq.gen-"), generated
    s.refused(lambda ch: ch.queue_declare(generated),
              "ACCESS_REFUSED - queue name '%s' contains reserved prefix 'amq.*'" % generated)
    s.allowed(lambda ch: ch.queue_declare(generated, passive=True))


def test_passive_declares_need_no_permission():
    s = Scene("", "", "")
    s.ach.exchange_declare("x.exists", "topic")
    s.ach.queue_declare("q.exists")
    s.allowed(lambda ch: ch.exchange_declare("x.exists", passive=True))
    s.allowed(lambda ch: ch.exchange_declare("amq.topic", passive=True))
    s.allowed(lambda ch: ch.queue_declare("q.exists", passive=True))
    s.refused(lambda ch: ch.queue_declare("q.none", passive=True), "NOT_FOUND - no queue 'q.none' in vhost '%s'"
              % s.vhost, code=404)
    s.refused(lambda ch: ch.exchange_declare("x.none", passive=True),
              "NOT_FOUND - no exchange 'x.none' in vhost '%s'" % s.vhost, code=404)
    s.refused(lambda ch: ch.exchange_declare("amq.default", passive=True),
              "NOT_FOUND - no exchange 'amq.default' in vhost '%s'" % s.vhost, code=404)
    s.refused(lambda ch: ch.exchange_declare("", passive=True), DEFAULT_EXCHANGE)


def test_deletes_need_configure_even_of_missing_ones():
    s = Scene("^c", ".*", ".*")
    s.ach.exchange_declare("c.x", "direct")
    s.ach.exchange_declare("x.x", "direct")
    s.ach.queue_declare("c.q")
    s.ach.queue_declare("x.q")
    s.refused(lambda ch: ch.queue_delete("x.q"), s.no_access("queue", "x.q"))
    s.refused(lambda ch: ch.queue_delete("x.none"), s.no_access("queue", "x.none"))
    s.allowed(lambda ch: ch.queue_delete("c.none"))
    s.allowed(lambda ch: ch.queue_delete("c.q"))
    s.refused(lambda ch: ch.exchange_delete("x.x"), s.no_access("exchange", "x.x"))
    s.refused(lambda ch: ch.exchange_delete("x.none"), s.no_access("exchange", "x.none"))
    s.allowed(lambda ch: ch.exchange_delete("c.none"))
    s.allowed(lambda ch: ch.exchange_delete("c.x"))
    # Checked before configure: the default exchange, then amq.* names.
    s.refused(lambda ch: ch.exchange_delete(""), DEFAULT_EXCHANGE)
    s.refused(lambda ch: ch.exchange_delete("amq.direct"),
              "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '%s' not allowed" % s.vhost)
    s.refused(lambda ch: ch.exchange_delete("amq.none"),
              "ACCESS_REFUSED - deletion of system exchange 'amq.none' in vhost '%s' not allowed" % s.vhost)
    rf.eq(s.ach.queue_declare("x.q", passive=True).method.queue, "x.q", "undeleted queue")
    s.ach.exchange_declare("x.x", passive=True)


def test_bindings_need_write_on_the_destination_and_read_on_the_source():
    s = Scene(".*", "^w", "^r")
    for x in ("r.x", "w.x", "w.d", "r.d"):
        s.ach.exchange_declare(x, "direct")
    for q in ("w.q", "r.q"):
        s.ach.queue_declare(q)
    s.allowed(lambda ch: ch.queue_bind("w.q", "r.x", "k"))
    s.allowed(lambda ch: ch.queue_unbind("w.q", "r.x", "k"))
    s.refused(lambda ch: ch.queue_bind("r.q", "r.x", "k"), s.no_access("queue", "r.q"))
    s.refused(lambda ch: ch.queue_unbind("r.q", "r.x", "k"), s.no_access("queue", "r.q"))
    s.refused(lambda ch: ch.queue_bind("w.q", "w.x", "k"), s.no_access("exchange", "w.x"))
    s.refused(lambda ch: ch.queue_unbind("w.q", "w.x", "k"), s.no_access("exchange", "w.x"))
    s.refused(lambda ch: ch.queue_bind("r.q", "w.x", "k"), s.no_access("queue", "r.q"))  # destination first
    s.allowed(lambda ch: ch.exchange_bind("w.d", "r.x", "k"))
    s.allowed(lambda ch: ch.exchange_unbind("w.d", "r.x", "k"))
    s.refused(lambda ch: ch.exchange_bind("r.d", "r.x", "k"), s.no_access("exchange", "r.d"))
    s.refused(lambda ch: ch.exchange_unbind("r.d", "r.x", "k"), s.no_access("exchange", "r.d"))
    s.refused(lambda ch: ch.exchange_bind("w.d", "w.x", "k"), s.no_access("exchange", "w.x"))
    s.refused(lambda ch: ch.exchange_unbind("w.d", "w.x", "k"), s.no_access("exchange", "w.x"))
    # The default exchange: refused after the write check on the destination, before the read
    # check on the source (the user may not read amq.default either).
    s.refused(lambda ch: ch.queue_bind("w.q", "", "k"), DEFAULT_EXCHANGE)
    s.refused(lambda ch: ch.queue_unbind("w.q", "", "k"), DEFAULT_EXCHANGE)
    s.refused(lambda ch: ch.exchange_bind("w.d", "", "k"), DEFAULT_EXCHANGE)
    s.refused(lambda ch: ch.exchange_bind("", "r.x", "k"), s.no_access("exchange", "amq.default"))
    s.permit(".*", "^(w|amq\\.default$)", "^r")
    s.refused(lambda ch: ch.exchange_bind("", "r.x", "k"), DEFAULT_EXCHANGE)
    # Unbinding what is not bound, from a queue that does not exist, still needs the permissions.
    s.refused(lambda ch: ch.queue_unbind("r.none", "r.x", "k"), s.no_access("queue", "r.none"))
    s.allowed(lambda ch: ch.queue_unbind("w.none", "r.x", "k"))


def test_publish_needs_write_on_the_exchange():
    s = Scene(".*", "^w", ".*")
    s.ach.exchange_declare("w.x", "fanout")
    s.ach.exchange_declare("w.internal", "fanout", internal=True)
    s.ach.queue_declare("w.q")
    s.ach.queue_bind("w.q", "w.x")
    s.allowed(s.publish("w.x", "k", b"allowed"))
    s.refused(s.publish("amq.direct", "k"), s.no_access("exchange", "amq.direct"))
    s.refused(s.publish("x.none", "k"), s.no_access("exchange", "x.none"))  # permission before existence
    s.refused(s.publish("w.none", "k"), "NOT_FOUND - no exchange 'w.none' in vhost '%s'" % s.vhost, code=404)
    s.refused(s.publish("w.internal", "k"),
              "ACCESS_REFUSED - cannot publish to internal exchange 'w.internal' in vhost '%s'" % s.vhost)

    # Without confirms the refusal arrives asynchronously and closes the channel all the same.
    def unconfirmed(ch):
        ch.basic_publish("amq.fanout", "k", b"refused")
        ch.queue_declare("w.q", passive=True)
    s.refused(unconfirmed, s.no_access("exchange", "amq.fanout"))
    rf.eq([b for b, _ in rf.drain_bodies(s.ach, "w.q")], [b"allowed"], "messages that got through")


def test_get_consume_and_purge_need_read_on_the_queue():
    s = Scene(".*", ".*", "^r")
    for q in ("r.q", "w.q"):
        s.ach.queue_declare(q)
        s.ach.basic_publish("", q, b"m")
    rf.eq(s.allowed(lambda ch: rf.get_eventually(ch, "r.q", auto_ack=True)[2]), b"m", "get")
    s.allowed(lambda ch: ch.basic_consume("r.q", lambda *a: None))
    s.allowed(lambda ch: ch.queue_purge("r.q"))
    s.refused(lambda ch: ch.basic_get("w.q"), s.no_access("queue", "w.q"))
    s.refused(lambda ch: ch.basic_consume("w.q", lambda *a: None), s.no_access("queue", "w.q"))
    s.refused(lambda ch: ch.queue_purge("w.q"), s.no_access("queue", "w.q"))
    s.refused(lambda ch: ch.basic_get("w.none"), s.no_access("queue", "w.none"))
    s.refused(lambda ch: ch.basic_get("r.none"), "NOT_FOUND - no queue 'r.none' in vhost '%s'" % s.vhost, code=404)
    rf.eq(s.ach.queue_declare("w.q", passive=True).method.message_count, 1, "w.q untouched")


def test_default_exchange_is_checked_as_amq_default():
    # RabbitMQ's access control checks the default exchange under the name amq.default, so
    # the empty expression (RabbitMQ's "^$") does not grant publishing to it.
    s = Scene(".*", "", ".*")
    s.ach.queue_declare("q")
    for write in ("", "^$", "^q$"):
        s.permit(".*", write, ".*")
        s.refused(s.publish("", "q"), s.no_access("exchange", "amq.default"))
    s.permit(".*", "^amq\\.default$", ".*")
    s.allowed(s.publish("", "q", b"via the default exchange"))
    rf.eq(rf.get_eventually(s.ach, "q", auto_ack=True)[2], b"via the default exchange", "routed to q")
    # Naming amq.default on the wire is not the default exchange: there is no such exchange.
    s.refused(s.publish("amq.default", "q"), "NOT_FOUND - no exchange 'amq.default' in vhost '%s'" % s.vhost,
              code=404)


def test_direct_reply_to_consume_needs_no_permission_and_replies_need_write_on_amq_default():
    s = Scene("", "^w", "")
    s.ach.exchange_declare("w.requests", "fanout")
    s.ach.queue_declare("requests")
    s.ach.queue_bind("requests", "w.requests")
    ch = s.conn.channel()
    ch.confirm_delivery()
    replies = []
    ch.basic_consume("amq.rabbitmq.reply-to", lambda c, m, p, b: replies.append(b), auto_ack=True)
    rf.eq(ch.queue_declare("amq.rabbitmq.reply-to", passive=True).method.queue, "amq.rabbitmq.reply-to",
          "passive declare of the pseudo-queue")
    ch.basic_publish("w.requests", "", b"request", pika.BasicProperties(reply_to="amq.rabbitmq.reply-to"))
    m, props, body = rf.get_eventually(s.ach, "requests", auto_ack=True)
    rf.eq(body, b"request", "request")
    assert props.reply_to.startswith("amq.rabbitmq.reply-to."), props.reply_to
    s.ach.basic_publish("", props.reply_to, b"reply")  # guest may write to amq.default
    rf.wait_until(s.conn, lambda: replies, 10, "the reply")
    rf.eq(replies, [b"reply"], "replies")
    # The user's own reply to that address goes through the default exchange: write on amq.default.
    s.refused(s.publish("", props.reply_to), s.no_access("exchange", "amq.default"))


# ---------------------------------------------------------------- topic permissions

def test_topic_permissions_on_publish_expand_username_and_vhost():
    acc = access_api.Accounts()
    user = acc.user()
    vhosts = [acc.vhost(), acc.vhost()]
    for vh in vhosts:
        acc.permit(user, vh, ".*", ".*", ".*")
        acc.topic(user, vh, "amq.topic", "^{username}\\.|^{vhost}\\.", "^{vhost}\\.r")
    for vh, other in (vhosts, vhosts[::-1]):
        conn = connect_as(acc, user, vh)
        ch = conn.channel()
        ch.confirm_delivery()
        ch.exchange_declare("other.topic", "topic")
        ch.basic_publish("amq.topic", user + ".x", b"m")
        ch.basic_publish("amq.topic", vh + ".x", b"m")
        ch.basic_publish("amq.direct", "anything", b"m")  # not a topic exchange
        ch.basic_publish("other.topic", "anything", b"m")  # no topic permissions there
        for key in ("anything", other + ".x", "x." + user):
            ch = conn.channel()
            ch.confirm_delivery()
            rf.expect_channel_error(lambda: ch.basic_publish("amq.topic", key, b"m"), 403,
                                    no_topic_access(key, "amq.topic", vh, user))
        # In a transaction the routing key is refused at the publish, as without one.
        ch = conn.channel()
        ch.tx_select()
        ch.basic_publish("amq.topic", "anything", b"m")
        rf.expect_channel_error(ch.tx_commit, 403, no_topic_access("anything", "amq.topic", vh, user))


def test_topic_permissions_on_bindings_are_read_on_the_routing_key():
    acc = access_api.Accounts()
    user = acc.user()
    vh = acc.vhost()
    acc.permit(user, vh, ".*", ".*", ".*")
    acc.topic(user, vh, "amq.topic", "", "^{vhost}\\.r\\.")
    conn = connect_as(acc, user, vh)
    ch = conn.channel()
    ch.queue_declare("q")
    ch.exchange_declare("dest", "fanout")
    ok_key = vh + ".r.x"
    ch.queue_bind("q", "amq.topic", ok_key)
    ch.queue_unbind("q", "amq.topic", ok_key)
    ch.exchange_bind("dest", "amq.topic", ok_key)
    ch.exchange_unbind("dest", "amq.topic", ok_key)
    ch.queue_bind("q", "amq.direct", "anything")
    text = no_topic_access("other.r.x", "amq.topic", vh, user)
    for act in (lambda c: c.queue_bind("q", "amq.topic", "other.r.x"),
                lambda c: c.queue_unbind("q", "amq.topic", "other.r.x"),
                lambda c: c.exchange_bind("dest", "amq.topic", "other.r.x"),
                lambda c: c.exchange_unbind("dest", "amq.topic", "other.r.x")):
        c = conn.channel()
        rf.expect_channel_error(lambda: act(c), 403, text)
    # The write expression is "": only the empty routing key may be published.
    c = conn.channel()
    c.confirm_delivery()
    c.basic_publish("amq.topic", "", b"m")
    rf.expect_channel_error(lambda: c.basic_publish("amq.topic", ok_key, b"m"), 403,
                            no_topic_access(ok_key, "amq.topic", vh, user))


def test_topic_permission_variables_are_substituted_without_escaping():
    # {username} goes into the expression as it is: the dot in "t.<hex>" matches any character.
    acc = access_api.Accounts()
    tag = os.urandom(4).hex()
    user = acc.user(name="t.%s" % tag)
    vh = acc.vhost()
    acc.permit(user, vh, ".*", ".*", ".*")
    acc.topic(user, vh, "amq.topic", "^{username}$", ".*")
    conn = connect_as(acc, user, vh)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("amq.topic", "t.%s" % tag, b"m")
    ch.basic_publish("amq.topic", "tX%s" % tag, b"m")
    rf.expect_channel_error(lambda: ch.basic_publish("amq.topic", "t.%s.x" % tag, b"m"), 403,
                            no_topic_access("t.%s.x" % tag, "amq.topic", vh, user))


# ---------------------------------------------------------------- user_id

def test_user_id_must_be_the_user_unless_it_has_the_impersonator_tag():
    s = Scene(".*", "^(w|amq\\.default$)", ".*")
    s.ach.queue_declare("q")
    s.allowed(s.publish("", "q", b"own", pika.BasicProperties(user_id=s.user)))
    s.allowed(s.publish("", "q", b"none"))
    claimed = "PRECONDITION_FAILED - user_id property set to 'guest' but authenticated user was '%s'" % s.user
    s.refused(s.publish("", "q", b"x", pika.BasicProperties(user_id="guest")), claimed, code=406)
    # RabbitMQ checks user_id after write on the exchange, its existence, and topic permissions,
    # and before the expiration.
    s.refused(s.publish("amq.direct", "q", b"x", pika.BasicProperties(user_id="guest")),
              s.no_access("exchange", "amq.direct"))
    s.refused(s.publish("w.none", "q", b"x", pika.BasicProperties(user_id="guest")),
              "NOT_FOUND - no exchange 'w.none' in vhost '%s'" % s.vhost, code=404)
    s.refused(s.publish("", "q", b"x", pika.BasicProperties(user_id="guest", expiration="soon")), claimed, code=406)
    s.refused(s.publish("", "q", b"x", pika.BasicProperties(user_id=s.user, expiration="soon")),
              "PRECONDITION_FAILED - invalid expiration 'soon': no_integer", code=406)
    acc = s.acc
    impersonator = acc.user(tags="impersonator")
    administrator = acc.user(tags="administrator")
    for u in (impersonator, administrator):
        acc.permit(u, s.vhost, ".*", ".*", ".*")
    ch = connect_as(acc, impersonator, s.vhost).channel()
    ch.confirm_delivery()
    ch.basic_publish("", "q", b"impersonated", pika.BasicProperties(user_id="guest"))
    admin_conn = connect_as(acc, administrator, s.vhost)

    def claims_guest(conn, who):
        c = conn.channel()
        c.confirm_delivery()
        rf.expect_channel_error(lambda: c.basic_publish("", "q", b"x", pika.BasicProperties(user_id="guest")), 406,
                                "PRECONDITION_FAILED - user_id property set to 'guest' but authenticated user was "
                                "'%s'" % who)
    claims_guest(admin_conn, administrator)
    # Tags are read at login: a change applies to connections opened after it.
    acc.user(name=impersonator, password=acc.password(impersonator), tags="")
    acc.user(name=administrator, password=acc.password(administrator), tags="impersonator")
    ch.basic_publish("", "q", b"still impersonating", pika.BasicProperties(user_id="guest"))
    claims_guest(admin_conn, administrator)
    claims_guest(connect_as(acc, impersonator, s.vhost), impersonator)
    later = connect_as(acc, administrator, s.vhost).channel()
    later.confirm_delivery()
    later.basic_publish("", "q", b"newly impersonating", pika.BasicProperties(user_id="guest"))
    got = [(b, p.user_id) for b, p in rf.drain_bodies(s.ach, "q")]
    rf.eq(got, [(b"own", s.user), (b"none", None), (b"impersonated", "guest"), (b"still impersonating", "guest"),
                (b"newly impersonating", "guest")], "delivered with user_id")


# ---------------------------------------------------------------- changes on open connections

def publish_until_refused(conn, ch, exchange, timeout=10.0):
    """Publish (confirmed) on ch until the broker refuses; returns how many attempts it took.
    RabbitMQ's channel caches its last positive permission checks and forgets them only
    when it hibernates, after ~1 s without traffic: so between attempts the channel is left
    idle for longer and longer (there is no event to wait for)."""
    deadline = time.monotonic() + timeout
    idle = 0.2
    attempts = 0
    while True:
        attempts += 1
        try:
            ch.basic_publish(exchange, "k", b"m")
        except pe.ChannelClosedByBroker as e:
            return attempts, e
        if time.monotonic() > deadline:
            raise AssertionError("publishing to %s still allowed %.0fs after the permission was revoked"
                                 % (exchange, timeout))
        rf.drain(conn, idle)
        idle = min(idle * 2, 3.0)


def test_changed_permissions_apply_to_open_channels():
    s = Scene(".*", ".*", ".*")
    s.ach.exchange_declare("a.x", "fanout")
    s.ach.exchange_declare("b.x", "fanout")
    busy = s.conn.channel()
    busy.confirm_delivery()
    busy.basic_publish("a.x", "k", b"m")
    s.permit(".*", "^b", ".*")
    # A check this channel has not made yet sees the change at once.
    rf.expect_channel_error(lambda: busy.basic_publish("amq.fanout", "k", b"m"), 403,
                            s.no_access("exchange", "amq.fanout"))
    s.refused(s.publish("a.x", "k"), s.no_access("exchange", "a.x"))
    s.allowed(s.publish("b.x", "k"))
    # One it made before: RabbitMQ keeps the answer until the channel has been idle for ~1 s;
    # Roost drops it at the change.
    again = s.conn.channel()
    again.confirm_delivery()
    s.permit(".*", ".*", ".*")
    again.basic_publish("a.x", "k", b"m")
    s.permit(".*", "^b", ".*")
    attempts, err = publish_until_refused(s.conn, again, "a.x")
    rf.check_reply(err.reply_code, err.reply_text, 403, s.no_access("exchange", "a.x"))
    if not rf.external():
        rf.eq(attempts, 1, "publishes until Roost refused")
    # Granting applies to the next operation too.
    s.permit(".*", "^a", ".*")
    s.allowed(s.publish("a.x", "k"))
    s.refused(lambda ch: ch.basic_get("q.none"), "NOT_FOUND - no queue 'q.none' in vhost '%s'" % s.vhost, code=404)


def test_cleared_permissions_refuse_new_work_but_keep_the_connection():
    s = Scene(".*", ".*", ".*")
    s.acc.unpermit(s.user, s.vhost)
    s.refused(lambda ch: ch.queue_declare("q"), s.no_access("queue", "q"))
    assert s.conn.is_open, "the connection stays open"
    raw_open_refused(s.user, s.acc.password(s.user), s.vhost, 530,
                     "NOT_ALLOWED - access to vhost '%s' refused for user '%s'" % (s.vhost, s.user))


def test_deleting_a_user_closes_its_connections():
    acc = access_api.Accounts()
    user = acc.user()
    bystander = acc.user()
    for u in (user, bystander):
        acc.permit(u, "/", ".*", ".*", ".*")
    conns = [connect_as(acc, user), connect_as(acc, user)]
    kept = connect_as(acc, bystander)
    acc.delete_user(user)
    for conn in conns:
        code, text = wait_closed_by_broker(conn)
        rf.check_reply(code, text, 320, "CONNECTION_FORCED - user '%s' is deleted" % user)
    kept.channel().queue_declare("", exclusive=True)
    kind, code, text = pika_refusal(credentials=pika.PlainCredentials(user, acc.password(bystander)))
    rf.check_reply(code, text, 403, LOGIN_REFUSED % "PLAIN")


def test_deleting_a_vhost_closes_its_connections():
    acc = access_api.Accounts()
    user = acc.user()
    vh = acc.vhost()
    acc.permit(user, vh, ".*", ".*", ".*")
    acc.permit(user, "/", ".*", ".*", ".*")
    conn = connect_as(acc, user, vh)
    conn.channel().queue_declare("q")
    elsewhere = connect_as(acc, user, "/")
    acc.delete_vhost(vh)
    code, text = wait_closed_by_broker(conn)
    # RabbitMQ closes them from two places that race: the vhost's deletion ("is deleted") and
    # its supervisor stopping ("is down"). Roost says "is deleted".
    deleted = "CONNECTION_FORCED - vhost '%s' is deleted" % vh
    rf.check_reply(code, text, 320)
    assert text in (deleted, "CONNECTION_FORCED - vhost '%s' is down" % vh), text
    if not rf.external():
        rf.eq(text, deleted, "Roost's text")
    elsewhere.channel().queue_declare("", exclusive=True)
    raw_open_refused(user, acc.password(user), vh, 530, "NOT_ALLOWED - vhost %s not found" % vh)


if __name__ == "__main__":
    rf.main()

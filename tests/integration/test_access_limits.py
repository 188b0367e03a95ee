"""Vhost limits (max-connections, max-queues) and user limits (max-connections,
max-channels) over AMQP, as RabbitMQ 3.10 refuses them: codes, texts and the order of
checks. Shares its helpers with test_access_control.py; runs against a private RabbitMQ node
too (run_against_rabbitmq.sh)."""
import pika
import pika.exceptions as pe

import access_api
import raw_amqp as raw
import roost_fixture as rf
from test_access_control import Scene, connect_as, connect_eventually, pika_refusal, raw_open_refused, raw_tuned


# ---------------------------------------------------------------- limits

def test_vhost_max_connections():
    acc = access_api.Accounts()
    vh = acc.vhost()
    users = [acc.user(), acc.user()]
    for u in users:
        acc.permit(u, vh, ".*", ".*", ".*")
    stranger = acc.user()  # no permissions in vh
    acc.vhost_limit(vh, "max-connections", 1)
    first = connect_as(acc, users[0], vh)
    for u in users + [stranger]:  # the limit is checked before permissions
        text = "NOT_ALLOWED - access to vhost '%s' refused for user '%s': connection limit (1) is reached" % (vh, u)
        kind, code, got = pika_refusal(credentials=pika.PlainCredentials(u, acc.password(u)), virtual_host=vh)
        rf.eq(kind, pe.ProbableAccessDeniedError, "pika's exception")
        rf.check_reply(code, got, 530, text)
    raw_open_refused(users[1], acc.password(users[1]), vh, 530,
                     "NOT_ALLOWED - access to vhost '%s' refused for user '%s': connection limit (1) is reached"
                     % (vh, users[1]))
    first.close()
    connect_eventually(acc, users[1], vh)
    acc.vhost_limit(vh, "max-connections", 0)
    kind, code, got = pika_refusal(credentials=pika.PlainCredentials(users[0], acc.password(users[0])),
                                   virtual_host=vh)
    rf.check_reply(code, got, 530, "NOT_ALLOWED - access to vhost '%s' refused for user '%s': connection limit "
                                   "(0) is reached" % (vh, users[0]))
    acc.vhost_limit(vh, "max-connections", -1)
    for _ in range(3):
        connect_as(acc, users[0], vh)


def test_vhost_max_queues():
    s = Scene("^(q|c|amq\\.gen)", "^w", "^q")
    acc = s.acc
    acc.vhost_limit(s.vhost, "max-queues", 2)
    s.allowed(lambda ch: ch.queue_declare("q1"))
    s.allowed(lambda ch: ch.queue_declare("q2", exclusive=True))
    s.allowed(lambda ch: ch.queue_declare("q1"))  # a redeclaration is not a new queue

    def limit(name):
        return "PRECONDITION_FAILED - cannot declare queue '%s': queue limit in vhost '%s' (2) is reached" % (
            name, s.vhost)
    s.refused(lambda ch: ch.queue_declare("q3"), limit("q3"), code=406)
    s.refused(lambda ch: ch.queue_declare("q3", exclusive=True), limit("q3"), code=406)
    err = s.refused(lambda ch: ch.queue_declare(""), code=406, prefix="PRECONDITION_FAILED - cannot declare queue "
                                                                      "'amq.gen-")
    assert err.reply_text.endswith("': queue limit in vhost '%s' (2) is reached" % s.vhost), err.reply_text
    # Order: configure, then the limit, then the dead-letter exchange's permissions.
    s.refused(lambda ch: ch.queue_declare("x.q"), s.no_access("queue", "x.q"))
    s.refused(lambda ch: ch.queue_declare("c.q", arguments={"x-dead-letter-exchange": "nope"}), limit("c.q"),
              code=406)
    s.allowed(lambda ch: ch.queue_declare("q1", passive=True))
    s.ach.queue_delete("q1")
    s.refused(lambda ch: ch.queue_declare("c.q", arguments={"x-dead-letter-exchange": "nope"}),
              s.no_access("queue", "c.q"))
    s.allowed(lambda ch: ch.queue_declare("q3"))
    acc.vhost_limit(s.vhost, "max-queues", 0)
    s.refused(lambda ch: ch.queue_declare("q4"),
              "PRECONDITION_FAILED - cannot declare queue 'q4': queue limit in vhost '%s' (0) is reached" % s.vhost,
              code=406)


def test_user_max_connections():
    acc = access_api.Accounts()
    user = acc.user()
    other = acc.user()
    vhosts = ["/", acc.vhost()]
    for u in (user, other):
        for vh in vhosts:
            acc.permit(u, vh, ".*", ".*", ".*")
    closed_vhost = acc.vhost()  # the user has no permissions there
    acc.user_limit(user, "max-connections", 1)
    first = connect_as(acc, user, vhosts[0])
    text = "NOT_ALLOWED - connection refused for user '%s': user connection limit (1) is reached" % user
    for vh in vhosts + [closed_vhost]:  # across vhosts, and before permissions
        kind, code, got = pika_refusal(credentials=pika.PlainCredentials(user, acc.password(user)), virtual_host=vh)
        rf.eq(kind, pe.ProbableAccessDeniedError, "pika's exception")
        rf.check_reply(code, got, 530, text)
    raw_open_refused(user, acc.password(user), vhosts[1], 530, text)
    connect_as(acc, other, vhosts[1])  # another user is not counted
    # The vhost's limit is checked before the user's.
    acc.vhost_limit(vhosts[1], "max-connections", 0)
    raw_open_refused(user, acc.password(user), vhosts[1], 530,
                     "NOT_ALLOWED - access to vhost '%s' refused for user '%s': connection limit (0) is reached"
                     % (vhosts[1], user))
    first.close()
    connect_eventually(acc, user, vhosts[0])
    acc.user_limit(user, "max-connections", 0)
    kind, code, got = pika_refusal(credentials=pika.PlainCredentials(user, acc.password(user)))
    rf.check_reply(code, got, 530, "NOT_ALLOWED - connection refused for user '%s': user connection limit (0) is "
                                   "reached" % user)


def test_user_max_channels_counts_every_connection_of_the_user():
    acc = access_api.Accounts()
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    acc.user_limit(user, "max-channels", 2)
    text = "NOT_ALLOWED - number of channels opened for user '%s' has reached the maximum allowed user limit " \
           "of (2)" % user
    a = connect_as(acc, user)
    a1 = a.channel()
    a.channel()
    b = connect_as(acc, user)
    rf.expect_connection_error(b.channel, 530, text)
    assert a.is_open, "the connection that holds the channels stays open"
    # The refusal is a connection error that names no method.
    c = raw_tuned(user, acc.password(user))
    c.send_method(0, raw.CONNECTION_OPEN, raw.shortstr("/") + raw.shortstr("") + raw.bits(False))
    c.expect_method(0, raw.CONNECTION_OPEN_OK)
    c.send_method(1, raw.CHANNEL_OPEN, raw.channel_open_args())
    got = c.expect_connection_close()
    rf.check_reply(got[0], got[1], 530, text)
    rf.eq(got[2:], (0, 0), "class/method")
    # A closed channel frees its place.
    a1.close()
    connect_as(acc, user).channel().queue_declare("", exclusive=True)
    acc.user_limit(user, "max-channels", 0)
    rf.expect_connection_error(connect_as(acc, user).channel, 530,
                               "NOT_ALLOWED - number of channels opened for user '%s' has reached the maximum "
                               "allowed user limit of (0)" % user)


if __name__ == "__main__":
    rf.main()

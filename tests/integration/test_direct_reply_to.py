#!/usr/bin/python3
"""Request/reply with pika: reply_to and correlation_id pass through untouched, and Direct
Reply-to (amq.rabbitmq.reply-to) with RabbitMQ 3.10's rules, checked against a private
RabbitMQ 3.10.8 node:

- consuming amq.rabbitmq.reply-to in no-ack mode turns reply_to: amq.rabbitmq.reply-to on
  that channel's publishes into amq.rabbitmq.reply-to.<token>; a reply published to the
  default exchange with that key reaches the requester's consumer (exchange '', routing key
  the address, redelivered False), bypassing every queue;
- a manual-ack consume of the pseudo-queue: 406 "reply consumer cannot acknowledge"; a second
  reply consumer on the channel: 406 "reply consumer already set"; publishing with
  reply_to amq.rabbitmq.reply-to without (or after cancelling) the consumer: 406 "fast reply
  consumer does not exist";
- queue.declare of amq.rabbitmq.reply-to (passive or not) answers 0 messages, 1 consumer;
  a passive declare of an unknown or dead address is 404 (RabbitMQ 3.10.8 crashes the
  connection with 541 on a well-formed address; Roost answers declare-ok for a live one and
  404 for a dead one, which is what RabbitMQ's code means to do);
- a reply to a requester that is gone is dropped, or returned NO_ROUTE when mandatory.

Two deliberate differences, where RabbitMQ 3.10's behaviour is an accident of its
implementation (the tests expect RabbitMQ's when run against it): RabbitMQ also returns a
*delivered* mandatory reply (its router counts no queue for it), Roost returns only replies it
could not deliver; and RabbitMQ delivers a reply published in a transaction at once, Roost at
tx.commit, like every other publish in the transaction."""
import pika
import pika.exceptions as pe

import roost_fixture as rf

PSEUDO = "amq.rabbitmq.reply-to"


class Requester:
    """A channel consuming the pseudo-queue, collecting replies."""

    def __init__(self, conn):
        self.conn = conn
        self.ch = conn.channel()
        self.replies = []
        self.tag = self.ch.basic_consume(PSEUDO, lambda ch, m, p, b: self.replies.append((m, p, b)), auto_ack=True)

    def address(self, service_queue):
        """Publishes one request and reads it back off service_queue to see the reply_to the server got."""
        self.ch.basic_publish("", service_queue, b"probe", pika.BasicProperties(reply_to=PSEUDO))
        m, p, _ = rf.get_eventually(self.ch, service_queue, auto_ack=True)
        assert m is not None, "request did not arrive"
        return p.reply_to


def service_queue(ch):
    return ch.queue_declare(rf.uniq("rpc")).method.queue


def test_reply_to_and_correlation_id_pass_through_untouched():
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    replies = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", requests, b"2+2", pika.BasicProperties(reply_to=replies, correlation_id="c-\u00e9-1"))
    m, p, b = rf.get_eventually(ch, requests, auto_ack=True)
    rf.eq((p.reply_to, p.correlation_id, b), (replies, "c-\u00e9-1", b"2+2"))
    ch.basic_publish("", p.reply_to, b"4", pika.BasicProperties(correlation_id=p.correlation_id))
    m, p, b = rf.get_eventually(ch, replies, auto_ack=True)
    rf.eq((p.correlation_id, b), ("c-\u00e9-1", b"4"))


def test_direct_reply_to_round_trip():
    client = rf.connect()
    server = rf.connect()
    sch = server.channel()
    requests = sch.queue_declare(rf.uniq("rpc"), exclusive=False, auto_delete=True).method.queue
    req = Requester(client)
    seen_reply_to = []

    def serve(ch, m, p, body):
        seen_reply_to.append(p.reply_to)
        ch.basic_publish("", p.reply_to, body.upper(), pika.BasicProperties(correlation_id=p.correlation_id))
        ch.basic_ack(m.delivery_tag)

    sch.basic_consume(requests, serve)
    n = 50
    for i in range(n):
        req.ch.basic_publish("", requests, b"req-%d" % i,
                             pika.BasicProperties(reply_to=PSEUDO, correlation_id="id-%d" % i))
    deadline_ok = lambda: len(req.replies) >= n
    import time
    end = time.monotonic() + 10
    while not deadline_ok() and time.monotonic() < end:
        server.process_data_events(time_limit=0.05)
        client.process_data_events(time_limit=0.05)
    rf.eq(len(req.replies), n, "replies")
    address = seen_reply_to[0]
    assert address.startswith(PSEUDO + ".") and len(address) > len(PSEUDO) + 10, address
    assert all(a == address for a in seen_reply_to), "one address per channel"
    for i, (m, p, b) in enumerate(req.replies):
        rf.eq((m.consumer_tag, m.exchange, m.routing_key, m.redelivered), (req.tag, "", address, False))
        rf.eq((p.correlation_id, b), ("id-%d" % i, b"REQ-%d" % i))
    # Replies bypass queues: the service queue saw only requests, nothing else holds replies.
    rf.eq(sch.queue_declare(requests, passive=True).method.message_count, 0)


def test_each_channel_gets_its_own_address():
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    a = Requester(conn).address(requests)
    b = Requester(conn).address(requests)
    assert a != b and a.startswith(PSEUDO + ".") and b.startswith(PSEUDO + "."), (a, b)


def test_manual_ack_consume_is_refused():
    ch = rf.connect().channel()
    rf.expect_channel_error(lambda: ch.basic_consume(PSEUDO, lambda *a: None, auto_ack=False), 406,
                            "PRECONDITION_FAILED - reply consumer cannot acknowledge")


def test_second_reply_consumer_on_a_channel_is_refused():
    conn = rf.connect()
    req = Requester(conn)
    rf.expect_channel_error(lambda: req.ch.basic_consume(PSEUDO, lambda *a: None, auto_ack=True), 406,
                            "PRECONDITION_FAILED - reply consumer already set")


def test_publish_with_pseudo_reply_to_needs_a_consumer():
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    # The failure comes asynchronously; a synchronous method afterwards surfaces it.
    rf.expect_channel_error(lambda: (ch.basic_publish("", requests, b"x", pika.BasicProperties(reply_to=PSEUDO)),
                                     ch.queue_declare("", exclusive=True)),
                            406, "PRECONDITION_FAILED - fast reply consumer does not exist")
    ch2 = conn.channel()
    rf.eq(ch2.queue_declare(requests, passive=True).method.message_count, 0, "the refused request was not queued")
    # ... and after cancelling the reply consumer.
    req = Requester(conn)
    req.ch.basic_cancel(req.tag)
    rf.expect_channel_error(lambda: (req.ch.basic_publish("", requests, b"x", pika.BasicProperties(reply_to=PSEUDO)),
                                     req.ch.queue_declare("", exclusive=True)),
                            406, "PRECONDITION_FAILED - fast reply consumer does not exist")


def test_other_reply_to_values_are_untouched():
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    for value in [PSEUDO + ".chosen-by-client", "amq.rabbitmq.reply-tox", "AMQ.RABBITMQ.REPLY-TO"]:
        ch.basic_publish("", requests, b"x", pika.BasicProperties(reply_to=value))
        m, p, b = rf.get_eventually(ch, requests, auto_ack=True)
        rf.eq(p.reply_to, value)


def test_declare_of_the_pseudo_queue():
    conn = rf.connect()
    ch = conn.channel()
    for passive in (True, False):
        ok = ch.queue_declare(PSEUDO, passive=passive).method
        rf.eq((ok.queue, ok.message_count, ok.consumer_count), (PSEUDO, 0, 1))
    rf.expect_channel_error(lambda: conn.channel().queue_declare(PSEUDO + ".bogus", passive=True), 404,
                            "NOT_FOUND - no queue '%s.bogus' in vhost '/'" % PSEUDO)
    rf.expect_channel_error(lambda: conn.channel().basic_get(PSEUDO), 404,
                            "NOT_FOUND - no queue '%s' in vhost '/'" % PSEUDO)
    rf.expect_channel_error(lambda: conn.channel().queue_bind(PSEUDO, "amq.direct", "k"), 404,
                            "NOT_FOUND - no queue '%s' in vhost '/'" % PSEUDO)


def test_passive_declare_of_an_address_follows_its_requester():
    if rf.external():
        rf.skip("RabbitMQ 3.10.8 closes the connection with 541 INTERNAL_ERROR here")
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    other = rf.connect()
    req = Requester(other)
    address = req.address(requests)
    ok = ch.queue_declare(address, passive=True).method
    rf.eq((ok.queue, ok.message_count, ok.consumer_count), (address, 0, 1))
    other.close()
    rf.expect_channel_error(lambda: conn.channel().queue_declare(address, passive=True), 404,
                            "NOT_FOUND - no queue '%s' in vhost '/'" % address)


def test_reply_to_a_requester_that_is_gone():
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    gone = rf.connect()
    req = Requester(gone)
    address = req.address(requests)
    gone.close()
    pub = conn.channel()
    pub.confirm_delivery()
    returned = []
    pub.add_on_return_callback(lambda ch, m, p, b: returned.append((m.reply_code, m.reply_text, m.routing_key, b)))
    pub.basic_publish("", address, b"dropped")  # confirmed, silently dropped
    try:
        pub.basic_publish("", address, b"returned", mandatory=True)
        raise AssertionError("a mandatory reply to a dead requester must come back")
    except pe.UnroutableError:
        pass
    rf.drain(conn, 0.1)
    rf.eq(returned, [(312, "NO_ROUTE", address, b"returned")])


def test_mandatory_reply_to_a_live_requester():
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    req = Requester(conn)
    address = req.address(requests)
    pub = rf.connect().channel()
    pub.confirm_delivery()
    try:
        pub.basic_publish("", address, b"r", mandatory=True)
        returned = False
    except pe.UnroutableError:
        returned = True
    rf.eq(returned, rf.external(), "mandatory delivered reply returned (only by RabbitMQ)")
    rf.wait_until(conn, lambda: len(req.replies) == 1, 5, "the reply")
    rf.eq(req.replies[0][2], b"r")


def test_reply_published_in_a_transaction():
    # Replies may come from any channel, also a transactional one: Roost delivers at commit.
    conn = rf.connect()
    ch = conn.channel()
    requests = service_queue(ch)
    req = Requester(conn)
    address = req.address(requests)
    tx = rf.connect().channel()
    tx.tx_select()
    tx.basic_publish("", address, b"in-tx")
    rf.drain(conn, 0.2)
    rf.eq(len(req.replies), 1 if rf.external() else 0, "delivered before commit (only by RabbitMQ)")
    tx.tx_commit()
    rf.wait_until(conn, lambda: len(req.replies) == 1, 5, "the reply")


if __name__ == "__main__":
    rf.main()

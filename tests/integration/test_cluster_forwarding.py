"""Clients may connect to any node of a Roost cluster: a follower passes AMQP and HTTP
connections on to the leader over the replication port (a forward proven with the cluster
secret), and the leader serves them as the client itself (guest over loopback, the client's
own address and port in /api/connections). AMQPS and HTTPS pass through as TLS bytes, which
the leader ends with its certificate. After a failover, every surviving node serves.

etcd (Debian's etcd-server) and two or three nodes on free local ports; lease TTL 1 s.
"""
import base64
import hashlib
import hmac
import json
import shutil
import ssl
import tempfile
import urllib.request

import pika

import cluster_fixture as cf
import raw_amqp as raw
import roost_fixture as rf
import tls_certs

TTL = 1
PERSISTENT = pika.BasicProperties(delivery_mode=2)
LOGIN_REFUSED = ("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. "
                 "For details see the broker logfile.")


def api(node, path, tls_context=None):
    """GET path on node's HTTP port, or its HTTPS port (as localhost) with tls_context."""
    if tls_context is None:
        url = "http://%s:%d%s" % (rf.HOST, node.http_port, path)
    else:
        url = "https://localhost:%d%s" % (node.https_port, path)
    req = urllib.request.Request(url)
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    with urllib.request.urlopen(req, timeout=5, context=tls_context) as r:
        return json.load(r)


def settled(c):
    """(leader, followers) once every node is in sync and the followers forward."""
    leader = c.wait_leader()
    c.wait_isr()
    followers = [n for n in c.nodes if n is not leader]
    for f in followers:
        f.wait_line("forwarding amqp")
        f.wait_line("forwarding http")
    return leader, followers


def publish_through(node, queue, bodies):
    """Declares the durable queue and publishes persistent messages with confirms through
    node's AMQP port; returns the connection."""
    conn = rf.connect(port=node.amqp_port)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(queue, durable=True)
    for body in bodies:
        ch.basic_publish("", queue, body, PERSISTENT)  # raises unless confirmed
    return conn


def put_string(b):
    return len(b).to_bytes(4, "big") + b


def forward_frame(secret, nonce, listener, address, port, node=b"n-test"):
    """What a follower sends after the leader's challenge (replication/link_messages.hpp)."""
    fields = put_string(node) + put_string(listener) + put_string(address) + port.to_bytes(2, "big")
    proof = hmac.new(secret, b"roost replication forward" + put_string(nonce) + fields, hashlib.sha256).digest()
    payload = fields + put_string(proof)
    return len(payload).to_bytes(4, "big") + b"\x08" + payload


def forwarded_raw(leader, secret, address, port=40000):
    """A raw AMQP connection to the leader's replication port, forwarded as if a follower had
    accepted it from address:port."""
    c = rf.track(raw.RawConnection(leader.replication_port))
    c.send(b"F")  # the forward preface
    header = c.read_exact(5)
    rf.eq(header[4], 1, "the leader's challenge first")
    challenge = c.read_exact(int.from_bytes(header[:4], "big"))
    nonce = challenge[4:]
    c.send(forward_frame(secret, nonce, b"amqp", address.encode(), port))
    return c


@rf.timeout(90)
def test_a_follower_passes_amqp_and_http_clients_on_to_the_leader_as_themselves():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        leader, (first, second) = settled(c)
        # guest may log in only over loopback: through the follower it still is.
        conn = publish_through(first, "fwd", [b"m%d" % i for i in range(200)])
        # Another follower's client reads them: one broker behind every port.
        other = rf.connect(port=second.amqp_port)
        got = rf.drain_bodies(other.channel(), "fwd")
        rf.eq([b for b, _ in got], [b"m%d" % i for i in range(200)], "messages read through the other follower")
        # The leader names the client by its own address and port, not the follower's.
        c2 = rf.track(raw.RawConnection(first.amqp_port))
        c2.handshake()
        client_port = c2.sock.getsockname()[1]
        names = cf.wait_for(lambda: [x for x in api(leader, "/api/connections") if x.get("peer_port") == client_port],
                            10, "the raw client in the leader's /api/connections")
        rf.eq(names[0]["peer_host"], rf.HOST, "peer_host of the forwarded client")
        # HTTP through either follower is the leader's API.
        for f in (first, second):
            nodes = api(f, "/api/nodes")
            assert [n for n in nodes if n.get("role") == "leader"], "no leader in %s's /api/nodes: %r" % (f.id, nodes)
            queue = api(f, "/api/queues/%2F/fwd")
            rf.eq(queue["name"], "fwd", "the queue through %s's HTTP port" % f.id)
        conn.close()
        other.close()


@rf.timeout(120)
def test_after_a_failover_every_surviving_node_serves_clients():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        leader, (first, _) = settled(c)
        publish_through(first, "kept", [b"k%d" % i for i in range(20)]).close()
        leader.kill9()
        new_leader = c.wait_leader(exclude=[leader])
        survivor = next(n for n in c.nodes if n not in (leader, new_leader))
        # The survivor learns the new leader within a lease; until then a client may be
        # closed at once (its next attempt goes through).
        def through_survivor():
            try:
                return rf.connect(port=survivor.amqp_port, connection_attempts=1)
            except pika.exceptions.AMQPConnectionError:
                return None
        conn = cf.wait_for(through_survivor, 10, "a connection through %s to the new leader" % survivor.id)
        got = rf.drain_bodies(conn.channel(), "kept")
        rf.eq([b for b, _ in got], [b"k%d" % i for i in range(20)], "confirmed messages, read through the surviving follower")
        conn.close()


@rf.timeout(60)
def test_a_forward_must_prove_the_secret_and_the_reported_address_decides_loopback():
    with cf.Cluster(nodes=2, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        secret = c.secret.encode()
        # A wrong secret: closed without a byte.
        c1 = forwarded_raw(leader, b"not the secret", rf.HOST)
        c1.send(raw.PROTOCOL_HEADER)
        c1.expect_eof()
        # A client from another host, as a follower reports it: guest is refused as it would
        # be at the leader's own port.
        c2 = forwarded_raw(leader, secret, "192.0.2.7")
        c2.send(raw.PROTOCOL_HEADER)
        c2.expect_method(0, raw.CONNECTION_START)
        props = raw.table([("capabilities", "F", [("authentication_failure_close", "t", True)])])
        c2.send_method(0, raw.CONNECTION_START_OK,
                       props + raw.shortstr("PLAIN") + raw.longstr(b"\0guest\0guest") + raw.shortstr("en_US"))
        got = c2.expect_connection_close()
        rf.check_reply(got[0], got[1], 403, LOGIN_REFUSED)
        # The same from loopback: served.
        c3 = forwarded_raw(leader, secret, rf.HOST, port=40001)
        c3.handshake()
        names = cf.wait_for(lambda: [x for x in api(leader, "/api/connections") if x.get("peer_port") == 40001],
                            10, "the forwarded client in /api/connections")
        rf.eq(names[0]["peer_host"], rf.HOST, "peer_host as the forward reported it")
        assert "refused a forwarded connection" in leader.stderr_text()


@rf.timeout(90)
def test_amqps_and_https_through_a_follower_end_at_the_leader():
    cert_dir = tempfile.mkdtemp(prefix="roost-tls-")
    try:
        certs = tls_certs.make(cert_dir)
        context = ssl.create_default_context(cafile=certs.ca)
        with cf.Cluster(nodes=2, lease_ttl=TTL, certs=certs) as c:
            leader, (follower,) = settled(c)
            follower.wait_line("forwarding amqps")
            follower.wait_line("forwarding https")
            conn = rf.connect(port=follower.amqps_port, ssl_options=pika.SSLOptions(context, "localhost"))
            ch = conn.channel()
            ch.confirm_delivery()
            ch.queue_declare("sealed", durable=True)
            ch.basic_publish("", "sealed", b"over TLS", PERSISTENT)
            rf.eq(rf.get_eventually(ch, "sealed", auto_ack=True)[2], b"over TLS")
            # The leader ran the handshake: it counts the connection as TLS.
            tls = cf.wait_for(lambda: [x for x in api(leader, "/api/connections") if x.get("ssl")], 10,
                              "the AMQPS client in the leader's /api/connections")
            rf.eq(len(tls), 1, "TLS connections on the leader")
            queue = api(follower, "/api/queues/%2F/sealed", tls_context=context)
            rf.eq(queue["name"], "sealed", "the queue through the follower's HTTPS port")
            conn.close()
    finally:
        shutil.rmtree(cert_dir, ignore_errors=True)


if __name__ == "__main__":
    rf.main(file_broker=False)

"""Replication in a Roost cluster: every store batch the leader commits reaches the followers'
stores; a publisher confirm waits for the in-sync replicas; confirmed messages, acks,
definitions and users survive a kill -9 of the leader; a follower killed under load comes
back by the tail; a follower that presents the wrong secret is refused; without a secret
flag the nodes share one the first of them put in etcd; with --replication-tls the link is
TLS, verified against the CA, and a plain follower is refused; a stream fails over with its
offsets, segments and tracked consumer offsets.

etcd (Debian's etcd-server) and three nodes on free local ports; lease TTL 1 s.
"""
import base64
import json
import shutil
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pika

import cluster_fixture as cf
import roost_fixture as rf
import tls_certs

TTL = 1
PERSISTENT = pika.BasicProperties(delivery_mode=2)


def api(node, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://%s:%d%s" % (rf.HOST, node.http_port, path), data=data, method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=5) as r:
        text = r.read()
        return json.loads(text) if text else None


def confirming_channel(node):
    conn = rf.connect(port=node.amqp_port)
    ch = conn.channel()
    ch.confirm_delivery()
    return conn, ch


def publish_confirmed(ch, queue, bodies):
    for body in bodies:
        ch.basic_publish("jobs.ex", queue, body, PERSISTENT)  # raises unless confirmed


@rf.timeout(120)
def test_stores_match_and_confirmed_work_survives_a_killed_leader():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        c.wait_isr()
        api(leader, "PUT", "/api/users/alice", {"password": "wonderland", "tags": "management"})
        api(leader, "PUT", "/api/permissions/%2F/alice", {"configure": ".*", "write": ".*", "read": ".*"})
        api(leader, "PUT", "/api/policies/%2F/jobs-ttl",
            {"pattern": "^jobs$", "definition": {"message-ttl": 600000}, "apply-to": "queues"})
        conn, ch = confirming_channel(leader)
        ch.exchange_declare("jobs.ex", "direct", durable=True)
        ch.queue_declare("jobs", durable=True)
        ch.queue_bind("jobs", "jobs.ex", "jobs")
        bodies = [b"job %d" % i for i in range(300)]
        publish_confirmed(ch, "jobs", bodies)
        # 100 taken and acked: the acks replicate as well.
        for body in bodies[:100]:
            m, _, got = rf.get_eventually(ch, "jobs")
            rf.eq(got, body)
            ch.basic_ack(m.delivery_tag)
        conn.close()
        rows = c.wait_stores_equal(where=lambda rows: len(rows["messages"]) == 200)
        assert any(r[0] == "alice" for r in rows["users"]), rows["users"]
        # What the leader reports: every follower caught up and in sync.
        repl = cf.wait_for(lambda: (lambda r: r if all(f["lag"] == 0 for f in r["followers"]) else None)(
            api(leader, "GET", "/api/nodes")[0]["replication"]), 5, "no lag in /api/nodes")
        rf.eq(sorted(repl["in_sync_replicas"]), sorted(n.id for n in c.nodes))
        rf.eq(sorted((f["node_id"], f["connected"], f["in_sync"]) for f in repl["followers"]),
              sorted((n.id, True, True) for n in c.nodes if n is not leader))
        rf.eq(repl["position"], leader.store_position()[2], "the leader's position is its store's")
        rf.eq(api(leader, "GET", "/api/health/checks/node-is-quorum-critical"), {"status": "ok"})
        metrics = urllib.request.urlopen("http://%s:%d/metrics" % (rf.HOST, leader.http_port), timeout=5).read()
        assert b"roost_replication_in_sync_replicas 3" in metrics, metrics[:2000]

        leader.kill9()
        new = c.wait_leader(exclude=[leader], timeout=10)
        conn = rf.connect(port=new.amqp_port)
        ch = conn.channel()
        rf.eq(ch.queue_declare("jobs", passive=True).method.message_count, 200, "confirmed and not acked")
        got = [b for b, _ in rf.drain_bodies(ch, "jobs")]
        rf.eq(got, bodies[100:], "the messages, in order, none acked coming back")
        rf.eq([u["name"] for u in api(new, "GET", "/api/users") if u["name"] == "alice"], ["alice"])
        rf.eq(api(new, "GET", "/api/policies/%2F/jobs-ttl")["definition"], {"message-ttl": 600000})
        rf.connect(port=new.amqp_port, credentials=pika.PlainCredentials("alice", "wonderland")).close()


def stream_reader(node, queue, offset=None, tag=None, track=False):
    """A stream consumer on its own connection: (connection, channel, deliveries as [(offset, body, tag)])."""
    conn = rf.connect(port=node.amqp_port)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1000)
    got = []
    args = {"x-stream-automatic-offset-tracking": True} if track else {}
    if offset is not None:
        args["x-stream-offset"] = offset
    ch.basic_consume(queue, lambda c, m, p, b: got.append((p.headers["x-stream-offset"], b, m.delivery_tag)),
                     arguments=args, consumer_tag=tag)
    return conn, ch, got


@rf.timeout(120)
def test_a_stream_fails_over_with_its_offsets_segments_and_tracked_offsets():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        c.wait_isr()
        conn, ch = confirming_channel(leader)
        ch.queue_declare("events", durable=True, arguments={
            "x-queue-type": "stream", "x-stream-max-segment-size-bytes": 2000, "x-max-length-bytes": 20000})
        for i in range(300):
            ch.basic_publish("", "events", b"event %03d " % i + b"." * 90)  # raises unless confirmed
        conn.close()
        # A tracking consumer acks up to its 100th message; the tracked offset replicates with the rest.
        rconn, rch, got = stream_reader(leader, "events", "first", tag="billing", track=True)
        rf.wait_until(rconn, lambda: got and got[-1][1].startswith(b"event 299 "), 10, "the whole stream")
        first = got[0][0]
        assert first > 0, "retention removed nothing"
        rch.basic_ack(got[99][2], multiple=True)
        rch.basic_cancel("billing")  # a round trip after the ack
        rconn.close()
        rows = c.wait_stores_equal(where=lambda rows: rows["stream_offsets"] != [])
        rf.eq([r[1:] for r in rows["stream_offsets"]], [("billing", first + 99)])
        rf.eq(sum(chunk[2] for chunk in rows["stream_chunks"]), len(got), "the kept messages in every store")
        assert len(rows["stream_segments"]) > 1, rows["stream_segments"]

        leader.kill9()
        new = c.wait_leader(exclude=[leader], timeout=10)
        nconn, _, replay = stream_reader(new, "events", "first")
        rf.wait_until(nconn, lambda: len(replay) >= len(got), 10, "the replay on the new leader")
        rf.eq([r[:2] for r in replay], [r[:2] for r in got], "offsets and bodies after the failover")
        tconn, _, resumed = stream_reader(new, "events", tag="billing", track=True)
        rf.wait_until(tconn, lambda: len(resumed) >= len(got) - 100, 10, "the tracked consumer's rest")
        rf.eq(resumed[0][0], first + 100, "resumed after the tracked offset")
        nconn.close()
        tconn.close()


@rf.timeout(120)
def test_a_follower_killed_under_load_leaves_the_isr_and_catches_up_by_the_tail():
    with cf.Cluster(nodes=3, lease_ttl=TTL, extra_flags=["--replica-lag-timeout", "500"]) as c:
        leader = c.wait_leader()
        c.wait_isr()
        conn, ch = confirming_channel(leader)
        ch.exchange_declare("jobs.ex", "direct", durable=True)
        ch.queue_declare("jobs", durable=True)
        ch.queue_bind("jobs", "jobs.ex", "jobs")
        follower = next(n for n in c.nodes if n is not leader)
        stop = threading.Event()
        published = []
        slowest = [0.0]

        def load():
            lconn, lch = confirming_channel(leader)
            i = 0
            while not stop.is_set():
                started = time.monotonic()
                lch.basic_publish("jobs.ex", "jobs", b"load %d" % i, PERSISTENT)
                slowest[0] = max(slowest[0], time.monotonic() - started)
                published.append(i)
                i += 1
            lconn.close()
        t = threading.Thread(target=load)
        t.start()
        try:
            cf.wait_for(lambda: len(published) > 100, 10, "confirms to flow")
            follower.kill9()
            c.wait_isr([n for n in c.nodes if n is not follower], timeout=5)
            before = len(published)
            cf.wait_for(lambda: len(published) > before + 100, 10, "confirms without the dead follower")
            follower.start()
            c.wait_isr(timeout=15)
            cf.wait_for(lambda: len(published) > before + 300, 10, "confirms with it back")
        finally:
            stop.set()
            t.join(30)
        assert "joined at batch" in leader.stderr_text()
        rows = c.wait_stores_equal()
        rf.eq(len(rows["messages"]), len(published), "every confirmed message on every node")
        print("# follower killed under load: %d confirmed publishes, slowest confirm %.2f s (lag timeout 0.5 s)"
              % (len(published), slowest[0]))
        conn.close()


@rf.timeout(120)
def test_a_wiped_follower_catches_up_by_snapshot_then_the_tail():
    # Keeping only the newest batch: a follower behind it must take a snapshot.
    with cf.Cluster(nodes=3, lease_ttl=TTL, extra_flags=["--replication-retain", "1"]) as c:
        leader = c.wait_leader()
        c.wait_isr()
        conn, ch = confirming_channel(leader)
        ch.exchange_declare("jobs.ex", "direct", durable=True)
        ch.queue_declare("jobs", durable=True)
        ch.queue_bind("jobs", "jobs.ex", "jobs")
        publish_confirmed(ch, "jobs", [b"before %d" % i for i in range(50)])
        follower = next(n for n in c.nodes if n is not leader)
        follower.kill9()
        shutil.rmtree(follower.data_dir)
        # The first of these waits for the dead follower until it leaves the list (2 s).
        publish_confirmed(ch, "jobs", [b"while it was gone %d" % i for i in range(50)])
        rf.eq(c.isr(), sorted(n.id for n in c.nodes if n is not follower))
        follower.start()
        c.wait_isr(timeout=15)
        publish_confirmed(ch, "jobs", [b"after %d" % i for i in range(50)])
        rows = c.wait_stores_equal()
        rf.eq(len(rows["messages"]), 150)
        assert "sending it a snapshot" in leader.stderr_text()
        assert "the store is the leader's snapshot" in follower.stderr_text()
        conn.close()


@rf.timeout(120)
def test_a_deposed_leader_with_an_unconfirmed_batch_resynchronises_to_the_new_history():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        old = c.wait_leader()
        c.wait_isr()
        followers = [n for n in c.nodes if n is not old]
        conn, ch = confirming_channel(old)
        ch.exchange_declare("jobs.ex", "direct", durable=True)
        ch.queue_declare("jobs", durable=True)
        ch.queue_bind("jobs", "jobs.ex", "jobs")
        publish_confirmed(ch, "jobs", [b"confirmed %d" % i for i in range(10)])
        c.wait_stores_equal()
        # The followers die (still listed: the lag timeout is 2 s) and the old leader commits
        # a batch only it will ever hold, then dies too; the followers come back and one leads.
        before = old.store_position()
        for f in followers:
            f.kill9()
        plain = rf.connect(port=old.amqp_port).channel()
        plain.basic_publish("jobs.ex", "jobs", b"never confirmed", PERSISTENT)
        cf.wait_for(lambda: old.store_position() != before, 5, "the old leader to commit the publish")
        old.kill9()
        for f in followers:
            f.start()
        new = c.wait_leader(exclude=[old], timeout=10)
        nconn = rf.connect(port=new.amqp_port)
        nconn.channel().queue_declare("written by the new leader", durable=True)  # its own batch at that seq
        old.start()
        c.wait_isr(timeout=15)
        rows = c.wait_stores_equal()
        rf.eq(len(rows["messages"]), 10, "the unconfirmed message is gone everywhere")
        assert any(r[2] == "written by the new leader" for r in rows["queues"]), rows["queues"]
        assert "holds batches this leader does not have" in new.stderr_text()
        nconn.close()


@rf.timeout(60)
def test_the_replication_port_refuses_a_wrong_secret_and_garbage():
    with cf.Cluster(nodes=2, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        c.wait_isr()
        # A stranger: reads the challenge, answers with a hello whose proof is wrong.
        s = socket.create_connection((rf.HOST, leader.replication_port), timeout=5)
        s.sendall(b"R")  # comes to replicate
        header = s.recv(5)
        rf.eq(header[4], 1, "a challenge first")
        s.recv(int.from_bytes(header[:4], "big"))
        node = b"intruder"
        hello = (len(node).to_bytes(4, "big") + node + (0).to_bytes(8, "big") * 2 + (32).to_bytes(4, "big") +
                 b"\0" * 32)
        s.sendall(len(hello).to_bytes(4, "big") + b"\x02" + hello)
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        rf.eq(reply[4], 3, "refused")
        assert b"wrong cluster secret" in reply, reply
        s.close()
        # Garbage instead of a hello: closed, and the leader still serves its followers.
        s = socket.create_connection((rf.HOST, leader.replication_port), timeout=5)
        s.sendall(b"\xff" * 64)
        s.settimeout(5)
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass  # closed with our bytes unread: as good as a FIN
        s.close()
        conn, ch = confirming_channel(leader)
        ch.exchange_declare("jobs.ex", "direct", durable=True)
        ch.queue_declare("jobs", durable=True)
        ch.queue_bind("jobs", "jobs.ex", "jobs")
        publish_confirmed(ch, "jobs", [b"after the intruders"])
        c.wait_stores_equal()
        assert "wrong cluster secret" in leader.stderr_text()
        # Its only follower gone and dropped from the list: the leader is quorum-critical.
        follower = next(n for n in c.nodes if n is not leader)
        follower.kill9()
        publish_confirmed(ch, "jobs", [b"waits for the lag timeout"])
        rf.eq(c.isr(), [leader.id])
        try:
            api(leader, "GET", "/api/health/checks/node-is-quorum-critical")
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as e:
            rf.eq(e.code, 503)
            rf.eq(json.loads(e.read())["status"], "failed")


@rf.timeout(60)
def test_without_a_secret_flag_the_nodes_share_one_kept_in_etcd():
    with cf.Cluster(nodes=3, lease_ttl=TTL, secret=False) as c:
        leader = c.wait_leader()
        c.wait_isr()  # the followers proved the secret the first node put in etcd
        secret = c.etcd.get("/roost/%s/secret" % c.name)
        assert secret and len(secret) == 64 and all(ch in "0123456789abcdef" for ch in secret), secret
        conn, ch = confirming_channel(leader)
        ch.queue_declare("shared", durable=True)
        ch.basic_publish("", "shared", b"one", PERSISTENT)
        c.wait_stores_equal()
        assert secret not in "".join(n.stderr_text() for n in c.nodes), "the secret was logged"


@rf.timeout(90)
def test_over_tls_the_link_replicates_fails_over_and_refuses_plain_followers():
    cert_dir = tempfile.mkdtemp(prefix="roost-tls-")
    try:
        certs = tls_certs.make(cert_dir)
        with cf.Cluster(nodes=3, lease_ttl=TTL, certs=certs, extra_flags=["--replication-tls", "on"]) as c:
            leader = c.wait_leader()
            c.wait_isr()  # the followers joined through TLS
            # The port speaks TLS with the node's certificate...
            context = ssl.create_default_context(cafile=certs.ca)
            with socket.create_connection((rf.HOST, leader.replication_port), timeout=5) as raw_socket:
                with context.wrap_socket(raw_socket, server_hostname="localhost") as tls_socket:
                    assert tls_socket.getpeercert()["subjectAltName"], "the leader's certificate"
            # ... and refuses a follower that would replicate without it.
            plain = socket.create_connection((rf.HOST, leader.replication_port), timeout=5)
            plain.sendall(b"R")
            try:
                rf.eq(plain.recv(64), b"", "a plain follower is closed without a challenge")
            except ConnectionResetError:
                pass  # closed with its byte unread: as good as a FIN
            plain.close()
            conn, ch = confirming_channel(leader)
            ch.queue_declare("sealed", durable=True)
            for i in range(50):
                ch.basic_publish("", "sealed", b"s%d" % i, PERSISTENT)
            c.wait_stores_equal()
            leader.kill9()
            new = c.wait_leader(exclude=[leader])
            survivor = next(n for n in c.nodes if n not in (leader, new))
            c.wait_isr([new, survivor])  # the survivor follows the new leader, through TLS again
            conn, ch = confirming_channel(survivor)  # forwarded to the new leader
            rf.eq(ch.queue_declare("sealed", durable=True, passive=True).method.message_count, 50)
            assert "it does not use TLS" in leader.stderr_text()
    finally:
        shutil.rmtree(cert_dir, ignore_errors=True)


if __name__ == "__main__":
    rf.main(file_broker=False)

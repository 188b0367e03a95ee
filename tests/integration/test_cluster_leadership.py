"""Leadership of a Roost cluster through etcd: one node serves, a dead or paused leader is
replaced within the lease, a leader that loses its lease confirms nothing more and comes
back as a follower, and a cluster whose etcd dies stops serving until etcd returns.

etcd (Debian's etcd-server) and three nodes on free local ports; lease TTL 1 s.
"""
import json
import signal
import time
import urllib.request

import cluster_fixture as cf
import raw_amqp as raw
import roost_fixture as rf

TTL = 1
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)
BASIC_ACK = (60, 80)


def api_nodes(node):
    req = urllib.request.Request("http://%s:%d/api/nodes" % (rf.HOST, node.http_port))
    req.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def passes_on_to(node, leader):
    """node does not serve itself: its HTTP port answers with the leader's /api/nodes."""
    try:
        served_by = api_nodes(node)[0]
    except OSError:
        return False  # between two leaders: no one to pass the request to yet
    return served_by["role"] == "leader" and served_by["node_id"] == leader.id


def leader_epoch(c):
    kvs = c.etcd.call("/v3/kv/range", {"key": cf.b64("/roost/%s/leader" % c.name)}).get("kvs", [])
    return int(kvs[0]["create_revision"]) if kvs else None


def test_one_node_leads_and_every_node_registers():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        followers = [n for n in c.nodes if n is not leader]
        rf.eq(json.loads(c.etcd.get("/roost/%s/leader" % c.name))["id"], leader.id, "the leader key")
        cf.wait_for(lambda: len(c.etcd.keys("/roost/%s/nodes/" % c.name)) == 3, 5, "three registrations")
        rf.eq(c.etcd.keys("/roost/%s/nodes/" % c.name), ["/roost/%s/nodes/%s" % (c.name, n.id) for n in c.nodes])
        node = api_nodes(leader)[0]
        rf.eq((node["role"], node["node_id"], node["cluster_name"]), ("leader", leader.id, c.name))
        rf.eq(node["epoch"], leader_epoch(c), "epoch = the leader key's create revision")
        for f in followers:
            assert f.wait_line("forwarding amqp") >= 0 and not f.serving()
            assert passes_on_to(f, leader), "follower %s must pass its clients on to the leader" % f.id
            assert "following the leader" in f.stderr_text()
        conn = rf.connect(port=leader.amqp_port)
        ch = conn.channel()
        ch.queue_declare("q", durable=True)
        ch.basic_publish("", "q", b"on the leader")
        rf.eq(rf.get_eventually(ch, "q", auto_ack=True)[2], b"on the leader")


@rf.timeout(90)
def test_a_killed_leader_is_replaced_within_two_lease_ttls():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        took = []
        leader = c.wait_leader()
        for _ in range(3):
            c.wait_isr()  # only an in-sync replica may take over
            epoch = leader_epoch(c)
            leader.kill9()
            killed_at = time.monotonic()
            new = c.wait_leader(exclude=[leader], timeout=10)
            took.append(time.monotonic() - killed_at)
            assert leader_epoch(c) > epoch, "a new epoch"
            conn = rf.connect(port=new.amqp_port)
            conn.channel().queue_declare(rf.uniq("q"))
            conn.close()
            leader.start()  # the killed node comes back, as a follower
            cf.wait_for(lambda: "following the leader" in leader.stderr_text(), 10, "the old leader to follow")
            leader = new
        print("# failover (kill -9 -> new leader serving): %s s, lease TTL %d s"
              % (", ".join("%.2f" % t for t in took), TTL))
        # Lease expiry (TTL) + at most one election attempt (TTL/3) + recovery; 2 x TTL with margin for CI.
        assert max(took) < 2 * TTL + 1.5, took


@rf.timeout(60)
def test_a_leader_stopped_with_sigterm_hands_over_at_once():
    # A long lease: only the revocation explains a handover well inside it.
    with cf.Cluster(nodes=2, lease_ttl=5) as c:
        leader = c.wait_leader(timeout=15)
        c.wait_isr()
        stopped_at = time.monotonic()
        rf.eq(leader.stop(), 0, "exit status after SIGTERM")
        new = c.wait_leader(exclude=[leader], timeout=10)
        took = time.monotonic() - stopped_at
        assert took < 2.5, "handover took %.2f s with a 5 s lease" % took
        rf.eq(c.etcd.keys("/roost/%s/nodes/" % c.name), ["/roost/%s/nodes/%s" % (c.name, new.id)],
              "the stopped node's registration is gone")
        print("# SIGTERM to the leader -> new leader serving: %.2f s (lease 5 s)" % took)


def confirm_select(conn, channel):
    conn.send_method(channel, CONFIRM_SELECT, b"\x00")
    conn.expect_method(channel, CONFIRM_SELECT_OK)


def frames_until_close(conn):
    """Every method frame up to connection.close -> (methods, (code, text))."""
    methods = []
    deadline = time.monotonic() + 10
    while True:
        ftype, channel, payload = conn.read_frame(max(0.0, deadline - time.monotonic()))
        if ftype != raw.FRAME_METHOD:
            continue
        m, args = raw.parse_method(payload)
        if m == raw.CONNECTION_CLOSE:
            code, text = raw.parse_close(args)[:2]
            return methods, (code, text)
        methods.append(m)


@rf.timeout(90)
def test_a_paused_leader_confirms_nothing_after_its_lease_and_rejoins_as_a_follower():
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        pid = leader.proc.pid
        conn = raw.RawConnection(leader.amqp_port)
        conn.handshake()
        conn.open_channel(1)
        confirm_select(conn, 1)
        conn.publish(1, "", "nowhere", b"before the pause")
        ftype, channel, payload = conn.read_frame(5)
        rf.eq(raw.parse_method(payload)[0], BASIC_ACK, "confirmed while the lease holds")
        stopped_at = len(leader.lines)
        c.wait_isr()
        leader.signal(signal.SIGSTOP)
        try:
            new = c.wait_leader(exclude=[leader], timeout=10)
            # Sent while it sleeps: it reads them only after its lease is gone.
            for i in range(20):
                conn.publish(1, "", "nowhere", b"during the pause %d" % i)
        finally:
            leader.signal(signal.SIGCONT)
        methods, (code, text) = frames_until_close(conn)
        assert BASIC_ACK not in methods, "a deposed leader confirmed: %r" % methods
        rf.eq(code, 320)
        assert "leader lease lost" in text, text
        conn.close()
        leader.wait_line("stepping down", after=stopped_at, timeout=5)
        cf.wait_for(lambda: leader.stderr_text().count("joining through etcd") == 2, 10, "the node to start again")
        cf.wait_for(lambda: leader.stderr_text().count("following the leader") >= 1 and
                    leader.stderr_text().rfind("following the leader") > leader.stderr_text().rfind("steps down"),
                    10, "the old leader to follow the new one")
        rf.eq(leader.proc.pid, pid, "started again in the same process")
        assert leader.alive() and not leader.serving()
        cf.wait_for(lambda: passes_on_to(leader, new), 10, "the old leader to pass its clients on to the new one")
        rf.eq(c.serving(), [new])


@rf.timeout(90)
def test_without_etcd_the_leader_stops_serving_within_its_lease_and_resumes_after():
    with cf.Cluster(nodes=2, lease_ttl=TTL) as c:
        leader = c.wait_leader()
        conn = rf.connect(port=leader.amqp_port)
        closed = []
        before = len(leader.lines)
        c.etcd.kill9()
        killed_at = time.monotonic()
        leader.wait_line("stepping down", after=before, timeout=TTL + 3)
        stepped = time.monotonic() - killed_at
        try:
            rf.drain(conn, 2)
        except Exception as e:  # pika: ConnectionClosedByBroker
            closed.append(e)
        assert closed and "320" in str(closed[0]) and "leader lease lost" in str(closed[0]), closed
        assert stepped <= TTL + 1, "stepped down %.2f s after etcd died (lease %d s)" % (stepped, TTL)
        rf.eq(c.serving(), [], "no node serves without etcd")
        c.etcd.start()
        back = c.wait_leader(timeout=15)
        conn = rf.connect(port=back.amqp_port)
        conn.channel().queue_declare(rf.uniq("q"))
        print("# etcd killed: leader stepped down after %.2f s (lease %d s)" % (stepped, TTL))


if __name__ == "__main__":
    rf.main(file_broker=False)

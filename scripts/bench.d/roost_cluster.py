"""A three-node Roost cluster on this machine for the cluster scenario (j).

Debian's etcd on free loopback ports, with the short heartbeat and election
timeout that allow a 2 s lease (etcd's minimum TTL is 1.5 x its election
timeout), and three roost processes with fixed ports and a random cluster
secret. A node prints "listening amqp ..." on stdout once it leads (serves)
and "stepping down: ..." when it loses the lead; followers forward AMQP
clients to the leader. A node killed by a failover round is started again,
with its data dir and ports, before the next round, and the cluster counts as
whole again once the leader's /api/nodes shows both followers connected, in
sync and caught up.
"""
import base64
import json
import os
import secrets
import subprocess
import urllib.request

from amqp_admin import Admin
from processes import BrokerDown, PidBook, free_ports, lasting_ports, log, stop_each, stop_pid, wait_until

ETCD = "/usr/bin/etcd"
LEASE_TTL = 2  # seconds; the failover target is twice this
NODES = 3


class Etcd:
    def __init__(self, base, pids: PidBook):
        self.base, self.pids = base, pids
        self.proc = None
        self.client_port, self.peer_port = free_ports(2)
        self.url = "http://127.0.0.1:%d" % self.client_port

    def start(self):
        os.makedirs(self.base)
        peer = "http://127.0.0.1:%d" % self.peer_port
        with open(os.path.join(self.base, "etcd.log"), "w") as logf:
            self.proc = subprocess.Popen(
                [ETCD, "--name", "roost-bench", "--data-dir", os.path.join(self.base, "data"),
                 "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", "roost-bench=" + peer,
                 "--heartbeat-interval", "50", "--election-timeout", "500"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        self.pids.add(self.proc.pid, "etcd")
        if not wait_until(self.healthy, 15):
            raise BrokerDown("etcd did not answer on %s within 15 s" % self.url)

    def healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return json.load(r).get("health") == "true"
        except OSError:
            return False

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid, "etcd", grace=10)
            self.proc.wait()
            self.proc = None


class RoostNode:
    def __init__(self, binary, base, nodename, pids: PidBook):
        self.binary, self.base, self.nodename, self.pids = binary, base, nodename, pids
        self.port, self.http_port, self.replication_port = lasting_ports(3)  # kept across restarts
        self.stdout_path = os.path.join(base, "stdout.log")
        self.proc = None
        self.since = 0  # where this process's stdout starts in stdout_path

    def start(self, cluster_args, secret):
        os.makedirs(os.path.join(self.base, "data"), exist_ok=True)
        self.since = os.path.getsize(self.stdout_path) if os.path.exists(self.stdout_path) else 0
        env = dict(os.environ, ROOST_CLUSTER_SECRET=secret)  # not on the command line, which ps shows
        with open(self.stdout_path, "a") as out, open(os.path.join(self.base, "stderr.log"), "a") as err:
            self.proc = subprocess.Popen(
                [self.binary, "--bind", "127.0.0.1", "--amqp-port", str(self.port),
                 "--http-port", str(self.http_port), "--data-dir", os.path.join(self.base, "data"),
                 "--node-id", self.nodename, "--advertise", "127.0.0.1",
                 "--replication-port", str(self.replication_port)] + cluster_args,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True)
        self.pids.add(self.proc.pid, "roost " + self.nodename)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def serving(self):
        """Whether the node's latest word is that it serves (it steps down, same PID, when it loses the lead)."""
        if not self.alive():
            return False
        with open(self.stdout_path, errors="replace") as f:
            f.seek(self.since)
            said = [l for l in f.read().splitlines() if l.startswith(("listening amqp ", "stepping down"))]
        return bool(said) and said[-1].startswith("listening amqp ")

    def kill9(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid, "roost " + self.nodename, grace=15)
            self.proc.wait()


class RoostCluster:
    name, label = "roost", "Roost cluster"

    def __init__(self, binary, work, pids: PidBook):
        self.base = os.path.join(work, "roost-cluster")
        self.binary, self.pids = binary, pids
        self.etcd = None
        self.nodes = []
        self.cluster_name = "bench-%d" % os.getpid()
        self.secret = secrets.token_hex(24)
        self.version = None
        self.logs = []

    @property
    def started(self):
        return self.etcd is not None

    def cluster_args(self):
        return ["--cluster-etcd", self.etcd.url, "--cluster-name", self.cluster_name,
                "--lease-ttl", str(LEASE_TTL)]

    def leader(self, timeout=15):
        """The node serving; fails if two live nodes claim to."""
        def one():
            serving = [n for n in self.nodes if n.serving()]
            if len(serving) > 1:
                raise BrokerDown("Roost cluster: %s all serve at once" % [n.nodename for n in serving])
            return serving[0] if serving else None
        leader = wait_until(one, timeout)
        if leader is None:
            raise BrokerDown("Roost cluster: no node serves after %.0f s" % timeout)
        return leader

    @property
    def port(self):
        return self.leader().port

    @property
    def uri(self):
        return "amqp://guest:guest@127.0.0.1:%d/%%2F" % self.port

    def replication(self, leader):
        """The leader's view of its followers ("replication" in its /api/nodes)."""
        req = urllib.request.Request("http://127.0.0.1:%d/api/nodes" % leader.http_port,
                                     headers={"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)[0].get("replication", {})

    def caught_up(self, leader):
        """Every follower connected, in the in-sync replicas and at the leader's position."""
        followers = self.replication(leader).get("followers", [])
        return sorted(f["node_id"] for f in followers if f["connected"] and f["in_sync"] and f["lag"] == 0) \
            == sorted(n.nodename for n in self.nodes if n is not leader)

    def wait_whole(self, timeout=30):
        """Until a node leads and every other node follows it in sync: confirms then wait for
        all three, and the leader's kill leaves two nodes that may take over. (A restarted node
        may still be listed in sync from before its kill, hence connected and lag too.)"""
        leader = self.leader(timeout)
        if not wait_until(lambda: self.caught_up(leader), timeout):
            raise BrokerDown("Roost cluster: the followers did not catch up with %s within %.0f s: %s"
                             % (leader.nodename, timeout, self.replication(leader)))

    def start(self):
        self.etcd = Etcd(os.path.join(self.base, "etcd"), self.pids)
        self.logs.append(os.path.join(self.base, "etcd", "etcd.log"))
        self.etcd.start()
        for i in range(NODES):
            node = RoostNode(self.binary, os.path.join(self.base, "n%d" % (i + 1)), "n%d" % (i + 1), self.pids)
            self.nodes.append(node)
            self.logs += [node.stdout_path, os.path.join(node.base, "stderr.log")]
            node.start(self.cluster_args(), self.secret)
        self.wait_whole()
        with Admin("127.0.0.1", self.port) as adm:
            self.version = str(adm.server_properties.get("version", "?"))
        log("Roost cluster %s up: etcd %s, nodes %s (AMQP ports %s), leader %s, lease TTL %d s"
            % (self.version, self.etcd.url, [n.nodename for n in self.nodes], [n.port for n in self.nodes],
               self.leader().nodename, LEASE_TTL))

    def make_whole(self):
        """Starts the cluster, or again any node a failover round killed."""
        if not self.started:
            self.start()
            return
        down = [n for n in self.nodes if not n.alive()]
        if down:
            log("Roost cluster: restarting %s" % ", ".join(n.nodename for n in down))
        for node in down:
            node.start(self.cluster_args(), self.secret)
        self.wait_whole()

    def queue_leader(self, _queue):
        """Every queue lives on the leader: its kill is the failover."""
        return self.leader()

    def stop(self):
        stop_each(self.nodes, "roost")
        if self.etcd is not None:
            self.etcd.stop()

"""etcd and a cluster of Roost nodes for the cluster tests.

    with cluster_fixture.Cluster(nodes=3, lease_ttl=1) as c:
        leader = c.wait_leader()          # the one node serving, once it announced its listeners
        c.etcd.get("/roost/%s/leader" % c.name)
        leader.kill9(); c.wait_leader(exclude=[leader])

etcd is Debian's etcd-server, started on free ports with a short heartbeat and election
timeout, which lowers its minimum lease TTL to one second. Each node gets its own temp
data dir and fixed free ports (a node registers its ports in etcd before it listens).
A node's stdout is read for its whole life: "listening amqp ..." when it starts serving,
"stepping down: ..." when a leader loses its lease (the process then starts itself again,
same PID, as a follower). Everything started is killed by PID on exit, temp dirs removed.
"""
import base64
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid

import roost_fixture as rf

ETCD = "/usr/bin/etcd"


def free_ports(n):
    """n distinct ports that were free a moment ago, below the kernel's ephemeral range: a node
    keeps its ports across restarts, and a port from that range may meanwhile be taken as the
    source port of some outgoing connection (a client's, a follower's), failing the restart."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    ports = []
    while len(ports) < n:
        candidate = random.randrange(10000, low)
        if candidate in ports:
            continue
        s = socket.socket()
        try:
            s.bind((rf.HOST, candidate))
            ports.append(candidate)
        except OSError:
            pass
        finally:
            s.close()
    return ports


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.05)


class Etcd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="roost-etcd-")
        self.client_port, self.peer_port = free_ports(2)
        self.url = "http://%s:%d" % (rf.HOST, self.client_port)
        self.proc = None

    def start(self):
        peer = "http://%s:%d" % (rf.HOST, self.peer_port)
        self.log = open(os.path.join(self.dir, "etcd.log"), "ab")
        self.proc = subprocess.Popen(
            [ETCD, "--name", "roost-test", "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", "roost-test=" + peer,
             # A 1 s lease needs a short election timeout: etcd's minimum TTL is 1.5 x it.
             "--heartbeat-interval", "50", "--election-timeout", "500"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, preexec_fn=rf._die_with_parent)
        wait_for(self._healthy, 15, "etcd to answer on %s" % self.url)
        return self

    def _healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                return json.load(r).get("health") == "true"
        except OSError:
            return False

    def call(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)

    def get(self, key):
        """The value of key (text), or None."""
        kvs = self.call("/v3/kv/range", {"key": b64(key)}).get("kvs", [])
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def keys(self, prefix):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        kvs = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end), "keys_only": True}).get("kvs", [])
        return sorted(base64.b64decode(kv["key"]).decode() for kv in kvs)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def cleanup(self):
        self.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Node:
    def __init__(self, cluster, node_id):
        self.cluster = cluster
        self.id = node_id
        self.dir = tempfile.mkdtemp(prefix="roost-node-")
        self.data_dir = os.path.join(self.dir, "data")
        self.amqp_port, self.http_port, self.replication_port, self.amqps_port, self.https_port = free_ports(5)
        self.lines = []
        self.changed = threading.Condition()
        self.proc = None

    def args(self):
        c = self.cluster
        return [rf.broker_binary(), "--bind", rf.HOST, "--amqp-port", str(self.amqp_port),
                "--http-port", str(self.http_port), "--data-dir", self.data_dir, "--log-level", "info",
                "--cluster-etcd", c.etcd.url, "--cluster-name", c.name, "--node-id", self.id,
                "--advertise", rf.HOST, "--lease-ttl", str(c.lease_ttl),
                "--replication-port", str(self.replication_port)] + self.tls_flags() + c.extra_flags

    def tls_flags(self):
        certs = self.cluster.certs
        if certs is None:
            return []
        return ["--tls-cert", certs.server_cert, "--tls-key", certs.server_key, "--tls-ca", certs.ca,
                "--amqps-port", str(self.amqps_port), "--https-port", str(self.https_port)]

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        with self.changed:
            self.lines = []  # a new process: what the last one said no longer holds
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "ab")
        env = dict(os.environ)
        env.pop("ROOST_CLUSTER_SECRET", None)
        if self.cluster.secret is not None:  # else the nodes share one kept in etcd
            env["ROOST_CLUSTER_SECRET"] = self.cluster.secret
        self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.stderr, preexec_fn=rf._die_with_parent, env=env)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.changed.notify_all()

    def serving(self):
        """True while the node's latest word is that it listens (not that it stepped down)."""
        with self.changed:
            for line in reversed(self.lines):
                if line.startswith("stepping down"):
                    return False
                if line.startswith("listening amqp"):
                    return self.alive()
        return False

    def wait_line(self, prefix, after=0, timeout=10):
        """Index of the first line starting with prefix at or after index `after`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for i in range(after, len(self.lines)):
                    if self.lines[i].startswith(prefix):
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("node %s did not print '%s' within %.1fs; stdout %r"
                                         % (self.id, prefix, timeout, self.lines))
                self.changed.wait(left)

    # What replication copies: every table but meta (the file's own bookkeeping).
    REPLICATED_TABLES = ["vhosts", "users", "permissions", "topic_permissions", "policies", "exchanges", "queues",
                         "bindings", "messages", "entries", "delayed", "delayed_targets", "stream_segments",
                         "stream_offsets", "stream_chunks", "replication_position"]

    def store_rows(self):
        """{table: sorted rows} of the node's roost.db, read beside the running node (WAL readers
        do not block its writer)."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.data_dir, "roost.db"), uri=True, timeout=5)
        try:
            return {t: sorted(db.execute("SELECT * FROM " + t).fetchall(), key=repr) for t in self.REPLICATED_TABLES}
        finally:
            db.close()

    def store_position(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.data_dir, "roost.db"), uri=True, timeout=5)
        try:
            row = db.execute("SELECT * FROM replication_position").fetchone()
            return tuple(row) if row else None
        finally:
            db.close()

    def stderr_text(self):
        self.stderr.flush()
        with open(os.path.join(self.dir, "stderr.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if not self.alive():
            return self.proc.poll() if self.proc else None
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def cleanup(self):
        if self.alive():
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    def __init__(self, nodes=3, lease_ttl=1, extra_flags=(), secret=True, certs=None):
        """certs: a tls_certs.Certs for AMQPS and HTTPS on every node (the same certificate)."""
        self.name = "c" + uuid.uuid4().hex[:12]
        self.certs = certs
        self.secret = uuid.uuid4().hex if secret else None
        self.lease_ttl = lease_ttl
        self.extra_flags = list(extra_flags)
        self.etcd = Etcd()
        self.nodes = [Node(self, "n%d" % (i + 1)) for i in range(nodes)]

    def __enter__(self):
        try:
            self.etcd.start()
            for n in self.nodes:
                n.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self.dump()
        self.cleanup()

    def serving(self):
        return [n for n in self.nodes if n.serving()]

    def wait_leader(self, timeout=10, exclude=()):
        """The one node serving, other than those in `exclude` (a paused leader still thinks it
        serves); fails if two of the others serve at once."""
        def one():
            serving = [n for n in self.serving() if n not in exclude]
            assert len(serving) <= 1, "two nodes serve at once: %s" % [n.id for n in serving]
            return serving[0] if serving else None
        return wait_for(one, timeout, "a leader (other than %s)" % [n.id for n in exclude])

    def isr(self):
        """The in-sync replica list in etcd (node ids, sorted); [] before a leader wrote one."""
        value = self.etcd.get("/roost/%s/isr" % self.name)
        return sorted(json.loads(value)["members"]) if value else []

    def wait_isr(self, nodes=None, timeout=10):
        """Waits until the in-sync replicas are exactly `nodes` (default: every node): before
        a leader is killed, so that another may take over (only listed nodes may lead)."""
        want = sorted(n.id for n in (self.nodes if nodes is None else nodes))
        return wait_for(lambda: self.isr() == want, timeout, "in-sync replicas %s (now %s)" % (want, self.isr()))

    def wait_stores_equal(self, nodes=None, timeout=15, where=lambda rows: True):
        """Waits until the nodes' stores hold the same rows (every follower caught up) and those rows
        satisfy `where` (an ack's removal reaches the store a group commit after the ack); returns them."""
        nodes = self.nodes if nodes is None else nodes
        last = {}

        def equal():
            rows = [n.store_rows() for n in nodes]
            last["rows"] = rows
            return rows[0] if all(r == rows[0] for r in rows[1:]) and where(rows[0]) else None
        try:
            return wait_for(equal, timeout, "the stores of %s to match" % [n.id for n in nodes])
        except AssertionError:
            for n, rows in zip(nodes, last["rows"]):
                print("# store of %s: %s" % (n.id, {t: len(r) for t, r in rows.items()}), rows["replication_position"])
            raise

    def dump(self):
        for n in self.nodes:
            print("----- node %s (pid %s) stdout %r" % (n.id, n.proc.pid if n.proc else None, n.lines))
            print("----- node %s stderr:\n%s" % (n.id, "\n".join(n.stderr_text().splitlines()[-60:])))

    def cleanup(self):
        for n in self.nodes:
            n.cleanup()
        self.etcd.cleanup()

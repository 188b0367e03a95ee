"""A three-node RabbitMQ cluster on this machine for the cluster scenario (j).

Three private nodes (rabbit-bench-<pid>-<i>@localhost) share one epmd and one
Erlang cookie; nodes 2 and 3 join node 1 with rabbitmqctl (stop_app,
join_cluster, start_app). Queues are quorum queues, declared by the clients,
with a member on every node and their leader on the node the declaring client
is connected to. A node killed by a failover round is started again, with its
data, before the next round: it rejoins the cluster by itself.
"""
import json
import os
import secrets
import time

from processes import BrokerDown, PidBook, free_ports, lasting_ports, log, stop_each
from rabbitmq_node import Epmd, RabbitNode

NODES = 3


class RabbitMQCluster:
    name, label = "rabbitmq", "RabbitMQ cluster"

    def __init__(self, work, pids: PidBook):
        self.base = os.path.join(work, "rabbit-cluster")
        self.pids = pids
        self.epmd, self.nodes = None, []
        self.version = self.platform = None
        self.logs = []

    @property
    def started(self):
        return bool(self.nodes)

    @property
    def node(self):
        """Where clients go: the first live node (node 1 unless it is down)."""
        live = [n for n in self.nodes if n.alive()]
        if not live:
            raise BrokerDown("RabbitMQ cluster: no node is running")
        return live[0]

    @property
    def port(self):
        return self.node.port

    @property
    def uri(self):
        return "amqp://guest:guest@127.0.0.1:%d/%%2F" % self.port

    def start(self):
        home = os.path.join(self.base, "home")
        os.makedirs(home)
        cookie = os.path.join(home, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write(secrets.token_hex(16))
        os.chmod(cookie, 0o400)  # Erlang refuses a cookie others may read
        (epmd_port,) = free_ports(1)
        os.makedirs(os.path.join(self.base, "epmd"))
        self.epmd = Epmd(epmd_port, os.path.join(self.base, "epmd", "epmd.log"), self.pids).start()
        ports = lasting_ports(2 * NODES)  # kept across restarts: a member comes back where it was
        for i in range(NODES):
            name = "rabbit-bench-%d-%d@localhost" % (os.getpid(), i + 1)
            node = RabbitNode(os.path.join(self.base, "n%d" % (i + 1)), name, ports[2 * i], ports[2 * i + 1],
                              epmd_port, home, self.pids)
            self.nodes.append(node)
            self.logs.append(node.log_dir)
        # Side by side: each boot takes 10-30 s of mostly waiting here.
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_started()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.nodename)
            node.ctl("start_app")
        self.wait_running()
        self.version, self.platform = first.version, first.platform
        log("RabbitMQ cluster %s up: %s, AMQP ports %s, epmd %d"
            % (self.version, ", ".join(n.nodename for n in self.nodes), [n.port for n in self.nodes], epmd_port))

    def running_nodes(self):
        status = json.loads(self.node.ctl("cluster_status", "--formatter", "json"))
        return sorted(status.get("running_nodes", []))

    def wait_running(self, timeout=60):
        """Until every node is up and in the cluster."""
        want = sorted(n.nodename for n in self.nodes)
        deadline = time.monotonic() + timeout
        while True:
            running = self.running_nodes()
            if running == want:
                return
            if time.monotonic() > deadline:
                raise BrokerDown("RabbitMQ cluster: running nodes %s, not %s" % (running, want))
            time.sleep(1)

    def make_whole(self):
        """Starts the cluster, or again any node a failover round killed."""
        if not self.started:
            self.start()
            return
        down = [n for n in self.nodes if not n.alive()]
        if not down:
            return
        log("RabbitMQ cluster: restarting %s" % ", ".join(n.nodename for n in down))
        for node in down:
            node.start()
        self.wait_running()

    def queue_leader(self, queue):
        """The node holding the quorum queue's leader: the one whose kill forces an election."""
        rows = json.loads(self.node.ctl("list_queues", "name", "leader", "--formatter", "json"))
        leader = next((r.get("leader") for r in rows if r.get("name") == queue), None)
        node = next((n for n in self.nodes if n.nodename == leader), None)
        if node is None:
            raise BrokerDown("RabbitMQ cluster: no leader for quorum queue %s (%s)" % (queue, rows))
        return node

    def stop(self):
        stop_each(self.nodes, "rabbitmq")
        if self.epmd is not None:
            self.epmd.stop()
            self.epmd = None

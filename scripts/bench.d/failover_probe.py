"""Failover time of a three-node cluster (Roost's or RabbitMQ's): from kill -9 of
the leader to the first publisher confirm a reconnecting publisher gets.

A publisher thread publishes persistent 16-byte messages with confirms, one at
a time, to a durable quorum queue, connected to the node the kill will hit
(Roost: the leader; RabbitMQ: the node holding the queue's leader). Once it
has had a steady run of confirms that node gets SIGKILL, and from then on the
publisher connects to the surviving nodes in turn, retrying every 50 ms, until
one of its publishes is confirmed; a failed connection or a nack (RabbitMQ's
answer while the queue has no leader) moves it on to the next node. The time
measured includes everything a client sees: the dead connection, the election
of a new leader, reconnecting (to a Roost follower that forwards it, or to the
new leader) and one confirmed publish.
"""
import threading
import time

from amqp_admin import Admin, AmqpError
from processes import BrokerDown, wait_until

RETRY_S = 0.05
IO_TIMEOUT_S = 5.0  # per connect and per confirm: a hung attempt gives way to the next node
STEADY_CONFIRMS = 50  # before the kill
LONGEST_S = 30.0  # a failover slower than this counts as failed
BODY = b"failover-probe.."  # 16 bytes, as the throughput scenarios send


class ConfirmingPublisher(threading.Thread):
    def __init__(self, port, queue):
        super().__init__(daemon=True, name="failover-publisher")
        self.ports = [port]  # where it connects, in turn; the survivors from the kill on
        self.queue = queue
        self.confirms = []  # (time.monotonic(), port) of every confirm
        self.failures = []  # (time.monotonic(), port, what went wrong)
        self.stopping = threading.Event()

    def run(self):
        turn = 0
        while not self.stopping.is_set():
            ports = self.ports
            port = ports[turn % len(ports)]
            turn += 1
            try:
                with Admin("127.0.0.1", port, timeout=IO_TIMEOUT_S) as conn:
                    conn.confirm_select()
                    while not self.stopping.is_set():
                        conn.publish_confirmed(self.queue, BODY)
                        self.confirms.append((time.monotonic(), port))
            except (OSError, AmqpError) as e:
                self.failures.append((time.monotonic(), port, str(e) or type(e).__name__))
                self.stopping.wait(RETRY_S)

    def stop(self):
        self.stopping.set()
        self.join(IO_TIMEOUT_S * 3)


def measure_failover(cluster, queue):
    """Kills the leader of a whole cluster (a RoostCluster or a RabbitMQCluster) under a
    confirming publisher; the metrics of that failover. The killed node stays down: the
    cluster's make_whole() brings it back before the next round."""
    with Admin("127.0.0.1", cluster.port) as adm:
        adm.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    victim = cluster.queue_leader(queue)
    survivors = [n.port for n in cluster.nodes if n is not victim]
    publisher = ConfirmingPublisher(victim.port, queue)
    publisher.start()
    try:
        if not wait_until(lambda: len(publisher.confirms) >= STEADY_CONFIRMS, LONGEST_S):
            raise BrokerDown("the probe got %d confirms in %.0f s before the kill (failures: %s)"
                             % (len(publisher.confirms), LONGEST_S, publisher.failures[-3:]))
        before = len(publisher.confirms)
        publisher.ports = survivors
        killed_at = time.monotonic()
        victim.kill9()

        def confirmed():
            return next((c for c in publisher.confirms[before:] if c[0] > killed_at and c[1] in survivors), None)
        found = wait_until(confirmed, LONGEST_S)
        if found is None:
            raise BrokerDown("no confirm within %.0f s of killing %s; last failures: %s"
                             % (LONGEST_S, victim.nodename, publisher.failures[-3:]))
        at, port = found
    finally:
        publisher.stop()
    try:
        with Admin("127.0.0.1", port) as adm:
            adm.queue_delete(queue)
    except (OSError, AmqpError):
        pass  # the next round declares a queue of its own
    failures = [f for f in publisher.failures if f[0] > killed_at]
    return {"failover_s": round(at - killed_at, 3), "killed": victim.nodename, "confirmed_on_port": port,
            "confirms_before_kill": before, "failed_attempts": len(failures),
            "first_failures": ["+%.2fs port %d: %s" % (t - killed_at, p, what) for t, p, what in failures[:3]]}

"""Failover under load: a publisher with confirms and a consumer, both reconnecting to any node
of a three-node cluster, while the leader is killed with kill -9 ten times at random moments
(each time it restarts and rejoins as a follower, by snapshot if it held unconfirmed work).
Afterwards every confirmed message has been delivered at least once, and once the queue is
drained on a stable leader, a last failover brings nothing acked back.

etcd (Debian's etcd-server) and three nodes on free local ports; lease TTL 1 s.
"""
import random
import threading
import time

import pika

import cluster_fixture as cf
import roost_fixture as rf

TTL = 1
KILLS = 10
QUEUE = "work"


def connect_any(c, stop):
    """A connection through any node, tried in random order (a follower passes it on to the
    leader; one that still names a dead leader, or a node that is down, fails at once)."""
    while not stop.is_set():
        for n in random.sample(c.nodes, len(c.nodes)):
            try:
                return pika.BlockingConnection(rf.params(port=n.amqp_port, socket_timeout=2, heartbeat=0))
            except Exception:
                continue
        time.sleep(0.05)
    return None


class Publisher(threading.Thread):
    def __init__(self, c):
        super().__init__(daemon=True)
        self.c, self.stop, self.confirmed, self.reconnects = c, threading.Event(), [], 0

    def run(self):
        i = 0
        while not self.stop.is_set():
            conn = connect_any(self.c, self.stop)
            if conn is None:
                return
            try:
                ch = conn.channel()
                ch.queue_declare(QUEUE, durable=True)
                ch.confirm_delivery()
                while not self.stop.is_set():
                    ch.basic_publish("", QUEUE, b"m%d" % i, pika.BasicProperties(delivery_mode=2))
                    self.confirmed.append(i)  # basic_publish returned: the broker confirmed it
                    i += 1
            except Exception:
                self.reconnects += 1  # i is sent again on the next connection (at least once)
            finally:
                try:
                    conn.close()
                except Exception:
                    pass


class Consumer(threading.Thread):
    def __init__(self, c):
        super().__init__(daemon=True)
        self.c, self.stop, self.delivered, self.reconnects = c, threading.Event(), set(), 0

    def run(self):
        while not self.stop.is_set():
            conn = connect_any(self.c, self.stop)
            if conn is None:
                return
            try:
                ch = conn.channel()
                ch.queue_declare(QUEUE, durable=True)
                ch.basic_qos(prefetch_count=50)
                for m, _, body in ch.consume(QUEUE, inactivity_timeout=0.2):
                    if self.stop.is_set():
                        break
                    if m is None:
                        continue
                    self.delivered.add(int(body[1:]))
                    ch.basic_ack(m.delivery_tag)
            except Exception:
                self.reconnects += 1
            finally:
                try:
                    conn.close()
                except Exception:
                    pass


@rf.timeout(240)
def test_ten_kills_of_the_leader_under_load_lose_no_confirmed_message():
    rng = random.Random(14)
    with cf.Cluster(nodes=3, lease_ttl=TTL) as c:
        c.wait_leader()
        c.wait_isr()
        pub, con = Publisher(c), Consumer(c)
        pub.start()
        con.start()
        took = []
        try:
            for _ in range(KILLS):
                c.wait_isr(timeout=30)  # every node listed: whichever is killed, another may lead
                leader = c.wait_leader(timeout=15)
                before = len(pub.confirmed)
                cf.wait_for(lambda: len(pub.confirmed) > before + 20, 15, "confirms on the current leader")
                time.sleep(rng.uniform(0.0, 0.5))  # a random moment in the load
                leader.kill9()
                killed_at = time.monotonic()
                c.wait_leader(exclude=[leader], timeout=15)
                took.append(time.monotonic() - killed_at)
                leader.start()
        finally:
            pub.stop.set()
            pub.join(30)
        confirmed = set(pub.confirmed)
        cf.wait_for(lambda: confirmed <= con.delivered, 60,
                    "every confirmed message delivered (%d missing)" % len(confirmed - con.delivered))
        con.stop.set()
        con.join(30)
        print("# %d kills of the leader under load: %d confirmed, all delivered; failover %.2f-%.2f s; "
              "publisher reconnected %d times, consumer %d" % (KILLS, len(confirmed), min(took), max(took),
                                                              pub.reconnects, con.reconnects))

        # Drained with acks on a stable leader: one more failover must bring nothing back.
        leader = c.wait_leader(timeout=15)
        conn = rf.connect(port=leader.amqp_port)
        ch = conn.channel()
        rf.drain_bodies(ch, QUEUE)
        rf.eq(ch.queue_declare(QUEUE, passive=True).method.message_count, 0)
        conn.close()
        c.wait_isr(timeout=30)
        c.wait_stores_equal(timeout=30)
        leader.kill9()
        new = c.wait_leader(exclude=[leader], timeout=15)
        conn = rf.connect(port=new.amqp_port)
        rf.eq(conn.channel().queue_declare(QUEUE, passive=True).method.message_count, 0, "acked messages came back")


if __name__ == "__main__":
    rf.main(file_broker=False)

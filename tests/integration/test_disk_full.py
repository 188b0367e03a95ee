"""A full disk while running: publishers are told, nothing confirmed is lost,
and the broker recovers once space comes back.

The data dir lives on a small tmpfs (the test mounts one; it is skipped
where mounting is not allowed). A filler file takes most of the space.
With the free-space alarm off, a confirm-mode publisher sends persistent
messages until the broker nacks one; the filler goes and publishing works
again; after a restart every confirmed message is there. With the alarm on
(RabbitMQ's disk_free_limit), the publisher is blocked (connection.blocked)
before the disk fills, and unblocked once space comes back.
"""
import os
import subprocess
import tempfile

import pika

import roost_fixture as rf

MOUNT_SIZE = 8 * 1024 * 1024
BODY = b"x" * 4096


def mount_tmpfs():
    point = tempfile.mkdtemp(prefix="roost-tinyfs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % MOUNT_SIZE, "tmpfs", point],
                       capture_output=True, timeout=10)
    if r.returncode != 0:
        os.rmdir(point)
        rf.skip("cannot mount a tmpfs here: %s" % r.stderr.decode().strip())
    return point


def unmount(point):
    subprocess.run(["umount", "-l", point], capture_output=True, timeout=10)
    os.rmdir(point)


def fill(path, leave_free):
    st = os.statvfs(os.path.dirname(path))
    size = max(st.f_bavail * st.f_frsize - leave_free, 0)
    with open(path, "wb") as fh:
        fh.write(b"\0" * size)


def publish_until_nacked(ch, q, limit):
    confirmed = 0
    for _ in range(limit):
        try:
            ch.basic_publish("", q, BODY, pika.BasicProperties(delivery_mode=2))
        except pika.exceptions.NackError:
            return confirmed, True
        confirmed += 1
    return confirmed, False


def test_disk_full_nacks_then_recovers_without_losing_confirmed_messages():
    point = mount_tmpfs()
    try:
        data = os.path.join(point, "data")
        os.mkdir(data)
        b = rf.start_broker(data_dir=data, extra_args=["--disk-free-limit", "0"])
        conn = rf.connect(port=b.port)
        ch = conn.channel()
        q = rf.uniq("full")
        ch.queue_declare(q, durable=True)
        ch.confirm_delivery()
        filler = os.path.join(point, "filler")
        fill(filler, 1024 * 1024)
        confirmed, nacked = publish_until_nacked(ch, q, 2000)
        assert nacked, "no nack after %d confirmed 4 KiB messages on a full disk" % confirmed
        assert b.proc.poll() is None, "broker died on a full disk"
        os.remove(filler)
        more, nacked_again = publish_until_nacked(ch, q, 50)
        assert not nacked_again, "still nacking after space came back (%d ok)" % more
        confirmed += more
        conn.close()
        b = rf.restart_broker(b)
        ch = rf.connect(port=b.port).channel()
        depth = ch.queue_declare(q, durable=True, passive=True).method.message_count
        print("#   confirmed=%d recovered=%d" % (confirmed, depth))
        assert depth >= confirmed, "confirmed %d, recovered only %d" % (confirmed, depth)
        rf.stop_broker_clean(b)
    finally:
        for brk in list(rf._test_brokers):
            brk.kill9()
        unmount(point)


def test_free_space_alarm_blocks_publishers_until_space_returns():
    point = mount_tmpfs()
    try:
        data = os.path.join(point, "data")
        os.mkdir(data)
        b = rf.start_broker(data_dir=data, extra_args=["--disk-free-limit", str(3 * 1024 * 1024)])
        conn = rf.connect(port=b.port)
        events = []
        conn.add_on_connection_blocked_callback(lambda c, m: events.append("blocked"))
        conn.add_on_connection_unblocked_callback(lambda c, m: events.append("unblocked"))
        ch = conn.channel()
        q = rf.uniq("alarm")
        ch.queue_declare(q, durable=True)
        ch.basic_publish("", q, b"before", pika.BasicProperties(delivery_mode=2))
        filler = os.path.join(point, "filler")
        fill(filler, 2 * 1024 * 1024)
        # Keep publishing (pika does not wait for a reply) until the broker says it is blocked.
        rf.wait_until(conn, lambda: (ch.basic_publish("", q, b"during"), "blocked" in events)[1], 15,
                      "connection.blocked under the free-space limit")
        os.remove(filler)
        rf.wait_until(conn, lambda: "unblocked" in events, 15, "connection.unblocked after space came back")
        rf.wait_until(conn, lambda: ch.queue_declare(q, durable=True, passive=True).method.message_count >= 2, 15,
                      "messages published during the alarm arrive afterwards")
        conn.close()
        rf.stop_broker_clean(b)
    finally:
        for brk in list(rf._test_brokers):
            brk.kill9()
        unmount(point)


if __name__ == "__main__":
    rf.main(file_broker=False)

"""What every part of the benchmark shares: its clock and log, the exceptions that
end a run, and the /proc helpers that find and stop the processes it started by
PID (never by name).
"""
import os
import random
import signal
import socket
import time

START = time.monotonic()  # the benchmark's clock: log lines and the time cap count from here


class Interrupted(Exception):
    """SIGINT / SIGTERM."""


class TimeCap(Exception):
    """The hard time cap went off."""


class BrokerDown(Exception):
    pass


def log(msg):
    print("[bench %6.1fs] %s" % (time.monotonic() - START, msg), flush=True)


def stop_each(nodes, what):
    """Stops every node (node.stop(), naming node.nodename), logging a failure and going on
    with the others."""
    for node in nodes:
        try:
            node.stop()
        except Exception as e:  # keep stopping the others
            log("stopping %s %s: %s" % (what, node.nodename, e))


# ---------------------------------------------------------------- processes

def proc_starttime(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root):
    """Every live process below root (by parent links)."""
    parent = {pid: proc_ppid(pid) for pid in all_pids()}
    out, frontier = [], [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        frontier += kids
    return out


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BrokerDown("no VmRSS for pid %d" % pid)


def is_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid, name, grace=20.0):
    """SIGTERM, then SIGKILL after grace seconds. Only for processes we started."""
    if not is_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.05)
    log("%s (pid %d) did not stop within %.0f s; killing it" % (name, pid, grace))
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def lasting_ports(n):
    """n distinct ports that were free a moment ago, below the kernel's ephemeral range: for a
    node that keeps its ports across a restart (cluster nodes after a failover), whose port
    could otherwise meanwhile become the source port of some outgoing connection."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    ports = []
    while len(ports) < n:
        candidate = random.randrange(10000, low)
        if candidate in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
        ports.append(candidate)
    return ports


def wait_until(predicate, timeout):
    """predicate()'s first true value, polled every 50 ms, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value or None
        time.sleep(0.05)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class PidBook:
    """Everything we start goes into WORK/pids, so scripts/bench can stop it even if we are killed."""

    def __init__(self, work):
        self.path = os.path.join(work, "pids")

    def add(self, pid, name):
        start = proc_starttime(pid)
        if start is not None:
            with open(self.path, "a") as f:
                f.write("%d %s %s\n" % (pid, start, name))

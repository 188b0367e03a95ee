"""Processes the benchmark starts and stops: Roost, a private RabbitMQ node,
and the /proc helpers that find and stop them by PID (never by name).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from amqp_admin import Admin, AmqpError  # noqa: F401  (AmqpError: raised to callers)

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
START = time.monotonic()  # the benchmark's clock: log lines and the time cap count from here

class Interrupted(Exception):
    """SIGINT / SIGTERM."""


class TimeCap(Exception):
    """The hard time cap went off."""


class BrokerDown(Exception):
    pass


def log(msg):
    print("[bench %6.1fs] %s" % (time.monotonic() - START, msg), flush=True)


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


# ---------------------------------------------------------------- brokers

def amqp_uri(port, tls=False):
    return "%s://guest:guest@127.0.0.1:%d/%%2F" % ("amqps" if tls else "amqp", port)


class Roost:
    name, label = "roost", "Roost"

    def __init__(self, binary, work, pids, tls=None):
        self.binary, self.work, self.pids = binary, work, pids
        self.tls = tls  # tls_certs.Certs: also listen for AMQPS
        self.proc, self.port, self.tls_port, self.generation, self.version = None, None, None, 0, None
        self.logs = []

    @property
    def pid(self):
        return self.proc.pid

    @property
    def uri(self):
        return amqp_uri(self.port)

    @property
    def tls_uri(self):
        return amqp_uri(self.tls_port, tls=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        self.generation += 1
        base = os.path.join(self.work, "roost-%d" % self.generation)
        os.makedirs(os.path.join(base, "data"))
        logpath = os.path.join(base, "roost.log")
        self.logs.append(logpath)
        tls_args = [] if self.tls is None else ["--tls-cert", self.tls.server_cert, "--tls-key", self.tls.server_key,
                                                "--amqps-port", "0"]
        with open(logpath, "w") as logf:
            self.proc = subprocess.Popen(
                [self.binary, "--bind", "127.0.0.1", "--amqp-port", "0", "--http-port", "0",
                 "--data-dir", os.path.join(base, "data")] + tls_args,
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.pids.add(self.proc.pid, "roost")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(logpath) as f:
                text = f.read()
            m = re.search(r"^listening amqp 127\.0\.0\.1 (\d+)$", text, re.M)
            m_tls = re.search(r"^listening amqps 127\.0\.0\.1 (\d+)$", text, re.M)
            if m and (m_tls or self.tls is None):
                self.port = int(m.group(1))
                self.tls_port = int(m_tls.group(1)) if m_tls else None
                break
            if self.proc.poll() is not None:
                raise BrokerDown("roost exited with %s at startup; see %s" % (self.proc.returncode, logpath))
            time.sleep(0.05)
        else:
            raise BrokerDown("roost printed no 'listening amqp' line within 30 s")
        with Admin("127.0.0.1", self.port) as adm:
            self.version = str(adm.server_properties.get("version", "?"))
        log("Roost %s up: pid %d, port %d%s" % (self.version, self.pid, self.port,
                                                 ", AMQPS %d" % self.tls_port if self.tls_port else ""))

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid, "roost", grace=15)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None


class RabbitMQ:
    name, label = "rabbitmq", "RabbitMQ"

    def __init__(self, work, pids, tls=None):
        self.work, self.pids = work, pids
        self.tls = tls  # tls_certs.Certs: also listen for AMQPS (ssl_options in rabbitmq.conf)
        self.wrapper = self.epmd = None
        self.beam_pid = None
        self.port = self.tls_port = None
        self.generation = 0
        self.version = self.platform = None
        self.logs = []

    @property
    def pid(self):
        return self.beam_pid

    @property
    def uri(self):
        return amqp_uri(self.port)

    @property
    def tls_uri(self):
        return amqp_uri(self.tls_port, tls=True)

    def alive(self):
        return self.wrapper is not None and self.wrapper.poll() is None and self.beam_pid and is_alive(self.beam_pid)

    def start(self):
        self.generation += 1
        base = os.path.join(self.work, "rabbit-%d" % self.generation)
        for d in ("mnesia", "log", "home"):
            os.makedirs(os.path.join(base, d))
        with open(os.path.join(base, "enabled_plugins"), "w") as f:
            f.write("[].\n")  # no management plugin, no plugins at all
        self.port, dist_port, epmd_port, self.tls_port = free_ports(4)
        with open(os.path.join(base, "rabbitmq.conf"), "w") as f:
            if self.tls is not None:
                # The same certificate as Roost's, TLS 1.2 and 1.3, no client certificates.
                f.write("listeners.ssl.default = 127.0.0.1:%d\n" % self.tls_port)
                f.write("ssl_options.cacertfile = %s\nssl_options.certfile = %s\nssl_options.keyfile = %s\n"
                        % (self.tls.ca, self.tls.server_cert, self.tls.server_key))
                f.write("ssl_options.verify = verify_none\nssl_options.fail_if_no_peer_cert = false\n")
                f.write("ssl_options.versions.1 = tlsv1.3\nssl_options.versions.2 = tlsv1.2\n")
        open(os.path.join(base, "rabbitmq-env.conf"), "w").close()  # instead of /etc/rabbitmq/rabbitmq-env.conf
        self.nodename = "roostbench-%d@localhost" % os.getpid()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RABBITMQ_", "ERL_")) and k not in ("NOTIFY_SOCKET", "HOME")}
        env.update({
            "HOME": os.path.join(base, "home"),  # its own Erlang cookie
            "ERL_EPMD_PORT": str(epmd_port), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.nodename, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(base, "mnesia"), "RABBITMQ_LOG_BASE": os.path.join(base, "log"),
            "RABBITMQ_CONFIG_FILE": os.path.join(base, "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(base, "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(base, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "enabled_plugins"),
            "RABBITMQ_PID_FILE": os.path.join(base, "rabbitmq.pid"),
        })
        out = os.path.join(base, "log", "stdout.log")
        self.logs.append(os.path.join(base, "log"))
        # Its own epmd, in the foreground, so we know its PID; the node finds it through ERL_EPMD_PORT.
        with open(os.path.join(base, "log", "epmd.log"), "w") as ef:
            self.epmd = subprocess.Popen(["epmd", "-port", str(epmd_port), "-address", "127.0.0.1"], env=env,
                                         stdout=ef, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.pids.add(self.epmd.pid, "epmd")
        deadline = time.monotonic() + 10
        while not port_open(epmd_port):
            if self.epmd.poll() is not None or time.monotonic() > deadline:
                raise BrokerDown("epmd did not start on port %d" % epmd_port)
            time.sleep(0.05)
        with open(out, "w") as of:
            self.wrapper = subprocess.Popen([RABBITMQ_SERVER], env=env, cwd=base, stdout=of,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self.pids.add(self.wrapper.pid, "rabbitmq-server")
        deadline = time.monotonic() + 90
        while True:
            if self.wrapper.poll() is not None:
                raise BrokerDown("rabbitmq-server exited with %s at startup; see %s" % (self.wrapper.returncode, out))
            if time.monotonic() > deadline:
                raise BrokerDown("RabbitMQ did not accept AMQP within 90 s; see %s" % out)
            if self.beam_pid is None or not is_alive(self.beam_pid):
                beams = [p for p in descendants(self.wrapper.pid) if proc_comm(p) == "beam.smp"]
                if beams:
                    self.beam_pid = beams[0]
                    self.pids.add(self.beam_pid, "beam.smp")
            with open(out, errors="replace") as f:
                started = "Starting broker... completed" in f.read()
            if started and self.beam_pid and port_open(self.port):
                try:
                    with Admin("127.0.0.1", self.port) as adm:
                        self.version = str(adm.server_properties.get("version", "?"))
                        self.platform = str(adm.server_properties.get("platform", ""))
                    break
                except (OSError, AmqpError):
                    pass
            time.sleep(0.2)
        if self.tls is not None:
            deadline = time.monotonic() + 30
            while not port_open(self.tls_port):
                if time.monotonic() > deadline:
                    raise BrokerDown("RabbitMQ did not listen for AMQPS on %d within 30 s; see %s" % (self.tls_port, out))
                time.sleep(0.2)
        log("RabbitMQ %s (%s) up: node %s, beam.smp pid %d, AMQP port %d%s, dist %d, epmd %d"
            % (self.version, self.platform, self.nodename, self.beam_pid, self.port,
               ", AMQPS %d" % self.tls_port if self.tls is not None else "", dist_port, epmd_port))

    def stop(self):
        # SIGTERM to beam.smp is Erlang's graceful init:stop(); the wrapper script then exits.
        if self.beam_pid:
            stop_pid(self.beam_pid, "RabbitMQ beam.smp", grace=30)
            self.beam_pid = None
        if self.wrapper is not None:
            try:
                self.wrapper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop_pid(self.wrapper.pid, "rabbitmq-server wrapper", grace=5)
            # Leftovers of our node (erl_child_setup, inet_gethost) share the wrapper's process group.
            try:
                os.killpg(self.wrapper.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.wrapper = None
        if self.epmd is not None:
            stop_pid(self.epmd.pid, "epmd", grace=5)
            try:
                self.epmd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.epmd = None


def stop_default_rabbitmq():
    """A node started by the package install (the service runs as the system user rabbitmq, with HOME
    /var/lib/rabbitmq) would compete for the cores: stop it. Other private nodes (other people's
    test runs, started with their own -home) are left alone."""
    try:
        import pwd
        service_uid = pwd.getpwnam("rabbitmq").pw_uid
    except (KeyError, ImportError):
        service_uid = None

    def default_nodes():
        found = []
        for pid in all_pids():
            if proc_comm(pid) != "beam.smp":
                continue
            args = proc_cmdline(pid)
            home = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "-home"), None)
            try:
                uid = os.stat("/proc/%d" % pid).st_uid
            except OSError:
                continue
            if home == "/var/lib/rabbitmq" or (service_uid is not None and uid == service_uid):
                found.append(pid)
        return found

    pids = default_nodes()
    if not pids:
        return None
    log("the package's RabbitMQ service node is running (beam.smp pid %s); stopping it" % pids)
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        subprocess.run(["systemctl", "stop", "rabbitmq-server"], timeout=90, check=False)
    for pid in default_nodes():
        stop_pid(pid, "the default RabbitMQ node", grace=30)
    return "stopped the package's default RabbitMQ node (beam.smp pid %s)" % pids


# ---------------------------------------------------------------- scenarios

"""The brokers of the single-node scenarios: one Roost and one private RabbitMQ
node, started on free loopback ports and stopped by PID.
"""
import os
import re
import shutil
import subprocess
import time

from amqp_admin import Admin
from processes import BrokerDown, PidBook, all_pids, free_ports, log, port_open, proc_cmdline, proc_comm, stop_pid
from rabbitmq_node import Epmd, RabbitNode


def amqp_uri(port, tls=False):
    return "%s://guest:guest@127.0.0.1:%d/%%2F" % ("amqps" if tls else "amqp", port)


class Roost:
    name, label = "roost", "Roost"

    def __init__(self, binary, work, pids, tls=None, extra_args=(), dirname="roost"):
        self.binary, self.work, self.pids = binary, work, pids
        self.tls = tls  # tls_certs.Certs: also listen for AMQPS
        self.extra_args, self.dirname = list(extra_args), dirname  # another configuration, in its own dirs
        self.proc, self.port, self.tls_port, self.generation, self.version = None, None, None, 0, None
        self.http_port = None
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
        base = os.path.join(self.work, "%s-%d" % (self.dirname, self.generation))
        os.makedirs(os.path.join(base, "data"))
        logpath = os.path.join(base, "roost.log")
        self.logs.append(logpath)
        tls_args = [] if self.tls is None else ["--tls-cert", self.tls.server_cert, "--tls-key", self.tls.server_key,
                                                "--amqps-port", "0"]
        with open(logpath, "w") as logf:
            self.proc = subprocess.Popen(
                [self.binary, "--bind", "127.0.0.1", "--amqp-port", "0", "--http-port", "0",
                 "--data-dir", os.path.join(base, "data")] + tls_args + self.extra_args,
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.pids.add(self.proc.pid, "roost")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(logpath) as f:
                text = f.read()
            m = re.search(r"^listening amqp 127\.0\.0\.1 (\d+)$", text, re.M)
            m_tls = re.search(r"^listening amqps 127\.0\.0\.1 (\d+)$", text, re.M)
            m_http = re.search(r"^listening http 127\.0\.0\.1 (\d+)$", text, re.M)
            if m and m_http and (m_tls or self.tls is None):
                self.port = int(m.group(1))
                self.http_port = int(m_http.group(1))
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

    def __init__(self, work, pids: PidBook, tls=None):
        self.work, self.pids = work, pids
        self.tls = tls  # tls_certs.Certs: also listen for AMQPS (ssl_options in rabbitmq.conf)
        self.epmd = self.node = None
        self.port = self.tls_port = None
        self.generation = 0
        self.version = self.platform = None
        self.logs = []

    @property
    def pid(self):
        return self.node.beam_pid

    @property
    def uri(self):
        return amqp_uri(self.port)

    @property
    def tls_uri(self):
        return amqp_uri(self.tls_port, tls=True)

    def alive(self):
        return self.node is not None and self.node.alive()

    def tls_conf(self):
        if self.tls is None:
            return ""
        # The same certificate as Roost's, TLS 1.2 and 1.3, no client certificates.
        return ("listeners.ssl.default = 127.0.0.1:%d\n" % self.tls_port
                + "ssl_options.cacertfile = %s\nssl_options.certfile = %s\nssl_options.keyfile = %s\n"
                % (self.tls.ca, self.tls.server_cert, self.tls.server_key)
                + "ssl_options.verify = verify_none\nssl_options.fail_if_no_peer_cert = false\n"
                + "ssl_options.versions.1 = tlsv1.3\nssl_options.versions.2 = tlsv1.2\n")

    def start(self):
        self.generation += 1
        base = os.path.join(self.work, "rabbit-%d" % self.generation)
        self.port, dist_port, epmd_port, self.tls_port = free_ports(4)
        self.node = RabbitNode(base, "roostbench-%d@localhost" % os.getpid(), self.port, dist_port, epmd_port,
                               os.path.join(base, "home"), self.pids, self.tls_conf())  # its own Erlang cookie
        self.logs.append(self.node.log_dir)
        os.makedirs(self.node.log_dir)
        self.epmd = Epmd(epmd_port, os.path.join(self.node.log_dir, "epmd.log"), self.pids).start()
        self.node.start()
        self.version, self.platform = self.node.version, self.node.platform
        if self.tls is not None:
            deadline = time.monotonic() + 30
            while not port_open(self.tls_port):
                if time.monotonic() > deadline:
                    raise BrokerDown("RabbitMQ did not listen for AMQPS on %d within 30 s; see %s"
                                     % (self.tls_port, self.node.stdout_path))
                time.sleep(0.2)
        log("RabbitMQ %s (%s) up: node %s, beam.smp pid %d, AMQP port %d%s, dist %d, epmd %d"
            % (self.version, self.platform, self.node.nodename, self.pid, self.port,
               ", AMQPS %d" % self.tls_port if self.tls is not None else "", dist_port, epmd_port))

    def stop(self):
        if self.node is not None:
            self.node.stop()
            self.node = None
        if self.epmd is not None:
            self.epmd.stop()
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


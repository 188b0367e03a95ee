"""One private RabbitMQ node and the epmd it registers with: what brokers.RabbitMQ
(a single node) and rabbitmq_cluster.RabbitMQCluster (three) are made of.

A node gets its own dirs (mnesia, logs, config files), its own ports and no
plugins, and nothing from /etc/rabbitmq; its processes go into the PidBook.
"""
import os
import signal
import subprocess
import time

from amqp_admin import Admin, AmqpError
from processes import BrokerDown, PidBook, descendants, is_alive, port_open, proc_comm, stop_pid

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
# Not /usr/sbin/rabbitmqctl: run as root, that wrapper switches to the rabbitmq user and its HOME,
# whose Erlang cookie is not our nodes'.
RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


class Epmd:
    """Erlang's port mapper, in the foreground so that we know its PID; nodes and rabbitmqctl
    find it through ERL_EPMD_PORT."""

    def __init__(self, port, logpath, pids: PidBook):
        self.port, self.logpath, self.pids = port, logpath, pids
        self.proc = None

    def start(self):
        with open(self.logpath, "w") as ef:
            self.proc = subprocess.Popen(["epmd", "-port", str(self.port), "-address", "127.0.0.1"],
                                         stdout=ef, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.pids.add(self.proc.pid, "epmd")
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BrokerDown("epmd did not start on port %d" % self.port)
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc is not None:
            stop_pid(self.proc.pid, "epmd", grace=5)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None


class RabbitNode:
    """rabbitmq-server (a wrapper script) and the beam.smp below it. `home` holds the Erlang
    cookie: nodes that share it may cluster. `conf` is the text of its rabbitmq.conf."""

    def __init__(self, base, nodename, port, dist_port, epmd_port, home, pids: PidBook, conf=""):
        self.base, self.nodename, self.port, self.dist_port = base, nodename, port, dist_port
        self.epmd_port, self.home, self.pids, self.conf = epmd_port, home, pids, conf
        self.log_dir = os.path.join(base, "log")
        self.wrapper, self.beam_pid, self.stdout_path = None, None, None
        self.starts = 0
        self.version = self.platform = None

    def env(self):
        base = self.base
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RABBITMQ_", "ERL_")) and k not in ("NOTIFY_SOCKET", "HOME")}
        env.update({
            "HOME": self.home,
            "ERL_EPMD_PORT": str(self.epmd_port), "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": self.nodename, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(base, "mnesia"), "RABBITMQ_LOG_BASE": self.log_dir,
            "RABBITMQ_CONFIG_FILE": os.path.join(base, "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": os.path.join(base, "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(base, "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "enabled_plugins"),
            "RABBITMQ_PID_FILE": os.path.join(base, "rabbitmq.pid"),
        })
        return env

    def _write_config(self):
        for d in ("mnesia", "log"):
            os.makedirs(os.path.join(self.base, d), exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        with open(os.path.join(self.base, "enabled_plugins"), "w") as f:
            f.write("[].\n")  # no management plugin, no plugins at all
        with open(os.path.join(self.base, "rabbitmq.conf"), "w") as f:
            f.write(self.conf)
        open(os.path.join(self.base, "rabbitmq-env.conf"), "w").close()  # instead of /etc/rabbitmq/rabbitmq-env.conf

    def launch(self):
        """Starts the node without waiting for it (a cluster boots its nodes side by side).
        A restart keeps the dirs, so a cluster member comes back as one."""
        if self.starts == 0:
            self._write_config()
        self.starts += 1
        # One stdout file per start: wait_started looks for this start's "completed" line.
        self.stdout_path = os.path.join(self.log_dir, "stdout-%d.log" % self.starts)
        with open(self.stdout_path, "w") as of:
            self.wrapper = subprocess.Popen([RABBITMQ_SERVER], env=self.env(), cwd=self.base, stdout=of,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self.pids.add(self.wrapper.pid, "rabbitmq-server")
        self.beam_pid = None

    def wait_started(self, timeout=90):
        """Until the node boots and answers AMQP; sets version and platform."""
        deadline = time.monotonic() + timeout
        while True:
            if self.wrapper.poll() is not None:
                raise BrokerDown("rabbitmq-server %s exited with %s at startup; see %s"
                                 % (self.nodename, self.wrapper.returncode, self.stdout_path))
            if time.monotonic() > deadline:
                raise BrokerDown("RabbitMQ %s did not accept AMQP within %.0f s; see %s"
                                 % (self.nodename, timeout, self.stdout_path))
            self._find_beam()
            with open(self.stdout_path, errors="replace") as f:
                started = "Starting broker... completed" in f.read()
            if started and self.beam_pid and port_open(self.port):
                try:
                    with Admin("127.0.0.1", self.port) as adm:
                        self.version = str(adm.server_properties.get("version", "?"))
                        self.platform = str(adm.server_properties.get("platform", ""))
                    return
                except (OSError, AmqpError):
                    pass
            time.sleep(0.2)

    def _find_beam(self):
        """The node's beam.smp below the wrapper, once the wrapper has started it."""
        if self.wrapper is not None and (self.beam_pid is None or not is_alive(self.beam_pid)):
            beams = [p for p in descendants(self.wrapper.pid) if proc_comm(p) == "beam.smp"]
            if beams:
                self.beam_pid = beams[0]
                self.pids.add(self.beam_pid, "beam.smp")
        return self.beam_pid

    def start(self, timeout=90):
        self.launch()
        self.wait_started(timeout)

    def alive(self):
        return self.wrapper is not None and self.wrapper.poll() is None and bool(self.beam_pid) \
            and is_alive(self.beam_pid)

    def ctl(self, *args, timeout=120):
        """rabbitmqctl against this node; its stdout. The CLI is an Erlang node of its own (it needs
        our cookie and epmd); on a timeout its whole process group goes."""
        cmd = [RABBITMQCTL, "-n", self.nodename] + list(args)
        proc = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        self.pids.add(proc.pid, "rabbitmqctl")
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            out = "timed out after %.0f s" % timeout
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.returncode != 0:
            raise BrokerDown("rabbitmqctl %s on %s failed: %s" % (" ".join(args), self.nodename, out.strip()[-500:]))
        return out

    def kill9(self):
        """SIGKILL to beam.smp, as a crash would; the wrapper script then exits by itself."""
        beam = self._find_beam()
        if beam and is_alive(beam):
            os.kill(beam, signal.SIGKILL)
        self._reap_wrapper(exits_by_itself=beam is not None)

    def stop(self):
        # SIGTERM to beam.smp is Erlang's graceful init:stop(); the wrapper script then exits.
        beam = self._find_beam()
        if beam:
            stop_pid(beam, "RabbitMQ beam.smp", grace=30)
        self._reap_wrapper(exits_by_itself=beam is not None)

    def _reap_wrapper(self, exits_by_itself):
        """Once beam.smp is gone the wrapper exits; without one (stopped while booting) it
        would go on to start it, so it is stopped at once."""
        self.beam_pid = None
        if self.wrapper is None:
            return
        try:
            self.wrapper.wait(timeout=10 if exits_by_itself else 0)
        except subprocess.TimeoutExpired:
            stop_pid(self.wrapper.pid, "rabbitmq-server wrapper", grace=5)
        # Leftovers of our node (erl_child_setup, inet_gethost) share the wrapper's process group.
        try:
            os.killpg(self.wrapper.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.wrapper = None

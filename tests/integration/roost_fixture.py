"""Shared fixture + tiny test runner for Roost's Python integration tests.

Usage in a test file:

    import roost_fixture as rf

    def test_something():
        conn = rf.connect()          # pika BlockingConnection, closed after the test
        ch = conn.channel()
        q = rf.uniq("q")             # unique name per test
        ...

    if __name__ == "__main__":
        rf.main()

The runner starts one broker per test file (``$ROOST_BIN --bind 127.0.0.1
--amqp-port 0 --http-port 0 --data-dir <tmp> --log-level info``), waits (bounded) for its
``listening amqp 127.0.0.1 <port>`` and ``listening http 127.0.0.1 <port>`` lines on stdout
(``Broker.port`` and ``Broker.http_port``; ``http_port()`` for the file's broker; with TLS
flags also ``listening amqps|https``, in ``Broker.listening``), runs every ``test_*``
function of the calling module in definition order, then stops the broker by
PID (SIGTERM, bounded wait, SIGKILL) and fails if it crashed or exited
non-zero.  With ``ROOST_EXTERNAL_PORT=<port>`` nothing is started and the tests
run against an existing broker on 127.0.0.1:<port> (e.g. real RabbitMQ), whose HTTP API
is on ``ROOST_EXTERNAL_HTTP_PORT`` (default 15672).

Every test is bounded (per-test SIGALRM timeout) and the whole file is bounded
by a watchdog thread that kills the broker and exits.  The last line printed is
``N passed, M failed``; the exit status is non-zero on any failure.

Command line: ``test_x.py [substring ...]`` runs only the tests whose name
contains one of the substrings.

Restart / durability tests (``test_durability_*.py``, ``test_bad_data_dir.py``) call
``main(file_broker=False)`` and start their own brokers inside each test:

    b = rf.start_broker()                 # fresh temp data dir (or data_dir=..., extra_args=[...])
    conn = rf.connect(port=b.port)
    b = rf.restart_broker(b)              # SIGTERM, wait, must exit 0; new process, same dir
    b = rf.restart_broker(b, kill=True)   # SIGKILL by PID, wait; new process, same dir

Brokers a test started are stopped after it (SIGTERM + exit-status check when the test
passed, SIGKILL otherwise; their stderr is printed on failure) and their temp data dirs
removed (kept with ROOST_KEEP_DATA=1).  With ROOST_EXTERNAL_PORT these tests are skipped.
``@rf.timeout(seconds)`` sets one test's time limit.
"""
import atexit
import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0       # seconds to wait for the "listening amqp" line
SHUTDOWN_TIMEOUT = 10.0      # seconds to wait for exit after SIGTERM
DEFAULT_TEST_TIMEOUT = 60    # seconds per test function
DEFAULT_TOTAL_TIMEOUT = 270  # seconds for the whole file (ctest kills at 300)

HERE = os.path.dirname(os.path.abspath(__file__))


def _default_bin():
    return os.path.normpath(os.path.join(HERE, "..", "..", "build", "test", "app", "roost"))


def _die_with_parent():
    """In the child before exec: get SIGKILL if the test process dies (even by SIGKILL)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class BrokerFailed(Exception):
    pass


class Broker:
    """One broker process (or an external broker when ROOST_EXTERNAL_PORT is set)."""

    def __init__(self, data_dir=None, extra_args=(), bind=HOST):
        self.data_dir = data_dir      # None: a fresh "data" dir inside the broker's temp dir
        self.data_path = None         # the data dir it runs on, once started
        self.extra_args = list(extra_args)
        self.bind = bind              # --bind; clients still connect to HOST (a wildcard covers it)
        self.ready_seconds = None     # from spawn to the "listening" line
        self.killed = False           # kill9() ran
        self.proc = None
        self.port = None
        self.http_port = None
        self.listening = {}           # protocol -> port, from the "listening" lines ("amqps", "https", ...)
        self.pid = None
        self.tmpdir = None
        self.stderr_path = None
        self.stdout_lines = []
        self.external = False
        self.stopped = None  # list of problems once stop() ran
        self.terminating = False  # SIGTERM already sent by terminate()
        self._stderr_file = None
        self._reader = None

    # -- lifecycle
    def start(self):
        ext = os.environ.get("ROOST_EXTERNAL_PORT")
        if ext:
            self.external = True
            self.port = int(ext)
            self.http_port = int(os.environ.get("ROOST_EXTERNAL_HTTP_PORT", "15672"))
            return self
        binary = os.environ.get("ROOST_BIN") or _default_bin()
        if not os.path.exists(binary):
            raise BrokerFailed("broker binary not found: %s (set ROOST_BIN or ROOST_EXTERNAL_PORT)" % binary)
        self.tmpdir = tempfile.mkdtemp(prefix="roost-it-")
        if self.data_dir is None:
            data_dir = os.path.join(self.tmpdir, "data")
            os.mkdir(data_dir)
        else:
            data_dir = self.data_dir  # given by the caller, who owns (and removes) it
        self.data_path = data_dir
        self.stderr_path = os.path.join(self.tmpdir, "broker.stderr.log")
        self._stderr_file = open(self.stderr_path, "wb")
        t_spawn = time.monotonic()
        self.proc = subprocess.Popen(
            [binary, "--bind", self.bind, "--amqp-port", "0", "--http-port", "0", "--data-dir", data_dir,
             "--log-level", "info"]
            + self.extra_args,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr_file,
            preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        _live_brokers.append(self)
        ready = threading.Event()
        expected = self.expected_listeners()

        def read_stdout():
            # Keeps draining stdout for the broker's whole life so it never blocks on a full pipe.
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.stdout_lines.append(line)
                parts = line.split()
                # Ready once every listener the command line asks for is announced.
                if not ready.is_set() and len(parts) == 4 and parts[0] == "listening" and parts[2] == self.bind:
                    try:
                        self.listening[parts[1]] = int(parts[3])
                    except ValueError:
                        ready.set()
                    if expected <= set(self.listening):
                        ready.set()
            ready.set()  # EOF: the broker exited (or closed stdout) before/after being ready

        self._reader = threading.Thread(target=read_stdout, name="roost-stdout", daemon=True)
        self._reader.start()
        if not ready.wait(STARTUP_TIMEOUT) or not expected <= set(self.listening):
            try:  # stdout hit EOF: give the process a moment to be reaped for its status
                rc = self.proc.wait(2)
            except subprocess.TimeoutExpired:
                rc = None
            why = ("exited with status %s" % rc) if rc is not None else \
                "did not print 'listening %s %s <port>' within %.0fs" % ("|".join(sorted(expected)), self.bind,
                                                                       STARTUP_TIMEOUT)
            self.kill()
            self.dump_logs()
            self.cleanup()
            raise BrokerFailed("broker %s; stdout=%r" % (why, self.stdout_lines))
        self.port = self.listening.get("amqp")
        self.http_port = self.listening["http"]
        self.ready_seconds = time.monotonic() - t_spawn
        return self

    def expected_listeners(self):
        """The listeners the command line asks for (the last --amqp-port wins, as in roost):
        amqp unless -1, amqps with a certificate, https with --https-port, always http."""
        args = ["--amqp-port", "0"] + self.extra_args
        amqp_port = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--amqp-port"][-1]
        expected = {"http"}
        if amqp_port != "-1":
            expected.add("amqp")
        if "--tls-cert" in args:
            expected.add("amqps")
        if "--https-port" in args:
            expected.add("https")
        return expected

    def alive(self):
        return self.external or (self.proc is not None and self.proc.poll() is None)

    def returncode(self):
        return None if self.proc is None else self.proc.poll()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def kill9(self):
        """Crash the broker: SIGKILL by PID and wait for it. A later stop() reports nothing.
        Returns the exit status (-9 if the kill did it)."""
        if self.external or self.proc is None:
            raise BrokerFailed("cannot kill an external broker")
        self.killed = True
        if self.stopped is None:
            self.stopped = []
        self.kill()
        if self._reader is not None:
            self._reader.join(2)
        return self.proc.poll()

    def stderr_text(self):
        """Everything the broker wrote to stderr so far."""
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        if self._stderr_file is not None:
            self._stderr_file.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def recovered_line(self, timeout=5.0):
        """The stderr line containing 'recovered' (startup recovery summary), or None.
        Polls the log file (bounded): the broker may log it just after it started listening."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stderr_text().splitlines():
                if "recovered" in line:
                    return line
            if time.monotonic() > deadline or not self.alive():
                return None
            time.sleep(0.05)

    def terminate(self):
        """Send SIGTERM now without waiting (a later stop() waits and checks the exit status)."""
        if self.proc is not None and self.proc.poll() is None:
            self.terminating = True
            os.kill(self.pid, signal.SIGTERM)

    def stop(self):
        """SIGTERM, bounded wait, SIGKILL. Returns a list of problems (empty if clean exit 0).
        Idempotent: a second call returns the first call's problems."""
        if self.stopped is not None:
            return self.stopped
        problems = []
        if self.external or self.proc is None:
            return problems
        self.stopped = problems
        rc = self.proc.poll()
        if rc is not None and not self.terminating:
            problems.append("broker died during the tests (exit status %s)" % rc)
        else:
            if rc is None and not self.terminating:
                os.kill(self.pid, signal.SIGTERM)
            try:
                rc = self.proc.wait(SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append("broker did not exit within %.0fs of SIGTERM; sent SIGKILL" % SHUTDOWN_TIMEOUT)
                self.kill()
                rc = None
            if rc is not None and rc != 0:
                problems.append("broker exited with status %s after SIGTERM (expected 0)%s"
                                % (rc, " (signal %d)" % -rc if rc < 0 else ""))
        if self._reader is not None:
            self._reader.join(2)
        return problems

    def dump_logs(self, max_lines=300):
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return
        if self._stderr_file is not None:
            self._stderr_file.flush()
        with open(self.stderr_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        print("----- broker stderr (%s, last %d of %d lines) -----"
              % (self.stderr_path, min(max_lines, len(lines)), len(lines)))
        for line in lines[-max_lines:]:
            print(line)
        print("----- end of broker stderr -----")
        sys.stdout.flush()

    def cleanup(self):
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        if self in _live_brokers:
            _live_brokers.remove(self)


_live_brokers = []


@atexit.register
def _kill_leftovers():
    for b in list(_live_brokers):
        b.kill()
        b.cleanup()


BROKER = None          # the Broker of the running test file
_open_connections = []  # connections opened by the current test, closed after it
_test_brokers = []      # brokers started by the current test (start_broker/restart_broker)
_test_dirs = []         # temp data dirs made for the current test (new_data_dir)


def port():
    return BROKER.port


def http_port():
    return BROKER.http_port


def uniq(prefix="t"):
    """A name unique to this run and test: <prefix>.<test>.<random>."""
    return "%s.%s.%s" % (prefix, _current_test or "x", uuid.uuid4().hex[:10])


# ---------------------------------------------------------------- restartable brokers

def new_data_dir(prefix="roost-data-"):
    """A fresh empty directory, removed after the current test (ROOST_KEEP_DATA=1 keeps it)."""
    d = tempfile.mkdtemp(prefix=prefix)
    _test_dirs.append(d)
    return d


def broker_binary():
    return os.environ.get("ROOST_BIN") or _default_bin()


def start_broker(data_dir=None, extra_args=(), bind=HOST):
    """Start a broker of the current test on data_dir (default: a fresh temp dir) with
    extra command-line args, listening on `bind` (default 127.0.0.1; "0.0.0.0" for tests that
    need a non-loopback client); waits for its listening line. Skips the test when
    ROOST_EXTERNAL_PORT is set (an external broker cannot be restarted from here).
    The class is looked up on this module at call time, so a harness may substitute its
    own (e.g. one that runs a private RabbitMQ node on data_dir)."""
    if os.environ.get("ROOST_EXTERNAL_PORT"):
        skip("needs a broker it can restart (ROOST_EXTERNAL_PORT is set)")
    if data_dir is None:
        data_dir = new_data_dir()
    b = Broker(data_dir=data_dir, extra_args=extra_args, bind=bind)
    b.start()
    _test_brokers.append(b)
    return b


def restart_broker(b, kill=False, extra_args=None):
    """Stop b (gracefully: SIGTERM, wait, must exit 0; or kill=True: SIGKILL by PID, wait)
    and start a new broker on the same data dir (new port).  extra_args default: b's."""
    if kill:
        b.kill9()
    else:
        problems = b.stop()
        if problems:
            raise AssertionError("graceful stop before restart: %s" % "; ".join(problems))
    return start_broker(b.data_dir, b.extra_args if extra_args is None else extra_args, bind=b.bind)


def stop_broker_clean(b):
    """SIGTERM b, wait; fail unless it exits 0."""
    problems = b.stop()
    if problems:
        raise AssertionError("broker stop: %s" % "; ".join(problems))


def _finish_test_brokers(test_ok):
    """After a test: stop the brokers it started. Returns problems (graceful-stop failures
    of a passing test). On failure the brokers are killed and their stderr printed."""
    problems = []
    for b in _test_brokers:
        if test_ok and b.stopped is None:  # not stopped or killed on purpose: must still run
            problems.extend(b.stop())
    if problems or not test_ok:
        for b in _test_brokers:
            print("# broker pid %s on port %s (data dir %s):" % (b.pid, b.port, b.data_dir))
            b.dump_logs(max_lines=80)
    while _test_brokers:
        b = _test_brokers.pop(0)
        b.kill()
        b.cleanup()
    keep = os.environ.get("ROOST_KEEP_DATA") == "1"
    while _test_dirs:
        d = _test_dirs.pop()
        if keep:
            print("# kept data dir %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return problems


@atexit.register
def _remove_test_dirs():
    if os.environ.get("ROOST_KEEP_DATA") != "1":
        for d in _test_dirs:
            shutil.rmtree(d, ignore_errors=True)


def timeout(seconds):
    """Decorator: this test's time limit (the runner's SIGALRM) instead of main()'s default."""
    def deco(fn):
        fn.timeout = int(seconds)
        return fn
    return deco


# ---------------------------------------------------------------- pika helpers

def params(**kw):
    import pika
    d = dict(host=HOST, port=BROKER.port if BROKER is not None else None, connection_attempts=1, socket_timeout=10,
             stack_timeout=15, blocked_connection_timeout=30, heartbeat=60,
             credentials=pika.PlainCredentials("guest", "guest"))
    d.update(kw)
    return pika.ConnectionParameters(**d)


def connect(**kw):
    """A pika BlockingConnection that is closed automatically after the test."""
    import pika
    conn = pika.BlockingConnection(params(**kw))
    _open_connections.append(conn)
    return conn


def track(closeable):
    """Register any object with .close() to be closed after the current test."""
    _open_connections.append(closeable)
    return closeable


def _close_tracked():
    while _open_connections:
        c = _open_connections.pop()
        try:
            is_open = getattr(c, "is_open", True)
            if is_open:
                c.close()
        except Exception:
            pass


def drain(conn, seconds):
    """Let pika process events for a while (bounded)."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        conn.process_data_events(time_limit=min(left, 0.2))


def wait_until(conn, pred, timeout=10.0, what="condition"):
    """Process pika events until pred() is true; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        conn.process_data_events(time_limit=min(left, 0.1))


# RabbitMQ applies requeues (nack/reject/recover/channel close) and exclusive/auto-delete
# queue deletion asynchronously: a reply to the *next* command may not reflect them yet.
# These helpers retry (bounded) until the expected state is visible.

def get_eventually(ch, queue, auto_ack=False, timeout=5.0):
    """basic.get, retried while the queue looks empty. Returns (method, props, body)."""
    deadline = time.monotonic() + timeout
    while True:
        m, p, b = ch.basic_get(queue, auto_ack=auto_ack)
        if m is not None or time.monotonic() > deadline:
            return m, p, b
        time.sleep(0.01)


def drain_bodies(ch, queue):
    """basic.get (auto-ack) until the queue is empty; returns [(body, properties)] in order."""
    out = []
    while True:
        m, p, b = ch.basic_get(queue, auto_ack=True)
        if m is None:
            return out
        out.append((b, p))


def wait_message_count(ch, queue, expected, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        n = ch.queue_declare(queue, passive=True).method.message_count
        if n == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError("queue %r has %d ready messages, expected %d" % (queue, n, expected))
        time.sleep(0.01)


def wait_queue_gone(conn, queue, timeout=5.0):
    """Passive declares (each on a fresh channel) until 404; returns the reply text."""
    import pika.exceptions as pe
    deadline = time.monotonic() + timeout
    while True:
        ch = conn.channel()
        try:
            ch.queue_declare(queue, passive=True)
        except pe.ChannelClosedByBroker as e:
            check_reply(e.reply_code, e.reply_text, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % queue)
            return e.reply_text
        ch.close()
        if time.monotonic() > deadline:
            raise AssertionError("queue %r still exists after %.1fs" % (queue, timeout))
        time.sleep(0.02)


def expect_channel_error(fn, code, text=None, prefix=None):
    """Run fn(); it must raise pika ChannelClosedByBroker with this reply code (and text)."""
    import pika.exceptions as pe
    try:
        fn()
    except pe.ChannelClosedByBroker as e:
        check_reply(e.reply_code, e.reply_text, code, text, prefix)
        return e
    raise AssertionError("expected channel error %d, nothing was raised" % code)


def expect_connection_error(fn, code, text=None, prefix=None):
    import pika.exceptions as pe
    try:
        fn()
    except pe.ConnectionClosedByBroker as e:
        check_reply(e.reply_code, e.reply_text, code, text, prefix)
        return e
    raise AssertionError("expected connection error %d, nothing was raised" % code)


REPLY_NAMES = {
    200: "OK", 311: "CONTENT_TOO_LARGE", 312: "NO_ROUTE", 313: "NO_CONSUMERS", 320: "CONNECTION_FORCED",
    402: "INVALID_PATH", 403: "ACCESS_REFUSED", 404: "NOT_FOUND", 405: "RESOURCE_LOCKED",
    406: "PRECONDITION_FAILED", 501: "FRAME_ERROR", 502: "SYNTAX_ERROR", 503: "COMMAND_INVALID",
    504: "CHANNEL_ERROR", 505: "UNEXPECTED_FRAME", 506: "RESOURCE_ERROR", 530: "NOT_ALLOWED",
    540: "NOT_IMPLEMENTED", 541: "INTERNAL_ERROR",
}


def amqp_reply_text(text):
    """RabbitMQ's reply texts are short strings: longer than 255 bytes, they are cut to
    252 bytes followed by '...'."""
    raw = text.encode("utf-8")
    if len(raw) > 255:
        raw = raw[:252] + b"..."
    return raw.decode("utf-8", "replace")


def check_reply(got_code, got_text, code, text=None, prefix=None):
    """Reply code must match; text must equal `text` (after RabbitMQ's 255-byte truncation)
    if given, start with `prefix` if given, and always start with '<CONSTANT_NAME> - '."""
    if isinstance(got_text, bytes):
        got_text = got_text.decode("utf-8", "replace")
    if text is not None:
        text = amqp_reply_text(text)
    assert got_code == code, "reply code %r (%r), expected %r" % (got_code, got_text, code)
    name = REPLY_NAMES.get(code)
    if name and code != 200:
        assert got_text.startswith(name + " - "), "reply text %r should start with %r" % (got_text, name + " - ")
    if prefix is not None:
        assert got_text.startswith(prefix), "reply text %r should start with %r" % (got_text, prefix)
    if text is not None:
        assert got_text == text, "reply text %r, expected %r" % (got_text, text)


def eq(a, b, what=""):
    assert a == b, "%s%r != %r" % ((what + ": ") if what else "", a, b)


# ---------------------------------------------------------------- runner

_current_test = None


class TestTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise TestTimeout("test exceeded its time limit")


def _watchdog(total):
    def fire():
        sys.stdout.write("\nWATCHDOG: test file exceeded %ds; killing broker and exiting\n" % total)
        sys.stdout.flush()
        for b in list(_live_brokers):
            b.kill()
            b.dump_logs()
            b.cleanup()
        sys.stdout.write("0 passed, 1 failed\n")
        sys.stdout.flush()
        os._exit(3)
    t = threading.Timer(total, fire)
    t.daemon = True
    t.start()
    return t


def skip(reason):
    raise SkipTest(reason)


class SkipTest(Exception):
    pass


def external():
    return BROKER is not None and BROKER.external


def main(test_timeout=DEFAULT_TEST_TIMEOUT, total_timeout=DEFAULT_TOTAL_TIMEOUT, file_broker=True, broker_args=()):
    """Run the calling module's tests. file_broker=False: start no broker for the file
    (the tests start their own with start_broker()); broker_args: extra command-line
    arguments of the file's broker (TLS flags, say)."""
    global BROKER, _current_test
    caller = inspect.stack()[1].frame.f_globals
    tests = [(n, f) for n, f in caller.items() if n.startswith("test_") and callable(f)]
    filters = sys.argv[1:]
    if filters:
        tests = [(n, f) for n, f in tests if any(s in n for s in filters)]
    dog = _watchdog(total_timeout)
    signal.signal(signal.SIGALRM, _on_alarm)
    # SIGTERM from ctest's timeout: clean up the broker we started.
    signal.signal(signal.SIGTERM, lambda s, f: (_kill_leftovers(), os._exit(4)))

    passed = failed = skipped = 0
    failures = []
    if file_broker:
        BROKER = Broker(extra_args=broker_args)
        try:
            BROKER.start()
        except BrokerFailed as e:
            print("FAIL  broker start: %s" % e)
            print("0 passed, 1 failed")
            sys.exit(1)
        where = "external broker" if BROKER.external else "roost pid %d" % BROKER.pid
        print("# %s on %s:%d, %d tests" % (where, HOST, BROKER.port, len(tests)))
    else:
        print("# %s; each test starts its own brokers, %d tests" % (broker_binary(), len(tests)))
    sys.stdout.flush()
    for name, fn in tests:
        _current_test = name
        t0 = time.monotonic()
        signal.alarm(getattr(fn, "timeout", test_timeout))
        try:
            fn()
            status = "ok"
        except SkipTest as e:
            status = "skip"
            detail = str(e)
        except BaseException as e:  # noqa: includes TestTimeout and AssertionError
            if isinstance(e, KeyboardInterrupt):
                raise
            status = "FAIL"
            detail = traceback.format_exc()
        finally:
            signal.alarm(0)
        try:
            signal.alarm(15)
            _close_tracked()
        except TestTimeout:
            pass
        finally:
            signal.alarm(0)
        if _test_brokers or _test_dirs:
            try:
                signal.alarm(30)
                stop_problems = _finish_test_brokers(status != "FAIL")
            except TestTimeout:
                stop_problems = ["stopping the test's brokers timed out"]
                for b in _test_brokers:
                    b.kill()
            finally:
                signal.alarm(0)
            if stop_problems and status != "FAIL":
                status = "FAIL"
                detail = "after the test: %s" % "; ".join(stop_problems)
        dt = time.monotonic() - t0
        if status == "ok" and BROKER is not None and not BROKER.alive() and BROKER.stopped is None \
                and not BROKER.terminating:
            status = "FAIL"
            detail = "broker process died (status %s) during this test" % BROKER.returncode()
        if status == "ok":
            passed += 1
            print("ok    %s (%.2fs)" % (name, dt))
        elif status == "skip":
            skipped += 1
            print("skip  %s: %s" % (name, detail))
        else:
            failed += 1
            failures.append(name)
            print("FAIL  %s (%.2fs)\n%s" % (name, dt, detail.rstrip()))
        sys.stdout.flush()
        if BROKER is not None and not BROKER.alive() and BROKER.stopped is None and not BROKER.terminating:
            print("broker is gone (status %s); not running the remaining tests" % BROKER.returncode())
            failed += len(tests) - (passed + failed + skipped)
            break
    _current_test = None
    if BROKER is not None:
        problems = BROKER.stop()
        for p in problems:
            failed += 1
            failures.append("broker shutdown")
            print("FAIL  broker shutdown: %s" % p)
        if failures and not BROKER.external:
            BROKER.dump_logs()
        BROKER.cleanup()
    dog.cancel()
    if failures:
        print("failed: %s" % ", ".join(failures))
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    sys.stdout.flush()
    sys.exit(1 if failed else 0)

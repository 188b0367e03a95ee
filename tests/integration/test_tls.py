"""AMQPS and HTTPS: pika over TLS (SSLOptions) beside the plain port, SASL EXTERNAL with a
client certificate (pika's ExternalCredentials), protocol versions with `openssl s_client`
(TLS 1.2 and 1.3 accepted, 1.1 refused), plain AMQP bytes sent to the TLS port, the admin API
over HTTPS with curl, `--tls-verify require` refusing a client without a certificate, a bad
certificate or key at start (one line, non-zero exit), `--amqp-port -1`, and SIGHUP
reloading the certificate for new connections while open ones go on.

The CA and every certificate are made with openssl when the file starts (tls_certs.py).
Starts its own brokers; skipped with ROOST_EXTERNAL_PORT."""
import atexit
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pika
import pika.exceptions as pe
from pika.credentials import ExternalCredentials

import admin_http
import roost_fixture as rf
import tls_certs

CERT_DIR = tempfile.mkdtemp(prefix="roost-tls-")
atexit.register(shutil.rmtree, CERT_DIR, True)
CERTS = tls_certs.make(CERT_DIR)
ALICE = CERTS.client("alice")
MALLORY = CERTS.client("mallory")
ROGUE_ALICE = CERTS.client("alice", trusted=False)

# The file's broker: verifies a client certificate when one is sent.
TLS_ARGS = ["--tls-cert", CERTS.server_cert, "--tls-key", CERTS.server_key, "--tls-ca", CERTS.ca,
            "--tls-verify", "peer", "--amqps-port", "0", "--https-port", "0"]
COMMAND_TIMEOUT = 20


def amqps_port(broker=None):
    return (broker or rf.BROKER).listening["amqps"]


def client_context(certificate=None):
    """A client TLS context trusting the test CA, presenting `certificate` (cert, key) if given."""
    ctx = ssl.create_default_context(cafile=CERTS.ca)
    if certificate is not None:
        ctx.load_cert_chain(*certificate)
    return ctx


def over_tls(certificate=None, broker=None):
    """rf.connect's arguments for the amqps port of broker (default: the file's)."""
    return dict(port=amqps_port(broker), ssl_options=pika.SSLOptions(client_context(certificate), "localhost"))


def round_trip(conn):
    """Declare a queue, publish, get it back: the connection carries traffic."""
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    body = os.urandom(64 * 1024)  # several TLS records
    ch.basic_publish("", q, body)
    method, _, got = rf.get_eventually(ch, q, auto_ack=True)
    assert method is not None and got == body, "message did not come back over TLS"


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "10"] + list(args),
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def https_get(path, port=None):
    """GET over HTTPS with curl, trusting the test CA; returns the parsed JSON."""
    r = curl("--cacert", CERTS.ca, "--fail", "-u", "guest:guest",
             "https://localhost:%d%s" % (port or rf.BROKER.listening["https"], path))
    assert r.returncode == 0, "curl failed (%d): %s" % (r.returncode, r.stderr)
    return json.loads(r.stdout)


def s_client(port, *flags):
    """openssl s_client handshake against port; returns (exit status, output)."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", CERTS.ca,
                        "-servername", "localhost"] + list(flags),
                       input="", capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    return r.returncode, r.stdout + r.stderr


def served_certificate(port):
    """The DER certificate a TLS handshake on port presents."""
    with socket.create_connection((rf.HOST, port), timeout=10) as raw:
        with client_context().wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)


def pem_to_der(path):
    return ssl.PEM_cert_to_DER_cert(open(path).read())


def connections_become(summary, expected, timeout=10.0):
    """Polls /api/connections until summary(listing) == expected: a connection an earlier
    test closed may still be going away."""
    deadline = time.monotonic() + timeout
    while True:
        got = summary(admin_http.ok("GET", "/api/connections"))
        if got == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError("connections: %r, expected %r" % (got, expected))
        time.sleep(0.05)


def wait_for_log(broker, text, timeout=10.0):
    deadline = time.monotonic() + timeout
    while text not in broker.stderr_text():
        if time.monotonic() > deadline or not broker.alive():
            raise AssertionError("broker did not log %r within %.0fs" % (text, timeout))
        time.sleep(0.05)


# ---------------------------------------------------------------- AMQPS


def test_pika_over_tls_and_plain_side_by_side():
    round_trip(rf.connect(**over_tls()))
    round_trip(rf.connect())  # the plain port stays
    lines = [l for l in rf.BROKER.stdout_lines if l.startswith("listening amqps ")]
    rf.eq(lines, ["listening amqps %s %d" % (rf.HOST, amqps_port())], "the amqps line")


def test_connections_api_tells_tls_from_plain():
    rf.connect(**over_tls())
    rf.connect()
    connections_become(lambda listing: sorted(c["ssl"] for c in listing), [False, True])


def test_tls_versions_1_2_and_1_3_accepted_1_1_refused():
    port = amqps_port()
    for version, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        rc, out = s_client(port, version)
        assert rc == 0 and ("Protocol  : " + name in out or "Protocol: " + name in out or
                            "New, %s" % name in out), "%s handshake failed (%d): %s" % (name, rc, out[-800:])
    # SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all: the refusal must come from the broker.
    rc, out = s_client(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert rc != 0, "TLS 1.1 handshake succeeded: %s" % out[-800:]
    assert "alert protocol version" in out or "unsupported protocol" in out, "refused how? %s" % out[-800:]


def test_plain_amqp_on_the_tls_port_is_closed_promptly():
    started = time.monotonic()
    with socket.create_connection((rf.HOST, amqps_port()), timeout=5) as s:
        s.sendall(b"AMQP\x00\x00\x09\x01")
        while True:
            chunk = s.recv(4096)  # a TLS alert at most, then EOF; socket.timeout fails the test
            if not chunk:
                break
    assert time.monotonic() - started < 3, "the TLS port took %.1fs to close" % (time.monotonic() - started)
    assert "TLS handshake failed" in rf.BROKER.stderr_text()
    round_trip(rf.connect())  # and the broker is fine


# ---------------------------------------------------------------- EXTERNAL


def make_user(name):
    admin_http.ok("PUT", "/api/users/" + name, {"password": "", "tags": ""})
    admin_http.ok("PUT", "/api/permissions/%2F/" + name, admin_http.EVERYTHING)


def test_external_logs_in_as_the_certificate_cn():
    make_user("alice")
    conn = rf.connect(**over_tls(ALICE), credentials=ExternalCredentials())
    round_trip(conn)
    connections_become(lambda listing: [c["user"] for c in listing if c["ssl"]], ["alice"])


def test_external_for_an_unknown_user_is_refused():
    try:
        rf.connect(**over_tls(MALLORY), credentials=ExternalCredentials())
    except pe.AMQPConnectionError:
        pass
    else:
        raise AssertionError("EXTERNAL login as mallory (no such user) succeeded")
    wait_for_log(rf.BROKER, "EXTERNAL login refused: user 'mallory'")


def test_external_is_not_offered_without_a_client_certificate():
    try:
        rf.connect(**over_tls(), credentials=ExternalCredentials())
    except pe.AuthenticationError as e:  # pika finds no mechanism of its own in the server's list
        assert "EXTERNAL" in str(e), e
    else:
        raise AssertionError("EXTERNAL was accepted without a client certificate")


def test_certificate_from_an_untrusted_ca_fails_the_handshake():
    try:
        rf.connect(**over_tls(ROGUE_ALICE), credentials=ExternalCredentials(), connection_attempts=1)
    except pe.AMQPConnectionError:
        pass
    else:
        raise AssertionError("a certificate from an untrusted CA was accepted")


# ---------------------------------------------------------------- HTTPS


def test_admin_api_over_https_with_curl():
    overview = https_get("/api/overview")
    listeners = {l["protocol"]: l["port"] for l in overview["listeners"]}
    rf.eq(listeners.get("amqps"), amqps_port(), "amqps listener in /api/overview")
    rf.eq(listeners.get("https"), rf.BROKER.listening["https"], "https listener in /api/overview")
    # Plain HTTP on the HTTPS port gets no API answer.
    r = curl("http://127.0.0.1:%d/api/overview" % rf.BROKER.listening["https"], "-u", "guest:guest")
    assert r.returncode != 0 or "listeners" not in r.stdout, "plain HTTP answered on the HTTPS port"
    # TLS 1.1 is refused there too.
    rc, out = s_client(rf.BROKER.listening["https"], "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert rc != 0, "TLS 1.1 accepted on the HTTPS port"


# ---------------------------------------------------------------- other brokers


def test_require_refuses_a_client_without_a_certificate():
    args = TLS_ARGS[:]
    args[args.index("peer")] = "require"
    b = rf.start_broker(extra_args=args)
    try:
        rf.connect(**over_tls(broker=b))
    except pe.AMQPConnectionError:
        pass
    else:
        raise AssertionError("--tls-verify require let in a client without a certificate")
    round_trip(rf.connect(**over_tls(ALICE, broker=b)))  # guest over PLAIN, with a certificate


def test_amqp_port_minus_one_leaves_only_tls():
    b = rf.start_broker(extra_args=TLS_ARGS + ["--amqp-port", "-1"])
    assert b.port is None and not any(l.startswith("listening amqp ") for l in b.stdout_lines), b.stdout_lines
    round_trip(rf.connect(**over_tls(broker=b)))


def start_failing(args):
    """Runs roost with args; it must exit non-zero. Returns its stderr lines."""
    d = rf.new_data_dir()
    r = subprocess.run([rf.broker_binary(), "--bind", rf.HOST, "--amqp-port", "0", "--http-port", "0",
                        "--data-dir", d] + args, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert r.returncode != 0, "roost started with %r" % (args,)
    assert "listening" not in r.stdout, r.stdout
    return r.stderr.splitlines()


def test_bad_certificate_or_key_at_start_is_one_line_and_a_failure():
    missing = os.path.join(CERT_DIR, "missing.pem")
    cases = [
        (["--tls-cert", missing, "--tls-key", CERTS.server_key], "cannot read TLS certificate " + missing),
        (["--tls-cert", CERTS.server_cert, "--tls-key", CERTS.other_server_key], "does not match the certificate"),
        (["--tls-cert", CERTS.server_key, "--tls-key", CERTS.server_key], "cannot use TLS certificate"),
    ]
    for args, expected in cases:
        lines = start_failing(args)
        rf.eq(len(lines), 1, "stderr lines for %r: %r" % (args, lines))
        assert expected in lines[0], "%r lacks %r" % (lines[0], expected)


@rf.timeout(90)
def test_sighup_reloads_the_certificate_for_new_connections():
    live = tempfile.mkdtemp(prefix="roost-tls-live-", dir=CERT_DIR)
    cert, key = os.path.join(live, "server.pem"), os.path.join(live, "server.key")
    shutil.copy(CERTS.server_cert, cert)
    shutil.copy(CERTS.server_key, key)
    b = rf.start_broker(extra_args=["--tls-cert", cert, "--tls-key", key, "--amqps-port", "0"])
    port = amqps_port(b)
    rf.eq(served_certificate(port), pem_to_der(CERTS.server_cert), "certificate before the reload")
    before = rf.connect(**over_tls(broker=b))
    round_trip(before)

    shutil.copy(CERTS.other_server_cert, cert)
    shutil.copy(CERTS.other_server_key, key)
    os.kill(b.pid, 1)  # SIGHUP
    wait_for_log(b, "TLS certificate reloaded")
    rf.eq(served_certificate(port), pem_to_der(CERTS.other_server_cert), "certificate after the reload")
    round_trip(before)  # the connection opened before goes on
    round_trip(rf.connect(**over_tls(broker=b)))

    # A broken pair is refused and the last good certificate stays.
    shutil.copy(CERTS.server_cert, cert)  # with server2's key: mismatched
    os.kill(b.pid, 1)
    wait_for_log(b, "TLS certificate reload failed, keeping the current one")
    assert "does not match the certificate" in b.stderr_text()
    rf.eq(served_certificate(port), pem_to_der(CERTS.other_server_cert), "certificate after a failed reload")
    round_trip(before)


if __name__ == "__main__":
    if os.environ.get("ROOST_EXTERNAL_PORT"):
        print("# TLS tests start their own roost; skipped with ROOST_EXTERNAL_PORT")
        print("0 passed, 0 failed")
        raise SystemExit(0)
    rf.main(broker_args=TLS_ARGS)

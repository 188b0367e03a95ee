#!/usr/bin/python3
"""Raw-socket tests: protocol header negotiation, malformed frames, frame/channel limits,
handshake violations and heartbeats.  Expected replies are what RabbitMQ 3.10 sends.

After every misbehaving connection the broker must still serve a well-behaved pika
connection that was opened *before* the bad one (the "witness")."""
import os
import socket
import struct
import time

import raw_amqp as raw
import roost_fixture as rf

FRAME_MAX = 131072


class Witness:
    """A pika connection opened before the bad client, used again after it."""

    def __init__(self):
        self.conn = rf.connect()
        self.ch = self.conn.channel()
        self.q = self.ch.queue_declare("", exclusive=True).method.queue
        self.ch.confirm_delivery()

    def check(self):
        body = os.urandom(16)
        self.ch.basic_publish("", self.q, body)
        m, p, b = self.ch.basic_get(self.q, auto_ack=True)
        assert b == body, "witness connection broken after the bad client"


def bad_connection(action, code, text=None, prefix=None, method=None, handshake=True, **hs):
    """Open a witness, then a raw connection that does `action`; expect connection.close with
    `code` (and text/prefix, and (class, method) ids if given), answer close-ok and expect the
    server to close the socket.  Finally the witness must still work."""
    witness = Witness()
    with raw.RawConnection(rf.port(), timeout=10) as c:
        if handshake:
            c.handshake(**hs)
        action(c)
        got_code, got_text, cls, mid = c.expect_connection_close()
        rf.check_reply(got_code, got_text, code, text, prefix)
        if method is not None:
            rf.eq((cls, mid), method, "class/method id in connection.close")
        c.send_close_ok()
        c.expect_eof(10)  # RabbitMQ: at once, or ~3 s later for fatal frame errors
    witness.check()
    return got_text


def silently_closed(c, timeout=10):
    """The server must close the socket without sending anything (more)."""
    try:
        f = c.read_frame(timeout)
    except raw.ServerClosedSocket:
        return
    raise AssertionError("expected the server to close the socket, got frame %r" % (f,))


# ------------------------------------------------------------ protocol header

def test_wrong_protocol_header_gets_supported_header_and_close():
    witness = Witness()
    for header in [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"AMQP\x00\x00\x09\x02", b"AMQP\x00\x00\x08\x00",
                   b"AMQP\x00\x01\x00\x00", b"AMQP\x03\x01\x00\x00", b"XXXXXXXX", b"amqp\x00\x00\x09\x01"]:
        with raw.RawConnection(rf.port(), timeout=10) as c:
            c.send(header)
            reply = c.read_exact(8)
            rf.eq(reply, b"AMQP\x00\x00\x09\x01", "reply to header %r" % header)
            c.expect_eof(10)
    witness.check()


def test_correct_header_gets_connection_start():
    with raw.RawConnection(rf.port()) as c:
        c.send(raw.PROTOCOL_HEADER)
        args = c.expect_method(0, raw.CONNECTION_START)
        rf.eq(args[:2], b"\x00\x09", "version-major 0, version-minor 9")
        off = 2
        (tlen,) = struct.unpack_from(">I", args, off)
        off += 4 + tlen
        mechanisms, off = raw.parse_longstr(args, off)
        locales, off = raw.parse_longstr(args, off)
        assert b"PLAIN" in mechanisms.split(b" "), mechanisms
        assert b"en_US" in locales.split(b" "), locales
        rf.eq(off, len(args), "connection.start has no trailing bytes")


def test_tune_values():
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        rf.eq(c.server_tune, (2047, 131072, 60), "connection.tune (channel_max, frame_max, heartbeat)")


# ------------------------------------------------------------ frame errors (501)

def test_bad_frame_end_octet():
    def act(c):
        c.send(raw.method_frame(0, raw.CONNECTION_CLOSE, b"")[:-1] + b"\x00")
    bad_connection(act, 501, prefix="FRAME_ERROR - ", method=(0, 0))


def test_bad_frame_end_octet_on_channel():
    def act(c):
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, raw.queue_declare_args(rf.uniq("q")))[:-1] + b"\xcd")
    bad_connection(act, 501, prefix="FRAME_ERROR - ", method=(0, 0))


def test_frame_larger_than_frame_max():
    # only the frame header is sent: the size alone must be refused
    bad_connection(lambda c: (c.open_channel(1), c.send(struct.pack(">BHI", 3, 1, FRAME_MAX + 1))),
                   501, prefix="FRAME_ERROR - ", method=(0, 0))


def test_frame_larger_than_negotiated_frame_max():
    bad_connection(lambda c: (c.open_channel(1), c.send(struct.pack(">BHI", 3, 1, 4097))),
                   501, prefix="FRAME_ERROR - ", method=(0, 0), frame_max=4096)


def test_huge_method_frame():
    bad_connection(lambda c: c.send(struct.pack(">BHI", 1, 0, 0x7FFFFFFF)), 501, prefix="FRAME_ERROR - ")


def test_frames_up_to_frame_max_payload_accepted():
    # Spec limit: payload <= frame_max - 8.  RabbitMQ also accepts payloads of exactly
    # frame_max bytes (FRAME_SIZE_FUDGE) because some clients send them.
    for size in (FRAME_MAX - 8, FRAME_MAX):
        with raw.RawConnection(rf.port()) as c:
            c.handshake()
            c.open_channel(1)
            q = rf.uniq("q")
            c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args(q, exclusive=True))
            c.expect_method(1, raw.QUEUE_DECLARE_OK)
            body = os.urandom(size)
            c.send(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", q))
                   + raw.header_frame(1, len(body)) + raw.body_frame(1, body))
            c.send_method(1, raw.BASIC_GET, raw.basic_get_args(q))
            c.expect_method(1, raw.BASIC_GET_OK)
            _, got = c.read_content(1)
            assert got == body, "body of a %d-byte frame corrupted" % size


def test_unknown_frame_type():
    bad_connection(lambda c: c.send(raw.frame(9, 0, b"")), 501, prefix="FRAME_ERROR - ", method=(0, 0))


def test_unknown_frame_type_on_channel():
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.frame(7, 1, b"abc"))),
                   501, prefix="FRAME_ERROR - ", method=(0, 0))


def test_heartbeat_frame_with_payload():
    bad_connection(lambda c: c.send(raw.frame(raw.FRAME_HEARTBEAT, 0, b"xx")), 501, prefix="FRAME_ERROR - ")


def test_method_frame_shorter_than_ids():
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.frame(raw.FRAME_METHOD, 1, b"\x00"))),
                   501, prefix="FRAME_ERROR - ", method=(0, 0))


def test_truncated_method_fields():
    # RabbitMQ reports undecodable method arguments as 501 FRAME_ERROR (not 502 SYNTAX_ERROR),
    # naming the method in class-id/method-id.
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.method_frame(1, raw.QUEUE_DECLARE, b"\x00\x00\x05ab"))),
                   501, prefix="FRAME_ERROR - cannot decode ", method=(50, 10))


def test_empty_method_arguments():
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.method_frame(1, raw.BASIC_PUBLISH, b""))),
                   501, prefix="FRAME_ERROR - cannot decode ", method=(60, 40))


def test_garbage_bytes_after_handshake():
    bad_connection(lambda c: c.send(b"\xde\xad\xbe\xef" * 4), 501, prefix="FRAME_ERROR - ", method=(0, 0))
    bad_connection(lambda c: c.send(b"hello world, this is not amqp\r\n"), 501, prefix="FRAME_ERROR - ")


# ------------------------------------------------------------ channel errors (504)

def test_method_on_never_opened_channel():
    bad_connection(lambda c: c.send_method(5, raw.QUEUE_DECLARE, raw.queue_declare_args(rf.uniq("q"))),
                   504, "CHANNEL_ERROR - expected 'channel.open'", method=(50, 10))


def test_second_channel_open():
    bad_connection(lambda c: (c.open_channel(1), c.send_method(1, raw.CHANNEL_OPEN, raw.channel_open_args())),
                   504, "CHANNEL_ERROR - second 'channel.open' seen", method=(20, 10))


def test_non_connection_method_on_channel_zero():
    bad_connection(lambda c: c.send_method(0, raw.QUEUE_DECLARE, raw.queue_declare_args(rf.uniq("q"))),
                   504, "CHANNEL_ERROR - unexpected method in connection state running", method=(50, 10))


def test_connection_method_on_channel():
    bad_connection(lambda c: (c.open_channel(1), c.send_method(1, raw.CONNECTION_OPEN,
                                                               raw.shortstr("/") + raw.shortstr("") + raw.bits(False))),
                   503, "COMMAND_INVALID - unimplemented method", method=(10, 40))


# ------------------------------------------------------------ unexpected frames (505)

def test_body_frame_without_header():
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.body_frame(1, b"hello"))),
                   505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead", method=(0, 0))


def test_header_frame_without_publish():
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.header_frame(1, 5))),
                   505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead", method=(0, 0))


def test_header_on_never_opened_channel():
    bad_connection(lambda c: c.send(raw.header_frame(3, 5)),
                   505, "UNEXPECTED_FRAME - expected method frame, got non method frame instead")


def test_content_frame_on_channel_zero():
    bad_connection(lambda c: c.send(raw.body_frame(0, b"hello")), 505, prefix="UNEXPECTED_FRAME - ", method=(0, 0))


def test_heartbeat_on_nonzero_channel():
    bad_connection(lambda c: (c.open_channel(1), c.send(raw.frame(raw.FRAME_HEARTBEAT, 1, b""))),
                   505, prefix="UNEXPECTED_FRAME - ", method=(0, 0))


def test_method_instead_of_content_header():
    def act(c):
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", "q"))
               + raw.method_frame(1, raw.QUEUE_DECLARE, raw.queue_declare_args("q")))
    bad_connection(act, 505, "UNEXPECTED_FRAME - expected content header for class 60, "
                             "got non content header frame instead", method=(60, 40))


def test_method_instead_of_content_body():
    def act(c):
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", "q"))
               + raw.header_frame(1, 5) + raw.body_frame(1, b"ab")
               + raw.method_frame(1, raw.QUEUE_DECLARE, raw.queue_declare_args("q")))
    bad_connection(act, 505, "UNEXPECTED_FRAME - expected content body, got non content body frame instead",
                   method=(60, 40))


def test_content_header_for_wrong_class():
    def act(c):
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, raw.basic_publish_args("", "q"))
               + raw.header_frame(1, 5, class_id=50))
    bad_connection(act, 505, "UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead",
                   method=(60, 40))


# ------------------------------------------------------------ unknown methods

def test_unknown_method_closes_connection():
    # RabbitMQ 3.10's connection process crashes on an unknown class/method id: the socket
    # is closed (reset) without connection.close.  A connection.close with a hard error
    # code is accepted too; either way the broker must keep serving everyone else.
    for method in [(60, 999), (99, 10)]:
        witness = Witness()
        with raw.RawConnection(rf.port(), timeout=10) as c:
            c.handshake()
            c.open_channel(1)
            c.send_method(1, method, b"")
            try:
                while True:
                    ftype, ch, payload = c.read_frame(10)
                    if ftype == raw.FRAME_METHOD and ch == 0 and raw.parse_method(payload)[0] == raw.CONNECTION_CLOSE:
                        code, text, _, _ = raw.parse_close(raw.parse_method(payload)[1])
                        assert code in (501, 503, 540), "unexpected close code %d %r" % (code, text)
                        c.send_close_ok()
                        c.expect_eof(10)
                        break
            except raw.ServerClosedSocket:
                pass
        witness.check()


# ------------------------------------------------------------ channel_max (530)

def test_channel_number_above_channel_max_is_accepted():
    # RabbitMQ does not check channel *numbers* against channel_max, only the number of
    # open channels.
    with raw.RawConnection(rf.port()) as c:
        c.handshake()
        for n in (2047, 2048, 65535):
            c.open_channel(n)
        c.send_method(65535, raw.QUEUE_DECLARE, raw.queue_declare_args("", exclusive=True))
        c.expect_method(65535, raw.QUEUE_DECLARE_OK)


def test_more_open_channels_than_negotiated_channel_max():
    def act(c):
        for n in range(1, 11):
            c.open_channel(n * 7)
        c.send_method(200, raw.CHANNEL_OPEN, raw.channel_open_args())
    bad_connection(act, 530, "NOT_ALLOWED - number of channels opened (10) has reached the "
                             "negotiated channel_max (10)", method=(0, 0), channel_max=10)


def test_more_open_channels_than_default_channel_max():
    witness = Witness()
    with raw.RawConnection(rf.port(), timeout=20) as c:
        c.handshake()
        c.send(b"".join(raw.method_frame(n, raw.CHANNEL_OPEN, raw.channel_open_args()) for n in range(1, 2049)))
        opened = set()
        while True:  # open-oks of different channels may come in any order
            ch, m, args = c.read_method()
            if (ch, m) == (0, raw.CONNECTION_CLOSE):
                break
            rf.eq(m, raw.CHANNEL_OPEN_OK)
            opened.add(ch)
        code, text, cls, mid = raw.parse_close(args)
        rf.check_reply(code, text, 530, "NOT_ALLOWED - number of channels opened (2047) has reached "
                                        "the negotiated channel_max (2047)")
        rf.eq((cls, mid), (0, 0))
        assert opened <= set(range(1, 2048)), "channel 2048 must not be opened"
        c.send_close_ok()
        c.expect_eof(10)
    witness.check()


def test_closed_channels_free_their_slot():
    with raw.RawConnection(rf.port()) as c:
        c.handshake(channel_max=2)
        c.open_channel(1)
        c.open_channel(2)
        c.send_method(2, raw.CHANNEL_CLOSE, struct.pack(">H", 200) + raw.shortstr("") + struct.pack(">HH", 0, 0))
        c.expect_method(2, raw.CHANNEL_CLOSE_OK)
        c.open_channel(3)


# ------------------------------------------------------------ handshake violations

def _start_ok(c, mechanism="PLAIN", response=b"\x00guest\x00guest"):
    c.send(raw.PROTOCOL_HEADER)
    c.expect_method(0, raw.CONNECTION_START)
    caps = raw.table([("capabilities", "F", [("authentication_failure_close", "t", True)])])
    c.send_method(0, raw.CONNECTION_START_OK, caps + raw.shortstr(mechanism) + raw.longstr(response)
                  + raw.shortstr("en_US"))


def _tune_ok(c, channel_max, frame_max, heartbeat=0):
    c.expect_method(0, raw.CONNECTION_TUNE)
    c.send_method(0, raw.CONNECTION_TUNE_OK, struct.pack(">HIH", channel_max, frame_max, heartbeat))
    c.send_method(0, raw.CONNECTION_OPEN, raw.shortstr("/") + raw.shortstr("") + raw.bits(False))


def test_handshake_violations_close_socket_without_close_method():
    # Before connection.open succeeds, RabbitMQ answers protocol violations by closing the
    # socket (after a ~3 s delay) without a connection.close.  All cases run in parallel.
    witness = Witness()
    cases = {
        "unknown mechanism": lambda c: _start_ok(c, "NO-SUCH-MECH"),
        "malformed PLAIN response": lambda c: _start_ok(c, "PLAIN", b"guestguest"),
        "empty PLAIN response": lambda c: _start_ok(c, "PLAIN", b""),
        "frame_max below 4096": lambda c: (_start_ok(c), _tune_ok(c, 2047, 1024)),
        "frame_max above server's": lambda c: (_start_ok(c), _tune_ok(c, 2047, FRAME_MAX + 1)),
        "channel_max above server's": lambda c: (_start_ok(c), _tune_ok(c, 2048, FRAME_MAX)),
        "queue.declare instead of start-ok": lambda c: (
            c.send(raw.PROTOCOL_HEADER), c.expect_method(0, raw.CONNECTION_START),
            c.send_method(0, raw.QUEUE_DECLARE, raw.queue_declare_args("q"))),
        "open before tune-ok": lambda c: (
            _start_ok(c), c.expect_method(0, raw.CONNECTION_TUNE),
            c.send_method(0, raw.CONNECTION_OPEN, raw.shortstr("/") + raw.shortstr("") + raw.bits(False))),
    }
    conns = {}
    try:
        for name, act in cases.items():
            c = raw.RawConnection(rf.port(), timeout=10)
            conns[name] = c
            act(c)
        for name, c in conns.items():
            try:
                silently_closed(c, 10)
            except AssertionError as e:
                raise AssertionError("%s: %s" % (name, e))
    finally:
        for c in conns.values():
            c.close()
    witness.check()


def test_channel_open_before_connection_open():
    def act(c):
        _start_ok(c)
        c.expect_method(0, raw.CONNECTION_TUNE)
        c.send_method(0, raw.CONNECTION_TUNE_OK, struct.pack(">HIH", 2047, FRAME_MAX, 0))
        c.send_method(1, raw.CHANNEL_OPEN, raw.channel_open_args())
    bad_connection(act, 505, prefix="UNEXPECTED_FRAME - ", method=(0, 0), handshake=False)


def test_client_may_lower_frame_max_and_channel_max():
    with raw.RawConnection(rf.port()) as c:
        c.handshake(channel_max=5, frame_max=4096)
        c.open_channel(5)


# ------------------------------------------------------------ heartbeats

def test_silent_client_disconnected_after_missed_heartbeats():
    witness = Witness()
    with raw.RawConnection(rf.port(), timeout=10) as c:
        c.handshake(heartbeat=1)
        t0 = time.monotonic()
        heartbeats = 0
        try:
            while True:
                ftype, ch, payload = c.read_frame(10)
                rf.eq((ftype, ch, payload), (raw.FRAME_HEARTBEAT, 0, b""), "only heartbeats expected")
                heartbeats += 1
        except raw.ServerClosedSocket:
            pass
        except socket.timeout:
            raise AssertionError("not disconnected within 10 s")
        waited = time.monotonic() - t0
    assert heartbeats >= 1, "server sent no heartbeat before disconnecting"
    assert 1.0 <= waited <= 4.5, "disconnected after %.2f s (RabbitMQ: ~3 s for heartbeat=1)" % waited
    witness.check()


def test_client_heartbeats_keep_connection_alive():
    with raw.RawConnection(rf.port(), timeout=10) as c:
        c.handshake(heartbeat=1)
        end = time.monotonic() + 4.0
        while time.monotonic() < end:
            c.send(raw.frame(raw.FRAME_HEARTBEAT, 0, b""))
            try:
                ftype, ch, _ = c.read_frame(0.4)
                rf.eq((ftype, ch), (raw.FRAME_HEARTBEAT, 0))
            except socket.timeout:
                pass
        c.open_channel(1)


def test_any_traffic_counts_as_heartbeat():
    with raw.RawConnection(rf.port(), timeout=10) as c:
        c.handshake(heartbeat=1)
        c.open_channel(1)
        end = time.monotonic() + 4.0
        while time.monotonic() < end:
            c.send_method(1, raw.QUEUE_DECLARE, raw.queue_declare_args("", exclusive=True))
            ch, m, _ = c.read_method(2)
            rf.eq((ch, m), (1, raw.QUEUE_DECLARE_OK))
            time.sleep(0.3)  # pacing the client's traffic, not synchronising
        c.open_channel(2)


if __name__ == "__main__":
    rf.main()

"""A tiny, deliberately dumb AMQP 0-9-1 frame codec for raw-socket tests.

It only knows what the raw tests need: building frames (including broken ones),
encoding the handful of methods used, reading frames back, and the connection
handshake.  No client library is involved, so tests can put exactly the bytes
they want on the wire and see exactly the bytes the server answers with.
"""
import socket
import struct
import time

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"

# (class_id, method_id)
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
EXCHANGE_DECLARE = (40, 10)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
QUEUE_BIND = (50, 20)
BASIC_QOS = (60, 10)
BASIC_CONSUME = (60, 20)
BASIC_CONSUME_OK = (60, 21)
BASIC_PUBLISH = (60, 40)
BASIC_RETURN = (60, 50)
BASIC_DELIVER = (60, 60)
BASIC_GET = (60, 70)
BASIC_GET_OK = (60, 71)
BASIC_GET_EMPTY = (60, 72)
BASIC_ACK = (60, 80)
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)


class ServerClosedSocket(Exception):
    """EOF (or reset) on the socket."""


# ---------------------------------------------------------------- encoders

def shortstr(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    assert len(s) < 256
    return struct.pack(">B", len(s)) + s


def longstr(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return struct.pack(">I", len(s)) + s


def field_value(kind, value):
    """Encode one typed field value; kind is the one-letter AMQP type tag."""
    k = kind.encode() if isinstance(kind, str) else kind
    if k == b"t":
        body = struct.pack(">B", 1 if value else 0)
    elif k == b"b":
        body = struct.pack(">b", value)
    elif k == b"B":
        body = struct.pack(">B", value)
    elif k == b"s":
        body = struct.pack(">h", value)
    elif k == b"u":
        body = struct.pack(">H", value)
    elif k == b"I":
        body = struct.pack(">i", value)
    elif k == b"i":
        body = struct.pack(">I", value)
    elif k == b"l":
        body = struct.pack(">q", value)
    elif k == b"f":
        body = struct.pack(">f", value)
    elif k == b"d":
        body = struct.pack(">d", value)
    elif k == b"D":
        body = struct.pack(">Bi", value[0], value[1])
    elif k == b"S" or k == b"x":
        body = longstr(value)
    elif k == b"T":
        body = struct.pack(">Q", value)
    elif k == b"F":
        body = table(value)
    elif k == b"A":
        inner = b"".join(field_value(ik, iv) for ik, iv in value)
        body = struct.pack(">I", len(inner)) + inner
    elif k == b"V":
        body = b""
    else:
        raise ValueError("unknown field kind %r" % kind)
    return k + body


def table(entries):
    """entries: list of (name, kind, value) or a dict name -> longstr."""
    if isinstance(entries, dict):
        entries = [(k, "S", v) for k, v in entries.items()]
    inner = b"".join(shortstr(n) + field_value(k, v) for n, k, v in entries)
    return struct.pack(">I", len(inner)) + inner


def bits(*flags):
    v = 0
    for i, f in enumerate(flags):
        if f:
            v |= 1 << i
    return struct.pack(">B", v)


def frame(ftype, channel, payload, end=FRAME_END, size=None):
    if size is None:
        size = len(payload)
    return struct.pack(">BHI", ftype, channel, size) + payload + bytes([end])


def method_frame(channel, method, args=b""):
    return frame(FRAME_METHOD, channel, struct.pack(">HH", *method) + args)


def header_frame(channel, body_size, properties=b"\x00\x00", class_id=60):
    """properties: raw property-flags + property-list bytes (default: none)."""
    return frame(FRAME_HEADER, channel,
                 struct.pack(">HHQ", class_id, 0, body_size) + properties)


def body_frame(channel, data):
    return frame(FRAME_BODY, channel, data)


# Method argument builders ------------------------------------------------

def channel_open_args():
    return shortstr("")


def queue_declare_args(name, passive=False, durable=False, exclusive=False,
                       auto_delete=False, nowait=False, arguments=b"\x00\x00\x00\x00"):
    return (struct.pack(">H", 0) + shortstr(name)
            + bits(passive, durable, exclusive, auto_delete, nowait) + arguments)


def basic_publish_args(exchange, routing_key, mandatory=False, immediate=False):
    return struct.pack(">H", 0) + shortstr(exchange) + shortstr(routing_key) + bits(mandatory, immediate)


def basic_get_args(queue, no_ack=True):
    return struct.pack(">H", 0) + shortstr(queue) + bits(no_ack)


def basic_consume_args(queue, tag="", no_local=False, no_ack=False, exclusive=False,
                       nowait=False, arguments=b"\x00\x00\x00\x00"):
    return (struct.pack(">H", 0) + shortstr(queue) + shortstr(tag)
            + bits(no_local, no_ack, exclusive, nowait) + arguments)


# ---------------------------------------------------------------- decoders

def parse_shortstr(buf, off):
    n = buf[off]
    return buf[off + 1:off + 1 + n], off + 1 + n


def parse_longstr(buf, off):
    (n,) = struct.unpack_from(">I", buf, off)
    return buf[off + 4:off + 4 + n], off + 4 + n


def parse_method(payload):
    cls, mid = struct.unpack_from(">HH", payload, 0)
    return (cls, mid), payload[4:]


def parse_close(args):
    """connection.close / channel.close args -> (code, text, class_id, method_id)."""
    (code,) = struct.unpack_from(">H", args, 0)
    text, off = parse_shortstr(args, 2)
    cls, mid = struct.unpack_from(">HH", args, off)
    return code, text.decode("utf-8", "replace"), cls, mid


# ---------------------------------------------------------------- connection

class RawConnection:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout
        self.frame_max = None
        self.channel_max = None
        self.heartbeat = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- raw io
    def send(self, data):
        self.sock.sendall(data)

    def send_method(self, channel, method, args=b""):
        self.send(method_frame(channel, method, args))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("timed out waiting for %d bytes (have %d)" % (n, len(self.buf)))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError as e:
                raise ServerClosedSocket("connection reset: %s" % e)
            if not chunk:
                raise ServerClosedSocket("EOF with %d buffered bytes" % len(self.buf))
            self.buf += chunk

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(n, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=None):
        """-> (type, channel, payload). Checks the frame-end octet."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(7, deadline)
        ftype, channel, size = struct.unpack_from(">BHI", self.buf, 0)
        self._fill(7 + size + 1, deadline)
        payload = self.buf[7:7 + size]
        end = self.buf[7 + size]
        self.buf = self.buf[8 + size:]
        if end != FRAME_END:
            raise AssertionError("server sent bad frame end 0x%02x" % end)
        return ftype, channel, payload

    def read_method(self, timeout=None, skip_heartbeats=True):
        """Next method frame -> (channel, (class, method), args)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            ftype, channel, payload = self.read_frame(max(0.0, deadline - time.monotonic()))
            if ftype == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            if ftype != FRAME_METHOD:
                raise AssertionError("expected a method frame, got type %d on channel %d: %r"
                                     % (ftype, channel, payload[:64]))
            m, args = parse_method(payload)
            return channel, m, args

    def expect_method(self, channel, method, timeout=None):
        ch, m, args = self.read_method(timeout)
        if (ch, m) != (channel, method):
            extra = ""
            if m in (CONNECTION_CLOSE, CHANNEL_CLOSE):
                extra = " %r" % (parse_close(args),)
            raise AssertionError("expected method %r on channel %d, got %r on channel %d%s"
                                 % (method, channel, m, ch, extra))
        return args

    def read_content(self, channel, timeout=None):
        """After a deliver/get-ok/return: header + body frames -> (raw_header_payload, body)."""
        ftype, ch, header = self.read_frame(timeout)
        assert ftype == FRAME_HEADER and ch == channel, (ftype, ch)
        (size,) = struct.unpack_from(">Q", header, 4)
        body = b""
        while len(body) < size:
            ftype, ch, chunk = self.read_frame(timeout)
            assert ftype == FRAME_BODY and ch == channel, (ftype, ch)
            body += chunk
        return header, body

    # -- handshake
    def handshake(self, user="guest", password="guest", vhost="/", heartbeat=0,
                  frame_max=None, channel_max=None):
        self.send(PROTOCOL_HEADER)
        self.expect_method(0, CONNECTION_START)
        props = table([("product", "S", "roost-raw-test"),
                       ("capabilities", "F", [("consumer_cancel_notify", "t", True),
                                              ("connection.blocked", "t", True)])])
        self.send_method(0, CONNECTION_START_OK,
                         props + shortstr("PLAIN") + longstr(b"\x00" + user.encode() + b"\x00" + password.encode())
                         + shortstr("en_US"))
        args = self.expect_method(0, CONNECTION_TUNE)
        srv_channel_max, srv_frame_max, srv_heartbeat = struct.unpack_from(">HIH", args, 0)
        self.server_tune = (srv_channel_max, srv_frame_max, srv_heartbeat)
        self.channel_max = srv_channel_max if channel_max is None else channel_max
        self.frame_max = srv_frame_max if frame_max is None else frame_max
        self.heartbeat = heartbeat
        self.send_method(0, CONNECTION_TUNE_OK, struct.pack(">HIH", self.channel_max, self.frame_max, heartbeat))
        self.send_method(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + bits(False))
        self.expect_method(0, CONNECTION_OPEN_OK)
        return self

    def open_channel(self, channel):
        self.send_method(channel, CHANNEL_OPEN, channel_open_args())
        self.expect_method(channel, CHANNEL_OPEN_OK)

    def publish(self, channel, exchange, routing_key, body, properties=b"\x00\x00", mandatory=False):
        self.send(method_frame(channel, BASIC_PUBLISH, basic_publish_args(exchange, routing_key, mandatory))
                  + header_frame(channel, len(body), properties)
                  + (body_frame(channel, body) if body else b""))

    # -- error expectations
    def expect_connection_close(self, timeout=None):
        """Skip any frames until connection.close on channel 0 -> (code, text, class, method)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            ftype, channel, payload = self.read_frame(max(0.0, deadline - time.monotonic()))
            if ftype == FRAME_METHOD and channel == 0:
                m, args = parse_method(payload)
                if m == CONNECTION_CLOSE:
                    return parse_close(args)
                raise AssertionError("unexpected method %r on channel 0" % (m,))

    def expect_eof(self, timeout=None):
        """Read (discarding) until the server closes the socket; returns seconds waited."""
        start = time.monotonic()
        deadline = start + (self.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("server did not close the socket within %.1fs" % (deadline - start))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - start
            if not chunk:
                return time.monotonic() - start
            self.buf += chunk

    def send_close_ok(self):
        try:
            self.send_method(0, CONNECTION_CLOSE_OK)
        except OSError:
            pass

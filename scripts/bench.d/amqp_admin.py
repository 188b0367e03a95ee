"""A minimal AMQP 0-9-1 admin client for scripts/bench (standard library only).

It does just what the benchmark needs from outside the load generator: open a
connection (and learn the server's product/version), ask a queue's depth with
a passive queue.declare, declare (a quorum queue) and delete queues and
exchanges, and publish one message at a time with confirms (the failover
probe). Deliberately not pika:
`scripts/install-deps bench` does not install the Python test clients.
"""
import socket
import struct

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT, FRAME_END = 1, 2, 3, 8, 0xCE


class AmqpError(Exception):
    """The server closed the connection or channel (code, text) or spoke nonsense."""

    def __init__(self, text, code=0):
        super().__init__(text)
        self.code = code


def _shortstr(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b


def _longstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


def _table(text_values):
    """A field table of longstr values (all the benchmark declares)."""
    body = b"".join(_shortstr(k) + b"S" + _longstr(v) for k, v in text_values.items())
    return struct.pack(">I", len(body)) + body


def _read_shortstr(buf, off):
    n = buf[off]
    return buf[off + 1:off + 1 + n].decode("utf-8", "replace"), off + 1 + n


def _read_value(buf, off):
    kind = chr(buf[off])
    off += 1
    fixed = {"t": ">B", "b": ">b", "B": ">B", "s": ">h", "u": ">H", "I": ">i", "i": ">I",
             "l": ">q", "L": ">Q", "f": ">f", "d": ">d", "T": ">Q"}
    if kind in fixed:
        (v,) = struct.unpack_from(fixed[kind], buf, off)
        return (bool(v) if kind == "t" else v), off + struct.calcsize(fixed[kind])
    if kind == "D":
        scale, v = struct.unpack_from(">Bi", buf, off)
        return v / (10 ** scale), off + 5
    if kind in "Sx":
        (n,) = struct.unpack_from(">I", buf, off)
        raw = buf[off + 4:off + 4 + n]
        return (raw.decode("utf-8", "replace") if kind == "S" else raw), off + 4 + n
    if kind == "F":
        return _read_table(buf, off)
    if kind == "A":
        (n,) = struct.unpack_from(">I", buf, off)
        end, items, off = off + 4 + n, [], off + 4
        while off < end:
            v, off = _read_value(buf, off)
            items.append(v)
        return items, end
    if kind == "V":
        return None, off
    raise AmqpError("unknown field type %r" % kind)


def _read_table(buf, off):
    (n,) = struct.unpack_from(">I", buf, off)
    end, table, off = off + 4 + n, {}, off + 4
    while off < end:
        key, off = _read_shortstr(buf, off)
        table[key], off = _read_value(buf, off)
    return table, end


class Admin:
    def __init__(self, host, port, user="guest", password="guest", vhost="/", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.channel = 0
        self.server_properties = {}
        self._handshake(user, password, vhost)

    # ------------------------------------------------------------ framing
    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AmqpError("connection closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_frame(self):
        while True:
            ftype, channel, size = struct.unpack(">BHI", self._recv_exact(7))
            payload = self._recv_exact(size)
            if self._recv_exact(1)[0] != FRAME_END:
                raise AmqpError("bad frame end")
            if ftype != FRAME_HEARTBEAT:
                return ftype, channel, payload

    def _send_frame(self, ftype, channel, payload):
        self.sock.sendall(struct.pack(">BHI", ftype, channel, len(payload)) + payload + bytes([FRAME_END]))

    def _send_method(self, channel, cls, mid, args=b""):
        self._send_frame(FRAME_METHOD, channel, struct.pack(">HH", cls, mid) + args)

    def _expect(self, channel, cls, mid):
        """Reads until method (cls, mid) arrives on channel; raises on connection/channel close."""
        return self._expect_one_of(channel, [(cls, mid)])[1]

    def _expect_one_of(self, channel, methods):
        """((cls, mid), arguments) of the first of methods to arrive on channel; raises on
        connection/channel close."""
        while True:
            ftype, ch, payload = self._read_frame()
            if ftype != FRAME_METHOD:
                continue
            c, m = struct.unpack_from(">HH", payload, 0)
            args = payload[4:]
            if (c, m) in methods and ch == channel:
                return (c, m), args
            if (c, m) in ((10, 50), (20, 40)):  # connection.close / channel.close
                (code,) = struct.unpack_from(">H", args, 0)
                text, _ = _read_shortstr(args, 2)
                if (c, m) == (20, 40):
                    self._send_method(ch, 20, 41)  # channel.close-ok
                    self.channel = 0
                else:
                    self._send_method(0, 10, 51)
                raise AmqpError(text, code)

    def _handshake(self, user, password, vhost):
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        args = self._expect(0, 10, 10)  # connection.start
        self.server_properties, _ = _read_table(args, 2)
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        self._send_method(0, 10, 11, struct.pack(">I", 0) + _shortstr("PLAIN") + _longstr(response)
                          + _shortstr("en_US"))
        args = self._expect(0, 10, 30)  # connection.tune
        channel_max, frame_max, _heartbeat = struct.unpack_from(">HIH", args, 0)
        self._send_method(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))
        self._send_method(0, 10, 40, _shortstr(vhost) + _shortstr("") + b"\x00")
        self._expect(0, 10, 41)

    def _ensure_channel(self):
        if self.channel == 0:
            self.channel = 1  # reopened after a channel.close (404 on a passive declare)
            self._send_method(self.channel, 20, 10, _shortstr(""))
            self._expect(self.channel, 20, 11)
        return self.channel

    # ------------------------------------------------------------ operations
    def queue_depth(self, name):
        """(message_count, consumer_count) of queue name, or None if it does not exist."""
        ch = self._ensure_channel()
        try:
            self._send_method(ch, 50, 10, struct.pack(">H", 0) + _shortstr(name) + bytes([1]) + struct.pack(">I", 0))
            args = self._expect(ch, 50, 11)
        except AmqpError as e:
            if e.code == 404:
                return None
            raise
        _, off = _read_shortstr(args, 0)
        return struct.unpack_from(">II", args, off)

    def queue_declare(self, name, durable=True, arguments=None):
        ch = self._ensure_channel()
        self._send_method(ch, 50, 10, struct.pack(">H", 0) + _shortstr(name) + bytes([2 if durable else 0])
                          + _table(arguments or {}))
        self._expect(ch, 50, 11)

    def confirm_select(self):
        ch = self._ensure_channel()
        self._send_method(ch, 85, 10, b"\x00")
        self._expect(ch, 85, 11)

    def publish_confirmed(self, queue, body):
        """Publishes a persistent message to queue through the default exchange (after
        confirm_select) and waits for its confirm, so the channel's only unconfirmed message is
        this one. Mandatory: a message that reached no queue (the queue missing on a new leader,
        say) raises rather than counting as confirmed."""
        ch = self.channel
        self._send_method(ch, 60, 40, struct.pack(">H", 0) + _shortstr("") + _shortstr(queue) + bytes([1]))
        header = struct.pack(">HHQH", 60, 0, len(body), 0x1000) + bytes([2])  # delivery_mode 2
        self._send_frame(FRAME_HEADER, ch, header)
        self._send_frame(FRAME_BODY, ch, body)
        returned = False
        while True:
            method, _ = self._expect_one_of(ch, [(60, 80), (60, 120), (60, 50)])  # ack, nack, return
            if method == (60, 50):
                returned = True
                continue
            if method == (60, 120):
                raise AmqpError("the broker nacked the message")
            if returned:
                raise AmqpError("the message was returned unroutable")
            return

    def queue_delete(self, name):
        ch = self._ensure_channel()
        self._send_method(ch, 50, 40, struct.pack(">H", 0) + _shortstr(name) + bytes([0]))
        args = self._expect(ch, 50, 41)
        return struct.unpack_from(">I", args, 0)[0]

    def exchange_delete(self, name):
        ch = self._ensure_channel()
        self._send_method(ch, 40, 20, struct.pack(">H", 0) + _shortstr(name) + bytes([0]))
        self._expect(ch, 40, 21)

    def close(self):
        try:
            self._send_method(0, 10, 50, struct.pack(">H", 200) + _shortstr("bye") + struct.pack(">HH", 0, 0))
            self._expect(0, 10, 51)
        except (OSError, AmqpError):
            pass
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

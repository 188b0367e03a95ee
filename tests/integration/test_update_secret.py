"""connection.update-secret (class 10, methods 70/71), with pika, aio-pika / aiormq and raw
frames: the user's password is taken, another secret closes the connection with the code and
text RabbitMQ gives for a refused secret (RabbitMQ 3.10's internal database takes any secret:
against RabbitMQ those cases expect that), and the method out of place is refused. Runs
against a private RabbitMQ node too (run_against_rabbitmq.sh)."""
import asyncio
import struct

import pika

import access_api
import raw_amqp as raw
import roost_fixture as rf
from test_access_control import LOGIN_REFUSED, connect_as, pika_refusal, raw_tuned

CONNECTION_UPDATE_SECRET = (10, 70)
CONNECTION_UPDATE_SECRET_OK = (10, 71)


# ---------------------------------------------------------------- connection.update-secret

def _pika_update_secret_methods():
    """pika 1.3 has Connection.UpdateSecret(-Ok) and BlockingConnection.update_secret; Debian 12's
    pika 1.2 has neither. This adds pika 1.3's two method classes to pika.spec (once)."""
    spec = pika.spec
    if hasattr(spec.Connection, "UpdateSecret"):
        return spec.Connection.UpdateSecret, spec.Connection.UpdateSecretOk
    from pika import amqp_object

    class UpdateSecret(amqp_object.Method):
        INDEX = 0x000A0046  # 10, 70
        NAME = "Connection.UpdateSecret"

        def __init__(self, new_secret=None, reason=None):
            self.new_secret = new_secret
            self.reason = reason

        @property
        def synchronous(self):
            return True

        def encode(self):
            secret = self.new_secret.encode() if isinstance(self.new_secret, str) else self.new_secret
            return [struct.pack(">I", len(secret)), secret] + [raw.shortstr(self.reason)]

    class UpdateSecretOk(amqp_object.Method):
        INDEX = 0x000A0047  # 10, 71
        NAME = "Connection.UpdateSecretOk"

        @property
        def synchronous(self):
            return False

        def decode(self, encoded, offset=0):
            return self

        def encode(self):
            return []

    spec.Connection.UpdateSecret = UpdateSecret
    spec.Connection.UpdateSecretOk = UpdateSecretOk
    spec.methods[UpdateSecret.INDEX] = UpdateSecret
    spec.methods[UpdateSecretOk.INDEX] = UpdateSecretOk
    return UpdateSecret, UpdateSecretOk


def pika_update_secret(conn, secret, reason):
    """BlockingConnection.update_secret (pika >= 1.3), or the same RPC pika 1.3 makes."""
    if hasattr(conn, "update_secret"):
        return conn.update_secret(secret, reason)
    update, update_ok = _pika_update_secret_methods()
    answers = []
    conn._impl._rpc(0, update(secret, reason), lambda frame: answers.append(frame.method), [update_ok])
    rf.wait_until(conn, lambda: answers, 10, "connection.update-secret-ok")
    return answers[0]


SECRET_REFUSED = "NOT_ALLOWED - New secret was refused by one of the backends"


def test_update_secret_with_pika_takes_the_password_and_refuses_another_secret():
    # The user's password: update-secret-ok, and the connection goes on as the same user.
    # Another secret: Roost closes the connection with the code and text RabbitMQ gives when a
    # backend refuses a secret; RabbitMQ 3.10's internal user database takes any secret (its
    # state cannot expire), so against RabbitMQ the other secrets are accepted (README).
    acc = access_api.Accounts()
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    conn = connect_as(acc, user)
    ch = conn.channel()
    ch.confirm_delivery()
    q = ch.queue_declare("", exclusive=True).method.queue
    ok = pika_update_secret(conn, acc.password(user), "rotation")
    rf.eq(ok.NAME, "Connection.UpdateSecretOk", "answer to update-secret with the password")
    ch.basic_publish("", q, b"after")
    rf.eq(rf.get_eventually(ch, q, auto_ack=True)[2], b"after", "round trip after update-secret")
    for secret in ("not-the-password", ""):
        conn = connect_as(acc, user)
        if rf.external():
            rf.eq(pika_update_secret(conn, secret, "rotation").NAME, "Connection.UpdateSecretOk")
        else:
            rf.expect_connection_error(lambda: pika_update_secret(conn, secret, "rotation"), 530, SECRET_REFUSED)
    # The password has not changed.
    kind, code, text = pika_refusal(credentials=pika.PlainCredentials(user, "not-the-password"))
    rf.check_reply(code, text, 403, LOGIN_REFUSED % "PLAIN")
    connect_as(acc, user).channel()


def test_update_secret_with_aio_pika_and_aiormq():
    import aio_pika
    import aiormq
    acc = access_api.Accounts()
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    url = "amqp://%s:%s@%s:%d/" % (user, acc.password(user), rf.HOST, rf.port())

    async def run():
        conn = await aio_pika.connect(url, timeout=10)
        try:
            ch = await conn.channel()
            q = await ch.declare_queue("", exclusive=True)
            ok = await conn.update_secret(acc.password(user), reason="rotation", timeout=10)
            assert isinstance(ok, aiormq.spec.Connection.UpdateSecretOk), ok
            await ch.default_exchange.publish(aio_pika.Message(b"after"), routing_key=q.name)
            got = None
            for _ in range(100):
                got = await q.get(no_ack=True, fail=False)
                if got is not None:
                    break
                await asyncio.sleep(0.02)
            assert got is not None and got.body == b"after", got
        finally:
            await conn.close()
        low = await aiormq.connect(url)
        try:
            if rf.external():
                ok = await low.update_secret("anything", reason="rotation", timeout=10)
                assert isinstance(ok, aiormq.spec.Connection.UpdateSecretOk), ok
                return
            try:
                await low.update_secret("anything", reason="rotation", timeout=10)
                raise AssertionError("a wrong secret was accepted")
            except aiormq.exceptions.ConnectionNotAllowed as e:
                assert SECRET_REFUSED in str(e), e
        finally:
            await low.close()

    asyncio.run(asyncio.wait_for(run(), 30))


def test_update_secret_out_of_place_is_refused():
    # The method where it does not belong: a 503 on a channel, a 504 before connection.open.
    acc = access_api.Accounts()
    user = acc.user()
    acc.permit(user, "/", ".*", ".*", ".*")
    secret = raw.longstr(b"\xff\x00 binary is fine") + raw.shortstr("rotation")
    c = rf.track(raw.RawConnection(rf.port()).handshake(user, acc.password(user)))
    c.send_method(0, CONNECTION_UPDATE_SECRET, raw.longstr(acc.password(user).encode()) + raw.shortstr("rotation"))
    c.expect_method(0, CONNECTION_UPDATE_SECRET_OK)
    c.open_channel(1)
    c.send_method(1, CONNECTION_UPDATE_SECRET, secret)
    got = c.expect_connection_close()
    rf.check_reply(got[0], got[1], 503, "COMMAND_INVALID - unimplemented method")
    rf.eq(got[2:], CONNECTION_UPDATE_SECRET, "class/method")
    c = raw_tuned(user, acc.password(user))  # before connection.open
    c.send_method(0, CONNECTION_UPDATE_SECRET, secret)
    got = c.expect_connection_close()
    rf.check_reply(got[0], got[1], 504, "CHANNEL_ERROR - unexpected method in connection state opening")
    rf.eq(got[2:], CONNECTION_UPDATE_SECRET, "class/method")


if __name__ == "__main__":
    rf.main()

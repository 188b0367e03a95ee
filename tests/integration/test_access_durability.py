"""Users (password, tags, limits), vhosts (limits), permissions and topic permissions survive a
graceful restart and a SIGKILL, and so do their deletions. Set up through the management HTTP
API (access_api.py), checked by what AMQP clients (pika) may and may not do afterwards and by
what the API lists. Each test starts its own brokers on one data dir; with ROOST_EXTERNAL_PORT
the tests are skipped (an external broker cannot be restarted from here)."""
import pika

import access_api
import roost_fixture as rf
from test_access_control import LOGIN_REFUSED, no_access, no_topic_access, pika_refusal

PASSWORD = "s3cret-\u00e9"  # non-ASCII: the hash must cover the UTF-8 bytes


class World:
    """What the tests set up, and the checks that it is all still in force on broker b."""

    def __init__(self, b):
        self.acc = access_api.Accounts(port=b.http_port, track=False)
        acc = self.acc
        self.vhost = acc.vhost()
        self.alice = acc.user(password=PASSWORD, tags="impersonator")
        self.bob = acc.user()             # deleted: must stay deleted
        self.carol = acc.user()           # her permissions are cleared: must stay cleared
        acc.permit("guest", self.vhost, ".*", ".*", ".*")
        acc.permit(self.alice, self.vhost, "^a", "^(a|amq\\.(topic|default)$)", "^a")
        acc.permit(self.carol, self.vhost, ".*", ".*", ".*")
        acc.topic(self.alice, self.vhost, "amq.topic", "^{username}\\.", ".*")
        acc.vhost_limit(self.vhost, "max-queues", 3)
        acc.user_limit(self.alice, "max-channels", 2)
        acc.user_limit(self.alice, "max-connections", 2)
        acc.delete_user(self.bob)
        acc.unpermit(self.carol, self.vhost)

    def connect(self, b, user, password=None):
        return rf.connect(port=b.port, virtual_host=self.vhost,
                          credentials=pika.PlainCredentials(user, password or self.acc.password(user)))

    def check(self, b, when):
        """Everything set up is in force on broker b (fresh connections only)."""
        self.acc.port = b.http_port
        v, alice = self.vhost, self.alice

        def refusal(**kw):
            return pika_refusal(port=b.port, virtual_host=v, **kw)[1:]

        rf.eq(refusal(credentials=pika.PlainCredentials(alice, "wrong")), (403, LOGIN_REFUSED % "PLAIN"),
              "%s: wrong password" % when)
        rf.eq(refusal(credentials=pika.PlainCredentials(self.bob, self.acc.password(self.carol))),
              (403, LOGIN_REFUSED % "PLAIN"), "%s: deleted user" % when)
        rf.eq(refusal(credentials=pika.PlainCredentials(self.carol, self.acc.password(self.carol))),
              (530, "NOT_ALLOWED - access to vhost '%s' refused for user '%s'" % (v, self.carol)),
              "%s: cleared permissions" % when)
        conn = self.connect(b, alice, PASSWORD)
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("a.q1")
        ch.queue_declare("a.q2")
        rf.expect_channel_error(lambda: ch.queue_declare("b.q"), 403, no_access("queue", "b.q", v, alice))
        ch = conn.channel()
        ch.confirm_delivery()
        ch.basic_publish("amq.topic", alice + ".x", b"m")
        ch.basic_publish("", "a.q1", b"impersonated", pika.BasicProperties(user_id="guest"))
        rf.expect_channel_error(lambda: ch.basic_publish("amq.topic", "other.x", b"m"), 403,
                                no_topic_access("other.x", "amq.topic", v, alice))
        # max-channels 2: this connection holds two (the refusals above closed theirs); a
        # second connection gets none.
        ch = conn.channel()
        conn.channel()
        second = self.connect(b, alice, PASSWORD)
        rf.expect_connection_error(second.channel, 530, "NOT_ALLOWED - number of channels opened for user '%s' has "
                                                        "reached the maximum allowed user limit of (2)" % alice)
        # max-queues 3 (guest's fixture queue a.q0 is the third).
        admin = rf.connect(port=b.port, virtual_host=v).channel()
        admin.queue_declare("a.q0", durable=True)
        rf.expect_channel_error(lambda: ch.queue_declare("a.q3"), 406,
                                "PRECONDITION_FAILED - cannot declare queue 'a.q3': queue limit in vhost '%s' (3) is "
                                "reached" % v)
        # max-connections 2: conn is open, second was closed by the channel refusal.
        third = self.connect(b, alice, PASSWORD)
        rf.eq(refusal(credentials=pika.PlainCredentials(alice, PASSWORD)),
              (530, "NOT_ALLOWED - connection refused for user '%s': user connection limit (2) is reached" % alice),
              "%s: user max-connections" % when)
        for c in (third, conn):
            c.close()
        # What the API lists.
        user = access_api.call("GET", "/api/users/%s" % access_api.q(alice), port=b.http_port)
        rf.eq(user["tags"], ["impersonator"], "%s: tags" % when)
        perms = access_api.call("GET", "/api/permissions/%s/%s" % (access_api.q(v), access_api.q(alice)),
                                port=b.http_port)
        rf.eq([perms[k] for k in ("configure", "write", "read")], ["^a", "^(a|amq\\.(topic|default)$)", "^a"],
              "%s: permissions" % when)
        topics = access_api.call("GET", "/api/topic-permissions/%s/%s" % (access_api.q(v), access_api.q(alice)),
                                 port=b.http_port)
        rf.eq([(t["exchange"], t["write"], t["read"]) for t in topics], [("amq.topic", "^{username}\\.", ".*")],
              "%s: topic permissions" % when)
        limits = access_api.call("GET", "/api/user-limits/%s" % access_api.q(alice), port=b.http_port)
        rf.eq([entry["value"] for entry in limits], [{"max-channels": 2, "max-connections": 2}],
              "%s: user limits" % when)
        limits = access_api.call("GET", "/api/vhost-limits/%s" % access_api.q(v), port=b.http_port)
        rf.eq([entry["value"] for entry in limits], [{"max-queues": 3}], "%s: vhost limits" % when)
        status, _ = access_api.api("GET", "/api/users/%s" % access_api.q(self.bob), port=b.http_port)
        rf.eq(status, 404, "%s: deleted user listed" % when)


def test_access_control_survives_a_graceful_restart():
    b = rf.start_broker()
    world = World(b)
    world.check(b, "before the restart")
    b = rf.restart_broker(b)
    world.check(b, "after a graceful restart")


def test_access_control_survives_sigkill_right_after_the_api_answered():
    b = rf.start_broker()
    world = World(b)
    b = rf.restart_broker(b, kill=True)
    world.check(b, "after SIGKILL")
    # Changes made on the recovered broker, again killed as soon as the API has answered.
    acc = world.acc
    acc.permit(world.alice, world.vhost, "^a", "^(a|amq\\.(topic|default)$)", "^(a|z)")
    acc.user_limit(world.alice, "max-channels", 5)
    acc.delete_user(world.carol)
    dave = acc.user()
    acc.permit(dave, world.vhost, ".*", ".*", ".*")
    b = rf.restart_broker(b, kill=True)
    acc.port = b.http_port
    perms = access_api.call("GET", "/api/permissions/%s/%s" % (access_api.q(world.vhost), access_api.q(world.alice)),
                            port=b.http_port)
    rf.eq(perms["read"], "^(a|z)", "changed permission after SIGKILL")
    limits = access_api.call("GET", "/api/user-limits/%s" % access_api.q(world.alice), port=b.http_port)
    rf.eq([entry["value"] for entry in limits], [{"max-channels": 5, "max-connections": 2}], "changed limit")
    rf.eq(pika_refusal(port=b.port, credentials=pika.PlainCredentials(world.carol, acc.password(dave)))[1:],
          (403, LOGIN_REFUSED % "PLAIN"), "user deleted just before SIGKILL")
    ch = world.connect(b, dave).channel()
    ch.queue_declare("d.q")
    conn = world.connect(b, world.alice, PASSWORD)
    channels = [conn.channel() for _ in range(5)]
    rf.expect_channel_error(lambda: channels[0].basic_get("b.q"), 403,
                            no_access("queue", "b.q", world.vhost, world.alice))
    rf.expect_channel_error(lambda: channels[1].basic_get("z.none"), 404,
                            "NOT_FOUND - no queue 'z.none' in vhost '%s'" % world.vhost)


if __name__ == "__main__":
    rf.main(file_broker=False)

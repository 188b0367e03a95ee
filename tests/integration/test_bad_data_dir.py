#!/usr/bin/python3
"""A data dir the broker cannot or must not use: it prints a clear error on stderr and exits
non-zero at startup (within 10 s, without printing its listening line), and leaves the file
it found exactly as it was (bytes, size and mtime).

Cases: the data dir is a regular file, or lies under one; DIR/roost.db is random bytes, a
foreign SQLite database (its own table, default application_id; or another application's
id), a Roost database whose PRAGMA user_version is from the future, one whose stored queue
arguments do not decode, a Roost database with garbage written over pages in its middle, or
one cut short.  A fresh empty dir is the
control: it must start (and create DIR/roost.db).  Skipped with ROOST_EXTERNAL_PORT."""
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

import pika

import roost_fixture as rf

DB = "roost.db"
START_LIMIT = 10.0  # seconds the broker has to give up
RNG = random.Random(20240229)

_procs = []


def snapshot(path):
    """Everything about a file the broker must not change."""
    st = os.stat(path)
    with open(path, "rb") as f:
        data = f.read()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "mode": st.st_mode, "bytes": data}


def assert_untouched(path, before):
    after = snapshot(path)
    for k in ("size", "mtime_ns", "mode"):
        rf.eq(after[k], before[k], "%s of %s" % (k, path))
    if after["bytes"] != before["bytes"]:
        first = next(i for i, (a, b) in enumerate(zip(after["bytes"], before["bytes"])) if a != b) \
            if len(after["bytes"]) == len(before["bytes"]) else min(len(after["bytes"]), len(before["bytes"]))
        raise AssertionError("%s changed (first difference at byte %d)" % (path, first))


def listing(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else None


def run_refused(data_dir, extra_args=()):
    """Start the broker on data_dir; it must exit non-zero within START_LIMIT s without
    printing its listening line. Returns its stderr. Killed by PID if it does not exit."""
    if os.environ.get("ROOST_EXTERNAL_PORT"):
        rf.skip("starts brokers itself (ROOST_EXTERNAL_PORT is set)")
    binary = rf.broker_binary()
    assert os.path.exists(binary), "broker binary not found: %s" % binary
    err_path = os.path.join(rf.new_data_dir("roost-bad-log-"), "stderr.log")
    with open(err_path, "wb") as err_file:
        p = subprocess.Popen([binary, "--bind", rf.HOST, "--amqp-port", "0", "--http-port", "0", "--data-dir", data_dir,
                              "--log-level", "info"] + list(extra_args),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_file,
                             preexec_fn=rf._die_with_parent)
    _procs.append(p)
    t0 = time.monotonic()
    deadline = t0 + START_LIMIT
    out = b""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("broker still running %.0f s after start on a bad data dir %s"
                                     % (START_LIMIT, data_dir))
            ready, _, _ = select.select([p.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break  # stdout closed: the process is exiting
            out += chunk
            if b"listening" in out:
                raise AssertionError("broker started listening on a bad data dir %s: stdout %r" % (data_dir, out))
        try:
            rc = p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError("broker closed stdout but did not exit within %.0f s" % START_LIMIT)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(5)
        p.stdout.close()
        _procs.remove(p)
    with open(err_path, "rb") as f:
        err = f.read().decode("utf-8", "replace")
    dt = time.monotonic() - t0
    print("#   exit %s after %.2f s; stderr: %s" % (rc, dt, " | ".join(err.strip().splitlines()[-3:])))
    assert rc != 0, "broker exited 0 on a bad data dir %s" % data_dir
    assert rc > 0, "broker died of signal %d on a bad data dir (should exit with an error status)" % -rc
    assert err.strip(), "no error message on stderr"
    assert b"listening" not in out, out
    return err


def assert_explains(err, paths, words):
    """stderr names the offending path or says what is wrong."""
    low = err.lower()
    if any(p in err for p in paths) or any(w in low for w in words):
        return
    raise AssertionError("stderr names neither %r nor any of %r:\n%s" % (paths, words, err))


def make_roost_db(queues=1, messages=10, body_size=100):
    """A data dir with a real Roost database (durable exchange/queue/binding and persistent
    messages), written by the broker and stopped gracefully; the WAL folded into the file."""
    b = rf.start_broker()
    conn = rf.connect(port=b.port)
    ch = conn.channel()
    x = rf.uniq("x")
    ch.exchange_declare(x, "topic", durable=True)
    names = []
    for i in range(queues):
        q = rf.uniq("q%d" % i)
        ch.queue_declare(q, durable=True)
        ch.queue_bind(q, x, "k.#")
        names.append(q)
    props = pika.BasicProperties(delivery_mode=2)
    for i in range(messages):
        ch.basic_publish(x, "k.%d" % i, (b"%08d" % i) * (body_size // 8), properties=props)
    for q in names:  # all routed (no confirms: the graceful stop must write them all anyway)
        rf.wait_message_count(ch, q, messages)
    conn.close()
    rf.stop_broker_clean(b)
    db = os.path.join(b.data_dir, DB)
    assert os.path.isfile(db), "the broker left no %s in its data dir (%r)" % (DB, listing(b.data_dir))
    fold_wal(db)
    return b.data_dir, db, names


def fold_wal(db):
    """Checkpoint and close so the whole database is in the main file (no -wal/-shm left)."""
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        con.close()
    for suffix in ("-wal", "-shm"):
        assert not os.path.exists(db + suffix), "%s%s still there after a checkpoint and close" % (db, suffix)


def sqlite_detects_damage(db):
    """PRAGMA quick_check on a copy (the original is not opened): True if SQLite sees damage."""
    tmp = tempfile.mkdtemp(prefix="roost-check-")
    try:
        copy = os.path.join(tmp, DB)
        shutil.copyfile(db, copy)
        try:
            con = sqlite3.connect(copy, isolation_level=None)
            try:
                rows = con.execute("PRAGMA quick_check").fetchall()
            finally:
                con.close()
        except sqlite3.DatabaseError:
            return True
        return rows != [("ok",)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def refused_untouched(data_dir, target, paths, words):
    before = snapshot(target)
    names_before = listing(data_dir)
    err = run_refused(data_dir)
    assert_untouched(target, before)
    extra = sorted(set(listing(data_dir) or []) - set(names_before or []))
    if extra:
        print("#   new files next to it: %s" % extra)
    assert_explains(err, paths, words)
    return err


# ------------------------------------------------------------------ tests

def test_control_fresh_empty_dir_starts_and_creates_the_database():
    d = rf.new_data_dir()
    b = rf.start_broker(data_dir=d)
    rf.stop_broker_clean(b)
    assert os.path.isfile(os.path.join(d, DB)), "no %s in %r" % (DB, listing(d))
    b = rf.start_broker(data_dir=d)  # and the database it made is accepted
    assert b.recovered_line() is not None, "no 'recovered' line on stderr"


def test_data_dir_is_a_regular_file():
    f = os.path.join(rf.new_data_dir(), "not-a-dir")
    with open(f, "wb") as fh:
        fh.write(b"precious user data\n" * 100)
    before = snapshot(f)
    err = run_refused(f)
    assert_untouched(f, before)
    assert_explains(err, [f], ["not a directory", "directory"])


def test_data_dir_under_a_regular_file():
    f = os.path.join(rf.new_data_dir(), "plain-file")
    with open(f, "wb") as fh:
        fh.write(b"precious user data\n" * 100)
    before = snapshot(f)
    sub = os.path.join(f, "sub")
    err = run_refused(sub)
    assert_untouched(f, before)
    assert_explains(err, [sub, f], ["not a directory", "directory"])


def test_database_is_random_bytes():
    d = rf.new_data_dir()
    db = os.path.join(d, DB)
    data = bytes(RNG.getrandbits(8) for _ in range(64 * 1024))
    assert not data.startswith(b"SQLite format 3\x00")
    with open(db, "wb") as fh:
        fh.write(data)
    refused_untouched(d, db, [db, d], ["not a database", "corrupt", "malformed", "database"])


def test_database_is_a_foreign_sqlite_database():
    d = rf.new_data_dir()
    db = os.path.join(d, DB)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("CREATE TABLE inventory (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)")
    con.execute("BEGIN")
    con.executemany("INSERT INTO inventory (name, qty) VALUES (?, ?)", [("item-%d" % i, i) for i in range(500)])
    con.execute("COMMIT")
    rf.eq(con.execute("PRAGMA application_id").fetchone()[0], 0, "default application_id")
    con.close()
    refused_untouched(d, db, [db, d], ["application_id", "application id", "not a roost", "foreign", "unknown",
                                       "schema", "database"])


def test_database_of_another_application_without_tables():
    d = rf.new_data_dir()
    db = os.path.join(d, DB)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA application_id = 1296253508")  # 'MPDB', some other program's id
    con.execute("PRAGMA user_version = 1")
    con.close()
    refused_untouched(d, db, [db, d], ["application_id", "application id", "not a roost", "foreign", "unknown",
                                       "database"])


def test_database_from_a_future_version():
    d, db, names = make_roost_db()
    con = sqlite3.connect(db, isolation_level=None)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    future = max(version + 1000000, 999999)
    con.execute("PRAGMA user_version = %d" % future)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    con.close()
    fold_wal(db)
    print("#   roost.db: application_id=%d user_version=%d, set to %d" % (app_id, version, future))
    refused_untouched(d, db, [db, d], ["version", "newer", str(future)])
    # put the version back: the broker did no harm, the database is fine again
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA user_version = %d" % version)
    con.close()
    fold_wal(db)
    b = rf.start_broker(data_dir=d)
    conn = rf.connect(port=b.port)
    rf.eq(conn.channel().queue_declare(names[0], passive=True).method.message_count, 10)


def test_stored_queue_arguments_that_do_not_decode():
    """Found by fuzz/recovery: a record SQLite reads fine but whose AMQP field table is
    damaged used to end the broker with an uncaught exception (SIGABRT)."""
    d, db, names = make_roost_db()
    con = sqlite3.connect(db, isolation_level=None)
    original = con.execute("SELECT arguments FROM queues WHERE name = ?", (names[0],)).fetchone()[0]
    con.execute("UPDATE queues SET arguments = x'00000010' WHERE name = ?", (names[0],))
    con.close()
    fold_wal(db)
    before = snapshot(db)
    err = run_refused(d)
    # The file is a sound SQLite database that the store opened before the broker read the
    # record: SQLite may count that as a write in its header (change counter, bytes 24-27,
    # and the version-valid-for number, 92-95); every other byte must stay.
    after = snapshot(db)
    changed = [i for i, (x, y) in enumerate(zip(before["bytes"], after["bytes"])) if x != y]
    rf.eq(after["size"], before["size"], "size of %s" % db)
    assert all(24 <= i < 28 or 92 <= i < 96 for i in changed), "bytes changed at %r" % changed[:20]
    assert_explains(err, [db, d], ["damaged"])
    assert ("queue '%s'" % names[0]) in err and "cannot be decoded" in err, err
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("UPDATE queues SET arguments = ? WHERE name = ?", (original, names[0]))
    con.close()
    fold_wal(db)
    b = rf.start_broker(data_dir=d)
    conn = rf.connect(port=b.port)
    rf.eq(conn.channel().queue_declare(names[0], passive=True).method.message_count, 10)


def test_database_with_garbage_over_its_middle_pages():
    d, db, _ = make_roost_db(queues=2, messages=1500, body_size=1000)
    with open(db, "rb") as fh:
        healthy = fh.read()
    page = int.from_bytes(healthy[16:18], "big")
    page = 65536 if page == 1 else page
    pages = len(healthy) // page
    assert pages >= 20, "database too small to corrupt its middle (%d pages)" % pages
    # garbage over a few whole pages around the middle; move on if SQLite would not notice
    # (free pages), checking on a copy so the file under test is only written here
    for start in [pages // 2, pages // 3, (2 * pages) // 3, pages // 4, (3 * pages) // 4]:
        damaged = bytearray(healthy)
        off = start * page
        damaged[off:off + 4 * page] = bytes(RNG.getrandbits(8) for _ in range(4 * page))
        with open(db, "wb") as fh:
            fh.write(damaged)
        if sqlite_detects_damage(db):
            print("#   %d pages of %d bytes; garbage over pages %d-%d" % (pages, page, start + 1, start + 4))
            break
    else:
        raise AssertionError("could not produce damage that PRAGMA quick_check reports")
    refused_untouched(d, db, [db, d], ["corrupt", "malformed", "integrity", "damaged", "database"])


def test_database_cut_short():
    d, db, _ = make_roost_db(queues=2, messages=1500, body_size=1000)
    size = os.path.getsize(db)
    with open(db, "r+b") as fh:
        fh.truncate(size // 2 + 123)
    assert sqlite_detects_damage(db), "SQLite does not notice the truncation (precondition)"
    print("#   cut from %d to %d bytes" % (size, size // 2 + 123))
    refused_untouched(d, db, [db, d], ["corrupt", "malformed", "integrity", "truncated", "short", "database"])


if __name__ == "__main__":
    import atexit

    @atexit.register
    def _kill_refusers():
        for p in list(_procs):
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)

    rf.main(test_timeout=60, total_timeout=270, file_broker=False)

"""Offline operation (issue: keep working with the server gone, lose nothing).

Real smbd stopped by its PID or frozen with SIGSTOP, real FUSE mount, real
index.  The documented errno for data that is not cached while the share is
offline is EHOSTDOWN ("Host is down").
"""

import errno
import json
import os
import subprocess
import threading
import time

import pytest

import harness

MiB = 1 << 20
OFFLINE_ERRNO = errno.EHOSTDOWN


def wait_state(m, want, timeout):
    """Polls `ofsync status` until the share is in state want; returns the status."""
    deadline = time.monotonic() + timeout
    st = m.status()
    while st["state"] != want and time.monotonic() < deadline:
        time.sleep(0.1)
        st = m.status()
    assert st["state"] == want, st
    return st


def timed(fn, *args):
    t = time.monotonic()
    try:
        return fn(*args), None, time.monotonic() - t
    except OSError as e:
        return None, e, time.monotonic() - t


class Events:
    """`ofsync --json events` in the background, collecting event lines."""

    def __init__(self, m):
        self.lines = []
        self.p = subprocess.Popen([str(harness.build_dir() / "ofsync"), "--socket",
                                   str(m.socket), "--json", "events"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        time.sleep(0.3)  # subscribed before anything happens

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(json.loads(line))

    def wait_for(self, name, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.lines:
                if e["event"] == name:
                    return e
            time.sleep(0.1)
        raise AssertionError(f"no {name} event in {timeout} s; saw {self.lines}")

    def close(self):
        self.p.terminate()
        self.p.wait(timeout=5)


def test_cached_file_survives_server_stop(smb_server, ofsyncd, make_bytes):
    """(1) A fully read file reads back byte-identical with smbd stopped;
    status says offline with a reason; listing the directory still works."""
    data = make_bytes(6 * MiB + 7, 31)
    harness.write_file(smb_server.backing / "doc.bin", data)
    harness.write_file(smb_server.backing / "sub" / "note.txt", b"note")
    m = ofsyncd.mount(smb_server, extra_opts=["timeout=2", "probe_interval=1"])
    assert (m.mnt / "doc.bin").read_bytes() == data
    assert sorted(os.listdir(m.mnt)) == ["doc.bin", "sub"]
    assert os.listdir(m.mnt / "sub") == ["note.txt"]  # known by name: a ghost
    smb_server.stop()
    time.sleep(1.5)  # attributes expire: the next calls ask the server
    assert (m.mnt / "doc.bin").read_bytes() == data
    assert sorted(os.listdir(m.mnt)) == ["doc.bin", "sub"]
    st = wait_state(m, "offline", 5)
    assert st["reason"], st
    r, _ = m.cli("status")
    assert "offline" in r.stdout, r.stdout
    # A ghost (never read) is listed with its size, and reading it fails at
    # once with the documented errno, not zeros.
    assert os.listdir(m.mnt / "sub") == ["note.txt"]
    assert os.stat(m.mnt / "sub" / "note.txt").st_size == 4
    _, e, took = timed(os.open, m.mnt / "sub" / "note.txt", os.O_RDONLY)
    assert e is not None and e.errno == OFFLINE_ERRNO and took < 2, (e, took)
    _, e, took = timed(lambda: (m.mnt / "sub" / "note.txt").read_bytes())
    assert e is not None and e.errno == OFFLINE_ERRNO, e
    assert took < 2, took


@pytest.mark.deadline(120)
def test_frozen_server_calls_are_bounded(smb_server, ofsyncd, make_bytes):
    """(3) With smbd SIGSTOPped, stat and read of a cached file return within
    timeout + 2 s, and an uncached read fails with the documented errno
    within the same bound."""
    timeout = 3
    data = make_bytes(3 * MiB, 32)
    harness.write_file(smb_server.backing / "cached.bin", data)
    harness.write_file(smb_server.backing / "uncached.bin", make_bytes(3 * MiB, 33))
    m = ofsyncd.mount(smb_server, extra_opts=[f"timeout={timeout}", "probe_interval=1"])
    assert (m.mnt / "cached.bin").read_bytes() == data
    os.stat(m.mnt / "uncached.bin")  # known by name, never read
    time.sleep(1.2)  # attributes expire
    smb_server.pause()
    try:
        st, e, took = timed(os.stat, m.mnt / "cached.bin")
        assert e is None and st.st_size == len(data), e
        assert took < timeout + 2, took
        got, e, took = timed(lambda: (m.mnt / "cached.bin").read_bytes())
        assert e is None and got == data, e
        assert took < timeout + 2, took
        _, e, took = timed(lambda: (m.mnt / "uncached.bin").read_bytes())
        assert e is not None and e.errno == OFFLINE_ERRNO, e
        assert took < timeout + 2, took
        assert m.status()["state"] == "offline"
        # Now offline, with the prober stuck in a probe of the frozen
        # server: an uncached read fails at once, it does not queue behind.
        time.sleep(1.5)
        for _ in range(3):
            _, e, took = timed(lambda: (m.mnt / "uncached.bin").read_bytes())
            assert e is not None and e.errno == OFFLINE_ERRNO, e
            assert took < 0.5, took
            time.sleep(0.4)
    finally:
        smb_server.resume()
    # The prober brings it back.
    wait_state(m, "online", timeout + 5)
    assert (m.mnt / "uncached.bin").read_bytes() == make_bytes(3 * MiB, 33)


def test_start_offline_over_existing_cache(smb_server, ofsyncd, make_bytes):
    """(4) Started with the server down, over an existing cache, the cached
    tree is browsable and readable; the share goes online when the server
    comes back."""
    data = make_bytes(2 * MiB, 34)
    harness.write_file(smb_server.backing / "a" / "b.bin", data)
    harness.write_file(smb_server.backing / "top.txt", b"top")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "a" / "b.bin").read_bytes() == data
    assert (m.mnt / "top.txt").read_bytes() == b"top"
    cache, sock, mnt = m.cache_dir, m.socket, m.mnt
    assert m.stop() == 0
    smb_server.stop()

    m2 = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"], mnt=mnt,
                       cache_dir=cache, socket_path=sock)
    assert m2.status()["state"] == "offline"
    assert sorted(os.listdir(m2.mnt)) == ["a", "top.txt"]
    assert os.listdir(m2.mnt / "a") == ["b.bin"]
    assert (m2.mnt / "a" / "b.bin").read_bytes() == data
    assert (m2.mnt / "top.txt").read_bytes() == b"top"
    smb_server.start()
    wait_state(m2, "online", 10)


def test_forced_offline_and_back(shared_smb_server, ofsyncd, make_bytes):
    """`ofsync offline` forces offline with the server up (uncached data
    fails at once); `ofsync online` goes back at once.  -o offline starts
    that way."""
    harness.write_file(shared_smb_server.backing / "forced.txt", b"forced")
    harness.write_file(shared_smb_server.backing / "later.txt", b"later")
    m = ofsyncd.mount(shared_smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "forced.txt").read_bytes() == b"forced"
    os.stat(m.mnt / "later.txt")
    r, _ = m.cli("offline")
    assert "offline" in r.stdout
    st = m.status()
    assert st["state"] == "offline" and st["forced"] is True, st
    time.sleep(2.5)  # two probe intervals: forced offline does not end by itself
    assert m.status()["state"] == "offline"
    assert (m.mnt / "forced.txt").read_bytes() == b"forced"
    _, e, took = timed(lambda: (m.mnt / "later.txt").read_bytes())
    assert e is not None and e.errno == OFFLINE_ERRNO and took < 1, (e, took)
    r, _ = m.cli("online")
    assert "online" in r.stdout
    assert m.status()["state"] == "online"
    assert (m.mnt / "later.txt").read_bytes() == b"later"

    m2 = ofsyncd.mount(shared_smb_server, extra_opts=["offline"])
    st = m2.status()
    assert st["state"] == "offline" and st["forced"] is True, st


def test_connection_error_keeps_cache(smb_server, ofsyncd, make_bytes):
    """(7) A connection error during a directory listing and during a read
    leaves the cached entries and bytes exactly as they were."""
    data = make_bytes(9 * MiB, 35)
    harness.write_file(smb_server.backing / "d" / "part.bin", data)
    harness.write_file(smb_server.backing / "d" / "x.txt", b"x")
    m = ofsyncd.mount(smb_server, extra_opts=["timeout=2", "probe_interval=60"])
    with open(m.mnt / "d" / "part.bin", "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        assert os.pread(f.fileno(), 1000, 0) == data[:1000]
    before_list = sorted(os.listdir(m.mnt / "d"))
    before = m.info(m.mnt / "d" / "part.bin")
    assert before["cached"] == "sparse"
    smb_server.stop()
    time.sleep(1.2)
    # The listing and the uncached read hit the dead server.
    assert sorted(os.listdir(m.mnt / "d")) == before_list
    with open(m.mnt / "d" / "part.bin", "rb") as f:
        with pytest.raises(OSError) as ei:
            os.pread(f.fileno(), 1000, 8 * MiB)
        assert ei.value.errno == OFFLINE_ERRNO
        assert os.pread(f.fileno(), 1000, 0) == data[:1000]
    after = m.info(m.mnt / "d" / "part.bin")
    for k in ("cached", "cached_bytes", "size", "dirty", "base", "gen"):
        assert after[k] == before[k], (k, before, after)
    assert sorted(os.listdir(m.mnt / "d")) == before_list


def test_offline_write_is_pushed_when_back(smb_server, ofsyncd, make_bytes):
    """A cached file changed offline (write and fsync) is pushed by the
    background sync when the server returns, between BackgroundSyncBegin
    and BackgroundSyncEnd events, and the share ends online and clean."""
    harness.write_file(smb_server.backing / "w.txt", b"old content\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "w.txt").read_bytes() == b"old content\n"
    ev = Events(m)
    try:
        smb_server.stop()
        with open(m.mnt / "w.txt", "r+b") as f:
            f.write(b"NEW")
            f.flush()
            os.fsync(f.fileno())
        assert (m.mnt / "w.txt").read_bytes() == b"NEW content\n"
        assert m.info(m.mnt / "w.txt")["dirty"] is True
        assert m.status()["dirty_items"] == 1
        smb_server.start()
        ev.wait_for("BackgroundSyncBegin", 10)
        end = ev.wait_for("BackgroundSyncEnd", 10)
        assert end["data"]["pushed"] == 1, end
    finally:
        ev.close()
    assert (smb_server.backing / "w.txt").read_bytes() == b"NEW content\n"
    st = m.status()
    assert st["state"] == "online" and st["dirty_items"] == 0, st


def wait_clean(m, timeout):
    """Polls status until nothing is dirty or pending; returns the status."""
    deadline = time.monotonic() + timeout
    st = m.status()
    while (st["dirty_items"] or st["pending_ops"]) and time.monotonic() < deadline:
        time.sleep(0.2)
        st = m.status()
    return st


def test_offline_changes_reach_server_in_order(smb_server, ofsyncd, make_bytes):
    """(2) Offline: modify a file, create a file in a new directory, rename a
    file, delete another.  With smbd back on the same port, within
    probe_interval plus a margin the server shows every change with
    identical bytes, the rename as a rename (same file id), nothing dirty."""
    b = smb_server.backing
    harness.write_file(b / "keep.txt", b"keep v1\n")
    harness.write_file(b / "ren.txt", b"rename me\n")
    harness.write_file(b / "del.txt", b"delete me\n")
    new_data = make_bytes(300_000, 36)
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    for name in ("keep.txt", "ren.txt", "del.txt"):
        (m.mnt / name).read_bytes()
    ino_before = os.stat(b / "ren.txt").st_ino
    smb_server.stop()

    (m.mnt / "keep.txt").write_bytes(b"keep v2, changed offline\n")
    os.mkdir(m.mnt / "newdir")
    (m.mnt / "newdir" / "new.bin").write_bytes(new_data)
    os.rename(m.mnt / "ren.txt", m.mnt / "renamed.txt")
    os.unlink(m.mnt / "del.txt")
    assert sorted(os.listdir(m.mnt)) == ["keep.txt", "newdir", "renamed.txt"]
    assert (m.mnt / "renamed.txt").read_bytes() == b"rename me\n"
    st = m.status()
    assert st["state"] == "offline" and st["pending_ops"] >= 4, st
    assert st["dirty_items"] >= 3, st

    smb_server.start()
    st = wait_clean(m, 15)
    assert st["dirty_items"] == 0 and st["pending_ops"] == 0 and st["conflicts"] == 0, st
    assert (b / "keep.txt").read_bytes() == b"keep v2, changed offline\n"
    assert (b / "newdir" / "new.bin").read_bytes() == new_data
    assert not (b / "ren.txt").exists() and not (b / "del.txt").exists()
    assert (b / "renamed.txt").read_bytes() == b"rename me\n"
    assert os.stat(b / "renamed.txt").st_ino == ino_before  # renamed, not copied
    assert sorted(p.name for p in b.iterdir()) == ["keep.txt", "newdir", "renamed.txt"]


def test_created_then_deleted_offline_leaves_no_trace(smb_server, ofsyncd):
    """A file and a directory created offline and deleted offline never reach
    the server, and leave nothing pending."""
    harness.write_file(smb_server.backing / "stay.txt", b"stay")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert os.listdir(m.mnt) == ["stay.txt"]
    smb_server.stop()
    os.mkdir(m.mnt / "tmpdir")
    (m.mnt / "tmpdir" / "scratch.txt").write_bytes(b"scratch")
    os.rename(m.mnt / "tmpdir" / "scratch.txt", m.mnt / "tmpdir" / "scratch2.txt")
    os.unlink(m.mnt / "tmpdir" / "scratch2.txt")
    os.rmdir(m.mnt / "tmpdir")
    st = m.status()
    assert st["pending_ops"] == 0 and st["dirty_items"] == 0, st
    # A name SMB would refuse is refused offline too, at once.
    for bad in ("what?.txt", "a:b", "pipe|name"):
        with pytest.raises(OSError) as ei:
            (m.mnt / bad).write_bytes(b"x")
        assert ei.value.errno == errno.EINVAL, bad
    assert m.status()["pending_ops"] == 0
    smb_server.start()
    wait_state(m, "online", 10)
    time.sleep(1.5)  # a background sync had its chance
    assert sorted(p.name for p in smb_server.backing.iterdir()) == ["stay.txt"]


def test_conflict_offline_and_on_server(smb_server, ofsyncd):
    """(5) Modified offline and on the server: the server's copy is
    untouched, the local copy is intact, a conflict is recorded and counted,
    and the file stays dirty."""
    b = smb_server.backing
    harness.write_file(b / "both.txt", b"original\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "both.txt").read_bytes() == b"original\n"
    smb_server.stop()
    (m.mnt / "both.txt").write_bytes(b"changed here, offline\n")
    harness.write_file(b / "both.txt", b"changed on the server meanwhile\n")
    t = time.time() + 5
    os.utime(b / "both.txt", (t, t))
    ev = Events(m)
    try:
        smb_server.start()
        end = ev.wait_for("BackgroundSyncEnd", 15)
        assert end["data"]["conflicts"] == 1, end
        # A recorded conflict waits for the user: it is not retried (nor
        # uploaded again) at every probe interval.
        seen = len(ev.lines)
        time.sleep(2.5)
        assert len(ev.lines) == seen, ev.lines[seen:]
    finally:
        ev.close()
    assert (b / "both.txt").read_bytes() == b"changed on the server meanwhile\n"
    assert (m.mnt / "both.txt").read_bytes() == b"changed here, offline\n"
    st = m.status()
    assert st["conflicts"] == 1 and st["dirty_items"] == 1, st
    assert m.info(m.mnt / "both.txt")["dirty"] is True
    r, _ = m.cli("conflicts", json=True, check=False)
    assert r.returncode == 5, (r.returncode, r.stderr)  # 5: conflicts left
    res = json.loads(r.stdout)
    assert [c["path"] for c in res["conflicts"]] == ["/both.txt"], res
    assert res["conflicts"][0]["state"] == "FileChangedOnClient_ChangedOnServer", res
    r, _ = m.cli("status")
    assert "conflicts 1" in r.stdout, r.stdout


def test_fsynced_data_survives_kill9(smb_server, ofsyncd, make_bytes):
    """(6) Data written and fsync'd offline, and a create and a rename that
    returned, survive kill -9 of the daemon and a restart: intact, still
    dirty, the index passes integrity_check, and all of it reaches the
    server once online."""
    import sqlite3

    b = smb_server.backing
    harness.write_file(b / "doc.txt", b"version 1\n")
    data = make_bytes(2 * MiB + 5, 37)
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "doc.txt").read_bytes() == b"version 1\n"
    smb_server.stop()
    with open(m.mnt / "doc.txt", "wb") as f:
        f.write(b"version 2, fsync'd\n")
        f.flush()
        os.fsync(f.fileno())
    with open(m.mnt / "made.bin", "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(m.mnt / "made.bin", m.mnt / "moved.bin")
    cache, sock, mnt = m.cache_dir, m.socket, m.mnt
    m.kill9()
    harness.lazy_unmount(mnt)

    db = sqlite3.connect(f"file:{cache}/index.db?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    m2 = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"], mnt=mnt, cache_dir=cache,
                       socket_path=sock)
    assert (m2.mnt / "doc.txt").read_bytes() == b"version 2, fsync'd\n"
    assert (m2.mnt / "moved.bin").read_bytes() == data
    assert m2.info(m2.mnt / "doc.txt")["dirty"] is True
    assert m2.info(m2.mnt / "moved.bin")["dirty"] is True
    smb_server.start()
    st = wait_clean(m2, 15)
    assert st["dirty_items"] == 0 and st["pending_ops"] == 0, st
    assert (b / "doc.txt").read_bytes() == b"version 2, fsync'd\n"
    assert (b / "moved.bin").read_bytes() == data
    assert not (b / "made.bin").exists()


@pytest.fixture
def small_cache_dir(tmp_path):
    """A 24 MiB tmpfs for the cache directory (a disk that fills up)."""
    d = tmp_path / "smallcache"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(d)],
                   check=True, timeout=10)
    yield d
    subprocess.run(["umount", "-l", str(d)], timeout=10)


def test_full_cache_disk_gives_enospc(smb_server, ofsyncd, small_cache_dir, make_bytes):
    """A full cache disk makes writes fail with ENOSPC; what was written
    before is intact (and still reaches the server), and the daemon keeps
    running."""
    early = make_bytes(3 * MiB, 38)
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"], cache_dir=small_cache_dir)
    smb_server.stop()  # keep everything dirty in the cache
    with open(m.mnt / "early.bin", "wb") as f:
        f.write(early)
        os.fsync(f.fileno())
    chunk = make_bytes(1 * MiB, 39)
    err = None
    with open(m.mnt / "flood.bin", "wb") as f:
        for _ in range(64):  # far more than the 24 MiB disk
            try:
                f.write(chunk)
                f.flush()
            except OSError as e:
                err = e
                break
        try:
            f.close()
        except OSError:
            pass
    assert err is not None and err.errno == errno.ENOSPC, err
    assert m.popen.poll() is None, "the daemon died"
    assert m.status()["state"] == "offline"
    assert (m.mnt / "early.bin").read_bytes() == early
    # Back online with the disk still full: a read of uncached data fails
    # cleanly (ENOSPC, at once), and the log says so in a line or two, not
    # one line per failed request.
    harness.write_file(smb_server.backing / "uncached.bin", make_bytes(4 * MiB, 40))
    smb_server.start()
    m.cli("online")
    for _ in range(20):
        try:
            with open(m.mnt / "uncached.bin", "rb") as f:
                f.read()
            raise AssertionError("read uncached data into a full cache")
        except OSError as e:
            assert e.errno in (errno.ENOSPC, errno.EIO), e
    full_lines = [x for x in m.log_text().splitlines()
                  if "space" in x.lower() or "full" in x.lower()]
    assert 1 <= len(full_lines) <= 5, full_lines
    try:  # dirty data untouched
        got = (m.mnt / "early.bin").read_bytes()
    except OSError as e:  # seen once under ASan in CI: keep the daemon's side of it
        raise AssertionError(f"early.bin: {e}; daemon log:\n{m.log_text()[-4000:]}") from e
    assert got == early
    os.unlink(m.mnt / "flood.bin")
    wait_clean(m, 15)
    assert (smb_server.backing / "early.bin").read_bytes() == early


def test_interrupted_fetch_never_marked_present(smb_server, ofsyncd, make_bytes):
    """A daemon killed in the middle of fetching a file leaves only bytes that
    are really there marked present: restarted offline, every chunk of the
    file either reads back exactly or fails with the offline errno."""
    size = 48 * MiB
    data = make_bytes(size, 40)
    harness.write_file(smb_server.backing / "big.bin", data)
    m = ofsyncd.mount(smb_server)
    chunk = m.status()["chunk_size"]
    assert os.stat(m.mnt / "big.bin").st_size == size  # known to the index
    reader = subprocess.Popen(["cat", str(m.mnt / "big.bin")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while m.info(m.mnt / "big.bin")["cached_bytes"] < 4 * MiB and time.monotonic() < deadline:
        time.sleep(0.005)
    cache, sock, mnt = m.cache_dir, m.socket, m.mnt
    m.kill9()
    reader.wait(timeout=10)
    harness.lazy_unmount(mnt)
    smb_server.stop()

    m2 = ofsyncd.mount(smb_server, extra_opts=["offline"], mnt=mnt, cache_dir=cache,
                       socket_path=sock)
    cached = m2.info(m2.mnt / "big.bin")["cached_bytes"]
    assert 0 < cached < size, cached
    good = 0
    with open(m2.mnt / "big.bin", "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        for off in range(0, size, chunk):
            try:
                got = os.pread(f.fileno(), chunk, off)
            except OSError as e:
                assert e.errno == OFFLINE_ERRNO, (off, e)
                continue
            assert got == data[off:off + chunk], f"wrong bytes served at {off}"
            good += len(got)
    assert good == cached, (good, cached)

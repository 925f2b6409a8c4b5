"""Integration tests of the cache itself: what is served without the server,
what the index and the cache directory look like on disk, the control
socket's protocol errors, and names the SMB URL syntax would mangle.
Real smbd, real FUSE mount, real SQLite index (read with Python's sqlite3).
"""

import json
import os
import socket
import sqlite3
import stat
import subprocess
import threading
import time

import harness

MiB = 1 << 20


def read_with_deadline(path, seconds):
    """Reads the whole file in a thread; returns its bytes, or None if it hung."""
    box = {}

    def run():
        try:
            with open(path, "rb") as f:
                box["data"] = f.read()
        except OSError as e:  # pragma: no cover - reported below
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if "error" in box:
        raise box["error"]
    return box.get("data")


def test_cached_reread_does_not_touch_the_server(smb_server, ofsyncd, make_bytes):
    """Data read once is served again with the server frozen (SIGSTOP): no
    request reaches smbd while attributes are fresh."""
    data = make_bytes(9 * MiB + 123, 21)
    harness.write_file(smb_server.backing / "f.bin", data)
    m = ofsyncd.mount(smb_server, attr_timeout=120)
    path = m.mnt / "f.bin"
    assert read_with_deadline(path, 60) == data
    assert os.listdir(m.mnt) == ["f.bin"]  # the listing is now fresh in the index
    smb_server.pause()
    try:
        # A new open and a full read: served from the cache, not the server.
        got = read_with_deadline(path, 10)
        assert got is not None, "re-read of cached data waited for the frozen server"
        assert got == data
        # A fresh listing is answered from the index.
        assert os.listdir(m.mnt) == ["f.bin"]
    finally:
        smb_server.resume()


def _resident_bytes(path):
    """Bytes of path in the page cache, from fincore(1)."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def test_sequential_read_is_kept_in_memory_once(smb_server, ofsyncd, make_bytes):
    """A file read through from start to end is held in memory by the
    mount's pages, not a second time by its cache file's: the cache file's
    pages a chunk behind the reader are written out and dropped.  The data
    reads back whole once the mount's pages are dropped too, from the cache
    file, with the server frozen."""
    size = 96 * MiB
    data = make_bytes(size, 22)
    harness.write_file(smb_server.backing / "big.bin", data)
    m = ofsyncd.mount(smb_server, attr_timeout=120)
    path = m.mnt / "big.bin"
    assert read_with_deadline(path, 120) == data
    cache_files = [p for p in (m.cache_dir / "data").rglob("*") if p.is_file()
                   and p.stat().st_size == size]
    assert len(cache_files) == 1, cache_files
    # Without the drop the whole file is resident; a chunk or two at its end may stay.
    resident = _resident_bytes(cache_files[0])
    assert resident <= size // 2, resident
    assert _resident_bytes(path) >= size // 2  # the mount's pages hold it
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    smb_server.pause()
    try:
        got = read_with_deadline(path, 60)
        assert got is not None, "re-read of cached data waited for the frozen server"
        assert got == data
    finally:
        smb_server.resume()


def test_index_on_disk(smb_server, ofsyncd, make_bytes):
    """The index is SQLite in WAL mode with a schema version, passes
    integrity_check, and records present ranges and the remote base."""
    data = make_bytes(5 * MiB, 22)
    harness.write_file(smb_server.backing / "a.bin", data)
    m = ofsyncd.mount(smb_server)
    assert (m.mnt / "a.bin").read_bytes() == data

    cache = m.cache_dir
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    ino = os.stat(m.mnt / "a.bin").st_ino
    m.stop()  # the daemon holds its index exclusively while it runs
    db = sqlite3.connect(f"file:{cache}/index.db?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        row = db.execute("SELECT id, type, has_base, base_size, size, cached_bytes FROM items "
                         "WHERE name = 'a.bin'").fetchone()
    finally:
        db.close()
    assert row is not None
    item_id, typ, has_base, base_size, size, cached = row
    assert (typ, has_base, base_size, size, cached) == (1, 1, len(data), len(data), len(data))
    # The inode number the kernel sees is the item's row id.
    assert ino == item_id


def test_control_socket_mode_and_protocol_errors(shared_smb_server, ofsyncd):
    """The socket is 0600; malformed, unknown and wrong-version requests get
    error replies that name the problem, and the daemon keeps serving."""
    m = ofsyncd.mount(shared_smb_server)
    assert stat.S_IMODE(os.stat(m.socket).st_mode) == 0o600

    def ask(line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(m.socket))
            s.sendall(line)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                assert chunk, "daemon closed the connection without an answer"
                buf += chunk
        return json.loads(buf)

    r = ask(b"this is not json\n")
    assert r["ok"] is False and r["error"]["code"] == "EPROTO", r
    r = ask(b'{"v":1,"id":5,"cmd":"frobnicate"}\n')
    assert r["ok"] is False and r["id"] == 5, r
    assert "frobnicate" in r["error"]["message"], r
    r = ask(b'{"v":99,"id":6,"cmd":"status"}\n')
    assert r["ok"] is False and r["error"]["code"] == "EPROTONOSUPPORT", r
    r = ask(b'{"v":1,"id":7,"cmd":"info","args":{"paths":"not-a-list"}}\n')
    assert r["ok"] is False and r["error"]["code"] == "EINVAL", r
    r = ask(b'{"v":1,"id":8,"cmd":"status"}\n')
    assert r["ok"] is True and r["result"]["shares"][0]["state"] == "online", r


def test_names_with_url_characters(smb_server, ofsyncd):
    """Names holding characters that mean something in an smb:// URL
    (%, #, ;, @, +, space) round-trip through the mount both ways; a name the
    server refuses ('?' and '*' are wildcards in SMB) fails with EINVAL and
    leaves nothing behind."""
    names = ["100% done.txt", "#hash.txt", "semi;colon@at+plus.txt", "a b&c=d.txt"]
    harness.write_file(smb_server.backing / "from server %41.txt", b"server side")
    m = ofsyncd.mount(smb_server)
    assert (m.mnt / "from server %41.txt").read_bytes() == b"server side"
    for i, name in enumerate(names):
        (m.mnt / name).write_bytes(f"content {i}".encode())
    for i, name in enumerate(names):
        assert (smb_server.backing / name).read_bytes() == f"content {i}".encode(), name
    for bad in ("what?.txt", "star*.txt"):
        try:
            (m.mnt / bad).write_bytes(b"x")
        except OSError as e:
            assert e.errno == 22, e
        else:
            raise AssertionError(f"{bad!r} was accepted")
    assert sorted(os.listdir(m.mnt)) == sorted(names + ["from server %41.txt"])
    assert sorted(os.listdir(smb_server.backing)) == sorted(names + ["from server %41.txt"])


def test_info_unknown_path_is_an_item_error(shared_smb_server, ofsyncd):
    """info on a path outside every mount fails for that item (exit 4) and
    still answers for the others."""
    m = ofsyncd.mount(shared_smb_server)
    r, _ = m.cli("info", str(m.mnt), "/definitely/not/a/mount", check=False)
    assert r.returncode == 4, (r.returncode, r.stdout, r.stderr)
    assert "not inside a mount" in r.stderr, r.stderr
    assert "dir" in r.stdout, r.stdout


def test_open_unlinked_file_keeps_working(smb_server, ofsyncd):
    """A file unlinked while open can still be read, written, stat'ed and
    truncated through its descriptor; nothing of it reaches the server."""
    harness.write_file(smb_server.backing / "u.txt", b"0123456789")
    m = ofsyncd.mount(smb_server)
    path = m.mnt / "u.txt"
    fd = os.open(path, os.O_RDWR)
    try:
        assert os.read(fd, 10) == b"0123456789"
        os.unlink(path)
        assert not (smb_server.backing / "u.txt").exists()
        assert os.fstat(fd).st_size == 10
        os.pwrite(fd, b"AB", 2)
        os.ftruncate(fd, 6)
        assert os.fstat(fd).st_size == 6
        assert os.pread(fd, 6, 0) == b"01AB45"
    finally:
        os.close(fd)
    assert "u.txt" not in os.listdir(m.mnt)
    assert not (smb_server.backing / "u.txt").exists()


def test_overwrite_with_shorter_content(smb_server, ofsyncd):
    """Opening an existing file with O_TRUNC and writing less than it held
    leaves exactly the new bytes, through the mount and on the server, both
    online and offline (the kernel passes O_TRUNC with the open)."""
    harness.write_file(smb_server.backing / "on.txt", b"original content\n")
    harness.write_file(smb_server.backing / "off.txt", b"original content\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "on.txt").read_bytes() == b"original content\n"
    assert (m.mnt / "off.txt").read_bytes() == b"original content\n"
    (m.mnt / "on.txt").write_bytes(b"short\n")
    assert (m.mnt / "on.txt").read_bytes() == b"short\n"
    assert (smb_server.backing / "on.txt").read_bytes() == b"short\n"
    smb_server.stop()
    (m.mnt / "off.txt").write_bytes(b"tiny\n")
    assert (m.mnt / "off.txt").read_bytes() == b"tiny\n"
    smb_server.start()
    deadline = time.monotonic() + 15
    while m.status()["dirty_items"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (smb_server.backing / "off.txt").read_bytes() == b"tiny\n"


def test_second_daemon_on_the_same_cache_is_refused(smb_server, ofsyncd):
    """Two daemons never share a cache: the second one exits with a reason
    naming the cache, and the first keeps serving."""
    harness.write_file(smb_server.backing / "f.txt", b"kept\n")
    m = ofsyncd.mount(smb_server)
    assert (m.mnt / "f.txt").read_bytes() == b"kept\n"
    r = ofsyncd.mount(smb_server, cache_dir=m.cache_dir, expect_fail=True)
    assert r.returncode == 1, r
    assert "in use by another process" in r.stderr and str(m.cache_dir) in r.stderr, r.stderr
    assert (m.mnt / "f.txt").read_bytes() == b"kept\n"
    assert m.status()["state"] == "online"

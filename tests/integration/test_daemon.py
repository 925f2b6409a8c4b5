"""Running it for real: `ofsync flush`, several shares in one daemon.
Real smbd, real mounts."""

import os
import subprocess

import pytest

import harness


def test_flush_wait_pushes_open_files(smb_server, ofsyncd, make_bytes):
    """flush --wait returns only once the server has the data, even for a
    file still open for writing (which a background sync leaves to its
    close)."""
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"])
    data = make_bytes(3 << 20, 11)
    with open(m.mnt / "open.bin", "wb") as f:
        f.write(data)
        f.flush()
        assert not (smb_server.backing / "open.bin").exists() or \
            (smb_server.backing / "open.bin").read_bytes() != data
        r, _ = m.cli("flush", "--wait", check=False)
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert (smb_server.backing / "open.bin").read_bytes() == data
        assert m.info(m.mnt / "open.bin")["dirty"] is False
    assert m.status()["dirty_items"] == 0


def test_flush_offline_has_its_own_status(smb_server, ofsyncd):
    """A share that is offline cannot be flushed: exit status 7 and a
    message that says so; the change stays dirty and reaches the server
    later."""
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"])
    m.cli("offline")
    (m.mnt / "later.txt").write_bytes(b"written offline\n")
    r, _ = m.cli("flush", "--wait", check=False)
    assert r.returncode == 7, (r.returncode, r.stdout, r.stderr)
    assert "offline" in r.stderr
    assert not (smb_server.backing / "later.txt").exists()
    m.cli("online")
    r, _ = m.cli("flush", "--wait", check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert (smb_server.backing / "later.txt").read_bytes() == b"written offline\n"


def write_conf(path, text):
    path.write_text(text)
    return path


def test_config_with_two_shares_mounts_both(smb_server, ofsyncd, tmp_path):
    """`ofsyncd -c FILE` with no share on its command line mounts every share
    of the file, in one daemon with one socket: both serve their files,
    status lists both, and a sync with no path covers both."""
    b = smb_server.backing
    harness.write_file(b / "docs" / "a.txt", b"in docs\n")
    harness.write_file(b / "music" / "b.txt", b"in music\n")
    m1, m2 = tmp_path / "docs-mnt", tmp_path / "music-mnt"
    m1.mkdir()
    m2.mkdir()
    sock, cache = tmp_path / "two.sock", tmp_path / "two-cache"
    conf = write_conf(tmp_path / "ofsync.conf", f"""\
# two shares, one daemon
[global]
cache_dir = {cache}
socket = {sock}
options = guest,attr_timeout=1

[share docs]
unc = {smb_server.unc}/docs
mountpoint = {m1}

[share music]
unc = {smb_server.unc}/music
mountpoint = {m2}
options = timeout=7
""")
    m = ofsyncd.start([harness.build_dir() / "ofsyncd", "-f", "-c", conf], [m1, m2], sock, cache)
    assert (m1 / "a.txt").read_bytes() == b"in docs\n"
    assert (m2 / "b.txt").read_bytes() == b"in music\n"
    _, st = m.cli("status", json=True)
    assert sorted(s["mountpoint"] for s in st["shares"]) == sorted([str(m1), str(m2)])
    assert all(s["state"] == "online" for s in st["shares"])
    # A sync with no path covers every share.
    harness.write_file(b / "docs" / "new1.txt", b"1\n")
    harness.write_file(b / "music" / "new2.txt", b"2\n")
    r, _ = m.cli("sync", "--in", check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert f"{smb_server.unc}/docs/new1.txt" in r.stdout, r.stdout
    assert f"{smb_server.unc}/music/new2.txt" in r.stdout, r.stdout
    assert m.info(m1 / "new1.txt")["cached"] == "full"
    assert m.info(m2 / "new2.txt")["cached"] == "full"
    # Paths of either mount resolve to their own share.
    assert m.info(m2 / "b.txt")["unc"] == f"{smb_server.unc}/music/b.txt"
    assert m.stop() == 0


def test_config_bad_line_names_file_and_line(ofsyncd, tmp_path):
    """A bad line in the file is an error that names the file and the line;
    nothing is mounted."""
    conf = write_conf(tmp_path / "bad.conf", """\
[global]
timeout = 5

[share x]
unc = //127.0.0.1/share
mountpoint = /tmp
colour = blue
""")
    r = ofsyncd.run([harness.build_dir() / "ofsyncd", "-f", "-c", conf])
    assert r.returncode == 2, r.stderr
    assert f"{conf}:7:" in r.stderr and "colour" in r.stderr, r.stderr


def test_no_share_and_no_config_is_a_usage_error(ofsyncd, tmp_path):
    """No share on the command line and none in the file: exit 2, saying so."""
    conf = write_conf(tmp_path / "empty.conf", "[global]\ntimeout = 5\n")
    r = ofsyncd.run([harness.build_dir() / "ofsyncd", "-f", "-c", conf])
    assert r.returncode == 2 and "no share given" in r.stderr, r.stderr
    r = ofsyncd.run([harness.build_dir() / "ofsyncd", "-f", "-c", tmp_path / "missing.conf"])
    assert r.returncode == 2 and "missing.conf" in r.stderr, r.stderr


def test_sd_notify_ready_and_status(smb_server, ofsyncd, tmp_path):
    """Under systemd (Type=notify) the daemon says READY=1 once mounted, and
    STATUS lines with the share's state and what waits for the server; on
    SIGTERM it says STOPPING=1.  The test plays systemd's notify socket."""
    import socket
    import time
    ns = tmp_path / "notify.sock"
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(str(ns))
    rx.settimeout(10)
    mnt, sock, cache = tmp_path / "mnt", tmp_path / "n.sock", tmp_path / "cache"
    mnt.mkdir()
    argv = [harness.build_dir() / "ofsyncd", "-f", "-o",
            f"cache_dir={cache},socket={sock},guest,probe_interval=3600", smb_server.unc, mnt]
    m = ofsyncd.start(argv, [mnt], sock, cache, env={"NOTIFY_SOCKET": str(ns)})
    got = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any("READY=1" in x for x in got):
        got.append(rx.recv(4096).decode())
    assert any("READY=1" in x for x in got), got
    m.cli("offline")
    (mnt / "x.txt").write_bytes(b"12345")
    deadline = time.monotonic() + 15
    status = ""
    while time.monotonic() < deadline and "1 dirty items" not in status:
        msg = rx.recv(4096).decode()
        if msg.startswith("STATUS="):
            status = msg
    assert smb_server.unc in status and "offline" in status, status
    assert "1 dirty items (5 B)" in status and "1 changes waiting" in status, status
    m.popen.terminate()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if "STOPPING=1" in rx.recv(4096).decode():
            break
    else:
        raise AssertionError("no STOPPING=1")
    rx.close()


MiB = 1 << 20


def cache_usage(m):
    _, st = m.cli("status", json=True)
    return st["cache"]


def wait_for(pred, timeout=20):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def test_eviction_lru_keeps_pinned_and_dirty(smb_server, ofsyncd, make_bytes):
    """Past the auto-cached limit, clean unpinned files are evicted least
    recently used first until usage is under it; pinned and dirty files
    stay; an evicted file reads back correctly online."""
    import time
    b = smb_server.backing
    data = {f"f{i}.bin": make_bytes(MiB, 100 + i) for i in range(8)}
    for name, content in data.items():
        harness.write_file(b / name, content)
    harness.write_file(b / "pinned.bin", make_bytes(MiB, 99))
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"])
    m.cli("pin", m.mnt / "pinned.bin")
    for name in sorted(data):  # f0 is the least recently used
        assert (m.mnt / name).read_bytes() == data[name]
        time.sleep(0.05)
    m.cli("offline")
    (m.mnt / "dirty.bin").write_bytes(make_bytes(MiB, 98))
    use = cache_usage(m)
    assert use["used"] == 10 * MiB and use["auto_used"] == 9 * MiB, use
    r, _ = m.cli("limits", "--auto", "5M", check=False)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: cache_usage(m)["auto_used"] <= 5 * MiB), cache_usage(m)
    cached = {n: m.info(m.mnt / n)["cached_bytes"] for n in data}
    assert [cached[f"f{i}.bin"] for i in range(5)] == [0] * 5, cached
    assert [cached[f"f{i}.bin"] for i in range(5, 8)] == [MiB] * 3, cached
    assert m.info(m.mnt / "pinned.bin")["cached"] == "full"
    assert m.info(m.mnt / "dirty.bin")["dirty"] is True
    assert (m.mnt / "dirty.bin").read_bytes() == make_bytes(MiB, 98)
    use = cache_usage(m)
    assert use["auto_limit"] == 5 * MiB and use["limit"] == 0, use
    m.cli("online")
    assert (m.mnt / "f0.bin").read_bytes() == data["f0.bin"]


def test_evict_command_and_usage_from_ranges(smb_server, ofsyncd, make_bytes):
    """`ofsync evict` drops clean unpinned data at once and refuses pinned
    and dirty files with the reason; usage counts cached ranges, not file
    sizes; status shows usage against both limits."""
    b = smb_server.backing
    harness.write_file(b / "d" / "clean.bin", make_bytes(MiB, 1))
    harness.write_file(b / "d" / "pinned.bin", make_bytes(MiB, 2))
    harness.write_file(b / "big.bin", make_bytes(9 * MiB, 3))
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600", "cache_size=1G"])
    m.cli("pin", m.mnt / "d" / "pinned.bin")
    assert (m.mnt / "d" / "clean.bin").read_bytes() == make_bytes(MiB, 1)
    with open(m.mnt / "big.bin", "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        f.read(100)
    chunk = m.status()["chunk_size"]
    use = cache_usage(m)
    assert use["used"] == 2 * MiB + chunk, use  # one chunk of big.bin, not 9 MiB
    assert use["auto_limit"] == 1 << 30, use
    m.cli("offline")
    (m.mnt / "d" / "dirty.txt").write_bytes(b"not on the server yet\n")
    r, _ = m.cli("evict", m.mnt / "d" / "pinned.bin", check=False)
    assert r.returncode == 4 and "pinned" in r.stderr, (r.returncode, r.stderr)
    r, _ = m.cli("evict", m.mnt / "d" / "dirty.txt", check=False)
    assert r.returncode == 4 and "not yet on the server" in r.stderr, r.stderr
    r, _ = m.cli("evict", m.mnt / "d", check=False)  # a directory: what can go, goes
    assert r.returncode == 4 and "evicted 1 files, 1.0 MiB" in r.stdout, (r.stdout, r.stderr)
    assert m.info(m.mnt / "d" / "clean.bin")["cached_bytes"] == 0
    assert m.info(m.mnt / "d" / "pinned.bin")["cached"] == "full"
    assert (m.mnt / "d" / "dirty.txt").read_bytes() == b"not on the server yet\n"
    r, _ = m.cli("status")
    assert "cache: " in r.stdout and "of 1.0 GiB" in r.stdout, r.stdout
    m.cli("online")
    assert (m.mnt / "d" / "clean.bin").read_bytes() == make_bytes(MiB, 1)


def test_restart_over_a_stale_mount(smb_server, ofsyncd):
    """A daemon killed with -9 leaves a dead mount ("Transport endpoint is not
    connected"); the next start on that mountpoint detaches it and mounts,
    as a service restart needs."""
    harness.write_file(smb_server.backing / "a.txt", b"still here\n")
    m = ofsyncd.mount(smb_server)
    assert (m.mnt / "a.txt").read_bytes() == b"still here\n"
    m.kill9()
    try:
        os.statvfs(m.mnt)
        raise AssertionError("the mount should be dead")
    except OSError as e:
        assert e.errno == 107, e  # ENOTCONN
    os.unlink(m.socket)  # the dead daemon's socket file: wait for the new one
    m2 = ofsyncd.mount(smb_server, mnt=m.mnt, cache_dir=m.cache_dir, socket_path=m.socket)
    assert (m2.mnt / "a.txt").read_bytes() == b"still here\n"
    assert "stale mount" in m2.log_text()


def test_no_open_file_kept_per_cached_file(smb_server, ofsyncd):
    """Filling and writing many files leaves no cache file open behind them:
    a sync of a share with more files than the open-file limit must work."""
    b = smb_server.backing
    for i in range(300):
        harness.write_file(b / "many" / f"f{i:03}.txt", b"x" * 100)
    m = ofsyncd.mount(smb_server)
    os.listdir(m.mnt / "many")
    r, _ = m.cli("sync", "--in", check=False)
    assert r.returncode == 0, r.stderr
    for i in range(50):
        (m.mnt / "many" / f"w{i:02}.txt").write_bytes(b"y" * 100)
    assert (m.mnt / "many" / "f000.txt").read_bytes() == b"x" * 100
    open_fds = len(os.listdir(f"/proc/{m.pid}/fd"))
    assert open_fds < 60, f"{open_fds} files open in the daemon"


def _proc_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _empty_tree(root, dirs, files):
    for d in range(dirs):
        p = root / f"d{d:03}"
        p.mkdir(parents=True)
        for i in range(files):
            (p / f"f{i:04}").touch()



@pytest.mark.deadline(400)
def test_memory_does_not_grow_per_item_listed(smb_server, ofsyncd):
    """Listing a tree through the mount costs the daemon a few bytes per
    item at most, not a node each (issue 6: 64 MiB with a million items
    indexed).  The kernel keeps every listed inode (no memory pressure), so
    the daemon is asked to remember them all."""
    b = smb_server.backing
    _empty_tree(b / "warm", 10, 1000)
    _empty_tree(b / "big", 40, 1000)
    # Under AddressSanitizer freed memory waits in a quarantine (256 MiB)
    # before reuse, which would count as growth: no quarantine here.
    asan = {"ASAN_OPTIONS": harness.sanitizer_env()["ASAN_OPTIONS"] +
            ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"}
    m = ofsyncd.mount(smb_server, env=asan)
    # The first 10,000 fill what is bounded (idle nodes, SQLite's page cache).
    subprocess.run(["find", str(m.mnt / "warm")], stdout=subprocess.DEVNULL, check=True)
    before = _proc_kib(m.pid, "VmRSS")
    subprocess.run(["find", str(m.mnt / "big")], stdout=subprocess.DEVNULL, check=True)
    after = _proc_kib(m.pid, "VmRSS")
    per_item = (after - before) * 1024 / 40000
    # A node each cost about 460 bytes; a lookup count 12 to 24 (the rest is
    # the allocator and SQLite settling).
    assert per_item < 200, f"VmRSS {before} -> {after} KiB: {per_item:.0f} bytes an item"
    assert m.status()["items"] >= 50000

"""The Synchronize engine through `ofsync sync`: real smbd, real mount.

Each test is built so that it fails if the flag it exercises were ignored:
it checks what the flag must do and what its absence must leave alone.
"""

import json
import os
import subprocess
import threading
import time

import pytest

import harness

MiB = 1 << 20
SYNC_ID = "0f1e2d3c-4b5a-4697-8877-66554433aabb"


# A mount that leaves the server's changes to the sync under test: it trusts
# what it has for 30 s and has no change watch to tell it sooner.
QUIET_MOUNT = dict(attr_timeout=30, extra_opts=["notify=no"])

def sync(m, *args, check_rc=None):
    """Runs `ofsync sync ARGS`; returns (CompletedProcess, exit status)."""
    r, _ = m.cli("sync", *args, check=False, timeout=120)
    if check_rc is not None:
        assert r.returncode == check_rc, (r.returncode, r.stdout, r.stderr)
    return r


def cached(m, p):
    return m.info(p)["cached"]


def known(m, p):
    r, _ = m.cli("info", p, check=False)
    return r.returncode == 0


@pytest.fixture
def tree(smb_server, ofsyncd, make_bytes):
    """A mounted share with a sparse file, a file changed on the server, and
    a file new on the server (never listed through the mount)."""
    b = smb_server.backing
    big = make_bytes(9 * MiB, 51)
    harness.write_file(b / "d" / "big.bin", big)
    harness.write_file(b / "d" / "a.txt", b"one\n")
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    with open(m.mnt / "d" / "big.bin", "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        f.read(1000)
    assert (m.mnt / "d" / "a.txt").read_bytes() == b"one\n"
    harness.write_file(b / "d" / "a.txt", b"two, from the server\n")
    t = time.time() + 3
    os.utime(b / "d" / "a.txt", (t, t))
    harness.write_file(b / "d" / "new.txt", b"new on the server\n")
    return m, b, big


def test_sync_in_pulls_fills_and_adds(tree):
    """SYNCIN brings the changed file, fills the sparse one (SYNCIN implies
    FILLSPARSE) and adds the new one, full."""
    m, b, big = tree
    r = sync(m, m.mnt / "d", "--in", check_rc=0)
    assert "NoClientCopy_FileOnServer" in r.stdout, r.stdout
    assert cached(m, m.mnt / "d" / "big.bin") == "full"
    assert m.info(m.mnt / "d" / "new.txt")["cached"] == "full"
    # Served from the cache even with the server gone.
    assert (m.mnt / "d" / "a.txt").read_bytes() == b"two, from the server\n"
    assert (m.mnt / "d" / "new.txt").read_bytes() == b"new on the server\n"


def test_fill_sparse_alone_adds_nothing(tree):
    """FILLSPARSE alone fills the sparse file but brings no new item in."""
    m, b, big = tree
    sync(m, m.mnt / "d", "--fill-sparse", check_rc=0)
    assert cached(m, m.mnt / "d" / "big.bin") == "full"
    assert not known(m, m.mnt / "d" / "new.txt")


def test_sync_out_alone_brings_nothing_in(tree):
    """SYNCOUT alone leaves remote changes and new remote files out."""
    m, b, big = tree
    sync(m, m.mnt / "d", "--out", check_rc=0)
    assert cached(m, m.mnt / "d" / "big.bin") == "sparse"
    assert not known(m, m.mnt / "d" / "new.txt")


def test_dry_run_changes_nothing(tree):
    """--dry-run reports what it would do and changes neither side."""
    m, b, big = tree
    r = sync(m, m.mnt / "d", "--dry-run", check_rc=0)
    assert "FILL" in r.stdout and "ADD_LOCAL" in r.stdout, r.stdout
    assert cached(m, m.mnt / "d" / "big.bin") == "sparse"
    assert not known(m, m.mnt / "d" / "new.txt")
    assert (b / "d" / "a.txt").read_bytes() == b"two, from the server\n"


def test_sync_id_events_and_async(tree):
    """--async prints the sync id and returns; `events --sync-id` shows
    SyncBegin, SyncFileResult and SyncEnd with that id; the sync completes."""
    m, b, big = tree
    p = subprocess.Popen([str(harness.build_dir() / "ofsync"), "--socket", str(m.socket),
                          "--json", "events", f"--sync-id={SYNC_ID}"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(json.loads(x) for x in p.stdout),
                     daemon=True).start()
    time.sleep(0.3)
    try:
        t0 = time.monotonic()
        r = sync(m, m.mnt / "d", "--in", f"--sync-id={SYNC_ID}", "--async", check_rc=0)
        assert r.stdout.strip() == SYNC_ID
        assert time.monotonic() - t0 < 5
        deadline = time.monotonic() + 30
        while not any(e["event"] == "SyncEnd" for e in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        p.terminate()
        p.wait(timeout=5)
    names = [e["event"] for e in lines]
    assert names[0] == "SyncBegin" and names[-1] == "SyncEnd", names
    assert "SyncFileResult" in names
    assert all(e["data"]["sync_id"] == SYNC_ID for e in lines)
    assert cached(m, m.mnt / "d" / "big.bin") == "full"


def test_bad_combinations_refused(tree):
    """Two conflict rules, an unknown option, a malformed sync id, an async
    sync that would have to ask, and flags without the flag they need are
    refused before anything happens."""
    m, b, big = tree
    r = sync(m, "--keep-local", "--keep-remote", check_rc=2)
    assert "exclude" in r.stderr
    r = sync(m, "--frobnicate", check_rc=2)
    assert "unknown option" in r.stderr
    r = sync(m, "--sync-id=not-a-uuid", check_rc=2)
    assert "UUID" in r.stderr
    r = sync(m, "--interactive", "--async", check_rc=2)
    assert "cannot ask" in r.stderr
    r = sync(m, "--in", "--pin-link-targets", check_rc=2)
    assert "PINLINKTARGETS needs PINNEWFILES" in r.stderr
    r = sync(m, "--out", "--pin-new", check_rc=2)
    assert "PINNEWFILES needs SYNCIN" in r.stderr
    assert cached(m, m.mnt / "d" / "big.bin") == "sparse"  # nothing happened


def conflict_pair(smb_server, ofsyncd, names, server_newer):
    """Makes each name conflicted: changed offline here, and on the server
    with an mtime newer (server_newer[name]) or older than the local change.
    Returns the mount once the background sync recorded the conflicts."""
    return harness.diverge(
        smb_server, ofsyncd, names, lambda p: p.write_bytes(b"local version\n"),
        lambda p: harness.server_write(b"server version\n", server_newer[p.name])(p))


def test_conflict_without_rule_is_left(smb_server, ofsyncd):
    """Both changed, no CR rule: the conflict stays recorded, both copies as
    they are, exit status 5."""
    m = conflict_pair(smb_server, ofsyncd, ["c.txt"], {"c.txt": True})
    r = sync(m, check_rc=5)
    assert "FileChangedOnClient_ChangedOnServer" in r.stdout, r.stdout
    assert (smb_server.backing / "c.txt").read_bytes() == b"server version\n"
    assert (m.mnt / "c.txt").read_bytes() == b"local version\n"
    assert m.status()["conflicts"] == 1


def test_keep_local_and_keep_remote(smb_server, ofsyncd):
    """KEEPLOCAL (with SYNCOUT) puts the local copy on the server; KEEPREMOTE
    (with SYNCIN) takes the server's copy; each clears its conflict."""
    m = conflict_pair(smb_server, ofsyncd, ["l.txt", "r.txt"], {"l.txt": True, "r.txt": True})
    sync(m, m.mnt / "l.txt", "--out", "--keep-local", check_rc=0)
    assert (smb_server.backing / "l.txt").read_bytes() == b"local version\n"
    assert m.info(m.mnt / "l.txt")["dirty"] is False
    sync(m, m.mnt / "r.txt", "--in", "--keep-remote", check_rc=0)
    assert (m.mnt / "r.txt").read_bytes() == b"server version\n"
    assert (smb_server.backing / "r.txt").read_bytes() == b"server version\n"
    assert m.info(m.mnt / "r.txt")["dirty"] is False
    assert m.status()["conflicts"] == 0


def test_keep_latest_both_directions(smb_server, ofsyncd):
    """KEEPLATEST keeps the side changed last: the server's where it is
    newer, the local copy where it is newer."""
    m = conflict_pair(smb_server, ofsyncd, ["srv_newer.txt", "loc_newer.txt"],
                      {"srv_newer.txt": True, "loc_newer.txt": False})
    sync(m, "--keep-latest", check_rc=0)
    b = smb_server.backing
    assert (m.mnt / "srv_newer.txt").read_bytes() == b"server version\n"
    assert (b / "srv_newer.txt").read_bytes() == b"server version\n"
    assert (b / "loc_newer.txt").read_bytes() == b"local version\n"
    assert (m.mnt / "loc_newer.txt").read_bytes() == b"local version\n"
    assert m.status()["conflicts"] == 0


@pytest.mark.deadline(240)
def test_cancel_partway(smb_server, ofsyncd, make_bytes):
    """Cancelling a 200-file sync partway: exit status 6, finished items stay
    synced (full), the rest are untouched."""
    b = smb_server.backing
    blob = make_bytes(256 * 1024, 52)
    for i in range(200):
        harness.write_file(b / "many" / f"f{i:03d}.bin", blob)
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    assert len(os.listdir(m.mnt / "many")) == 200
    cmd = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket), "sync",
           str(m.mnt / "many"), "--fill-sparse", f"--sync-id={SYNC_ID}"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in p.stdout:  # one line per filled file
        seen += "FILL" in line
        if seen == 5:
            r, _ = m.cli("cancel", SYNC_ID)
            break
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 6, (p.returncode, out)
    assert "cancelled" in out
    states = [cached(m, m.mnt / "many" / f"f{i:03d}.bin") for i in range(200)]
    full = states.count("full")
    assert 5 <= full < 200, full
    # Finished items are finished: exactly the files before the stop are full.
    assert states[:full] == ["full"] * full and "full" not in states[full:]


def test_sync_refused_offline(shared_smb_server, ofsyncd):
    """A sync of a share that is offline is refused with a clear message."""
    m = ofsyncd.mount(shared_smb_server)
    m.cli("offline")
    r = sync(m)
    assert r.returncode not in (0, 2), r.returncode
    assert "offline" in r.stderr, r.stderr


def test_background_backs_off_open_files(smb_server, ofsyncd):
    """BACKGROUND skips a file held open through the mount (reported as
    backed off) and syncs the rest; without it the open file is synced."""
    b = smb_server.backing
    for n in ("open.txt", "closed.txt"):
        harness.write_file(b / n, b"v1\n")
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    for n in ("open.txt", "closed.txt"):
        assert (m.mnt / n).read_bytes() == b"v1\n"
    for n in ("open.txt", "closed.txt"):
        harness.write_file(b / n, b"v2 from the server\n")
        t = time.time() + 3
        os.utime(b / n, (t, t))
    f = open(m.mnt / "open.txt", "rb")
    try:
        r = sync(m, "--in", "--background", check_rc=0)
        assert "backed off: open" in r.stdout, r.stdout
        assert "1 backed off" in r.stdout, r.stdout
        assert m.info(m.mnt / "open.txt")["base"]["size"] == 3  # still v1's base
        assert m.info(m.mnt / "closed.txt")["base"]["size"] == len(b"v2 from the server\n")
        r = sync(m, "--in", check_rc=0)  # not background: the open file too
        assert m.info(m.mnt / "open.txt")["base"]["size"] == len(b"v2 from the server\n")
    finally:
        f.close()


def _thread_nices(pid):
    """The nice value of each thread of pid."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            out.append(int(fields[16]))  # field 19 of stat: nice
        except (OSError, IndexError, ValueError):
            pass
    return out


@pytest.mark.deadline(240)
def test_low_priority_runs_at_idle_nice(smb_server, ofsyncd, make_bytes):
    """LOWPRIORITY runs the sync's thread at nice 19 while it works, and only
    then (without the flag no thread of the daemon is at 19)."""
    b = smb_server.backing
    blob = make_bytes(512 * 1024, 53)
    for i in range(120):
        harness.write_file(b / "lp" / f"f{i:03d}.bin", blob)
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    assert len(os.listdir(m.mnt / "lp")) == 120

    def sample_during(*flags):
        p = subprocess.Popen([str(harness.build_dir() / "ofsync"), "--socket", str(m.socket),
                              "sync", str(m.mnt / "lp"), *flags],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = set()
        while p.poll() is None:
            seen.update(_thread_nices(m.pid))
            time.sleep(0.002)
        assert p.returncode == 0
        return seen

    assert 19 not in sample_during("--fill-sparse")
    for i in range(120):  # make them sparse again: changed on the server
        os.utime(b / "lp" / f"f{i:03d}.bin", (time.time() + 5, time.time() + 5))
    assert 19 in sample_during("--in", "--low-priority")
    assert 19 not in _thread_nices(m.pid)  # given back afterwards


def test_pin_fills_and_kinds_are_kept_apart(smb_server, ofsyncd, make_bytes):
    """Pinning fills the file and shows the kind in info; a second kind is
    kept apart, and unpinning one leaves the other; --recursive pins and
    fills everything below a directory."""
    b = smb_server.backing
    data = make_bytes(6 * MiB, 54)
    harness.write_file(b / "p.bin", data)
    harness.write_file(b / "tree" / "x.bin", make_bytes(1 * MiB, 55))
    harness.write_file(b / "tree" / "sub" / "y.bin", make_bytes(1 * MiB, 56))
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    assert sorted(os.listdir(m.mnt)) == ["p.bin", "tree"]
    assert m.info(m.mnt / "p.bin")["cached"] == "sparse"
    r, _ = m.cli("pin", m.mnt / "p.bin")
    inf = m.info(m.mnt / "p.bin")
    assert inf["cached"] == "full" and inf["pins"] == ["user"], inf
    m.cli("pin", m.mnt / "p.bin", "--for=all")
    assert m.info(m.mnt / "p.bin")["pins"] == ["user", "all"]
    m.cli("unpin", m.mnt / "p.bin", "--for=user")
    assert m.info(m.mnt / "p.bin")["pins"] == ["all"]
    assert (m.mnt / "p.bin").read_bytes() == data

    os.listdir(m.mnt / "tree")
    os.listdir(m.mnt / "tree" / "sub")
    m.cli("pin", m.mnt / "tree", "--recursive", "--for=policy")
    for p in ("tree/x.bin", "tree/sub/y.bin"):
        inf = m.info(m.mnt / p)
        assert inf["cached"] == "full" and inf["pins"] == ["policy"], (p, inf)
    r, _ = m.cli("pin", m.mnt / "p.bin", "--for=bogus", check=False)
    assert r.returncode == 2


def test_pin_new_files_in_pinned_directory(smb_server, ofsyncd):
    """PINNEWFILES: a new remote file in a pinned directory is full after a
    sync-in and carries the --pin-for kind; a new file elsewhere, and any
    new file without the flag, is not pinned."""
    b = smb_server.backing
    harness.write_file(b / "pinned" / "old.txt", b"old")
    harness.write_file(b / "plain" / "old.txt", b"old")
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    for d in ("pinned", "plain"):
        os.listdir(m.mnt / d)
    m.cli("pin", m.mnt / "pinned")
    harness.write_file(b / "pinned" / "new1.txt", b"new one")
    harness.write_file(b / "plain" / "new1.txt", b"new one")
    sync(m, "--in", check_rc=0)  # no --pin-new: nothing gets pinned
    assert m.info(m.mnt / "pinned" / "new1.txt")["pins"] == []
    harness.write_file(b / "pinned" / "new2.txt", b"new two")
    harness.write_file(b / "plain" / "new2.txt", b"new two")
    sync(m, "--in", "--pin-new", "--pin-for=redir", check_rc=0)
    inf = m.info(m.mnt / "pinned" / "new2.txt")
    assert inf["cached"] == "full" and inf["pins"] == ["redir"], inf
    assert m.info(m.mnt / "plain" / "new2.txt")["pins"] == []


def test_resolve_keep_both_and_keep_remote(smb_server, ofsyncd):
    """Both changed with no rule: recorded and listed by `conflicts`.
    `resolve --keep-both` leaves both copies on the server: the server's
    under the real name, the local one as "name (HOST v1).ext"; `resolve
    --keep-remote` takes the server's.  Conflicts are then gone."""
    import socket as pysocket

    host = pysocket.gethostname()
    m = conflict_pair(smb_server, ofsyncd, ["doc.txt", "other.txt"],
                      {"doc.txt": True, "other.txt": True})
    r, _ = m.cli("conflicts", check=False)
    assert r.returncode == 5 and "/doc.txt" in r.stdout and "/other.txt" in r.stdout, r.stdout
    r, _ = m.cli("resolve", m.mnt / "doc.txt", "--keep-both")
    b = smb_server.backing
    kept = f"doc ({host} v1).txt"
    assert (b / "doc.txt").read_bytes() == b"server version\n"
    assert (b / kept).read_bytes() == b"local version\n"
    assert (m.mnt / "doc.txt").read_bytes() == b"server version\n"
    assert (m.mnt / kept).read_bytes() == b"local version\n"
    m.cli("resolve", m.mnt / "other.txt", "--keep-remote")
    assert (m.mnt / "other.txt").read_bytes() == b"server version\n"
    assert m.status()["conflicts"] == 0
    r, _ = m.cli("resolve", m.mnt / "other.txt", "--keep-local", check=False)
    assert r.returncode != 0 and "no recorded conflict" in r.stderr
    r, _ = m.cli("resolve", m.mnt / "other.txt", "--keep-local", "--keep-remote", check=False)
    assert r.returncode == 2


def test_two_syncs_at_once_apply_once(smb_server, ofsyncd):
    """Two syncs started together on overlapping paths (the share and a
    directory in it) both finish, every change lands once (the applied
    counts add up to the changes), and no conflict or corruption appears."""
    b = smb_server.backing
    for i in range(40):
        harness.write_file(b / "ov" / f"f{i:02d}.txt", b"v1 %d\n" % i)
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    sync(m, "--in", check_rc=0)
    t = time.time() + 5
    for i in range(40):
        harness.write_file(b / "ov" / f"f{i:02d}.txt", b"v2 %d, longer\n" % i)
        os.utime(b / "ov" / f"f{i:02d}.txt", (t, t))
    cmd = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket), "--json", "sync"]
    p1 = subprocess.Popen(cmd + ["--in"], stdout=subprocess.PIPE, text=True)
    p2 = subprocess.Popen(cmd + [str(m.mnt / "ov"), "--in"], stdout=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=120)[0] for p in (p1, p2)]
    assert p1.returncode == 0 and p2.returncode == 0, outs
    applied = 0
    for out in outs:
        ends = [json.loads(x) for x in out.splitlines() if '"SyncEnd"' in x]
        assert len(ends) == 1, out
        applied += ends[0]["data"]["applied"]
    assert applied == 40, applied
    for i in range(40):
        assert (m.mnt / "ov" / f"f{i:02d}.txt").read_bytes() == b"v2 %d, longer\n" % i
    st = m.status()
    assert st["conflicts"] == 0 and st["dirty_items"] == 0, st


def shell_link(net_name, suffix):
    """A minimal .lnk (MS-SHLLINK) whose LinkInfo has a
    CommonNetworkRelativeLink (net_name) and a CommonPathSuffix (suffix),
    built field by field from the specification."""
    import struct

    clsid = bytes.fromhex("0114020000000000c000000000000046")
    header = struct.pack("<I16sIIQQQIiIHHII", 0x4C, clsid, 0x2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)
    assert len(header) == 0x4C
    net = net_name.encode() + b"\0"
    cnrl = struct.pack("<IIIII", 0x14 + len(net), 0, 0x14, 0, 0) + net
    suf = suffix.encode() + b"\0"
    info_len = 0x1C + len(cnrl) + len(suf)
    info = struct.pack("<IIIIIII", info_len, 0x1C, 0x2, 0, 0, 0x1C, 0x1C + len(cnrl)) + cnrl + suf
    return header + info


def test_pin_link_targets(smb_server, ofsyncd, make_bytes):
    """PINLINKTARGETS: a new .lnk in a pinned directory, pinned by --pin-new,
    pins and fills its target file on the share; without the flag the
    target stays unpinned and sparse; a link to a directory pins nothing."""
    b = smb_server.backing
    target = make_bytes(5 * MiB, 57)
    harness.write_file(b / "targets" / "t1.bin", target)
    harness.write_file(b / "targets" / "t2.bin", target)
    (b / "targets" / "adir").mkdir()
    harness.write_file(b / "links" / "keep.txt", b"x")
    m = ofsyncd.mount(smb_server, **QUIET_MOUNT)
    os.listdir(m.mnt / "links")
    m.cli("pin", m.mnt / "links")
    net = "\\\\127.0.0.1\\share"
    harness.write_file(b / "links" / "one.lnk", shell_link(net, "targets\\t1.bin"))
    harness.write_file(b / "links" / "dir.lnk", shell_link(net, "targets\\adir"))
    sync(m, "--in", "--pin-new", "--pin-link-targets", check_rc=0)
    inf = m.info(m.mnt / "targets" / "t1.bin")
    assert inf["pins"] == ["user"] and inf["cached"] == "full", inf
    assert m.info(m.mnt / "targets" / "adir")["pins"] == []
    assert m.info(m.mnt / "links" / "one.lnk")["pins"] == ["user"]

    harness.write_file(b / "links" / "two.lnk", shell_link(net, "targets\\t2.bin"))
    sync(m, "--in", "--pin-new", check_rc=0)  # no --pin-link-targets
    assert m.info(m.mnt / "links" / "two.lnk")["pins"] == ["user"]
    assert m.info(m.mnt / "targets" / "t2.bin")["pins"] == []


def test_conflict_record_events(smb_server, ofsyncd):
    """ConflictRecAdded is published when a conflict is recorded, and
    ConflictRecRemoved when it is resolved, both naming the path."""
    b = smb_server.backing
    harness.write_file(b / "ev.txt", b"original\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "ev.txt").read_bytes() == b"original\n"
    p = subprocess.Popen([str(harness.build_dir() / "ofsync"), "--socket", str(m.socket),
                          "--json", "events"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(json.loads(x) for x in p.stdout),
                     daemon=True).start()
    time.sleep(0.3)

    def wait(name):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            hits = [e for e in lines if e["event"] == name]
            if hits:
                return hits[0]
            time.sleep(0.1)
        raise AssertionError(f"no {name}: {lines}")

    try:
        smb_server.stop()
        (m.mnt / "ev.txt").write_bytes(b"local\n")
        harness.write_file(b / "ev.txt", b"server, later\n")
        smb_server.start()
        added = wait("ConflictRecAdded")
        assert added["data"]["path"] == "/ev.txt", added
        assert added["data"]["state"] == "FileChangedOnClient_ChangedOnServer", added
        assert not [e for e in lines if e["event"] == "ConflictRecRemoved"]
        m.cli("resolve", m.mnt / "ev.txt", "--keep-local")
        removed = wait("ConflictRecRemoved")
        assert removed["data"]["path"] == "/ev.txt", removed
    finally:
        p.terminate()
        p.wait(timeout=5)
    assert (b / "ev.txt").read_bytes() == b"local\n"


def test_suspended_directory(smb_server, ofsyncd):
    """A suspended directory is treated as offline with the server up: its
    cached files are served as cached (remote changes are not fetched),
    uncached data fails with EHOSTDOWN, and a write stays local.
    `sync --skip-suspended` leaves it alone (reported), a plain sync takes
    it in, and after `unsuspend` local changes go out."""
    import errno

    b = smb_server.backing
    harness.write_file(b / "sus" / "cached.txt", b"cached v1\n")
    harness.write_file(b / "sus" / "ghost.txt", b"never read\n")
    harness.write_file(b / "open" / "f.txt", b"f v1\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"], attr_timeout=1)
    assert (m.mnt / "sus" / "cached.txt").read_bytes() == b"cached v1\n"
    assert sorted(os.listdir(m.mnt / "sus")) == ["cached.txt", "ghost.txt"]
    os.listdir(m.mnt / "open")
    r, _ = m.cli("suspend", m.mnt / "sus")
    assert "suspended" in r.stdout
    assert m.info(m.mnt / "sus")["suspended"] is True
    for d in ("sus", "open"):
        p = b / d / ("cached.txt" if d == "sus" else "f.txt")
        harness.write_file(p, b"changed on the server\n")
        t = time.time() + 5
        os.utime(p, (t, t))
    time.sleep(1.5)  # attributes expire
    assert (m.mnt / "sus" / "cached.txt").read_bytes() == b"cached v1\n"  # offline view
    assert (m.mnt / "open" / "f.txt").read_bytes() == b"changed on the server\n"
    with pytest.raises(OSError) as ei:
        (m.mnt / "sus" / "ghost.txt").read_bytes()
    assert ei.value.errno == errno.EHOSTDOWN
    (m.mnt / "sus" / "local.txt").write_bytes(b"written while suspended\n")
    time.sleep(2.5)  # two probe intervals: the background sync leaves it
    assert not (b / "sus" / "local.txt").exists()

    r = sync(m, "--in", "--skip-suspended", check_rc=0)
    assert "suspended" in r.stdout, r.stdout
    assert m.info(m.mnt / "sus" / "cached.txt")["base"]["size"] == len(b"cached v1\n")
    sync(m, m.mnt / "sus" / "cached.txt", "--in", check_rc=0)  # explicit: synced
    assert m.info(m.mnt / "sus" / "cached.txt")["base"]["size"] == len(
        b"changed on the server\n")
    m.cli("unsuspend", m.mnt / "sus")
    deadline = time.monotonic() + 15
    st = m.status()
    while (st["dirty_items"] or st["pending_ops"]) and time.monotonic() < deadline:
        time.sleep(0.2)
        st = m.status()
    assert (b / "sus" / "local.txt").read_bytes() == b"written while suspended\n"
    r, _ = m.cli("suspend", m.mnt / "open" / "f.txt", check=False)
    assert r.returncode != 0 and "directory" in r.stderr


def test_no_new_files_out(smb_server, ofsyncd):
    """NONEWFILESOUT: a file that exists only in the cache is not created on
    the server (reported as held back), while a changed existing file is
    pushed; a sync without the flag then creates it."""
    b = smb_server.backing
    harness.write_file(b / "w" / "old.txt", b"old v1\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    assert (m.mnt / "w" / "old.txt").read_bytes() == b"old v1\n"
    m.cli("suspend", m.mnt / "w")  # keeps the background sync out of the way
    (m.mnt / "w" / "new.txt").write_bytes(b"only in the cache\n")
    (m.mnt / "w" / "old.txt").write_bytes(b"old v2, changed here\n")
    r = sync(m, "--out", "--no-new-files-out", check_rc=0)
    assert "new file" in r.stdout, r.stdout
    assert not (b / "w" / "new.txt").exists()
    assert (b / "w" / "old.txt").read_bytes() == b"old v2, changed here\n"
    assert m.status()["pending_ops"] >= 1
    sync(m, "--out", check_rc=0)
    assert (b / "w" / "new.txt").read_bytes() == b"only in the cache\n"


def test_sync_listing_counts_as_the_mounts(tree):
    """A directory the sync listed and brought in whole counts as listed by
    the mount at that time: within attr_timeout the mount answers from it
    (no listing of its own), as after listing it itself.  A directory whose
    names are not all the server's afterwards is listed again."""
    m, b, big = tree
    sync(m, m.mnt / "d", "--in", check_rc=0)
    # What the sync brought in shows; a name added on the server after the
    # sync listed d does not until attr_timeout (30 s, no watch), as after a
    # listing of the mount's own.
    harness.write_file(b / "d" / "later.txt", b"after the sync\n")
    assert sorted(os.listdir(m.mnt / "d")) == ["a.txt", "big.bin", "new.txt"]
    # A file being written here (not on the server before its first close)
    # makes the index differ from the server's names: after this sync the
    # mount lists d again and sees the server's new name.
    with open(m.mnt / "d" / "mine.txt", "wb") as f:
        f.write(b"not closed yet\n")
        harness.write_file(b / "d" / "later2.txt", b"after the second sync\n")
        sync(m, m.mnt / "d", "--in", check_rc=0)
        names = sorted(os.listdir(m.mnt / "d"))
    assert names == ["a.txt", "big.bin", "later.txt", "later2.txt", "mine.txt", "new.txt"], names


def test_sync_listing_gives_way_to_the_watch(smb_server, ofsyncd, tmp_path):
    """With the change watch up, a name added on the server just after a
    sync listed its directory still shows at once."""
    b = smb_server.backing
    harness.write_file(b / "w" / "a.txt", b"one\n")
    m = ofsyncd.mount(smb_server, attr_timeout=None)  # long timeouts while watched
    assert harness.wait_for(lambda: m.status()["watch"] == "up" and [True], 15, interval=0.2)
    assert sorted(os.listdir(m.mnt / "w")) == ["a.txt"]
    sync(m, m.mnt / "w", "--in", check_rc=0)
    src = tmp_path / "up.tmp"
    src.write_bytes(b"from another client\n")
    r = smb_server.smbclient('cd "w"', f'put "{src}" "b.txt"')
    assert r.returncode == 0, r.stdout + r.stderr
    ok = harness.wait_for(lambda: sorted(os.listdir(m.mnt / "w")) == ["a.txt", "b.txt"] and [True],
                          10, interval=0.2)
    assert ok, os.listdir(m.mnt / "w")

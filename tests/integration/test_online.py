"""End-to-end tests of the online caching mount: a real smbd on loopback, a real
ofsyncd FUSE mount, and the ofsync CLI -- each test checks what a user would.

The contract under test (DESIGN.md sections 3 and 6, man/ofsyncd.8, man/ofsync.1):
  * reads through the mount give the server's bytes, fetching missing data in
    chunks of `chunk_size` (from `ofsync --json status`) aligned to multiples
    of it; `ofsync --json info` tells "full" or "sparse" and cached_bytes;
  * while online, a written file is on the server once close(2) returns
    (uploaded under a temporary ".~ofsync-*" name, then renamed); namespace
    changes (mkdir, rename, truncate, rmdir, unlink) go to the server at once;
  * a remote change is seen once attr_timeout has passed;
  * bad arguments exit 2 before anything is mounted; no daemon: ofsync exits 3.
"""

import os
import socket
import subprocess
import stat
import time
from pathlib import Path

import pytest

import harness

MiB = 1 << 20
ATTR_TIMEOUT = 1  # seconds: every mount here passes attr_timeout=1


def wait_backing(path, expected, timeout=2.0):
    """Polls until the backing file `path` holds exactly `expected` (bytes), or
    is absent when expected is None.  Returns what was last seen.

    Why poll at all: close(2) returns after FUSE's FLUSH, but FUSE sends
    RELEASE asynchronously, after close has returned.  A daemon that uploads
    in FLUSH is exact at once (the first check passes); one that finishes in
    RELEASE may be a moment late.  2 s bounds that moment; more would hide a
    daemon that only uploads in the background, which is not the contract."""

    def look():
        try:
            return harness.read_file(path)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            return "dir"

    seen = harness.wait_for(lambda: look() == expected and [True], timeout)
    return expected if seen else look()


def temp_upload_names(root):
    """Paths under root whose name starts with ".~ofsync" (leftover uploads)."""
    return [str(p) for p in Path(root).rglob(".~ofsync*")]


def chunk_of(m):
    cs = m.status()["chunk_size"]
    assert isinstance(cs, int) and cs > 0 and cs % 4096 == 0, f"chunk_size {cs!r}"
    return cs


def read_new_fd(path):
    """Reads the whole file through a fresh file descriptor."""
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------------------------------------- reads


def test_read_large_file_fills_cache(smb_server, ofsyncd, make_bytes):
    """(a) A 64 MiB file reads byte-identical; afterwards it is cached in full."""
    size = 64 * MiB
    data = make_bytes(size, 1)
    harness.write_file(smb_server.backing / "big.bin", data)
    m = ofsyncd.mount(smb_server)
    path = m.mnt / "big.bin"

    assert os.stat(path).st_size == size
    assert read_new_fd(path) == data

    item = m.info(path)
    assert item["type"] == "file"
    assert item["size"] == size
    assert item["cached"] == "full", item
    assert item["cached_bytes"] == size, item
    assert item["dirty"] is False, item
    assert item["dirty_bytes"] == 0, item
    assert item["base"] is not None and item["base"]["size"] == size, item
    assert item["path"].endswith("big.bin"), item
    assert item["unc"] == smb_server.unc + "/big.bin", item

    # The same item, named by its UNC.
    by_unc = m.info(smb_server.unc + "/big.bin")
    assert by_unc["cached"] == "full" and by_unc["size"] == size, by_unc

    # A second read, now from the cache, gives the same bytes.
    assert read_new_fd(path) == data

    st = m.status()
    assert st["full_items"] >= 1, st
    assert st["cached_bytes"] >= size, st
    assert st["dirty_items"] == 0, st

    # Human-readable output names the state too.
    r, _ = m.cli("info", path)
    assert "full" in r.stdout.lower(), r.stdout


def test_partial_read_fetches_one_aligned_chunk(smb_server, ofsyncd, make_bytes):
    """(b) A 1 MiB pread in the middle of a file caches only the chunk(s) around it."""
    m = ofsyncd.mount(smb_server)
    cs = chunk_of(m)
    size = max(32 * MiB, 5 * cs)
    data = make_bytes(size, 2)
    harness.write_file(smb_server.backing / "sparse.bin", data)
    path = m.mnt / "sparse.bin"

    off, length = 3 * cs, 1 * MiB
    fd = os.open(path, os.O_RDONLY)
    try:
        # No kernel readahead: the kernel asks for exactly the pages we read,
        # so what gets cached is only the daemon's doing.
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        got = os.pread(fd, length, off)
    finally:
        os.close(fd)
    assert got == data[off:off + length]

    first = off // cs * cs
    last = -(-(off + length) // cs) * cs  # round up
    expected = min(last, size) - first  # chunk_size when chunk_size >= 1 MiB
    item = m.info(path)
    assert item["cached"] == "sparse", item
    assert item["cached_bytes"] == expected, (item, cs)
    assert item["size"] == size
    assert item["dirty"] is False

    st = m.status()
    assert st["sparse_items"] >= 1, st
    assert st["cached_bytes"] < size, st

    r, _ = m.cli("info", path)
    assert "sparse" in r.stdout.lower(), r.stdout


def test_read_then_fill_becomes_full(smb_server, ofsyncd, make_bytes):
    """A sparse file read to the end becomes full, with the right bytes everywhere."""
    m = ofsyncd.mount(smb_server)
    cs = chunk_of(m)
    size = 3 * cs + 12345  # an unaligned tail
    data = make_bytes(size, 22)
    harness.write_file(smb_server.backing / "f.bin", data)
    path = m.mnt / "f.bin"
    with open(path, "rb") as f:
        f.seek(cs)
        assert f.read(100) == data[cs:cs + 100]
    assert m.info(path)["cached"] == "sparse"
    assert read_new_fd(path) == data
    item = m.info(path)
    assert item["cached"] == "full" and item["cached_bytes"] == size, item


def test_empty_file(smb_server, ofsyncd):
    harness.write_file(smb_server.backing / "empty", b"")
    m = ofsyncd.mount(smb_server)
    assert read_new_fd(m.mnt / "empty") == b""
    item = m.info(m.mnt / "empty")
    assert item["size"] == 0 and item["dirty"] is False, item


# --------------------------------------------------------------- namespace


def test_namespace_changes_reach_server(smb_server, ofsyncd, make_bytes):
    """(c) create+write, mkdir, rename, truncate, rmdir, unlink through the mount."""
    m = ofsyncd.mount(smb_server)
    b = smb_server.backing

    # Create and write: on the server once close returns.
    data = make_bytes(200_000, 3)
    with open(m.mnt / "new.bin", "wb") as f:
        f.write(data)
    assert wait_backing(b / "new.bin", data) == data
    assert temp_upload_names(b) == []
    item = m.info(m.mnt / "new.bin")
    assert item["dirty"] is False, item
    assert item["size"] == len(data), item
    assert item["base"] is not None and item["base"]["size"] == len(data), item
    assert m.status()["dirty_items"] == 0

    # mkdir
    os.mkdir(m.mnt / "d1")
    assert harness.wait_for(lambda: (b / "d1").is_dir(), 2), "d1 not on the server"
    assert (m.mnt / "d1").is_dir()

    # rename in the same directory, then into the new directory
    os.rename(m.mnt / "new.bin", m.mnt / "renamed.bin")
    assert wait_backing(b / "renamed.bin", data) == data
    assert not (b / "new.bin").exists()
    os.rename(m.mnt / "renamed.bin", m.mnt / "d1" / "moved.bin")
    assert wait_backing(b / "d1" / "moved.bin", data) == data
    assert not (b / "renamed.bin").exists()
    assert sorted(os.listdir(m.mnt)) == ["d1"]
    assert os.listdir(m.mnt / "d1") == ["moved.bin"]

    # truncate larger (zeros appear), then smaller
    p, bp = m.mnt / "d1" / "moved.bin", b / "d1" / "moved.bin"
    big = data + bytes(50_000)
    os.truncate(p, len(big))
    assert wait_backing(bp, big) == big
    assert os.stat(p).st_size == len(big)
    assert read_new_fd(p) == big
    small = data[:1000]
    os.truncate(p, len(small))
    assert wait_backing(bp, small) == small
    assert read_new_fd(p) == small
    item = m.info(p)
    assert item["dirty"] is False and item["base"]["size"] == len(small), item

    # rmdir of an empty directory
    os.mkdir(m.mnt / "d2")
    assert harness.wait_for(lambda: (b / "d2").is_dir(), 2)
    os.rmdir(m.mnt / "d2")
    assert harness.wait_for(lambda: not (b / "d2").exists(), 2), "d2 still on the server"

    # unlink, then the directory it was in
    os.unlink(p)
    assert wait_backing(bp, None) is None
    os.rmdir(m.mnt / "d1")
    assert harness.wait_for(lambda: not (b / "d1").exists(), 2)
    assert os.listdir(m.mnt) == []
    assert os.listdir(b) == []
    assert m.status()["dirty_items"] == 0


def test_overwrite_middle_of_uncached_file(smb_server, ofsyncd, make_bytes):
    """Writing 4 KiB into a remote file never read before: the server gets the
    whole file with the patch, never a file holding only the written part."""
    size = 10 * MiB + 333
    data = make_bytes(size, 4)
    harness.write_file(smb_server.backing / "doc.bin", data)
    m = ofsyncd.mount(smb_server)
    patch = make_bytes(4096, 5)
    off = 5 * MiB + 17
    with open(m.mnt / "doc.bin", "r+b") as f:
        f.seek(off)
        f.write(patch)
    want = data[:off] + patch + data[off + len(patch):]
    assert wait_backing(smb_server.backing / "doc.bin", want) == want
    assert temp_upload_names(smb_server.backing) == []
    assert read_new_fd(m.mnt / "doc.bin") == want
    item = m.info(m.mnt / "doc.bin")
    assert item["dirty"] is False and item["base"]["size"] == size, item


def test_append_and_fsync(smb_server, ofsyncd, make_bytes):
    harness.write_file(smb_server.backing / "log.txt", b"line 1\n")
    m = ofsyncd.mount(smb_server)
    with open(m.mnt / "log.txt", "ab") as f:
        f.write(b"line 2\n")
        f.flush()
        os.fsync(f.fileno())
    assert wait_backing(smb_server.backing / "log.txt", b"line 1\nline 2\n") == \
        b"line 1\nline 2\n"


# ----------------------------------------------------------- remote change


@pytest.mark.parametrize("new_size", [3 * MiB + 17, 7 * MiB + 5, 5 * MiB],
                         ids=["smaller", "larger", "same-size"])
def test_remote_change_is_seen(smb_server, ofsyncd, make_bytes, new_size):
    """(d) A file changed on the server is read anew once attr_timeout passed.

    A read must give the old bytes or the new ones, never a mixture (new size
    with old cached chunks, or old bytes cut or padded to the new size).  The
    new bytes must show by attr_timeout + margin (polled up to 5 s); after
    that, never the old ones again."""
    old = make_bytes(5 * MiB, 6)
    new = make_bytes(new_size, 7)
    assert old != new
    bpath = smb_server.backing / "changing.bin"
    harness.write_file(bpath, old)
    m = ofsyncd.mount(smb_server, attr_timeout=ATTR_TIMEOUT)
    path = m.mnt / "changing.bin"
    assert read_new_fd(path) == old
    assert m.info(path)["cached"] == "full"

    st = os.stat(bpath)
    tmp = bpath.with_name("changing.tmp")
    harness.write_file(tmp, new)
    os.replace(tmp, bpath)  # what most editors do; mtime set below
    later = st.st_mtime + 10
    os.utime(bpath, (later, later))

    time.sleep(ATTR_TIMEOUT + 0.5)
    deadline = time.monotonic() + 5
    seen_new = False
    while time.monotonic() < deadline:
        got = read_new_fd(path)
        if got == new:
            seen_new = True
            break
        assert got == old, (f"read a mixture of old and new ({len(got)} bytes; "
                            f"old {len(old)}, new {len(new)})")
        time.sleep(0.2)
    assert seen_new, "still the old bytes 5 s after attr_timeout"
    for _ in range(3):
        assert read_new_fd(path) == new
    assert os.stat(path).st_size == new_size
    assert int(os.stat(path).st_mtime) == int(later)
    item = m.info(path)
    assert item["size"] == new_size and item["dirty"] is False, item
    assert item["base"]["size"] == new_size, item


def test_remote_change_is_seen_after_its_node_was_freed(smb_server, ofsyncd, make_bytes):
    """The daemon keeps a few thousand idle items in memory and frees the
    rest, while the kernel may still cache their pages.  A file changed on
    the server while its item was freed, then freed again before the next
    open, still reads anew: the old pages are not kept."""
    old = make_bytes(1 * MiB, 8)
    new = make_bytes(1 * MiB, 9)
    b = smb_server.backing
    harness.write_file(b / "f.bin", old)
    for d in ("one", "two"):
        (b / d).mkdir()
        for i in range(5000):  # more than the idle items kept
            (b / d / f"f{i:04}").touch()
    m = ofsyncd.mount(smb_server, attr_timeout=ATTR_TIMEOUT)
    path = m.mnt / "f.bin"
    assert read_new_fd(path) == old  # the kernel caches its pages
    assert len(os.listdir(m.mnt / "one")) == 5000
    st = os.stat(b / "f.bin")
    harness.write_file(b / "f.bin", new)
    os.utime(b / "f.bin", (st.st_mtime + 10, st.st_mtime + 10))
    time.sleep(ATTR_TIMEOUT + 0.5)
    assert int(os.stat(path).st_mtime) == int(st.st_mtime + 10)  # seen on the server
    assert len(os.listdir(m.mnt / "two")) == 5000
    assert read_new_fd(path) == new


def test_remote_delete_and_create_are_seen(smb_server, ofsyncd):
    harness.write_file(smb_server.backing / "gone.txt", b"bye")
    m = ofsyncd.mount(smb_server, attr_timeout=ATTR_TIMEOUT)
    assert read_new_fd(m.mnt / "gone.txt") == b"bye"
    (smb_server.backing / "gone.txt").unlink()
    harness.write_file(smb_server.backing / "fresh.txt", b"hi")
    ok = harness.wait_for(lambda: sorted(os.listdir(m.mnt)) == ["fresh.txt"],
                          ATTR_TIMEOUT + 5, interval=0.2)
    assert ok, os.listdir(m.mnt)
    # The kernel may keep the name gone.txt until attr_timeout after its last
    # lookup, even once a fresh listing no longer shows it.
    ok = harness.wait_for(lambda: not (m.mnt / "gone.txt").exists(), ATTR_TIMEOUT + 5,
                          interval=0.2)
    assert ok, "gone.txt still there after attr_timeout"
    assert read_new_fd(m.mnt / "fresh.txt") == b"hi"


# ----------------------------------------------------------------- listing


def _tree(root):
    """{relative path: (type, size or None, int mtime)} of everything under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, int(st.st_mtime))
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", st.st_size, int(st.st_mtime))
            else:
                out[rel] = ("other", None, int(st.st_mtime))
    return out


def test_listing_matches_server(smb_server, ofsyncd, make_bytes):
    """(e) Names, types, sizes and mtimes through the mount equal the server's."""
    b = smb_server.backing
    harness.write_file(b / "a.txt", b"alpha\n")
    harness.write_file(b / "empty.txt", b"")
    harness.write_file(b / "src" / "main.c", b"int main(void) { return 0; }\n")
    harness.write_file(b / "src" / "lib" / "util.c", make_bytes(70_000, 8))
    harness.write_file(b / "src" / "lib" / "deep" / "x.bin", make_bytes(1_000_001, 9))
    harness.write_file(b / "name with spaces.txt", b"s")
    harness.write_file(b / "Ünïcödé €.txt", "ü".encode())
    (b / "emptydir").mkdir()
    (b / "docs" / "sub").mkdir(parents=True)
    want = _tree(b)

    m = ofsyncd.mount(smb_server)
    got = _tree(m.mnt)
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in want.items()}
    for k in want:
        assert abs(got[k][2] - want[k][2]) <= 1, f"mtime of {k}: {got[k][2]} vs {want[k][2]}"

    st = m.status()
    assert st["items"] >= len(want), (st, len(want))
    assert st["state"] == "online"


def test_listing_hides_temporary_upload_names(smb_server, ofsyncd):
    """Leftover ".~ofsync-*" upload files on the server are not shown (CAVEATS, ofsyncd(8))."""
    harness.write_file(smb_server.backing / "real.txt", b"r")
    harness.write_file(smb_server.backing / ".~ofsync-leftover.tmp", b"half")
    m = ofsyncd.mount(smb_server)
    assert os.listdir(m.mnt) == ["real.txt"]


def test_walk_lists_next_directories_ahead(smb_server, ofsyncd):
    """A walker's next directories are listed from the server while it reads
    the one it is in (directory read-ahead, ofsyncd(8)): once find or ls -R
    has entered d1 then d2, d3 and d4 are in the cache, and list offline."""
    b = smb_server.backing
    for i in range(1, 5):
        harness.write_file(b / f"d{i}" / f"f{i}.txt", b"x" * i)
    m = ofsyncd.mount(smb_server, attr_timeout=30, extra_opts=["notify=no"])
    assert sorted(os.listdir(m.mnt)) == ["d1", "d2", "d3", "d4"]
    assert os.listdir(m.mnt / "d1") == ["f1.txt"]
    assert os.listdir(m.mnt / "d2") == ["f2.txt"]
    # The share's root, 4 directories and their 4 files.
    grown = harness.wait_for(lambda: m.status()["items"] == 9, 10, interval=0.1)
    assert grown, m.status()["items"]
    smb_server.stop()
    assert os.listdir(m.mnt / "d3") == ["f3.txt"]
    assert os.listdir(m.mnt / "d4") == ["f4.txt"]
    assert (m.mnt / "d4" / "f4.txt").stat().st_size == 4


def test_directory_listed_ahead_shows_its_changes(smb_server, ofsyncd):
    """A directory the kernel has listed, then listed ahead from the server
    with a new name in it, shows that name at its next listing."""
    b = smb_server.backing
    for i in range(1, 4):
        harness.write_file(b / f"d{i}" / f"f{i}.txt", b"x")
    m = ofsyncd.mount(smb_server, attr_timeout=ATTR_TIMEOUT, extra_opts=["notify=no"])
    for d in ("d1", "d2", "d3"):
        assert os.listdir(m.mnt / d) == [f"f{d[1]}.txt"]
    harness.write_file(b / "d2" / "new.txt", b"n")
    harness.write_file(b / "d3" / "new.txt", b"n")
    time.sleep(ATTR_TIMEOUT + 0.5)
    # d1's listing from the server queues d2 and d3 ahead of the walker.
    assert os.listdir(m.mnt / "d1") == ["f1.txt"]
    assert sorted(os.listdir(m.mnt / "d2")) == ["f2.txt", "new.txt"]
    assert sorted(os.listdir(m.mnt / "d3")) == ["f3.txt", "new.txt"]


def test_stat_after_walk_is_answered_by_the_listing(smb_server, ofsyncd):
    """The kernel asks for a directory's attributes again after it reads the
    directory's listing; within attr_timeout of the listing that brought
    them, the answer comes from the cache and the server is not asked (here:
    it is gone, and the share stays online)."""
    b = smb_server.backing
    for d in range(5):
        harness.write_file(b / f"d{d}" / "f.txt", b"x" * d)
    m = ofsyncd.mount(smb_server, attr_timeout=30, extra_opts=["notify=no"])
    subdirs = sorted(os.listdir(m.mnt))
    for d in subdirs:
        assert os.listdir(m.mnt / d) == ["f.txt"]
    smb_server.stop()
    for d in subdirs:
        assert stat.S_ISDIR(os.stat(m.mnt / d).st_mode)
    assert m.status()["state"] == "online"


def _fuse_inodes():
    """fuse_inode objects in use, from /proc/slabinfo (root only): every
    inode a FUSE mount's kernel holds is one."""
    for line in Path("/proc/slabinfo").read_text().splitlines():
        if line.startswith("fuse_inode "):
            return int(line.split()[1])
    raise AssertionError("no fuse_inode line in /proc/slabinfo")


def test_find_gets_names_only_and_stats_stay_right(smb_server, ofsyncd):
    """A walker that goes by name (find) is given listings without
    attributes after its first directory, so the kernel makes no inode per
    file; a walker that stats (ls -l, du) afterwards still sees every
    file's true size (walkers, ofsyncd(8))."""
    if not os.access("/proc/slabinfo", os.R_OK):
        pytest.skip("/proc/slabinfo needs root")
    b = smb_server.backing
    dirs, per_dir = 20, 100
    for d in range(dirs):
        for f in range(per_dir):
            harness.write_file(b / f"d{d:02}" / f"f{f:03}", b"x" * (d + f))
    m = ofsyncd.mount(smb_server, attr_timeout=30)
    before = _fuse_inodes()
    out = subprocess.run(["find", str(m.mnt)], capture_output=True, text=True, check=True)
    made = _fuse_inodes() - before
    assert len(out.stdout.splitlines()) == 1 + dirs + dirs * per_dir
    # Listings with attributes would have made one inode per file (2,000).
    assert made < dirs * per_dir // 2, made
    out = subprocess.run(["ls", "-lR", str(m.mnt)], capture_output=True, text=True, check=True)
    sizes = {}
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) >= 9 and f[0].startswith("-"):
            sizes[f[8]] = sizes.get(f[8], 0) + int(f[4])
    assert len(sizes) == per_dir
    for f in range(per_dir):
        assert sizes[f"f{f:03}"] == sum(d + f for d in range(dirs)), f
    du = subprocess.run(["du", "-ab", str(m.mnt / "d07")], capture_output=True, text=True,
                        check=True)
    got = {Path(l.split("\t")[1]).name: int(l.split("\t")[0]) for l in du.stdout.splitlines()}
    for f in range(per_dir):
        assert got[f"f{f:03}"] == 7 + f


# -------------------------------------------------------------- status, cli


def test_status_reports_online_share(shared_smb_server, ofsyncd):
    m = ofsyncd.mount(shared_smb_server)
    _, st = m.cli("status", json=True)
    assert len(st["shares"]) == 1, st
    sh = st["shares"][0]
    for key in ("unc", "mountpoint", "state", "reason", "items", "cached_bytes", "dirty_items",
                "sparse_items", "full_items", "chunk_size"):
        assert key in sh, (key, sh)
    assert sh["unc"] == shared_smb_server.unc
    assert Path(sh["mountpoint"]) == m.mnt
    assert sh["state"] == "online"
    assert sh["dirty_items"] == 0
    r, _ = m.cli("status")
    assert "online" in r.stdout.lower(), r.stdout


def test_statfs(shared_smb_server, ofsyncd):
    """(g) df works on the mount."""
    m = ofsyncd.mount(shared_smb_server)
    sv = os.statvfs(m.mnt)
    assert sv.f_blocks > 0
    assert sv.f_bsize > 0 or sv.f_frsize > 0


def test_stop_unmounts(shared_smb_server, ofsyncd):
    """SIGTERM ends the daemon cleanly (exit 0) and leaves nothing mounted."""
    m = ofsyncd.mount(shared_smb_server)
    rc = m.stop()
    assert rc == 0, m.log_text()
    assert not harness.is_mounted(m.mnt)


def test_no_daemon_exit_3(tmp_path, ofsync_cli):
    """(h) No daemon: exit 3 fast, and say so."""
    t0 = time.monotonic()
    r, _ = ofsync_cli(tmp_path / "nonexistent.sock", "status", check=False, timeout=5)
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "daemon" in (r.stderr + r.stdout).lower(), r.stderr
    assert time.monotonic() - t0 < 5

    # A stale socket file nobody listens on (a crashed daemon) is the same.
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(stale))
    s.close()
    r, _ = ofsync_cli(stale, "status", check=False, timeout=5)
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)


# ---------------------------------------------------------- bad arguments


def _bad_args_cases(srv, tmp):
    exe = str(harness.build_dir() / "ofsyncd")
    mnt = tmp / "mnt"
    opts = f"cache_dir={tmp}/cache,socket={tmp}/ofsync.sock"
    creds = tmp / "creds"
    return {
        "malformed-unc": [exe, "-f", "-o", opts + ",guest", "//srv", mnt],
        "unknown-option": [exe, "-f", "-o", opts + ",guest,frobnicate", srv.unc, mnt],
        "missing-mountpoint-arg": [exe, "-f", "-o", opts + ",guest", srv.unc],
        "mountpoint-does-not-exist": [exe, "-f", "-o", opts + ",guest", srv.unc, tmp / "nodir"],
        "cache-dir-inside-mountpoint": [
            exe, "-f", "-o", f"cache_dir={mnt}/cache,socket={tmp}/ofsync.sock,guest", srv.unc,
            mnt],
        "credentials-mode-0644": [exe, "-f", "-o", f"{opts},credentials={creds}", srv.unc, mnt],
        "guest-with-credentials": [
            exe, "-f", "-o", f"{opts},guest,credentials={tmp}/creds-ok", srv.unc, mnt],
        "bad-number": [exe, "-f", "-o", opts + ",guest,attr_timeout=soon", srv.unc, mnt],
    }


BAD_ARGS = ["malformed-unc", "unknown-option", "missing-mountpoint-arg",
            "mountpoint-does-not-exist", "cache-dir-inside-mountpoint", "credentials-mode-0644",
            "guest-with-credentials", "bad-number"]


@pytest.mark.parametrize("case", BAD_ARGS)
def test_bad_arguments_exit_2(shared_smb_server, ofsyncd, tmp_path, case):
    """(f) Usage errors: exit 2 with a message, nothing mounted, no socket left."""
    (tmp_path / "mnt").mkdir()
    creds = tmp_path / "creds"
    creds.write_text(f"username=root\npassword={shared_smb_server.password}\n")
    os.chmod(creds, 0o644)
    ok = tmp_path / "creds-ok"
    ok.write_text(f"username=root\npassword={shared_smb_server.password}\n")
    os.chmod(ok, 0o600)
    argv = _bad_args_cases(shared_smb_server, tmp_path)[case]
    r = ofsyncd.run(argv)
    assert r.returncode == 2, (case, r.returncode, r.stderr)
    assert r.stderr.strip(), "no message on stderr"
    assert not harness.is_mounted(tmp_path / "mnt")
    assert not (tmp_path / "ofsync.sock").exists()


def test_credentials_file_login(smb_server, ofsyncd, tmp_path):
    """(f) A 0600 mount.cifs-style credentials file logs in without guest."""
    harness.write_file(smb_server.backing / "secret.txt", b"for root only\n")
    creds = tmp_path / "creds"
    creds.write_text(f"# test account\nusername={smb_server.user}\n"
                     f"password={smb_server.password}\n")
    os.chmod(creds, 0o600)
    m = ofsyncd.mount(smb_server, extra_opts=[f"credentials={creds}"], guest=False)
    assert read_new_fd(m.mnt / "secret.txt") == b"for root only\n"
    assert m.status()["state"] == "online"
    # The password reaches no log, no argv and no environment.
    m.cli("sync", "--in")
    assert smb_server.password not in m.log_text()
    with open(f"/proc/{m.pid}/cmdline", "rb") as f:
        assert smb_server.password.encode() not in f.read()
    with open(f"/proc/{m.pid}/environ", "rb") as f:
        assert smb_server.password.encode() not in f.read()

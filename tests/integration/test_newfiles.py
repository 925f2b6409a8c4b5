"""New files written through the mount: a file starts in the cache, and its
first upload (close or fsync) creates it on the server under the name it has
then, with its content (src/fs/fs.c make_child, src/sync/push.c).  Real smbd,
real mount."""

import os

import harness
from test_offline import wait_clean


def names(d):
    """Every name in d, our temporary names included."""
    return sorted(os.listdir(d))


def test_new_file_reaches_server_at_close(smb_server, ofsyncd, make_bytes):
    b = smb_server.backing
    m = ofsyncd.mount(smb_server)
    data = make_bytes(5000, 1)
    with open(m.mnt / "new.bin", "wb") as f:
        f.write(data)
        f.flush()
        assert names(b) == []  # the server hears of it at the first close
    assert (b / "new.bin").read_bytes() == data
    assert names(b) == ["new.bin"]  # no temporary name left behind
    assert m.info(m.mnt / "new.bin")["dirty"] is False
    # Written again: an ordinary upload over the file it made.
    with open(m.mnt / "new.bin", "ab") as f:
        f.write(b"more")
    assert (b / "new.bin").read_bytes() == data + b"more"
    assert names(b) == ["new.bin"]
    # An empty new file, and one in a new directory, are on the server too.
    (m.mnt / "empty").touch()
    os.mkdir(m.mnt / "sub")
    harness.write_file(m.mnt / "sub" / "in.txt", b"in\n")
    assert (b / "empty").read_bytes() == b""
    assert (b / "sub" / "in.txt").read_bytes() == b"in\n"
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st


def test_created_and_renamed_before_upload(smb_server, ofsyncd, make_bytes):
    """Created, renamed (into another directory too) and closed: the server
    gets the file under its last name only."""
    b = smb_server.backing
    (b / "dst").mkdir()
    m = ofsyncd.mount(smb_server)
    data = make_bytes(70000, 2)
    with open(m.mnt / "draft.tmp", "wb") as f:
        f.write(data)
        os.rename(m.mnt / "draft.tmp", m.mnt / "draft2.tmp")
        os.rename(m.mnt / "draft2.tmp", m.mnt / "dst" / "final.bin")
        assert names(b) == ["dst"] and names(b / "dst") == []
    assert (b / "dst" / "final.bin").read_bytes() == data
    assert names(b) == ["dst"] and names(b / "dst") == ["final.bin"]
    assert (m.mnt / "dst" / "final.bin").read_bytes() == data
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st


def test_created_and_removed_before_upload(smb_server, ofsyncd):
    b = smb_server.backing
    m = ofsyncd.mount(smb_server)
    with open(m.mnt / "scratch", "wb") as f:
        f.write(b"gone before it was ever closed")
        os.unlink(m.mnt / "scratch")
    assert names(b) == []
    assert not (m.mnt / "scratch").exists()
    st = m.status()
    assert st["dirty_items"] == 0 and st["pending_ops"] == 0, st


def test_new_file_renamed_over_server_file(smb_server, ofsyncd):
    """The save of an editor that renames its new file over the old one
    before closing it: the server's file is replaced (by temporary name and
    rename, after checking it unchanged), never missing, no conflict."""
    b = smb_server.backing
    harness.write_file(b / "doc.txt", b"version 1\n")
    m = ofsyncd.mount(smb_server)
    assert (m.mnt / "doc.txt").read_bytes() == b"version 1\n"
    with open(m.mnt / "doc.txt.new", "wb") as f:
        f.write(b"version 2, longer\n")
        os.rename(m.mnt / "doc.txt.new", m.mnt / "doc.txt")
        assert (b / "doc.txt").read_bytes() == b"version 1\n"  # not yet, but still there
    assert (b / "doc.txt").read_bytes() == b"version 2, longer\n"
    assert names(b) == ["doc.txt"]
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st


def test_new_file_renamed_over_changed_server_file(smb_server, ofsyncd):
    """As above, but the server's file changes between the rename and the
    upload: a conflict; the server's version is not replaced, ours stays."""
    b = smb_server.backing
    harness.write_file(b / "doc.txt", b"version 1\n")
    m = ofsyncd.mount(smb_server, attr_timeout=30, extra_opts=["notify=no"])  # as below
    assert (m.mnt / "doc.txt").read_bytes() == b"version 1\n"
    with open(m.mnt / "doc.txt.new", "wb") as f:
        f.write(b"our version\n")
        os.rename(m.mnt / "doc.txt.new", m.mnt / "doc.txt")
        harness.write_file(b / "doc.txt", b"their version, changed on the server\n")
    assert (b / "doc.txt").read_bytes() == b"their version, changed on the server\n"
    assert names(b) == ["doc.txt"]
    assert (m.mnt / "doc.txt").read_bytes() == b"our version\n"
    st = m.status()
    assert st["conflicts"] == 1 and st["dirty_items"] == 1, st


def test_new_name_taken_on_server_meanwhile(smb_server, ofsyncd):
    """A name another client created after the directory was listed here
    (within attr_timeout): the upload finds it, a conflict with both kept."""
    b = smb_server.backing
    # No watch: with one, Samba may report the other client's file before
    # ours is made, and ours is then an overwrite of a file seen here.
    m = ofsyncd.mount(smb_server, attr_timeout=30, extra_opts=["notify=no"])
    assert os.listdir(m.mnt) == []
    harness.write_file(b / "x.txt", b"theirs\n")
    harness.write_file(m.mnt / "x.txt", b"ours\n")
    assert (b / "x.txt").read_bytes() == b"theirs\n"
    assert names(b) == ["x.txt"]
    assert (m.mnt / "x.txt").read_bytes() == b"ours\n"
    st = m.status()
    assert st["conflicts"] == 1 and st["dirty_items"] == 1, st


def test_new_file_whose_upload_failed_survives_kill9(smb_server, ofsyncd, make_bytes):
    """Created online, fsync'd while the server is gone (the upload fails):
    after kill -9 and a restart the file is still here, and reaches the
    server under its name once it is back."""
    b = smb_server.backing
    data = make_bytes(300000, 3)
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    f = open(m.mnt / "made.bin", "wb")
    f.write(data[:1000])
    smb_server.stop()
    f.write(data[1000:])
    f.flush()
    os.fsync(f.fileno())
    cache, sock, mnt = m.cache_dir, m.socket, m.mnt
    m.kill9()
    try:
        f.close()  # the mount is gone
    except OSError:
        pass
    harness.lazy_unmount(mnt)
    m2 = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"], mnt=mnt, cache_dir=cache,
                       socket_path=sock)
    assert (m2.mnt / "made.bin").read_bytes() == data
    assert m2.info(m2.mnt / "made.bin")["dirty"] is True
    smb_server.start()
    st = wait_clean(m2, 15)
    assert st["dirty_items"] == 0 and st["pending_ops"] == 0 and st["conflicts"] == 0, st
    assert (b / "made.bin").read_bytes() == data
    assert names(b) == ["made.bin"]


def test_new_file_times(smb_server, ofsyncd):
    """The server dates a file uploaded at close itself (within 2 s of the
    time here); a time set by the user reaches the server exactly."""
    import time

    b = smb_server.backing
    m = ofsyncd.mount(smb_server)
    t0 = time.time()
    harness.write_file(m.mnt / "now.txt", b"now\n")
    assert abs(os.stat(b / "now.txt").st_mtime - t0) < 5
    assert abs(os.stat(m.mnt / "now.txt").st_mtime - os.stat(b / "now.txt").st_mtime) <= 2
    old = 1000000000.25  # 2001
    with open(m.mnt / "old.txt", "wb") as f:
        f.write(b"old\n")
        f.flush()
        os.utime(f.fileno(), (old, old))
    assert os.stat(b / "old.txt").st_mtime == old
    assert os.stat(m.mnt / "old.txt").st_mtime == old
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st


def test_new_directory_is_listed_for_attr_timeout(smb_server, ofsyncd):
    """A directory made through the mount was empty on the server when made:
    names in it are answered from the cache for attr_timeout, then asked for
    again (a file another client put there shows up)."""
    import time

    b = smb_server.backing
    m = ofsyncd.mount(smb_server, attr_timeout=2)
    t = time.monotonic()
    os.mkdir(m.mnt / "new")
    harness.write_file(b / "new" / "theirs.txt", b"theirs\n")
    seen = os.path.exists(m.mnt / "new" / "theirs.txt")
    if time.monotonic() - t < 1.5:  # a slow machine may be past the timeout already
        assert not seen
    assert harness.wait_for(lambda: os.path.exists(m.mnt / "new" / "theirs.txt"), 10)
    assert (m.mnt / "new" / "theirs.txt").read_bytes() == b"theirs\n"


def test_burst_of_new_names_uses_a_listing(smb_server, ofsyncd):
    """Many new names looked up in one directory (cp, tar x): after the
    second the server says is missing, one listing answers for attr_timeout.
    A name the server has in another case is still found; one another client
    adds shows up once attr_timeout has passed."""
    import time

    b = smb_server.backing
    harness.write_file(b / "d" / "Report.TXT", b"theirs\n")
    m = ofsyncd.mount(smb_server, attr_timeout=2)
    assert os.listdir(m.mnt / "d") == ["Report.TXT"]
    time.sleep(2.2)  # the listing of d is stale again
    t = time.monotonic()
    for i in range(20):
        harness.write_file(m.mnt / "d" / f"new{i:02d}.txt", b"%d\n" % i)
    assert os.path.exists(m.mnt / "d" / "report.txt")  # the server's Report.TXT
    harness.write_file(b / "d" / "late.txt", b"late\n")
    seen = os.path.exists(m.mnt / "d" / "late.txt")
    if time.monotonic() - t < 1.5:
        assert not seen  # answered from the listing
    assert harness.wait_for(lambda: os.path.exists(m.mnt / "d" / "late.txt"), 10)
    for i in range(20):
        assert (b / "d" / f"new{i:02d}.txt").read_bytes() == b"%d\n" % i
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st


def test_new_files_base_is_the_servers(smb_server, ofsyncd, make_bytes):
    """The base recorded at a new file's upload is the server's size, mtime
    and file id after the close, whether taken on the handle before the
    close (a server that keeps the time then: Samba) or by name after it:
    a later upload meets no conflict, a sync sees no change, and a change
    another client makes afterwards, same size, is still seen."""
    import time

    b = smb_server.backing
    m = ofsyncd.mount(smb_server, attr_timeout=30, extra_opts=["notify=no"])
    sizes = {"empty": 0, "one": 1, "small.bin": 5000, "big.bin": 300000}
    for name, size in sizes.items():
        harness.write_file(m.mnt / name, make_bytes(size, size))
        time.sleep(0.05)  # the server's clock moves between the files
    for name, size in sizes.items():
        st = os.stat(b / name)
        base = m.info(m.mnt / name)["base"]
        assert (base["size"], base["file_id"], base["mtime"]) == (
            size, st.st_ino, st.st_mtime_ns // 100), (name, base, st)
    # Written again: the target matches the base, so no conflict.
    with open(m.mnt / "small.bin", "ab") as f:
        f.write(b"more")
    assert (b / "small.bin").read_bytes() == make_bytes(5000, 5000) + b"more"
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st
    # A sync finds nothing changed on either side for the files.
    r, _ = m.cli("sync", check=False, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    for name in sizes:
        assert f"/{name}:" not in r.stdout, r.stdout
    # Another client rewrites one, same size, later: the sync brings it in.
    time.sleep(0.05)
    harness.write_file(b / "one", b"X")
    r, _ = m.cli("sync", check=False, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "/one:" in r.stdout and " 0 conflicts" in r.stdout, r.stdout
    assert (m.mnt / "one").read_bytes() == b"X"
    for name in ("empty", "small.bin", "big.bin"):
        assert (m.mnt / name).read_bytes() == (b / name).read_bytes()
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st


def test_names_listing_lasts_while_the_watch_is_up(smb_server, ofsyncd):
    """With the change watch up (default timeouts), the names listing taken
    for a burst of new names answers for as long as any listing
    (watch_timeout), not only attr_timeout: past attr_timeout a lookup of an
    absent name is answered without the server (paused here).  A name
    another client adds there drops the listing: it shows up at once."""
    import threading
    import time

    b = smb_server.backing
    harness.write_file(b / "d" / "Report.TXT", b"theirs\n")
    m = ofsyncd.mount(smb_server, attr_timeout=None)  # defaults: 1 s, 60 s watched
    assert harness.wait_for(lambda: m.status()["watch"] == "up", 15)
    os.stat(m.mnt / "d")  # known, never listed: its absent names are asked for
    for i in range(5):
        harness.write_file(m.mnt / "d" / f"new{i:02d}.txt", b"%d\n" % i)
    time.sleep(1.5)  # past attr_timeout
    os.stat(m.mnt / "d")  # d's own attributes, changed by the uploads, asked for now
    smb_server.pause()
    try:
        got = []
        t = threading.Thread(target=lambda: got.append(os.path.exists(m.mnt / "d" / "zz.txt")),
                             daemon=True)
        t0 = time.monotonic()
        t.start()
        t.join(20)
        took = time.monotonic() - t0
    finally:
        smb_server.resume()
    assert got == [False] and took < 2, (got, took)
    assert os.path.exists(m.mnt / "d" / "report.txt")  # the server's Report.TXT
    src = m.mnt.parent / "late-src.txt"
    harness.write_file(src, b"late\n")
    smb_server.smbclient(f"put {src} d/late.txt")  # another SMB client
    assert harness.wait_for(lambda: os.path.exists(m.mnt / "d" / "late.txt"), 5)
    for i in range(5):
        assert (b / "d" / f"new{i:02d}.txt").read_bytes() == b"%d\n" % i
    st = m.status()
    assert st["dirty_items"] == 0 and st["conflicts"] == 0, st

"""The server's change watch (SMB2 CHANGE_NOTIFY, src/watch.c): with the
default attr_timeout the kernel keeps names and attributes for 60 s while the
watch is up, and a change another client makes on the server still shows at
once, because the watch reports it and the mount invalidates what changed.

Changes are made the way another user would: through a second SMB client
(smbclient), whose changes smbd reports for the whole tree, in a
subdirectory the mount has already listed and cached."""

import os
import time

import harness


def watch_state(m):
    return m.status()["watch"]


def wait_watch(m, state, timeout=15):
    ok = harness.wait_for(lambda: watch_state(m) == state and [True], timeout, interval=0.2)
    assert ok, f"watch is {watch_state(m)!r}, expected {state!r}"


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(d))
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def put(smb_server, tmp_path, remote, content):
    """Writes content to the share as remote ("dir/name") through smbclient."""
    src = tmp_path / "upload.tmp"
    src.write_bytes(content)
    d, _, name = remote.rpartition("/")
    cmds = ([f'cd "{d}"'] if d else []) + [f'put "{src}" "{name}"']
    r = smb_server.smbclient(*cmds)
    assert r.returncode == 0, r.stdout + r.stderr


def test_changes_by_another_client_show_at_once(smb_server, ofsyncd, tmp_path):
    b = smb_server.backing
    (b / "docs").mkdir()
    harness.write_file(b / "docs" / "a.txt", b"first version\n")
    m = ofsyncd.mount(smb_server, attr_timeout=None)  # the default: long while watched
    wait_watch(m, "up")
    docs = m.mnt / "docs"
    assert sorted(os.listdir(docs)) == ["a.txt"]
    assert read(docs / "a.txt") == b"first version\n"
    assert not (docs / "new.txt").exists()  # the kernel now caches the absence too

    # A new file, a changed file and a deleted one, by another client.
    put(smb_server, tmp_path, "docs/new.txt", b"from elsewhere\n")
    ok = harness.wait_for(lambda: sorted(os.listdir(docs)) == ["a.txt", "new.txt"] and [True],
                          10, interval=0.2)
    assert ok, os.listdir(docs)
    assert read(docs / "new.txt") == b"from elsewhere\n"

    put(smb_server, tmp_path, "docs/a.txt", b"second version, longer\n")
    ok = harness.wait_for(lambda: read(docs / "a.txt") == b"second version, longer\n" and [True],
                          10, interval=0.2)
    assert ok, read(docs / "a.txt")
    assert os.stat(docs / "a.txt").st_size == len(b"second version, longer\n")

    r = smb_server.smbclient('cd "docs"', 'del "new.txt"')
    assert r.returncode == 0, r.stdout + r.stderr
    ok = harness.wait_for(lambda: not (docs / "new.txt").exists() and [True], 10, interval=0.2)
    assert ok, "new.txt still shows after the server deleted it"
    assert sorted(os.listdir(docs)) == ["a.txt"]


def test_watch_goes_down_with_the_server_and_comes_back(smb_server, ofsyncd, tmp_path):
    b = smb_server.backing
    (b / "d").mkdir()
    harness.write_file(b / "d" / "x.txt", b"x\n")
    m = ofsyncd.mount(smb_server, attr_timeout=None, extra_opts=["probe_interval=1"])
    wait_watch(m, "up")
    assert os.listdir(m.mnt / "d") == ["x.txt"]
    assert read(m.mnt / "d" / "x.txt") == b"x\n"
    smb_server.stop()
    wait_watch(m, "down")
    assert read(m.mnt / "d" / "x.txt") == b"x\n"  # served from the cache
    smb_server.start()
    harness.wait_for(lambda: m.status()["state"] == "online" and [True], 20, interval=0.5)
    wait_watch(m, "up", timeout=30)
    put(smb_server, tmp_path, "d/y.txt", b"y\n")
    ok = harness.wait_for(lambda: sorted(os.listdir(m.mnt / "d")) == ["x.txt", "y.txt"] and [True],
                          10, interval=0.2)
    assert ok, os.listdir(m.mnt / "d")


def test_watch_helper_runs_as_a_child(smb_server, ofsyncd):
    """The helper is ofsyncd itself, a child of the daemon, with no password
    in its argv; it ends with the daemon."""
    m = ofsyncd.mount(smb_server, attr_timeout=None)
    wait_watch(m, "up")
    kids = children(m.pid)
    assert len(kids) == 1, kids
    argv = open(f"/proc/{kids[0]}/cmdline", "rb").read().split(b"\0")[:-1]
    assert argv == [b"ofsyncd", b"--watch-helper"], argv
    m.stop()
    assert harness.wait_for(lambda: not os.path.exists(f"/proc/{kids[0]}") and [True], 10), \
        "the watch helper outlived the daemon"


def test_notify_no_has_no_watch(smb_server, ofsyncd):
    m = ofsyncd.mount(smb_server, attr_timeout=None, extra_opts=["notify=no"])
    assert watch_state(m) == "off"
    r, _ = m.cli("status")
    assert "notify=no" in r.stdout, r.stdout
    time.sleep(1)
    assert not children(m.pid), "a watch helper runs with notify=no"


def test_bad_notify_value_is_refused(smb_server, ofsyncd):
    r = ofsyncd.mount(smb_server, extra_opts=["notify=maybe"], expect_fail=True)
    assert "notify" in r.stderr and "yes or no" in r.stderr, r.stderr

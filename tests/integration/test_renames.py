"""Renames on the server, matched by file id: the cached item moves with its
data (and its local changes) instead of being deleted and downloaded again.
Real smbd, real mount."""

import os

import harness
from test_sync import sync

MiB = 1 << 20


def full(m, p):
    inf = m.info(p)
    return inf["cached"] == "full" and inf["cached_bytes"] == inf["size"]


def test_file_renamed_on_server_keeps_its_cache(smb_server, ofsyncd, make_bytes):
    b = smb_server.backing
    data = make_bytes(3 * MiB, 5)
    harness.write_file(b / "d1" / "report.bin", data)
    (b / "d2").mkdir()
    m = ofsyncd.mount(smb_server, attr_timeout=30)
    assert (m.mnt / "d1" / "report.bin").read_bytes() == data
    os.listdir(m.mnt / "d2")
    os.rename(b / "d1" / "report.bin", b / "d1" / "renamed.bin")
    harness.write_file(b / "d1" / "other.bin", b"x")  # a move across directories too:
    os.rename(b / "d1" / "other.bin", b / "d2" / "other.bin")
    r = sync(m, "--in", check_rc=0)
    assert "/d1/renamed.bin: FileRenamedOnServer, RENAME_LOCAL" in r.stdout, r.stdout
    assert "report.bin" not in r.stdout.replace("renamed", ""), r.stdout
    assert full(m, m.mnt / "d1" / "renamed.bin")
    assert not (m.mnt / "d1" / "report.bin").exists()
    # The bytes stayed in the cache: nothing was downloaded for the rename.
    line = next(x for x in r.stdout.splitlines() if "renamed.bin" in x)
    assert "ok" in line, line
    smb_server.stop()  # offline, the data is still there under the new name
    assert (m.mnt / "d1" / "renamed.bin").read_bytes() == data


def test_dir_renamed_on_server_moves_its_subtree(smb_server, ofsyncd, make_bytes):
    b = smb_server.backing
    data = make_bytes(MiB, 6)
    harness.write_file(b / "old" / "sub" / "f.bin", data)
    m = ofsyncd.mount(smb_server, attr_timeout=30)
    assert (m.mnt / "old" / "sub" / "f.bin").read_bytes() == data
    os.rename(b / "old", b / "new")
    r = sync(m, "--in", check_rc=0)
    assert "/new: DirRenamedOnServer, RENAME_LOCAL" in r.stdout, r.stdout
    assert full(m, m.mnt / "new" / "sub" / "f.bin")
    assert not (m.mnt / "old").exists()


def test_changed_here_renamed_there(smb_server, ofsyncd):
    """A local change follows the file to its new name on the server: both
    the rename and the change survive."""
    b = smb_server.backing
    harness.write_file(b / "notes.txt", b"original\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"], attr_timeout=30)
    assert (m.mnt / "notes.txt").read_bytes() == b"original\n"
    m.cli("offline")
    (m.mnt / "notes.txt").write_bytes(b"changed here\n")
    os.rename(b / "notes.txt", b / "notes-renamed.txt")
    m.cli("online")
    r = sync(m, check_rc=0)
    assert "FileRenamedOnServer" in r.stdout, r.stdout
    assert (b / "notes-renamed.txt").read_bytes() == b"changed here\n"
    assert not (b / "notes.txt").exists()
    assert (m.mnt / "notes-renamed.txt").read_bytes() == b"changed here\n"
    assert m.status()["conflicts"] == 0

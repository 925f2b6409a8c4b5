"""Running it for real: `ofsync flush`, several shares in one daemon.
Real smbd, real mounts."""

import os

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

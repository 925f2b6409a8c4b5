"""Differential sync-out (Bitmap Differential Transfer): the server copies its
own copy of a changed file, and only the changed byte ranges cross the wire.
Real smbd on loopback; the bytes the daemon sends are counted from its
/proc/PID/io (the benchmark counts loopback bytes in /proc/net/dev)."""

import harness

MiB = 1 << 20


def written(pid):
    """Bytes the process wrote (to sockets and files): /proc/PID/io wchar.
    Unlike the loopback counters, no other process's traffic counts."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise AssertionError("no wchar")


def test_one_byte_change_sends_almost_nothing(smb_server, ofsyncd, make_bytes):
    size = 64 * MiB
    data = bytearray(make_bytes(size, 61))
    harness.write_file(smb_server.backing / "big.bin", bytes(data))
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"])
    assert (m.mnt / "big.bin").read_bytes() == bytes(data)  # cached in full
    before = written(m.pid)
    with open(m.mnt / "big.bin", "r+b") as f:  # the upload runs at close
        f.seek(size // 2)
        f.write(b"\x00" if data[size // 2] else b"\x01")
    moved = written(m.pid) - before
    data[size // 2] = 0 if data[size // 2] else 1
    assert (smb_server.backing / "big.bin").read_bytes() == bytes(data)
    assert moved < size // 100, f"the daemon sent {moved} bytes for a 1-byte change"
    assert m.info(m.mnt / "big.bin")["dirty"] is False


def test_differential_upload_keeps_every_byte(smb_server, ofsyncd, make_bytes):
    """Changes at both ends, an extension and a truncation all come out
    exactly right on the server."""
    size = 8 * MiB
    data = bytearray(make_bytes(size, 62))
    harness.write_file(smb_server.backing / "f.bin", bytes(data))
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"])
    assert (m.mnt / "f.bin").read_bytes() == bytes(data)
    with open(m.mnt / "f.bin", "r+b") as f:
        f.seek(0)
        f.write(b"HEAD")
        f.seek(size - 3)
        f.write(b"TAIL+more")  # past the old end too
    data[0:4] = b"HEAD"
    data[size - 3:] = b"TAIL+more"
    assert (smb_server.backing / "f.bin").read_bytes() == bytes(data)
    with open(m.mnt / "f.bin", "r+b") as f:
        f.truncate(5 * MiB)
        f.seek(MiB)
        f.write(b"middle")
    data = data[:5 * MiB]
    data[MiB:MiB + 6] = b"middle"
    assert (smb_server.backing / "f.bin").read_bytes() == bytes(data)
    assert m.info(m.mnt / "f.bin")["size"] == 5 * MiB

"""libofsync's progress sink, through a small client built against the static
library (tests/integration/progress_client.c): the order of the callbacks,
QueryAbort, an item callback's ABORT and RETRY.  Real smbd, real mount."""

import errno
import os
import subprocess

import pytest

import harness

CLIENT = harness.build_dir() / "tests" / "progress_client"
KiB = 1 << 10


def run(m, path, mode, *n):
    assert CLIENT.exists(), "make check-integration builds tests/progress_client"
    r = subprocess.run([str(CLIENT), str(m.socket), str(path), mode, *map(str, n)],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r.stdout.splitlines()


def results(lines):
    return [ln.split() for ln in lines if ln.startswith("result ")]


def test_callbacks_in_order(smb_server, ofsyncd):
    """Begin first, with the estimate; every item's SyncItemBegin before its
    result; End last, then the return value."""
    b = smb_server.backing
    for i in range(5):
        harness.write_file(b / "d" / f"f{i}.txt", b"x" * 100)
    m = ofsyncd.mount(smb_server)
    assert len(os.listdir(m.mnt / "d")) == 5
    lines = run(m, m.mnt, "order")
    assert lines[0] == "begin 6", lines  # d and its five files
    assert lines[-2] == "end 0 6 0" and lines[-1] == "return 0", lines
    body = lines[1:-2]
    assert len(body) == 12, lines
    for i in range(0, 12, 2):
        began, res = body[i].split(), body[i + 1].split()
        assert began[0] == "item_begin" and res[0] == "result", lines
        assert began[1] == res[1] and res[2] == "0", lines
    assert {x.split()[1].rsplit("/", 1)[1] for x in body[::2]} == \
        {"d", *(f"f{i}.txt" for i in range(5))}


@pytest.fixture
def many(smb_server, ofsyncd, make_bytes):
    """200 files of 256 KiB, listed through the mount but not cached."""
    b = smb_server.backing
    for i in range(200):
        harness.write_file(b / "many" / f"f{i:03}.bin", make_bytes(256 * KiB, i))
    m = ofsyncd.mount(smb_server)
    assert len(os.listdir(m.mnt / "many")) == 200
    return m


def check_cancelled(m, lines):
    assert lines[-1] == f"return {-errno.ECANCELED}", lines
    assert lines[-2].startswith(f"end {-errno.ECANCELED} "), lines
    done = [r for r in results(lines) if r[2] == "0" and r[1].endswith(".bin")]
    assert 0 < len(done) < 200, len(done)
    # What was finished stays finished.
    for r in done:
        name = r[1].rsplit("/", 1)[1]
        assert m.info(m.mnt / "many" / name)["cached"] == "full", name


def test_query_abort_cancels(many):
    """QueryAbort answering yes between items ends the sync cancelled."""
    lines = run(many, many.mnt / "many", "queryabort", 5)
    check_cancelled(many, lines)


def test_item_abort_cancels(many):
    """An item callback answering ABORT ends the sync cancelled."""
    lines = run(many, many.mnt / "many", "itemabort", 5)
    check_cancelled(many, lines)


@pytest.fixture
def small_disk(smb_server):
    """A 1 MiB tmpfs inside the share's directory on the server side, mounted
    by the test (and unmounted by it)."""
    d = smb_server.backing / "small"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", str(d)],
                   check=True)
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def test_retry_failed_item(smb_server, ofsyncd, make_bytes, small_disk):
    """A failed item, answered RETRY, is tried again (a second result for
    it); then CONTINUE leaves it failed and the sync goes on."""
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=3600"])
    data = make_bytes(2 << 20, 7)
    with pytest.raises(OSError) as e:
        with open(m.mnt / "small" / "big.bin", "wb") as f:
            f.write(data)  # the upload at close finds the server's disk full
    assert e.value.errno == errno.ENOSPC, e.value
    assert (m.mnt / "small" / "big.bin").read_bytes() == data  # kept, dirty
    lines = run(m, m.mnt / "small", "retry")
    big = [r for r in results(lines) if r[1].endswith("/big.bin")]
    assert [r[2] for r in big] == [str(-errno.ENOSPC)] * 2, lines
    assert lines[-2].startswith("end 0 ") and lines[-2].endswith(" 1"), lines
    assert m.info(m.mnt / "small" / "big.bin")["dirty"] is True

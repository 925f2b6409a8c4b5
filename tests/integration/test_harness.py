"""Checks of the test harness itself: the private Samba server, without ofsyncd.

If these fail, every other integration test would fail for reasons that are
not ofsync's: look here first.
"""

import os
import signal
import socket
import subprocess
import time

import harness


def test_make_bytes_is_deterministic(make_bytes):
    a = make_bytes(1 << 20, 7)
    assert a == make_bytes(1 << 20, 7)
    assert a != make_bytes(1 << 20, 8)
    assert len(make_bytes(64 << 20, 1)) == 64 << 20


def test_smb_server_serves_backing_dir_to_guest(smb_server):
    harness.write_file(smb_server.backing / "hello.txt", b"hello from the backing dir\n")
    (smb_server.backing / "sub").mkdir()
    r = smb_server.smbclient("ls")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hello.txt" in r.stdout
    assert "sub" in r.stdout
    assert smb_server.unc == f"//127.0.0.1:{smb_server.port}/share"


def test_smb_server_writes_land_in_backing_dir(smb_server, tmp_path):
    src = tmp_path / "up.bin"
    data = harness.make_bytes(300_000, 3)
    src.write_bytes(data)
    r = smb_server.smbclient(f"put {src} up.bin")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (smb_server.backing / "up.bin").read_bytes() == data


def test_smb_server_accepts_the_samba_user(smb_server):
    r = smb_server.smbclient("ls", user=smb_server.user)
    assert r.returncode == 0, r.stdout + r.stderr
    # "map to guest = Bad User" maps unknown users only: a known user with a
    # wrong password is refused, so credential tests really test credentials.
    bad = smb_server.smbclient("ls", user=smb_server.user, password="wrong-password")
    assert bad.returncode != 0, bad.stdout + bad.stderr


def test_smb_server_listens_on_loopback_only(smb_server):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", smb_server.port))
    finally:
        s.close()
    with open("/proc/net/tcp") as f:
        listening = [line.split() for line in f.readlines()[1:]]
    port_hex = f"{smb_server.port:04X}"
    ours = [fields for fields in listening
            if fields[1].endswith(":" + port_hex) and fields[3] == "0A"]
    assert ours, "no listening socket for smbd's port"
    assert all(fields[1].startswith("0100007F:") for fields in ours)


def test_smb_server_stop_start_keeps_port_and_state(smb_server):
    harness.write_file(smb_server.backing / "keep.txt", b"x")
    pid = smb_server.pid
    smb_server.stop()
    assert not harness.port_open(smb_server.port)
    smb_server.start()
    assert smb_server.pid != pid
    r = smb_server.smbclient("ls")
    assert r.returncode == 0 and "keep.txt" in r.stdout, r.stdout + r.stderr
    r = smb_server.smbclient("ls", user=smb_server.user)
    assert r.returncode == 0, r.stdout + r.stderr


def test_smb_server_pause_resume(smb_server):
    # A connection makes smbd fork a child; pause must stop it too.
    s = socket.create_connection(("127.0.0.1", smb_server.port), timeout=2)
    try:
        assert harness.wait_for(lambda: smb_server.children(), 5), "smbd forked no child"
        smb_server.pause()
        stopped = smb_server.paused
        assert len(stopped) >= 2
        assert harness.wait_for(
            lambda: all(harness._proc_state(p.pid) == "T" for p in stopped if p.alive()), 2)
        # The kernel still accepts the TCP connection, but nobody answers.
        try:
            r = smb_server.smbclient("ls", timeout=2)
            answered = r.returncode == 0
        except subprocess.TimeoutExpired:
            answered = False
        assert not answered
        smb_server.resume()
        assert all(harness._proc_state(p.pid) != "T" for p in stopped if p.alive())
    finally:
        s.close()
    r = smb_server.smbclient("ls")
    assert r.returncode == 0, r.stdout + r.stderr


def test_smb_server_stop_ends_children(smb_server):
    s = socket.create_connection(("127.0.0.1", smb_server.port), timeout=2)
    try:
        assert harness.wait_for(lambda: smb_server.children(), 5)
        kids = smb_server.children()
        smb_server.stop()
        assert not any(k.alive() for k in kids)
    finally:
        s.close()


def test_smb_server_stop_while_paused(smb_server):
    smb_server.pause()
    pid = smb_server.pid
    smb_server.stop()
    assert not os.path.exists(f"/proc/{pid}") or harness._proc_state(pid) in (None, "Z")


def test_watchdog_interrupts_a_hang(watchdog):
    w = harness.Watchdog(0.3)
    w.start()
    try:
        t0 = time.monotonic()
        try:
            time.sleep(10)
        except TimeoutError:
            pass
        assert time.monotonic() - t0 < 5
        assert w.fired
    finally:
        w.cancel()
        # restore the test's own watchdog handler
        signal.signal(signal.SIGALRM, watchdog._handler)

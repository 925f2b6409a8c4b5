"""Conflict handlers and the CR rules on deletes: real smbd, real mount.

- `ofsync sync --interactive` asks each conflict on the terminal (a pty the
  test owns) and carries out the answer;
- the example program of ofsync(3), built against libofsync, answers every
  conflict through the library's conflict handler;
- a local delete against a server change, and a local change against a
  server delete, under each CR rule.
"""

import os
import pty
import re
import select
import subprocess
import time

import pytest

import harness
from test_sync import conflict_pair, sync

EXAMPLE = harness.build_dir() / "examples" / "sync_conflicts"


def run_on_pty(argv, answers, timeout=60):
    """Runs argv with a new pty as its controlling terminal.  answers maps a
    regex seen in the output to the line to type.  Returns (status, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    out = b""
    answered = 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            text = out.decode(errors="replace")
            # Answer each prompt once, by the path it names.
            prompts = text.count("Keep [l]ocal")
            while answered < prompts:
                block = text.split("Conflict: ")[answered + 1]
                line = next(v for k, v in answers.items() if re.search(k, block))
                os.write(fd, line.encode() + b"\n")
                answered += 1
        else:
            os.kill(pid, 9)
            raise AssertionError("timed out; output so far:\n" + out.decode(errors="replace"))
    finally:
        _, st = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(st), out.decode(errors="replace")


def test_interactive_asks_on_the_terminal(smb_server, ofsyncd):
    """--interactive (INTERACTIVE | CONSOLE): each conflict is put to the user
    on the terminal with both sides described, and the answer is carried
    out: l keeps the local copy, r the server's."""
    m = conflict_pair(smb_server, ofsyncd, ["mine.txt", "theirs.txt"],
                      {"mine.txt": True, "theirs.txt": True})
    argv = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket), "sync",
            "--interactive"]
    status, out = run_on_pty(argv, {r"mine\.txt": "l", r"theirs\.txt": "r"})
    assert status == 0, out
    assert out.count("Conflict: ") == 2, out
    assert "FileChangedOnClient_ChangedOnServer" in out and "server" in out, out
    b = smb_server.backing
    assert (b / "mine.txt").read_bytes() == b"local version\n"
    assert (m.mnt / "theirs.txt").read_bytes() == b"server version\n"
    assert (b / "theirs.txt").read_bytes() == b"server version\n"
    assert m.status()["conflicts"] == 0


def test_interactive_skip_and_bad_answers(smb_server, ofsyncd):
    """An answer that is not one of the keys is asked again; s (SKIP) leaves
    both copies and the recorded conflict as they are (exit status 0: the
    user chose to leave it)."""
    m = conflict_pair(smb_server, ofsyncd, ["s.txt"], {"s.txt": True})
    argv = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket), "sync",
            "--interactive"]
    pid_answers = {r"s\.txt": "s"}
    status, out = run_on_pty(argv, pid_answers)
    assert out.count("Keep [l]ocal") == 1, out
    assert (smb_server.backing / "s.txt").read_bytes() == b"server version\n"
    assert (m.mnt / "s.txt").read_bytes() == b"local version\n"
    assert "conflict skipped" in out, out
    assert status == 0, out


def test_interactive_without_terminal_logs(smb_server, ofsyncd):
    """With no terminal to ask on, the console handler answers LOG: the
    conflict is recorded, nothing is overwritten, exit status 5."""
    m = conflict_pair(smb_server, ofsyncd, ["n.txt"], {"n.txt": True})
    r = subprocess.run([str(harness.build_dir() / "ofsync"), "--socket", str(m.socket), "sync",
                        "--interactive"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, start_new_session=True)
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert (smb_server.backing / "n.txt").read_bytes() == b"server version\n"
    assert m.status()["conflicts"] == 1


def example(m, share_or_path, keep, *opts):
    return subprocess.run([str(EXAMPLE), *opts, "-s", str(m.socket), "-k", keep,
                           str(share_or_path)], capture_output=True, text=True, timeout=120)


def test_example_keeps_both(smb_server, ofsyncd):
    """The ofsync(3) example, linked with libofsync.so, answers
    KEEPALLCHANGES: the server's copy stays under the name, the local copy
    goes to the server as 'name (HOST v1).ext'."""
    assert EXAMPLE.exists(), "make builds examples/sync_conflicts"
    m = conflict_pair(smb_server, ofsyncd, ["doc.txt"], {"doc.txt": True})
    r = example(m, m.mnt, "both")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "conflict " in r.stdout and "FileChangedOnClient_ChangedOnServer" in r.stdout
    assert "handler asked 1 times" in r.stdout, r.stdout
    b = smb_server.backing
    host = os.uname().nodename
    assert (b / "doc.txt").read_bytes() == b"server version\n"
    assert (b / f"doc ({host} v1).txt").read_bytes() == b"local version\n"
    assert (m.mnt / "doc.txt").read_bytes() == b"server version\n"
    assert m.status()["conflicts"] == 0


def test_example_handler_answers(smb_server, ofsyncd):
    """The handler's answer decides, not the absence of a CR rule: latest
    takes the newer side; log records; abort ends the sync cancelled."""
    m = conflict_pair(smb_server, ofsyncd, ["new_srv.txt", "lg.txt"],
                      {"new_srv.txt": True, "lg.txt": True})
    r = example(m, m.mnt / "lg.txt", "log")
    assert r.returncode == 1 and "handler asked 1 times" in r.stdout, (r.stdout, r.stderr)
    assert m.status()["conflicts"] == 2
    r = example(m, m.mnt / "new_srv.txt", "abort")
    assert r.returncode == 1 and "handler asked 1 times" in r.stdout, (r.stdout, r.stderr)
    assert (m.mnt / "new_srv.txt").read_bytes() == b"local version\n"
    r = example(m, m.mnt / "new_srv.txt", "latest")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert (m.mnt / "new_srv.txt").read_bytes() == b"server version\n"
    assert m.status()["conflicts"] == 1


def deleted_here_changed_there(smb_server, ofsyncd, names, server_newer):
    """Each name: deleted through the mount while the server is away, and
    rewritten on the server an hour after (or before) now.  The background
    sync records the conflicts and leaves the deletes waiting for the user."""
    m = harness.diverge(
        smb_server, ofsyncd, names, os.unlink,
        lambda p: harness.server_write(b"changed on the server\n", server_newer[p.name])(p),
        pending_ops=len(names))
    for n in names:
        assert (smb_server.backing / n).read_bytes() == b"changed on the server\n"
    return m


def test_local_delete_remote_change_no_rule(smb_server, ofsyncd):
    """No rule: the delete is not carried out and stays recorded."""
    m = deleted_here_changed_there(smb_server, ofsyncd, ["x.txt"], {"x.txt": True})
    r = sync(m, "--out", check_rc=5)
    assert "DeletedOnClient_FileChangedOnServer" in r.stdout, r.stdout
    assert (smb_server.backing / "x.txt").read_bytes() == b"changed on the server\n"
    assert m.status()["conflicts"] == 1


def test_local_delete_remote_change_keep_local(smb_server, ofsyncd):
    """KEEPLOCAL: the local delete wins; the server's file goes."""
    m = deleted_here_changed_there(smb_server, ofsyncd, ["x.txt"], {"x.txt": True})
    sync(m, "--keep-local", check_rc=0)
    assert not (smb_server.backing / "x.txt").exists()
    assert not (m.mnt / "x.txt").exists()
    st = m.status()
    assert st["conflicts"] == 0 and st["pending_ops"] == 0, st


def test_local_delete_remote_change_keep_remote(smb_server, ofsyncd):
    """KEEPREMOTE: the delete is given up; the server's copy comes back."""
    m = deleted_here_changed_there(smb_server, ofsyncd, ["x.txt"], {"x.txt": True})
    sync(m, "--keep-remote", check_rc=0)
    assert (smb_server.backing / "x.txt").read_bytes() == b"changed on the server\n"
    assert (m.mnt / "x.txt").read_bytes() == b"changed on the server\n"
    st = m.status()
    assert st["conflicts"] == 0 and st["pending_ops"] == 0, st


def test_local_delete_remote_change_keep_latest(smb_server, ofsyncd):
    """KEEPLATEST: the delete counts at the time it happened; a server change
    after it wins, one before it loses."""
    m = deleted_here_changed_there(smb_server, ofsyncd, ["later.txt", "earlier.txt"],
                                   {"later.txt": True, "earlier.txt": False})
    sync(m, "--keep-latest", check_rc=0)
    b = smb_server.backing
    assert (b / "later.txt").read_bytes() == b"changed on the server\n"
    assert (m.mnt / "later.txt").read_bytes() == b"changed on the server\n"
    assert not (b / "earlier.txt").exists()
    assert not (m.mnt / "earlier.txt").exists()
    assert m.status()["conflicts"] == 0


def changed_here_deleted_there(smb_server, ofsyncd, names):
    """Each name: changed through the mount while the server is away, and
    deleted on the server; the background sync records the conflicts."""
    return harness.diverge(smb_server, ofsyncd, names,
                           lambda p: p.write_bytes(b"changed here\n"), os.unlink)


@pytest.mark.parametrize("rule", ["--keep-local", "--keep-latest", "--keep-remote", None])
def test_local_change_remote_delete(smb_server, ofsyncd, rule):
    """KEEPLOCAL puts the changed file back on the server; KEEPLATEST does
    the same (the client cannot know when the server's delete happened, and
    a delete is the change that loses data); KEEPREMOTE drops the local copy,
    changes and all; no rule records it and leaves both sides."""
    m = changed_here_deleted_there(smb_server, ofsyncd, ["y.txt"])
    b = smb_server.backing
    if rule is None:
        r = sync(m, check_rc=5)
        assert "FileChangedOnClient_DeletedOnServer" in r.stdout, r.stdout
        assert not (b / "y.txt").exists()
        assert (m.mnt / "y.txt").read_bytes() == b"changed here\n"
        return
    sync(m, rule, check_rc=0)
    if rule == "--keep-remote":
        assert not (m.mnt / "y.txt").exists()
        assert not (b / "y.txt").exists()
    else:
        assert (b / "y.txt").read_bytes() == b"changed here\n"
        assert (m.mnt / "y.txt").read_bytes() == b"changed here\n"
    assert m.status()["conflicts"] == 0


def test_example_async(smb_server, ofsyncd):
    """Async with a progress sink: the call returns with the sync id, the
    handler and the item callbacks run on the library's thread, and
    ofsync_wait returns the result once the sync ended."""
    m = conflict_pair(smb_server, ofsyncd, ["a.txt"], {"a.txt": True})
    r = example(m, m.mnt, "local", "-a")
    assert r.returncode == 0, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("started "), lines
    sync_id = lines[0].split()[1]
    assert any(x.startswith("conflict ") for x in lines), lines
    assert f"end {sync_id}:" in r.stdout, r.stdout
    assert "handler asked 1 times" in r.stdout, r.stdout
    assert (smb_server.backing / "a.txt").read_bytes() == b"local version\n"
    assert m.status()["conflicts"] == 0


def test_progress_bar_on_a_terminal(smb_server, ofsyncd):
    """On a terminal `ofsync sync` redraws one progress line (items done of
    the estimate, bytes); piped, it prints plain lines with no redraws."""
    b = smb_server.backing
    for i in range(60):
        harness.write_file(b / "many" / f"f{i:03}.txt", b"x" * 1000)
    m = ofsyncd.mount(smb_server)
    assert len(os.listdir(m.mnt / "many")) == 60
    argv = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket), "sync", "--in"]
    status, out = run_on_pty(argv, {})
    assert status == 0, out
    assert "\r[" in out and "%" in out, out
    assert re.search(r"\d+/\d+", out), out
    assert "0/61 " in out, out  # the estimate: every item the index knows
    assert "sync " in out and "61 items" in out, out
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "\r" not in r.stdout and "\x1b[" not in r.stdout, r.stdout

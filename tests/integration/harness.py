"""Integration-test harness for ofsync: a private Samba server and ofsyncd mounts.

Everything here starts real processes (smbd, ofsyncd, ofsync) and owns them:
it only ever signals PIDs it started itself, or processes whose parent is one
of them (smbd forks a child per connection).  Every wait is bounded, so a
broken daemon makes a test fail, never hang.

Used by conftest.py; the fixtures there are the interface for tests:
  smb_server        SmbServer, started and torn down per test
  ofsyncd           DaemonFactory: .mount(server, ...) -> Mount
  make_bytes(n, s)  deterministic content
"""

import json as jsonlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SMBD = "/usr/sbin/smbd"
SMBCLIENT = "/usr/bin/smbclient"
SMBPASSWD = "/usr/bin/smbpasswd"
FUSERMOUNT = "fusermount3"

SMB_USER = "root"
SMB_PASSWORD = "ofsync-test-Pa55"

# What a sanitizer prints when it finds a bug (ASan, UBSan, LSan).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

# Bounds on every wait.
SMBD_START_TIMEOUT = 20.0
MOUNT_TIMEOUT = 15.0  # the brief says ~10 s; sanitizer builds start slower
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0


class HarnessError(Exception):
    """The harness could not set up what a test needs (not a product bug)."""


def make_bytes(size, seed):
    """Returns size deterministic pseudo-random bytes for seed (64 MiB in ~0.1 s)."""
    return random.Random(seed).randbytes(size)


def write_file(path, data):
    """Writes data to path, creating parent directories."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(pred, timeout, interval=0.05):
    """Polls pred() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- processes


def _proc_starttime(pid):
    """Returns the start time of pid (field 22 of /proc/PID/stat), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[19])


def _proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()[0]


def _children_of(pid):
    """PIDs whose parent is pid: /proc/PID/task/*/children, else a /proc scan."""
    kids = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    kids.update(int(x) for x in f.read().split())
            except OSError:
                pass
        return kids
    except OSError:
        pass
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                for line in f:
                    if line.startswith("PPid:"):
                        if int(line.split()[1]) == pid:
                            kids.add(int(name))
                        break
        except OSError:
            pass
    return kids


class Proc:
    """A process we are allowed to signal: its PID and start time (against PID reuse)."""

    def __init__(self, pid):
        self.pid = pid
        self.start = _proc_starttime(pid)

    def alive(self):
        st = _proc_starttime(self.pid)
        return st is not None and st == self.start and _proc_state(self.pid) != "Z"

    def signal(self, sig):
        if self.start is not None and _proc_starttime(self.pid) == self.start:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def __repr__(self):
        return f"Proc({self.pid})"


def descendants(pid):
    """Processes descended from pid (children, grandchildren, ...), as Proc objects."""
    out, todo, seen = [], [pid], {pid}
    while todo:
        p = todo.pop()
        for c in _children_of(p):
            if c not in seen:
                seen.add(c)
                out.append(Proc(c))
                todo.append(c)
    return out


def terminate(popen, extra=(), timeout=STOP_TIMEOUT):
    """SIGTERM popen (ours) and the extra Procs, wait, then SIGKILL what is left.

    Returns popen's exit status (None if it never was reaped)."""
    procs = [p for p in extra if p.alive()]
    if popen.poll() is None:
        try:
            popen.send_signal(signal.SIGCONT)
            popen.terminate()
        except ProcessLookupError:
            pass
    for p in procs:
        p.signal(signal.SIGCONT)
        p.signal(signal.SIGTERM)
    try:
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    wait_for(lambda: not any(p.alive() for p in procs), timeout / 2)
    for p in procs:
        if p.alive():
            p.signal(signal.SIGKILL)
    wait_for(lambda: not any(p.alive() for p in procs), timeout / 2)
    return popen.returncode


def sanitizer_findings(text):
    """Returns the sanitizer markers found in text (empty list if none)."""
    return [m for m in SANITIZER_MARKERS if m in text]


def sanitizer_env(env=None):
    """The environment for a binary that may be built with SANITIZE=1."""
    env = dict(os.environ if env is None else env)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env["LSAN_OPTIONS"] = f"suppressions={REPO}/tests/lsan.supp:print_suppressions=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1"
    return env


# --------------------------------------------------------------- smb server


SMB_CONF = """\
# Private Samba for one ofsync test; nothing outside {root} is touched.
[global]
	netbios name = OFSYNCTEST
	workgroup = WORKGROUP
	server string = ofsync test server
	smb ports = {port}
	interfaces = 127.0.0.1
	bind interfaces only = yes
	disable netbios = yes
	server min protocol = SMB2_10
	server role = standalone server
	private dir = {root}/private
	lock directory = {root}/lock
	state directory = {root}/state
	cache directory = {root}/cache
	pid directory = {root}/pid
	ncalrpc dir = {root}/ncalrpc
	usershare path = {root}/usershares
	passdb backend = tdbsam:{root}/private/passdb.tdb
	log file = {root}/log/smbd.log
	max log size = 0
	log level = 1
	map to guest = Bad User
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	smbd:backgroundqueue = no

[share]
	path = {backing}
	guest ok = yes
	read only = no
	force user = root
	browseable = yes
"""


class SmbServer:
    """A private smbd on 127.0.0.1:PORT serving [share] from .backing.

    .port, .backing (Path), .unc ("//127.0.0.1:PORT/share"), .pid, .conf,
    .user/.password (a samba account: root with a known password).
    .stop(), .start() (same port, same state), .pause()/.resume()."""

    def __init__(self, root, port=None, backing=None):
        self.root = Path(root)
        self.port = port or free_port()
        self.backing = Path(backing) if backing else self.root / "backing"
        self.conf = self.root / "smb.conf"
        self.logfile = self.root / "log" / "smbd.stdout"
        self.user = SMB_USER
        self.password = SMB_PASSWORD
        self.popen = None
        self.paused = []
        self._log = None
        for d in ("private", "lock", "state", "cache", "pid", "ncalrpc", "usershares", "log"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "private", 0o700)
        self.backing.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(SMB_CONF.format(port=self.port, root=self.root, backing=self.backing))
        self._add_user()

    @property
    def unc(self):
        return f"//127.0.0.1:{self.port}/share"

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def _add_user(self):
        r = subprocess.run(
            [SMBPASSWD, "-c", str(self.conf), "-a", "-s", self.user],
            input=f"{self.password}\n{self.password}\n",
            capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise HarnessError(f"smbpasswd failed ({r.returncode}): {r.stdout}{r.stderr}")

    def smbclient(self, *cmds, user=None, password=None, timeout=30):
        """Runs smbclient against the share with ';'-joined commands; returns CompletedProcess.

        Guest (-N) unless user is given; password defaults to the account's."""
        auth = ["-U", f"{user}%{password or self.password}"] if user else ["-N"]
        return subprocess.run(
            [SMBCLIENT, *auth, "-p", str(self.port), "//127.0.0.1/share", "-c", "; ".join(cmds)],
            capture_output=True, text=True, timeout=timeout)

    def start(self):
        if self.popen is not None and self.popen.poll() is None:
            raise HarnessError("smbd is already running")
        self._log = open(self.logfile, "ab")
        self.popen = subprocess.Popen(
            [SMBD, "--foreground", "--no-process-group", f"--configfile={self.conf}",
             "--debug-stdout"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            # Its own session and process group: on SIGTERM smbd signals its
            # whole process group (kill(0, SIGTERM)), which must not be ours.
            start_new_session=True)
        deadline = time.monotonic() + SMBD_START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise HarnessError(f"smbd exited with {self.popen.returncode}:\n{self.log_tail()}")
            if port_open(self.port):
                r = self.smbclient("ls", timeout=10)
                if r.returncode == 0:
                    return self
                last = r.stdout + r.stderr
            time.sleep(0.1)
        self.stop()
        raise HarnessError(f"smbd did not serve //127.0.0.1:{self.port}/share in time: {last}\n"
                           f"{self.log_tail()}")

    def log_tail(self, n=40):
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def children(self):
        """smbd's descendants (per-connection children, helpers) right now."""
        if self.popen is None or self.popen.poll() is not None:
            return []
        return descendants(self.popen.pid)

    def pause(self):
        """SIGSTOP smbd and its children: the server stops answering, TCP stays up."""
        if self.popen is None or self.popen.poll() is not None:
            raise HarnessError("smbd is not running")
        # A child that already exited stays a zombie while smbd is stopped.
        self.paused = [p for p in [Proc(self.popen.pid)] + self.children() if p.alive()]
        for p in self.paused:
            p.signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT what pause() stopped (and any child forked since)."""
        for p in self.paused + self.children():
            p.signal(signal.SIGCONT)
        self.paused = []

    def stop(self):
        """SIGTERM smbd and its children, wait, SIGKILL what is left.  Idempotent."""
        if self.popen is None:
            return
        kids = self.children() + [p for p in self.paused if p.alive()]
        terminate(self.popen, kids)
        self.paused = []
        if self._log:
            self._log.close()
            self._log = None
        self.popen = None

    def kill(self):
        """SIGKILL smbd and its children at once (teardown after a timeout)."""
        if self.popen is None:
            return
        for p in self.children() + [p for p in self.paused if p.alive()]:
            p.signal(signal.SIGKILL)
        try:
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass

    def __repr__(self):
        return f"<SmbServer {self.unc} pid={self.pid}>"


# ------------------------------------------------------------------ ofsyncd


def build_dir():
    """$OFSYNC_BUILD (set by `make check-integration`), else <repo>/build."""
    return Path(os.environ.get("OFSYNC_BUILD") or REPO / "build")


def _unescape_mountinfo(field):
    return (field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
            .replace("\\134", "\\"))


def is_mounted(path):
    """True if path is a mount point, including a FUSE mount whose daemon died
    (os.path.ismount says False there: stat fails with ENOTCONN)."""
    try:
        if os.path.ismount(path):
            return True
    except OSError:
        pass
    target = os.path.abspath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            return any(_unescape_mountinfo(line.split()[4]) == target for line in f)
    except OSError:
        return False


def mounts_under(root):
    """Mount points at or below root, deepest first."""
    root = os.path.abspath(root)
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                p = _unescape_mountinfo(line.split()[4])
                if p == root or p.startswith(root + "/"):
                    found.append(p)
    except OSError:
        pass
    return sorted(set(found), key=len, reverse=True)


def lazy_unmount(path):
    if is_mounted(path):
        subprocess.run([FUSERMOUNT, "-u", "-z", str(path)], capture_output=True, timeout=30)


def run_cli(socket_path, *args, json=False, check=True, timeout=CLI_TIMEOUT):
    """Runs `ofsync --socket SOCK [--json] ARGS...`.

    Returns (CompletedProcess, parsed JSON or None).  check=True asserts exit 0."""
    cmd = [str(build_dir() / "ofsync"), "--socket", str(socket_path)]
    if json:
        cmd.append("--json")
    cmd += [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=sanitizer_env())
    found = sanitizer_findings(r.stderr)
    assert not found, f"sanitizer report from {cmd}:\n{r.stderr}"
    if check:
        assert r.returncode == 0, (f"{' '.join(cmd)} exited {r.returncode}\n"
                                   f"stdout: {r.stdout}\nstderr: {r.stderr}")
    parsed = None
    if json and r.returncode == 0:
        try:
            parsed = jsonlib.loads(r.stdout)
        except ValueError as e:
            raise AssertionError(f"{' '.join(cmd)} printed invalid JSON ({e}):\n{r.stdout}")
    return r, parsed


class Mount:
    """A running `ofsyncd -f` and its mountpoint.

    .mnt (Path), .socket, .cache_dir, .pid, .log (its stdout+stderr),
    .cli(*args, json=False, check=True), .stop(), .kill9()."""

    def __init__(self, popen, mnt, socket_path, cache_dir, log, argv):
        self.popen = popen
        self.mnt = Path(mnt)
        self.socket = Path(socket_path)
        self.cache_dir = Path(cache_dir)
        self.log = Path(log)
        self.argv = argv

    @property
    def pid(self):
        return self.popen.pid

    @property
    def returncode(self):
        return self.popen.poll()

    def cli(self, *args, json=False, check=True, timeout=CLI_TIMEOUT):
        return run_cli(self.socket, *args, json=json, check=check, timeout=timeout)

    def status(self):
        """The one share of this daemon, from `ofsync --json status`."""
        _, st = self.cli("status", json=True)
        shares = st["shares"]
        assert len(shares) == 1, st
        return shares[0]

    def info(self, path):
        """The item for path, from `ofsync --json info PATH`."""
        _, inf = self.cli("info", path, json=True)
        items = inf["items"]
        assert len(items) == 1, inf
        return items[0]

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM the daemon, wait; then lazy-unmount if still mounted.  Returns its status."""
        rc = terminate(self.popen, timeout=timeout)
        lazy_unmount(self.mnt)
        return rc

    def kill9(self):
        """SIGKILL the daemon (a crash); the mount is left for the test to look at."""
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def __repr__(self):
        return f"<Mount {self.mnt} pid={self.pid}>"


class DaemonFactory:
    """Starts ofsyncd processes for one test and cleans all of them up."""

    def __init__(self, tmp_path):
        self.tmp = Path(tmp_path)
        self.mounts = []
        self.runs = []  # (argv, log text) of one-shot runs, for the sanitizer check
        self.n = 0

    def _paths(self):
        self.n += 1
        sfx = "" if self.n == 1 else str(self.n)
        return (self.tmp / f"mnt{sfx}", self.tmp / f"ofsync{sfx}.sock",
                self.tmp / f"cache{sfx}", self.tmp / f"ofsyncd{sfx}.log")

    def mount(self, smb_server, extra_opts=(), attr_timeout=1, expect_fail=False, guest=True,
              unc=None, mnt=None, cache_dir=None, socket_path=None, timeout=MOUNT_TIMEOUT,
              env=None):
        """Starts `ofsyncd -f -o cache_dir=..,socket=..,[guest,]attr_timeout=N[,extra] UNC MNT`.

        Returns a Mount once MNT is a mount and the socket exists.  With
        expect_fail=True, waits for the daemon to exit and returns
        subprocess.CompletedProcess(argv, status, stdout='', stderr=log)."""
        dmnt, dsock, dcache, log = self._paths()
        mnt = Path(mnt or dmnt)
        socket_path = Path(socket_path or dsock)
        cache_dir = Path(cache_dir or dcache)
        mnt.mkdir(parents=True, exist_ok=True)
        opts = [f"cache_dir={cache_dir}", f"socket={socket_path}"]
        if guest:
            opts.append("guest")
        if attr_timeout is not None:
            opts.append(f"attr_timeout={attr_timeout}")
        opts += list(extra_opts)
        argv = [str(build_dir() / "ofsyncd"), "-f", "-o", ",".join(opts),
                unc or smb_server.unc, str(mnt)]
        if expect_fail:
            return self.run(argv, log=log)
        return self.start(argv, [mnt], socket_path, cache_dir, log, timeout, env=env)

    def start(self, argv, mnts, socket_path, cache_dir, log=None, timeout=MOUNT_TIMEOUT,
              env=None):
        """Starts ofsyncd with argv (argv[0] included), with env added to its
        environment; returns a Mount (of mnts[0]) once every path of mnts is
        a mount and the socket exists."""
        argv = [str(a) for a in argv]
        if log is None:
            log = self._paths()[3]
        logf = open(log, "wb")
        try:
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=subprocess.STDOUT,
                                     env={**sanitizer_env(), **(env or {})})
        finally:
            logf.close()
        m = Mount(popen, Path(mnts[0]), Path(socket_path), Path(cache_dir), log, argv)
        self.mounts.append(m)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                raise AssertionError(f"ofsyncd exited with {popen.returncode} before mounting:\n"
                                     f"{' '.join(argv)}\n{m.log_text()}")
            if all(is_mounted(x) for x in mnts) and Path(socket_path).exists():
                return m
            time.sleep(0.05)
        raise AssertionError(f"ofsyncd did not mount {mnts} and create {socket_path} within "
                             f"{timeout} s:\n{' '.join(argv)}\n{m.log_text()}")

    def run(self, argv, log=None, timeout=STOP_TIMEOUT):
        """Runs ofsyncd with argv (argv[0] included) expecting it to exit by itself.

        Returns CompletedProcess with .stderr = everything it printed.  Kills
        it and fails if it is still running after timeout seconds."""
        if log is None:
            log = self._paths()[3]
        with open(log, "wb") as logf:
            popen = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     env=sanitizer_env())
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                terminate(popen)
                text = Path(log).read_text(errors="replace")
                self.runs.append((argv, text))
                raise AssertionError(f"ofsyncd still running after {timeout} s: {argv}\n{text}")
        text = Path(log).read_text(errors="replace")
        self.runs.append((argv, text))
        return subprocess.CompletedProcess(argv, popen.returncode, "", text)

    def kill_all(self):
        """SIGKILL every daemon at once (used by the watchdog)."""
        for m in self.mounts:
            if m.popen.poll() is None:
                try:
                    m.popen.kill()
                except ProcessLookupError:
                    pass

    def cleanup(self):
        """Stops every daemon, unmounts, and returns sanitizer reports found in their logs."""
        reports = []
        for m in self.mounts:
            try:
                m.stop()
            except Exception:  # keep cleaning the others
                m.kill9()
                lazy_unmount(m.mnt)
            text = m.log_text()
            if sanitizer_findings(text):
                reports.append(f"--- {' '.join(m.argv)}\n{text}")
        # Anything still mounted under this test's directory (a daemon that
        # mounted when it should have refused, or one that was SIGKILLed).
        for path in mounts_under(self.tmp):
            lazy_unmount(path)
        for argv, text in self.runs:
            if sanitizer_findings(text):
                reports.append(f"--- {' '.join(map(str, argv))}\n{text}")
        return reports


class Watchdog:
    """Fails a test that runs longer than its deadline instead of letting it hang.

    On expiry it SIGKILLs the test's daemons (which aborts the FUSE
    connection, so a read blocked in the kernel returns ENOTCONN), resumes
    and kills its smbd, then raises TimeoutError in the main thread."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.fired = False
        self.factories = []
        self.servers = []
        self._main = threading.main_thread().ident
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._old = None

    def _handler(self, signum, frame):
        raise TimeoutError(f"test did not finish within {self.seconds} s (watchdog)")

    def start(self):
        self._old = signal.signal(signal.SIGALRM, self._handler)
        self._timer.start()

    def _fire(self):
        self.fired = True
        for f in self.factories:
            f.kill_all()
        for s in self.servers:
            s.kill()
        signal.pthread_kill(self._main, signal.SIGALRM)

    def cancel(self):
        self._timer.cancel()
        signal.signal(signal.SIGALRM, self._old or signal.SIG_DFL)


def diverge(smb_server, ofsyncd, names, local, server, pending_ops=0):
    """Makes each name diverge while the share is away: the file is cached
    (content b"original\\n"), the server stops, local(mount_path) changes it
    through the mount and server(backing_path) changes it on the server;
    then the server comes back.  Returns the mount (probe_interval=1) once
    the background sync has recorded a conflict for every name; it checks
    that pending_ops journal ops still wait."""
    b = smb_server.backing
    for n in names:
        write_file(b / n, b"original\n")
    m = ofsyncd.mount(smb_server, extra_opts=["probe_interval=1"])
    for n in names:
        assert (m.mnt / n).read_bytes() == b"original\n"
    smb_server.stop()
    for n in names:
        local(m.mnt / n)
        server(b / n)
    smb_server.start()
    deadline = time.monotonic() + 15
    while m.status()["conflicts"] < len(names) and time.monotonic() < deadline:
        time.sleep(0.2)
    st = m.status()
    assert st["conflicts"] == len(names) and st["pending_ops"] == pending_ops, st
    return m


def server_write(content, newer):
    """A server change for diverge(): writes content with an mtime an hour
    after (newer) or before now."""
    def change(p):
        write_file(p, content)
        t = time.time() + (3600 if newer else -3600)
        os.utime(p, (t, t))
    return change


def main(argv):
    """`harness.py smb-setup ROOT [BACKING]`: writes ROOT/smb.conf for a free
    loopback port (the one printed), with the state dirs and the samba user,
    exactly as the smb_server fixture does.  Used by scripts/demo.sh."""
    if len(argv) in (3, 4) and argv[1] == "smb-setup":
        srv = SmbServer(Path(argv[2]).resolve(), backing=Path(argv[3]).resolve()
                        if len(argv) == 4 else None)
        print(srv.port)
        return 0
    print("usage: harness.py smb-setup ROOT [BACKING]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

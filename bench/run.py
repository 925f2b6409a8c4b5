#!/usr/bin/env python3
"""ofsync benchmark harness (issue 6): ofsyncd against the physical limit,
the protocol limit and the programs a user would take instead, in one run.

    make bench          the full run (sizes of the issue, 3 runs a figure)
    make bench-quick    reduced sizes, 1 run a figure, well under two minutes
    make check          runs bench-quick once as a smoke test (no assertion)

It starts its own smbd on a loopback port (tests/integration/harness.py),
builds the data sets deterministically, and measures each figure for
ofsyncd and for every peer that is installed:

    smbclient   on the same server: the protocol limit
    local       the backing directory itself: the physical limit
    rclone      `rclone mount --vfs-cache-mode full` over rclone's SMB backend
                (a temporary rclone.conf: 127.0.0.1:PORT, the harness's user
                and its password obscured with `rclone obscure`)
    smbnetfs    reaches the port through the path MNT/127.0.0.1:PORT/share
                (libsmbclient takes host:port); a temporary HOME holds its
                smbnetfs.conf

A peer that is not installed is installed with apt-get (root only, unless
BENCH_INSTALL=0); one that cannot be installed or started is reported as
"n/a: reason".  Each figure is the median of BENCH_RUNS runs.  The page
cache is dropped between cold runs with /proc/sys/vm/drop_caches where that
is allowed; where it is not (a container), the pages of the files involved
(backing file, cache files, the file on the mount) are evicted with
posix_fadvise(DONTNEED) instead, which does not drop dentries and inodes:
the table's notes say which was used.

It prints a Markdown table of absolute figures, of ratios to the limit and
to each peer, and of the issue's targets with pass/miss (never asserted:
the exit status is 0 whatever the figures), and writes the raw runs to
BENCH_OUT.  Ratios are always ofsyncd / other in the figure's unit: MB/s for
reads (higher is better), seconds, bytes and MiB otherwise (lower is better).

Bytes crossing loopback (sync-out after a 1-byte change) are the delta of
lo's tx counter in /proc/net/dev over the write and `ofsync flush --wait`:
on lo every byte is counted once as tx and once as rx, so tx alone is the
traffic in both directions (rx+tx is kept in the raw results).  Other
processes' loopback traffic in that window counts too; the raw results also
hold the byte counters of the benchmark smbd's own sockets (ss -ti) as a
cross-check.

Environment knobs (defaults for `make bench`; BENCH_QUICK=1 changes them as
shown in brackets):
  OFSYNC_BUILD        build directory with ofsyncd and ofsync (./build)
  BENCH_QUICK=1       reduced sizes, for bench-quick and make check
  BENCH_RUNS          runs per figure, median reported: 3 [1]
  BENCH_SIZE_MIB      the big file of the read and sync-out figures: 1024 [32]
  BENCH_FILES         files of the metadata tree: 100000 [2000]
  BENCH_DIRS          its directories: 1000 [20]
  BENCH_GROWTH=0      skip the tree of BENCH_FILES/10 files in BENCH_DIRS/10
                      directories (growth figures); 1 by default
  BENCH_WRITE_FILES   small files written through the mount: 10000 [300]
  BENCH_WRITE_KIB     their size: 4
  BENCH_RSS_FILES     items indexed for the RSS figure (a tree of empty files
                      in BENCH_RSS_DIRS=1000 directories, listed through a
                      fresh mount): 1000000 [0]; 0 extrapolates linearly from
                      the RSS measured at the two metadata trees
  BENCH_PEERS         peers besides smbclient and local: rclone,smbnetfs; or
                      "none"
  BENCH_INSTALL       1: apt-get install missing peers (as root); 0: do not
  BENCH_ONLY          phases to run, comma-separated, of read,syncout,write,
                      meta,rss (all by default; growth runs with meta); "none"
                      with BENCH_MERGE=1 prints the table of BENCH_OUT again
  BENCH_KEEP=DIR      build the data sets in DIR and reuse them in later runs
                      (same sizes); by default a temporary directory, removed
  BENCH_OUT           the raw results: bench/results.json
                      [bench/results-quick.json from make bench-quick]
  BENCH_TIMEOUT       limit on one timed command, in seconds: 1800
  BENCH_OFSYNC_OPTS   extra -o options for ofsyncd (e.g. attr_timeout=60)
  BENCH_NOFILE=N      raise the open-file limit (RLIMIT_NOFILE) of the daemons
                      to N (root may raise the hard limit); unchanged by default
  BENCH_MERGE=1       keep the figures of BENCH_OUT that this run does not
                      measure (per figure and tool), e.g. to re-run one phase
  BENCH_PERF=FIG      record ofsyncd with `perf record -g` during figure FIG
                      (e.g. lslR_warm, sync_nochange) into bench/perf-FIG.data

bench_read.py and bench_sync.py remain as focused tools for iterating on one
lever (BENCH_SYNC_KEEP, BENCH_SYNC_PERF); this script is the harness.
"""

import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import harness  # noqa: E402


def env_int(name, default, quick):
    return int(os.environ.get(name) or (quick if QUICK else default))


QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
SETTLE_S = 0 if QUICK else 61  # see settle_deletions
RUNS = env_int("BENCH_RUNS", 3, 1)
SIZE = env_int("BENCH_SIZE_MIB", 1024, 32) << 20
FILES = env_int("BENCH_FILES", 100000, 2000)
DIRS = env_int("BENCH_DIRS", 1000, 20)
GROWTH = os.environ.get("BENCH_GROWTH", "1") != "0"
WRITE_FILES = env_int("BENCH_WRITE_FILES", 10000, 300)
WRITE_KIB = env_int("BENCH_WRITE_KIB", 4, 4)
RSS_FILES = env_int("BENCH_RSS_FILES", 1000000, 0)
RSS_DIRS = env_int("BENCH_RSS_DIRS", 1000, 1000)
PEERS = [p for p in os.environ.get("BENCH_PEERS", "rclone,smbnetfs").split(",")
         if p and p != "none"]
INSTALL = os.environ.get("BENCH_INSTALL", "1") != "0"
PHASES = [p for p in os.environ.get("BENCH_ONLY", "read,syncout,write,meta,rss").split(",") if p]
KEEP = os.environ.get("BENCH_KEEP")
OUT = Path(os.environ.get("BENCH_OUT") or HERE / "results.json")
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT") or (300 if QUICK else 1800))
OFSYNC_OPTS = [o for o in os.environ.get("BENCH_OFSYNC_OPTS", "").split(",") if o]
PERF_FIG = os.environ.get("BENCH_PERF")
NOFILE = int(os.environ.get("BENCH_NOFILE") or 0)
MERGE = os.environ.get("BENCH_MERGE", "0") not in ("", "0")

OFSYNCD, OFSYNC = harness.build_dir() / "ofsyncd", harness.build_dir() / "ofsync"
TOOLS = ["ofsyncd", "smbclient", "local", "rclone", "smbnetfs"]


class BenchError(Exception):
    pass


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ results

class Results:
    """results[figure][tool] = {"runs": [...], "median": x} or {"na": reason}."""

    def __init__(self):
        self.fig = {}
        self.notes = []
        self.info = {}

    def add(self, fig, tool, value):
        e = self.fig.setdefault(fig, {}).setdefault(tool, {"runs": []})
        e.pop("na", None)
        e["runs"].append(value)
        e["median"] = statistics.median(e["runs"])

    def na(self, fig, tool, reason):
        e = self.fig.setdefault(fig, {}).setdefault(tool, {"runs": []})
        if "median" not in e:
            e["na"] = reason

    def get(self, fig, tool):
        e = self.fig.get(fig, {}).get(tool)
        return e.get("median") if e else None

    def why(self, fig, tool):
        e = self.fig.get(fig, {}).get(tool)
        return e.get("na") if e else None

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)
            log("note: " + text)


R = Results()


# ------------------------------------------------------------ system helpers

DROP = None  # "drop_caches" or "fadvise"


def sh(argv, timeout=TIMEOUT, check=True, **kw):
    r = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise BenchError(f"{' '.join(map(str, argv))[:120]} exited {r.returncode}: "
                         f"{(r.stderr or r.stdout)[-400:].strip()}")
    return r


def timed(argv, timeout=TIMEOUT, stdout=subprocess.DEVNULL, **kw):
    """Seconds that argv took; BenchError if it failed."""
    t = time.monotonic()
    r = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=stdout,
                       stderr=subprocess.PIPE, timeout=timeout, **kw)
    dt = time.monotonic() - t
    if r.returncode != 0:
        raise BenchError(f"{' '.join(map(str, argv))[:120]} exited {r.returncode}: "
                         f"{r.stderr.decode(errors='replace')[-400:].strip()}")
    return dt


def evict_file(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


REPORTED = Path("/sys/module/page_reporting/parameters/reported_kib")


def settle_reporting():
    """On a VM with free page reporting, waits (up to 30 s) until the memory
    drop_caches freed is reported to the host, that is until reported_kib
    stops moving, so that every cold run starts from the same state: each
    page it allocates is faulted in anew.  Reporting goes on in passes of a
    few hundred MiB every 2 s; without the wait, whoever ran right after a
    large drop got pages not yet reported, and of two builds run back to
    back the second read 1.5-1.7x faster whichever it was."""
    if QUICK or not REPORTED.exists():
        return
    last, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        cur = REPORTED.read_text().strip()
        if cur == last:
            return
        last = cur
        time.sleep(2.5)


def drop_caches(paths=()):
    """Drops the page cache (root, where allowed); else evicts the pages of
    every file under paths with posix_fadvise(DONTNEED)."""
    global DROP
    os.sync()
    if DROP != "fadvise":
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
            DROP = "drop_caches"
            settle_reporting()
            return
        except OSError as e:
            DROP = "fadvise"
            R.note(f"page cache: /proc/sys/vm/drop_caches cannot be written here ({e.strerror}); "
                   "the pages of the files involved (backing file, cache files, the file on "
                   "the mount) are evicted with posix_fadvise(DONTNEED) instead; dentries "
                   "and inodes stay cached")
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, _, names in os.walk(p):
                for n in names:
                    evict_file(os.path.join(root, n))
        elif p.exists():
            evict_file(p)


def lo_counters():
    """(rx, tx) bytes of the loopback interface."""
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name.strip() == "lo":
            f = rest.split()
            return int(f[0]), int(f[8])
    raise BenchError("no lo in /proc/net/dev")


def port_sockets(port):
    """{(local, peer): bytes sent + received} of the TCP sockets on port (ss -ti)."""
    r = sh(["ss", "-tinH", "state", "established", f"( sport = :{port} )"], check=False)
    out, key = {}, None
    for line in r.stdout.splitlines():
        if not line.startswith(("\t", " ")):
            f = line.split()
            key = (f[-2], f[-1]) if len(f) >= 2 else None
            continue
        if key is None:
            continue
        n = 0
        for tok in line.split():
            if tok.startswith(("bytes_sent:", "bytes_received:")):
                n += int(tok.split(":")[1])
        out[key] = n
    return out


class Traffic:
    """Loopback bytes over a window: lo tx (the figure), lo rx+tx, and the
    bytes of the sockets of one port (a cross-check; sockets that close in
    the window are missed)."""

    def __init__(self, port):
        self.port = port

    def __enter__(self):
        self.lo0 = lo_counters()
        self.s0 = port_sockets(self.port)
        return self

    def stop(self):
        lo1 = lo_counters()
        s1 = port_sockets(self.port)
        self.tx = lo1[1] - self.lo0[1]
        self.rxtx = self.tx + lo1[0] - self.lo0[0]
        self.port_bytes = sum(v - self.s0.get(k, 0) for k, v in s1.items())
        return self.tx

    def __exit__(self, *a):
        return False


def proc_status(pid, key):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def write_tree(root, files, dirs, content):
    """files in dirs directories under root: d0000/f0000.txt ... (deterministic)."""
    per = files // dirs
    for d in range(dirs):
        dd = root / f"d{d:04d}"
        dd.mkdir(parents=True, exist_ok=True)
        for i in range(per):
            fd = os.open(dd / f"f{i:04d}.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            if content:
                os.write(fd, content)
            os.close(fd)


def write_big(path, size):
    """size bytes, deterministic and incompressible."""
    seed = harness.make_bytes(1 << 20, 7)
    with open(path, "wb") as f:
        for i in range(size >> 20):
            f.write(seed[i % 251:] + seed[:i % 251])


# ------------------------------------------------------------------- peers

def installed(name):
    return shutil.which(name) is not None


def ensure_peer(name):
    """None if the peer can run, else the reason it cannot."""
    if installed(name):
        return None
    if not INSTALL:
        return "not installed (BENCH_INSTALL=0)"
    if os.geteuid() != 0:
        return "not installed (and not root to apt-get install it)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", name]
    log(f"installing {name} with apt-get")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=600,
                       stdin=subprocess.DEVNULL)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                           stdin=subprocess.DEVNULL)
    if r.returncode != 0 or not installed(name):
        return f"not installed (apt-get install {name} failed: {r.stderr.strip()[-120:]})"
    return None


def wait_mounted(path, popen, timeout, what, logfile=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            text = Path(logfile).read_text(errors="replace")[-600:] if logfile else ""
            raise BenchError(f"{what} exited {popen.returncode} before mounting: {text}")
        if harness.is_mounted(path):
            return
        time.sleep(0.05)
    raise BenchError(f"{what} did not mount {path} within {timeout} s")


class PeerMount:
    """A FUSE peer mount we started; .path is where the share's root is."""

    popen = None
    mnt = None

    def stop(self):
        if self.popen is not None:
            harness.terminate(self.popen, harness.descendants(self.popen.pid))
            self.popen = None
        if self.mnt is not None:
            harness.lazy_unmount(self.mnt)


class Rclone(PeerMount):
    name = "rclone"

    def __init__(self, work, srv):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.conf = self.work / "rclone.conf"
        obscured = sh(["rclone", "obscure", srv.password]).stdout.strip()
        self.conf.write_text(f"[bench]\ntype = smb\nhost = 127.0.0.1\nport = {srv.port}\n"
                             f"user = {srv.user}\npass = {obscured}\n")
        os.chmod(self.conf, 0o600)
        self.n = 0

    def mount(self):
        """A fresh `rclone mount` with an empty VFS cache."""
        self.stop()
        self.n += 1
        self.mnt = self.work / f"mnt{self.n}"
        self.cache = self.work / f"cache{self.n}"
        self.log = self.work / f"rclone{self.n}.log"
        self.mnt.mkdir(exist_ok=True)
        self.popen = subprocess.Popen(
            ["rclone", "mount", "bench:share", str(self.mnt), "--config", str(self.conf),
             "--vfs-cache-mode", "full", "--cache-dir", str(self.cache),
             "-v", "--log-file", str(self.log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_mounted(self.mnt, self.popen, 30, "rclone mount", self.log)
        self.path = self.mnt
        return self

    def uploads(self):
        try:
            return self.log.read_text(errors="replace").count("upload succeeded")
        except OSError:
            return 0

    def cache_paths(self):
        return [self.cache]


class Smbnetfs(PeerMount):
    name = "smbnetfs"

    def __init__(self, work, srv):
        self.work = Path(work)
        self.home = self.work / "home"
        (self.home / ".smb").mkdir(parents=True, exist_ok=True)
        (self.home / ".smb" / "smb.conf").write_text("[global]\n\tclient min protocol = SMB2_10\n")
        self.conf = self.home / ".smb" / "smbnetfs.conf"
        self.conf.write_text(f'auth "{srv.user}" "{srv.password}"\n'
                             'smb_query_browsers "false"\nuse_libsecret "false"\n')
        os.chmod(self.conf, 0o600)
        self.srv = srv
        self.n = 0

    def mount(self):
        self.stop()
        self.n += 1
        self.mnt = self.work / f"mnt{self.n}"
        self.mnt.mkdir(exist_ok=True)
        self.log = self.work / f"smbnetfs{self.n}.log"
        logf = open(self.log, "wb")
        try:
            self.popen = subprocess.Popen(
                ["smbnetfs", str(self.mnt), "-f", "-o", f"config={self.conf}"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                env={**os.environ, "HOME": str(self.home)}, start_new_session=True)
        finally:
            logf.close()
        wait_mounted(self.mnt, self.popen, 30, "smbnetfs", self.log)
        self.path = self.mnt / f"127.0.0.1:{self.srv.port}" / "share"
        deadline = time.monotonic() + 15
        while True:
            try:
                os.listdir(self.path)
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise BenchError(f"smbnetfs cannot reach {self.path}: {e}")
                time.sleep(0.2)
        return self

    def cache_paths(self):
        return []


PEER_OK = {}  # name -> None (usable) or the reason it is not


def peers_for(work, srv):
    """Peer objects for this server, for the peers that can run; marks the others."""
    out = []
    for name in PEERS:
        if name not in PEER_OK:
            PEER_OK[name] = ensure_peer(name)
        if PEER_OK[name]:
            continue
        try:
            out.append((Rclone if name == "rclone" else Smbnetfs)(Path(work) / name, srv))
        except Exception as e:  # noqa: BLE001 - a peer that cannot start is reported n/a
            PEER_OK[name] = f"cannot be set up: {e}"
    return out


def mark_missing_peers(figs):
    for name in PEERS:
        if PEER_OK.get(name):
            for f in figs:
                R.na(f, name, PEER_OK[name])


def peer_try(peer, figs, fn):
    """Runs fn(); on failure marks the peer n/a for figs and stops its mount."""
    try:
        fn()
    except (Exception, subprocess.TimeoutExpired) as e:  # noqa: BLE001
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        log(f"{peer.name}: {msg}")
        for f in figs:
            R.na(f, peer.name, f"failed: {msg}")
        peer.stop()


# --------------------------------------------------------- ofsyncd helpers

class Ofsync:
    """Mounts of ofsyncd on one server, each with a fresh cache unless reused."""

    def __init__(self, work, srv):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.factory = harness.DaemonFactory(self.work)
        self.srv = srv
        self.m = None
        self.perf = None

    def mount(self, cache_dir=None, fresh=True, timeout=120):
        self.stop()
        if cache_dir is None:
            cache_dir = self.work / "cache"
            if fresh and cache_dir.exists():
                shutil.rmtree(cache_dir)
        sock = self.work / "ofsync.sock"
        if sock.exists():
            sock.unlink()
        self.m = self.factory.mount(self.srv, extra_opts=OFSYNC_OPTS, attr_timeout=None,
                                    cache_dir=cache_dir, mnt=self.work / "mnt",
                                    socket_path=sock, timeout=timeout)
        return self.m

    def cli(self, *args, timeout=TIMEOUT):
        return [str(OFSYNC), "--socket", str(self.m.socket), *map(str, args)]

    def status(self):
        r = sh(self.cli("--json", "status"), timeout=60)
        return json.loads(r.stdout)["shares"][0]

    def rss(self):
        return proc_status(self.m.pid, "VmRSS"), proc_status(self.m.pid, "VmHWM")

    def perf_start(self, fig):
        if PERF_FIG == fig and self.m and installed("perf"):
            out = HERE / f"perf-{fig}.data"
            self.perf = subprocess.Popen(["perf", "record", "-g", "-o", str(out), "-p",
                                          str(self.m.pid)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            R.note(f"perf record of ofsyncd during {fig}: {out}")

    def perf_stop(self):
        if self.perf:
            self.perf.send_signal(signal.SIGINT)
            try:
                self.perf.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.perf.kill()
            self.perf = None

    def stop(self):
        self.perf_stop()
        if self.m is not None:
            self.m.stop(timeout=60)
            self.m = None

    def cleanup(self):
        self.stop()
        self.factory.cleanup()


def grep_log(m, word, n=2):
    """The first n lines of m's log that hold word, and how many there are."""
    lines = [ln for ln in m.log_text().splitlines() if word in ln]
    return "; ".join(lines[:n]) + (f" (and {len(lines) - n} more such lines)"
                                   if len(lines) > n else "")


def note_fds(ofs, when):
    """Records the daemon's open files and its limit (a leak shows here)."""
    try:
        n = len(os.listdir(f"/proc/{ofs.m.pid}/fd"))
        lim = next(ln.split()[3] for ln in Path(f"/proc/{ofs.m.pid}/limits").read_text()
                   .splitlines() if ln.startswith("Max open files"))
    except (OSError, StopIteration):
        return
    R.info.setdefault("daemon_open_files", []).append({"when": when, "open": n, "limit": lim})
    if n > 1000:
        R.note(f"ofsyncd holds {n:,} open files {when} (its limit: {lim})")


# ------------------------------------------------------------------ servers

class Workspace:
    def __init__(self):
        if KEEP:
            self.data = Path(KEEP).resolve()
            self.data.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="ofsync-bench-"))
        if not KEEP:
            self.data = self.tmp / "data"
            self.data.mkdir()
        self.servers = []
        self.cleanups = []

    def server(self, name, spec, build):
        """A started smbd serving the data set `name`, built by build(backing)
        unless a kept one with the same spec exists; the same server again
        when it was started before in this run."""
        for srv in self.servers:
            if srv.dataset == name:
                return srv
        root = self.data / name
        marker = root / "dataset.json"
        backing = root / "backing"
        if not (marker.exists() and json.loads(marker.read_text()) == spec):
            if root.exists():
                shutil.rmtree(root)
            backing.mkdir(parents=True)
            log(f"building data set {name}: {spec}")
            t = time.monotonic()
            build(backing)
            marker.write_text(json.dumps(spec))
            log(f"built {name} in {time.monotonic() - t:.1f} s")
        srv = harness.SmbServer(self.tmp / f"smb-{name}", backing=backing).start()
        srv.dataset = name
        self.servers.append(srv)
        return srv

    def close(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep cleaning up
                log(f"cleanup: {e}")
        for srv in self.servers:
            srv.stop()
        for p in harness.mounts_under(self.tmp):
            harness.lazy_unmount(p)
        shutil.rmtree(self.tmp, ignore_errors=True)


def smbclient(srv, *cmds):
    return [harness.SMBCLIENT, "-N", "-p", str(srv.port), "//127.0.0.1/share", "-c",
            "; ".join(cmds)]


# ------------------------------------------------------------------- phases

READ_FIGS = ["read_cold", "read_warm", "read_hit"]


def phase_read(ws):
    srv = ws.server("read", {"size": SIZE}, lambda b: write_big(b / "big.bin", SIZE))
    big = srv.backing / "big.bin"
    cat = lambda p: ["cat", str(p)]  # noqa: E731
    ofs = Ofsync(ws.tmp / "read-ofsync", srv)
    ws.cleanups.append(ofs.cleanup)
    peers = peers_for(ws.tmp / "read-peers", srv)
    for p in peers:
        ws.cleanups.append(p.stop)
    mark_missing_peers(READ_FIGS)
    for run in range(RUNS):
        log(f"read: run {run + 1}/{RUNS}")
        drop_caches([big])
        R.add("read_cold", "smbclient", timed(smbclient(srv, "get big.bin /dev/null")))
        got = ws.tmp / "got.bin"  # the protocol plus the local write a cache must do
        drop_caches([big])
        R.add("read_cold_file", "smbclient", timed(smbclient(srv, f"get big.bin {got}")))
        got.unlink()
        drop_caches([big])
        m = ofs.mount()
        ofs.perf_start("read_cold")
        R.add("read_cold", "ofsyncd", timed(cat(m.mnt / "big.bin")))
        R.add("read_cold_file", "ofsyncd", R.fig["read_cold"]["ofsyncd"]["runs"][-1])
        ofs.perf_stop()
        ofs.perf_start("read_warm")
        R.add("read_warm", "ofsyncd", timed(cat(m.mnt / "big.bin")))
        ofs.perf_stop()
        drop_caches([big, m.cache_dir, m.mnt / "big.bin"])
        ofs.perf_start("read_hit")
        R.add("read_hit", "ofsyncd", timed(cat(m.mnt / "big.bin")))
        ofs.perf_stop()
        ofs.stop()
        timed(cat(big))
        R.add("read_warm", "local", timed(cat(big)))
        drop_caches([big])
        R.add("read_hit", "local", timed(cat(big)))
        for p in peers:
            def one(p=p):
                p.mount()
                f = p.path / "big.bin"
                drop_caches([big] + p.cache_paths())
                R.add("read_cold", p.name, timed(cat(f)))
                R.add("read_warm", p.name, timed(cat(f)))
                drop_caches([big, f] + p.cache_paths())
                R.add("read_hit", p.name, timed(cat(f)))
                p.stop()
            if not R.why("read_cold", p.name):
                peer_try(p, READ_FIGS, one)


SYNCOUT_FIGS = ["syncout_1byte"]


def phase_syncout(ws):
    srv = ws.server("read", {"size": SIZE}, lambda b: write_big(b / "big.bin", SIZE))
    big = srv.backing / "big.bin"
    ofs = Ofsync(ws.tmp / "syncout-ofsync", srv)
    ws.cleanups.append(ofs.cleanup)
    peers = peers_for(ws.tmp / "syncout-peers", srv)
    for p in peers:
        ws.cleanups.append(p.stop)
    mark_missing_peers(SYNCOUT_FIGS)
    raw = R.info.setdefault("syncout", {"ofsyncd": [], "rclone": [], "smbnetfs": []})
    m = ofs.mount()
    timed(["cat", m.mnt / "big.bin"])  # fill the cache: the file is full before the change
    st = ofs.status()
    if st["full_items"] < 1:
        R.note(f"sync-out: big.bin is not full in the cache after a read ({st})")

    def change(path, run):
        off = SIZE // 2 + 4099 * run
        with open(path, "r+b") as f:
            f.seek(off)
            old = f.read(1)
            f.seek(off)
            new = bytes([(old[0] + 1 + run) & 0xFF])
            f.write(new)
        return off, new

    def on_server(off, new):
        with open(big, "rb") as f:
            f.seek(off)
            return f.read(1) == new

    for run in range(RUNS):
        log(f"sync-out: run {run + 1}/{RUNS}")
        ofs.perf_start("syncout_1byte")
        with Traffic(srv.port) as tr:
            t = time.monotonic()
            off, new = change(m.mnt / "big.bin", run)
            sh(ofs.cli("flush", "--wait"))
            dt = time.monotonic() - t
            tr.stop()
        ofs.perf_stop()
        if not on_server(off, new):
            raise BenchError("sync-out: the changed byte is not on the server after flush --wait")
        R.add("syncout_1byte", "ofsyncd", tr.tx)
        raw["ofsyncd"].append({"lo_tx": tr.tx, "lo_rx_tx": tr.rxtx,
                               "smbd_socket_bytes": tr.port_bytes, "seconds": dt})
    ofs.stop()
    for p in peers:
        def one(p=p):
            p.mount()
            f = p.path / "big.bin"
            timed(["cat", f])  # rclone: fill its cache first
            for run in range(RUNS):
                n0 = p.uploads() if p.name == "rclone" else 0
                with Traffic(srv.port) as tr:
                    t = time.monotonic()
                    off, new = change(f, RUNS + run)
                    if p.name == "rclone":  # write-back after --vfs-write-back (5 s)
                        if not harness.wait_for(lambda: p.uploads() > n0, TIMEOUT, 0.1):
                            raise BenchError("rclone did not upload the change")
                    dt = time.monotonic() - t
                    tr.stop()
                if not on_server(off, new):
                    raise BenchError("the changed byte is not on the server")
                R.add("syncout_1byte", p.name, tr.tx)
                raw[p.name].append({"lo_tx": tr.tx, "lo_rx_tx": tr.rxtx,
                                    "smbd_socket_bytes": tr.port_bytes, "seconds": dt})
            p.stop()
        peer_try(p, SYNCOUT_FIGS, one)
    R.info["syncout_limit_bytes"] = SIZE / 100
    R.na("syncout_1byte", "smbclient", "no sync-out of its own")
    R.na("syncout_1byte", "local", "no network")


WRITE_FIGS = ["write_small"]


def settle_deletions():
    """Lets the files deleted before age out: on an ext4 without a journal
    (this VM's root), a new inode is not given a number freed in the last
    60 s (300 s more while the inode table block is not written back), and
    each such number is looked at and passed over (recently_deleted), so a
    tool that creates 10,000 files after 10,000 were deleted pays for the
    deletion.  The write phase starts after this, and deletes nothing until
    its end."""
    os.sync()
    time.sleep(SETTLE_S)


def phase_write(ws):
    srv = ws.server("write", {"files": WRITE_FILES, "kib": WRITE_KIB}, lambda b: None)
    src = ws.data / "write" / "src"
    if not src.exists() or len(os.listdir(src)) != WRITE_FILES:
        src.mkdir(parents=True, exist_ok=True)
        data = harness.make_bytes(WRITE_KIB * 1024 * 16, 11)
        for i in range(WRITE_FILES):
            o = (i % 16) * WRITE_KIB * 1024
            (src / f"w{i:05d}.bin").write_bytes(data[o:o + WRITE_KIB * 1024])
    for d in os.listdir(srv.backing):  # left by a run that broke off
        shutil.rmtree(srv.backing / d, ignore_errors=True)
    ofs = Ofsync(ws.tmp / "write-ofsync", srv)
    ws.cleanups.append(ofs.cleanup)
    peers = peers_for(ws.tmp / "write-peers", srv)
    for p in peers:
        ws.cleanups.append(p.stop)
    mark_missing_peers(WRITE_FIGS)
    size = WRITE_KIB * 1024
    if SETTLE_S:
        R.note(f"small writes: the phase starts {SETTLE_S} s after the deletions before it, and "
               "deletes nothing until its end (ext4 without a journal scans recently deleted "
               "inodes at every new one; see settle_deletions)")
    settle_deletions()

    def on_server(d):
        try:
            with os.scandir(srv.backing / d) as it:
                return sum(1 for e in it if e.stat().st_size == size)
        except OSError:
            return 0

    def check(d):
        n = on_server(d)
        if n != WRITE_FILES:
            raise BenchError(f"{n} of {WRITE_FILES} files are on the server in {d}")

    # Nothing written in this phase is deleted before its end (see
    # settle_deletions): a deletion would cost whichever tool runs next.
    local_dirs = []
    for run in range(RUNS):
        log(f"write: run {run + 1}/{RUNS}")
        # A fresh cache per run (see the open-file note), the one before kept.
        m = ofs.mount(cache_dir=ofs.work / f"cache{run}")
        d = f"smbclient{run}"
        os.sync()  # the tool before written back
        R.add("write_small", "smbclient",
              timed(smbclient(srv, "prompt OFF", f"mkdir {d}", f"cd {d}", f"lcd {src}",
                              "mput *")))
        check(d)
        d = f"ofsyncd{run}"
        os.sync()  # the tool before written back
        ofs.perf_start("write_small")
        t = time.monotonic()
        sh(["cp", "-r", src, m.mnt / d])
        sh(ofs.cli("flush", "--wait"))
        R.add("write_small", "ofsyncd", time.monotonic() - t)
        ofs.perf_stop()
        note_fds(ofs, f"after writing {WRITE_FILES:,} files")
        ofs.stop()
        n = on_server(d)
        if n != WRITE_FILES:
            raise BenchError(f"ofsyncd: {n} of {WRITE_FILES} files on the server after "
                             "flush --wait")
        dst = ws.tmp / f"local{run}"
        local_dirs.append(dst)
        os.sync()  # the tool before written back
        t = time.monotonic()
        sh(["cp", "-r", src, dst])
        os.sync()
        R.add("write_small", "local", time.monotonic() - t)
        for p in peers:
            def one(p=p, run=run):
                if p.popen is None:
                    p.mount()
                d = f"{p.name}{run}"
                os.sync()  # the tool before written back
                t = time.monotonic()
                sh(["cp", "-r", src, p.path / d])
                if not harness.wait_for(lambda: on_server(d) == WRITE_FILES, TIMEOUT, 0.2):
                    raise BenchError(f"only {on_server(d)} files reached the server")
                R.add("write_small", p.name, time.monotonic() - t)
            if not R.why("write_small", p.name):
                peer_try(p, WRITE_FIGS, one)
    ofs.stop()
    for p in peers:
        p.stop()
    for d in os.listdir(srv.backing):
        shutil.rmtree(srv.backing / d, ignore_errors=True)
    for d in local_dirs + [ofs.work / f"cache{run}" for run in range(RUNS)]:
        shutil.rmtree(d, ignore_errors=True)


WALKS = {"find": lambda p: ["find", str(p)], "lslR": lambda p: ["ls", "-lR", str(p)]}
META_FIGS = [f"{w}_{k}" for w in WALKS for k in ("warm", "first", "offline")] + ["sync_nochange"]


def phase_meta(ws, files, dirs, tag, peers_too):
    """The listing and sync figures over a tree of files in dirs; figures
    are named FIG for the full size and FIG@tag for the growth tree."""
    fig = lambda name: name if not tag else f"{name}@{tag}"  # noqa: E731
    srv = ws.server(f"meta{files}", {"files": files, "dirs": dirs},
                    lambda b: write_tree(b, files, dirs, b"x"))
    ofs = Ofsync(ws.tmp / f"meta{files}-ofsync", srv)
    ws.cleanups.append(ofs.cleanup)
    peers = peers_for(ws.tmp / f"meta{files}-peers", srv) if peers_too else []
    for p in peers:
        ws.cleanups.append(p.stop)
    if peers_too:
        mark_missing_peers(META_FIGS)
    info = R.info.setdefault(fig("meta"), {"files": files, "dirs": dirs})
    log(f"meta {files}: smbclient recurse; ls")
    for run in range(RUNS):
        t = timed(smbclient(srv, "recurse", "ls"))
        for w in WALKS:
            R.add(fig(f"{w}_first"), "smbclient", t)
        R.add(fig("sync_nochange"), "smbclient", t)
    for w, argv in WALKS.items():
        timed(argv(srv.backing))
        for run in range(RUNS):
            R.add(fig(f"{w}_warm"), "local", timed(argv(srv.backing)))
        if DROP == "drop_caches":
            for run in range(RUNS):
                drop_caches()
                R.add(fig(f"{w}_cold"), "local", timed(argv(srv.backing)))
    # ofsyncd: first walks, each through a fresh mount with an empty cache
    for run in range(RUNS):
        for w, argv in WALKS.items():
            log(f"meta {files}: ofsyncd first {w}, run {run + 1}/{RUNS}")
            m = ofs.mount()
            ofs.perf_start(f"{w}_first")
            R.add(fig(f"{w}_first"), "ofsyncd", timed(argv(m.mnt)))
            ofs.perf_stop()
    st = ofs.status()
    info["items_after_walk"] = st["items"]
    info["rss_after_walk"], info["hwm_after_walk"] = ofs.rss()
    # The syncs on a fresh mount that nothing walked yet: ofsyncd keeps the
    # cache file of every node the kernel holds open (see note_fds), so a
    # first sync after a walk of more files than the open-file limit fails.
    m = ofs.mount()
    log(f"meta {files}: ofsync sync (first, fills every file)")
    t = time.monotonic()
    r = sh(ofs.cli("sync"), check=False)
    info["first_sync_s"] = time.monotonic() - t
    info["first_sync_out"] = (r.stdout + r.stderr).strip()[-300:]
    note_fds(ofs, f"after the first sync of {files:,} files")
    if r.returncode != 0:
        why = (f"the first sync failed (exit {r.returncode}: "
               f"{(r.stdout + r.stderr).strip().splitlines()[-1][:150]})")
        R.note(f"{files:,} files: {why}; ofsyncd log: {grep_log(m, 'error')}")
        R.na(fig("sync_nochange"), "ofsyncd", why)
    else:
        ofs.perf_start("sync_nochange")
        for run in range(RUNS):
            log(f"meta {files}: no-change sync, run {run + 1}/{RUNS}")
            R.add(fig("sync_nochange"), "ofsyncd", timed(ofs.cli("sync")))
        ofs.perf_stop()
    info["items_after_sync"] = ofs.status()["items"]
    info["rss_after_sync"], info["hwm_after_sync"] = ofs.rss()
    R.note(f"{files:,} files: first `ofsync sync` (fills every file) {info['first_sync_s']:.1f} s;"
           f" ofsyncd VmRSS {info['rss_after_walk'] / MiB:.0f} MiB after the first walk "
           f"({info['items_after_walk']:,} items), {info['rss_after_sync'] / MiB:.0f} MiB "
           f"(peak {info['hwm_after_sync'] / MiB:.0f} MiB) after the syncs")
    # warm: the same mount, walked once before
    for w, argv in WALKS.items():
        timed(argv(m.mnt))
        ofs.perf_start(f"{w}_warm")
        for run in range(RUNS):
            R.add(fig(f"{w}_warm"), "ofsyncd", timed(argv(m.mnt)))
        ofs.perf_stop()
    try:
        info["index_bytes"] = sum(f.stat().st_size for f in m.cache_dir.glob("index.db*"))
    except OSError:
        pass
    # just after a restart of ofsyncd, with the server stopped
    cache = m.cache_dir
    ofs.stop()
    srv.stop()
    try:
        for run in range(RUNS):
            for w, argv in WALKS.items():
                if DROP == "drop_caches":
                    drop_caches()
                m = ofs.mount(cache_dir=cache, fresh=False)
                state = ofs.status()["state"]
                if state != "offline":
                    raise BenchError(f"restarted with the server stopped, the share is {state}")
                ofs.perf_start(f"{w}_offline")
                R.add(fig(f"{w}_offline"), "ofsyncd", timed(argv(m.mnt)))
                ofs.perf_stop()
                ofs.stop()
    finally:
        srv.start()
    for w in WALKS:
        R.na(fig(f"{w}_offline"), "smbclient", "needs the server")
        R.na(fig(f"{w}_warm"), "smbclient", "no cache")
    R.na(fig("sync_nochange"), "local", "no server")
    for p in peers:
        for w in WALKS:
            R.na(fig(f"{w}_offline"), p.name,
                 "cannot (its directory cache is in memory only)" if p.name == "rclone"
                 else "cannot (no cache)")
        R.na(fig("sync_nochange"), p.name, "no sync command")

        def one(p=p):
            for run in range(RUNS):
                for w, argv in WALKS.items():
                    log(f"meta {files}: {p.name} first {w}, run {run + 1}/{RUNS}")
                    p.mount()
                    R.add(fig(f"{w}_first"), p.name, timed(argv(p.path)))
            for w, argv in WALKS.items():
                timed(argv(p.path))
                for run in range(RUNS):
                    R.add(fig(f"{w}_warm"), p.name, timed(argv(p.path)))
            p.stop()
        peer_try(p, [fig(f"{w}_{k}") for w in WALKS for k in ("first", "warm")], one)


def phase_rss(ws):
    info = R.info.setdefault("rss", {})
    if RSS_FILES <= 0:
        info["method"] = "extrapolated"
        return
    srv = ws.server(f"rss{RSS_FILES}", {"files": RSS_FILES, "dirs": RSS_DIRS},
                    lambda b: write_tree(b, RSS_FILES, RSS_DIRS, b""))
    ofs = Ofsync(ws.tmp / "rss-ofsync", srv)
    ws.cleanups.append(ofs.cleanup)
    m = ofs.mount()
    log(f"rss: indexing {RSS_FILES} items by listing them through the mount")
    info["walk_s"] = timed(["find", m.mnt])
    st = ofs.status()
    info["items"] = st["items"]
    info["rss"], info["hwm"] = ofs.rss()
    info["index_bytes"] = sum(f.stat().st_size for f in m.cache_dir.glob("index.db*"))
    info["method"] = "measured"
    R.add("rss", "ofsyncd", info["rss"])
    R.note(f"RSS measured after listing {RSS_FILES:,} files in {RSS_DIRS:,} directories through "
           f"a fresh mount (`find`, {info['walk_s']:.0f} s; {st['items']:,} items indexed): "
           f"VmRSS {info['rss'] / MiB:.0f} MiB, peak VmHWM {info['hwm'] / MiB:.0f} MiB, index "
           f"{info['index_bytes'] / MB:.0f} MB")
    ofs.stop()


def rss_extrapolate():
    """RSS at 1,000,000 items from the two metadata trees, linearly."""
    pts = []
    for tag in ("meta@growth", "meta"):
        i = R.info.get(tag)
        if i and i.get("items_after_sync") and i.get("rss_after_sync"):
            pts.append((i["items_after_sync"], max(i["rss_after_sync"], i["hwm_after_sync"])))
    # Below a few thousand items the daemon's memory is mostly its bounded
    # node cache (4,096 nodes) filling up, which does not grow further: a
    # line through two such points says nothing about 1,000,000 items.
    if pts and min(x for x, _ in pts) < 10_000:
        R.na("rss", "ofsyncd", f"not measured (trees of {min(x for x, _ in pts):,} items are "
             "too small to extrapolate from; BENCH_RSS_FILES measures it)")
    elif len(pts) == 2 and pts[1][0] != pts[0][0]:
        (x0, y0), (x1, y1) = pts
        slope = (y1 - y0) / (x1 - x0)
        est = y1 + slope * (1_000_000 - x1)
        R.info["rss"].update({"points": pts, "bytes_per_item": slope, "estimate": est})
        R.add("rss", "ofsyncd", est)
        R.note(f"RSS at 1,000,000 items extrapolated from {x0} and {x1} items "
               f"({slope:.0f} bytes/item): not measured")
    else:
        R.na("rss", "ofsyncd", "not measured (BENCH_RSS_FILES=0 and no two metadata trees)")


# ------------------------------------------------------------------- report

MB = 1e6
MiB = 1 << 20


def fmt_rate(t):
    return f"{SIZE / t / MB:.0f} MB/s"


def fmt_s(t):
    return f"{t:.2f} s" if t < 100 else f"{t:.0f} s"


def fmt_mb(b):
    return f"{b / MB:.1f} MB"


ROWS = [
    # key, title, kind (rate|time|bytes|mem|growth), limit tool, op, target, peer target
    ("read_cold", "cold sequential read, {size}", "rate", "smbclient", ">=", 0.9, None),
    ("read_cold_file", "the same, against `smbclient get` to a local file (information)",
     "rate", "smbclient", None, None, None),
    ("read_warm", "warm re-read, {size}", "rate", "local", ">=", 0.85, None),
    ("read_hit", "re-read after the page cache is dropped (cache file)", "rate", "local", ">=",
     0.5, ("rclone", 1.5)),
    ("find_warm", "`find`, {files} files in {dirs} dirs, warm", "time", "local", "<=", 2, None),
    ("lslR_warm", "`ls -lR`, {files} files, warm", "time", "local", "<=", 2, None),
    ("find_first", "`find`, first walk (from the server)", "time", "smbclient", "<=", 1.5, None),
    ("lslR_first", "`ls -lR`, first walk (from the server)", "time", "smbclient", "<=", 1.5,
     None),
    ("find_offline", "`find` just after restarting ofsyncd, server stopped", "time", "local",
     "<=", 3, None),
    ("lslR_offline", "`ls -lR` just after restarting ofsyncd, server stopped", "time", "local",
     "<=", 3, None),
    ("sync_nochange", "no-change `ofsync sync`, {files} files", "time", "smbclient", "<=", 1.5,
     None),
    ("syncout_1byte", "sync-out after changing 1 byte of {size}: bytes on loopback", "bytes",
     "1% of the file", "<=", 1, None),
    ("write_small", "{wfiles} files of {wkib} KiB written until on the server", "time",
     "smbclient", "<=", 1.5, None),
    ("rss", "daemon RSS, 1,000,000 items indexed", "mem", None, "<=", 64 * MiB, None),
    ("growth_list", "growth {small}→{files}: `ls -lR` first walk, warm", "growth", None, "in",
     (7, 13), None),
    ("growth_sync", "growth {small}→{files}: no-change sync", "growth", None, "in", (7, 13),
     None),
]

LIMIT_NAME = {"smbclient": "smbclient", "local": "local"}
LIMIT_DESC = {"read_cold": "`smbclient get`", "read_cold_file": "`smbclient get` to a file",
              "read_warm": "`cat` local, warm",
              "read_hit": "`cat` local after drop", "find_first": "smbclient `recurse; ls`",
              "lslR_first": "smbclient `recurse; ls`", "sync_nochange": "smbclient `recurse; ls`",
              "write_small": "smbclient `mput`", "syncout_1byte": "1% of the file size"}


def fmt(kind, v):
    if v is None:
        return "—"
    return {"rate": fmt_rate, "time": fmt_s, "bytes": fmt_mb,
            "mem": lambda b: f"{b / MiB:.1f} MiB", "growth": lambda r: f"{r:.1f}×"}[kind](v)


def ratio(kind, ours, other):
    """ofsyncd / other in the figure's unit."""
    if ours is None or other is None or other == 0 or ours == 0:
        return None
    return other / ours if kind == "rate" else ours / other


def meets(op, target, r):
    if r is None:
        return None
    if op == ">=":
        return r >= target
    if op == "<=":
        return r <= target
    return target[0] <= r <= target[1]


def cell(fig, tool, kind):
    v = R.get(fig, tool)
    if v is not None:
        return fmt(kind, v)
    why = R.why(fig, tool)
    return f"n/a: {why}" if why else "—"


def growth():
    small = "@growth"
    out = {}
    for key, figs in (("growth_list", ["lslR_first", "lslR_warm"]),
                      ("growth_sync", ["sync_nochange"])):
        vals = []
        for f in figs:
            a, b = R.get(f + small, "ofsyncd"), R.get(f, "ofsyncd")
            if a and b:
                vals.append((f, b / a))
        out[key] = vals
        R.info[key] = dict(vals)
    return out


def table():
    size = f"{SIZE >> 20} MiB" if SIZE != 1 << 30 else "1 GiB"
    fields = {"size": size, "files": f"{FILES:,}", "dirs": f"{DIRS:,}",
              "small": f"{FILES // 10:,}", "wfiles": f"{WRITE_FILES:,}", "wkib": WRITE_KIB}
    peer_cols = [p for p in ("rclone", "smbnetfs")
                 if p in PEERS or any(p in tools for tools in R.fig.values())]
    head = ["figure", "ofsyncd", "limit", "limit value", "ofsyncd / limit", "target", "result"]
    for p in peer_cols:
        head += [p, f"ofsyncd / {p}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    verdicts = {}
    gr = growth()
    for key, title, kind, limit, op, target, peer_target in ROWS:
        title = title.format(**fields)
        ours = R.get(key, "ofsyncd")
        if kind == "growth":
            vals = gr[key]
            if not vals:
                continue
            txt = ", ".join(f"{v:.1f}×" for _, v in vals)
            ok = all(meets(op, target, v) for _, v in vals)
            row = [title, txt, "—", "—", "—", "10 ± 30%", "pass" if ok else "**miss**"]
            row += ["n/a: not measured at two sizes", "—"] * len(peer_cols)
            verdicts[key] = ok
            lines.append("| " + " | ".join(row) + " |")
            continue
        if key not in R.fig:
            continue
        if kind == "mem":
            r, lim_v, lim_n = ours, "—", "—"
            tgt = f"≤ {target / MiB:.0f} MiB"
            ok = meets(op, target, ours)
            rtxt = "—"
            if R.info.get("rss", {}).get("method") == "extrapolated" and ours is not None:
                title += " (extrapolated)"
        else:
            if key == "syncout_1byte":
                lim = SIZE / 100
                lim_n = "1% of the file size"
            elif key.endswith("_offline"):
                lim_fig = key.replace("_offline", "_cold")
                if R.get(lim_fig, "local") is None:
                    lim_fig = key.replace("_offline", "_warm")
                lim = R.get(lim_fig, "local")
                lim_n = ("`" + key.split("_")[0].replace("lslR", "ls -lR") + "` local, " +
                         lim_fig.split("_")[1])
            else:
                lim = R.get(key, limit)
                lim_n = LIMIT_DESC.get(key, limit)
                if limit == "local" and key.endswith("_warm") and not key.startswith("read"):
                    lim_n = "`" + key.split("_")[0].replace("lslR", "ls -lR") + "` local, warm"
            lim_v = fmt(kind, lim)
            r = ratio(kind if key != "syncout_1byte" else "bytes", ours, lim)
            rtxt = f"{r:.2f}×" if r is not None else "—"
            tgt = f"{'≥' if op == '>=' else '≤'} {target}×" if op else "—"
            ok = meets(op, target, r) if op else None
            if peer_target:
                pr = ratio(kind, ours, R.get(key, peer_target[0]))
                tgt += f", ≥ {peer_target[1]}× {peer_target[0]}"
                pok = meets(">=", peer_target[1], pr)
                ok = None if ok is None else (ok and pok if pok is not None else ok)
                if pok is None:
                    tgt += f" ({peer_target[0]} not measured)"
        verdicts[key] = ok
        row = [title, cell(key, "ofsyncd", kind), lim_n, lim_v, rtxt, tgt,
               "—" if ok is None else ("pass" if ok else "**miss**")]
        for p in peer_cols:
            pv = R.get(key, p)
            pr = ratio(kind, ours, pv)
            row += [cell(key, p, kind), f"{pr:.2f}×" if pr is not None else "—"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines), verdicts


def merge(old):
    """Takes the figures of an earlier run that this one did not measure."""
    kept = []
    for fig, tools in old.get("figures", {}).items():
        for tool, e in tools.items():
            cur = R.fig.get(fig, {}).get(tool)
            if cur is None or ("median" not in cur and "median" in e):
                R.fig.setdefault(fig, {})[tool] = e
                kept.append(f"{fig}/{tool}")
    for k, v in old.get("info", {}).items():
        R.info.setdefault(k, v)
    now = PHASES + (["growth"] if "meta" in PHASES else [])
    for n in old.get("notes", []):
        n = n.removeprefix("(earlier run) ")
        if n.startswith(("load average", "fewer runs than")) or "(BENCH_MERGE)" in n or any(
                n.startswith(f"phase {p} ") for p in now):
            continue
        if n not in R.notes and "(earlier run) " + n not in R.notes:
            R.notes.append("(earlier run) " + n)
    R.info["merged_from_earlier_run"] = kept
    if kept:
        R.note(f"{len(kept)} figure/tool results come from the earlier run in {OUT.name} "
               "(BENCH_MERGE)")


def versions():
    v = {"kernel": platform.release(), "cpus": os.cpu_count(),
         "loadavg_start": LOAD0, "loadavg_end": os.getloadavg()}
    for name, argv in (("smbclient", [harness.SMBCLIENT, "--version"]),
                       ("rclone", ["rclone", "version"]), ("smbnetfs", ["smbnetfs", "-V"])):
        if installed(argv[0]):
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            v[name] = (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) \
                else "?"
    r = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    v["commit"] = r.stdout.strip()
    r = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src", "tools"],
                       capture_output=True, text=True)
    v["worktree_dirty"] = bool(r.stdout.strip())
    return v


LOAD0 = os.getloadavg()


def note_page_reporting():
    """Notes a virtual machine that gives freed memory back to its host
    (free page reporting): there every page the page cache takes after
    drop_caches is faulted in anew by the host, which weighs on whoever
    allocates page cache (a cached read: the cache file and the mount's
    pages; `smbclient get` to /dev/null: none)."""
    d = Path("/sys/module/page_reporting/parameters")
    if not d.is_dir():
        return
    params = {}
    for f in ("page_reporting_order", "min_free_ms", "reported_kib"):
        try:
            params[f] = (d / f).read_text().strip()
        except OSError:
            pass
    R.info["page_reporting"] = params
    R.note("this machine is a VM that reports freed memory to its host (free page reporting, "
           + ", ".join(f"{k}={v}" for k, v in params.items()) + "): memory freed by "
           "drop_caches goes back to the host, and each page allocated after it is faulted "
           "in again, so cold figures that fill the page cache (a cached read fills the mount's "
           "pages, and the cache file's, which ofsyncd drops behind a sequential reader and "
           "the next fills reuse) pay for it; `smbclient get` to a local file is the "
           "comparable that pays it too; every drop waits until the freed memory is reported "
           "(see settle_reporting), so that every tool starts from the same state")


def main():
    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    if not OFSYNCD.exists() or not OFSYNC.exists():
        raise SystemExit(f"no {OFSYNCD} / {OFSYNC}: run make first")
    t0 = time.monotonic()
    drop_caches()  # finds out whether the page cache can be dropped here
    note_page_reporting()
    if NOFILE:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, max(hard, NOFILE)))
        except (ValueError, OSError):
            NOFILE_SET = min(NOFILE, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE_SET, hard))
            R.note(f"open-file limit: {NOFILE} asked (BENCH_NOFILE), the hard limit {hard} "
                   "cannot be raised here")
        else:
            R.note(f"open-file limit of the daemons raised from {soft} to {NOFILE} "
                   "(BENCH_NOFILE)")
    ws = Workspace()
    errors = {}
    try:
        phases = [("read", phase_read), ("syncout", phase_syncout), ("write", phase_write)]
        if "meta" in PHASES:
            if GROWTH:
                phases.append(("growth", lambda w: phase_meta(w, FILES // 10, max(1, DIRS // 10),
                                                              "growth", False)))
            phases.append(("meta", lambda w: phase_meta(w, FILES, DIRS, None, True)))
        phases.append(("rss", phase_rss))
        for name, fn in phases:
            if name not in PHASES and not (name == "growth" and "meta" in PHASES):
                continue
            log(f"phase {name}")
            t = time.monotonic()
            try:
                fn(ws)
            except (Exception, subprocess.TimeoutExpired) as e:  # noqa: BLE001
                errors[name] = f"{type(e).__name__}: {e}"
                log(f"phase {name} failed: {errors[name]}")
                for fn2 in reversed(ws.cleanups):
                    try:
                        fn2()
                    except Exception:  # noqa: BLE001
                        pass
                for srv in ws.servers:
                    if srv.popen is None:
                        try:
                            srv.start()
                        except Exception:  # noqa: BLE001
                            pass
            R.info.setdefault("phase_seconds", {})[name] = round(time.monotonic() - t, 1)
        if "rss" in PHASES and R.info.get("rss", {}).get("method") == "extrapolated":
            rss_extrapolate()
    finally:
        ws.close()
    if MERGE and OUT.exists():
        merge(json.loads(OUT.read_text()))
    tab, verdicts = table()
    total = time.monotonic() - t0
    sizes = (f"{SIZE >> 20} MiB file, {FILES:,} files in {DIRS:,} dirs "
             f"(growth: {FILES // 10:,}), {WRITE_FILES:,} × {WRITE_KIB} KiB writes, "
             f"median of {RUNS} run{'s' if RUNS > 1 else ''}")
    print(f"\n## ofsync benchmark ({sizes})\n")
    print(tab)
    print()
    notes = list(R.notes)
    if errors:
        notes += [f"phase {k} did not finish: {v.strip().splitlines()[0][:300]}"
                  for k, v in errors.items()]
    short = [f"{f}/{t} ({len(e['runs'])})" for f, ts in R.fig.items() for t, e in ts.items()
             if e.get("runs") and len(e["runs"]) < RUNS]
    if short:
        notes.append("fewer runs than BENCH_RUNS for: " + ", ".join(short))
    load = os.getloadavg()
    notes.append(f"load average at start {LOAD0[0]:.1f}, at end {load[0]:.1f} on "
                 f"{os.cpu_count()} CPUs; total {total:.0f} s")
    for n in notes:
        print(f"- {n}")
    OUT.write_text(json.dumps({
        "sizes": {"file_bytes": SIZE, "files": FILES, "dirs": DIRS, "write_files": WRITE_FILES,
                  "write_kib": WRITE_KIB, "rss_files": RSS_FILES, "runs": RUNS, "quick": QUICK},
        "figures": R.fig, "info": R.info, "verdicts": verdicts, "notes": notes,
        "errors": errors, "peers": PEER_OK, "page_cache": DROP, "env": versions(),
        "table": tab, "seconds": round(total, 1)}, indent=1, default=str) + "\n")
    if errors:
        print("a phase did not finish (see above): exit 1", file=sys.stderr)
    print(f"\nraw results: {OUT}")
    return 1 if errors else 0  # a phase that broke, never a figure


if __name__ == "__main__":
    sys.exit(main())

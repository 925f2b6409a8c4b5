#!/usr/bin/env python3
"""Sync benchmark: a no-change `ofsync sync` of a share of many small files,
against one recursive listing of the same share by smbclient (`recurse; ls`),
the enumeration limit.  Also the first sync (which brings every item in) and
a sync-in after 1% of the files changed on the server.

Sizes: BENCH_SYNC_FILES (default 100000) files in BENCH_SYNC_DIRS (default
1000) directories; `make bench-quick` uses 10000 in 100.  Median of
BENCH_RUNS (default 3).  Writes bench/results-sync.json (BENCH_SYNC_OUT
names another file).  A measurement, no assertion.

For iterating on the code: BENCH_SYNC_KEEP=DIR keeps the server's tree, the
port and the cache in DIR, so that a later run with the same DIR (and size)
skips building the tree and the first sync (first_sync is then the one
measured when DIR was made).  BENCH_SYNC_PERF=FILE records the daemon with
`perf record -g` during the no-change syncs.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import harness  # noqa: E402

FILES = int(os.environ.get("BENCH_SYNC_FILES", "100000"))
DIRS = int(os.environ.get("BENCH_SYNC_DIRS", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
KEEP = os.environ.get("BENCH_SYNC_KEEP")
PERF = os.environ.get("BENCH_SYNC_PERF")
OUT = Path(os.environ.get("BENCH_SYNC_OUT") or HERE / "results-sync.json")


def timed(argv, timeout=3600):
    t = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"{argv[:4]}... failed ({r.returncode}): {r.stderr.decode()[-500:]}")
    return time.monotonic() - t


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (from /proc)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def smbd_cpu(srv):
    return sum(cpu_seconds(p.pid) for p in srv.children()) + cpu_seconds(srv.pid)


def main():
    if KEEP:
        tmp = Path(KEEP)
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="ofsync-bench-sync-"))
    state = tmp / "state.json"
    kept = json.loads(state.read_text()) if KEEP and state.exists() else None
    if kept and (kept["files"], kept["dirs"]) != (FILES, DIRS):
        raise SystemExit(f"{tmp} holds {kept['files']} files in {kept['dirs']} dirs")
    srv = daemons = None
    try:
        srv = harness.SmbServer(tmp / "smb", port=kept["port"] if kept else None).start()
        per = FILES // DIRS
        if not kept:
            for d in range(DIRS):
                dd = srv.backing / f"d{d:04d}"
                dd.mkdir()
                for f in range(per):
                    (dd / f"f{f:04d}.txt").write_bytes(b"x")
        (tmp / "d").mkdir(exist_ok=True)
        daemons = harness.DaemonFactory(tmp / "d")
        sock = tmp / "d" / "ofsync.sock"
        if sock.exists():
            sock.unlink()
        m = daemons.mount(srv, attr_timeout=60)
        ofsync = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket)]
        if kept:
            first = kept["first_sync"]
        else:
            first = timed(ofsync + ["sync", "--in"])
            if KEEP:
                state.write_text(json.dumps({"files": FILES, "dirs": DIRS, "port": srv.port,
                                             "first_sync": first}))
        listing = [timed([harness.SMBCLIENT, "-N", "-p", str(srv.port), "//127.0.0.1/share",
                          "-c", "recurse; ls"]) for _ in range(RUNS)]
        perf = None
        if PERF:
            perf = subprocess.Popen(["perf", "record", "-g", "-o", PERF, "-p", str(m.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        d0, s0 = cpu_seconds(m.pid), smbd_cpu(srv)
        nochange = [timed(ofsync + ["sync"]) for _ in range(RUNS)]
        cpu = {"daemon_cpu_per_nochange": (cpu_seconds(m.pid) - d0) / RUNS,
               "smbd_cpu_per_nochange": (smbd_cpu(srv) - s0) / RUNS}
        if perf:
            perf.send_signal(2)
            perf.wait(timeout=120)
        changed = []
        base = time.time()
        for run in range(RUNS):
            t = base + 10 + run
            for i in range(0, FILES, 100):  # 1%
                p = srv.backing / f"d{(i // per):04d}" / f"f{(i % per):04d}.txt"
                p.write_bytes(b"changed %d" % run)
                os.utime(p, (t, t))
            changed.append(timed(ofsync + ["sync", "--in"]))
        med = {"first_sync": first, "smbclient_recurse_ls": statistics.median(listing),
               "nochange_sync": statistics.median(nochange),
               "syncin_1pct": statistics.median(changed)}
        lim = med["smbclient_recurse_ls"]
        ratios = {k: med[k] / lim for k in ("nochange_sync", "syncin_1pct", "first_sync")}
        print(f"\n{FILES} files in {DIRS} directories, median of {RUNS} runs\n")
        print("| figure | ofsync | limit (smbclient recurse; ls) | ratio (ours / limit) |")
        print("|---|---|---|---|")
        for k, name in (("nochange_sync", "no-change sync"), ("syncin_1pct", "sync-in, 1% changed"),
                        ("first_sync", "first sync (all items in)")):
            print(f"| {name} | {med[k]:.2f} s | {lim:.2f} s | {ratios[k]:.2f} |")
        print(f"\nno-change sync CPU: ofsyncd {cpu['daemon_cpu_per_nochange']:.2f} s, "
              f"smbd {cpu['smbd_cpu_per_nochange']:.2f} s per sync")
        OUT.write_text(json.dumps(
            {"files": FILES, "dirs": DIRS, "runs": RUNS, "listing": listing,
             "nochange": nochange, "changed": changed, "median": med, "ratio": ratios,
             "cpu": cpu, "first_sync_reused": bool(kept)}, indent=2) + "\n")
    finally:
        if daemons:
            daemons.cleanup()
        if srv:
            srv.stop()
        if not KEEP:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

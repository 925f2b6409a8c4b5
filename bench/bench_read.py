#!/usr/bin/env python3
"""Read benchmark: ofsyncd against its limits, on a private loopback smbd.

  cold   sequential read of a fresh file through the mount (empty cache)
         vs `smbclient get` of the same file from the same server, to
         /dev/null (the protocol limit) and to a local file (the protocol
         plus the local write a cache must do)
  warm   re-read through the mount (kernel page cache)
         vs `cat` of the local backing file, warm
  hit    re-read after dropping the page cache (served from the cache file)
         vs `cat` of the local backing file after dropping the page cache

Each figure is the median of RUNS runs.  Prints a Markdown table and writes
the raw times to bench/results-read.json.  Page caches are dropped where the
machine allows it (root).  Sizes: BENCH_SIZE_MIB (default 1024; `make
bench-quick` uses 64).  No assertion on speed: this is a measurement.
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

SIZE = int(os.environ.get("BENCH_SIZE_MIB", "1024")) << 20
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CAN_DROP = os.geteuid() == 0


def drop_caches():
    if CAN_DROP:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def timed(argv):
    t = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=600)
    return time.monotonic() - t


def main():
    tmp = Path(tempfile.mkdtemp(prefix="ofsync-bench-"))
    srv = daemons = None
    results = {}
    try:
        srv = harness.SmbServer(tmp / "smb").start()
        big = srv.backing / "big.bin"
        with open(big, "wb") as f:  # deterministic, incompressible
            seed = harness.make_bytes(1 << 20, 7)
            for i in range(SIZE >> 20):
                f.write(seed[i % 251:] + seed[:i % 251])
        local = ["cat", str(big)]
        client = [harness.SMBCLIENT, "-N", "-p", str(srv.port), "//127.0.0.1/share",
                  "-c", "get big.bin /dev/null"]
        client_file = [harness.SMBCLIENT, "-N", "-p", str(srv.port), "//127.0.0.1/share",
                       "-c", f"get big.bin {tmp}/got.bin"]
        daemons = harness.DaemonFactory(tmp / "d")
        (tmp / "d").mkdir()
        fig = {k: [] for k in ("smbclient", "smbclient_file", "cold", "warm", "local_warm", "hit", "local_drop")}
        for run in range(RUNS):
            drop_caches()
            fig["smbclient"].append(timed(client))
            drop_caches()
            fig["smbclient_file"].append(timed(client_file))
            os.unlink(tmp / "got.bin")
            m = daemons.mount(srv)
            path = str(m.mnt / "big.bin")
            drop_caches()
            fig["cold"].append(timed(["cat", path]))
            fig["warm"].append(timed(["cat", path]))
            timed(local)
            fig["local_warm"].append(timed(local))
            drop_caches()
            fig["hit"].append(timed(["cat", path]))
            drop_caches()
            fig["local_drop"].append(timed(local))
            m.stop()
            shutil.rmtree(m.cache_dir)
        med = {k: statistics.median(v) for k, v in fig.items()}
        mib = SIZE / (1 << 20)
        rows = [("cold sequential read", "cold", "smbclient get > /dev/null", "smbclient"),
                ("cold sequential read", "cold", "smbclient get > local file", "smbclient_file"),
                ("warm re-read", "warm", "cat local (warm)", "local_warm"),
                ("re-read, page cache dropped", "hit", "cat local (dropped)", "local_drop")]
        print(f"\n{mib:.0f} MiB file, median of {RUNS} runs"
              f"{'' if CAN_DROP else ' (page cache NOT dropped: not root)'}\n")
        print("| figure | ofsync | MB/s | limit | limit time | ratio (limit time / ours) |")
        print("|---|---|---|---|---|---|")
        for name, k, lname, lk in rows:
            print(f"| {name} | {med[k]:.2f} s | {SIZE / med[k] / 1e6:.0f} | {lname} | "
                  f"{med[lk]:.2f} s | {med[lk] / med[k]:.2f} |")
        results = {"size": SIZE, "runs": fig, "median": med}
        (HERE / "results-read.json").write_text(json.dumps(results, indent=2) + "\n")
    finally:
        if daemons:
            daemons.cleanup()
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""`make install DESTDIR=...` installs every file the issue lists, the
installed commands run, the installed library builds the ofsync(3) example
through pkg-config, and `make uninstall` takes it all away.  Also: every man
page is clean under `mandoc -Tlint`."""

import os
import subprocess
from pathlib import Path

import harness

REPO = Path(__file__).resolve().parents[2]

EXPECTED = [
    "usr/bin/ofsync",
    "usr/sbin/ofsyncd",
    "usr/include/ofsync.h",
    "usr/lib/libofsync.a",
    "usr/lib/libofsync.so",
    "usr/lib/libofsync.so.0",
    "usr/lib/pkgconfig/ofsync.pc",
    "usr/lib/systemd/system/ofsyncd.service",
    "usr/lib/systemd/system/ofsync-sync.service",
    "usr/lib/systemd/system/ofsync-sync.timer",
    "usr/lib/systemd/user/ofsyncd.service",
    "usr/lib/systemd/user/ofsync-sync.service",
    "usr/lib/systemd/user/ofsync-sync.timer",
    "usr/share/man/man1/ofsync.1",
    "usr/share/man/man3/ofsync.3",
    "usr/share/man/man5/ofsync.conf.5",
    "usr/share/man/man8/ofsyncd.8",
    "usr/share/doc/ofsync/ofsync.conf.example",
    "usr/share/bash-completion/completions/ofsync",
]


def make(*args):
    r = subprocess.run(["make", "-s", f"BUILD={harness.build_dir()}", *args], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (args, r.stdout, r.stderr)


def test_install_and_uninstall(tmp_path):
    dest = tmp_path / "root"
    make("install", f"DESTDIR={dest}", "PREFIX=/usr")
    for f in EXPECTED:
        assert (dest / f).exists(), f
    units = (dest / "usr/lib/systemd/system/ofsyncd.service").read_text()
    assert "ExecStart=/usr/sbin/ofsyncd" in units and "@SBINDIR@" not in units
    env = harness.sanitizer_env()
    r = subprocess.run([str(dest / "usr/bin/ofsync"), "--help"], capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 0 and "usage: ofsync" in r.stdout, r
    r = subprocess.run([str(dest / "usr/sbin/ofsyncd"), "--version"], capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 0 and "ofsyncd" in r.stdout, r
    # The installed library, found through its pkg-config file, builds the example.
    pc_env = dict(env, PKG_CONFIG_PATH=str(dest / "usr/lib/pkgconfig"),
                  PKG_CONFIG_SYSROOT_DIR=str(dest))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "ofsync"], capture_output=True,
                           text=True, env=pc_env, check=True).stdout.split()
    assert f"-I{dest}/usr/include" in flags and "-lofsync" in flags, flags
    san = ["-fsanitize=address,undefined"] if harness.build_dir().name == "build-san" else []
    exe = tmp_path / "sync_conflicts"
    subprocess.run(["cc", *san, str(REPO / "examples" / "sync_conflicts.c"), "-o", str(exe),
                    *flags, f"-Wl,-rpath,{dest}/usr/lib"], check=True, env=pc_env, timeout=120)
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 2 and "one SHARE or PATH" in r.stderr, r
    make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    left = [str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir()]
    assert left == [], left


def test_man_pages_lint_clean():
    pages = sorted((REPO / "man").glob("*.[0-9]"))
    assert {p.name for p in pages} >= {"ofsync.1", "ofsync.3", "ofsync.conf.5", "ofsyncd.8"}
    for p in pages:
        r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", str(p)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and not r.stdout.strip(), (p.name, r.stdout, r.stderr)

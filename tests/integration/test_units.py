"""The systemd units (etc/systemd) and the bash completion (etc/bash-completion).

The units are templates: `make install` replaces @SBINDIR@ and @BINDIR@ with
sed.  Here the same sed puts the paths of the built binaries in, and
`systemd-analyze verify` checks every unit: the system ones as the system
manager loads them, the user ones with --user.  No running systemd is
needed: verify loads the units into a manager of its own, as any user.

A unit passes when verify exits 0 and prints no line about our units.  It
exits non-zero when a unit cannot be loaded (no ExecStart=, a command that is
not there) and, with --recursive-errors=no, when our units draw a warning (an
unknown key, a value it cannot parse); it does not exit non-zero, and we do
not fail, for warnings about other units of the machine.
test_verify_catches_a_broken_unit checks that the check is not blind.

The completion is run in a bash of its own, as bash calls it on <Tab>.
"""

import os
import re
import shutil
import subprocess

import pytest

import harness

UNIT_DIR = harness.REPO / "etc" / "systemd"
COMPLETION = harness.REPO / "etc" / "bash-completion" / "ofsync"
MAN1 = harness.REPO / "man" / "ofsync.1"

INSTANCES = ("system", "user")
UNITS = ("ofsyncd.service", "ofsync-sync.service", "ofsync-sync.timer")


def _missing(why):
    """Skips on a developer's machine; fails under CI (as conftest.py does)."""
    if os.environ.get("CI"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def _systemd_analyze():
    exe = shutil.which("systemd-analyze")
    if exe is None:
        _missing("systemd-analyze missing: run scripts/deps.sh (Debian package systemd)")
    return exe


def _built():
    """The directory of the built ofsyncd and ofsync (absolute, as units want)."""
    b = harness.build_dir().resolve()
    for exe in ("ofsyncd", "ofsync"):
        if not os.access(b / exe, os.X_OK):
            pytest.fail(f"{b / exe} not built: run `make` (or set OFSYNC_BUILD)")
    return b


# ------------------------------------------------------------- unit files


def render(instance, dest, sbindir, bindir):
    """The units of instance, with the placeholders replaced, into dest.

    The same substitution as the Makefile's install rule, with the build
    directory for $(PREFIX)/sbin and $(PREFIX)/bin."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in UNITS:
        src = UNIT_DIR / instance / f"{name}.in"
        with open(dest / name, "w") as out:
            subprocess.run(["sed", "-e", f"s|@SBINDIR@|{sbindir}|g",
                            "-e", f"s|@BINDIR@|{bindir}|g", str(src)],
                           stdout=out, check=True, timeout=30)
    return [dest / name for name in UNITS]


def parse(path):
    """A unit file as {section: [(key, value), ...]}, comments left out."""
    sections, cur = {}, None
    for n, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        assert not s.endswith("\\"), f"{path}:{n}: no continuation lines, please"
        if s.startswith("[") and s.endswith("]"):
            cur = sections.setdefault(s[1:-1], [])
            continue
        assert cur is not None and "=" in s, f"{path}:{n}: not a key=value in a section: {s}"
        key, value = s.split("=", 1)
        cur.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def value(unit, section, key):
    vs = values(unit, section, key)
    assert len(vs) == 1, f"[{section}] {key}= given {len(vs)} times: {vs}"
    return vs[0]


def _verify_options(exe):
    """verify's options that this systemd-analyze has (all of them since 251)."""
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    opts = ["--man=no", "--generators=no"]
    if "--recursive-errors" in r.stdout:
        opts.append("--recursive-errors=no")
    return opts


def verify(instance, files, tmp):
    """Runs systemd-analyze verify on files; returns (exit status, output, problems).

    problems: the lines of the output about our units.  The environment is
    set so that no setting of the caller's hides a warning (a log level, a
    log target) or makes one up (the caller's own units)."""
    exe = _systemd_analyze()
    home = tmp / "home"
    runtime = tmp / "runtime"
    home.mkdir(exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "LANG": "C.UTF-8",
        "SYSTEMD_LOG_LEVEL": "info",
        "SYSTEMD_LOG_TARGET": "console",
        "SYSTEMD_LOG_COLOR": "0",
        "SYSTEMD_PAGER": "",
    }
    cmd = [exe] + (["--user"] if instance == "user" else []) + ["verify"]
    cmd += _verify_options(exe) + [str(f) for f in files]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env,
                       stdin=subprocess.DEVNULL)
    out = r.stdout + r.stderr
    problems = [ln for ln in out.splitlines() if any(f.name in ln for f in files)]
    return r.returncode, f"$ {' '.join(cmd)}\n{out}", problems


def test_every_template_is_there():
    for instance in INSTANCES:
        found = sorted(p.name for p in (UNIT_DIR / instance).iterdir())
        assert found == sorted(f"{u}.in" for u in UNITS), (instance, found)


@pytest.mark.parametrize("instance", INSTANCES)
def test_units_pass_systemd_analyze_verify(instance, tmp_path):
    b = _built()
    files = render(instance, tmp_path / instance, b, b)
    for f in files:
        left = re.findall(r"@[A-Z_]+@", f.read_text())
        assert not left, f"{f.name}: placeholders the Makefile does not replace: {left}"
    rc, out, problems = verify(instance, files, tmp_path)
    assert rc == 0 and not problems, out


# Ways to break a unit, each of which verify must report: (unit, old, new).
BREAKAGES = {
    "unknown key": ("ofsyncd.service", "[Service]\n", "[Service]\nFrobnicate=yes\n"),
    "bad value": ("ofsyncd.service", "\nKillMode=mixed\n", "\nKillMode=gently\n"),
    "missing command": ("ofsync-sync.service", "/ofsync --socket", "/no-such-ofsync --socket"),
    "bad timer value": ("ofsync-sync.timer", "\nOnUnitActiveSec=120min\n",
                        "\nOnUnitActiveSec=every two hours\n"),
}


@pytest.mark.parametrize("instance", INSTANCES)
@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_verify_catches_a_broken_unit(instance, breakage, tmp_path):
    """The check of test_units_pass_systemd_analyze_verify fails on a broken unit."""
    b = _built()
    files = render(instance, tmp_path / instance, b, b)
    name, old, new = BREAKAGES[breakage]
    f = tmp_path / instance / name
    text = f.read_text()
    assert old in text, f"{name} changed: update BREAKAGES ({old!r} is gone)"
    f.write_text(text.replace(old, new, 1))
    rc, out, problems = verify(instance, files, tmp_path)
    assert problems, f"verify saw nothing wrong with {name} ({breakage}):\n{out}"
    assert any(name in ln for ln in problems), out


# Settings that give a service a mount namespace of its own: a FUSE mount made
# in it is seen by nobody else (see the daemon units' comments).
NAMESPACE_SETTINGS = {
    "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts",
    "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths",
    "TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths", "ProtectKernelTunables",
    "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectProc",
    "ProcSubset", "RootDirectory", "RootImage", "MountAPIVFS", "PrivateUsers",
    "PrivateNetwork", "DynamicUser", "MountFlags",
}
# Settings that imply NoNewPrivileges=yes in a user manager, where it would
# stop the setuid fusermount3 from mounting.
NNP_SETTINGS = {
    "NoNewPrivileges", "SystemCallFilter", "SystemCallArchitectures",
    "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime",
    "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute", "ProtectClock",
    "ProtectHostname", "CapabilityBoundingSet",
}


@pytest.mark.parametrize("instance", INSTANCES)
def test_daemon_unit(instance):
    u = parse(UNIT_DIR / instance / "ofsyncd.service.in")
    assert value(u, "Service", "Type") == "notify"
    assert value(u, "Service", "ExecStart") == "@SBINDIR@/ofsyncd -f"
    stop = value(u, "Service", "ExecStop")
    # The drain first, bounded; a share offline must not fail the stop.
    assert stop.startswith("-@BINDIR@/ofsync ") and stop.endswith(" flush --wait"), stop
    assert values(u, "Service", "TimeoutStopSec"), "the drain needs a bound"
    assert value(u, "Service", "KillMode") == "mixed"
    keys = {k for k, _ in u["Service"]}
    assert not keys & NAMESPACE_SETTINGS, (
        f"{sorted(keys & NAMESPACE_SETTINGS)}: a private mount namespace hides the FUSE mounts")
    if instance == "user":
        assert not keys & NNP_SETTINGS, (
            f"{sorted(keys & NNP_SETTINGS)}: in a user manager these imply NoNewPrivileges=yes, "
            "and the setuid fusermount3 can no longer mount")
        assert value(u, "Install", "WantedBy") == "default.target"
    else:
        assert value(u, "Service", "NoNewPrivileges") == "yes"
        assert "@mount" in value(u, "Service", "SystemCallFilter").split()
        assert "/dev/fuse rw" in values(u, "Service", "DeviceAllow")
        assert "CAP_SYS_ADMIN" in value(u, "Service", "CapabilityBoundingSet").split()
        assert value(u, "Install", "WantedBy") == "multi-user.target"


@pytest.mark.parametrize("instance", INSTANCES)
def test_sync_service(instance):
    u = parse(UNIT_DIR / instance / "ofsync-sync.service.in")
    assert value(u, "Service", "Type") == "oneshot"
    start = value(u, "Service", "ExecStart")
    assert start.startswith("@BINDIR@/ofsync ") and start.endswith(
        " sync --background --skip-suspended"), start
    assert "--interactive" not in start
    # Conflicts left (5) are the user's to resolve, not a failed sync.
    assert "5" in value(u, "Service", "SuccessExitStatus").split()
    assert value(u, "Unit", "After") == "ofsyncd.service"
    assert not values(u, "Unit", "Requires") and not values(u, "Unit", "Wants"), (
        "a background sync must not start the daemon")


@pytest.mark.parametrize("instance", INSTANCES)
def test_sync_timer(instance):
    u = parse(UNIT_DIR / instance / "ofsync-sync.timer.in")
    assert value(u, "Timer", "OnUnitActiveSec") == "120min"
    # OnUnitActiveSec= alone never elapses before a first start of the service.
    assert values(u, "Timer", "OnActiveSec")
    assert values(u, "Timer", "RandomizedDelaySec")
    assert value(u, "Timer", "Persistent") == "true"
    assert not values(u, "Timer", "Unit"), "the timer starts ofsync-sync.service by its name"
    assert value(u, "Install", "WantedBy") == "timers.target"


# ------------------------------------------------------------- completion


def complete(*words, cwd=None):
    """What the completion offers for the command line words (the last one
    being completed); words split as bash splits them ("--for", "=", "us")."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _ofsync; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", str(COMPLETION),
                        *map(str, words)],
                       capture_output=True, text=True, timeout=30, cwd=cwd,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return [ln for ln in r.stdout.splitlines() if ln]


def man_synopsis():
    """{command: {option, ...}} from the SYNOPSIS of ofsync(1), and the global
    options; an option that takes "=value" keeps its '='."""
    text = MAN1.read_text()
    syn = text[text.index(".Sh SYNOPSIS"):text.index(".Sh DESCRIPTION")]
    blocks = [b for b in syn.split("\n.Nm\n") if ".Cm " in b]
    commands, blocks_opts = {}, []
    for b in blocks:
        cmds, opts = [], set()
        for line in b.splitlines():
            if line.startswith(".Cm "):
                cmds += [w for w in line[4:].split() if w != "|"]
            for m in re.finditer(r"\bFl (.*)", line):
                toks = m.group(1).split()
                for i, t in enumerate(toks):
                    if re.fullmatch(r"-[-a-z]+", t):
                        eq = toks[i + 1:i + 3] == ["Ns", "="]
                        opts.add(("-" + t if not t.startswith("--") else t) + ("=" if eq else ""))
                    elif t not in ("|",):
                        break
        blocks_opts.append(opts)
        for c in cmds:
            commands.setdefault(c, set()).update(opts)
    globals_ = set.intersection(*blocks_opts)
    return {c: o - globals_ for c, o in commands.items()}, globals_


def test_completion_knows_the_man_page():
    """Every command of ofsync(1), and every option of each, is offered."""
    commands, globals_ = man_synopsis()
    assert {"status", "sync", "resolve", "pin", "suspend"} <= set(commands), commands
    assert globals_ == {"--json", "--socket"}, globals_
    assert set(commands) <= set(complete("ofsync", ""))
    assert globals_ <= set(complete("ofsync", "--"))
    for cmd, opts in commands.items():
        offered = set(complete("ofsync", cmd, "--"))
        assert opts <= offered, f"ofsync {cmd}: not offered: {sorted(opts - offered)}"


def cli_usage():
    """{command: {option, ...}} from `ofsync --help`, options with '=' kept."""
    r = subprocess.run([str(_built() / "ofsync"), "--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    text = r.stdout.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    commands, cur = {}, []
    for line in text.splitlines():
        m = re.match(r"  ([a-z]+(?: / [a-z]+)*)(.*)", line)
        if m:
            cur = m.group(1).split(" / ")
            synopsis = m.group(2)
        elif line.startswith("       ["):
            synopsis = line
        else:
            continue  # the description
        for c in cur:
            commands.setdefault(c, set()).update(re.findall(r"--[a-z][a-z-]*=?", synopsis))
    return commands


def test_completion_knows_the_cli():
    """Every command of `ofsync --help`, and every option of each, is offered:
    a command or option added to the CLI needs a line in etc/bash-completion/ofsync."""
    commands = cli_usage()
    assert {"status", "sync", "flush", "pin", "unpin"} <= set(commands), commands
    offered = set(complete("ofsync", ""))
    assert set(commands) <= offered, f"commands not offered: {sorted(set(commands) - offered)}"
    for cmd, opts in commands.items():
        offered = set(complete("ofsync", cmd, "--"))
        assert opts <= offered, f"ofsync {cmd}: not offered: {sorted(opts - offered)}"


def test_completion_of_commands_and_options():
    assert complete("ofsync", "su") == ["suspend"]
    assert complete("ofsync", "--json", "--socket", "/run/x.sock", "fl") == ["flush"]
    assert complete("ofsync", "--socket", "=", "/run/x.sock", "st") == ["status"]
    assert complete("ofsync", "flush", "--") == ["--wait"]
    assert complete("ofsync", "events", "--") == ["--sync-id="]
    assert complete("ofsync", "cancel", "") == []
    sync = complete("ofsync", "sync", "--")
    for o in ("--in", "--out", "--fill-sparse", "--keep-latest", "--interactive",
              "--pin-new", "--pin-link-targets", "--pin-for=", "--background",
              "--low-priority", "--skip-suspended", "--no-new-files-out", "--sync-id=",
              "--async", "--dry-run"):
        assert o in sync, (o, sync)
    # Given options are not offered again; one conflict rule at most.
    again = complete("ofsync", "sync", "--in", "--keep-local", "--")
    assert "--in" not in again and not [o for o in again if o.startswith("--keep-")]
    assert "--out" in again
    assert complete("ofsync", "resolve", "f", "--") == [
        "--keep-local", "--keep-remote", "--keep-both", "--keep-latest"]
    assert complete("ofsync", "resolve", "f", "--keep-both", "--") == []
    assert complete("ofsync", "pin", "f", "--r") == ["--recursive"]
    assert complete("ofsync", "limits", "--") == ["--total", "--auto"]
    assert complete("ofsync", "limits", "--total", "") == ["none"]
    assert complete("ofsync", "limits", "--total", "20G", "--") == ["--auto"]


def test_completion_of_pin_kinds():
    kinds = ["user", "policy", "all", "redir"]
    # As bash splits "--for=" at '=' (the default COMP_WORDBREAKS) ...
    assert complete("ofsync", "pin", "f", "--for", "=") == kinds
    assert complete("ofsync", "unpin", "f", "--for", "=", "p") == ["policy"]
    assert complete("ofsync", "sync", "--pin-for", "=", "") == kinds
    assert complete("ofsync", "sync", "--pin-for", "=", "r") == ["redir"]
    # ... and as one word, when '=' is not a word break.
    assert complete("ofsync", "sync", "--pin-for=a") == ["--pin-for=all"]
    assert complete("ofsync", "pin", "f", "--for=u") == ["--for=user"]


def test_completion_of_paths(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "report.odt").write_bytes(b"x")
    (tmp_path / "dir with space").mkdir()
    (tmp_path / "notes.txt").write_bytes(b"x")
    d = f"{tmp_path}/"
    everything = {f"{d}docs", f"{d}dir with space", f"{d}notes.txt"}
    for cmd in (["info"], ["pin"], ["unpin"], ["resolve"], ["sync"], ["status"],
                ["conflicts"], ["flush"], ["evict"], ["sync", "--in"]):
        assert set(complete("ofsync", *cmd, d)) == everything, cmd
    # Only a directory can be suspended.
    for cmd in ("suspend", "unsuspend"):
        assert set(complete("ofsync", cmd, d)) == {f"{d}docs", f"{d}dir with space"}
    assert complete("ofsync", "info", f"{d}docs/r") == [f"{d}docs/report.odt"]
    assert complete("ofsync", "info", "no", cwd=tmp_path) == ["notes.txt"]
    assert set(complete("ofsync", "--socket", d)) == everything


def test_completion_of_unc_names(smb_server, ofsyncd):
    """A word that starts with // completes to the daemon's shares, and below
    a share's UNC to the names in it, read through the mount."""
    m = ofsyncd.mount(smb_server)
    (m.mnt / "report.odt").write_bytes(b"x")
    (m.mnt / "docs").mkdir()
    ofsync = harness.build_dir() / "ofsync"
    unc = smb_server.unc
    assert complete(ofsync, "--socket", m.socket, "info", "//12") == [unc]
    assert complete(ofsync, "--socket", m.socket, "sync", unc[:-2]) == [unc]
    assert complete(ofsync, "--socket", m.socket, "info", f"{unc}/re") == [f"{unc}/report.odt"]
    assert complete(ofsync, "--socket", m.socket, "pin", f"{unc}/d") == [f"{unc}/docs/"]
    assert complete(ofsync, "--socket", m.socket, "info", "//elsewhere/") == []
    # No daemon on the socket: nothing, quietly.
    assert complete(ofsync, "--socket", m.socket.parent / "none.sock", "info", "//") == []

"""pytest fixtures for ofsync's integration tests (see harness.py).

  smb_server          a private smbd for this test (function scope)
  shared_smb_server   one smbd for a whole module, for tests that only read
  ofsyncd             DaemonFactory: ofsyncd.mount(smb_server, extra_opts=(),
                      attr_timeout=1, expect_fail=False, guest=True) -> Mount
  make_bytes          make_bytes(size, seed) -> deterministic bytes

Every test runs under a watchdog (default 180 s, `@pytest.mark.deadline(S)`
to change it), so a hung daemon fails the test instead of hanging CI.
Teardown stops every daemon, unmounts its mountpoint, stops smbd, and fails
the test if a daemon printed a sanitizer report.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

DEFAULT_DEADLINE = 180


def pytest_configure(config):
    config.addinivalue_line("markers", "deadline(seconds): the watchdog's limit for this test")


def pytest_report_header(config):
    b = harness.build_dir()
    return f"ofsync build dir: {b} (ofsyncd {'present' if (b / 'ofsyncd').exists() else 'MISSING'})"


@pytest.fixture(autouse=True)
def watchdog(request):
    m = request.node.get_closest_marker("deadline")
    w = harness.Watchdog(m.args[0] if m else DEFAULT_DEADLINE)
    w.start()
    yield w
    w.cancel()
    if w.fired:
        pytest.fail(f"watchdog: the test ran past its {w.seconds} s deadline; its daemons "
                    "and server were killed", pytrace=False)


def _missing(why):
    """Skips on a developer's machine; fails under CI, where a skip would hide everything."""
    if os.environ.get("CI"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def _need_root_tools():
    if os.geteuid() != 0:
        _missing("integration tests run smbd and mount FUSE as root: run as root (CI does)")
    for tool in (harness.SMBD, harness.SMBCLIENT, harness.SMBPASSWD):
        if not os.access(tool, os.X_OK):
            _missing(f"{tool} missing: run scripts/deps.sh")


def _need_fuse():
    if not os.path.exists("/dev/fuse"):
        _missing("/dev/fuse missing: FUSE is not available here")
    if shutil.which(harness.FUSERMOUNT) is None:
        _missing("fusermount3 missing: run scripts/deps.sh")


@pytest.fixture
def smb_server(tmp_path, watchdog):
    _need_root_tools()
    srv = harness.SmbServer(tmp_path / "smb")
    watchdog.servers.append(srv)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def shared_smb_server(tmp_path_factory):
    """One server for a module's read-only tests: they must not change .backing."""
    _need_root_tools()
    srv = harness.SmbServer(tmp_path_factory.mktemp("smb-shared"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def ofsyncd(tmp_path, watchdog):
    _need_fuse()
    exe = harness.build_dir() / "ofsyncd"
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} not built: run `make` (or set OFSYNC_BUILD)")
    factory = harness.DaemonFactory(tmp_path)
    watchdog.factories.append(factory)
    yield factory
    reports = factory.cleanup()
    if reports:
        pytest.fail("sanitizer report in ofsyncd output:\n" + "\n".join(reports), pytrace=False)


@pytest.fixture
def ofsync_cli():
    """run_cli(socket, *args, json=False, check=True) without a daemon fixture."""
    exe = harness.build_dir() / "ofsync"
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} not built: run `make` (or set OFSYNC_BUILD)")
    return harness.run_cli


@pytest.fixture
def make_bytes():
    return harness.make_bytes

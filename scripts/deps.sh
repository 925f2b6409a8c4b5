#!/bin/sh
# deps.sh - install what ofsync needs to build, test and demo, from Debian's
# packages.  The one installer: `make deps` and .ci/run both call it.
#
# Installs only the packages that are missing, and runs `apt-get update` only
# when something is missing.  Not root: prints the command to run instead and
# exits 1 if something is missing.  Exit 0 when everything is installed.
set -eu

PACKAGES="build-essential pkg-config libfuse3-dev fuse3 libsmbclient-dev
libsqlite3-dev sqlite3 check libjansson-dev libinih-dev libsystemd-dev samba
smbclient python3 python3-pytest mandoc clang-format systemd"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
missing=${missing# }

if [ -z "$missing" ]; then
	echo "deps.sh: all build and test dependencies are installed"
	exit 0
fi

echo "deps.sh: missing packages: $missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: not root; run:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is intended
apt-get install -y --no-install-recommends $missing
echo "deps.sh: installed: $missing"

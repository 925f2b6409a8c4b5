#!/usr/bin/env bash
# demo.sh - ofsync on one machine: a private Samba server on loopback serving
# a sample tree, mounted through ofsyncd.  Everything lives in ./demo/.
#
#   scripts/demo.sh start BUILD_DIR    (make demo)
#   scripts/demo.sh stop               (make demo-stop)
#
# The Samba settings are the integration tests' (tests/integration/harness.py
# writes smb.conf for both).  stop ends only the PIDs recorded in demo/*.pid
# (and smbd's children), never anything found by name.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DEMO=$REPO/demo
SERVER=$DEMO/server	# the share's files, as the server sees them
MNT=$DEMO/mnt
CACHE=$DEMO/cache
SOCK=$DEMO/ofsync.sock
PYTHON=${PYTHON:-/usr/bin/python3}

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# alive PIDFILE WORD: true if the PID in PIDFILE runs a command line containing WORD.
alive() {
	local pid
	[ -f "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[ -r "/proc/$pid/cmdline" ] || return 1
	! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

mounted() {
	grep -q " $MNT " /proc/self/mountinfo 2>/dev/null
}

# children PID: the PIDs whose parent is PID.
children() {
	local f
	for f in /proc/[0-9]*/status; do
		if grep -q "^PPid:[[:space:]]*$1\$" "$f" 2>/dev/null; then
			f=${f#/proc/}
			printf '%s\n' "${f%/status}"
		fi
	done
}

# stop_pids SECONDS PID...: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_pids() {
	local t=$1 pid left i
	shift
	[ $# -gt 0 ] || return 0
	kill -CONT "$@" 2>/dev/null || true
	kill -TERM "$@" 2>/dev/null || true
	for ((i = 0; i < t * 10; i++)); do
		left=""
		for pid in "$@"; do
			if [ -d "/proc/$pid" ] && ! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; then
				left="$left $pid"
			fi
		done
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $left 2>/dev/null || true
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

smb_ready() {
	smbclient -N -p "$(cat "$DEMO/smbd.port")" //127.0.0.1/share -c ls >/dev/null 2>&1
}

# wait_mounted SECONDS: until ofsyncd has mounted and made its socket, or died.
wait_mounted() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		alive "$DEMO/ofsyncd.pid" ofsyncd || return 1
		mounted && [ -S "$SOCK" ] && return 0
		sleep 0.1
	done
	return 1
}

do_stop() {
	local pid kids quiet=${1:-}
	if mounted; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null || true
		[ -n "$quiet" ] || say "demo: unmounted $MNT"
	fi
	if alive "$DEMO/ofsyncd.pid" ofsyncd; then
		pid=$(cat "$DEMO/ofsyncd.pid")
		stop_pids 10 "$pid"
		[ -n "$quiet" ] || say "demo: stopped ofsyncd (pid $pid)"
	fi
	if mounted; then
		fusermount3 -u -z "$MNT" 2>/dev/null || true
	fi
	if alive "$DEMO/smbd.pid" "$DEMO/smb/smb.conf"; then
		pid=$(cat "$DEMO/smbd.pid")
		kids=$(children "$pid")
		# shellcheck disable=SC2086
		stop_pids 10 "$pid" $kids
		[ -n "$quiet" ] || say "demo: stopped smbd (pid $pid)"
	fi
	rm -f "$DEMO/ofsyncd.pid" "$DEMO/smbd.pid" "$SOCK"
}

make_sample_tree() {
	[ -d "$SERVER" ] && return 0
	mkdir -p "$SERVER/projects/alpha/docs" "$SERVER/notes"
	cat >"$SERVER/README.txt" <<-'EOF'
		This directory is the SMB share as the server sees it (demo/server).
		Through demo/mnt you see it through ofsync's cache.
	EOF
	printf 'buy milk\nreview the sync planner\n' >"$SERVER/notes/todo.txt"
	printf '#include <stdio.h>\n\nint main(void)\n{\n\tputs("hello");\n\treturn 0;\n}\n' \
		>"$SERVER/projects/alpha/main.c"
	printf 'Alpha: a small project kept on a file server.\n' \
		>"$SERVER/projects/alpha/docs/design.txt"
	head -c $((16 << 20)) /dev/urandom >"$SERVER/big.bin"
}

do_start() {
	local build=${1:-}
	[ -n "$build" ] || die "usage: $0 start BUILD_DIR"
	build=$(cd "$build" 2>/dev/null && pwd) || die "no build directory '$1': run make"
	[ -x "$build/ofsyncd" ] || die "$build/ofsyncd not built: run make"
	[ -x "$build/ofsync" ] || die "$build/ofsync not built: run make"

	if alive "$DEMO/ofsyncd.pid" ofsyncd && alive "$DEMO/smbd.pid" "$DEMO/smb/smb.conf"; then
		say "demo: already running (ofsyncd pid $(cat "$DEMO/ofsyncd.pid"), mounted on $MNT)"
		say "demo: stop it with: make demo-stop"
		return 0
	fi
	# Half a demo (one process died): clear it and start again.
	do_stop quiet

	if [ "$(id -u)" -ne 0 ]; then
		die "the demo runs a private smbd, which needs root: run it as root"
	fi
	"$REPO/scripts/deps.sh"

	mkdir -p "$DEMO" "$MNT" "$CACHE"
	make_sample_tree

	# smbd: its own state under demo/smb, on a free loopback port; the same
	# port as last time when it is still free, so the cache's share name holds.
	if ! [ -f "$DEMO/smb/smb.conf" ] || ! [ -s "$DEMO/smbd.port" ] ||
		port_in_use "$(cat "$DEMO/smbd.port")"; then
		rm -rf "$DEMO/smb"
		"$PYTHON" "$REPO/tests/integration/harness.py" smb-setup "$DEMO/smb" "$SERVER" \
			>"$DEMO/smbd.port" || die "could not write demo/smb/smb.conf"
	fi
	# setsid: on exit smbd signals its whole process group, which must not be ours.
	nohup setsid /usr/sbin/smbd --foreground --no-process-group \
		--configfile="$DEMO/smb/smb.conf" --debug-stdout \
		</dev/null >"$DEMO/smbd.log" 2>&1 &
	echo $! >"$DEMO/smbd.pid"
	if ! wait_until 20 smb_ready; then
		tail -n 20 "$DEMO/smbd.log" >&2 || true
		do_stop quiet
		die "smbd did not start (log: demo/smbd.log)"
	fi
	local unc
	unc="//127.0.0.1:$(cat "$DEMO/smbd.port")/share"
	say "demo: smbd (pid $(cat "$DEMO/smbd.pid")) serves $SERVER as $unc"

	# ofsyncd in the foreground mode, in the background, so that its PID is known.
	nohup setsid "$build/ofsyncd" -f -o "cache_dir=$CACHE,socket=$SOCK,guest" "$unc" "$MNT" \
		</dev/null >"$DEMO/ofsyncd.log" 2>&1 &
	echo $! >"$DEMO/ofsyncd.pid"
	if ! wait_mounted 15; then
		tail -n 20 "$DEMO/ofsyncd.log" >&2 || true
		do_stop quiet
		die "ofsyncd did not mount $MNT (log: demo/ofsyncd.log)"
	fi
	say "demo: ofsyncd (pid $(cat "$DEMO/ofsyncd.pid")) mounted it on $MNT"
	say ""
	say "\$ $build/ofsync --socket $SOCK status"
	"$build/ofsync" --socket "$SOCK" status || true
	cat <<-EOF

		Look around:
		  ls -l demo/mnt demo/mnt/projects/alpha
		  cat demo/mnt/notes/todo.txt
		  $build/ofsync --socket demo/ofsync.sock info demo/mnt/notes/todo.txt
		  dd if=demo/mnt/big.bin of=/dev/null bs=1M skip=5 count=1
		  $build/ofsync --socket demo/ofsync.sock info demo/mnt/big.bin
		  echo hello >demo/mnt/hello.txt; cat demo/server/hello.txt
		The server's side of the share is demo/server; logs are demo/*.log.

		Stop it with: make demo-stop
	EOF
}

case "${1:-}" in
start)
	cd "$REPO"
	do_start "${2:-}"
	;;
stop)
	cd "$REPO"
	if [ ! -f "$DEMO/ofsyncd.pid" ] && [ ! -f "$DEMO/smbd.pid" ] && ! mounted; then
		say "demo: not running"
		exit 0
	fi
	do_stop
	say "demo: stopped"
	;;
*)
	printf 'usage: %s start BUILD_DIR | stop\n' "$0" >&2
	exit 2
	;;
esac

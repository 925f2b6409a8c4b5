/*
 * options.h - ofsyncd's command line and credentials file.
 *
 *   ofsyncd [-f] [-d] [-o OPT[,OPT...]] //SERVER[:PORT]/SHARE[/DIR] MOUNTPOINT
 *
 * Parsing is pure apart from the checks that must look at the file system
 * (mountpoint exists, cache dir not inside it, credentials file mode), which
 * live in options_validate().  Unit-tested in tests/unit/test_options.c.
 */
#ifndef OFSYNC_OPTIONS_H
#define OFSYNC_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "util/unc.h"

#define OPTIONS_FUSE_MAX 1024

struct options {
	int foreground;			  /* -f: stay in the foreground */
	int debug;			  /* -d: debug log (implies nothing else) */
	int help;			  /* -h/--help was given: usage printed, exit 0 */
	int version;			  /* -V/--version was given */
	char *config;			  /* -c FILE: the configuration file, or NULL */
	struct unc unc;			  /* the share, parsed */
	char *unc_text;			  /* the share as canonically formatted (unc_format) */
	char *mountpoint;		  /* absolute path (made absolute against cwd) */
	char *cache_dir;		  /* -o cache_dir=, else the default (see below) */
	char *socket;			  /* -o socket=, else the default */
	char *credentials;		  /* -o credentials=FILE, or NULL */
	int guest;			  /* -o guest: anonymous/guest login, no password */
	char *user;			  /* -o user= (or from the credentials file) */
	char *domain;			  /* -o domain= (or from the credentials file) */
	char *password;			  /* only ever from the credentials file */
	unsigned timeout;		  /* -o timeout=SECONDS for each server call, default 5 */
	double attr_timeout;		  /* -o attr_timeout=SECONDS kernel attribute and entry
					     cache; also how stale a directory listing may get.
					     default 1.0 */
	double watch_timeout;		  /* attr_timeout while the server's change watch is up:
					     60 by default, 0 once attr_timeout is given */
	int notify;			  /* -o notify=yes|no: watch the share for changes made
					     on the server, default yes */
	unsigned probe_interval;	  /* -o probe_interval=SECONDS between tries while
					     offline, default 30 */
	int offline;			  /* -o offline: start forced offline */
	uint64_t cache_size;		  /* -o cache_size=SIZE: limit for unpinned data, 0: none */
	char fuse_opts[OPTIONS_FUSE_MAX]; /* pass-through FUSE options, comma-joined:
					     allow_other, allow_root, ro, rw,
					     default_permissions, auto_unmount,
					     fsname=, subtype= */
};

/*
 * Parses argv into *o (which it zeroes first).  Fills the defaults:
 * cache_dir = $XDG_CACHE_HOME/ofsync, else $HOME/.cache/ofsync, and
 * /var/cache/ofsync for uid 0; socket = $XDG_RUNTIME_DIR/ofsync.sock, and
 * /run/ofsync.sock for uid 0 (and when XDG_RUNTIME_DIR is unset for others:
 * /tmp/ofsync-UID.sock).  Returns 0, or -EINVAL with a one-line reason in
 * err: unknown flag or -o option, missing or extra arguments, malformed UNC
 * (with unc_parse's reason), bad number, "guest" together with "user" or
 * "credentials", a value given to a flag option or none to a value option.
 * With -h or -V returns 0 with o->help / o->version set and nothing else
 * required.
 */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);

/*
 * As options_parse; with how = OPTIONS_SHARE_OPTIONAL, no operand at all
 * is accepted too (o->unc_text and o->mountpoint stay NULL): ofsyncd then
 * mounts the shares of its configuration file.
 */
#define OPTIONS_SHARE_OPTIONAL 0x1
int options_parse_ex(int argc, char **argv, int how, struct options *o, char *err, size_t errlen);

/*
 * Checks against the file system, then reads the credentials file if any.
 * Returns 0, or a negative errno with a reason in err:
 *   -ENOENT / -ENOTDIR  the mountpoint does not exist or is not a directory;
 *   -EINVAL  the cache directory is the mountpoint or lies inside it (checked
 *            on resolved paths; the cache dir need not exist yet);
 *   -EACCES  the credentials file can be read or written by group or others
 *            ("chmod 600 FILE"), or cannot be opened;
 *   -EINVAL  a credentials line that is not key=value, or an unknown key.
 * The credentials file is the mount.cifs format: username= (or user=),
 * password= (or pass=), domain= (or dom=), blank lines and '#' comments.
 * "username=user%pass" and "username=DOMAIN/user" are split as mount.cifs
 * does.  -o user= / domain= win over the file.
 */
int options_validate(struct options *o, char *err, size_t errlen);

/* Frees every string; wipes the password first. */
void options_release(struct options *o);

/* Writes the usage text to f. */
void options_usage(void *file);

#endif

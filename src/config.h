/*
 * config.h - ofsync.conf: global settings and one section per share.
 *
 *   [global]
 *   cache_limit = 20G
 *   options = allow_other
 *
 *   [share docs]
 *   unc = //fs.example.com/docs
 *   mountpoint = /srv/docs
 *   credentials = /etc/ofsync/docs.cred
 *   options = timeout=10
 *
 * The file is read with inih; this module checks every key and value and
 * reports the first error as "FILE:LINE: reason".  It keeps the name of a
 * credentials file, never its content (options_validate() reads it).  No
 * FUSE, no SMB: unit-tested in tests/unit/test_config.c.  The format is
 * ofsync.conf(5).
 *
 * The command line wins over the file: config_argv() puts the file's
 * options first in the argv handed to options_parse(), and the command
 * line's after them, and for options_parse() a later value replaces an
 * earlier one.
 */
#ifndef OFSYNC_CONFIG_H
#define OFSYNC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util/log.h"

#define CONFIG_FILE "ofsync.conf"
#define CONFIG_SYSTEM_PATH "/etc/ofsync/ofsync.conf"
#define CONFIG_NAME_MAX 64 /* the NAME in [share NAME] */

struct config_share {
	char *name;	   /* NAME of [share NAME]: letters, digits, '.', '_', '-' */
	char *unc;	   /* the share, canonical (unc_format): //server[:port]/share[/dir] */
	char *mountpoint;  /* absolute, "~/" expanded, no "//" and no trailing '/' */
	char *credentials; /* absolute path of a credentials file, or NULL; the file
			      is not read here */
	char *options;	   /* the share's options in ofsyncd's -o syntax, or NULL */
	int line;	   /* line of its [share NAME] header */
};

struct ofsync_config {
	char *path;		     /* the file read, or NULL when none was */
	char *cache_dir;	     /* absolute, or NULL: ofsyncd's default */
	char *socket;		     /* absolute, or NULL: ofsyncd's default */
	char *options;		     /* [global] options for every share, or NULL */
	enum log_level log_level;    /* LOG_LVL_WARN unless log_level is set */
	unsigned timeout;	     /* seconds for each server call; 0: not set */
	unsigned probe_interval;     /* seconds between tries offline; 0: not set */
	uint64_t cache_limit;	     /* bytes, all cached data; 0: no limit */
	uint64_t auto_cache_limit;   /* bytes, unpinned (auto-cached) data; 0: no limit */
	struct config_share *shares; /* in the order of the file */
	size_t nshares;
};

/* An empty configuration: no file, no shares, the defaults above. */
void config_init(struct ofsync_config *cfg);

/*
 * Reads the file at path into *cfg (which it initializes first).  Returns
 * 0, or a negative errno with a one-line reason in err, *cfg then empty:
 *   -ENOENT, -EACCES, ... the file cannot be opened or read
 *            ("cannot read FILE: No such file or directory");
 *   -EINVAL  "FILE:LINE: reason" for the first bad line: syntax (not a
 *            [section], a key = value or a comment), a line longer than
 *            inih's limit, a key outside a section, an unknown section or
 *            key, a key given twice in a section, an empty value, a bad
 *            number, size or log level, a relative path, a ',' in a path,
 *            a malformed UNC (with unc_parse's reason), options that
 *            options_parse() refuses, a share name given twice, a
 *            mountpoint or UNC already used by another share, or a
 *            mountpoint inside another's; auto_cache_limit over
 *            cache_limit; a share without unc or mountpoint (named at its
 *            header's line);
 *   -ENOMEM.
 */
int config_load(const char *path, struct ofsync_config *cfg, char *err, size_t errlen);

/*
 * The file that ofsyncd reads when -c is not given.  For root,
 * /etc/ofsync/ofsync.conf.  For other users, $XDG_CONFIG_HOME/ofsync/ofsync.conf
 * (else ~/.config/ofsync/ofsync.conf) when it exists, else
 * /etc/ofsync/ofsync.conf.  One file is read, never both.  Writes it into out
 * and returns 0 when it exists, -ENOENT (out holding the last path tried)
 * when neither does: then ofsyncd runs without a file.  -ENAMETOOLONG when
 * a path does not fit in out.
 */
int config_default_path(char *out, size_t len);

/* The share named name, or NULL.  Borrowed from cfg. */
const struct config_share *config_find_share(const struct ofsync_config *cfg, const char *name);

/*
 * The options that the file gives share sh (NULL: a share from the command
 * line, which gets the globals only), in ofsyncd's -o syntax, in this
 * order: cache_dir, socket, timeout, probe_interval, the [global] options,
 * the share's credentials, the share's options.  A later item wins in
 * options_parse(), so a share's options win over [global].  Stores a
 * malloc'd string in *out ("" when there is nothing).  0 or -ENOMEM.
 */
int config_share_opts(const struct ofsync_config *cfg, const struct config_share *sh, char **out);

/*
 * Builds the argv for options_parse(): argv0, then "-o" and the options of
 * config_share_opts() (left out when empty), then args[0..nargs) -- the
 * flags and -o options of the command line, which so win over the file --
 * then sh's unc and mountpoint when sh is not NULL.  *out is
 * NULL-terminated, every string a copy; free it with config_argv_free().
 * Returns the new argc, or -ENOMEM.
 */
int config_argv(const struct ofsync_config *cfg, const struct config_share *sh, const char *argv0,
		int nargs, char *const *args, char ***out);

/* Frees an argv from config_argv(); NULL is allowed. */
void config_argv_free(char **argv);

/* Frees everything cfg holds and leaves it as config_init() does. */
void config_free(struct ofsync_config *cfg);

#endif

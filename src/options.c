/*
 * options.c - ofsyncd's command line and credentials file; see options.h.
 *
 * The command line is walked by hand rather than with getopt, so that the
 * parser holds no global state and tests can call it again and again.  As
 * GNU getopt does, options may come after the operands, short flags may be
 * grouped ("-fd"), and "--" ends the options.
 *
 * Every path the daemon keeps (mountpoint, cache dir, socket, credentials)
 * is made absolute here, because the daemon changes to "/" when it goes to
 * the background.
 */
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"

#include "ofsync.h"

#define TIMEOUT_DEFAULT 5
#define ATTR_TIMEOUT_DEFAULT 1.0
#define WATCH_TIMEOUT_DEFAULT 60.0 /* attr_timeout while the change watch is up */
#define PROBE_INTERVAL_DEFAULT 30
/* Server calls take the timeout in milliseconds as an int. */
#define TIMEOUT_MAX (INT_MAX / 1000)
#define ATTR_TIMEOUT_MAX 86400.0
#define CREDENTIALS_MAX (64 * 1024) /* a credentials file is a few lines */

/* What parse_o needs to remember beyond struct options. */
struct parse_state {
	struct options *o;
	char *user_domain; /* DOMAIN from -o user=DOMAIN/NAME, or NULL */
	int allow_other;   /* allow_other was given */
	int allow_root;	   /* allow_root was given */
};

enum opt_id {
	OPT_CACHE_DIR,
	OPT_SOCKET,
	OPT_CREDENTIALS,
	OPT_GUEST,
	OPT_USER,
	OPT_DOMAIN,
	OPT_TIMEOUT,
	OPT_ATTR_TIMEOUT,
	OPT_PROBE_INTERVAL,
	OPT_OFFLINE,
	OPT_NOTIFY,
	OPT_CACHE_SIZE,
	OPT_FUSE, /* passed through to FUSE as written */
};

struct opt_def {
	const char *name;
	enum opt_id id;
	bool has_value; /* name=VALUE (true) or a bare flag (false) */
};

static const struct opt_def opt_defs[] = {
	{"cache_dir", OPT_CACHE_DIR, true},
	{"socket", OPT_SOCKET, true},
	{"credentials", OPT_CREDENTIALS, true},
	{"guest", OPT_GUEST, false},
	{"user", OPT_USER, true},
	{"domain", OPT_DOMAIN, true},
	{"timeout", OPT_TIMEOUT, true},
	{"attr_timeout", OPT_ATTR_TIMEOUT, true},
	{"probe_interval", OPT_PROBE_INTERVAL, true},
	{"offline", OPT_OFFLINE, false},
	{"notify", OPT_NOTIFY, true},
	{"cache_size", OPT_CACHE_SIZE, true},
	{"allow_other", OPT_FUSE, false},
	{"allow_root", OPT_FUSE, false},
	{"ro", OPT_FUSE, false},
	{"rw", OPT_FUSE, false},
	{"default_permissions", OPT_FUSE, false},
	{"auto_unmount", OPT_FUSE, false},
	{"fsname", OPT_FUSE, true},
	{"subtype", OPT_FUSE, true},
};

/* Frees a string that may hold a secret, wiping it first. */
static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Replaces *dst with a copy of the first n bytes of src.  0 or -ENOMEM. */
static int set_strn(char **dst, const char *src, size_t n)
{
	char *copy = strndup(src, n);

	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static int set_str(char **dst, const char *src)
{
	return set_strn(dst, src, strlen(src));
}

/* Stores in *out (malloc'd) path made absolute against the cwd. 0 or -errno. */
static int make_absolute(const char *path, char **out)
{
	char *cwd, *abs;
	size_t n;

	if (path[0] == '/') {
		abs = strdup(path);
		if (!abs)
			return -ENOMEM;
		*out = abs;
		return 0;
	}
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return -errno;
	n = strlen(cwd);
	abs = malloc(n + 1 + strlen(path) + 1);
	if (!abs) {
		free(cwd);
		return -ENOMEM;
	}
	memcpy(abs, cwd, n);
	/* The cwd is "/" or has no trailing '/'. */
	sprintf(abs + n, "%s%s", n > 1 ? "/" : "", path);
	free(cwd);
	*out = abs;
	return 0;
}

/* Sets *dst to path made absolute, with err filled on failure. */
static int set_path(char **dst, const char *what, const char *path, char *err, size_t errlen)
{
	char *abs;
	int rc = make_absolute(path, &abs);

	if (rc < 0)
		return errfmt(rc, err, errlen, "cannot make %s '%s' absolute: %s", what, path,
			      strerror(-rc));
	free(*dst);
	*dst = abs;
	return 0;
}

/* Appends item to the comma-joined FUSE options.  0 or -EINVAL when full. */
static int fuse_append(struct options *o, const char *item, size_t n, char *err, size_t errlen)
{
	size_t used = strlen(o->fuse_opts);
	size_t need = used + (used ? 1 : 0) + n + 1;

	if (need > sizeof(o->fuse_opts))
		return errfmt(-EINVAL, err, errlen, "too many FUSE options (at most %zu bytes)",
			      sizeof(o->fuse_opts) - 1);
	if (used)
		o->fuse_opts[used++] = ',';
	memcpy(o->fuse_opts + used, item, n);
	o->fuse_opts[used + n] = '\0';
	return 0;
}

/* Parses a positive whole number of seconds (1..TIMEOUT_MAX). */
static int parse_timeout(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > TIMEOUT_MAX)
			return -ERANGE;
	}
	if (v == 0)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

/*
 * Parses a non-negative decimal number of seconds ("2", "0.5", ".25", "3.")
 * without strtod, whose decimal point follows the locale.
 */
static int parse_seconds(const char *s, double *out)
{
	double v = 0, scale = 1;
	bool dot = false, digits = false;

	for (const char *p = s; *p; p++) {
		if (*p == '.' && !dot) {
			dot = true;
		} else if (*p >= '0' && *p <= '9') {
			digits = true;
			if (dot) {
				scale /= 10;
				v += (*p - '0') * scale;
			} else {
				v = v * 10 + (*p - '0');
			}
			if (v > ATTR_TIMEOUT_MAX)
				return -ERANGE;
		} else {
			return -EINVAL;
		}
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

/* -o user=: DOMAIN/NAME or DOMAIN\NAME carry a domain; NAME%PASS is refused. */
static int set_user(struct parse_state *st, const char *val, char *err, size_t errlen)
{
	const char *sep = strpbrk(val, "/\\");
	int rc;

	if (strchr(val, '%'))
		return errfmt(-EINVAL, err, errlen,
			      "a password cannot be given on the command line; "
			      "put it in a credentials file (-o credentials=FILE)");
	if (!sep) {
		/* A later user=NAME drops the domain of an earlier DOMAIN/NAME. */
		free(st->user_domain);
		st->user_domain = NULL;
		return set_str(&st->o->user, val);
	}
	if (sep == val || !sep[1])
		return errfmt(-EINVAL, err, errlen, "bad user name '%s' (expected DOMAIN/NAME)",
			      val);
	rc = set_strn(&st->user_domain, val, (size_t)(sep - val));
	if (rc == 0)
		rc = set_str(&st->o->user, sep + 1);
	return rc;
}

/* Applies one -o item [item, item+n) that is not empty. */
static int apply_item(struct parse_state *st, const char *item, size_t n, char *err, size_t errlen)
{
	struct options *o = st->o;
	const char *eq = memchr(item, '=', n);
	size_t keylen = eq ? (size_t)(eq - item) : n;
	const struct opt_def *def = NULL;
	char *val = NULL;
	int rc = 0;

	for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++) {
		if (strlen(opt_defs[i].name) == keylen &&
		    memcmp(opt_defs[i].name, item, keylen) == 0) {
			def = &opt_defs[i];
			break;
		}
	}
	if (!def) {
		if ((keylen == 8 && memcmp(item, "password", 8) == 0) ||
		    (keylen == 4 && memcmp(item, "pass", 4) == 0))
			return errfmt(-EINVAL, err, errlen,
				      "unknown option '%.*s' (a password is read only from a "
				      "credentials file: -o credentials=FILE)",
				      (int)keylen, item);
		return errfmt(-EINVAL, err, errlen, "unknown option '%.*s'", (int)keylen, item);
	}
	if (!def->has_value && eq)
		return errfmt(-EINVAL, err, errlen, "option '%s' takes no value", def->name);
	if (def->has_value && (!eq || eq + 1 == item + n))
		return errfmt(-EINVAL, err, errlen, "option '%s' needs a value (%s=...)", def->name,
			      def->name);
	if (eq) {
		val = strndup(eq + 1, n - keylen - 1);
		if (!val)
			return errfmt(-ENOMEM, err, errlen, "out of memory");
	}

	switch (def->id) {
	case OPT_CACHE_DIR:
		rc = set_path(&o->cache_dir, "cache directory", val, err, errlen);
		break;
	case OPT_SOCKET:
		rc = set_path(&o->socket, "socket path", val, err, errlen);
		break;
	case OPT_CREDENTIALS:
		rc = set_path(&o->credentials, "credentials file", val, err, errlen);
		break;
	case OPT_GUEST:
		o->guest = 1;
		break;
	case OPT_USER:
		rc = set_user(st, val, err, errlen);
		break;
	case OPT_DOMAIN:
		rc = set_str(&o->domain, val);
		break;
	case OPT_TIMEOUT:
		if (parse_timeout(val, &o->timeout) < 0)
			rc = errfmt(-EINVAL, err, errlen,
				    "bad number '%s' for timeout (whole seconds, 1 to %d)", val,
				    TIMEOUT_MAX);
		break;
	case OPT_ATTR_TIMEOUT:
		o->watch_timeout = 0; /* as given, watch or not */
		if (parse_seconds(val, &o->attr_timeout) < 0)
			rc = errfmt(-EINVAL, err, errlen,
				    "bad number '%s' for attr_timeout (seconds such as 1 or 0.5, "
				    "at most %.0f)",
				    val, ATTR_TIMEOUT_MAX);
		break;
	case OPT_PROBE_INTERVAL:
		if (parse_timeout(val, &o->probe_interval) < 0)
			rc = errfmt(-EINVAL, err, errlen,
				    "bad number '%s' for probe_interval (whole seconds, 1 to %d)",
				    val, TIMEOUT_MAX);
		break;
	case OPT_NOTIFY:
		if (strcmp(val, "yes") == 0)
			o->notify = 1;
		else if (strcmp(val, "no") == 0)
			o->notify = 0;
		else
			rc = errfmt(-EINVAL, err, errlen, "bad value '%s' for notify (yes or no)",
				    val);
		break;
	case OPT_OFFLINE:
		o->offline = 1;
		break;
	case OPT_CACHE_SIZE:
		if (parse_size(val, &o->cache_size) < 0)
			rc = errfmt(-EINVAL, err, errlen,
				    "bad size '%s' for cache_size (bytes, or a number with K, M, G "
				    "or T, or none)",
				    val);
		break;
	case OPT_FUSE:
		if (strcmp(def->name, "allow_other") == 0)
			st->allow_other = 1;
		else if (strcmp(def->name, "allow_root") == 0)
			st->allow_root = 1;
		rc = fuse_append(o, item, n, err, errlen);
		break;
	}
	if (rc == -ENOMEM)
		errfmt(rc, err, errlen, "out of memory");
	free(val);
	return rc;
}

/* Applies one -o argument: comma-separated items, empty items ignored. */
static int apply_o(struct parse_state *st, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	for (;;) {
		size_t n = strcspn(p, ",");
		int rc;

		if (n) {
			rc = apply_item(st, p, n, err, errlen);
			if (rc < 0)
				return rc;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* The default cache directory and socket for the effective user. */
static int fill_defaults(struct options *o, char *err, size_t errlen)
{
	uid_t uid = geteuid();
	const char *env;
	char buf[PATH_MAX + 32];
	int rc;

	if (!o->cache_dir) {
		if (uid == 0) {
			snprintf(buf, sizeof(buf), "/var/cache/ofsync");
		} else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/') {
			/* The XDG spec says to ignore a relative value. */
			if (strlen(env) > PATH_MAX)
				return errfmt(-EINVAL, err, errlen, "XDG_CACHE_HOME is too long");
			snprintf(buf, sizeof(buf), "%s/ofsync", env);
		} else if ((env = getenv("HOME")) && env[0] == '/') {
			if (strlen(env) > PATH_MAX)
				return errfmt(-EINVAL, err, errlen, "HOME is too long");
			snprintf(buf, sizeof(buf), "%s/.cache/ofsync", env);
		} else {
			struct passwd pw, *res = NULL;
			char pwbuf[4096];

			if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res ||
			    res->pw_dir[0] != '/' || strlen(res->pw_dir) > PATH_MAX)
				return errfmt(-EINVAL, err, errlen,
					      "no default cache directory (HOME is not set); "
					      "use -o cache_dir=DIR");
			snprintf(buf, sizeof(buf), "%s/.cache/ofsync", res->pw_dir);
		}
		rc = set_str(&o->cache_dir, buf);
		if (rc < 0)
			return errfmt(rc, err, errlen, "out of memory");
	}
	if (!o->socket) {
		if (uid == 0) {
			snprintf(buf, sizeof(buf), "/run/ofsync.sock");
		} else if ((env = getenv("XDG_RUNTIME_DIR")) && env[0] == '/') {
			if (strlen(env) > PATH_MAX)
				return errfmt(-EINVAL, err, errlen, "XDG_RUNTIME_DIR is too long");
			snprintf(buf, sizeof(buf), "%s/ofsync.sock", env);
		} else {
			snprintf(buf, sizeof(buf), "/tmp/ofsync-%u.sock", (unsigned)uid);
		}
		rc = set_str(&o->socket, buf);
		if (rc < 0)
			return errfmt(rc, err, errlen, "out of memory");
	}
	if (strlen(o->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return errfmt(-EINVAL, err, errlen,
			      "socket path '%s' is too long (at most %zu bytes)", o->socket,
			      sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return 0;
}

/* Checks the share and mountpoint operands and stores them. */
static int set_operands(struct options *o, const char *share, const char *mnt, char *err,
			size_t errlen)
{
	char why[256];
	char text[UNC_SERVER_MAX + UNC_SHARE_MAX + UNC_PATH_MAX + 16];
	int n;

	if (!share)
		return errfmt(-EINVAL, err, errlen,
			      "missing share (//SERVER/SHARE) and mountpoint");
	if (!mnt)
		return errfmt(-EINVAL, err, errlen, "missing mountpoint");
	if (unc_parse(share, &o->unc, why, sizeof(why)) < 0)
		return errfmt(-EINVAL, err, errlen, "malformed share '%s': %s", share, why);
	n = unc_format(&o->unc, text, sizeof(text));
	if (n < 0)
		return errfmt(-EINVAL, err, errlen, "malformed share '%s': too long", share);
	if (set_str(&o->unc_text, text) < 0)
		return errfmt(-ENOMEM, err, errlen, "out of memory");
	if (!*mnt)
		return errfmt(-EINVAL, err, errlen, "empty mountpoint");
	return set_path(&o->mountpoint, "mountpoint", mnt, err, errlen);
}

/* Final checks once every option is known. */
static int finish(struct parse_state *st, char *err, size_t errlen)
{
	struct options *o = st->o;

	if (o->guest && o->user)
		return errfmt(-EINVAL, err, errlen,
			      "options 'guest' and 'user' cannot be used together");
	if (o->guest && o->credentials)
		return errfmt(-EINVAL, err, errlen,
			      "options 'guest' and 'credentials' cannot be used together");
	if (st->allow_other && st->allow_root)
		return errfmt(-EINVAL, err, errlen,
			      "options 'allow_other' and 'allow_root' cannot be used together");
	/* An explicit domain= wins over one written as user=DOMAIN/NAME. */
	if (st->user_domain && !o->domain) {
		o->domain = st->user_domain;
		st->user_domain = NULL;
	}
	return fill_defaults(o, err, errlen);
}

/*
 * Handles one argument that starts with '-' (and is not "-" or "--").
 * *i is the index of the argument and moves past a separate -o value.
 * Sets *stop when -h or -V ends the parse.
 */
static int parse_flag(struct parse_state *st, int argc, char **argv, int *i, bool *stop, char *err,
		      size_t errlen)
{
	const char *arg = argv[*i];
	struct options *o = st->o;

	if (arg[1] == '-') {
		if (strcmp(arg, "--help") == 0)
			o->help = 1;
		else if (strcmp(arg, "--version") == 0)
			o->version = 1;
		else
			return errfmt(-EINVAL, err, errlen, "unknown flag '%s'", arg);
		*stop = true;
		return 0;
	}
	for (const char *p = arg + 1; *p; p++) {
		switch (*p) {
		case 'f':
			o->foreground = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'h':
			o->help = 1;
			*stop = true;
			return 0;
		case 'V':
			o->version = 1;
			*stop = true;
			return 0;
		case 'c':
			/* -c FILE: the configuration file (ofsync.conf(5)). */
			if (p[1])
				return set_str(&o->config, p + 1) < 0 ?
					       errfmt(-ENOMEM, err, errlen, "out of memory") :
					       0;
			if (*i + 1 >= argc)
				return errfmt(-EINVAL, err, errlen, "flag '-c' needs a file");
			return set_str(&o->config, argv[++*i]) < 0 ?
				       errfmt(-ENOMEM, err, errlen, "out of memory") :
				       0;
		case 'o':
			/* The rest of this argument, else the next one. */
			if (p[1])
				return apply_o(st, p + 1, err, errlen);
			if (*i + 1 >= argc)
				return errfmt(-EINVAL, err, errlen, "flag '-o' needs an argument");
			return apply_o(st, argv[++*i], err, errlen);
		default:
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				return errfmt(-EINVAL, err, errlen, "unknown flag in '%s'", arg);
			return errfmt(-EINVAL, err, errlen, "unknown flag '-%c'", *p);
		}
	}
	return 0;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	return options_parse_ex(argc, argv, 0, o, err, errlen);
}

int options_parse_ex(int argc, char **argv, int how, struct options *o, char *err, size_t errlen)
{
	struct parse_state st = {.o = o};
	const char *operands[2] = {NULL, NULL};
	int noperands = 0;
	bool only_operands = false, stop = false;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	o->timeout = TIMEOUT_DEFAULT;
	o->attr_timeout = ATTR_TIMEOUT_DEFAULT;
	o->watch_timeout = WATCH_TIMEOUT_DEFAULT;
	o->notify = 1;
	o->probe_interval = PROBE_INTERVAL_DEFAULT;
	if (err && errlen)
		err[0] = '\0';

	for (int i = 1; i < argc && !stop; i++) {
		const char *arg = argv[i];

		if (!only_operands && strcmp(arg, "--") == 0) {
			only_operands = true;
			continue;
		}
		if (!only_operands && arg[0] == '-' && arg[1]) {
			rc = parse_flag(&st, argc, argv, &i, &stop, err, errlen);
			if (rc < 0)
				goto fail;
			continue;
		}
		if (noperands == 2) {
			rc = errfmt(-EINVAL, err, errlen, "extra argument '%s'", arg);
			goto fail;
		}
		operands[noperands++] = arg;
	}
	if (stop) {
		/* -h or -V: nothing else is required. */
		free(st.user_domain);
		return 0;
	}
	if (noperands > 0 || !(how & OPTIONS_SHARE_OPTIONAL)) {
		rc = set_operands(o, operands[0], operands[1], err, errlen);
		if (rc < 0)
			goto fail;
	}
	rc = finish(&st, err, errlen);
	if (rc < 0)
		goto fail;
	free(st.user_domain);
	return 0;
fail:
	free(st.user_domain);
	options_release(o);
	return rc;
}

/* Is path equal to dir or inside it?  Both are resolved, absolute paths. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/*
 * Resolves path, which need not exist: realpath() of its longest existing
 * prefix, then the remaining components with "." dropped and ".." taken
 * lexically (safe, as they name nothing that exists yet).  Returns 0 with
 * *out malloc'd, or a negative errno.
 */
static int resolve_partial(const char *path, char **out)
{
	char *abs, *prefix, *real = NULL, *res;
	const char *rest;
	size_t cut, len;
	int rc;

	rc = make_absolute(path, &abs);
	if (rc < 0)
		return rc;
	prefix = strdup(abs);
	if (!prefix) {
		free(abs);
		return -ENOMEM;
	}
	cut = strlen(prefix);
	for (;;) {
		prefix[cut] = '\0';
		real = realpath(cut ? prefix : "/", NULL);
		if (real)
			break;
		if (errno != ENOENT) {
			rc = -errno;
			free(prefix);
			free(abs);
			return rc;
		}
		/* Drop the last component and the slashes before it. */
		while (cut > 0 && prefix[cut - 1] != '/')
			cut--;
		while (cut > 0 && prefix[cut - 1] == '/')
			cut--;
	}
	free(prefix);
	rest = abs + cut; /* "" or "/missing/parts" */

	len = strlen(real);
	res = malloc(len + strlen(rest) + 2);
	if (!res) {
		free(real);
		free(abs);
		return -ENOMEM;
	}
	memcpy(res, real, len + 1);
	free(real);
	for (const char *p = rest; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 1 && res[len - 1] != '/')
				len--;
			if (len > 1)
				len--;
			res[len] = '\0';
		} else {
			if (len > 1)
				res[len++] = '/';
			memcpy(res + len, p, n);
			len += n;
			res[len] = '\0';
		}
		p += n;
	}
	free(abs);
	*out = res;
	return 0;
}

/* The mountpoint must be an existing directory; stores its resolved path. */
static int check_mountpoint(struct options *o, char *err, size_t errlen)
{
	struct stat st;
	char *real;

	if (stat(o->mountpoint, &st) < 0) {
		int e = errno;

		if (e == ENOENT)
			return errfmt(-ENOENT, err, errlen, "mountpoint '%s' does not exist",
				      o->mountpoint);
		if (e == ENOTDIR)
			return errfmt(-ENOTDIR, err, errlen, "mountpoint '%s' is not a directory",
				      o->mountpoint);
		if (e == ENOTCONN)
			return errfmt(-ENOTCONN, err, errlen,
				      "mountpoint '%s': %s (a stale mount? try fusermount3 -u)",
				      o->mountpoint, strerror(e));
		return errfmt(-e, err, errlen, "mountpoint '%s': %s", o->mountpoint, strerror(e));
	}
	if (!S_ISDIR(st.st_mode))
		return errfmt(-ENOTDIR, err, errlen, "mountpoint '%s' is not a directory",
			      o->mountpoint);
	real = realpath(o->mountpoint, NULL);
	if (!real)
		return errfmt(-errno, err, errlen, "mountpoint '%s': %s", o->mountpoint,
			      strerror(errno));
	free(o->mountpoint);
	o->mountpoint = real;
	return 0;
}

/* The cache directory must not be the mountpoint or lie under it. */
static int check_cache_dir(struct options *o, char *err, size_t errlen)
{
	char *cache = NULL;
	int rc;

	rc = resolve_partial(o->cache_dir, &cache);
	if (rc < 0)
		return errfmt(rc, err, errlen, "cache directory '%s': %s", o->cache_dir,
			      strerror(-rc));
	if (path_within(cache, o->mountpoint)) {
		rc = errfmt(-EINVAL, err, errlen,
			    strcmp(cache, o->mountpoint) == 0 ?
				    "cache directory '%s' is the mountpoint '%s'; choose another "
				    "with -o cache_dir=DIR" :
				    "cache directory '%s' is inside the mountpoint '%s'; choose "
				    "another with -o cache_dir=DIR",
			    cache, o->mountpoint);
	}
	free(cache);
	return rc;
}

/* Trims spaces and tabs at both ends of s, in place. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

struct creds {
	char *user;	/* from username= */
	char *domain;	/* from domain= or username=DOMAIN/NAME */
	char *password; /* from password= or username=NAME%PASS */
};

static void creds_release(struct creds *c)
{
	free(c->user);
	free(c->domain);
	free_secret(c->password);
	memset(c, 0, sizeof(*c));
}

/* username=[DOMAIN/]NAME[%PASS], split as mount.cifs does. */
static int creds_username(struct creds *c, char *val)
{
	char *pct = strchr(val, '%');
	char *sep;
	int rc;

	if (pct) {
		*pct = '\0';
		rc = set_str(&c->password, pct + 1);
		if (rc < 0)
			return rc;
	}
	val = trim(val);
	sep = strpbrk(val, "/\\");
	if (sep) {
		rc = set_strn(&c->domain, val, (size_t)(sep - val));
		if (rc < 0)
			return rc;
		val = sep + 1;
	}
	return set_str(&c->user, val);
}

/*
 * Parses the credentials text buf (NUL-terminated, modified in place) into
 * c.  Returns 0, -EINVAL with err for a bad line, or -ENOMEM.
 */
static int creds_parse(const char *file, char *buf, struct creds *c, char *err, size_t errlen)
{
	int lineno = 0;
	char *next;

	for (char *line = buf; line; line = next) {
		char *eq, *key, *val;
		int rc = 0;
		size_t n;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return errfmt(-EINVAL, err, errlen,
				      "credentials file '%s', line %d: expected key=value", file,
				      lineno);
		*eq = '\0';
		key = trim(line);
		val = eq + 1;
		if (strcasecmp(key, "username") == 0 || strcasecmp(key, "user") == 0)
			rc = creds_username(c, val);
		else if (strcasecmp(key, "password") == 0 || strcasecmp(key, "pass") == 0)
			rc = set_str(&c->password, val); /* exactly as written */
		else if (strcasecmp(key, "domain") == 0 || strcasecmp(key, "dom") == 0)
			rc = set_str(&c->domain, trim(val));
		else
			return errfmt(-EINVAL, err, errlen,
				      "credentials file '%s', line %d: unknown key '%.64s'", file,
				      lineno, key);
		if (rc < 0)
			return errfmt(rc, err, errlen, "out of memory");
	}
	return 0;
}

/*
 * Reads the credentials file into o: user and domain only where the
 * command line left them unset, the password always.  The buffers that held
 * the file are wiped.
 */
static int read_credentials(struct options *o, char *err, size_t errlen)
{
	struct creds c = {NULL, NULL, NULL};
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open(o->credentials, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errfmt(-EACCES, err, errlen, "cannot open credentials file '%s': %s",
			      o->credentials, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = errfmt(-EACCES, err, errlen, "cannot stat credentials file '%s': %s",
			    o->credentials, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = errfmt(-EINVAL, err, errlen, "credentials file '%s' is not a regular file",
			    o->credentials);
		goto out;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		rc = errfmt(-EACCES, err, errlen,
			    "credentials file '%s' can be read or written by group or others; "
			    "run: chmod 600 '%s'",
			    o->credentials, o->credentials);
		goto out;
	}
	buf = malloc(CREDENTIALS_MAX + 1);
	if (!buf) {
		rc = errfmt(-ENOMEM, err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CREDENTIALS_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errfmt(-EACCES, err, errlen, "cannot read credentials file '%s': %s",
				    o->credentials, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CREDENTIALS_MAX) {
			rc = errfmt(-EINVAL, err, errlen,
				    "credentials file '%s' is too large (more than %d bytes)",
				    o->credentials, CREDENTIALS_MAX);
			goto out;
		}
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		rc = errfmt(-EINVAL, err, errlen, "credentials file '%s' is not a text file",
			    o->credentials);
		goto out;
	}
	rc = creds_parse(o->credentials, buf, &c, err, errlen);
	if (rc < 0)
		goto out;

	if (c.user && !o->user) {
		o->user = c.user;
		c.user = NULL;
	}
	if (c.domain && !o->domain) {
		o->domain = c.domain;
		c.domain = NULL;
	}
	if (c.password) {
		free_secret(o->password);
		o->password = c.password;
		c.password = NULL;
	}
out:
	creds_release(&c);
	if (buf) {
		explicit_bzero(buf, CREDENTIALS_MAX + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

int options_validate(struct options *o, char *err, size_t errlen)
{
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = check_mountpoint(o, err, errlen);
	if (rc < 0)
		return rc;
	rc = check_cache_dir(o, err, errlen);
	if (rc < 0)
		return rc;
	if (o->credentials)
		return read_credentials(o, err, errlen);
	return 0;
}

void options_release(struct options *o)
{
	free(o->config);
	free(o->unc_text);
	free(o->mountpoint);
	free(o->cache_dir);
	free(o->socket);
	free(o->credentials);
	free(o->user);
	free(o->domain);
	free_secret(o->password);
	memset(o, 0, sizeof(*o));
}

void options_usage(void *file)
{
	FILE *f = file;

	fprintf(f,
		"usage: ofsyncd [-f] [-d] [-c CONFIG] [-o OPT[,OPT...]] "
		"//SERVER[:PORT]/SHARE[/DIR] MOUNTPOINT\n"
		"       ofsyncd [-f] [-d] [-c CONFIG] [-o OPT[,OPT...]]   (every share of the "
		"config)\n"
		"       ofsyncd -h | --help\n"
		"       ofsyncd -V | --version\n"
		"\n"
		"Mounts an SMB share through a local cache that keeps it usable offline.\n"
		"The share may also be written \\\\SERVER\\SHARE or smb://SERVER/SHARE; an IPv6\n"
		"address goes in brackets: //[::1]:4450/share.\n"
		"\n"
		"flags:\n"
		"  -f                 stay in the foreground\n"
		"  -d                 debug log\n"
		"  -c CONFIG          the configuration file (default: ~/.config/ofsync/ofsync.conf,\n"
		"                     else /etc/ofsync/ofsync.conf; see ofsync.conf(5))\n"
		"  -o OPT[,OPT...]    mount options (may be given more than once)\n"
		"  -h, --help         print this help and exit\n"
		"  -V, --version      print the version and exit\n"
		"\n"
		"options:\n"
		"  cache_dir=DIR      cache directory (default $XDG_CACHE_HOME/ofsync, else\n"
		"                     ~/.cache/ofsync; /var/cache/ofsync for root)\n"
		"  socket=PATH        control socket (default $XDG_RUNTIME_DIR/ofsync.sock,\n"
		"                     else /tmp/ofsync-UID.sock; /run/ofsync.sock for root)\n"
		"  credentials=FILE   user name, password and domain in mount.cifs format\n"
		"                     (username=, password=, domain=); mode 600 required\n"
		"  guest              log in as guest, without a password\n"
		"  user=NAME          user name (DOMAIN/NAME also sets the domain)\n"
		"  domain=NAME        domain or workgroup\n"
		"  timeout=SECONDS    time limit for each server call (default %d)\n"
		"  attr_timeout=SECONDS  how long the kernel may cache attributes and\n"
		"                     names, and how stale a listing may get (default %.0f,\n"
		"                     or %.0f while the server reports its changes)\n"
		"  notify=yes|no      watch the share for changes made on the server\n"
		"                     (SMB2 change notify; default yes)\n"
		"  probe_interval=SECONDS  while offline, how often to try the server\n"
		"                     (default %d)\n"
		"  cache_size=SIZE    limit for auto-cached (unpinned) data, e.g. 20G\n"
		"  offline            start forced offline: serve the cache, never call the\n"
		"                     server until `ofsync online`\n"
		"\n"
		"FUSE options, passed through:\n"
		"  allow_other  allow_root  ro  rw  default_permissions  auto_unmount\n"
		"  fsname=NAME  subtype=NAME\n"
		"\n"
		"ofsyncd %s\n",
		TIMEOUT_DEFAULT, ATTR_TIMEOUT_DEFAULT, WATCH_TIMEOUT_DEFAULT,
		PROBE_INTERVAL_DEFAULT, OFSYNC_VERSION);
}

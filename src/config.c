/*
 * config.c - ofsync.conf; see config.h and ofsync.conf(5).
 *
 * inih splits the file into sections and key = value pairs; it does not
 * tell the handler the line number (unless built with INI_HANDLER_LINENO,
 * which Debian's libinih is not), nor call it for a section header, so a
 * bad key could not be placed and an empty [share x] would go unseen.  We
 * therefore feed inih through our own reader (ini_parse_stream), which
 *   - counts lines, so the handler knows the line inih is on;
 *   - takes the section headers itself, so that a duplicate or empty
 *     section is seen, and the handler goes by our idea of the section;
 *   - strips leading blanks, so that keys may be indented (and inih's
 *     continuation lines, an indented line continuing the previous value,
 *     are turned off: they would make an indented key part of a value);
 *   - refuses a line that does not fit in inih's buffer (INI_MAX_LINE),
 *     which inih would otherwise split into two lines;
 *   - returns end-of-file at the first error, so the first error is the
 *     one reported.
 * inih still reports a line that is neither a section, a key = value nor a
 * comment, by returning its number.
 *
 * Values that end up in ofsyncd's -o syntax (cache_dir, socket,
 * credentials, options) are checked by options_parse() itself, so the file
 * accepts exactly what the command line does and a bad option is reported
 * at its line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "util/unc.h"
#include "util/util.h"

/* As options.c: server calls take the timeout in milliseconds as an int. */
#define SECONDS_MAX (INT_MAX / 1000)
#define WHY_MAX 512

enum section_kind { SEC_NONE, SEC_GLOBAL, SEC_SHARE };

#define IN_GLOBAL (1u << SEC_GLOBAL)
#define IN_SHARE (1u << SEC_SHARE)

enum key_id {
	K_CACHE_DIR,
	K_SOCKET,
	K_LOG_LEVEL,
	K_TIMEOUT,
	K_PROBE_INTERVAL,
	K_CACHE_LIMIT,
	K_AUTO_CACHE_LIMIT,
	K_OPTIONS,
	K_UNC,
	K_MOUNTPOINT,
	K_CREDENTIALS,
	K_COUNT,
};

struct key_def {
	const char *name;
	enum key_id id;
	unsigned sections; /* IN_GLOBAL, IN_SHARE: where the key may appear */
};

static const struct key_def key_defs[] = {
	{"cache_dir", K_CACHE_DIR, IN_GLOBAL},
	{"socket", K_SOCKET, IN_GLOBAL},
	{"log_level", K_LOG_LEVEL, IN_GLOBAL},
	{"timeout", K_TIMEOUT, IN_GLOBAL},
	{"probe_interval", K_PROBE_INTERVAL, IN_GLOBAL},
	{"cache_limit", K_CACHE_LIMIT, IN_GLOBAL},
	{"auto_cache_limit", K_AUTO_CACHE_LIMIT, IN_GLOBAL},
	{"options", K_OPTIONS, IN_GLOBAL | IN_SHARE},
	{"unc", K_UNC, IN_SHARE},
	{"mountpoint", K_MOUNTPOINT, IN_SHARE},
	{"credentials", K_CREDENTIALS, IN_SHARE},
};

static const struct {
	const char *name;
	enum log_level level;
} log_levels[] = {
	{"error", LOG_LVL_ERR},
	{"warning", LOG_LVL_WARN},
	{"info", LOG_LVL_INFO},
	{"debug", LOG_LVL_DEBUG},
};

/* The state of one config_load(), shared by the reader and the handler. */
struct parse_ctx {
	const char *path;	   /* the file, for messages */
	FILE *f;		   /* the file */
	struct ofsync_config *cfg; /* being filled */
	char *buf;		   /* getline's buffer */
	size_t bufcap;		   /* its size */
	int lineno;		   /* lines read: the line inih is on */
	int read_errno;		   /* errno of a failed read, or 0 */
	enum section_kind kind;	   /* the section of the current line */
	int global_line;	   /* line of [global], 0 before it */
	int seen[K_COUNT];	   /* line of each key in this section, 0: not yet */
	int cache_limit_line;	   /* line of cache_limit, 0: not given */
	int auto_cache_limit_line; /* line of auto_cache_limit, 0: not given */
	int err_line;		   /* line of the first error, 0: none yet */
	int rc;			   /* its code */
	char *err;		   /* the caller's buffer */
	size_t errlen;
};

/*
 * Records the first error, "PATH:LINE: reason", and returns rc.  Later
 * errors are dropped: the first one is the one to fix.
 */
static int fail_at(struct parse_ctx *c, int line, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct parse_ctx *c, int line, int rc, const char *fmt, ...)
{
	char why[WHY_MAX];
	va_list ap;

	if (c->err_line)
		return rc;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->err_line = line;
	c->rc = rc;
	errfmt(rc, c->err, c->errlen, "%s:%d: %s", c->path, line, why);
	return rc;
}

#define fail(c, ...) fail_at((c), (c)->lineno, -EINVAL, __VA_ARGS__)

static struct config_share *cur_share(struct parse_ctx *c)
{
	return &c->cfg->shares[c->cfg->nshares - 1];
}

/* "[global]" or "[share NAME]", for messages about the current section. */
static const char *where(struct parse_ctx *c, char *buf, size_t len)
{
	if (c->kind == SEC_SHARE)
		snprintf(buf, len, "[share %s]", cur_share(c)->name);
	else
		snprintf(buf, len, "[global]");
	return buf;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Letters, digits, '.', '_' and '-', not starting with '.' or '-'. */
static bool valid_share_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	}
	return true;
}

/* Opens [share name] at the current line. 0 or a negative errno. */
static int begin_share(struct parse_ctx *c, const char *name)
{
	struct ofsync_config *cfg = c->cfg;
	struct config_share *shares;

	if (!*name)
		return fail(c, "a share section needs a name: [share NAME]");
	if (!valid_share_name(name))
		return fail(c,
			    "bad share name '%.*s' (letters, digits, '.', '_' and '-', "
			    "at most %d, not starting with '.' or '-')",
			    CONFIG_NAME_MAX + 1, name, CONFIG_NAME_MAX);
	for (size_t i = 0; i < cfg->nshares; i++) {
		if (strcmp(cfg->shares[i].name, name) == 0)
			return fail(c, "[share %s] given twice (first on line %d)", name,
				    cfg->shares[i].line);
	}
	shares = realloc(cfg->shares, (cfg->nshares + 1) * sizeof(*shares));
	if (!shares)
		return fail_at(c, c->lineno, -ENOMEM, "out of memory");
	cfg->shares = shares;
	memset(&shares[cfg->nshares], 0, sizeof(*shares));
	shares[cfg->nshares].line = c->lineno;
	shares[cfg->nshares].name = strdup(name);
	cfg->nshares++; /* counted now, so that config_free() frees it */
	if (!shares[cfg->nshares - 1].name)
		return fail_at(c, c->lineno, -ENOMEM, "out of memory");
	c->kind = SEC_SHARE;
	return 0;
}

/*
 * Takes the section header line (leading blanks gone, starting with '[').
 * inih parses it again and ignores it; from here on the handler goes by
 * c->kind.  0 or a negative errno.
 */
static int begin_section(struct parse_ctx *c, char *line)
{
	char *end = strchr(line, ']'), *rest, *name;

	if (!end)
		return fail(c, "missing ']' in section header");
	rest = end + 1;
	while (*rest == ' ' || *rest == '\t' || *rest == '\r')
		rest++;
	if (*rest && *rest != '#' && *rest != ';')
		return fail(c, "text after ']' (a section header is alone on its line)");
	*end = '\0';
	name = trim(line + 1);
	memset(c->seen, 0, sizeof(c->seen));
	c->kind = SEC_NONE;
	if (strcmp(name, "global") == 0) {
		if (c->global_line)
			return fail(c, "[global] given twice (first on line %d)", c->global_line);
		c->global_line = c->lineno;
		c->kind = SEC_GLOBAL;
		return 0;
	}
	if (strncmp(name, "share", 5) == 0 &&
	    (name[5] == '\0' || name[5] == ' ' || name[5] == '\t'))
		return begin_share(c, trim(name + 5));
	return fail(c, "unknown section '[%.64s]' (expected [global] or [share NAME])", name);
}

/*
 * inih's reader (fgets-like): the next line into str, with what the file
 * comment above says done to it.  NULL at the end, after a read error, or
 * at the first error.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	char *p;
	ssize_t n;
	size_t len;

	if (c->err_line)
		return NULL;
	errno = 0;
	n = getline(&c->buf, &c->bufcap, c->f);
	if (n < 0) {
		if (ferror(c->f))
			c->read_errno = errno ? errno : EIO;
		return NULL;
	}
	c->lineno++;
	if (memchr(c->buf, '\0', (size_t)n)) {
		fail(c, "a NUL byte (not a text file?)");
		return NULL;
	}
	if (n > 0 && c->buf[n - 1] == '\n')
		c->buf[--n] = '\0';
	p = c->buf;
	if (c->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark */
	while (isspace((unsigned char)*p))
		p++;
	len = strlen(p);
	if (num < 2 || len > (size_t)num - 1) {
		fail(c, "line too long (at most %d characters)", num - 1);
		return NULL;
	}
	memcpy(str, p, len + 1);
	if (*p == '[' && begin_section(c, p) < 0)
		return NULL;
	return str;
}

/* $HOME, else the password database's home directory, or NULL. */
static const char *home_dir(char *buf, size_t len)
{
	const char *home = getenv("HOME");
	struct passwd pw, *res = NULL;

	if (home && home[0] == '/')
		return home;
	if (getpwuid_r(geteuid(), &pw, buf, len, &res) != 0 || !res || res->pw_dir[0] != '/')
		return NULL;
	return res->pw_dir;
}

/*
 * Stores in *out (malloc'd) the path value with a leading "~" or "~/"
 * expanded, "//" collapsed and a trailing '/' dropped.  It must be
 * absolute; with comma false it must not contain a ',' (it goes into an -o
 * list).  0 or a negative errno, with the error recorded.
 */
static int set_path(struct parse_ctx *c, const char *key, const char *value, bool comma, char **out)
{
	char pwbuf[4096];
	const char *home = "";
	const char *rest = value;
	char *path, *d;

	if (value[0] == '~' && (value[1] == '\0' || value[1] == '/')) {
		home = home_dir(pwbuf, sizeof(pwbuf));
		if (!home)
			return fail(c, "%s: cannot expand '~' (HOME is not set)", key);
		rest = value + 1;
	} else if (value[0] != '/') {
		return fail(c, "%s must be an absolute path (or start with ~/), not '%.256s'", key,
			    value);
	}
	if (!comma && strchr(value, ','))
		return fail(c, "%s: a path with a ',' cannot be used here", key);
	path = malloc(strlen(home) + strlen(rest) + 2);
	if (!path)
		return fail_at(c, c->lineno, -ENOMEM, "out of memory");
	sprintf(path, "%s%s", home, rest);
	/* Collapse runs of '/' and drop a trailing one; "/" stays. */
	d = path;
	for (const char *s = path; *s; s++) {
		if (*s == '/' && d > path && d[-1] == '/')
			continue;
		*d++ = *s;
	}
	if (d > path + 1 && d[-1] == '/')
		d--;
	*d = '\0';
	free(*out);
	*out = path;
	return 0;
}

/* Does path contain a "." or ".." component?  path is normalized. */
static bool has_dot_component(const char *path)
{
	for (const char *p = path; (p = strchr(p, '/')); p++) {
		if (p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return true;
		if (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0'))
			return true;
	}
	return false;
}

/* Is path equal to dir or inside it?  Both normalized. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Whole seconds, 1 to SECONDS_MAX. */
static int parse_seconds(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > SECONDS_MAX)
			return -ERANGE;
	}
	if (v == 0)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

/*
 * Runs options_parse() on opts as a -o argument, as ofsyncd will.  unc and
 * mnt stand in for the operands (NULL: placeholders).  Returns 0, or
 * -EINVAL with options_parse()'s reason in why.
 */
static int try_options(const char *opts, const char *unc, const char *mnt, char *why, size_t whylen)
{
	/* The cache and socket given so that no default is needed (HOME). */
	char *argv[] = {"ofsyncd",
			"-o",
			"cache_dir=/nonexistent,socket=/nonexistent",
			"-o",
			(char *)opts,
			(char *)(unc ? unc : "//config/check"),
			(char *)(mnt ? mnt : "/"),
			NULL};
	struct options o;
	int rc = options_parse(7, argv, &o, why, whylen);

	options_release(&o);
	return rc < 0 ? -EINVAL : 0;
}

/* The checked value of key k, which may appear in this section. */
static int set_key(struct parse_ctx *c, const struct key_def *k, const char *value)
{
	struct ofsync_config *cfg = c->cfg;
	struct config_share *sh = c->kind == SEC_SHARE ? cur_share(c) : NULL;
	char why[WHY_MAX], opt[PATH_MAX + 64];
	struct unc u, v;
	int rc;

	switch (k->id) {
	case K_CACHE_DIR:
	case K_SOCKET:
	case K_CREDENTIALS: {
		char **dst = k->id == K_CACHE_DIR ? &cfg->cache_dir :
			     k->id == K_SOCKET	  ? &cfg->socket :
						    &sh->credentials;

		rc = set_path(c, k->name, value, false, dst);
		if (rc < 0)
			return rc;
		/* Let options_parse() judge it (a socket path too long, ...). */
		snprintf(opt, sizeof(opt), "%s=%s", k->name, *dst);
		if (try_options(opt, NULL, NULL, why, sizeof(why)) < 0)
			return fail(c, "%s", why);
		return 0;
	}
	case K_LOG_LEVEL:
		for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++) {
			if (strcmp(value, log_levels[i].name) == 0) {
				cfg->log_level = log_levels[i].level;
				return 0;
			}
		}
		return fail(c, "bad log_level '%.64s' (error, warning, info or debug)", value);
	case K_TIMEOUT:
	case K_PROBE_INTERVAL:
		if (parse_seconds(value,
				  k->id == K_TIMEOUT ? &cfg->timeout : &cfg->probe_interval) < 0)
			return fail(c, "bad number '%.64s' for %s (whole seconds, 1 to %d)", value,
				    k->name, SECONDS_MAX);
		return 0;
	case K_CACHE_LIMIT:
	case K_AUTO_CACHE_LIMIT:
		if (parse_size(value, k->id == K_CACHE_LIMIT ? &cfg->cache_limit :
							       &cfg->auto_cache_limit) < 0)
			return fail(c,
				    "bad size '%.64s' for %s (bytes, with an optional K, M, G "
				    "or T suffix; or none)",
				    value, k->name);
		if (k->id == K_CACHE_LIMIT)
			c->cache_limit_line = c->lineno;
		else
			c->auto_cache_limit_line = c->lineno;
		return 0;
	case K_OPTIONS:
		if (try_options(value, NULL, NULL, why, sizeof(why)) < 0)
			return fail(c, "options: %s", why);
		if (sh) {
			sh->options = strdup(value);
			rc = sh->options ? 0 : -ENOMEM;
		} else {
			cfg->options = strdup(value);
			rc = cfg->options ? 0 : -ENOMEM;
		}
		if (rc < 0)
			return fail_at(c, c->lineno, rc, "out of memory");
		return 0;
	case K_UNC:
		if (unc_parse(value, &u, why, sizeof(why)) < 0)
			return fail(c, "malformed unc '%.256s': %s", value, why);
		if (unc_format(&u, opt, sizeof(opt)) < 0)
			return fail(c, "malformed unc '%.256s': too long", value);
		for (size_t i = 0; i + 1 < cfg->nshares; i++) {
			const struct config_share *o = &cfg->shares[i];

			if (o->unc && unc_parse(o->unc, &v, why, sizeof(why)) == 0 &&
			    unc_same_share(&u, &v) && strcmp(u.path, v.path) == 0)
				return fail(c, "unc '%s' is already that of [share %s] (line %d)",
					    opt, o->name, o->line);
		}
		sh->unc = strdup(opt);
		if (!sh->unc)
			return fail_at(c, c->lineno, -ENOMEM, "out of memory");
		return 0;
	case K_MOUNTPOINT:
		rc = set_path(c, k->name, value, true, &sh->mountpoint);
		if (rc < 0)
			return rc;
		if (has_dot_component(sh->mountpoint))
			return fail(c, "mountpoint '%.256s' has a '.' or '..' component", value);
		for (size_t i = 0; i + 1 < cfg->nshares; i++) {
			const struct config_share *o = &cfg->shares[i];

			if (!o->mountpoint)
				continue;
			if (strcmp(o->mountpoint, sh->mountpoint) == 0)
				return fail(c, "mountpoint '%s' is already that of [share %s]",
					    sh->mountpoint, o->name);
			if (path_within(sh->mountpoint, o->mountpoint) ||
			    path_within(o->mountpoint, sh->mountpoint))
				return fail(c,
					    "mountpoint '%s' and that of [share %s], '%s', are "
					    "inside one another",
					    sh->mountpoint, o->name, o->mountpoint);
		}
		return 0;
	case K_COUNT:
		break;
	}
	return fail(c, "internal error: key '%s'", k->name);
}

/* Checks one key = value of the current section and stores it. 0 or a negative errno. */
static int take_key(struct parse_ctx *c, const char *name, const char *value)
{
	const struct key_def *k = NULL;
	char sec[CONFIG_NAME_MAX + 16];

	if (!*name)
		return fail(c, "a key is missing before '='");
	if (c->kind == SEC_NONE)
		return fail(c,
			    "key '%.64s' outside a section (put it under [global] or [share NAME])",
			    name);
	for (size_t i = 0; i < ARRAY_SIZE(key_defs); i++) {
		if (strcmp(key_defs[i].name, name) == 0) {
			k = &key_defs[i];
			break;
		}
	}
	if (!k)
		return fail(c, "unknown key '%.64s' in %s", name, where(c, sec, sizeof(sec)));
	if (!(k->sections & (1u << c->kind)))
		return fail(c, "key '%s' does not belong in %s (it goes in %s)", name,
			    where(c, sec, sizeof(sec)),
			    c->kind == SEC_SHARE ? "[global]" : "a [share NAME] section");
	if (c->seen[k->id])
		return fail(c, "key '%s' given twice in %s (first on line %d)", name,
			    where(c, sec, sizeof(sec)), c->seen[k->id]);
	c->seen[k->id] = c->lineno;
	if (!*value)
		return fail(c, "key '%s' needs a value", name);
	return set_key(c, k, value);
}

/* inih's handler: 1 to go on, 0 on an error (the reader then stops). */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;

	(void)section; /* we go by c->kind, from the headers the reader took */
	if (c->err_line)
		return 0;
	return take_key(c, name, value) == 0;
}

/* The checks that need the whole file. 0 or a negative errno. */
static int check_whole(struct parse_ctx *c)
{
	struct ofsync_config *cfg = c->cfg;
	char why[WHY_MAX];

	if (cfg->cache_limit && cfg->auto_cache_limit && cfg->auto_cache_limit > cfg->cache_limit)
		return fail_at(
			c,
			c->auto_cache_limit_line > c->cache_limit_line ? c->auto_cache_limit_line :
									 c->cache_limit_line,
			-EINVAL,
			"auto_cache_limit (%llu bytes) is more than cache_limit (%llu bytes)",
			(unsigned long long)cfg->auto_cache_limit,
			(unsigned long long)cfg->cache_limit);
	for (size_t i = 0; i < cfg->nshares; i++) {
		const struct config_share *sh = &cfg->shares[i];
		char *opts;
		int rc;

		if (!sh->unc)
			return fail_at(c, sh->line, -EINVAL, "[share %s] has no unc", sh->name);
		if (!sh->mountpoint)
			return fail_at(c, sh->line, -EINVAL, "[share %s] has no mountpoint",
				       sh->name);
		/* Each key was fine alone; now together ("guest" and "credentials"). */
		rc = config_share_opts(cfg, sh, &opts);
		if (rc < 0)
			return fail_at(c, sh->line, rc, "out of memory");
		rc = try_options(opts, sh->unc, sh->mountpoint, why, sizeof(why));
		free(opts);
		if (rc < 0)
			return fail_at(c, sh->line, rc, "[share %s]: %s", sh->name, why);
	}
	return 0;
}

void config_init(struct ofsync_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_LVL_INFO; /* one line per sync, per eviction, per state change */
}

int config_load(const char *path, struct ofsync_config *cfg, char *err, size_t errlen)
{
	struct parse_ctx c = {.path = path, .cfg = cfg, .err = err, .errlen = errlen};
	int rc, line;

	config_init(cfg);
	if (err && errlen)
		err[0] = '\0';
	c.f = fopen(path, "re");
	if (!c.f) {
		rc = -errno;
		return errfmt(rc, err, errlen, "cannot read %s: %s", path, strerror(-rc));
	}
	line = ini_parse_stream(read_line, &c, on_key, &c);
	free(c.buf);
	fclose(c.f);
	if (line > 0 && (!c.err_line || line < c.err_line)) {
		c.err_line = 0; /* inih's error comes first */
		fail_at(&c, line, -EINVAL,
			"expected [section], key = value, or a comment ('#' or ';')");
	} else if (line < 0 && !c.err_line) {
		fail_at(&c, c.lineno, -ENOMEM, "out of memory");
	}
	if (!c.err_line && c.read_errno) {
		rc = -c.read_errno;
		errfmt(rc, err, errlen, "cannot read %s: %s", path, strerror(-rc));
		config_free(cfg);
		return rc;
	}
	if (!c.err_line)
		check_whole(&c);
	if (c.err_line) {
		config_free(cfg);
		return c.rc;
	}
	cfg->path = strdup(path);
	if (!cfg->path) {
		config_free(cfg);
		return errfmt(-ENOMEM, err, errlen, "out of memory");
	}
	return 0;
}

/* Is there something at path?  A path we cannot look at counts as there. */
static bool exists(const char *path)
{
	return access(path, F_OK) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

int config_default_path(char *out, size_t len)
{
	int n;

	if (geteuid() != 0) {
		const char *xdg = getenv("XDG_CONFIG_HOME");
		char pwbuf[4096];
		const char *home;

		n = -1;
		/* The XDG spec says to ignore a relative value. */
		if (xdg && xdg[0] == '/')
			n = snprintf(out, len, "%s/ofsync/%s", xdg, CONFIG_FILE);
		else if ((home = home_dir(pwbuf, sizeof(pwbuf))))
			n = snprintf(out, len, "%s/.config/ofsync/%s", home, CONFIG_FILE);
		if (n >= 0 && (size_t)n >= len)
			return -ENAMETOOLONG;
		if (n >= 0 && exists(out))
			return 0;
	}
	n = snprintf(out, len, "%s", CONFIG_SYSTEM_PATH);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return exists(out) ? 0 : -ENOENT;
}

const struct config_share *config_find_share(const struct ofsync_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nshares; i++) {
		if (strcmp(cfg->shares[i].name, name) == 0)
			return &cfg->shares[i];
	}
	return NULL;
}

/* A growing string for config_share_opts(). */
struct strbuf {
	char *s;
	size_t len, cap;
	int rc; /* -ENOMEM once an append failed */
};

/* Appends ",text" (or "text" when empty), text being printf'd. */
static void sb_item(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_item(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->rc < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->rc = -ENOMEM;
		return;
	}
	if (sb->len + (size_t)n + 2 > sb->cap) {
		size_t cap = (sb->len + (size_t)n + 2) * 2;
		char *s = realloc(sb->s, cap);

		if (!s) {
			sb->rc = -ENOMEM;
			return;
		}
		sb->s = s;
		sb->cap = cap;
	}
	if (sb->len)
		sb->s[sb->len++] = ',';
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

int config_share_opts(const struct ofsync_config *cfg, const struct config_share *sh, char **out)
{
	struct strbuf sb = {NULL, 0, 0, 0};

	*out = NULL;
	if (cfg->cache_dir)
		sb_item(&sb, "cache_dir=%s", cfg->cache_dir);
	if (cfg->socket)
		sb_item(&sb, "socket=%s", cfg->socket);
	if (cfg->timeout)
		sb_item(&sb, "timeout=%u", cfg->timeout);
	if (cfg->probe_interval)
		sb_item(&sb, "probe_interval=%u", cfg->probe_interval);
	if (cfg->options)
		sb_item(&sb, "%s", cfg->options);
	if (sh && sh->credentials)
		sb_item(&sb, "credentials=%s", sh->credentials);
	if (sh && sh->options)
		sb_item(&sb, "%s", sh->options);
	if (sb.rc == 0 && !sb.s) {
		sb.s = strdup("");
		if (!sb.s)
			sb.rc = -ENOMEM;
	}
	if (sb.rc < 0) {
		free(sb.s);
		return sb.rc;
	}
	*out = sb.s;
	return 0;
}

int config_argv(const struct ofsync_config *cfg, const struct config_share *sh, const char *argv0,
		int nargs, char *const *args, char ***out)
{
	char **v, *opts;
	int n = 0, rc;

	*out = NULL;
	if (nargs < 0)
		return -EINVAL;
	rc = config_share_opts(cfg, sh, &opts);
	if (rc < 0)
		return rc;
	v = calloc((size_t)nargs + 6, sizeof(*v));
	if (!v) {
		free(opts);
		return -ENOMEM;
	}
	v[n++] = strdup(argv0);
	if (*opts) {
		v[n++] = strdup("-o");
		v[n++] = opts;
	} else {
		free(opts);
	}
	for (int i = 0; i < nargs; i++)
		v[n++] = strdup(args[i]);
	if (sh) {
		v[n++] = strdup(sh->unc);
		v[n++] = strdup(sh->mountpoint);
	}
	for (int i = 0; i < n; i++) {
		if (!v[i]) {
			/* v[i] NULL ends the list early; free the rest by hand. */
			for (int j = i + 1; j < n; j++)
				free(v[j]);
			config_argv_free(v);
			return -ENOMEM;
		}
	}
	*out = v;
	return n;
}

void config_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

void config_free(struct ofsync_config *cfg)
{
	for (size_t i = 0; i < cfg->nshares; i++) {
		struct config_share *sh = &cfg->shares[i];

		free(sh->name);
		free(sh->unc);
		free(sh->mountpoint);
		free(sh->credentials);
		free(sh->options);
	}
	free(cfg->shares);
	free(cfg->path);
	free(cfg->cache_dir);
	free(cfg->socket);
	free(cfg->options);
	config_init(cfg);
}

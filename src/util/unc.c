/*
 * unc.c - share names; see unc.h.
 *
 * The parser walks the string once: prefix, server, optional port, share,
 * then path components.  '/' and '\' are both separators after the prefix,
 * so "\\srv\share\dir" and "//srv/share/dir" parse alike.  It fills a local
 * struct and copies it out only on success.
 */
#include "util/unc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

static bool is_sep(char c)
{
	return c == '/' || c == '\\';
}

/* Characters Windows forbids in share and file names, and control characters. */
static bool bad_name_char(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("\\/:*?\"<>|", c) != NULL;
}

/* Host names: letters, digits, '-', '.', '_', and non-ASCII bytes (IDN). */
static bool host_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80;
}

/* Describes c for a message: 'x' for printable, \xNN otherwise. */
static const char *show_char(unsigned char c, char *buf, size_t len)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "\\x%02x", c);
	return buf;
}

/*
 * Parses a bracketed IPv6 literal at *pp (which points at '[').  On success
 * stores the address without brackets in u->server and advances *pp past ']'.
 */
static int parse_ipv6(const char **pp, struct unc *u, char *err, size_t errlen)
{
	const char *p = *pp + 1;
	const char *close = p;
	unsigned char addr[16];
	char host[UNC_SERVER_MAX];
	size_t len;
	char *zone;

	while (*close && *close != ']' && !is_sep(*close))
		close++;
	if (*close != ']')
		return errfmt(-EINVAL, err, errlen, "missing ']' after IPv6 address");
	len = (size_t)(close - p);
	if (len == 0)
		return errfmt(-EINVAL, err, errlen, "empty server name");
	if (len >= sizeof(host))
		return errfmt(-EINVAL, err, errlen, "server name too long");
	memcpy(host, p, len);
	host[len] = '\0';
	/* An optional zone ("fe80::1%eth0") follows the address. */
	zone = strchr(host, '%');
	if (zone) {
		*zone = '\0';
		if (zone[1] == '\0')
			return errfmt(-EINVAL, err, errlen, "empty IPv6 zone");
		for (const char *z = zone + 1; *z; z++)
			if (!isalnum((unsigned char)*z) && *z != '-' && *z != '_' && *z != '.')
				return errfmt(-EINVAL, err, errlen, "bad IPv6 zone '%s'", zone + 1);
	}
	if (inet_pton(AF_INET6, host, addr) != 1)
		return errfmt(-EINVAL, err, errlen, "bad IPv6 address '%s'", host);
	if (zone)
		*zone = '%';
	memcpy(u->server, host, len + 1);
	*pp = close + 1;
	return 0;
}

/* Parses a host name at *pp up to ':', a separator or the end. */
static int parse_host(const char **pp, struct unc *u, char *err, size_t errlen)
{
	const char *p = *pp;
	size_t len = 0;
	char cb[8];

	while (p[len] && p[len] != ':' && !is_sep(p[len])) {
		if (!host_char((unsigned char)p[len]))
			return errfmt(-EINVAL, err, errlen, "bad character %s in server name",
				      show_char((unsigned char)p[len], cb, sizeof(cb)));
		len++;
	}
	if (len == 0 && p[0] == ':')
		return errfmt(-EINVAL, err, errlen,
			      "empty server name (an IPv6 address goes in brackets: "
			      "//[::1]/share)");
	if (len == 0)
		return errfmt(-EINVAL, err, errlen, "empty server name");
	if (len >= sizeof(u->server))
		return errfmt(-EINVAL, err, errlen, "server name too long");
	memcpy(u->server, p, len);
	u->server[len] = '\0';
	*pp = p + len;
	return 0;
}

/* Parses ":PORT" at *pp (pointing at ':'); the port must be 1..65535. */
static int parse_port(const char **pp, struct unc *u, char *err, size_t errlen)
{
	const char *p = *pp + 1;
	const char *q = p;
	unsigned long port = 0;

	while (*q && !is_sep(*q))
		q++;
	if (q == p)
		return errfmt(-EINVAL, err, errlen, "missing port number after ':'");
	for (const char *d = p; d < q; d++) {
		if (*d < '0' || *d > '9')
			return errfmt(-EINVAL, err, errlen, "bad port '%.*s'", (int)(q - p), p);
		if (port <= 65535)
			port = port * 10 + (unsigned long)(*d - '0');
	}
	if (port == 0 || port > 65535)
		return errfmt(-EINVAL, err, errlen, "port %.*s out of range (1-65535)",
			      (int)(q - p), p);
	u->port = (unsigned)port;
	*pp = q;
	return 0;
}

/* Checks one share name or path component [p, p+len). */
static int check_name(const char *what, const char *p, size_t len, char *err, size_t errlen)
{
	char cb[8];

	for (size_t k = 0; k < len; k++)
		if (bad_name_char((unsigned char)p[k]))
			return errfmt(-EINVAL, err, errlen, "bad character %s in %s",
				      show_char((unsigned char)p[k], cb, sizeof(cb)), what);
	return 0;
}

/* Parses the path after the share, *p being the separator that starts it. */
static int parse_path(const char *p, struct unc *u, char *err, size_t errlen)
{
	size_t out = 0;
	int rc;

	while (*p) {
		const char *name = p + 1; /* p is at a separator */
		size_t len = 0;

		while (name[len] && !is_sep(name[len]))
			len++;
		if (len == 0) {
			if (name[0] == '\0')
				break; /* one trailing separator */
			return errfmt(-EINVAL, err, errlen, "empty path component ('//')");
		}
		if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
			return errfmt(-EINVAL, err, errlen, "'%.*s' is not allowed in the path",
				      (int)len, name);
		rc = check_name("path", name, len, err, errlen);
		if (rc < 0)
			return rc;
		if (out + 1 + len >= sizeof(u->path))
			return errfmt(-EINVAL, err, errlen, "path too long");
		u->path[out++] = '/';
		memcpy(u->path + out, name, len);
		out += len;
		p = name + len;
	}
	u->path[out] = '\0';
	return 0;
}

int unc_parse(const char *s, struct unc *out, char *err, size_t errlen)
{
	struct unc u;
	const char *p = s;
	const char *share;
	size_t len;
	int rc;

	memset(&u, 0, sizeof(u));
	if (!s || !*s)
		return errfmt(-EINVAL, err, errlen, "empty share name");
	if (strncasecmp(p, "smb://", 6) == 0)
		p += 6;
	else if (is_sep(p[0]) && is_sep(p[1]))
		p += 2;
	else
		return errfmt(-EINVAL, err, errlen, "must start with // or \\\\ or smb://");

	rc = *p == '[' ? parse_ipv6(&p, &u, err, errlen) : parse_host(&p, &u, err, errlen);
	if (rc < 0)
		return rc;
	if (*p == ':') {
		rc = parse_port(&p, &u, err, errlen);
		if (rc < 0)
			return rc;
	} else if (*p && !is_sep(*p)) {
		char cb[8];

		return errfmt(-EINVAL, err, errlen, "unexpected %s after server name",
			      show_char((unsigned char)*p, cb, sizeof(cb)));
	}

	if (!*p || !p[1] || is_sep(p[1]))
		return errfmt(-EINVAL, err, errlen, "missing share name");
	share = p + 1;
	len = 0;
	while (share[len] && !is_sep(share[len]))
		len++;
	if (len >= sizeof(u.share))
		return errfmt(-EINVAL, err, errlen, "share name too long (at most %zu characters)",
			      sizeof(u.share) - 1);
	rc = check_name("share name", share, len, err, errlen);
	if (rc < 0)
		return rc;
	if ((len == 1 && share[0] == '.') || (len == 2 && share[0] == '.' && share[1] == '.'))
		return errfmt(-EINVAL, err, errlen, "'%.*s' is not a share name", (int)len, share);
	memcpy(u.share, share, len);
	u.share[len] = '\0';

	rc = parse_path(share + len, &u, err, errlen);
	if (rc < 0)
		return rc;
	*out = u;
	return 0;
}

int unc_format(const struct unc *u, char *buf, size_t len)
{
	bool v6 = strchr(u->server, ':') != NULL;
	char port[16] = ""; /* ":" and any unsigned */
	int n;

	if (u->port)
		snprintf(port, sizeof(port), ":%u", u->port);
	n = snprintf(buf, len, "//%s%s%s%s/%s%s", v6 ? "[" : "", u->server, v6 ? "]" : "", port,
		     u->share, u->path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

/* 0 (not given) means the SMB default port, so it equals an explicit 445. */
static unsigned effective_port(unsigned port)
{
	return port ? port : 445;
}

int unc_same_share(const struct unc *a, const struct unc *b)
{
	return strcasecmp(a->server, b->server) == 0 &&
	       effective_port(a->port) == effective_port(b->port) &&
	       strcasecmp(a->share, b->share) == 0;
}

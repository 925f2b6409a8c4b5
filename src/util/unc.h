/*
 * unc.h - share names: //SERVER[:PORT]/SHARE[/DIR...]
 *
 * Accepted spellings: //server/share, \\server\share, smb://server/share,
 * with an optional :PORT after the server and an optional path after the
 * share.  An IPv6 literal is written in brackets: //[::1]:4450/share.
 * Pure logic: unit-tested in tests/unit/test_unc.c.
 */
#ifndef OFSYNC_UNC_H
#define OFSYNC_UNC_H

#include <stddef.h>

#define UNC_SERVER_MAX 256
#define UNC_SHARE_MAX 81 /* SMB share names are at most 80 characters */
#define UNC_PATH_MAX 4096

struct unc {
	char server[UNC_SERVER_MAX]; /* host name or address, IPv6 without brackets */
	unsigned port;		     /* 0 when not given (the SMB default, 445) */
	char share[UNC_SHARE_MAX];   /* share name, case as written */
	char path[UNC_PATH_MAX];     /* "" or "/a/b": '/'-separated, no trailing '/' */
};

/*
 * Parses s into *out.  Returns 0, or -EINVAL with a one-line reason in err
 * (e.g. "missing share name", "port out of range") for: no leading // or \\
 * or smb://, an empty server or share, a bad or zero port, characters not
 * allowed in a share name ("\/:*?"<>|" or control characters), "." or ".."
 * path components, empty path components ("//" inside the path), or any part
 * too long.  A trailing '/' is accepted and dropped.
 */
int unc_parse(const char *s, struct unc *out, char *err, size_t errlen);

/*
 * Writes the canonical form "//server[:port]/share[/path]" (IPv6 in
 * brackets, no port when 0) into buf.  Returns the length, or -ENAMETOOLONG
 * when it does not fit.
 */
int unc_format(const struct unc *u, char *buf, size_t len);

/*
 * True when a and b name the same share (server case-insensitive, same
 * port, share case-insensitive); the path is ignored.
 */
int unc_same_share(const struct unc *a, const struct unc *b);

#endif

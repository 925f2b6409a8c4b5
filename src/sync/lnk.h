/*
 * lnk.h - Windows shell links (.lnk, [MS-SHLLINK]): where does a link point?
 *
 * Used by PINLINKTARGETS: pinning a .lnk also pins its target when the target
 * lies on a cached SMB share.  Only the LinkInfo structure is read (the
 * header, then LinkTargetIDList skipped); StringData and ExtraData after it
 * are not needed and not looked at.  Pure logic: unit-tested in
 * tests/unit/test_lnk.c.
 */
#ifndef OFSYNC_LNK_H
#define OFSYNC_LNK_H

#include <stddef.h>

#define LNK_PATH_MAX 4096

struct lnk_target {
	int is_network; /* 1: target given as a network path (CommonNetworkRelativeLink) */
	char net_name[LNK_PATH_MAX];	/* e.g. "\\\\SERVER\\SHARE" (UTF-8), "" if none */
	char path_suffix[LNK_PATH_MAX]; /* CommonPathSuffix, e.g. "dir\\file.txt" (UTF-8) */
	char local_base[LNK_PATH_MAX];	/* LocalBasePath (UTF-8), "" if none; may be a UNC */
	char unc[LNK_PATH_MAX];		/* the target as "//SERVER/SHARE/dir/file.txt", or ""
					   when the target is local (a drive path like C:\x) */
};

/*
 * Parses the bytes of a .lnk file.  Returns 0 with *out filled, or -EINVAL
 * with a one-line reason in err (when err is not NULL) for anything
 * malformed: a short buffer, a wrong header size or CLSID, offsets or sizes
 * pointing outside the buffer or outside their structure, strings without a
 * terminator inside their structure, bad UTF-16 (lone surrogates), a
 * LinkInfo flagged absent (HasLinkInfo unset, or ForceNoLinkInfo set), a
 * string too long for LNK_PATH_MAX, or no usable target.  Never reads
 * outside [buf, buf + len).
 *
 * The Unicode fields are preferred when present.  ANSI strings are taken as
 * Windows-1252 and converted to UTF-8; Unicode strings are UTF-16LE.
 *
 * out->unc is NetName + "\" + CommonPathSuffix when the link has a
 * CommonNetworkRelativeLink, else LocalBasePath + CommonPathSuffix when that
 * starts with "\\" (also "\\?\UNC\server\share"), in the canonical form of
 * unc_format(); else "" (a local target).  A network target that is not a
 * valid share path (see unc_parse: no share, "..", empty components) is
 * refused with -EINVAL.
 */
int lnk_parse(const void *buf, size_t len, struct lnk_target *out, char *err, size_t errlen);

/*
 * Returns 1 when t->unc lies on the share share_unc ("//server[:port]/share",
 * server and share compared case-insensitively, the port ignored) and
 * writes into rel the path below it: "/dir/file.txt", or "" for the share
 * root.  When share_unc has a path ("//srv/share/base"), the target must be
 * inside that directory (compared case-insensitively, by components, as SMB
 * does) and rel is the path below it.  Returns 0 otherwise: a local target,
 * another share, share_unc unparsable, or rel not fitting in rellen.
 */
int lnk_target_on_share(const struct lnk_target *t, const char *share_unc, char *rel,
			size_t rellen);

#endif

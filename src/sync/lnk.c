/*
 * lnk.c - the target of a Windows shell link; see lnk.h.
 *
 * A .lnk file ([MS-SHLLINK]) is a fixed 0x4C-byte ShellLinkHeader, then
 * optional structures announced by its LinkFlags: a LinkTargetIDList (a
 * 16-bit size, skipped here), a LinkInfo, StringData and ExtraData.  The
 * target's path lives in LinkInfo, which is self-contained: every offset in
 * it counts from its first byte and every string must end inside it.  Two
 * shapes matter:
 *
 *   VolumeIDAndLocalBasePath: LocalBasePath + CommonPathSuffix is the
 *     target, "C:\dir\f.txt" or, for a link made on a UNC path,
 *     "\\srv\share\dir\f.txt".
 *   CommonNetworkRelativeLinkAndPathSuffix: a nested structure holds
 *     NetName ("\\srv\share", again with offsets counting from its own
 *     start); the target is NetName + "\" + CommonPathSuffix.
 *
 * Each string exists in the ANSI code page and, in newer files (a longer
 * header: LinkInfoHeaderSize >= 0x24, NetNameOffset > 0x14), also as
 * UTF-16LE; the Unicode one is preferred, the ANSI one is still checked.
 *
 * The input may be hostile (a .lnk on a share is anyone's file), so every
 * read goes through a "span": a pointer and the length of the structure it
 * belongs to.  An offset is checked against the span before it is used, and
 * a nested span (CommonNetworkRelativeLink) must fit inside its parent.
 */
#include "sync/lnk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

#include "util/unc.h"

#define SHLLINK_HEADER_SIZE 0x4c
#define SHLLINK_FLAGS_AT 0x14

/* LinkFlags bits this parser looks at. */
#define LF_HAS_LINK_TARGET_ID_LIST 0x00000001u
#define LF_HAS_LINK_INFO 0x00000002u
#define LF_FORCE_NO_LINK_INFO 0x00000100u

/* LinkInfo: header sizes and LinkInfoFlags. */
#define LI_HEADER_MIN 0x1c     /* no Unicode offsets */
#define LI_HEADER_UNICODE 0x24 /* with the two Unicode offsets */
#define LI_VOLUME_ID_AND_LOCAL_BASE_PATH 0x1u
#define LI_COMMON_NETWORK_RELATIVE_LINK 0x2u

/* VolumeID: VolumeIDSize MUST be greater than its 16-byte fixed part. */
#define VOLUME_ID_FIXED 0x10

/* CommonNetworkRelativeLink: header sizes and flags. */
#define CNRL_HEADER_MIN 0x14
#define CNRL_HEADER_UNICODE 0x1c /* present when NetNameOffset > 0x14 */
#define CNRL_VALID_DEVICE 0x1u

/* 00021401-0000-0000-C000-000000000046, as stored (first three fields little-endian). */
static const uint8_t link_clsid[16] = {0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
				       0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

/* Windows-1252 0x80..0x9F; the five unassigned bytes map to the C1 controls, as Windows does. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

/* A structure of the file: its bytes and a name for messages. */
struct span {
	const uint8_t *p;
	size_t len;
	const char *what;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Appends code point cp as UTF-8 to dst (capacity cap, *n bytes used),
 * keeping room for the terminator.  Returns 0, or -1 when it does not fit.
 */
static int put_utf8(char *dst, size_t cap, size_t *n, uint32_t cp)
{
	uint8_t b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (cap - *n <= k)
		return -1;
	memcpy(dst + *n, b, k);
	*n += k;
	dst[*n] = '\0';
	return 0;
}

/* Checks that a string's offset lies in s's variable part [lo, s->len). */
static int check_offset(const struct span *s, uint32_t off, size_t lo, const char *name, char *err,
			size_t errlen)
{
	if (off < lo || off >= s->len)
		return errfmt(-EINVAL, err, errlen, "%s offset 0x%x outside %s (0x%zx..0x%zx)",
			      name, off, s->what, lo, s->len);
	return 0;
}

/*
 * Reads the NUL-terminated code-page string at off in s, converting it from
 * Windows-1252 into dst (LNK_PATH_MAX bytes).  With dst NULL only checks it.
 * Returns 0 or -EINVAL.
 */
static int read_ansi(const struct span *s, uint32_t off, size_t lo, const char *name, char *dst,
		     char *err, size_t errlen)
{
	const uint8_t *p, *end;
	size_t n = 0;
	int rc;

	rc = check_offset(s, off, lo, name, err, errlen);
	if (rc < 0)
		return rc;
	p = s->p + off;
	end = memchr(p, 0, s->len - off);
	if (!end)
		return errfmt(-EINVAL, err, errlen, "%s has no terminator inside %s", name,
			      s->what);
	if (!dst)
		return 0;
	dst[0] = '\0';
	for (; p < end; p++) {
		uint32_t cp = *p;

		if (cp >= 0x80 && cp < 0xa0)
			cp = cp1252_high[cp - 0x80];
		if (put_utf8(dst, LNK_PATH_MAX, &n, cp) < 0)
			return errfmt(-EINVAL, err, errlen, "%s too long", name);
	}
	return 0;
}

/*
 * Reads the NUL-terminated UTF-16LE string at off in s into dst as UTF-8
 * (LNK_PATH_MAX bytes; dst NULL only checks it).  A surrogate pair becomes
 * one code point; a lone surrogate is an error.  Returns 0 or -EINVAL.
 */
static int read_utf16(const struct span *s, uint32_t off, size_t lo, const char *name, char *dst,
		      char *err, size_t errlen)
{
	char scratch[8];
	size_t cap = dst ? LNK_PATH_MAX : sizeof(scratch);
	size_t i = off, n = 0;
	int rc;

	rc = check_offset(s, off, lo, name, err, errlen);
	if (rc < 0)
		return rc;
	if (!dst)
		dst = scratch; /* each character is written, then overwritten */
	dst[0] = '\0';
	for (; s->len - i >= 2; i += 2) {
		uint32_t cp = get16(s->p + i);

		if (cp == 0)
			return 0;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return errfmt(-EINVAL, err, errlen, "%s has a lone low surrogate at 0x%zx",
				      name, i);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			uint32_t lo16 = s->len - i >= 4 ? get16(s->p + i + 2) : 0;

			if (lo16 < 0xdc00 || lo16 > 0xdfff)
				return errfmt(-EINVAL, err, errlen,
					      "%s has a lone high surrogate at 0x%zx", name, i);
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo16 - 0xdc00);
			i += 2;
		}
		if (dst == scratch)
			n = 0;
		if (put_utf8(dst, cap, &n, cp) < 0)
			return errfmt(-EINVAL, err, errlen, "%s too long", name);
	}
	return errfmt(-EINVAL, err, errlen, "%s has no terminator inside %s", name, s->what);
}

/*
 * Reads a string that has an ANSI form at off and maybe a Unicode form at
 * off_u (0: none) into dst, preferring the Unicode one; both are checked.
 */
static int read_pair(const struct span *s, uint32_t off, uint32_t off_u, size_t lo,
		     const char *name, char *dst, char *err, size_t errlen)
{
	char uname[64];
	int rc;

	rc = read_ansi(s, off, lo, name, off_u ? NULL : dst, err, errlen);
	if (rc < 0 || !off_u)
		return rc;
	snprintf(uname, sizeof(uname), "%sUnicode", name);
	return read_utf16(s, off_u, lo, uname, dst, err, errlen);
}

/* Checks the VolumeID at off in LinkInfo li (its contents are not needed). */
static int check_volume_id(const struct span *li, uint32_t off, size_t lo, char *err, size_t errlen)
{
	uint32_t size;

	if (off < lo || off > li->len || li->len - off < VOLUME_ID_FIXED + 1)
		return errfmt(-EINVAL, err, errlen, "VolumeIDOffset 0x%x outside LinkInfo", off);
	size = get32(li->p + off);
	if (size <= VOLUME_ID_FIXED || size > li->len - off)
		return errfmt(-EINVAL, err, errlen, "VolumeIDSize 0x%x does not fit in LinkInfo",
			      size);
	return 0;
}

static bool is_sep(char c)
{
	return c == '\\' || c == '/';
}

/* Reads the CommonNetworkRelativeLink at off in li: NetName into out->net_name. */
static int read_network_link(const struct span *li, uint32_t off, size_t lo, struct lnk_target *out,
			     char *err, size_t errlen)
{
	struct span c = {.what = "CommonNetworkRelativeLink"};
	uint32_t size, flags, net, dev, net_u = 0, dev_u = 0;
	size_t hdr = CNRL_HEADER_MIN;
	struct unc u;
	char why[128];
	int rc;

	if (off < lo || off > li->len || li->len - off < CNRL_HEADER_MIN)
		return errfmt(-EINVAL, err, errlen,
			      "CommonNetworkRelativeLinkOffset 0x%x outside LinkInfo", off);
	size = get32(li->p + off);
	if (size < CNRL_HEADER_MIN || size > li->len - off)
		return errfmt(-EINVAL, err, errlen,
			      "CommonNetworkRelativeLinkSize 0x%x does not fit in LinkInfo", size);
	c.p = li->p + off;
	c.len = size;
	flags = get32(c.p + 4);
	net = get32(c.p + 8);
	dev = get32(c.p + 12);
	if (net > CNRL_HEADER_MIN) {
		hdr = CNRL_HEADER_UNICODE;
		if (c.len < hdr)
			return errfmt(
				-EINVAL, err, errlen,
				"CommonNetworkRelativeLinkSize 0x%x too small for its Unicode "
				"offsets",
				size);
		net_u = get32(c.p + 0x14);
		dev_u = get32(c.p + 0x18);
	}
	rc = read_pair(&c, net, net_u, hdr, "NetName", out->net_name, err, errlen);
	if (rc < 0)
		return rc;
	if (flags & CNRL_VALID_DEVICE) {
		rc = read_pair(&c, dev, dev_u, hdr, "DeviceName", NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (!out->net_name[0])
		return errfmt(-EINVAL, err, errlen, "empty NetName");
	/* Checked alone, so that "\\srv" + "share\f.txt" is not taken for a share. */
	if (!is_sep(out->net_name[0]) || !is_sep(out->net_name[1]) ||
	    unc_parse(out->net_name, &u, why, sizeof(why)) < 0)
		return errfmt(-EINVAL, err, errlen, "NetName is not a share path: %s",
			      is_sep(out->net_name[0]) && is_sep(out->net_name[1]) ?
				      why :
				      "it does not start with \\\\");
	return 0;
}

/*
 * Sets out->unc from a Windows path that starts with two separators:
 * "\\srv\share\..." or "\\?\UNC\srv\share\...".  Other "\\?\" and "\\.\"
 * paths name local devices: unc stays "".  Returns 0 or -EINVAL.
 */
static int set_unc(const char *path, struct lnk_target *out, char *err, size_t errlen)
{
	char buf[LNK_PATH_MAX];
	struct unc u;
	char why[128];
	int n;

	if ((path[2] == '?' || path[2] == '.') && is_sep(path[3])) {
		if (path[2] == '.' || strncasecmp(path + 4, "UNC", 3) != 0 || !is_sep(path[7]))
			return 0;
		n = snprintf(buf, sizeof(buf), "\\\\%s", path + 8);
		if (n < 0 || (size_t)n >= sizeof(buf))
			return errfmt(-EINVAL, err, errlen, "target path too long");
		path = buf;
	}
	if (unc_parse(path, &u, why, sizeof(why)) < 0)
		return errfmt(-EINVAL, err, errlen, "target is not a share path: %s", why);
	if (unc_format(&u, out->unc, sizeof(out->unc)) < 0)
		return errfmt(-EINVAL, err, errlen, "target path too long");
	return 0;
}

/* Joins base and suffix with one '\' between them (none when suffix is ""). */
static int join(char *dst, size_t cap, const char *base, const char *suffix, char *err,
		size_t errlen)
{
	size_t n = strlen(base);
	const char *sep = *suffix && n > 0 && !is_sep(base[n - 1]) && !is_sep(*suffix) ? "\\" : "";
	int k = snprintf(dst, cap, "%s%s%s", base, sep, suffix);

	if (k < 0 || (size_t)k >= cap)
		return errfmt(-EINVAL, err, errlen, "target path too long");
	return 0;
}

/* Parses LinkInfo (li) into out.  Returns 0 or -EINVAL. */
static int read_link_info(const struct span *li, struct lnk_target *out, char *err, size_t errlen)
{
	uint32_t hdr, flags, local_u = 0, suffix_u = 0;
	char full[LNK_PATH_MAX];
	int rc;

	hdr = get32(li->p + 4);
	if (hdr != LI_HEADER_MIN && hdr < LI_HEADER_UNICODE)
		return errfmt(-EINVAL, err, errlen, "bad LinkInfoHeaderSize 0x%x", hdr);
	if (hdr > li->len)
		return errfmt(-EINVAL, err, errlen,
			      "LinkInfoHeaderSize 0x%x larger than LinkInfoSize 0x%zx", hdr,
			      li->len);
	flags = get32(li->p + 8);
	if (hdr >= LI_HEADER_UNICODE) {
		local_u = get32(li->p + 0x1c);
		suffix_u = get32(li->p + 0x20);
	}
	if (!(flags & (LI_VOLUME_ID_AND_LOCAL_BASE_PATH | LI_COMMON_NETWORK_RELATIVE_LINK)))
		return errfmt(-EINVAL, err, errlen,
			      "LinkInfo has neither a local nor a network path");

	if (flags & LI_VOLUME_ID_AND_LOCAL_BASE_PATH) {
		rc = check_volume_id(li, get32(li->p + 0xc), hdr, err, errlen);
		if (rc < 0)
			return rc;
		rc = read_pair(li, get32(li->p + 0x10), local_u, hdr, "LocalBasePath",
			       out->local_base, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (flags & LI_COMMON_NETWORK_RELATIVE_LINK) {
		rc = read_network_link(li, get32(li->p + 0x14), hdr, out, err, errlen);
		if (rc < 0)
			return rc;
		out->is_network = 1;
	}
	rc = read_pair(li, get32(li->p + 0x18), suffix_u, hdr, "CommonPathSuffix", out->path_suffix,
		       err, errlen);
	if (rc < 0)
		return rc;

	/* A network path wins over a local one: it names the share even on a mapped drive. */
	if (out->is_network)
		rc = join(full, sizeof(full), out->net_name, out->path_suffix, err, errlen);
	else if (out->local_base[0])
		rc = join(full, sizeof(full), out->local_base, out->path_suffix, err, errlen);
	else
		return errfmt(-EINVAL, err, errlen, "empty LocalBasePath");
	if (rc < 0)
		return rc;
	if (is_sep(full[0]) && is_sep(full[1]))
		return set_unc(full, out, err, errlen);
	return 0;
}

int lnk_parse(const void *buf, size_t len, struct lnk_target *out, char *err, size_t errlen)
{
	const uint8_t *b = buf;
	struct span li = {.what = "LinkInfo"};
	uint32_t size, flags;
	size_t pos = SHLLINK_HEADER_SIZE;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!buf || len < SHLLINK_HEADER_SIZE)
		return errfmt(-EINVAL, err, errlen, "too short for a shell link header (%zu bytes)",
			      len);
	size = get32(b);
	if (size != SHLLINK_HEADER_SIZE)
		return errfmt(-EINVAL, err, errlen, "HeaderSize 0x%x, expected 0x4c", size);
	if (memcmp(b + 4, link_clsid, sizeof(link_clsid)) != 0)
		return errfmt(-EINVAL, err, errlen, "not a shell link (wrong LinkCLSID)");
	flags = get32(b + SHLLINK_FLAGS_AT);
	if (!(flags & LF_HAS_LINK_INFO))
		return errfmt(-EINVAL, err, errlen, "no LinkInfo (HasLinkInfo unset)");
	if (flags & LF_FORCE_NO_LINK_INFO)
		return errfmt(-EINVAL, err, errlen, "LinkInfo flagged absent (ForceNoLinkInfo)");

	if (flags & LF_HAS_LINK_TARGET_ID_LIST) {
		if (len - pos < 2)
			return errfmt(-EINVAL, err, errlen, "file ends before IDListSize");
		size = get16(b + pos);
		pos += 2;
		if (size > len - pos)
			return errfmt(-EINVAL, err, errlen, "IDListSize 0x%x runs past the end",
				      size);
		pos += size;
	}

	if (len - pos < LI_HEADER_MIN)
		return errfmt(-EINVAL, err, errlen, "file ends inside the LinkInfo header");
	size = get32(b + pos);
	if (size > len - pos)
		return errfmt(-EINVAL, err, errlen,
			      "LinkInfoSize 0x%x runs past the end (0x%zx bytes left)", size,
			      len - pos);
	li.p = b + pos;
	li.len = size;
	rc = read_link_info(&li, out, err, errlen);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* If path is prefix or below it (components compared ignoring case), returns the rest. */
static const char *below_ci(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncasecmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] != '\0' && path[n] != '/')
		return NULL;
	return path + n;
}

int lnk_target_on_share(const struct lnk_target *t, const char *share_unc, char *rel, size_t rellen)
{
	struct unc target, share;
	const char *rest;
	size_t n;

	if (rel && rellen)
		rel[0] = '\0';
	if (!t || !t->unc[0] || !share_unc || !rel)
		return 0;
	if (unc_parse(t->unc, &target, NULL, 0) < 0 || unc_parse(share_unc, &share, NULL, 0) < 0)
		return 0;
	if (strcasecmp(target.server, share.server) != 0 ||
	    strcasecmp(target.share, share.share) != 0)
		return 0;
	rest = below_ci(target.path, share.path);
	if (!rest)
		return 0;
	n = strlen(rest);
	if (n >= rellen)
		return 0;
	memcpy(rel, rest, n + 1);
	return 1;
}

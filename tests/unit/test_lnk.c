/*
 * test_lnk.c - unit tests for src/sync/lnk.c.
 *
 * The .lnk files are built here byte by byte from [MS-SHLLINK] (a
 * ShellLinkHeader, an optional LinkTargetIDList, a LinkInfo with a VolumeID
 * and LocalBasePath and/or a CommonNetworkRelativeLink, the CommonPathSuffix,
 * the Unicode strings of the longer headers), so no binary fixture is
 * needed.  The builder records where it put each field; the malformed cases
 * patch those places.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>

#include "sync/lnk.h"

#define BUF_MAX 32768

/* What to put in a link. */
struct lnk_spec {
	int idlist;	   /* write a LinkTargetIDList */
	int unicode;	   /* LinkInfoHeaderSize 0x24, CNRL header 0x1c, IsUnicode */
	const char *local; /* LocalBasePath (code page bytes); NULL: no VolumeID/LocalBasePath */
	const char16_t *local_u;  /* LocalBasePathUnicode (with unicode), NULL: offset 0 */
	const char *net;	  /* NetName; NULL: no CommonNetworkRelativeLink */
	const char16_t *net_u;	  /* NetNameUnicode (with unicode), NULL: offset 0 */
	const char *device;	  /* DeviceName; NULL: ValidDevice unset */
	const char16_t *device_u; /* DeviceNameUnicode (with unicode) */
	const char *suffix;	  /* CommonPathSuffix, NULL: "" */
	const char16_t *suffix_u; /* CommonPathSuffixUnicode (with unicode), NULL: offset 0 */
	int trailer;		  /* append StringData (RelativePath) and the ExtraData terminal */
};

/* A built link and where its parts are (absolute offsets; 0: absent). */
struct built {
	uint8_t b[BUF_MAX];
	size_t len;
	size_t idlist;	     /* IDListSize */
	size_t li;	     /* LinkInfo */
	size_t li_end;	     /* first byte after LinkInfo */
	size_t volume;	     /* VolumeID */
	size_t cnrl;	     /* CommonNetworkRelativeLink */
	size_t local;	     /* LocalBasePath */
	size_t local_u;	     /* LocalBasePathUnicode */
	size_t net;	     /* NetName */
	size_t net_u;	     /* NetNameUnicode */
	size_t suffix;	     /* CommonPathSuffix */
	size_t suffix_u;     /* CommonPathSuffixUnicode */
	size_t suffix_nul;   /* the terminator of CommonPathSuffix */
	size_t net_nul;	     /* the terminator of NetName */
	size_t suffix_u_nul; /* the terminator of CommonPathSuffixUnicode */
};

/* LinkInfo header fields, from the start of LinkInfo. */
enum {
	LI_SIZE = 0x00,
	LI_HEADER_SIZE = 0x04,
	LI_FLAGS = 0x08,
	LI_VOLUME_ID = 0x0c,
	LI_LOCAL = 0x10,
	LI_CNRL = 0x14,
	LI_SUFFIX = 0x18,
	LI_LOCAL_U = 0x1c,
	LI_SUFFIX_U = 0x20,
};

/* CommonNetworkRelativeLink fields, from its start. */
enum {
	CN_SIZE = 0x00,
	CN_FLAGS = 0x04,
	CN_NET = 0x08,
	CN_DEVICE = 0x0c,
	CN_PROVIDER = 0x10,
	CN_NET_U = 0x14,
	CN_DEVICE_U = 0x18,
};

static const uint8_t shell_link_clsid[16] = {0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
					     0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

static size_t put(struct built *o, const void *p, size_t n)
{
	size_t at = o->len;

	ck_assert_uint_le(o->len + n, BUF_MAX);
	memcpy(o->b + o->len, p, n);
	o->len += n;
	return at;
}

static size_t put_zero(struct built *o, size_t n)
{
	size_t at = o->len;

	ck_assert_uint_le(o->len + n, BUF_MAX);
	memset(o->b + o->len, 0, n);
	o->len += n;
	return at;
}

static void set16(struct built *o, size_t at, uint16_t v)
{
	o->b[at] = (uint8_t)v;
	o->b[at + 1] = (uint8_t)(v >> 8);
}

static void set32(struct built *o, size_t at, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		o->b[at + (size_t)k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get32(const struct built *o, size_t at)
{
	return (uint32_t)o->b[at] | (uint32_t)o->b[at + 1] << 8 | (uint32_t)o->b[at + 2] << 16 |
	       (uint32_t)o->b[at + 3] << 24;
}

static size_t put16(struct built *o, uint16_t v)
{
	size_t at = put_zero(o, 2);

	set16(o, at, v);
	return at;
}

static size_t put32(struct built *o, uint32_t v)
{
	size_t at = put_zero(o, 4);

	set32(o, at, v);
	return at;
}

static size_t u16len(const char16_t *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Writes a NUL-terminated code-page string; returns where it starts. */
static size_t put_ansi(struct built *o, const char *s)
{
	return put(o, s, strlen(s) + 1);
}

/* Writes a NUL-terminated UTF-16LE string; returns where it starts. */
static size_t put_utf16(struct built *o, const char16_t *s)
{
	size_t at = o->len;

	for (size_t k = 0; k <= u16len(s); k++)
		put16(o, s[k]);
	return at;
}

/* ShellLinkHeader: 0x4c bytes. */
static void build_header(struct built *o, uint32_t flags)
{
	put32(o, 0x4c);					    /* HeaderSize */
	put(o, shell_link_clsid, sizeof(shell_link_clsid)); /* LinkCLSID */
	put32(o, flags);				    /* LinkFlags */
	put32(o, 0x20);					    /* FileAttributes: ARCHIVE */
	for (int k = 0; k < 3; k++) {			    /* Creation, Access, WriteTime */
		put32(o, 0xd0e9eef2u);
		put32(o, 0x01c91515u);
	}
	put32(o, 0x1234); /* FileSize */
	put32(o, 0);	  /* IconIndex */
	put32(o, 1);	  /* ShowCommand: SW_SHOWNORMAL */
	put16(o, 0);	  /* HotKey */
	put_zero(o, 10);  /* Reserved1, Reserved2, Reserved3 */
	ck_assert_uint_eq(o->len, 0x4c);
}

/* LinkTargetIDList: one ItemID (the "My Computer" root) and the TerminalID. */
static void build_idlist(struct built *o)
{
	static const uint8_t item[] = {0x1f, 0x50, 0xe0, 0x4f, 0xd0, 0x20, 0xea, 0x3a, 0x69,
				       0x10, 0xa2, 0xd8, 0x08, 0x00, 0x2b, 0x30, 0x30, 0x9d};

	o->idlist = put16(o, 0);
	put16(o, (uint16_t)(2 + sizeof(item)));
	put(o, item, sizeof(item));
	put16(o, 0);
	set16(o, o->idlist, (uint16_t)(o->len - o->idlist - 2));
}

/* CommonNetworkRelativeLink inside LinkInfo. */
static void build_cnrl(struct built *o, const struct lnk_spec *sp)
{
	size_t hdr = sp->unicode ? 0x1c : 0x14;
	size_t c = o->len;

	o->cnrl = c;
	put_zero(o, hdr);
	set32(o, c + CN_FLAGS, 0x2u | (sp->device ? 0x1u : 0)); /* ValidNetType, ValidDevice */
	set32(o, c + CN_PROVIDER, 0x00020000);			/* WNNC_NET_LANMAN */
	o->net = put_ansi(o, sp->net);
	o->net_nul = o->len - 1;
	set32(o, c + CN_NET, (uint32_t)(o->net - c));
	if (sp->device)
		set32(o, c + CN_DEVICE, (uint32_t)(put_ansi(o, sp->device) - c));
	if (sp->unicode && sp->net_u) {
		o->net_u = put_utf16(o, sp->net_u);
		set32(o, c + CN_NET_U, (uint32_t)(o->net_u - c));
	}
	if (sp->unicode && sp->device && sp->device_u)
		set32(o, c + CN_DEVICE_U, (uint32_t)(put_utf16(o, sp->device_u) - c));
	set32(o, c + CN_SIZE, (uint32_t)(o->len - c));
}

/* LinkInfo. */
static void build_link_info(struct built *o, const struct lnk_spec *sp)
{
	size_t hdr = sp->unicode ? 0x24 : 0x1c;
	size_t li = o->len;
	const char *suffix = sp->suffix ? sp->suffix : "";

	o->li = li;
	put_zero(o, hdr);
	set32(o, li + LI_HEADER_SIZE, (uint32_t)hdr);
	set32(o, li + LI_FLAGS, (sp->local ? 0x1u : 0) | (sp->net ? 0x2u : 0));
	if (sp->local) {
		/* VolumeID: size, DriveType (DRIVE_FIXED), serial, label offset, label "". */
		o->volume = put32(o, 0x11);
		put32(o, 3);
		put32(o, 0x307a8a81);
		put32(o, 0x10);
		put_zero(o, 1);
		set32(o, li + LI_VOLUME_ID, (uint32_t)(o->volume - li));
		o->local = put_ansi(o, sp->local);
		set32(o, li + LI_LOCAL, (uint32_t)(o->local - li));
	}
	if (sp->net) {
		build_cnrl(o, sp);
		set32(o, li + LI_CNRL, (uint32_t)(o->cnrl - li));
	}
	o->suffix = put_ansi(o, suffix);
	o->suffix_nul = o->len - 1;
	set32(o, li + LI_SUFFIX, (uint32_t)(o->suffix - li));
	if (sp->unicode && sp->local && sp->local_u) {
		o->local_u = put_utf16(o, sp->local_u);
		set32(o, li + LI_LOCAL_U, (uint32_t)(o->local_u - li));
	}
	if (sp->unicode && sp->suffix_u) {
		o->suffix_u = put_utf16(o, sp->suffix_u);
		o->suffix_u_nul = o->len - 2;
		set32(o, li + LI_SUFFIX_U, (uint32_t)(o->suffix_u - li));
	}
	o->li_end = o->len;
	set32(o, li + LI_SIZE, (uint32_t)(o->len - li));
}

/* StringData with a RelativePath, then the ExtraData TerminalBlock. */
static void build_trailer(struct built *o, int unicode)
{
	static const char rel[] = ".\\f.txt";

	put16(o, (uint16_t)(sizeof(rel) - 1)); /* CountCharacters, no terminator */
	for (size_t k = 0; k < sizeof(rel) - 1; k++)
		if (unicode)
			put16(o, (uint16_t)rel[k]);
		else
			put(o, &rel[k], 1);
	put32(o, 0); /* TerminalBlock */
}

static void build(const struct lnk_spec *sp, struct built *o)
{
	uint32_t flags = 0x2; /* HasLinkInfo */

	memset(o, 0, sizeof(*o));
	if (sp->idlist)
		flags |= 0x1; /* HasLinkTargetIDList */
	if (sp->unicode)
		flags |= 0x80; /* IsUnicode */
	if (sp->trailer)
		flags |= 0x8; /* HasRelativePath */
	build_header(o, flags);
	if (sp->idlist)
		build_idlist(o);
	build_link_info(o, sp);
	if (sp->trailer)
		build_trailer(o, sp->unicode);
}

/* Parses exactly the built bytes from a heap copy of their size (so ASan sees over-reads). */
static int parse(const struct built *o, size_t len, struct lnk_target *t, char *err, size_t errlen)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, o->b, len);
	rc = lnk_parse(copy, len, t, err, errlen);
	free(copy);
	return rc;
}

/* ---- well-formed links ---- */

static const struct good_case {
	const char *name;
	struct lnk_spec spec;
	int is_network;
	const char *net_name;
	const char *suffix;
	const char *local;
	const char *unc;
} good_cases[] = {
	{"network, ANSI",
	 {.net = "\\\\srv\\share", .suffix = "dir\\f.txt"},
	 1,
	 "\\\\srv\\share",
	 "dir\\f.txt",
	 "",
	 "//srv/share/dir/f.txt"},
	{"network, ANSI, IDList",
	 {.idlist = 1, .net = "\\\\srv\\share", .suffix = "dir\\f.txt"},
	 1,
	 "\\\\srv\\share",
	 "dir\\f.txt",
	 "",
	 "//srv/share/dir/f.txt"},
	{"network on a mapped drive",
	 {.idlist = 1, .net = "\\\\SRV\\Share", .device = "Z:", .suffix = "a\\b\\c.doc"},
	 1,
	 "\\\\SRV\\Share",
	 "a\\b\\c.doc",
	 "",
	 "//SRV/Share/a/b/c.doc"},
	{"network, Unicode",
	 {.unicode = 1,
	  .net = "\\\\srv\\share",
	  .net_u = u"\\\\srv\\share",
	  .device = "Z:",
	  .device_u = u"Z:",
	  .suffix = "dir\\f.txt",
	  .suffix_u = u"dir\\f.txt"},
	 1,
	 "\\\\srv\\share",
	 "dir\\f.txt",
	 "",
	 "//srv/share/dir/f.txt"},
	{"network, share root",
	 {.net = "\\\\srv\\share"},
	 1,
	 "\\\\srv\\share",
	 "",
	 "",
	 "//srv/share"},
	{"network, NetName with trailing backslash",
	 {.net = "\\\\srv\\share\\", .suffix = "f.txt"},
	 1,
	 "\\\\srv\\share\\",
	 "f.txt",
	 "",
	 "//srv/share/f.txt"},
	{"LocalBasePath is a UNC",
	 {.idlist = 1, .local = "\\\\srv\\share\\dir\\f.txt"},
	 0,
	 "",
	 "",
	 "\\\\srv\\share\\dir\\f.txt",
	 "//srv/share/dir/f.txt"},
	{"LocalBasePath UNC plus suffix",
	 {.local = "\\\\srv\\share\\dir", .suffix = "f.txt"},
	 0,
	 "",
	 "f.txt",
	 "\\\\srv\\share\\dir",
	 "//srv/share/dir/f.txt"},
	{"LocalBasePath \\\\?\\UNC\\",
	 {.local = "\\\\?\\UNC\\srv\\share\\f.txt"},
	 0,
	 "",
	 "",
	 "\\\\?\\UNC\\srv\\share\\f.txt",
	 "//srv/share/f.txt"},
	{"local drive",
	 {.idlist = 1, .local = "C:\\test\\a.txt"},
	 0,
	 "",
	 "",
	 "C:\\test\\a.txt",
	 ""},
	{"local drive, no IDList", {.local = "D:\\x.txt"}, 0, "", "", "D:\\x.txt", ""},
	{"local \\\\?\\C:", {.local = "\\\\?\\C:\\x.txt"}, 0, "", "", "\\\\?\\C:\\x.txt", ""},
	{"local device \\\\.\\", {.local = "\\\\.\\pipe\\p"}, 0, "", "", "\\\\.\\pipe\\p", ""},
	{"local and network: network wins",
	 {.local = "Z:\\dir\\f.txt",
	  .net = "\\\\srv\\share",
	  .device = "Z:",
	  .suffix = "dir\\f.txt"},
	 1,
	 "\\\\srv\\share",
	 "dir\\f.txt",
	 "Z:\\dir\\f.txt",
	 "//srv/share/dir/f.txt"},
	{"Unicode preferred over ANSI (network)",
	 {.unicode = 1,
	  .net = "\\\\old\\x",
	  .net_u = u"\\\\srv\\share",
	  .suffix = "old.txt",
	  .suffix_u = u"new.txt"},
	 1,
	 "\\\\srv\\share",
	 "new.txt",
	 "",
	 "//srv/share/new.txt"},
	{"Unicode preferred over ANSI (local)",
	 {.unicode = 1,
	  .idlist = 1,
	  .local = "C:\\old.txt",
	  .local_u = u"\\\\srv\\share\\new.txt",
	  .suffix_u = u""},
	 0,
	 "",
	 "",
	 "\\\\srv\\share\\new.txt",
	 "//srv/share/new.txt"},
	{"long header, ANSI strings only",
	 {.unicode = 1, .net = "\\\\srv\\share", .suffix = "f.txt"},
	 1,
	 "\\\\srv\\share",
	 "f.txt",
	 "",
	 "//srv/share/f.txt"},
	{"Windows-1252 names",
	 {.net = "\\\\srv\\Gr\xfc\xdf"
		 "e",
	  .suffix = "caf\xe9\\\x80 5\x81\x9f.txt"},
	 1,
	 "\\\\srv\\Grüße",
	 "café\\€ 5\xc2\x81Ÿ.txt",
	 "",
	 "//srv/Grüße/café/€ 5\xc2\x81Ÿ.txt"},
	{"Unicode names, with a surrogate pair",
	 {.unicode = 1,
	  .net = "\\\\srv\\Gr?e",
	  .net_u = u"\\\\srv\\Grüße",
	  .suffix = "??\\?.txt",
	  .suffix_u = u"日本\\😀.txt"},
	 1,
	 "\\\\srv\\Grüße",
	 "日本\\😀.txt",
	 "",
	 "//srv/Grüße/日本/😀.txt"},
	{"Unicode local name",
	 {.unicode = 1, .local = "C:\\?", .local_u = u"C:\\Ærø"},
	 0,
	 "",
	 "",
	 "C:\\Ærø",
	 ""},
	{"trailing StringData and ExtraData ignored",
	 {.unicode = 1,
	  .idlist = 1,
	  .net = "\\\\srv\\share",
	  .net_u = u"\\\\srv\\share",
	  .suffix_u = u"f.txt",
	  .trailer = 1},
	 1,
	 "\\\\srv\\share",
	 "f.txt",
	 "",
	 "//srv/share/f.txt"},
};

START_TEST(test_good)
{
	const struct good_case *c = &good_cases[_i];
	static struct built o;
	struct lnk_target t;
	char err[256] = "";

	build(&c->spec, &o);
	ck_assert_msg(parse(&o, o.len, &t, err, sizeof(err)) == 0, "%s: refused: %s", c->name, err);
	ck_assert_msg(t.is_network == c->is_network, "%s: is_network %d", c->name, t.is_network);
	ck_assert_str_eq(t.net_name, c->net_name);
	ck_assert_str_eq(t.path_suffix, c->suffix);
	ck_assert_str_eq(t.local_base, c->local);
	ck_assert_str_eq(t.unc, c->unc);
}
END_TEST

/* err may be NULL. */
START_TEST(test_no_err_buffer)
{
	static const struct lnk_spec sp = {.net = "\\\\srv\\share", .suffix = "f"};
	static struct built o;
	struct lnk_target t;

	build(&sp, &o);
	ck_assert_int_eq(lnk_parse(o.b, o.len, &t, NULL, 0), 0);
	ck_assert_int_eq(lnk_parse(o.b, 10, &t, NULL, 0), -EINVAL);
	ck_assert_int_eq(lnk_parse(NULL, 0, &t, NULL, 0), -EINVAL);
}
END_TEST

/* A 4000-character name fits; one that does not fit LNK_PATH_MAX is refused. */
START_TEST(test_long_names)
{
	static struct built o;
	static char name[LNK_PATH_MAX + 16];
	static char expect[LNK_PATH_MAX + 32];
	struct lnk_spec sp = {.net = "\\\\srv\\share", .suffix = name};
	struct lnk_target t;
	char err[256] = "";

	memset(name, 'a', 4000);
	name[4000] = '\0';
	build(&sp, &o);
	ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), 0);
	snprintf(expect, sizeof(expect), "//srv/share/%s", name);
	ck_assert_str_eq(t.unc, expect);

	memset(name, 'a', LNK_PATH_MAX);
	name[LNK_PATH_MAX] = '\0';
	build(&sp, &o);
	ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "too long"), "%s", err);

	/* Three UTF-8 bytes for each '\x80' (U+20AC): 1366 of them do not fit. */
	memset(name, 0x80, 1366);
	name[1366] = '\0';
	build(&sp, &o);
	ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "too long"), "%s", err);
}
END_TEST

/* ---- every prefix of a valid link is refused ---- */

static const struct lnk_spec prefix_specs[] = {
	{.net = "\\\\srv\\share", .suffix = "dir\\f.txt"},
	{.idlist = 1, .local = "C:\\test\\a.txt"},
	{.unicode = 1,
	 .idlist = 1,
	 .local = "Z:\\d\\f.txt",
	 .local_u = u"Z:\\d\\f.txt",
	 .net = "\\\\srv\\share",
	 .net_u = u"\\\\srv\\share",
	 .device = "Z:",
	 .device_u = u"Z:",
	 .suffix = "d\\f.txt",
	 .suffix_u = u"d\\😀.txt"},
};

START_TEST(test_prefixes)
{
	static struct built o;
	struct lnk_target t;
	char err[256];

	build(&prefix_specs[_i], &o);
	ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), 0);
	for (size_t n = 0; n < o.len; n++) {
		err[0] = '\0';
		ck_assert_msg(parse(&o, n, &t, err, sizeof(err)) == -EINVAL,
			      "spec %d: prefix of %zu/%zu bytes accepted", _i, n, o.len);
		ck_assert_msg(err[0] != '\0', "spec %d: no reason for %zu bytes", _i, n);
		ck_assert_msg(strchr(err, '\n') == NULL, "spec %d: two lines: %s", _i, err);
		ck_assert_str_eq(t.unc, "");
	}
}
END_TEST

/* ---- malformed links ---- */

static const struct lnk_spec net_ansi = {.net = "\\\\srv\\share", .suffix = "dir\\f.txt"};
static const struct lnk_spec net_idlist = {
	.idlist = 1, .net = "\\\\srv\\share", .suffix = "dir\\f.txt"};
static const struct lnk_spec local_ansi = {.local = "C:\\a.txt", .suffix = ""};
static const struct lnk_spec net_trailer = {
	.net = "\\\\srv\\share", .suffix = "dir\\f.txt", .trailer = 1};
static const struct lnk_spec full_unicode = {.unicode = 1,
					     .local = "Z:\\f.txt",
					     .local_u = u"Z:\\f.txt",
					     .net = "\\\\srv\\share",
					     .net_u = u"\\\\srv\\share",
					     .device = "Z:",
					     .device_u = u"Z:",
					     .suffix = "f.txt",
					     .suffix_u = u"f.txt",
					     .trailer = 1};

static void p_header_size(struct built *o)
{
	set32(o, 0, 0x4d);
}
static void p_header_size_zero(struct built *o)
{
	set32(o, 0, 0);
}
static void p_clsid_first(struct built *o)
{
	o->b[4] ^= 0x01;
}
static void p_clsid_last(struct built *o)
{
	o->b[19] ^= 0x80;
}
static void p_no_link_info(struct built *o)
{
	set32(o, 0x14, get32(o, 0x14) & ~0x2u);
}
static void p_force_no_link_info(struct built *o)
{
	set32(o, 0x14, get32(o, 0x14) | 0x100u);
}
static void p_idlist_past_end(struct built *o)
{
	set16(o, o->idlist, (uint16_t)(o->len - o->idlist - 1));
}
static void p_li_size_past_end(struct built *o)
{
	set32(o, o->li + LI_SIZE, (uint32_t)(o->len - o->li + 1));
}
static void p_li_size_huge(struct built *o)
{
	set32(o, o->li + LI_SIZE, 0xffffffffu);
}
static void p_li_size_small(struct built *o)
{
	set32(o, o->li + LI_SIZE, 0x10);
}
static void p_li_header_20(struct built *o)
{
	set32(o, o->li + LI_HEADER_SIZE, 0x20);
}
static void p_li_header_big(struct built *o)
{
	set32(o, o->li + LI_HEADER_SIZE, (uint32_t)(o->li_end - o->li + 4));
}
static void p_li_flags_none(struct built *o)
{
	set32(o, o->li + LI_FLAGS, 0);
}
static void p_volume_past(struct built *o)
{
	set32(o, o->li + LI_VOLUME_ID, (uint32_t)(o->li_end - o->li));
}
static void p_volume_size_big(struct built *o)
{
	set32(o, o->volume, (uint32_t)(o->li_end - o->volume + 1));
}
static void p_volume_size_small(struct built *o)
{
	set32(o, o->volume, 0x10);
}
static void p_local_past(struct built *o)
{
	set32(o, o->li + LI_LOCAL, (uint32_t)(o->li_end - o->li));
}
static void p_local_huge(struct built *o)
{
	set32(o, o->li + LI_LOCAL, 0xfffffffcu);
}
static void p_local_in_header(struct built *o)
{
	set32(o, o->li + LI_LOCAL, 4);
}
static void p_local_empty(struct built *o)
{
	o->b[o->local] = '\0';
}
static void p_suffix_past(struct built *o)
{
	set32(o, o->li + LI_SUFFIX, (uint32_t)(o->li_end - o->li));
}
static void p_suffix_zero(struct built *o)
{
	set32(o, o->li + LI_SUFFIX, 0);
}
static void p_cnrl_past(struct built *o)
{
	set32(o, o->li + LI_CNRL, (uint32_t)(o->li_end - o->li - 0x13));
}
static void p_cnrl_size_past(struct built *o)
{
	set32(o, o->cnrl + CN_SIZE, (uint32_t)(o->li_end - o->cnrl + 1));
}
static void p_cnrl_size_small(struct built *o)
{
	set32(o, o->cnrl + CN_SIZE, 0x13);
}
static void p_net_past_cnrl(struct built *o)
{
	set32(o, o->cnrl + CN_NET, get32(o, o->cnrl + CN_SIZE));
}
static void p_net_no_room_for_unicode(struct built *o)
{
	/* NetNameOffset > 0x14 announces the Unicode offsets; the structure is too short. */
	set32(o, o->cnrl + CN_NET, 0x15);
	set32(o, o->cnrl + CN_SIZE, 0x18);
}
static void p_device_past(struct built *o)
{
	set32(o, o->cnrl + CN_FLAGS, 0x3);
	set32(o, o->cnrl + CN_DEVICE, get32(o, o->cnrl + CN_SIZE) + 2);
}
static void p_net_u_past(struct built *o)
{
	set32(o, o->cnrl + CN_NET_U, get32(o, o->cnrl + CN_SIZE));
}
static void p_local_u_past(struct built *o)
{
	set32(o, o->li + LI_LOCAL_U, (uint32_t)(o->li_end - o->li));
}
static void p_suffix_u_past(struct built *o)
{
	set32(o, o->li + LI_SUFFIX_U, (uint32_t)(o->li_end - o->li + 8));
}
static void p_suffix_unterminated(struct built *o)
{
	o->b[o->suffix_nul] = 'x'; /* the bytes after LinkInfo hold zeros: they do not count */
}
static void p_net_unterminated(struct built *o)
{
	o->b[o->net_nul] = 'x'; /* NetName is last in its structure; the suffix follows */
}
static void p_suffix_u_unterminated(struct built *o)
{
	set16(o, o->suffix_u_nul, 'x');
}
static void p_suffix_u_odd(struct built *o)
{
	/* The Unicode string starts one byte before the end: no room for a code unit. */
	set32(o, o->li + LI_SUFFIX_U, (uint32_t)(o->li_end - o->li - 1));
}
static void p_net_relative(struct built *o)
{
	memcpy(o->b + o->net, "xxsrv", 5);
}
static void p_dotdot(struct built *o)
{
	memcpy(o->b + o->suffix, "..\\", 3);
}

static const struct bad_case {
	const char *name;
	const struct lnk_spec *spec;
	void (*patch)(struct built *o);
	const char *reason; /* a substring of the message */
} bad_cases[] = {
	{"bad header size", &net_ansi, p_header_size, "HeaderSize"},
	{"zero header size", &net_ansi, p_header_size_zero, "HeaderSize"},
	{"bad CLSID (first byte)", &net_ansi, p_clsid_first, "CLSID"},
	{"bad CLSID (last byte)", &net_ansi, p_clsid_last, "CLSID"},
	{"HasLinkInfo unset", &net_ansi, p_no_link_info, "HasLinkInfo"},
	{"ForceNoLinkInfo", &net_ansi, p_force_no_link_info, "ForceNoLinkInfo"},
	{"IDListSize past the end", &net_idlist, p_idlist_past_end, "IDListSize"},
	{"LinkInfoSize past the end", &net_trailer, p_li_size_past_end, "LinkInfoSize"},
	{"LinkInfoSize huge", &net_idlist, p_li_size_huge, "LinkInfoSize"},
	{"LinkInfoSize below its header", &net_ansi, p_li_size_small, "LinkInfoSize"},
	{"LinkInfoHeaderSize 0x20", &net_ansi, p_li_header_20, "LinkInfoHeaderSize"},
	{"LinkInfoHeaderSize past LinkInfo", &net_trailer, p_li_header_big, "LinkInfoHeaderSize"},
	{"LinkInfoFlags empty", &net_ansi, p_li_flags_none, "neither"},
	{"VolumeIDOffset past LinkInfoSize", &local_ansi, p_volume_past, "VolumeIDOffset"},
	{"VolumeIDSize past LinkInfo", &local_ansi, p_volume_size_big, "VolumeIDSize"},
	{"VolumeIDSize too small", &local_ansi, p_volume_size_small, "VolumeIDSize"},
	{"LocalBasePathOffset past LinkInfoSize", &local_ansi, p_local_past, "LocalBasePath"},
	{"LocalBasePathOffset huge", &local_ansi, p_local_huge, "LocalBasePath"},
	{"LocalBasePathOffset inside the header", &local_ansi, p_local_in_header, "LocalBasePath"},
	{"LocalBasePath empty", &local_ansi, p_local_empty, "empty LocalBasePath"},
	{"CommonPathSuffixOffset past LinkInfoSize", &net_ansi, p_suffix_past, "CommonPathSuffix"},
	{"CommonPathSuffixOffset zero", &net_ansi, p_suffix_zero, "CommonPathSuffix"},
	{"CNRL offset past LinkInfo", &net_ansi, p_cnrl_past, "CommonNetworkRelativeLinkOffset"},
	{"CNRL size past LinkInfo", &net_ansi, p_cnrl_size_past, "CommonNetworkRelativeLinkSize"},
	{"CNRL size below its header", &net_ansi, p_cnrl_size_small,
	 "CommonNetworkRelativeLinkSize"},
	{"NetNameOffset past CNRL", &net_ansi, p_net_past_cnrl, "NetName offset"},
	{"NetNameOffset > 0x14 in a short CNRL", &net_ansi, p_net_no_room_for_unicode,
	 "Unicode offsets"},
	{"DeviceNameOffset past CNRL", &net_ansi, p_device_past, "DeviceName offset"},
	{"NetNameOffsetUnicode past CNRL", &full_unicode, p_net_u_past, "NetNameUnicode offset"},
	{"LocalBasePathOffsetUnicode past LinkInfo", &full_unicode, p_local_u_past,
	 "LocalBasePathUnicode offset"},
	{"CommonPathSuffixOffsetUnicode past LinkInfo", &full_unicode, p_suffix_u_past,
	 "CommonPathSuffixUnicode offset"},
	{"CommonPathSuffix without NUL", &net_trailer, p_suffix_unterminated, "no terminator"},
	{"NetName without NUL in its structure", &net_ansi, p_net_unterminated,
	 "no terminator inside CommonNetworkRelativeLink"},
	{"CommonPathSuffixUnicode without NUL", &full_unicode, p_suffix_u_unterminated,
	 "no terminator"},
	{"CommonPathSuffixUnicode in the last byte", &full_unicode, p_suffix_u_odd,
	 "no terminator"},
	{"NetName not a UNC", &net_ansi, p_net_relative, "does not start with"},
	{"'..' in the path", &net_ansi, p_dotdot, "not a share path"},
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	static struct built o;
	struct lnk_target t;
	char err[256] = "";

	build(c->spec, &o);
	ck_assert_msg(parse(&o, o.len, &t, err, sizeof(err)) == 0, "%s: base refused: %s", c->name,
		      err);
	c->patch(&o);
	err[0] = '\0';
	ck_assert_msg(parse(&o, o.len, &t, err, sizeof(err)) == -EINVAL, "%s: accepted", c->name);
	ck_assert_msg(strstr(err, c->reason) != NULL, "%s: reason '%s', expected '%s'", c->name,
		      err, c->reason);
	ck_assert_str_eq(t.unc, "");
}
END_TEST

/* Built specs that are refused as they stand. */
static const struct bad_spec {
	const char *name;
	struct lnk_spec spec;
	const char *reason;
} bad_specs[] = {
	{"lone high surrogate at the end",
	 {.unicode = 1, .net = "\\\\s\\t", .net_u = u"\\\\s\\t", .suffix_u = u"a\xd800"},
	 "lone high surrogate"},
	{"high surrogate then a letter",
	 {.unicode = 1, .net = "\\\\s\\t", .suffix_u = u"a\xd800z"},
	 "lone high surrogate"},
	{"two high surrogates",
	 {.unicode = 1, .net = "\\\\s\\t", .suffix_u = u"\xd83d\xd83d\xde00"},
	 "lone high surrogate"},
	{"lone low surrogate",
	 {.unicode = 1, .net = "\\\\s\\t", .net_u = u"\\\\s\\\xdc00t"},
	 "lone low surrogate"},
	{"lone surrogate in LocalBasePathUnicode",
	 {.unicode = 1, .local = "C:\\x", .local_u = u"C:\\\xdfff"},
	 "lone low surrogate"},
	{"lone surrogate in DeviceNameUnicode",
	 {.unicode = 1,
	  .net = "\\\\s\\t",
	  .net_u = u"\\\\s\\t",
	  .device = "Z:",
	  .device_u = u"Z\xd800:"},
	 "lone high surrogate"},
	{"NetName without a share", {.net = "\\\\srv", .suffix = "f.txt"}, "missing share"},
	{"empty NetName", {.net = "", .suffix = "f.txt"}, "empty NetName"},
	{"LocalBasePath UNC without a share", {.local = "\\\\srv"}, "missing share"},
	{"empty path component", {.net = "\\\\srv\\share", .suffix = "a\\\\b"}, "empty path"},
};

START_TEST(test_bad_spec)
{
	const struct bad_spec *c = &bad_specs[_i];
	static struct built o;
	struct lnk_target t;
	char err[256] = "";

	build(&c->spec, &o);
	ck_assert_msg(parse(&o, o.len, &t, err, sizeof(err)) == -EINVAL, "%s: accepted", c->name);
	ck_assert_msg(strstr(err, c->reason) != NULL, "%s: reason '%s', expected '%s'", c->name,
		      err, c->reason);
}
END_TEST

/* Every byte of the header's CLSID matters. */
START_TEST(test_clsid_bytes)
{
	static struct built o;
	struct lnk_target t;
	char err[256];

	build(&net_ansi, &o);
	for (size_t k = 4; k < 20; k++) {
		o.b[k] ^= 0xff;
		ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, "CLSID"), "byte %zu: %s", k, err);
		o.b[k] ^= 0xff;
	}
	ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), 0);
}
END_TEST

/*
 * Every 32-bit field of LinkInfo and CommonNetworkRelativeLink set to values
 * near the edges: the parser may refuse or accept, but never reads outside
 * the buffer (run under ASan) and never leaves a half-filled result.
 */
START_TEST(test_field_sweep)
{
	static const uint32_t values[] = {
		0,    1,    3,	  4,	0x13,	    0x14,	 0x15,	     0x1b,	 0x1c,
		0x1d, 0x23, 0x24, 0x25, 0x7fffffff, 0x80000000u, 0xfffffffe, 0xffffffffu};
	static struct built o, orig;
	struct lnk_target t;
	char err[256];

	build(&full_unicode, &orig);
	for (size_t at = orig.li; at + 4 <= orig.li_end; at++) {
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			o = orig;
			set32(&o, at, values[v]);
			if (parse(&o, o.len, &t, err, sizeof(err)) < 0)
				ck_assert_str_eq(t.unc, "");
			/* also relative to the structure end */
			o = orig;
			set32(&o, at, (uint32_t)(orig.li_end - orig.li) - values[v] % 8);
			if (parse(&o, o.len, &t, err, sizeof(err)) < 0)
				ck_assert_str_eq(t.unc, "");
		}
	}
}
END_TEST

/* ---- lnk_target_on_share ---- */

static const struct share_case {
	const char *unc; /* t->unc */
	const char *share;
	int on;
	const char *rel;
} share_cases[] = {
	{"//srv/share/dir/f.txt", "//srv/share", 1, "/dir/f.txt"},
	{"//srv/share/dir/f.txt", "\\\\srv\\share", 1, "/dir/f.txt"},
	{"//srv/share/dir/f.txt", "smb://srv/share/", 1, "/dir/f.txt"},
	{"//SRV/Share/dir/f.txt", "//srv/SHARE", 1, "/dir/f.txt"},
	{"//srv.example.com/share/f", "//SRV.EXAMPLE.COM/share", 1, "/f"},
	{"//srv/share/dir/f.txt", "//srv:4450/share", 1, "/dir/f.txt"},
	{"//srv/share", "//srv/share", 1, ""},
	{"//srv/share/dir/f.txt", "//srv/share/dir", 1, "/f.txt"},
	{"//srv/share/DIR/f.txt", "//srv/share/dir", 1, "/f.txt"},
	{"//srv/share/dir", "//srv/share/dir", 1, ""},
	{"//srv/share/dirx/f.txt", "//srv/share/dir", 0, ""},
	{"//srv/share/other/f.txt", "//srv/share/dir", 0, ""},
	{"//srv/share/f.txt", "//srv/share/dir", 0, ""},
	{"//other/share/dir/f.txt", "//srv/share", 0, ""},
	{"//srv2/share/f", "//srv/share", 0, ""},
	{"//srv/other/dir/f.txt", "//srv/share", 0, ""},
	{"//srv/share2/f", "//srv/share", 0, ""},
	{"//srv/sha/f", "//srv/share", 0, ""},
	{"//srv/share/f", "srv/share", 0, ""},
	{"//srv/share/f", "", 0, ""},
	{"", "//srv/share", 0, ""},
};

START_TEST(test_on_share)
{
	const struct share_case *c = &share_cases[_i];
	struct lnk_target t;
	char rel[LNK_PATH_MAX] = "junk";

	memset(&t, 0, sizeof(t));
	snprintf(t.unc, sizeof(t.unc), "%s", c->unc);
	ck_assert_msg(lnk_target_on_share(&t, c->share, rel, sizeof(rel)) == c->on, "%s on %s",
		      c->unc, c->share);
	ck_assert_str_eq(rel, c->rel);
}
END_TEST

/* From the bytes to the share-relative path; rel must fit. */
START_TEST(test_on_share_end_to_end)
{
	static const struct lnk_spec sp = {.unicode = 1,
					   .idlist = 1,
					   .net = "\\\\FILES\\Team",
					   .net_u = u"\\\\FILES\\Team",
					   .device = "T:",
					   .device_u = u"T:",
					   .suffix = "Pl\xe4ne\\Q3.xlsx",
					   .suffix_u = u"Pläne\\Q3.xlsx"};
	static struct built o;
	struct lnk_target t;
	char err[256] = "", rel[LNK_PATH_MAX], small[8];

	build(&sp, &o);
	ck_assert_msg(parse(&o, o.len, &t, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(t.unc, "//FILES/Team/Pläne/Q3.xlsx");
	ck_assert_int_eq(lnk_target_on_share(&t, "//files:445/team", rel, sizeof(rel)), 1);
	ck_assert_str_eq(rel, "/Pläne/Q3.xlsx");
	ck_assert_int_eq(lnk_target_on_share(&t, "//files/other", rel, sizeof(rel)), 0);
	ck_assert_int_eq(lnk_target_on_share(&t, "//files/team", small, sizeof(small)), 0);
	ck_assert_str_eq(small, "");

	build(&(struct lnk_spec){.local = "C:\\Team\\x.txt"}, &o);
	ck_assert_int_eq(parse(&o, o.len, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(lnk_target_on_share(&t, "//files/team", rel, sizeof(rel)), 0);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *lnk_suite(void)
{
	Suite *s = suite_create("lnk");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_good, 0, N(good_cases));
	tcase_add_test(tc, test_no_err_buffer);
	tcase_add_test(tc, test_long_names);
	tcase_add_loop_test(tc, test_prefixes, 0, N(prefix_specs));
	tcase_add_loop_test(tc, test_bad, 0, N(bad_cases));
	tcase_add_loop_test(tc, test_bad_spec, 0, N(bad_specs));
	tcase_add_test(tc, test_clsid_bytes);
	tcase_add_test(tc, test_field_sweep);
	tcase_add_loop_test(tc, test_on_share, 0, N(share_cases));
	tcase_add_test(tc, test_on_share_end_to_end);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lnk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

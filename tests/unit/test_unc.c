/* test_unc.c - unit tests for src/util/unc.c. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/unc.h"

static const struct good_case {
	const char *in;
	const char *server;
	unsigned port;
	const char *share;
	const char *path;
	const char *canon; /* unc_format of the result */
} good_cases[] = {
	{"//srv/share", "srv", 0, "share", "", "//srv/share"},
	{"\\\\srv\\share", "srv", 0, "share", "", "//srv/share"},
	{"smb://srv/share", "srv", 0, "share", "", "//srv/share"},
	{"SMB://srv/share", "srv", 0, "share", "", "//srv/share"},
	{"//srv/share/", "srv", 0, "share", "", "//srv/share"},
	{"\\\\srv\\share\\", "srv", 0, "share", "", "//srv/share"},
	{"//srv:4450/share", "srv", 4450, "share", "", "//srv:4450/share"},
	{"//srv:1/share", "srv", 1, "share", "", "//srv:1/share"},
	{"//srv:65535/share", "srv", 65535, "share", "", "//srv:65535/share"},
	{"//srv:00445/share", "srv", 445, "share", "", "//srv:445/share"},
	{"smb://srv:139/share/dir", "srv", 139, "share", "/dir", "//srv:139/share/dir"},
	{"//[::1]/share", "::1", 0, "share", "", "//[::1]/share"},
	{"//[::1]:4450/share", "::1", 4450, "share", "", "//[::1]:4450/share"},
	{"//[fe80::1%eth0]/s", "fe80::1%eth0", 0, "s", "", "//[fe80::1%eth0]/s"},
	{"//[2001:db8::42]:445/s/a", "2001:db8::42", 445, "s", "/a", "//[2001:db8::42]:445/s/a"},
	{"//127.0.0.1/share", "127.0.0.1", 0, "share", "", "//127.0.0.1/share"},
	{"//Srv.Example.COM/Share", "Srv.Example.COM", 0, "Share", "", "//Srv.Example.COM/Share"},
	{"//srv/share/a/b/c", "srv", 0, "share", "/a/b/c", "//srv/share/a/b/c"},
	{"//srv/share/a/b/c/", "srv", 0, "share", "/a/b/c", "//srv/share/a/b/c"},
	{"\\\\srv\\share\\a\\b", "srv", 0, "share", "/a/b", "//srv/share/a/b"},
	{"//srv\\share/a\\b", "srv", 0, "share", "/a/b", "//srv/share/a/b"},
	{"//srv/share$", "srv", 0, "share$", "", "//srv/share$"},
	{"//srv/my share/a dir/f.txt", "srv", 0, "my share", "/a dir/f.txt",
	 "//srv/my share/a dir/f.txt"},
	{"//srv/share/...", "srv", 0, "share", "/...", "//srv/share/..."},
	{"//srv/share/.hidden/..x", "srv", 0, "share", "/.hidden/..x", "//srv/share/.hidden/..x"},
	{"//srv/sh\xc3\xa9/d\xc3\xa9j\xc3\xa0", "srv", 0, "sh\xc3\xa9", "/d\xc3\xa9j\xc3\xa0",
	 "//srv/sh\xc3\xa9/d\xc3\xa9j\xc3\xa0"},
	{"//my_host-1/s", "my_host-1", 0, "s", "", "//my_host-1/s"},
};

START_TEST(test_good)
{
	const struct good_case *c = &good_cases[_i];
	struct unc u;
	char err[128] = "";
	char buf[UNC_PATH_MAX + 512];
	int n;

	ck_assert_msg(unc_parse(c->in, &u, err, sizeof(err)) == 0, "'%s' refused: %s", c->in, err);
	ck_assert_str_eq(u.server, c->server);
	ck_assert_uint_eq(u.port, c->port);
	ck_assert_str_eq(u.share, c->share);
	ck_assert_str_eq(u.path, c->path);
	n = unc_format(&u, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(c->canon));
	ck_assert_str_eq(buf, c->canon);

	/* The canonical form parses back to the same thing. */
	{
		struct unc again;

		ck_assert_int_eq(unc_parse(buf, &again, err, sizeof(err)), 0);
		ck_assert_mem_eq(&again, &u, sizeof(u));
	}
}
END_TEST

static const struct bad_case {
	const char *in;
	const char *reason; /* a substring of the message */
} bad_cases[] = {
	{"", "empty"},
	{"srv/share", "must start with"},
	{"/srv/share", "must start with"},
	{"http://srv/share", "must start with"},
	{"smb:/srv/share", "must start with"},
	{"//srv", "missing share name"},
	{"//srv/", "missing share name"},
	{"\\\\srv", "missing share name"},
	{"//srv//share", "missing share name"},
	{"//srv:445", "missing share name"},
	{"///share", "empty server"},
	{"//:445/share", "empty server"},
	{"//::1/share", "brackets"},
	{"//[]/share", "empty server"},
	{"//[::1/share", "missing ']'"},
	{"//[not-v6]/share", "bad IPv6 address"},
	{"//[::1]x/share", "unexpected"},
	{"//[fe80::1%]/s", "zone"},
	{"//srv:0/share", "out of range"},
	{"//srv:65536/share", "out of range"},
	{"//srv:70000/share", "out of range"},
	{"//srv:99999999999999999999/share", "out of range"},
	{"//srv:abc/share", "bad port 'abc'"},
	{"//srv:-1/share", "bad port"},
	{"//srv:44a/share", "bad port"},
	{"//srv:/share", "missing port"},
	{"//user@srv/share", "bad character '@' in server"},
	{"//s rv/share", "bad character ' ' in server"},
	{"//srv/sha:re", "bad character ':' in share"},
	{"//srv/sha*re", "bad character '*' in share"},
	{"//srv/sha?re", "bad character '?' in share"},
	{"//srv/sha\"re", "bad character '\"' in share"},
	{"//srv/sha<re", "bad character '<' in share"},
	{"//srv/sha>re", "bad character '>' in share"},
	{"//srv/sha|re", "bad character '|' in share"},
	{"//srv/sha\x01re", "bad character \\x01 in share"},
	{"//srv/sha\x7fre", "bad character \\x7f in share"},
	{"//srv/..", "not a share name"},
	{"//srv/.", "not a share name"},
	{"//srv/share/a:b", "bad character ':' in path"},
	{"//srv/share/a\tb", "bad character \\x09 in path"},
	{"//srv/share/..", "'..' is not allowed"},
	{"//srv/share/a/../b", "'..' is not allowed"},
	{"//srv/share/./b", "'.' is not allowed"},
	{"//srv/share/a/.", "'.' is not allowed"},
	{"//srv/share//a", "empty path component"},
	{"//srv/share/a//b", "empty path component"},
	{"//srv/share/a//", "empty path component"},
	{"//srv/share//", "empty path component"},
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct unc u;
	char err[128] = "";

	memset(&u, 0x5a, sizeof(u));
	ck_assert_msg(unc_parse(c->in, &u, err, sizeof(err)) == -EINVAL, "'%s' accepted", c->in);
	ck_assert_msg(strstr(err, c->reason) != NULL, "'%s': got \"%s\", want \"%s\"", c->in, err,
		      c->reason);
	/* out is left alone on failure. */
	ck_assert_uint_eq((unsigned char)u.server[0], 0x5a);
}
END_TEST

/* Builds "//" + server + "/" + share + path from repeated characters. */
static void make_unc(char *buf, size_t len, size_t server, size_t share, size_t path)
{
	size_t off = 0;

	buf[off++] = '/';
	buf[off++] = '/';
	memset(buf + off, 's', server);
	off += server;
	buf[off++] = '/';
	memset(buf + off, 'h', share);
	off += share;
	/* path: "/p" repeated, then one more 'p' if odd */
	for (size_t k = 0; k < path / 2; k++) {
		buf[off++] = '/';
		buf[off++] = 'p';
	}
	if (path % 2)
		buf[off++] = 'p';
	ck_assert_uint_lt(off, len);
	buf[off] = '\0';
}

START_TEST(test_lengths)
{
	char *buf = malloc(3 * UNC_PATH_MAX);
	char err[128];
	struct unc u;

	make_unc(buf, 3 * UNC_PATH_MAX, UNC_SERVER_MAX - 1, UNC_SHARE_MAX - 1, 0);
	ck_assert_int_eq(unc_parse(buf, &u, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(u.server), UNC_SERVER_MAX - 1);
	ck_assert_uint_eq(strlen(u.share), UNC_SHARE_MAX - 1);

	make_unc(buf, 3 * UNC_PATH_MAX, UNC_SERVER_MAX, 1, 0);
	ck_assert_int_eq(unc_parse(buf, &u, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "server name too long");

	make_unc(buf, 3 * UNC_PATH_MAX, 1, UNC_SHARE_MAX, 0);
	ck_assert_int_eq(unc_parse(buf, &u, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "share name too long"));

	/* A path of UNC_PATH_MAX - 1 characters fits with its NUL. */
	make_unc(buf, 3 * UNC_PATH_MAX, 1, 1, UNC_PATH_MAX - 1);
	ck_assert_int_eq(unc_parse(buf, &u, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(u.path), UNC_PATH_MAX - 1);
	make_unc(buf, 3 * UNC_PATH_MAX, 1, 1, UNC_PATH_MAX);
	ck_assert_int_eq(unc_parse(buf, &u, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "path too long");
	free(buf);
}
END_TEST

START_TEST(test_no_err_buffer)
{
	struct unc u;

	ck_assert_int_eq(unc_parse("//srv", &u, NULL, 0), -EINVAL);
	ck_assert_int_eq(unc_parse("//srv/share", &u, NULL, 0), 0);
}
END_TEST

START_TEST(test_format_too_long)
{
	struct unc u;
	char buf[64];
	char err[128];

	ck_assert_int_eq(unc_parse("//server:4450/share/dir", &u, err, sizeof(err)), 0);
	/* "//server:4450/share/dir" is 23 characters. */
	ck_assert_int_eq(unc_format(&u, buf, 24), 23);
	ck_assert_str_eq(buf, "//server:4450/share/dir");
	ck_assert_int_eq(unc_format(&u, buf, 23), -ENAMETOOLONG);
	ck_assert_int_eq(unc_format(&u, buf, 1), -ENAMETOOLONG);
}
END_TEST

static const struct same_case {
	const char *a, *b;
	int same;
} same_cases[] = {
	{"//srv/share", "//srv/share", 1},
	{"//SRV/Share", "//srv/sHARE", 1},
	{"//srv/share/a", "\\\\srv\\share\\b", 1},
	{"//srv/share", "//srv:445/share", 1},
	{"//srv:4450/share", "//srv:4450/share/x", 1},
	{"//srv:4450/share", "//srv/share", 0},
	{"//srv:4450/share", "//srv:4451/share", 0},
	{"//srv/share", "//srv/share2", 0},
	{"//srv/share", "//srv2/share", 0},
	{"//[::1]/s", "//[::1]:445/s", 1},
};

START_TEST(test_same_share)
{
	const struct same_case *c = &same_cases[_i];
	struct unc a, b;
	char err[128];

	ck_assert_int_eq(unc_parse(c->a, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(unc_parse(c->b, &b, err, sizeof(err)), 0);
	ck_assert_msg(!!unc_same_share(&a, &b) == c->same, "%s vs %s", c->a, c->b);
	ck_assert_msg(!!unc_same_share(&b, &a) == c->same, "%s vs %s", c->b, c->a);
}
END_TEST

static Suite *unc_suite(void)
{
	Suite *s = suite_create("unc");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_good, 0, sizeof(good_cases) / sizeof(good_cases[0]));
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_no_err_buffer);
	tcase_add_test(tc, test_format_too_long);
	tcase_add_loop_test(tc, test_same_share, 0, sizeof(same_cases) / sizeof(same_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(unc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

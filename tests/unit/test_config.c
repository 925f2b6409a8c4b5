/* test_config.c - unit tests for src/config.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, when built by hand without the Makefile's flags */
#endif
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "util/util.h"

static char tmp[64]; /* a fresh directory for each test */

static void tmp_setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tmp_teardown(void)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes len bytes of text to tmp/name; returns the path in buf. */
static const char *write_file_n(const char *name, const char *text, size_t len, char *buf,
				size_t buflen)
{
	FILE *f;

	snprintf(buf, buflen, "%s/%s", tmp, name);
	f = fopen(buf, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static const char *write_conf(const char *text, char *buf, size_t buflen)
{
	return write_file_n("ofsync.conf", text, strlen(text), buf, buflen);
}

/* ---- a good file ---- */

static const char good_conf[] = "# ofsync.conf for the tests\n"
				"\n"
				"[global]\n"
				"cache_dir = /var/cache/ofsync-test\n"
				"socket = /run/ofsync-test.sock\n"
				"log_level = info\n"
				"timeout = 7\n"
				"probe_interval = 15\n"
				"cache_limit = 10G\n"
				"auto_cache_limit = 500M\n"
				"options = allow_other\n"
				"\n"
				"[share docs]\n"
				"unc = \\\\fs.example.com\\Docs\\\n"
				"mountpoint = /srv/docs/\n"
				"credentials = /etc/ofsync/docs.cred\n"
				"options = timeout=10,attr_timeout=0.5\n"
				"\n"
				"; a share on a non-standard port, as guest\n"
				"[share media]\n"
				"unc = smb://nas:4450/media/films\n"
				"mountpoint = //srv//media\n"
				"options = guest,ro\n";

START_TEST(test_good)
{
	struct ofsync_config cfg;
	char path[PATH_MAX], err[512] = "";
	const struct config_share *sh;

	write_conf(good_conf, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(cfg.path, path);
	ck_assert_str_eq(cfg.cache_dir, "/var/cache/ofsync-test");
	ck_assert_str_eq(cfg.socket, "/run/ofsync-test.sock");
	ck_assert_int_eq(cfg.log_level, LOG_LVL_INFO);
	ck_assert_uint_eq(cfg.timeout, 7);
	ck_assert_uint_eq(cfg.probe_interval, 15);
	ck_assert_uint_eq(cfg.cache_limit, 10ull << 30);
	ck_assert_uint_eq(cfg.auto_cache_limit, 500ull << 20);
	ck_assert_str_eq(cfg.options, "allow_other");
	ck_assert_uint_eq(cfg.nshares, 2);

	sh = &cfg.shares[0];
	ck_assert_str_eq(sh->name, "docs");
	ck_assert_str_eq(sh->unc, "//fs.example.com/Docs");
	ck_assert_str_eq(sh->mountpoint, "/srv/docs");
	ck_assert_str_eq(sh->credentials, "/etc/ofsync/docs.cred");
	ck_assert_str_eq(sh->options, "timeout=10,attr_timeout=0.5");
	ck_assert_int_eq(sh->line, 13);

	sh = &cfg.shares[1];
	ck_assert_str_eq(sh->name, "media");
	ck_assert_str_eq(sh->unc, "//nas:4450/media/films");
	ck_assert_str_eq(sh->mountpoint, "/srv/media");
	ck_assert_ptr_null(sh->credentials);
	ck_assert_str_eq(sh->options, "guest,ro");
	ck_assert_int_eq(sh->line, 20);

	ck_assert_ptr_eq(config_find_share(&cfg, "media"), &cfg.shares[1]);
	ck_assert_ptr_eq(config_find_share(&cfg, "docs"), &cfg.shares[0]);
	ck_assert_ptr_null(config_find_share(&cfg, "Docs"));
	ck_assert_ptr_null(config_find_share(&cfg, "nope"));

	config_free(&cfg);
	ck_assert_ptr_null(cfg.shares);
	ck_assert_uint_eq(cfg.nshares, 0);
	ck_assert_ptr_null(cfg.path);
	config_free(&cfg); /* twice is harmless */
}
END_TEST

/* Defaults: an empty file, only comments, only [global]. */
START_TEST(test_empty)
{
	static const char *const texts[] = {"", "# nothing\n; at all\n\n", "[global]\n",
					    "[global]\n# empty\n"};
	struct ofsync_config cfg;
	char path[PATH_MAX], err[512];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_conf(texts[i], path, sizeof(path));
		ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "text %zu: %s", i,
			      err);
		ck_assert_ptr_null(cfg.cache_dir);
		ck_assert_ptr_null(cfg.socket);
		ck_assert_ptr_null(cfg.options);
		ck_assert_int_eq(cfg.log_level, LOG_LVL_INFO);
		ck_assert_uint_eq(cfg.timeout, 0);
		ck_assert_uint_eq(cfg.probe_interval, 0);
		ck_assert_uint_eq(cfg.cache_limit, 0);
		ck_assert_uint_eq(cfg.auto_cache_limit, 0);
		ck_assert_uint_eq(cfg.nshares, 0);
		config_free(&cfg);
	}
	config_init(&cfg);
	ck_assert_int_eq(cfg.log_level, LOG_LVL_INFO);
	ck_assert_ptr_null(cfg.path);
}
END_TEST

/* Comments, blanks, indentation, CRLF, a BOM, "key: value", [ share x ]. */
START_TEST(test_layout)
{
	static const char text[] = "\xef\xbb\xbf# with a byte order mark\r\n"
				   "   [global]   ; the globals\r\n"
				   "\tlog_level=debug\r\n"
				   "  ; an indented comment\r\n"
				   "    # another\r\n"
				   "\r\n"
				   "[ share  my-share.2_x ]  # a comment after the header\r\n"
				   "    unc: //srv/share ; an inline comment\r\n"
				   "    mountpoint   =   /mnt/a b   \r\n"
				   "    options = fsname=a;b\r\n";
	struct ofsync_config cfg;
	char path[PATH_MAX], err[512];

	write_conf(text, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_int_eq(cfg.log_level, LOG_LVL_DEBUG);
	ck_assert_uint_eq(cfg.nshares, 1);
	ck_assert_str_eq(cfg.shares[0].name, "my-share.2_x");
	ck_assert_int_eq(cfg.shares[0].line, 7);
	ck_assert_str_eq(cfg.shares[0].unc, "//srv/share");
	ck_assert_str_eq(cfg.shares[0].mountpoint, "/mnt/a b");
	/* ';' starts a comment only after a blank. */
	ck_assert_str_eq(cfg.shares[0].options, "fsname=a;b");
	config_free(&cfg);
}
END_TEST

/* A credentials file is only named: it need not exist, and is never opened. */
START_TEST(test_credentials_not_read)
{
	struct ofsync_config cfg;
	char path[PATH_MAX], cred[PATH_MAX], text[3 * PATH_MAX], err[512];

	write_file_n("cred", "username=a\npassword=secret\n", 27, cred, sizeof(cred));
	chmod(cred, 0644); /* options_validate() would refuse this mode */
	snprintf(text, sizeof(text),
		 "[share a]\nunc=//s/a\nmountpoint=/m/a\ncredentials=%s\n"
		 "[share b]\nunc=//s/b\nmountpoint=/m/b\ncredentials=%s/missing\n",
		 cred, tmp);
	write_conf(text, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_str_eq(cfg.shares[0].credentials, cred);
	config_free(&cfg);
}
END_TEST

/* "~" and "~/..." are $HOME. */
START_TEST(test_home)
{
	struct ofsync_config cfg;
	char path[PATH_MAX], err[512], want[PATH_MAX + 256];

	setenv("HOME", "/home/alice", 1);
	write_conf("[global]\ncache_dir=~/.cache/x/\n"
		   "[share a]\nunc=//s/a\nmountpoint=~/mnt\ncredentials=~/.cred\n"
		   "[share b]\nunc=//s/b\nmountpoint=/m/b\n",
		   path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_str_eq(cfg.cache_dir, "/home/alice/.cache/x");
	ck_assert_str_eq(cfg.shares[0].mountpoint, "/home/alice/mnt");
	ck_assert_str_eq(cfg.shares[0].credentials, "/home/alice/.cred");
	config_free(&cfg);

	write_conf("[share a]\nunc=//s/a\nmountpoint=~\n", path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_str_eq(cfg.shares[0].mountpoint, "/home/alice");
	config_free(&cfg);

	write_conf("[share a]\nunc=//s/a\nmountpoint=~bob/mnt\n", path, sizeof(path));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: mountpoint must be an absolute path", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\"", err);
}
END_TEST

/* The example etc/ofsync.conf loads (the tests run from the top directory). */
START_TEST(test_example)
{
	struct ofsync_config cfg;
	char err[512];

	ck_assert_msg(config_load("etc/ofsync.conf", &cfg, err, sizeof(err)) == 0, "refused: %s",
		      err);
	ck_assert_uint_eq(cfg.nshares, 2);
	ck_assert_ptr_nonnull(config_find_share(&cfg, "projects"));
	ck_assert_ptr_nonnull(config_find_share(&cfg, "media"));
	config_free(&cfg);
}
END_TEST

/* ---- sizes ---- */

static const struct size_case {
	const char *text;
	int ok;
	uint64_t bytes;
} size_cases[] = {
	{"1", 1, 1},
	{"1048576", 1, 1048576},
	{"1K", 1, 1024},
	{"1k", 1, 1024},
	{"500M", 1, 500ull << 20},
	{"500m", 1, 500ull << 20},
	{"10G", 1, 10ull << 30},
	{"3T", 1, 3ull << 40},
	{"8388607T", 1, 8388607ull << 40},
	{"9223372036854775807", 1, 9223372036854775807ull},
	{"none", 1, 0},
	{"0", 0, 0},
	{"0G", 0, 0},
	{"8388608T", 0, 0},
	{"9223372036854775808", 0, 0},
	{"99999999999999999999999", 0, 0},
	{"10X", 0, 0},
	{"10GB", 0, 0},
	{"10GiB", 0, 0},
	{"10 G", 0, 0},
	{"1.5G", 0, 0},
	{"-1", 0, 0},
	{"G", 0, 0},
	{"20%", 0, 0},
	{"None", 0, 0},
};

START_TEST(test_sizes)
{
	const struct size_case *c = &size_cases[_i];
	struct ofsync_config cfg;
	char path[PATH_MAX], text[256], err[512], want[PATH_MAX + 256];
	int rc;

	snprintf(text, sizeof(text), "[global]\ncache_limit = %s\nauto_cache_limit = %s\n", c->text,
		 c->text);
	write_conf(text, path, sizeof(path));
	rc = config_load(path, &cfg, err, sizeof(err));
	if (c->ok) {
		ck_assert_msg(rc == 0, "'%s' refused: %s", c->text, err);
		ck_assert_uint_eq(cfg.cache_limit, c->bytes);
		ck_assert_uint_eq(cfg.auto_cache_limit, c->bytes);
		config_free(&cfg);
	} else {
		ck_assert_msg(rc == -EINVAL, "'%s' accepted", c->text);
		snprintf(want, sizeof(want), "%s:2: bad size '%s' for cache_limit", path, c->text);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got \"%s\", want \"%s\"", err,
			      want);
	}
}
END_TEST

/* ---- bad files: the first error, at its line ---- */

static const struct bad_case {
	const char *text;
	int line;
	const char *reason; /* what follows "PATH:LINE: " (a prefix of it) */
} bad_cases[] = {
	/* syntax */
	{"[global]\nlog_level\n", 2, "expected [section], key = value, or a comment"},
	{"[global]\n\n\njust words\nlog_level = info\n", 4, "expected [section]"},
	{"[global\n", 1, "missing ']' in section header"},
	{"[global] log_level = info\n", 1, "text after ']'"},
	{"[global]\n= info\n", 2, "a key is missing before '='"},
	{"log_level = info\n", 1, "key 'log_level' outside a section"},
	{"# comment\n\nunc = //s/h\n[global]\n", 3, "key 'unc' outside a section"},
	{"[global]\nlog_level = info\x00\n", 2, "a NUL byte"},
	/* sections */
	{"[globals]\n", 1, "unknown section '[globals]' (expected [global] or [share NAME])"},
	{"[Global]\n", 1, "unknown section '[Global]'"},
	{"[]\n", 1, "unknown section '[]'"},
	{"[share]\n", 1, "a share section needs a name"},
	{"[share ]\n", 1, "a share section needs a name"},
	{"[sharedocs]\n", 1, "unknown section '[sharedocs]'"},
	{"[share my docs]\n", 1, "bad share name 'my docs'"},
	{"[share -x]\n", 1, "bad share name '-x'"},
	{"[share .x]\n", 1, "bad share name '.x'"},
	{"[share a/b]\n", 1, "bad share name 'a/b'"},
	{"[share "
	 "a12345678901234567890123456789012345678901234567890123456789012345]\n",
	 1, "bad share name"},
	{"[global]\n[global]\n", 2, "[global] given twice (first on line 1)"},
	{"[share a]\nunc=//s/a\nmountpoint=/a\n\n[share a]\n", 5,
	 "[share a] given twice (first on line 1)"},
	/* keys */
	{"[global]\nfoo = 1\n", 2, "unknown key 'foo' in [global]"},
	{"[share docs]\nunc = //s/h\nfoo = bar\n", 3, "unknown key 'foo' in [share docs]"},
	{"[share docs]\nUNC = //s/h\n", 2, "unknown key 'UNC' in [share docs]"},
	{"[share docs]\ntimeout = 5\n", 2,
	 "key 'timeout' does not belong in [share docs] (it goes in [global])"},
	{"[global]\nunc = //s/h\n", 2,
	 "key 'unc' does not belong in [global] (it goes in a [share NAME] section)"},
	{"[global]\nlog_level = info\nlog_level = debug\n", 3,
	 "key 'log_level' given twice in [global] (first on line 2)"},
	{"[share a]\nunc=//s/a\nmountpoint=/a\nunc=//s/b\n", 4,
	 "key 'unc' given twice in [share a] (first on line 2)"},
	{"[global]\ncache_dir =\n", 2, "key 'cache_dir' needs a value"},
	{"[share a]\nunc = ; only a comment\n", 2, "key 'unc' needs a value"},
	/* values */
	{"[global]\nlog_level = verbose\n", 2,
	 "bad log_level 'verbose' (error, warning, info or debug)"},
	{"[global]\nlog_level = DEBUG\n", 2, "bad log_level 'DEBUG'"},
	{"[global]\ntimeout = 0\n", 2, "bad number '0' for timeout (whole seconds, 1 to 2147483)"},
	{"[global]\ntimeout = 2147484\n", 2, "bad number '2147484' for timeout"},
	{"[global]\ntimeout = 5s\n", 2, "bad number '5s' for timeout"},
	{"[global]\nprobe_interval = -1\n", 2, "bad number '-1' for probe_interval"},
	{"[global]\ncache_dir = cache\n", 2,
	 "cache_dir must be an absolute path (or start with ~/), not 'cache'"},
	{"[global]\ncache_dir = /a,b\n", 2, "cache_dir: a path with a ',' cannot be used here"},
	{"[global]\nsocket = "
	 "/a/very/long/socket/path/that/does/not/fit/in/sun_path/of/a/unix/domain/socket/"
	 "address/which/holds/108/bytes.sock\n",
	 2, "socket path"},
	{"[global]\ncache_limit = 1G\nauto_cache_limit = 2G\n", 3,
	 "auto_cache_limit (2147483648 bytes) is more than cache_limit (1073741824 bytes)"},
	{"[global]\nauto_cache_limit = 2G\ncache_limit = 1G\n", 3,
	 "auto_cache_limit (2147483648 bytes) is more than cache_limit"},
	{"[global]\noptions = frobnicate\n", 2, "options: unknown option 'frobnicate'"},
	{"[global]\noptions = timeout=abc\n", 2, "options: bad number 'abc' for timeout"},
	{"[share a]\nunc=//s/a\noptions = guest,user=bob\n", 3,
	 "options: options 'guest' and 'user' cannot be used together"},
	{"[share a]\nunc=//s/a\noptions = password=x\n", 3, "options: unknown option 'password'"},
	{"[share a]\nunc=//s/a\noptions = ro;x\n", 3, "options: unknown option 'ro;x'"},
	{"[share a]\nunc = //srv\n", 2, "malformed unc '//srv': missing share name"},
	{"[share a]\nunc = srv/share\n", 2, "malformed unc 'srv/share'"},
	{"[share a]\nunc = //srv:0/share\n", 2, "malformed unc '//srv:0/share': "},
	{"[share a]\nmountpoint = mnt\n", 2, "mountpoint must be an absolute path"},
	{"[share a]\nmountpoint = /m/../x\n", 2, "mountpoint '/m/../x' has a '.' or '..'"},
	{"[share a]\nmountpoint = /m/./x\n", 2, "mountpoint '/m/./x' has a '.' or '..'"},
	{"[share a]\nunc=//s/a\nmountpoint=/m\n[share b]\nunc=//s/b\nmountpoint=/m/\n", 6,
	 "mountpoint '/m' is already that of [share a]"},
	{"[share a]\nunc=//s/a\nmountpoint=/m\n[share b]\nunc=//s/b\nmountpoint=/m/x\n", 6,
	 "mountpoint '/m/x' and that of [share a], '/m', are inside one another"},
	{"[share a]\nunc=//s/a\nmountpoint=/m/x\n[share b]\nunc=//s/b\nmountpoint=/m\n", 6,
	 "mountpoint '/m' and that of [share a], '/m/x', are inside one another"},
	{"[share a]\nunc=//s/a\nmountpoint=/m\n[share b]\nunc=//S/A/\nmountpoint=/n\n", 5,
	 "unc '//S/A' is already that of [share a] (line 1)"},
	/* a share as a whole, named at its header */
	{"[global]\n\n[share docs]\nmountpoint = /m\n", 3, "[share docs] has no unc"},
	{"[share docs]\nunc = //s/h\n[share x]\n", 1, "[share docs] has no mountpoint"},
	{"[share a]\nunc=//s/a\nmountpoint=/a\ncredentials=/c\noptions=guest\n", 1,
	 "[share a]: options 'guest' and 'credentials' cannot be used together"},
	{"[global]\noptions=guest\n[share a]\nunc=//s/a\nmountpoint=/a\ncredentials=/c\n", 3,
	 "[share a]: options 'guest' and 'credentials' cannot be used together"},
	/* the first error is the one reported */
	{"[global]\nfoo = 1\nbar\n", 2, "unknown key 'foo'"},
	{"[global]\nbar\nfoo = 1\n", 2, "expected [section]"},
	{"[share a]\nmountpoint=/a\n[global]\nfoo=1\n", 4, "unknown key 'foo'"},
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct ofsync_config cfg;
	char path[PATH_MAX], err[1024] = "", want[PATH_MAX + 256];
	int rc;

	/* The texts hold no NUL but the one case that wants one; size by hand. */
	size_t len = strlen(c->text);
	if (strcmp(c->reason, "a NUL byte") == 0)
		len += 1 + strlen(c->text + len + 1);
	write_file_n("ofsync.conf", c->text, len, path, sizeof(path));
	rc = config_load(path, &cfg, err, sizeof(err));
	ck_assert_msg(rc == -EINVAL, "case %d: rc %d, err \"%s\"", _i, rc, err);
	snprintf(want, sizeof(want), "%s:%d: %s", path, c->line, c->reason);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d: got \"%s\", want \"%s\"", _i,
		      err, want);
	/* Nothing is kept on failure. */
	ck_assert_uint_eq(cfg.nshares, 0);
	ck_assert_ptr_null(cfg.shares);
	ck_assert_ptr_null(cfg.cache_dir);
	ck_assert_ptr_null(cfg.path);
}
END_TEST

/* inih's line limit: longer lines are refused, not split. */
START_TEST(test_long_line)
{
	struct ofsync_config cfg;
	char path[PATH_MAX], text[1024], err[1024], want[PATH_MAX + 256];
	char value[512];
	int n;

	/* "options = " plus this is 199 characters, inih's limit (INI_MAX_LINE - 1). */
	n = 199 - (int)strlen("options = ");
	memset(value, 0, sizeof(value));
	snprintf(value, sizeof(value), "fsname=");
	memset(value + 7, 'x', (size_t)n - 7);
	snprintf(text, sizeof(text), "[global]\n   options = %s\n", value);
	write_conf(text, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_uint_eq(strlen(cfg.options), (size_t)n);
	config_free(&cfg);

	value[n] = 'x';
	snprintf(text, sizeof(text), "[global]\noptions = %s\n", value);
	write_conf(text, path, sizeof(path));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: line too long (at most 199 characters)", path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_unreadable)
{
	struct ofsync_config cfg;
	char path[PATH_MAX], err[1024], want[PATH_MAX + 256];

	snprintf(path, sizeof(path), "%s/missing.conf", tmp);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "cannot read %s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(cfg.nshares, 0);

	ck_assert_int_eq(config_load(tmp, &cfg, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "cannot read %s: Is a directory", tmp);
	ck_assert_str_eq(err, want);

	/* A NULL err is allowed. */
	ck_assert_int_eq(config_load(path, &cfg, NULL, 0), -ENOENT);
}
END_TEST

/* ---- handing the file to options_parse ---- */

START_TEST(test_share_opts)
{
	struct ofsync_config cfg;
	char path[PATH_MAX], err[512], *opts;

	write_conf(good_conf, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_int_eq(config_share_opts(&cfg, &cfg.shares[0], &opts), 0);
	ck_assert_str_eq(opts, "cache_dir=/var/cache/ofsync-test,socket=/run/ofsync-test.sock,"
			       "timeout=7,probe_interval=15,allow_other,"
			       "credentials=/etc/ofsync/docs.cred,timeout=10,attr_timeout=0.5");
	free(opts);
	ck_assert_int_eq(config_share_opts(&cfg, NULL, &opts), 0);
	ck_assert_str_eq(opts, "cache_dir=/var/cache/ofsync-test,socket=/run/ofsync-test.sock,"
			       "timeout=7,probe_interval=15,allow_other");
	free(opts);
	config_free(&cfg);

	/* Nothing set: "". */
	config_init(&cfg);
	ck_assert_int_eq(config_share_opts(&cfg, NULL, &opts), 0);
	ck_assert_str_eq(opts, "");
	free(opts);
}
END_TEST

/* Runs options_parse on config_argv's argv for share sh with the command line args. */
static int parse_with(const struct ofsync_config *cfg, const struct config_share *sh,
		      const char *const *args, struct options *o, char *err, size_t errlen)
{
	char **argv;
	int nargs = 0, argc, rc;

	while (args[nargs])
		nargs++;
	argc = config_argv(cfg, sh, "ofsyncd", nargs, (char *const *)args, &argv);
	ck_assert_int_gt(argc, 0);
	ck_assert_ptr_null(argv[argc]);
	rc = options_parse(argc, argv, o, err, errlen);
	config_argv_free(argv);
	return rc;
}

START_TEST(test_cli_overrides)
{
	static const char *const none[] = {NULL};
	static const char *const cli[] = {"-f", "-o", "timeout=3,probe_interval=9", NULL};
	static const char *const cli_share[] = {"-o", "socket=/tmp/x.sock", "//other/share",
						"/mnt/other", NULL};
	static const char *const cli_guest[] = {"-o", "guest", NULL};
	struct ofsync_config cfg;
	struct options o;
	char path[PATH_MAX], err[512];

	write_conf(good_conf, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);

	/* The file alone: the share's options win over [global]'s. */
	ck_assert_msg(parse_with(&cfg, &cfg.shares[0], none, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(o.unc_text, "//fs.example.com/Docs");
	ck_assert_str_eq(o.mountpoint, "/srv/docs");
	ck_assert_str_eq(o.cache_dir, "/var/cache/ofsync-test");
	ck_assert_str_eq(o.socket, "/run/ofsync-test.sock");
	ck_assert_str_eq(o.credentials, "/etc/ofsync/docs.cred");
	ck_assert_uint_eq(o.timeout, 10);
	ck_assert_uint_eq(o.probe_interval, 15);
	ck_assert_str_eq(o.fuse_opts, "allow_other");
	ck_assert_int_eq(o.foreground, 0);
	options_release(&o);

	/* The command line wins over the file. */
	ck_assert_msg(parse_with(&cfg, &cfg.shares[0], cli, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(o.timeout, 3);
	ck_assert_uint_eq(o.probe_interval, 9);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_str_eq(o.cache_dir, "/var/cache/ofsync-test");
	options_release(&o);

	/* A share on the command line gets the globals only. */
	ck_assert_msg(parse_with(&cfg, NULL, cli_share, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(o.unc_text, "//other/share");
	ck_assert_str_eq(o.mountpoint, "/mnt/other");
	ck_assert_str_eq(o.socket, "/tmp/x.sock");
	ck_assert_str_eq(o.cache_dir, "/var/cache/ofsync-test");
	ck_assert_uint_eq(o.timeout, 7);
	ck_assert_ptr_null(o.credentials);
	options_release(&o);

	/* A flag cannot take back the file's credentials. */
	ck_assert_int_eq(parse_with(&cfg, &cfg.shares[0], cli_guest, &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'guest' and 'credentials'"));

	/* Without a file: the command line as it was. */
	config_free(&cfg);
	ck_assert_msg(parse_with(&cfg, NULL, cli_share, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(o.timeout, 5);
	ck_assert_str_eq(o.socket, "/tmp/x.sock");
	options_release(&o);
}
END_TEST

START_TEST(test_argv)
{
	static char *const args[] = {"-d", "--", "x"};
	struct ofsync_config cfg;
	char path[PATH_MAX], err[512], **argv;

	write_conf("[share a]\nunc=//s/a\nmountpoint=/m\n", path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	/* No options in the file: no "-o". */
	ck_assert_int_eq(config_argv(&cfg, &cfg.shares[0], "prog", 1, args, &argv), 4);
	ck_assert_str_eq(argv[0], "prog");
	ck_assert_str_eq(argv[1], "-d");
	ck_assert_str_eq(argv[2], "//s/a");
	ck_assert_str_eq(argv[3], "/m");
	ck_assert_ptr_null(argv[4]);
	config_argv_free(argv);
	ck_assert_int_eq(config_argv(&cfg, NULL, "prog", 0, args, &argv), 1);
	ck_assert_ptr_null(argv[1]);
	config_argv_free(argv);
	config_argv_free(NULL);
	config_free(&cfg);
}
END_TEST

/* ---- the default file ---- */

/* The checks of test_default_path for a user that is not root. */
static void check_user_default(void)
{
	char out[PATH_MAX], want[PATH_MAX + 256], p[PATH_MAX];
	int rc;

	/* The user's file wins when it exists. */
	snprintf(p, sizeof(p), "%s/xdg/ofsync", tmp);
	ck_assert_int_eq(mkdir_p(p, 0700), 0);
	snprintf(want, sizeof(want), "%s/xdg/ofsync/ofsync.conf", tmp);
	fclose(fopen(want, "w"));
	snprintf(p, sizeof(p), "%s/xdg", tmp);
	setenv("XDG_CONFIG_HOME", p, 1);
	ck_assert_int_eq(config_default_path(out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(config_default_path(out, 10), -ENAMETOOLONG);

	/* No XDG_CONFIG_HOME (or a relative one): ~/.config. */
	snprintf(p, sizeof(p), "%s/home/.config/ofsync", tmp);
	ck_assert_int_eq(mkdir_p(p, 0700), 0);
	snprintf(want, sizeof(want), "%s/home/.config/ofsync/ofsync.conf", tmp);
	fclose(fopen(want, "w"));
	snprintf(p, sizeof(p), "%s/home", tmp);
	setenv("HOME", p, 1);
	setenv("XDG_CONFIG_HOME", "relative", 1);
	ck_assert_int_eq(config_default_path(out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);
	unsetenv("XDG_CONFIG_HOME");
	ck_assert_int_eq(config_default_path(out, sizeof(out)), 0);
	ck_assert_str_eq(out, want);

	/* No user file: /etc/ofsync/ofsync.conf, if it is there. */
	unlink(want);
	rc = config_default_path(out, sizeof(out));
	ck_assert_str_eq(out, CONFIG_SYSTEM_PATH);
	ck_assert_int_eq(rc, access(CONFIG_SYSTEM_PATH, F_OK) == 0 ? 0 : -ENOENT);
}

START_TEST(test_default_path)
{
	char out[PATH_MAX];
	pid_t pid;
	int status, rc;

	if (geteuid() != 0) {
		check_user_default();
		return;
	}
	/* root: /etc only, whatever the user's files. */
	setenv("XDG_CONFIG_HOME", tmp, 1);
	rc = config_default_path(out, sizeof(out));
	ck_assert_str_eq(out, CONFIG_SYSTEM_PATH);
	ck_assert_int_eq(rc, access(CONFIG_SYSTEM_PATH, F_OK) == 0 ? 0 : -ENOENT);

	/* And as a user (nobody), in a child. */
	ck_assert_int_eq(chmod(tmp, 0777), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		check_user_default();
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "as nobody: status %d",
		      status);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *load_tc = tcase_create("load");
	TCase *use_tc = tcase_create("use");

	tcase_add_checked_fixture(load_tc, tmp_setup, tmp_teardown);
	tcase_add_test(load_tc, test_good);
	tcase_add_test(load_tc, test_empty);
	tcase_add_test(load_tc, test_layout);
	tcase_add_test(load_tc, test_credentials_not_read);
	tcase_add_test(load_tc, test_home);
	tcase_add_test(load_tc, test_example);
	tcase_add_loop_test(load_tc, test_sizes, 0, sizeof(size_cases) / sizeof(size_cases[0]));
	tcase_add_loop_test(load_tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(load_tc, test_long_line);
	tcase_add_test(load_tc, test_unreadable);
	suite_add_tcase(s, load_tc);

	tcase_add_checked_fixture(use_tc, tmp_setup, tmp_teardown);
	tcase_add_test(use_tc, test_share_opts);
	tcase_add_test(use_tc, test_cli_overrides);
	tcase_add_test(use_tc, test_argv);
	tcase_add_test(use_tc, test_default_path);
	suite_add_tcase(s, use_tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

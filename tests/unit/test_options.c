/* test_options.c - unit tests for src/options.c. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"

#define MAXARGS 16

/* Runs options_parse on "ofsyncd" followed by the NULL-terminated args. */
static int parse(struct options *o, char *err, size_t errlen, const char *const *args)
{
	char *argv[MAXARGS + 2];
	int argc = 0;

	argv[argc++] = (char *)"ofsyncd";
	for (; *args; args++) {
		ck_assert_int_lt(argc, MAXARGS + 1);
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;
	return options_parse(argc, argv, o, err, errlen);
}

/* "$cwd/rel" as options_parse should make it. */
static char *from_cwd(const char *rel, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(buf, len, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", rel);
	return buf;
}

/* ---- good command lines ---- */

/*
 * Fields left out are expected at their default: unc_text "//s/h",
 * mountpoint "/m", timeout 5, attr_timeout "1", fuse_opts "", the rest
 * zero or NULL.  cache_dir and socket are only checked when given.
 */
static const struct good_case {
	const char *args[MAXARGS]; /* NULL-terminated */
	int foreground, debug;
	const char *unc_text;
	const char *mountpoint; /* relative: against the cwd */
	const char *cache_dir;	/* relative: against the cwd */
	const char *socket;
	const char *credentials;
	int guest;
	const char *user, *domain;
	unsigned timeout;
	const char *attr_timeout; /* as "%g" prints it */
	const char *fuse_opts;
	unsigned probe_interval; /* 0: the default, 30 */
	int offline;
} good_cases[] = {
	{.args = {"-o", "probe_interval=7,offline", "//s/h", "/m"},
	 .probe_interval = 7,
	 .offline = 1},
	{.args = {"-o", "offline", "-o", "probe_interval=1", "//s/h", "/m"},
	 .probe_interval = 1,
	 .offline = 1},
	{.args = {"//srv/share", "/mnt/x"}, .unc_text = "//srv/share", .mountpoint = "/mnt/x"},
	{.args = {"-f", "-d", "\\\\SRV\\Share\\dir\\", "/mnt"},
	 .foreground = 1,
	 .debug = 1,
	 .unc_text = "//SRV/Share/dir",
	 .mountpoint = "/mnt"},
	{.args = {"-fd", "smb://srv:4450/share", "mnt"},
	 .foreground = 1,
	 .debug = 1,
	 .unc_text = "//srv:4450/share",
	 .mountpoint = "mnt"},
	{.args = {"//[::1]:4450/s", "/m", "-f"}, .foreground = 1, .unc_text = "//[::1]:4450/s"},
	{.args = {"-o", "cache_dir=/c,socket=/s.sock", "//s/h", "/m"},
	 .cache_dir = "/c",
	 .socket = "/s.sock"},
	{.args = {"-ocache_dir=rel/cache", "-o", "socket=sock", "//s/h", "/m"},
	 .cache_dir = "rel/cache",
	 .socket = "sock"},
	{.args = {"-o", "guest", "//s/h", "/m"}, .guest = 1},
	{.args = {"-o", "user=alice,domain=CORP", "//s/h", "/m"},
	 .user = "alice",
	 .domain = "CORP"},
	{.args = {"-o", "user=CORP/alice", "//s/h", "/m"}, .user = "alice", .domain = "CORP"},
	{.args = {"-o", "user=CORP\\alice,domain=OTHER", "//s/h", "/m"},
	 .user = "alice",
	 .domain = "OTHER"},
	{.args = {"-o", "domain=OTHER,user=CORP/alice", "//s/h", "/m"},
	 .user = "alice",
	 .domain = "OTHER"},
	{.args = {"-o", "user=CORP/alice", "-o", "user=bob", "//s/h", "/m"}, .user = "bob"},
	{.args = {"-o", "credentials=/etc/creds", "//s/h", "/m"}, .credentials = "/etc/creds"},
	{.args = {"-o", "credentials=creds,user=bob", "//s/h", "/m"},
	 .credentials = "creds",
	 .user = "bob"},
	{.args = {"-o", "timeout=30,attr_timeout=0.5", "//s/h", "/m"},
	 .timeout = 30,
	 .attr_timeout = "0.5"},
	{.args = {"-o", "timeout=1,attr_timeout=0", "//s/h", "/m"},
	 .timeout = 1,
	 .attr_timeout = "0"},
	{.args = {"-o", "attr_timeout=.25", "-o", "attr_timeout=2.", "//s/h", "/m"},
	 .attr_timeout = "2"},
	{.args = {"-o", "attr_timeout=.25", "//s/h", "/m"}, .attr_timeout = "0.25"},
	{.args = {"-o", "timeout=2", "-o", "timeout=07", "//s/h", "/m"}, .timeout = 7},
	{.args = {"-o", "allow_other,ro", "-o", "default_permissions,auto_unmount", "//s/h", "/m"},
	 .fuse_opts = "allow_other,ro,default_permissions,auto_unmount"},
	{.args = {"-o", "allow_root,rw,fsname=ofsync://s/h,subtype=ofsync", "//s/h", "/m"},
	 .fuse_opts = "allow_root,rw,fsname=ofsync://s/h,subtype=ofsync"},
	{.args = {"-o", ",ro,,timeout=9,", "//s/h", "/m"}, .timeout = 9, .fuse_opts = "ro"},
	{.args = {"//s/h", "/m", "-o", "ro", "-f"}, .foreground = 1, .fuse_opts = "ro"},
	{.args = {"-fo", "ro", "//s/h", "/m"}, .foreground = 1, .fuse_opts = "ro"},
	{.args = {"-foro", "//s/h", "/m"}, .foreground = 1, .fuse_opts = "ro"},
	{.args = {"-f", "--", "//s/h", "-m"}, .foreground = 1, .mountpoint = "-m"},
};

/* Asserts that got is path, made absolute against the cwd when relative. */
static void assert_path(const char *got, const char *path)
{
	char want[PATH_MAX + 64];

	ck_assert_ptr_nonnull(got);
	if (path[0] == '/')
		ck_assert_str_eq(got, path);
	else
		ck_assert_str_eq(got, from_cwd(path, want, sizeof(want)));
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (want)
		ck_assert_str_eq(got, want);
	else
		ck_assert_ptr_null(got);
}

START_TEST(test_good)
{
	const struct good_case *c = &good_cases[_i];
	struct options o;
	char err[512] = "";
	char attr[32];

	ck_assert_msg(parse(&o, err, sizeof(err), c->args) == 0, "case %d refused: %s", _i, err);
	ck_assert_int_eq(o.help, 0);
	ck_assert_int_eq(o.version, 0);
	ck_assert_int_eq(o.foreground, c->foreground);
	ck_assert_int_eq(o.debug, c->debug);
	ck_assert_str_eq(o.unc_text, c->unc_text ? c->unc_text : "//s/h");
	assert_path(o.mountpoint, c->mountpoint ? c->mountpoint : "/m");
	ck_assert_ptr_nonnull(o.cache_dir);
	ck_assert_int_eq(o.cache_dir[0], '/');
	if (c->cache_dir)
		assert_path(o.cache_dir, c->cache_dir);
	ck_assert_ptr_nonnull(o.socket);
	ck_assert_int_eq(o.socket[0], '/');
	if (c->socket)
		assert_path(o.socket, c->socket);
	if (c->credentials)
		assert_path(o.credentials, c->credentials);
	else
		ck_assert_ptr_null(o.credentials);
	ck_assert_int_eq(o.guest, c->guest);
	assert_str_or_null(o.user, c->user);
	assert_str_or_null(o.domain, c->domain);
	ck_assert_ptr_null(o.password);
	ck_assert_uint_eq(o.timeout, c->timeout ? c->timeout : 5);
	snprintf(attr, sizeof(attr), "%g", o.attr_timeout);
	ck_assert_str_eq(attr, c->attr_timeout ? c->attr_timeout : "1");
	ck_assert_str_eq(o.fuse_opts, c->fuse_opts ? c->fuse_opts : "");
	ck_assert_uint_eq(o.probe_interval, c->probe_interval ? c->probe_interval : 30);
	ck_assert_int_eq(o.offline, c->offline);
	options_release(&o);
	ck_assert_ptr_null(o.mountpoint);
}
END_TEST

/* ---- bad command lines ---- */

static const struct bad_case {
	const char *args[MAXARGS];
	const char *reason; /* substring of err */
} bad_cases[] = {
	{{NULL}, "missing share"},
	{{"-f"}, "missing share"},
	{{"//s/h"}, "missing mountpoint"},
	{{"//s/h", "/m", "extra"}, "extra argument 'extra'"},
	{{"-x", "//s/h", "/m"}, "unknown flag '-x'"},
	{{"-fz", "//s/h", "/m"}, "unknown flag '-z'"},
	{{"--frobnicate", "//s/h", "/m"}, "unknown flag '--frobnicate'"},
	{{"--help=yes", "//s/h", "/m"}, "unknown flag '--help=yes'"},
	{{"//s/h", "/m", "-o"}, "'-o' needs an argument"},
	{{"-o", "frobnicate", "//s/h", "/m"}, "unknown option 'frobnicate'"},
	{{"-o", "ro,frobnicate=3", "//s/h", "/m"}, "unknown option 'frobnicate'"},
	{{"-o", "password=secret", "//s/h", "/m"}, "unknown option 'password'"},
	{{"-o", "RO", "//s/h", "/m"}, "unknown option 'RO'"},
	{{"-o", "timeout", "//s/h", "/m"}, "option 'timeout' needs a value"},
	{{"-o", "timeout=", "//s/h", "/m"}, "option 'timeout' needs a value"},
	{{"-o", "cache_dir", "//s/h", "/m"}, "option 'cache_dir' needs a value"},
	{{"-o", "user=", "//s/h", "/m"}, "option 'user' needs a value"},
	{{"-o", "fsname", "//s/h", "/m"}, "option 'fsname' needs a value"},
	{{"-o", "guest=1", "//s/h", "/m"}, "option 'guest' takes no value"},
	{{"-o", "ro=yes", "//s/h", "/m"}, "option 'ro' takes no value"},
	{{"-o", "timeout=abc", "//s/h", "/m"}, "bad number 'abc' for timeout"},
	{{"-o", "probe_interval=0", "//s/h", "/m"}, "bad number '0' for probe_interval"},
	{{"-o", "probe_interval=soon", "//s/h", "/m"}, "bad number 'soon' for probe_interval"},
	{{"-o", "probe_interval", "//s/h", "/m"}, "probe_interval"},
	{{"-o", "offline=yes", "//s/h", "/m"}, "offline"},
	{{"-o", "timeout=0", "//s/h", "/m"}, "bad number '0' for timeout"},
	{{"-o", "timeout=-5", "//s/h", "/m"}, "bad number '-5' for timeout"},
	{{"-o", "timeout=1.5", "//s/h", "/m"}, "bad number '1.5' for timeout"},
	{{"-o", "timeout=99999999999999999999", "//s/h", "/m"}, "for timeout"},
	{{"-o", "timeout= 5", "//s/h", "/m"}, "for timeout"},
	{{"-o", "attr_timeout=-1", "//s/h", "/m"}, "bad number '-1' for attr_timeout"},
	{{"-o", "attr_timeout=abc", "//s/h", "/m"}, "for attr_timeout"},
	{{"-o", "attr_timeout=.", "//s/h", "/m"}, "for attr_timeout"},
	{{"-o", "attr_timeout=1.2.3", "//s/h", "/m"}, "for attr_timeout"},
	{{"-o", "attr_timeout=1e3", "//s/h", "/m"}, "for attr_timeout"},
	{{"-o", "attr_timeout=nan", "//s/h", "/m"}, "for attr_timeout"},
	{{"-o", "attr_timeout=inf", "//s/h", "/m"}, "for attr_timeout"},
	{{"-o", "attr_timeout=1000000000", "//s/h", "/m"}, "for attr_timeout"},
	{{"//srv", "/m"}, "malformed share '//srv': missing share name"},
	{{"srv/share", "/m"}, "malformed share 'srv/share'"},
	{{"//srv:0/share", "/m"}, "port"},
	{{"//s/h", ""}, "empty mountpoint"},
	{{"-o", "guest,user=bob", "//s/h", "/m"}, "'guest' and 'user'"},
	{{"-o", "user=bob", "-o", "guest", "//s/h", "/m"}, "'guest' and 'user'"},
	{{"-o", "guest,credentials=/c", "//s/h", "/m"}, "'guest' and 'credentials'"},
	{{"-o", "user=bob%secret", "//s/h", "/m"}, "credentials file"},
	{{"-o", "user=CORP/", "//s/h", "/m"}, "bad user name"},
	{{"-o", "allow_other,allow_root", "//s/h", "/m"}, "'allow_other' and 'allow_root'"},
	{{"-o",
	  "socket=/a/very/long/socket/path/that/does/not/fit/in/sun_path/of/a/unix/domain/socket/"
	  "address/which/holds/108/bytes.sock",
	  "//s/h", "/m"},
	 "too long"},
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct options o;
	char err[512] = "";

	ck_assert_msg(parse(&o, err, sizeof(err), c->args) == -EINVAL, "case %d accepted", _i);
	ck_assert_msg(strstr(err, c->reason) != NULL, "case %d: got \"%s\", want \"%s\"", _i, err,
		      c->reason);
	/* Nothing is left allocated; release is still harmless. */
	ck_assert_ptr_null(o.mountpoint);
	ck_assert_ptr_null(o.cache_dir);
	ck_assert_ptr_null(o.unc_text);
	options_release(&o);
}
END_TEST

START_TEST(test_fuse_opts_overflow)
{
	char big[OPTIONS_FUSE_MAX + 16];
	const char *args[] = {"-o", big, "//s/h", "/m", NULL};
	struct options o;
	char err[512] = "";

	snprintf(big, sizeof(big), "fsname=%0*d", OPTIONS_FUSE_MAX - 8, 0);
	ck_assert_int_eq(parse(&o, err, sizeof(err), args), 0);
	ck_assert_uint_eq(strlen(o.fuse_opts), OPTIONS_FUSE_MAX - 1);
	options_release(&o);

	snprintf(big, sizeof(big), "fsname=%0*d", OPTIONS_FUSE_MAX - 7, 0);
	ck_assert_int_eq(parse(&o, err, sizeof(err), args), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too many FUSE options"));
}
END_TEST

START_TEST(test_help_version)
{
	static const struct {
		const char *args[5]; /* NULL-terminated */
		int help, version;
	} cases[] = {
		{{"-h"}, 1, 0},
		{{"--help"}, 1, 0},
		{{"-V"}, 0, 1},
		{{"--version"}, 0, 1},
		{{"-fh", "bogus"}, 1, 0},
		{{"//srv", "-h"}, 1, 0},
		{{"-o", "ro", "-V", "extra"}, 0, 1},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct options o;
		char err[512] = "";

		ck_assert_msg(parse(&o, err, sizeof(err), cases[k].args) == 0, "case %zu: %s", k,
			      err);
		ck_assert_int_eq(o.help, cases[k].help);
		ck_assert_int_eq(o.version, cases[k].version);
		options_release(&o);
	}
}
END_TEST

/* Every option the parser knows appears in the usage text. */
START_TEST(test_usage)
{
	static const char words[] = "-f -d -o -h --help -V --version cache_dir= socket= "
				    "credentials= guest user= domain= timeout= attr_timeout= "
				    "allow_other allow_root ro rw default_permissions "
				    "auto_unmount fsname= subtype= MOUNTPOINT //SERVER";
	char list[sizeof(words)], *save = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	options_usage(f);
	fclose(f);
	memcpy(list, words, sizeof(words));
	for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
		ck_assert_msg(strstr(text, w) != NULL, "usage lacks %s", w);
	free(text);
}
END_TEST

/* ---- defaults ---- */

static const char *const minimal[] = {"//s/h", "/m", NULL};

/* Checks the defaults for a non-root user; returns 0 when they are right. */
static int check_user_defaults(void)
{
	struct options o;
	char err[512];
	char want[128];
	int bad = 0;

	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	setenv("XDG_RUNTIME_DIR", "/xdg/run", 1);
	setenv("HOME", "/home/u", 1);
	if (parse(&o, err, sizeof(err), minimal) != 0)
		return 1;
	bad |= strcmp(o.cache_dir, "/xdg/cache/ofsync") != 0;
	bad |= strcmp(o.socket, "/xdg/run/ofsync.sock") != 0;
	options_release(&o);

	/* A relative XDG_CACHE_HOME is ignored; HOME is used. */
	setenv("XDG_CACHE_HOME", "relative", 1);
	unsetenv("XDG_RUNTIME_DIR");
	if (parse(&o, err, sizeof(err), minimal) != 0)
		return 1;
	bad |= strcmp(o.cache_dir, "/home/u/.cache/ofsync") != 0;
	snprintf(want, sizeof(want), "/tmp/ofsync-%u.sock", (unsigned)geteuid());
	bad |= strcmp(o.socket, want) != 0;
	options_release(&o);

	unsetenv("XDG_CACHE_HOME");
	setenv("XDG_RUNTIME_DIR", "", 1);
	if (parse(&o, err, sizeof(err), minimal) != 0)
		return 1;
	bad |= strcmp(o.cache_dir, "/home/u/.cache/ofsync") != 0;
	bad |= strcmp(o.socket, want) != 0;
	options_release(&o);

	/* Explicit options win over the environment. */
	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	{
		const char *args[] = {"-o", "cache_dir=/c,socket=/s", "//s/h", "/m", NULL};

		if (parse(&o, err, sizeof(err), args) != 0)
			return 1;
		bad |= strcmp(o.cache_dir, "/c") != 0;
		bad |= strcmp(o.socket, "/s") != 0;
		options_release(&o);
	}
	return bad;
}

/* The watch: on by default with a 60 s timeout; attr_timeout fixes the timeout. */
START_TEST(test_notify)
{
	static const char *const dflt[] = {"//s/h", "/m", NULL};
	static const char *const off[] = {"-o", "notify=no", "//s/h", "/m", NULL};
	static const char *const fixed[] = {"-o", "attr_timeout=5,notify=yes", "//s/h", "/m", NULL};
	static const char *const bad[] = {"-o", "notify=1", "//s/h", "/m", NULL};
	struct options o;
	char err[512];

	ck_assert_int_eq(parse(&o, err, sizeof(err), dflt), 0);
	ck_assert_int_eq(o.notify, 1);
	ck_assert(o.watch_timeout == 60.0 && o.attr_timeout == 1.0);
	options_release(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), off), 0);
	ck_assert_int_eq(o.notify, 0);
	options_release(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), fixed), 0);
	ck_assert_int_eq(o.notify, 1);
	ck_assert(o.watch_timeout == 0 && o.attr_timeout == 5.0);
	options_release(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), bad), -EINVAL);
	ck_assert_msg(strstr(err, "bad value '1' for notify (yes or no)"), "%s", err);
	options_release(&o);
}
END_TEST

START_TEST(test_defaults)
{
	struct options o;
	char err[512];

	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	setenv("XDG_RUNTIME_DIR", "/xdg/run", 1);
	if (geteuid() != 0) {
		ck_assert_int_eq(check_user_defaults(), 0);
		return;
	}
	/* root ignores the XDG variables. */
	ck_assert_int_eq(parse(&o, err, sizeof(err), minimal), 0);
	ck_assert_str_eq(o.cache_dir, "/var/cache/ofsync");
	ck_assert_str_eq(o.socket, "/run/ofsync.sock");
	ck_assert_uint_eq(o.timeout, 5);
	ck_assert_double_eq(o.attr_timeout, 1.0);
	options_release(&o);

	/* And a user's defaults, in a child that gives up root. */
	{
		pid_t pid = fork();
		int status;

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			if (setresgid(65534, 65534, 65534) < 0 ||
			    setresuid(65534, 65534, 65534) < 0)
				_exit(2);
			_exit(check_user_defaults());
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "user defaults wrong (status %d)", status);
	}
}
END_TEST

/* ---- options_validate ---- */

static char tmp[256]; /* a fresh directory per test, resolved */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void tmp_setup(void)
{
	char templ[] = "/tmp/ofsync-test-options-XXXXXX";
	char *real;

	ck_assert_ptr_nonnull(mkdtemp(templ));
	real = realpath(templ, NULL);
	ck_assert_ptr_nonnull(real);
	snprintf(tmp, sizeof(tmp), "%s", real);
	free(real);
}

static void tmp_teardown(void)
{
	if (tmp[0])
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

/* tmp/rel into buf. */
static char *in_tmp(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", tmp, rel);
	return buf;
}

static void make_dir(const char *rel)
{
	char p[PATH_MAX];

	ck_assert_int_eq(mkdir(in_tmp(p, sizeof(p), rel), 0755), 0);
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	int fd = open(in_tmp(p, sizeof(p), rel), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(p, mode), 0);
}

/*
 * Parses "-o cache_dir=CACHE[,extra] //s/h MNT" (both relative to tmp) and
 * validates.  Returns validate's result; o is to be released by the caller.
 */
static int parse_validate(struct options *o, const char *mnt, const char *cache, const char *extra,
			  char *err, size_t errlen)
{
	char mp[PATH_MAX], cd[PATH_MAX], opts[3 * PATH_MAX];
	const char *args[] = {"-o", opts, "//s/h", mp, NULL};

	in_tmp(mp, sizeof(mp), mnt);
	in_tmp(cd, sizeof(cd), cache);
	snprintf(opts, sizeof(opts), "cache_dir=%s%s%s", cd, extra ? "," : "", extra ? extra : "");
	ck_assert_msg(parse(o, err, errlen, args) == 0, "parse: %s", err);
	return options_validate(o, err, errlen);
}

static const struct place_case {
	const char *mnt, *cache;
	int rc;
	const char *reason;
} place_cases[] = {
	{"mnt", "cache", 0, NULL},
	{"mnt", "cache/deep/er", 0, NULL},
	{"mnt", "mnt/../cache", 0, NULL},
	{"mnt", "mnt/x/../../cache", 0, NULL},
	{"mnt", "mntx", 0, NULL},
	{"mnt", "mnt-cache/x", 0, NULL},
	{"mnt", "mnt", -EINVAL, "is the mountpoint"},
	{"mnt", "mnt/", -EINVAL, "is the mountpoint"},
	{"mnt", "mnt/.", -EINVAL, "is the mountpoint"},
	{"mnt", "mnt/cache", -EINVAL, "inside the mountpoint"},
	{"mnt", "mnt/a/b/c", -EINVAL, "inside the mountpoint"},
	{"mnt", "mnt/sub/cache", -EINVAL, "inside the mountpoint"},
	{"mnt", "mnt//x/./y", -EINVAL, "inside the mountpoint"},
	{"mnt", "cache/../mnt/c", -EINVAL, "inside the mountpoint"},
	{"mnt", "link-to-mnt/cache", -EINVAL, "inside the mountpoint"},
	{"mnt", "link-to-mnt", -EINVAL, "is the mountpoint"},
	{"link-to-mnt", "mnt/cache", -EINVAL, "inside the mountpoint"},
	{"mnt/sub", "mnt", 0, NULL},
	{"missing", "cache", -ENOENT, "does not exist"},
	{"file", "cache", -ENOTDIR, "not a directory"},
	{"file/x", "cache", -ENOTDIR, "not a directory"},
};

START_TEST(test_cache_placement)
{
	const struct place_case *c = &place_cases[_i];
	struct options o;
	char err[1024] = "";
	char link[PATH_MAX], target[PATH_MAX];
	int rc;

	make_dir("mnt");
	make_dir("mnt/sub");
	write_file("file", "x", 0644);
	ck_assert_int_eq(symlink(in_tmp(target, sizeof(target), "mnt"),
				 in_tmp(link, sizeof(link), "link-to-mnt")),
			 0);
	rc = parse_validate(&o, c->mnt, c->cache, NULL, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "case %d (%s, %s): rc %d (%s), want %d", _i, c->mnt, c->cache,
		      rc, err, c->rc);
	if (c->reason)
		ck_assert_msg(strstr(err, c->reason) != NULL, "case %d: got \"%s\", want \"%s\"",
			      _i, err, c->reason);
	if (rc == 0) {
		/* The mountpoint is now resolved. */
		char want[PATH_MAX], *real = realpath(in_tmp(want, sizeof(want), c->mnt), NULL);

		ck_assert_ptr_nonnull(real);
		ck_assert_str_eq(o.mountpoint, real);
		free(real);
	}
	options_release(&o);
}
END_TEST

/* The mountpoint given relative and through a symlink comes out resolved. */
START_TEST(test_mountpoint_resolved)
{
	struct options o;
	char err[1024] = "", cwd[PATH_MAX], mnt[PATH_MAX], lnk[PATH_MAX], cache[PATH_MAX + 16];
	const char *args[] = {"-o", cache, "//s/h", "l/", NULL};

	make_dir("mnt");
	ck_assert_int_eq(symlink(in_tmp(mnt, sizeof(mnt), "mnt"), in_tmp(lnk, sizeof(lnk), "l")),
			 0);
	snprintf(cache, sizeof(cache), "cache_dir=%s/c", tmp);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmp), 0);
	ck_assert_int_eq(parse(&o, err, sizeof(err), args), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(options_validate(&o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.mountpoint, mnt);
	options_release(&o);
}
END_TEST

/* ---- credentials ---- */

static const struct cred_case {
	const char *text;
	mode_t mode;
	const char *extra; /* more -o options */
	int rc;
	const char *reason; /* substring of err, on failure */
	const char *user, *domain, *password;
} cred_cases[] = {
	{"username=alice\npassword=s3cret\n", 0600, NULL, 0, NULL, "alice", NULL, "s3cret"},
	{"username=alice\npassword=s3cret\ndomain=CORP\n", 0400, NULL, 0, NULL, "alice", "CORP",
	 "s3cret"},
	{"user=alice\npass=pw\ndom=CORP", 0600, NULL, 0, NULL, "alice", "CORP", "pw"},
	{"USERNAME=alice\nPassword=pw\n", 0600, NULL, 0, NULL, "alice", NULL, "pw"},
	{"username=CORP/alice\npassword=pw\n", 0600, NULL, 0, NULL, "alice", "CORP", "pw"},
	{"username=CORP\\alice\npassword=pw\n", 0600, NULL, 0, NULL, "alice", "CORP", "pw"},
	{"username=alice%pa%ss/w\n", 0600, NULL, 0, NULL, "alice", NULL, "pa%ss/w"},
	{"username=CORP/alice%pw\n", 0600, NULL, 0, NULL, "alice", "CORP", "pw"},
	{"# a comment\n\n   # indented comment\n\t\nusername=alice\r\npassword=pw\r\n", 0600, NULL,
	 0, NULL, "alice", NULL, "pw"},
	{"  username = alice  \npassword= with spaces \n", 0600, NULL, 0, NULL, "alice", NULL,
	 " with spaces "},
	{"password=a=b=c\n", 0600, NULL, 0, NULL, NULL, NULL, "a=b=c"},
	{"password=\n", 0600, NULL, 0, NULL, NULL, NULL, ""},
	{"username=alice\npassword=pw\ndomain=CORP\n", 0600, "user=bob,domain=OTHER", 0, NULL,
	 "bob", "OTHER", "pw"},
	{"username=alice\npassword=pw\ndomain=CORP\n", 0600, "user=bob", 0, NULL, "bob", "CORP",
	 "pw"},
	{"", 0600, NULL, 0, NULL, NULL, NULL, NULL},
	{"username=alice\n", 0644, NULL, -EACCES, "chmod 600", NULL, NULL, NULL},
	{"username=alice\n", 0640, NULL, -EACCES, "chmod 600", NULL, NULL, NULL},
	{"username=alice\n", 0604, NULL, -EACCES, "group or others", NULL, NULL, NULL},
	{"username=alice\n", 0620, NULL, -EACCES, "group or others", NULL, NULL, NULL},
	{"username=alice\n", 0602, NULL, -EACCES, "group or others", NULL, NULL, NULL},
	{"username=alice\njunk line\n", 0600, NULL, -EINVAL, "line 2: expected key=value", NULL,
	 NULL, NULL},
	{"username=alice\ncolour=blue\n", 0600, NULL, -EINVAL, "line 2: unknown key 'colour'", NULL,
	 NULL, NULL},
	{"password=s3cret\nusername=alice\nwhat\n", 0600, NULL, -EINVAL, "line 3: expected", NULL,
	 NULL, NULL},
	{"password=s3cret\n", 0666, NULL, -EACCES, "chmod 600", NULL, NULL, NULL},
};

START_TEST(test_credentials)
{
	const struct cred_case *c = &cred_cases[_i];
	struct options o;
	char err[1024] = "", extra[PATH_MAX];
	int rc;

	make_dir("mnt");
	write_file("creds", c->text, c->mode);
	snprintf(extra, sizeof(extra), "credentials=%s/creds%s%s", tmp, c->extra ? "," : "",
		 c->extra ? c->extra : "");
	rc = parse_validate(&o, "mnt", "cache", extra, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "case %d: rc %d (%s), want %d", _i, rc, err, c->rc);
	if (rc < 0) {
		ck_assert_msg(strstr(err, c->reason) != NULL, "case %d: got \"%s\", want \"%s\"",
			      _i, err, c->reason);
		/* A secret never ends up in a message. */
		ck_assert_ptr_null(strstr(err, "s3cret"));
	} else {
		assert_str_or_null(o.user, c->user);
		assert_str_or_null(o.domain, c->domain);
		assert_str_or_null(o.password, c->password);
	}
	options_release(&o);
	ck_assert_ptr_null(o.password);
}
END_TEST

START_TEST(test_credentials_unreadable)
{
	struct options o;
	char err[1024] = "", extra[PATH_MAX + 32];

	make_dir("mnt");
	make_dir("dir");
	snprintf(extra, sizeof(extra), "credentials=%s/nonexistent", tmp);
	ck_assert_int_eq(parse_validate(&o, "mnt", "cache", extra, err, sizeof(err)), -EACCES);
	ck_assert_ptr_nonnull(strstr(err, "cannot open credentials file"));
	options_release(&o);

	snprintf(extra, sizeof(extra), "credentials=%s/dir", tmp);
	ck_assert_int_eq(parse_validate(&o, "mnt", "cache", extra, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	options_release(&o);
}
END_TEST

/* A file with a NUL byte or one too large is refused. */
START_TEST(test_credentials_not_text)
{
	struct options o;
	char err[1024] = "", extra[PATH_MAX + 32], p[PATH_MAX];
	static const char nul[] = "username=a\0b\n";
	int fd;

	make_dir("mnt");
	fd = open(in_tmp(p, sizeof(p), "creds"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, nul, sizeof(nul) - 1), (ssize_t)sizeof(nul) - 1);
	close(fd);
	snprintf(extra, sizeof(extra), "credentials=%s/creds", tmp);
	ck_assert_int_eq(parse_validate(&o, "mnt", "cache", extra, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a text file"));
	options_release(&o);

	fd = open(p, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1024 * 1024), 0);
	close(fd);
	ck_assert_int_eq(parse_validate(&o, "mnt", "cache", extra, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	options_release(&o);
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *parse_tc = tcase_create("parse");
	TCase *fs_tc = tcase_create("validate");

	tcase_add_loop_test(parse_tc, test_good, 0, sizeof(good_cases) / sizeof(good_cases[0]));
	tcase_add_loop_test(parse_tc, test_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(parse_tc, test_fuse_opts_overflow);
	tcase_add_test(parse_tc, test_help_version);
	tcase_add_test(parse_tc, test_usage);
	tcase_add_test(parse_tc, test_defaults);
	tcase_add_test(parse_tc, test_notify);
	suite_add_tcase(s, parse_tc);

	tcase_add_checked_fixture(fs_tc, tmp_setup, tmp_teardown);
	tcase_add_loop_test(fs_tc, test_cache_placement, 0,
			    sizeof(place_cases) / sizeof(place_cases[0]));
	tcase_add_test(fs_tc, test_mountpoint_resolved);
	tcase_add_loop_test(fs_tc, test_credentials, 0, sizeof(cred_cases) / sizeof(cred_cases[0]));
	tcase_add_test(fs_tc, test_credentials_unreadable);
	tcase_add_test(fs_tc, test_credentials_not_text);
	suite_add_tcase(s, fs_tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(options_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

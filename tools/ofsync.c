/*
 * ofsync.c - the command line, built on libofsync (include/ofsync.h): it
 * never speaks the control socket by itself.  `sync` is
 * ofsync_synchronize with a progress sink that draws a bar on a terminal,
 * prints one line per item otherwise, or one JSON object per event with
 * --json; --interactive asks each conflict on the terminal.  The other
 * commands go through ofsync_request and print the daemon's answer.
 *
 * Exit statuses are enum ofsync_exit (include/ofsync.h, ofsync(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/stat.h>

#include "bar.h"
#include "ofsync.h"
#include "util/util.h"

static int json_out;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ofsync [--socket PATH] [--json] COMMAND [ARGS...]\n"
		"\n"
		"commands:\n"
		"  status [SHARE|PATH]   online/offline, items, cached bytes, dirty items\n"
		"  info PATH...          an item's type, size, cache state and remote base\n"
		"  offline [SHARE]       force the share offline (serve the cache only)\n"
		"  online [SHARE]        lift forced offline and try the server now\n"
		"  conflicts [SHARE]     the recorded conflicts (exit 5 when there are some)\n"
		"  events [--sync-id=ID] print published events as they happen\n"
		"  sync [SHARE|PATH...] [--in] [--out] [--fill-sparse]\n"
		"       [--keep-local|--keep-remote|--keep-latest] [--pin-new] [--pin-link-targets]\n"
		"       [--pin-for=user|policy|all|redir] [--background] [--low-priority]\n"
		"       [--skip-suspended] [--no-new-files-out] [--sync-id=UUID] [--async]\n"
		"       [--dry-run]\n"
		"                        synchronize (no direction: both ways)\n"
		"  cancel SYNC_ID        stop a running sync between items\n"
		"  limits [--total SIZE] [--auto SIZE]\n"
		"                        the cache's limits: everything, and unpinned data\n"
		"  evict PATH...         drop clean, unpinned cached data now\n"
		"  flush [SHARE|PATH] [--wait]\n"
		"                        push every change now (--wait: until it is on the\n"
		"                        server; exit 7 when a share is offline)\n"
		"  resolve PATH --keep-local|--keep-remote|--keep-both|--keep-latest\n"
		"                        settle one recorded conflict\n"
		"  pin / unpin PATH... [--recursive] [--for=user|policy|all|redir]\n"
		"                        keep files full (pinning fills them)\n"
		"  suspend / unsuspend PATH\n"
		"                        treat a directory as offline (SuspendRoot)\n"
		"\n"
		"A SHARE or PATH is //SERVER[:PORT]/SHARE/... or a path inside a mount.\n"
		"options:\n"
		"  --socket PATH   the daemon's control socket (default: see ofsync(1))\n"
		"  --json          print the daemon's answer as JSON\n"
		"  -h, --help      this text;  -V, --version  the version\n");
}

/* Makes a path absolute and lexically normal (ofsync_abspath). */
static int absolute(const char *in, char *out, size_t len)
{
	return ofsync_abspath(in, out, len);
}

/*
 * The same for commands that act on an item (pin, evict): a path in a mount
 * is looked up once, so that the daemon knows a name nobody listed yet.
 */
static int absolute_item(const char *in, char *out, size_t len)
{
	struct stat st;
	int rc = ofsync_abspath(in, out, len);

	if (rc == 0 && out[0] == '/' && out[1] != '/')
		(void)stat(out, &st);
	return rc;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void print_status(json_t *res)
{
	json_t *shares = json_object_get(res, "shares"), *s;
	char b1[32], b2[32];
	size_t i;

	json_array_foreach(shares, i, s)
	{
		printf("%s on %s: %s", jstr(s, "unc"), jstr(s, "mountpoint"), jstr(s, "state"));
		if (*jstr(s, "reason"))
			printf(" (%s)", jstr(s, "reason"));
		printf("\n  items %lld, files %lld (%lld full, %lld sparse), cached %s, "
		       "dirty %lld items (%s)\n",
		       jint(s, "items"), jint(s, "files"), jint(s, "full_items"),
		       jint(s, "sparse_items"),
		       human_bytes((uint64_t)jint(s, "cached_bytes"), b1, sizeof(b1)),
		       jint(s, "dirty_items"),
		       human_bytes((uint64_t)jint(s, "dirty_bytes"), b2, sizeof(b2)));
		printf("  conflicts %lld, changes waiting for the server %lld\n",
		       jint(s, "conflicts"), jint(s, "pending_ops"));
		printf("  changes made on the server: %s\n",
		       !strcmp(jstr(s, "watch"), "up") ?
			       "reported at once (change watch up)" :
		       !strcmp(jstr(s, "watch"), "down") ?
			       "seen after attr_timeout (change watch down)" :
			       "seen after attr_timeout (notify=no)");
	}
}

static void print_time100(long long t100, char *buf, size_t len)
{
	time_t sec = (time_t)(t100 / 10000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%07lld UTC", t100 % 10000000);
}

/* Prints the items; returns how many failed. */
static int print_info(json_t *res)
{
	json_t *items = json_object_get(res, "items"), *it, *base;
	char b1[32], b2[32], t[64];
	int failed = 0;
	size_t i;

	json_array_foreach(items, i, it)
	{
		json_t *err = json_object_get(it, "error");
		if (err) {
			fprintf(stderr, "ofsync: %s\n", jstr(err, "message"));
			failed++;
			continue;
		}
		printf("%s: %s, %s, %s (%s cached), %s\n", jstr(it, "path"), jstr(it, "type"),
		       human_bytes((uint64_t)jint(it, "size"), b1, sizeof(b1)), jstr(it, "cached"),
		       human_bytes((uint64_t)jint(it, "cached_bytes"), b2, sizeof(b2)),
		       json_is_true(json_object_get(it, "dirty")) ? "dirty" : "clean");
		printf("  unc   %s\n", jstr(it, "unc"));
		base = json_object_get(it, "base");
		if (json_is_object(base)) {
			print_time100(jint(base, "mtime"), t, sizeof(t));
			printf("  base  size %lld, mtime %s, file id %lld\n", jint(base, "size"), t,
			       jint(base, "file_id"));
		} else {
			printf("  base  none (not yet on the server)\n");
		}
		printf("  gen   %lld (synced %lld)\n", jint(it, "gen"), jint(it, "synced_gen"));
		json_t *pins = json_object_get(it, "pins"), *pk;
		size_t pi;
		if (json_is_true(json_object_get(it, "suspended")))
			printf("  suspended (treated as offline)\n");
		if (json_array_size(pins)) {
			printf("  pins ");
			json_array_foreach(pins, pi, pk) printf(" %s", json_string_value(pk));
			putchar('\n');
		}
	}
	return failed;
}

/* Fills args["target"] from an optional single operand; 0 or an exit status. */
static int target_arg(const char *cmd, int argc, char **argv, json_t *args)
{
	char path[PATH_MAX * 2];

	if (argc > 1) {
		fprintf(stderr, "ofsync: %s takes at most one SHARE or PATH\n", cmd);
		return OFSYNC_EXIT_USAGE;
	}
	if (argc == 1) {
		if (absolute(argv[0], path, sizeof(path)) < 0) {
			fprintf(stderr, "ofsync: %s: path too long\n", argv[0]);
			return OFSYNC_EXIT_USAGE;
		}
		json_object_set_new(args, "target", json_string(path));
	}
	return 0;
}

static const char *event_filter; /* events --sync-id=ID */
static int flush_wait;		 /* flush --wait */

/* The PINFOR* flag of a pin kind name, or 0. */
static uint32_t pin_for_flag(const char *k)
{
	if (!strcmp(k, "user"))
		return OFSYNC_PINFORUSER;
	if (!strcmp(k, "policy"))
		return OFSYNC_PINFORUSER_POLICY;
	if (!strcmp(k, "all"))
		return OFSYNC_PINFORALL;
	if (!strcmp(k, "redir"))
		return OFSYNC_PINFORREDIR;
	return 0;
}

/* pin / unpin PATH... [--recursive] [--for=user|policy|all|redir] */
static int pin_args(const char *cmd, int argc, char **argv, json_t *args)
{
	char path[PATH_MAX * 2];
	json_t *paths = json_array();

	json_object_set_new(args, "paths", paths);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--recursive")) {
			json_object_set_new(args, "recursive", json_true());
		} else if (!strncmp(a, "--for=", 6)) {
			if (!pin_for_flag(a + 6)) {
				fprintf(stderr,
					"ofsync: %s: --for takes user, policy, all or redir\n",
					cmd);
				return OFSYNC_EXIT_USAGE;
			}
			json_object_set_new(args, "for", json_string(a + 6));
		} else if (a[0] == '-') {
			fprintf(stderr, "ofsync: %s: unknown option '%s'\n", cmd, a);
			return OFSYNC_EXIT_USAGE;
		} else {
			if (absolute_item(a, path, sizeof(path)) < 0) {
				fprintf(stderr, "ofsync: %s: path too long\n", a);
				return OFSYNC_EXIT_USAGE;
			}
			json_array_append_new(paths, json_string(path));
		}
	}
	if (json_array_size(paths) == 0) {
		fprintf(stderr, "ofsync: %s needs at least one PATH\n", cmd);
		return OFSYNC_EXIT_USAGE;
	}
	return 0;
}
/* sync's settings, from its options. */
static struct {
	int async;
	int interactive;
	int dry_run;
	const char *sync_id;
	uint32_t flags;
	const char **paths;
	size_t npaths;
} so;

/*
 * sync [PATH...] [--in] [--out] [--fill-sparse] [--keep-local|--keep-remote|
 * --keep-latest] [--interactive] [--sync-id=UUID] [--async] [--dry-run] ...:
 * the control flags with the Windows values.
 */
static int sync_args(int argc, char **argv)
{
	uint32_t flags = 0, dir = 0, cr = 0;
	int ncr = 0;

	so.paths = calloc((size_t)argc + 1, sizeof(*so.paths));
	if (!so.paths)
		return OFSYNC_EXIT_FAILED;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--in")) {
			dir |= OFSYNC_SYNCIN;
		} else if (!strcmp(a, "--out")) {
			dir |= OFSYNC_SYNCOUT;
		} else if (!strcmp(a, "--fill-sparse")) {
			flags |= OFSYNC_FILLSPARSE;
		} else if (!strcmp(a, "--keep-local")) {
			cr = OFSYNC_CR_KEEPLOCAL, ncr++;
		} else if (!strcmp(a, "--keep-remote")) {
			cr = OFSYNC_CR_KEEPREMOTE, ncr++;
		} else if (!strcmp(a, "--keep-latest")) {
			cr = OFSYNC_CR_KEEPLATEST, ncr++;
		} else if (!strcmp(a, "--interactive")) {
			flags |= OFSYNC_INTERACTIVE | OFSYNC_CONSOLE;
			so.interactive = 1;
		} else if (!strcmp(a, "--pin-new")) {
			flags |= OFSYNC_PINNEWFILES;
		} else if (!strcmp(a, "--pin-link-targets")) {
			flags |= OFSYNC_PINLINKTARGETS;
		} else if (!strncmp(a, "--pin-for=", 10)) {
			uint32_t k = pin_for_flag(a + 10);
			if (!k) {
				fprintf(stderr,
					"ofsync: sync: --pin-for takes user, policy, all or "
					"redir\n");
				return OFSYNC_EXIT_USAGE;
			}
			flags |= k;
		} else if (!strcmp(a, "--background")) {
			flags |= OFSYNC_BACKGROUND;
		} else if (!strcmp(a, "--skip-suspended")) {
			flags |= OFSYNC_SKIPSUSPENDEDDIRS;
		} else if (!strcmp(a, "--no-new-files-out")) {
			flags |= OFSYNC_NONEWFILESOUT;
		} else if (!strcmp(a, "--low-priority")) {
			flags |= OFSYNC_LOWPRIORITY;
		} else if (!strcmp(a, "--async")) {
			so.async = 1;
		} else if (!strcmp(a, "--dry-run")) {
			so.dry_run = 1;
		} else if (!strncmp(a, "--sync-id=", 10)) {
			so.sync_id = a + 10;
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "ofsync: sync: unknown option '%s'\n", a);
			return OFSYNC_EXIT_USAGE;
		} else {
			so.paths[so.npaths++] = a;
		}
	}
	if (ncr > 1) {
		fprintf(stderr, "ofsync: sync: --keep-local, --keep-remote and --keep-latest "
				"exclude each other\n");
		return OFSYNC_EXIT_USAGE;
	}
	if (so.async && so.interactive) {
		fprintf(stderr, "ofsync: sync: --async returns at once; it cannot ask "
				"(--interactive)\n");
		return OFSYNC_EXIT_USAGE;
	}
	/* No direction given: both; --fill-sparse alone only fills. */
	if (!dir && !(flags & OFSYNC_FILLSPARSE))
		dir = OFSYNC_SYNCIN | OFSYNC_SYNCOUT;
	so.flags = flags | dir | cr;
	return 0;
}

/* What the progress sink draws with. */
static struct {
	int tty;	/* stdout is a terminal: draw the bar */
	int drawn;	/* a bar line is on the screen */
	int64_t t0;	/* when the sync began (mono ns) */
	int64_t last;	/* when the bar was drawn last */
	struct bar bar; /* its counters */
	char current[1024];
} pr;

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col - 1;
	return 79;
}

static void bar_clear(void)
{
	if (pr.drawn) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
		pr.drawn = 0;
	}
}

static void bar_draw(int force)
{
	char line[BAR_BUFLEN(512)];
	int64_t now = mono_ns();
	int w = term_width();

	if (!pr.tty || (!force && now - pr.last < 100000000))
		return; /* ten times a second is plenty */
	pr.last = now;
	pr.bar.elapsed = (double)(now - pr.t0) / 1e9;
	pr.bar.current = pr.current[0] ? pr.current : NULL;
	bar_render(&pr.bar, w > 512 ? 512 : w, line, sizeof(line));
	fprintf(stdout, "\r%s\033[K", line);
	fflush(stdout);
	pr.drawn = 1;
}

static void on_begin(void *arg, const char *id, uint32_t flags, uint64_t estimate)
{
	pr.t0 = mono_ns();
	pr.bar.items_total = estimate;
	bar_draw(1);
}

static int on_item_begin(void *arg, const char *path)
{
	snprintf(pr.current, sizeof(pr.current), "%s", path);
	bar_draw(0);
	return OFSYNC_OP_CONTINUE;
}

static int on_item(void *arg, const struct ofsync_item_result *r)
{
	pr.bar.items_done++;
	pr.bar.bytes += r->bytes;
	if (r->result == -ESTALE)
		pr.bar.conflicts++;
	else if (r->result < 0)
		pr.bar.failed++;
	if (json_out)
		return OFSYNC_OP_CONTINUE;
	/* Items with something to say get a line; on a terminal, above the bar. */
	if (strcmp(r->op, "NONE") || r->result || r->skipped) {
		const char *res = r->result == 0       ? "ok" :
				  r->result == -ESTALE ? "conflict" :
							 strerrorname_np(-r->result);
		char note[64] = "";
		if (r->skipped)
			snprintf(note, sizeof(note), " (%s: %s)",
				 strcmp(r->skipped, "open") ? "skipped" : "backed off", r->skipped);
		else if (!r->applied)
			snprintf(note, sizeof(note), " (not asked)");
		bar_clear();
		printf("%s: %s, %s%s: %s\n", r->path, r->state, r->op, note, res ? res : "error");
		fflush(stdout);
	}
	bar_draw(0);
	return OFSYNC_OP_CONTINUE;
}

static void on_end(void *arg, const struct ofsync_summary *s)
{
	bar_clear();
	if (json_out)
		return;
	printf("sync %s: %s; %u items, %u applied, %u conflicts (%u resolved), %u failed, %u "
	       "backed off\n",
	       s->sync_id,
	       s->result == 0	       ? "ok" :
	       s->result == -ECANCELED ? "cancelled" :
					 strerrorname_np(-s->result),
	       s->items, s->applied, s->conflicts, s->resolved, s->failed, s->skipped);
}

static void on_event(void *arg, const char *name, const char *data)
{
	if (json_out)
		printf("{\"data\":%s,\"event\":\"%s\"}\n", data, name);
	fflush(stdout);
}

/* --interactive: the bar steps aside while the terminal asks. */
static int ask_conflict(void *arg, const struct ofsync_conflict *c, char *name, size_t len)
{
	bar_clear();
	return ofsync_console_conflict(arg, c, name, len);
}

static const struct ofsync_progress sink = {
	.begin = on_begin, .item_result = on_item, .end = on_end, .event = on_event};

/* The exit status of a finished sync. */
static int sync_status(int rc, const struct ofsync_summary *s)
{
	if (rc == -ECANCELED || s->result == -ECANCELED)
		return OFSYNC_EXIT_CANCELLED;
	if (s->result < 0 || s->failed > 0)
		return OFSYNC_EXIT_ITEMS;
	if (s->conflicts > 0)
		return OFSYNC_EXIT_CONFLICTS; /* left, not resolved */
	if (rc < 0 && rc != -ESTALE)
		return OFSYNC_EXIT_ITEMS;
	return OFSYNC_EXIT_OK;
}

/* The exit status for a request that failed with rc. */
static int fail_status(struct ofsync_client *c, int rc)
{
	fprintf(stderr, "ofsync: %s\n", ofsync_errmsg(c));
	switch (-rc) {
	case ECONNRESET:
	case ETIMEDOUT:
	case ECONNREFUSED:
	case EPIPE:
		return OFSYNC_EXIT_NO_DAEMON;
	case EINVAL:
		return OFSYNC_EXIT_USAGE;
	case ENOENT:
		return OFSYNC_EXIT_ITEMS;
	default:
		return OFSYNC_EXIT_FAILED;
	}
}

static int run_sync(struct ofsync_client *c)
{
	struct ofsync_progress p = sink;
	struct ofsync_summary sum = {0};
	struct ofsync_sync_args a = {.paths = so.paths,
				     .npaths = so.npaths,
				     .flags = so.flags,
				     .async = so.async,
				     .detach = so.async,
				     .dry_run = so.dry_run,
				     .sync_id = so.sync_id,
				     .conflict = so.interactive ? ask_conflict : NULL,
				     .progress = so.async ? NULL : &p};
	char id[OFSYNC_SYNC_ID_SIZE];
	int rc;

	pr.tty = !json_out && isatty(STDOUT_FILENO);
	if (pr.tty)
		p.item_begin = on_item_begin;
	rc = ofsync_synchronize(c, &a, id, &sum);
	if (so.async) {
		if (rc < 0)
			return fail_status(c, rc);
		printf("%s\n", id);
		return OFSYNC_EXIT_OK;
	}
	if (rc < 0 && !sum.sync_id[0]) /* refused, or the daemon went away */
		return fail_status(c, rc);
	return sync_status(rc, &sum);
}

/* Follows the fill a pin or a resolve started, as a sync. */
static int follow_started(struct ofsync_client *c, const char *id)
{
	struct ofsync_progress p = sink;
	struct ofsync_summary sum = {0};
	int rc;

	pr.tty = !json_out && isatty(STDOUT_FILENO);
	rc = ofsync_follow(c, id, &p, &sum);
	if (rc < 0 && !sum.sync_id[0])
		return fail_status(c, rc);
	return sync_status(rc, &sum);
}

/* Builds the request's args from the operands; 0 or an exit status. */
static int build_args(const char *cmd, int argc, char **argv, json_t *args)
{
	char path[PATH_MAX * 2];

	if (!strcmp(cmd, "status") || !strcmp(cmd, "online") || !strcmp(cmd, "offline") ||
	    !strcmp(cmd, "conflicts"))
		return target_arg(cmd, argc, argv, args);
	if (!strcmp(cmd, "limits")) {
		/* limits [--total SIZE] [--auto SIZE] */
		for (int i = 0; i < argc; i++) {
			const char *key = !strcmp(argv[i], "--total") ? "total" :
					  !strcmp(argv[i], "--auto")  ? "auto" :
									NULL;
			uint64_t v;
			if (!key || i + 1 >= argc) {
				fprintf(stderr,
					"ofsync: limits [--total SIZE] [--auto SIZE] (SIZE: 20G, "
					"500M, ... or none)\n");
				return OFSYNC_EXIT_USAGE;
			}
			if (parse_size(argv[++i], &v) < 0) {
				fprintf(stderr,
					"ofsync: limits: '%s' is not a size (20G, 500M, "
					"... or none)\n",
					argv[i]);
				return OFSYNC_EXIT_USAGE;
			}
			json_object_set_new(args, key, json_integer((json_int_t)v));
		}
		return 0;
	}
	if (!strcmp(cmd, "evict")) {
		json_t *paths = json_array();
		json_object_set_new(args, "paths", paths);
		for (int i = 0; i < argc; i++) {
			if (argv[i][0] == '-' || absolute_item(argv[i], path, sizeof(path)) < 0) {
				fprintf(stderr, "ofsync: evict: bad argument '%s'\n", argv[i]);
				return OFSYNC_EXIT_USAGE;
			}
			json_array_append_new(paths, json_string(path));
		}
		if (argc == 0) {
			fprintf(stderr, "ofsync: evict needs at least one PATH\n");
			return OFSYNC_EXIT_USAGE;
		}
		return 0;
	}
	if (!strcmp(cmd, "flush")) {
		/* flush [SHARE|PATH] [--wait] */
		char *rest[1];
		int nrest = 0;
		for (int i = 0; i < argc; i++) {
			if (!strcmp(argv[i], "--wait")) {
				flush_wait = 1;
			} else if (argv[i][0] == '-' || nrest == 1) {
				fprintf(stderr, "ofsync: flush: unexpected '%s'\n", argv[i]);
				return OFSYNC_EXIT_USAGE;
			} else {
				rest[nrest++] = argv[i];
			}
		}
		return target_arg(cmd, nrest, rest, args);
	}
	if (!strcmp(cmd, "events")) {
		for (int i = 0; i < argc; i++) {
			if (!strncmp(argv[i], "--sync-id=", 10)) {
				event_filter = argv[i] + 10;
			} else {
				fprintf(stderr, "ofsync: events: unknown argument '%s'\n", argv[i]);
				return OFSYNC_EXIT_USAGE;
			}
		}
		return 0;
	}
	if (!strcmp(cmd, "cancel")) {
		if (argc != 1) {
			fprintf(stderr, "ofsync: cancel needs one SYNC_ID\n");
			return OFSYNC_EXIT_USAGE;
		}
		json_object_set_new(args, "sync_id", json_string(argv[0]));
		return 0;
	}
	if (!strcmp(cmd, "sync"))
		return sync_args(argc, argv);
	if (!strcmp(cmd, "pin") || !strcmp(cmd, "unpin"))
		return pin_args(cmd, argc, argv, args);
	if (!strcmp(cmd, "suspend") || !strcmp(cmd, "unsuspend")) {
		if (argc != 1 || argv[0][0] == '-') {
			fprintf(stderr, "ofsync: %s takes one PATH (a directory)\n", cmd);
			return OFSYNC_EXIT_USAGE;
		}
		if (absolute(argv[0], path, sizeof(path)) < 0) {
			fprintf(stderr, "ofsync: %s: path too long\n", argv[0]);
			return OFSYNC_EXIT_USAGE;
		}
		json_object_set_new(args, "path", json_string(path));
		return 0;
	}
	if (!strcmp(cmd, "resolve")) {
		static const char *const keeps[][2] = {{"--keep-local", "local"},
						       {"--keep-remote", "remote"},
						       {"--keep-both", "both"},
						       {"--keep-latest", "latest"}};
		const char *keep = NULL, *target = NULL;
		for (int i = 0; i < argc; i++) {
			const char *k = NULL;
			for (size_t j = 0; j < sizeof(keeps) / sizeof(keeps[0]); j++)
				if (!strcmp(argv[i], keeps[j][0]))
					k = keeps[j][1];
			if (k && keep) {
				fprintf(stderr, "ofsync: resolve takes one --keep-* option\n");
				return OFSYNC_EXIT_USAGE;
			} else if (k) {
				keep = k;
			} else if (argv[i][0] == '-' || target) {
				fprintf(stderr, "ofsync: resolve: unexpected '%s'\n", argv[i]);
				return OFSYNC_EXIT_USAGE;
			} else {
				target = argv[i];
			}
		}
		if (!target || !keep) {
			fprintf(stderr,
				"ofsync: resolve PATH --keep-local|--keep-remote|--keep-both|"
				"--keep-latest\n");
			return OFSYNC_EXIT_USAGE;
		}
		if (absolute(target, path, sizeof(path)) < 0) {
			fprintf(stderr, "ofsync: %s: path too long\n", target);
			return OFSYNC_EXIT_USAGE;
		}
		json_object_set_new(args, "path", json_string(path));
		json_object_set_new(args, "keep", json_string(keep));
		return 0;
	}
	if (!strcmp(cmd, "info")) {
		json_t *paths = json_array();
		if (argc == 0) {
			fprintf(stderr, "ofsync: info needs at least one PATH\n");
			json_decref(paths);
			return OFSYNC_EXIT_USAGE;
		}
		json_object_set_new(args, "paths", paths);
		for (int i = 0; i < argc; i++) {
			if (absolute(argv[i], path, sizeof(path)) < 0) {
				fprintf(stderr, "ofsync: %s: path too long\n", argv[i]);
				return OFSYNC_EXIT_USAGE;
			}
			json_array_append_new(paths, json_string(path));
		}
		return 0;
	}
	fprintf(stderr, "ofsync: unknown command '%s'\n", cmd);
	usage(stderr);
	return OFSYNC_EXIT_USAGE;
}

/* events: prints one event, as its JSON line or "Name key=value ...". */
static int print_event(void *arg, const char *name, const char *data)
{
	json_t *d = json_loads(data, 0, NULL), *v;
	const char *key;

	if (json_out) {
		printf("{\"data\":%s,\"event\":\"%s\"}", data, name);
	} else {
		printf("%s", name);
		json_object_foreach(d, key, v)
		{
			char *val = json_is_string(v) ?
					    strdup(json_string_value(v)) :
					    json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			printf(" %s=%s", key, val ? val : "?");
			free(val);
		}
	}
	putchar('\n');
	fflush(stdout);
	json_decref(d);
	return 0;
}

/* Prints the conflicts; returns how many. */
static int print_conflicts(json_t *res)
{
	json_t *list = json_object_get(res, "conflicts"), *c;
	size_t i;

	json_array_foreach(list, i, c)
	{
		printf("%s%s: %s", *jstr(c, "unc") ? jstr(c, "unc") : jstr(res, "unc"),
		       jstr(c, "path"), jstr(c, "state"));
		if (*jstr(c, "detail"))
			printf(" (%s)", jstr(c, "detail"));
		putchar('\n');
	}
	return (int)json_array_size(list);
}

/* The cache's usage against its limits. */
static void print_cache(json_t *c)
{
	char u[32], a[32], l[32], al[32];

	if (!json_is_object(c))
		return;
	human_bytes((uint64_t)jint(c, "used"), u, sizeof(u));
	human_bytes((uint64_t)jint(c, "auto_used"), a, sizeof(a));
	if (jint(c, "limit"))
		human_bytes((uint64_t)jint(c, "limit"), l, sizeof(l));
	else
		snprintf(l, sizeof(l), "no limit");
	if (jint(c, "auto_limit"))
		human_bytes((uint64_t)jint(c, "auto_limit"), al, sizeof(al));
	else
		snprintf(al, sizeof(al), "no limit");
	printf("cache: %s used of %s; auto-cached (unpinned) %s of %s\n", u, l, a, al);
}

/* online / offline: the state each share reached. */
static void print_state(json_t *res)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(res, "shares"), i, s)
	{
		printf("%s: %s", jstr(s, "unc"), jstr(s, "state"));
		if (*jstr(s, "reason"))
			printf(" (%s)", jstr(s, "reason"));
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"json", no_argument, NULL, 'j'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	const char *sock = NULL;
	struct ofsync_client *c;
	char *text = NULL, *res = NULL;
	json_t *args, *body;
	const char *cmd;
	int opt, rc, status = OFSYNC_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json_out = 1;
			break;
		case 'h':
			usage(stdout);
			return OFSYNC_EXIT_OK;
		case 'V':
			printf("ofsync %s\n", OFSYNC_VERSION);
			return OFSYNC_EXIT_OK;
		default:
			usage(stderr);
			return OFSYNC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ofsync: no command given\n");
		usage(stderr);
		return OFSYNC_EXIT_USAGE;
	}
	cmd = argv[optind++];
	args = json_object();
	rc = build_args(cmd, argc - optind, argv + optind, args);
	if (rc != 0) {
		json_decref(args);
		return rc;
	}

	rc = ofsync_open(sock, &c);
	if (rc < 0) {
		char def[PATH_MAX];
		default_socket_path(def, sizeof(def));
		fprintf(stderr, "ofsync: no daemon answers on %s (%s); is ofsyncd running?\n",
			sock ? sock : def, strerror(-rc));
		json_decref(args);
		return OFSYNC_EXIT_NO_DAEMON;
	}
	if (!strcmp(cmd, "sync")) {
		json_decref(args);
		status = run_sync(c);
		free(so.paths);
		ofsync_close(c);
		return status;
	}
	if (!strcmp(cmd, "events")) {
		json_decref(args);
		rc = ofsync_events(c, event_filter, print_event, NULL);
		fprintf(stderr, "ofsync: %s\n", ofsync_errmsg(c));
		ofsync_close(c);
		return OFSYNC_EXIT_NO_DAEMON;
	}
	text = json_dumps(args, JSON_COMPACT);
	json_decref(args);
	/* pin and resolve start a sync: subscribe first, so none of it is missed. */
	rc = ofsync_request(c, cmd, text,
			    !strcmp(cmd, "pin") || !strcmp(cmd, "resolve") ||
					    (!strcmp(cmd, "flush") && flush_wait) ?
				    OFSYNC_REQ_SUBSCRIBE :
				    0,
			    &res);
	free(text);
	if (rc < 0) {
		status = fail_status(c, rc);
		ofsync_close(c);
		return status;
	}
	body = json_loads(res, 0, NULL);
	free(res);
	if (!body) {
		fprintf(stderr, "ofsync: the daemon's answer cannot be read\n");
		ofsync_close(c);
		return OFSYNC_EXIT_FAILED;
	}
	if (!strcmp(cmd, "flush")) {
		json_t *off = json_object_get(body, "offline"), *u;
		size_t i;
		char id[64];
		snprintf(id, sizeof(id), "%s", jstr(body, "sync_id"));
		if (id[0] && flush_wait) {
			status = follow_started(c, id); /* returns once it is on the server */
		} else if (json_out) {
			json_dumpf(body, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
		} else if (id[0]) {
			printf("flushing: sync %s\n", id);
		}
		json_array_foreach(off, i, u)
		{
			fprintf(stderr, "ofsync: %s is offline: its changes wait for the server\n",
				json_string_value(u));
			status = OFSYNC_EXIT_OFFLINE;
		}
	} else if (!strcmp(cmd, "pin") || !strcmp(cmd, "unpin") || !strcmp(cmd, "resolve")) {
		char id[64];
		snprintf(id, sizeof(id), "%s", jstr(body, "sync_id"));
		/* Pinning fills the pinned files: follow that, when there is one. */
		status = id[0] && strcmp(cmd, "unpin") ? follow_started(c, id) : OFSYNC_EXIT_OK;
	} else if (json_out) {
		json_dumpf(body, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		if (!strcmp(cmd, "info")) {
			json_t *it;
			size_t i;
			json_array_foreach(json_object_get(body, "items"), i, it)
			{
				if (json_object_get(it, "error"))
					status = OFSYNC_EXIT_ITEMS;
			}
		}
		if (!strcmp(cmd, "conflicts") &&
		    json_array_size(json_object_get(body, "conflicts")) > 0)
			status = OFSYNC_EXIT_CONFLICTS;
		if (!strcmp(cmd, "evict") && json_array_size(json_object_get(body, "refused")) > 0)
			status = OFSYNC_EXIT_ITEMS; /* some files were kept */
	} else if (!strcmp(cmd, "status")) {
		print_status(body);
		print_cache(json_object_get(body, "cache"));
	} else if (!strcmp(cmd, "limits")) {
		print_cache(body);
	} else if (!strcmp(cmd, "evict")) {
		json_t *r;
		size_t i;
		char b[32];
		printf("evicted %lld files, %s\n", jint(body, "files"),
		       human_bytes((uint64_t)jint(body, "freed"), b, sizeof(b)));
		json_array_foreach(json_object_get(body, "refused"), i, r)
		{
			fprintf(stderr, "ofsync: %s: kept: %s\n", jstr(r, "path"), jstr(r, "why"));
			status = OFSYNC_EXIT_ITEMS;
		}
	} else if (!strcmp(cmd, "info")) {
		if (print_info(body) > 0)
			status = OFSYNC_EXIT_ITEMS;
	} else if (!strcmp(cmd, "conflicts")) {
		if (print_conflicts(body) > 0)
			status = OFSYNC_EXIT_CONFLICTS;
	} else if (!strcmp(cmd, "cancel")) {
		printf("cancelling sync %s\n", jstr(body, "sync_id"));
	} else if (!strcmp(cmd, "suspend") || !strcmp(cmd, "unsuspend")) {
		printf("%s: %s\n", jstr(body, "path"),
		       json_is_true(json_object_get(body, "suspended")) ? "suspended" :
									  "not suspended");
	} else {
		print_state(body);
	}
	if (!strcmp(cmd, "online")) {
		json_t *sh;
		size_t i;
		json_array_foreach(json_object_get(body, "shares"), i, sh)
		{
			if (strcmp(jstr(sh, "state"), "online"))
				status = OFSYNC_EXIT_FAILED; /* a server is still unreachable */
		}
	}
	json_decref(body);
	ofsync_close(c);
	return status;
}

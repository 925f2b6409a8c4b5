/*
 * ofsync.c - the command line: talks to ofsyncd over its control socket.
 *
 *   ofsync [--socket PATH] [--json] COMMAND ...
 *     status [SHARE|PATH]   per share: online/offline, items, cached, dirty
 *     info PATH...          one item's state: local, remote base, cache
 *     offline / online [SHARE]
 *     events                published events, as they happen
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

#include "ipc/client.h"
#include "ofsync.h"
#include "util/util.h"

#define CALL_TIMEOUT_MS 30000

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

/* Makes a path absolute and lexically normal; UNC names pass unchanged. */
static int absolute(const char *in, char *out, size_t len)
{
	char buf[PATH_MAX * 2], cwd[PATH_MAX];
	char *parts[512];
	size_t np = 0, o = 0;
	char *save, *tok;

	if (!strncmp(in, "//", 2) || !strncmp(in, "\\\\", 2) || !strncmp(in, "smb://", 6)) {
		snprintf(out, len, "%s", in);
		return 0;
	}
	if (in[0] == '/') {
		snprintf(buf, sizeof(buf), "%s", in);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		snprintf(buf, sizeof(buf), "%s/%s", cwd, in);
	}
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (np)
				np--;
			continue;
		}
		if (np == sizeof(parts) / sizeof(parts[0]))
			return -ENAMETOOLONG;
		parts[np++] = tok;
	}
	if (np == 0)
		return snprintf(out, len, "/") < (int)len ? 0 : -ENAMETOOLONG;
	for (size_t i = 0; i < np; i++) {
		int n = snprintf(out + o, len - o, "/%s", parts[i]);
		if (n < 0 || (size_t)n >= len - o)
			return -ENAMETOOLONG;
		o += (size_t)n;
	}
	return 0;
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

static void print_event(const struct proto_reply *ev);

static const char *event_filter; /* events --sync-id=ID */

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
			if (absolute(a, path, sizeof(path)) < 0) {
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
static int sync_async; /* sync --async */

/*
 * sync [PATH...] [--in] [--out] [--fill-sparse] [--keep-local|--keep-remote|
 * --keep-latest] [--sync-id=UUID] [--async] [--dry-run]: the control flags
 * with the Windows values.  Options of the contract that this version does
 * not carry out are refused, not ignored.
 */
static int sync_args(int argc, char **argv, json_t *args)
{
	static const char *const later[] = {"--interactive"};
	char path[PATH_MAX * 2];
	uint32_t flags = 0, dir = 0, cr = 0;
	json_t *paths = json_array();
	int ncr = 0;

	json_object_set_new(args, "paths", paths);
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
			sync_async = 1;
		} else if (!strcmp(a, "--dry-run")) {
			json_object_set_new(args, "dry_run", json_true());
		} else if (!strncmp(a, "--sync-id=", 10)) {
			json_object_set_new(args, "sync_id", json_string(a + 10));
		} else if (a[0] == '-' && a[1] == '-') {
			for (size_t k = 0; k < sizeof(later) / sizeof(later[0]); k++) {
				if (!strncmp(a, later[k], strlen(later[k]))) {
					fprintf(stderr,
						"ofsync: sync: %s is not available in this "
						"version\n",
						later[k]);
					return OFSYNC_EXIT_USAGE;
				}
			}
			fprintf(stderr, "ofsync: sync: unknown option '%s'\n", a);
			return OFSYNC_EXIT_USAGE;
		} else {
			if (absolute(a, path, sizeof(path)) < 0) {
				fprintf(stderr, "ofsync: %s: path too long\n", a);
				return OFSYNC_EXIT_USAGE;
			}
			json_array_append_new(paths, json_string(path));
		}
	}
	if (ncr > 1) {
		fprintf(stderr, "ofsync: sync: --keep-local, --keep-remote and --keep-latest "
				"exclude each other\n");
		return OFSYNC_EXIT_USAGE;
	}
	/* No direction given: both; --fill-sparse alone only fills. */
	if (!dir && !(flags & OFSYNC_FILLSPARSE))
		dir = OFSYNC_SYNCIN | OFSYNC_SYNCOUT;
	json_object_set_new(args, "flags", json_integer(flags | dir | cr));
	return 0;
}

/*
 * Follows a sync started on conn: prints each SyncFileResult of sync id and
 * returns the exit status from its SyncEnd.
 */
static int follow_sync(struct ipc_conn *c, const char *id)
{
	struct proto_reply ev;
	char err[512];

	for (;;) {
		int rc = ipc_read(c, -1, &ev, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "ofsync: %s\n", err);
			return OFSYNC_EXIT_NO_DAEMON;
		}
		if (!ev.event[0] || strcmp(jstr(ev.body, "sync_id"), id)) {
			proto_reply_release(&ev);
			continue;
		}
		if (json_out) {
			print_event(&ev);
		} else if (!strcmp(ev.event, "SyncFileResult") &&
			   (strcmp(jstr(ev.body, "op"), "NONE") ||
			    strcmp(jstr(ev.body, "result"), "ok") || *jstr(ev.body, "skipped"))) {
			const char *sk = jstr(ev.body, "skipped");
			int asked = json_is_true(json_object_get(ev.body, "applied"));
			char note[64] = "";
			if (*sk)
				snprintf(note, sizeof(note), " (%s: %s)",
					 strcmp(sk, "open") ? "skipped" : "backed off", sk);
			else if (!asked)
				snprintf(note, sizeof(note), " (not asked)");
			printf("%s: %s, %s%s: %s\n", jstr(ev.body, "path"), jstr(ev.body, "state"),
			       jstr(ev.body, "op"), note, jstr(ev.body, "result"));
		}
		if (!strcmp(ev.event, "SyncEnd")) {
			const char *res = jstr(ev.body, "result");
			int status = OFSYNC_EXIT_OK;
			if (!json_out)
				printf("sync %s: %s; %lld items, %lld applied, %lld conflicts (%lld "
				       "resolved), %lld failed, %lld backed off\n",
				       id, res, jint(ev.body, "items"), jint(ev.body, "applied"),
				       jint(ev.body, "conflicts"), jint(ev.body, "resolved"),
				       jint(ev.body, "failed"), jint(ev.body, "skipped"));
			if (!strcmp(res, "cancelled"))
				status = OFSYNC_EXIT_CANCELLED;
			else if (strcmp(res, "ok") || jint(ev.body, "failed") > 0)
				status = OFSYNC_EXIT_ITEMS;
			else if (jint(ev.body, "conflicts") > 0) /* left, not resolved */
				status = OFSYNC_EXIT_CONFLICTS;
			proto_reply_release(&ev);
			return status;
		}
		proto_reply_release(&ev);
	}
}

/* Builds the request's args from the operands; 0 or an exit status. */
static int build_args(const char *cmd, int argc, char **argv, json_t *args)
{
	char path[PATH_MAX * 2];

	if (!strcmp(cmd, "status") || !strcmp(cmd, "online") || !strcmp(cmd, "offline") ||
	    !strcmp(cmd, "conflicts"))
		return target_arg(cmd, argc, argv, args);
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
		return sync_args(argc, argv, args);
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

/* Prints one event: its JSON line, or "Name key=value ...". */
static void print_event(const struct proto_reply *ev)
{
	const char *key;
	json_t *v;

	if (json_out) {
		json_t *o = json_pack("{s:s, s:O}", "event", ev->event, "data", ev->body);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
	} else {
		printf("%s", ev->event);
		json_object_foreach(ev->body, key, v)
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
}

/* events: prints published events until the daemon goes away. */
static int follow_events(struct ipc_conn *c)
{
	struct proto_reply ev;
	char err[512];

	for (;;) {
		int rc = ipc_read(c, -1, &ev, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "ofsync: %s\n", err);
			return OFSYNC_EXIT_NO_DAEMON;
		}
		if (ev.event[0] &&
		    (!event_filter || !strcasecmp(jstr(ev.body, "sync_id"), event_filter)))
			print_event(&ev);
		proto_reply_release(&ev);
	}
}

/* Prints the conflicts; returns how many. */
static int print_conflicts(json_t *res)
{
	json_t *list = json_object_get(res, "conflicts"), *c;
	size_t i;

	json_array_foreach(list, i, c)
	{
		printf("%s%s: %s", jstr(res, "unc"), jstr(c, "path"), jstr(c, "state"));
		if (*jstr(c, "detail"))
			printf(" (%s)", jstr(c, "detail"));
		putchar('\n');
	}
	return (int)json_array_size(list);
}

static void print_state(json_t *res)
{
	printf("%s: %s", jstr(res, "unc"), jstr(res, "state"));
	if (*jstr(res, "reason"))
		printf(" (%s)", jstr(res, "reason"));
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"socket", required_argument, NULL, 's'},
						 {"json", no_argument, NULL, 'j'},
						 {"help", no_argument, NULL, 'h'},
						 {"version", no_argument, NULL, 'V'},
						 {NULL, 0, NULL, 0}};
	char sock[PATH_MAX], err[512];
	struct proto_reply rep;
	struct ipc_conn *conn;
	json_t *args;
	const char *cmd;
	int opt, rc, status = OFSYNC_EXIT_OK;

	default_socket_path(sock, sizeof(sock));
	while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			snprintf(sock, sizeof(sock), "%s", optarg);
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

	rc = ipc_open(sock, &conn);
	if (rc < 0) {
		fprintf(stderr, "ofsync: no daemon answers on %s (%s); is ofsyncd running?\n", sock,
			strerror(-rc));
		json_decref(args);
		return OFSYNC_EXIT_NO_DAEMON;
	}
	if ((!strcmp(cmd, "sync") && !sync_async) || !strcmp(cmd, "pin") ||
	    !strcmp(cmd, "resolve")) {
		/* Subscribe first: no event of this sync can be missed. */
		rc = ipc_call(conn, "events", NULL, CALL_TIMEOUT_MS, &rep, err, sizeof(err));
		if (rc == 0)
			proto_reply_release(&rep);
	}
	rc = ipc_call(conn, cmd, args, CALL_TIMEOUT_MS, &rep, err, sizeof(err));
	json_decref(args);
	if (rc < 0) {
		fprintf(stderr, "ofsync: %s\n", err);
		ipc_close(conn);
		return rc == -ECONNRESET || rc == -ETIMEDOUT ? OFSYNC_EXIT_NO_DAEMON :
							       OFSYNC_EXIT_FAILED;
	}
	if (!rep.ok) {
		fprintf(stderr, "ofsync: %s\n", rep.message);
		status = rep.err == ENOENT ? OFSYNC_EXIT_ITEMS : OFSYNC_EXIT_FAILED;
		if (rep.err == EINVAL)
			status = OFSYNC_EXIT_USAGE;
	} else if (!strcmp(cmd, "events")) {
		proto_reply_release(&rep);
		status = follow_events(conn);
		ipc_close(conn);
		return status;
	} else if (!strcmp(cmd, "pin") || !strcmp(cmd, "unpin")) {
		char id[64];
		snprintf(id, sizeof(id), "%s", jstr(rep.body, "sync_id"));
		proto_reply_release(&rep);
		/* Pinning fills the pinned files: follow that, when there is one. */
		status = id[0] ? follow_sync(conn, id) : OFSYNC_EXIT_OK;
		ipc_close(conn);
		return status;
	} else if (!strcmp(cmd, "resolve")) {
		char id[64];
		snprintf(id, sizeof(id), "%s", jstr(rep.body, "sync_id"));
		proto_reply_release(&rep);
		status = follow_sync(conn, id);
		ipc_close(conn);
		return status;
	} else if (!strcmp(cmd, "sync")) {
		char id[64];
		snprintf(id, sizeof(id), "%s", jstr(rep.body, "sync_id"));
		proto_reply_release(&rep);
		if (sync_async) {
			printf("%s\n", id);
			status = OFSYNC_EXIT_OK;
		} else {
			status = follow_sync(conn, id);
		}
		ipc_close(conn);
		return status;
	} else if (json_out) {
		json_dumpf(rep.body, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		if (!strcmp(cmd, "info")) {
			json_t *it;
			size_t i;
			json_array_foreach(json_object_get(rep.body, "items"), i,
					   it) if (json_object_get(it, "error")) status =
				OFSYNC_EXIT_ITEMS;
		}
	} else if (!strcmp(cmd, "status")) {
		print_status(rep.body);
	} else if (!strcmp(cmd, "info")) {
		if (print_info(rep.body) > 0)
			status = OFSYNC_EXIT_ITEMS;
	} else if (!strcmp(cmd, "conflicts")) {
		if (print_conflicts(rep.body) > 0)
			status = OFSYNC_EXIT_CONFLICTS;
	} else if (!strcmp(cmd, "cancel")) {
		printf("cancelling sync %s\n", jstr(rep.body, "sync_id"));
	} else if (!strcmp(cmd, "suspend") || !strcmp(cmd, "unsuspend")) {
		printf("%s: %s\n", jstr(rep.body, "path"),
		       json_is_true(json_object_get(rep.body, "suspended")) ? "suspended" :
									      "not suspended");
	} else {
		print_state(rep.body);
	}
	if (rep.ok && json_out && !strcmp(cmd, "conflicts") &&
	    json_array_size(json_object_get(rep.body, "conflicts")) > 0)
		status = OFSYNC_EXIT_CONFLICTS;
	if (rep.ok && !strcmp(cmd, "online") && strcmp(jstr(rep.body, "state"), "online"))
		status = OFSYNC_EXIT_FAILED; /* the server is still unreachable */
	proto_reply_release(&rep);
	ipc_close(conn);
	return status;
}

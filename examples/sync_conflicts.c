/*
 * sync_conflicts.c - an example of libofsync (ofsync(3)): synchronizes a
 * share both ways with a conflict handler that settles every conflict the
 * same way, and prints each item and each conflict as they happen.
 *
 *   cc sync_conflicts.c $(pkg-config --cflags --libs ofsync) -o sync_conflicts
 *   ./sync_conflicts [-a] [-s SOCKET] [-k local|remote|both|latest|log|skip|abort] SHARE|PATH
 *
 * -a runs the sync asynchronously: the call returns at once, the callbacks
 * come from the library's thread, and ofsync_wait collects the result.
 *
 * Exit status: 0 when the sync succeeded, 1 otherwise.
 */
#include <errno.h>
#include <ofsync.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct rule {
	int answer;	/* enum ofsync_resolve given to every conflict */
	unsigned asked; /* conflicts the handler saw */
};

static int on_conflict(void *arg, const struct ofsync_conflict *c, char *new_name, size_t len)
{
	struct rule *r = arg;

	r->asked++;
	printf("conflict %s: %s (local %s %lld bytes, server %s %lld bytes)\n", c->path, c->state,
	       c->local.kind ? (c->local.changed ? "changed" : "same") : "deleted",
	       (long long)c->local.size,
	       c->remote.kind ? (c->remote.changed ? "changed" : "same") : "deleted",
	       (long long)c->remote.size);
	(void)new_name; /* empty: the usual "name (HOST vN).ext" */
	(void)len;
	return r->answer;
}

static int on_item(void *arg, const struct ofsync_item_result *r)
{
	(void)arg;
	if (strcmp(r->op, "NONE") || r->result)
		printf("item %s: %s, %s: %s\n", r->path, r->state, r->op,
		       r->result == 0	    ? "ok" :
		       r->result == -ESTALE ? "conflict" :
					      strerror(-r->result));
	return OFSYNC_OP_CONTINUE;
}

static void on_end(void *arg, const struct ofsync_summary *s)
{
	(void)arg;
	printf("end %s: %u items, %u applied, %u conflicts, %u resolved, %u failed\n", s->sync_id,
	       s->items, s->applied, s->conflicts, s->resolved, s->failed);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *word;
		int answer;
	} words[] = {
		{"local", OFSYNC_RESOLVE_KEEPLOCAL},
		{"remote", OFSYNC_RESOLVE_KEEPREMOTE},
		{"both", OFSYNC_RESOLVE_KEEPALLCHANGES},
		{"latest", OFSYNC_RESOLVE_KEEPLATEST},
		{"log", OFSYNC_RESOLVE_LOG},
		{"skip", OFSYNC_RESOLVE_SKIP},
		{"abort", OFSYNC_RESOLVE_ABORT},
	};
	struct rule rule = {OFSYNC_RESOLVE_KEEPLATEST, 0};
	struct ofsync_progress progress = {.item_result = on_item, .end = on_end};
	struct ofsync_sync_args args = {0};
	struct ofsync_client *c;
	const char *sock = NULL;
	char id[OFSYNC_SYNC_ID_SIZE];
	const char *path;
	int opt, rc, async = 0;

	while ((opt = getopt(argc, argv, "as:k:")) != -1) {
		if (opt == 'a') {
			async = 1;
			continue;
		}
		if (opt == 's') {
			sock = optarg;
			continue;
		}
		if (opt == 'k') {
			size_t i;
			for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
				if (!strcmp(optarg, words[i].word))
					break;
			if (i < sizeof(words) / sizeof(words[0])) {
				rule.answer = words[i].answer;
				continue;
			}
		}
		fprintf(stderr, "usage: sync_conflicts [-a] [-s SOCKET] "
				"[-k local|remote|both|latest|log|skip|abort] SHARE|PATH\n");
		return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "sync_conflicts: one SHARE or PATH, please\n");
		return 2;
	}
	path = argv[optind];

	rc = ofsync_open(sock, &c);
	if (rc < 0) {
		fprintf(stderr, "sync_conflicts: no daemon: %s\n", strerror(-rc));
		return 1;
	}
	args.paths = &path;
	args.npaths = 1;
	args.flags = OFSYNC_SYNCIN | OFSYNC_SYNCOUT;
	args.conflict = on_conflict;
	args.conflict_arg = &rule;
	args.progress = &progress;
	args.async = async;
	rc = ofsync_synchronize(c, &args, id, NULL);
	if (rc == 0 && async) {
		printf("started %s\n", id);
		rc = ofsync_wait(c, id, NULL);
	}
	if (rc < 0 && rc != -ESTALE)
		fprintf(stderr, "sync_conflicts: %s\n", ofsync_errmsg(c));
	printf("handler asked %u times\n", rule.asked);
	ofsync_close(c);
	return rc == 0 ? 0 : 1;
}

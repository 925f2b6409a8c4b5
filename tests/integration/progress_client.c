/*
 * progress_client.c - drives libofsync's progress sink for the integration
 * tests (test_library.py): runs one synchronous sync and prints every
 * callback, one line each, so that the test can check their order and what
 * the answers did.
 *
 *   progress_client SOCKET PATH MODE [N]
 *     order        answer continue everywhere
 *     queryabort N query_abort says yes after N item results
 *     itemabort N  item_result answers ABORT at the N-th item result
 *     retry        item_result answers RETRY to the first failed item
 *
 * Output: "begin ESTIMATE", "item_begin PATH", "result PATH RESULT",
 * "end RESULT ITEMS FAILED", then "return RC".  Exit status 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ofsync.h"

struct state {
	const char *mode;
	unsigned n, results;
	int retried;
};

static void on_begin(void *arg, const char *id, uint32_t flags, uint64_t estimate)
{
	printf("begin %llu\n", (unsigned long long)estimate);
}

static int on_query_abort(void *arg)
{
	struct state *s = arg;

	return !strcmp(s->mode, "queryabort") && s->results >= s->n;
}

static int on_item_begin(void *arg, const char *path)
{
	printf("item_begin %s\n", path);
	return OFSYNC_OP_CONTINUE;
}

static int on_item(void *arg, const struct ofsync_item_result *r)
{
	struct state *s = arg;

	s->results++;
	printf("result %s %d\n", r->path, r->result);
	fflush(stdout);
	if (!strcmp(s->mode, "itemabort") && s->results == s->n)
		return OFSYNC_OP_ABORT;
	if (!strcmp(s->mode, "retry") && r->result < 0 && r->result != -ESTALE && !s->retried) {
		s->retried = 1;
		return OFSYNC_OP_RETRY;
	}
	return OFSYNC_OP_CONTINUE;
}

static void on_end(void *arg, const struct ofsync_summary *sum)
{
	printf("end %d %u %u\n", sum->result, sum->items, sum->failed);
}

int main(int argc, char **argv)
{
	struct state st = {0};
	struct ofsync_progress p = {.begin = on_begin,
				    .query_abort = on_query_abort,
				    .item_begin = on_item_begin,
				    .item_result = on_item,
				    .end = on_end,
				    .arg = &st};
	struct ofsync_sync_args a = {0};
	struct ofsync_client *c;
	const char *path;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: progress_client SOCKET PATH MODE [N]\n");
		return 2;
	}
	st.mode = argv[3];
	st.n = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
	path = argv[2];
	rc = ofsync_open(argv[1], &c);
	if (rc < 0) {
		fprintf(stderr, "progress_client: %s\n", strerror(-rc));
		return 1;
	}
	a.paths = &path;
	a.npaths = 1;
	a.flags = OFSYNC_SYNCIN | OFSYNC_SYNCOUT;
	a.progress = &p;
	rc = ofsync_synchronize(c, &a, NULL, NULL);
	printf("return %d\n", rc);
	ofsync_close(c);
	return 0;
}

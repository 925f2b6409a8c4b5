/*
 * evictor.c - keeps the cache under its limits; see daemon.h.
 *
 * Two limits, as Windows has: one for everything cached and one for the
 * auto-cached (unpinned) data.  Usage is counted from the present ranges in
 * the index, never from file sizes or holes.  When a limit is exceeded,
 * clean unpinned files are evicted, least recently used first, until usage
 * is 5% under the limit; dirty and pinned data is never touched.  The
 * thread looks every EVICT_INTERVAL seconds and when kicked.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon.h"
#include "util/log.h"
#include "util/ticker.h"
#include "util/util.h"

#define EVICT_INTERVAL 5
#define EVICT_BATCH 64

struct evictor {
	struct daemon *d;      /* constant */
	struct ticker *ticker; /* runs evict_pass */
	int stuck_logged;      /* "nothing left to evict" said once until it changes */
};

void daemon_limits(struct daemon *d, uint64_t *total, uint64_t *unpinned)
{
	int64_t v;

	*total = d->cfg_total;
	*unpinned = d->cfg_auto;
	if (index_setting_get(cache_index(d->cache), "cache_limit", &v) == 0)
		*total = (uint64_t)v;
	if (index_setting_get(cache_index(d->cache), "auto_cache_limit", &v) == 0)
		*unpinned = (uint64_t)v;
}

/* Bytes to free so that used is 5% under limit (0: under it, or no limit). */
static uint64_t excess(uint64_t used, uint64_t limit)
{
	if (!limit || used <= limit)
		return 0;
	return used - limit + limit / 20;
}

/* One pass: evicts until under both limits, or until nothing is evictable. */
static void evict_pass(void *arg)
{
	struct evictor *ev = arg;
	struct daemon *d = ev->d;
	uint64_t total, unpinned, used, auto_used, need, got = 0, ids[EVICT_BATCH];
	unsigned files = 0;
	size_t n;

	daemon_limits(d, &total, &unpinned);
	if (index_usage(cache_index(d->cache), &used, &auto_used) < 0)
		return;
	need = excess(used, total);
	if (excess(auto_used, unpinned) > need)
		need = excess(auto_used, unpinned);
	if (need == 0) {
		ev->stuck_logged = 0;
		return;
	}
	while (got < need) {
		if (index_evictable(cache_index(d->cache), ids, EVICT_BATCH, &n) < 0 || n == 0)
			break;
		size_t before = files;
		for (size_t i = 0; i < n && got < need; i++) {
			uint64_t freed;
			const char *why;
			if (cache_evict(d->cache, ids[i], &freed, &why) == 0 && freed) {
				got += freed;
				files++;
			}
		}
		if (files == before)
			break; /* the candidates are open or being fetched: next time */
	}
	if (files)
		log_info("cache over its limit: evicted %u files, %llu bytes", files,
			 (unsigned long long)got);
	if (got < need && !ev->stuck_logged) {
		/* One line, not one per pass: the rest is pinned, dirty or in use. */
		log_warn("cache over its limit by %llu bytes, and the rest is pinned, dirty or "
			 "in use",
			 (unsigned long long)(need - got));
		ev->stuck_logged = 1;
	}
}

int evictor_start(struct daemon *d, struct evictor **out)
{
	struct evictor *ev = calloc(1, sizeof(*ev));
	int rc;

	if (!ev)
		return -ENOMEM;
	ev->d = d;
	rc = ticker_start(evict_pass, ev, EVICT_INTERVAL, &ev->ticker);
	if (rc < 0) {
		free(ev);
		return rc;
	}
	*out = ev;
	return 0;
}

void evictor_kick(struct evictor *ev)
{
	if (ev)
		ticker_kick(ev->ticker);
}

void evictor_stop(struct evictor *ev)
{
	if (!ev)
		return;
	ticker_stop(ev->ticker);
	free(ev);
}

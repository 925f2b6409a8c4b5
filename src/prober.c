/*
 * prober.c - the thread that brings a share back online and pushes what was
 * changed while it was away; see daemon.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "ipc/server.h"
#include "sync/engine.h"
#include "sync/sync.h"
#include "util/log.h"
#include "util/ticker.h"
#include "util/util.h"

/*
 * Is there work for a background sync-out?  Journal entries, or dirty files
 * without a recorded conflict: a conflict waits for the user, it is not
 * retried (and re-uploaded) every interval.
 */
static int has_work(struct mount *m)
{
	uint64_t ops = 0, files = 0;

	index_journal_count(cache_index(m->cache), m->share, &ops);
	index_unresolved_dirty(cache_index(m->cache), m->share, &files);
	return ops > 0 || files > 0;
}

/* One background sync-out, framed by its events. */
static void background_sync(struct mount *m)
{
	struct sync_out_stats st;
	int64_t t0 = mono_ns();
	json_t *ev;
	int rc;

	ev = json_pack("{s:s}", "share", m->opts->unc_text);
	ipc_server_publish(m->srv, "BackgroundSyncBegin", ev);
	json_decref(ev);
	rc = sync_flush(m->cache, m->smb, m->share, m->root, 0, &st);
	ev = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:s}", "share", m->opts->unc_text,
		       "ops", st.ops, "items", st.items, "pushed", st.pushed, "conflicts",
		       st.conflicts, "skipped", st.skipped, "failed", st.failed, "result",
		       rc < 0 ? strerror(-rc) : "ok");
	ipc_server_publish(m->srv, "BackgroundSyncEnd", ev);
	json_decref(ev);
	log_info("background sync of %s: %u changes replayed, %u items, %u pushed, %u conflicts, "
		 "%u skipped, %u failed, %.1f s",
		 m->opts->unc_text, st.ops, st.items, st.pushed, st.conflicts, st.skipped,
		 st.failed, (double)(mono_ns() - t0) / 1e9);
}

/* One turn: probe while offline, then push what waits while online. */
static void prober_turn(void *arg)
{
	struct mount *m = arg;
	struct smb_state st;

	index_reserve_refill(cache_index(m->cache));
	smb_get_state(m->smb, &st);
	if (!st.online && !st.forced)
		smb_probe(m->smb);
	smb_get_state(m->smb, &st);
	if (st.online && has_work(m))
		background_sync(m);
}

int prober_start(struct mount *m, struct ticker **out)
{
	return ticker_start(prober_turn, m, m->opts->probe_interval, out);
}

/*
 * prober.c - the thread that brings a share back online and pushes what was
 * changed while it was away; see daemon.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "ipc/server.h"
#include "sync/engine.h"
#include "sync/sync.h"
#include "util/log.h"
#include "util/util.h"

struct prober {
	struct mount *m; /* constant */
	pthread_t thread;
	pthread_mutex_t lock; /* protects stopping, kicked */
	pthread_cond_t cond;  /* signalled by kick and stop */
	int stopping;
	int kicked;
};

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

static void *prober_main(void *arg)
{
	struct prober *p = arg;
	struct mount *m = p->m;
	struct smb_state st;
	struct timespec until;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		pthread_mutex_unlock(&p->lock);
		index_reserve_refill(cache_index(m->cache));
		smb_get_state(m->smb, &st);
		if (!st.online && !st.forced)
			smb_probe(m->smb);
		smb_get_state(m->smb, &st);
		if (st.online && has_work(m))
			background_sync(m);

		pthread_mutex_lock(&p->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += m->opts->probe_interval;
		while (!p->stopping && !p->kicked)
			if (pthread_cond_timedwait(&p->cond, &p->lock, &until) == ETIMEDOUT)
				break;
		p->kicked = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int prober_start(struct mount *m, struct prober **out)
{
	struct prober *p;
	sigset_t all, old;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&p->thread, NULL, prober_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void prober_kick(struct prober *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->kicked = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void prober_stop(struct prober *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

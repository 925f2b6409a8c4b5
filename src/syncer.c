/*
 * syncer.c - runs Synchronize jobs for the control socket, one at a time on
 * one worker thread, and publishes their events: SyncBegin, one
 * SyncFileResult per item, SyncEnd, each carrying the sync id.  See daemon.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon.h"
#include "ipc/server.h"
#include "ofsync.h"
#include "sync/engine.h"
#include "sync/plan.h"
#include "util/log.h"
#include "util/util.h"

struct sync_req {
	struct sync_req *next;
	char id[SYNC_ID_LEN + 1];
	uint64_t *roots; /* items to sync, each with its subtree */
	size_t nroots;
	uint32_t flags;
	int dry_run;
	int pinned_only;     /* fill pinned files only (after `ofsync pin`) */
	int keep;	     /* ENGINE_KEEP_* for `ofsync resolve`, or 0 */
	volatile int cancel; /* set by syncer_cancel */
};

struct syncer {
	struct mount *m; /* constant */
	pthread_t thread;
	pthread_mutex_t lock; /* protects head, tail, running, stopping */
	pthread_cond_t cond;
	struct sync_req *head, *tail;
	struct sync_req *running;
	int stopping;
};

int sync_id_valid(const char *id)
{
	static const int dash[] = {8, 13, 18, 23};
	size_t d = 0;

	if (strlen(id) != SYNC_ID_LEN)
		return 0;
	for (size_t i = 0; i < SYNC_ID_LEN; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (id[i] != '-')
				return 0;
			d++;
		} else if (!strchr("0123456789abcdefABCDEF", id[i])) {
			return 0;
		}
	}
	return 1;
}

/* A random (version 4) UUID. */
static void new_sync_id(char *out)
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		uint64_t t = (uint64_t)mono_ns();
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)i;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, SYNC_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

struct report_ctx {
	struct mount *m;
	const char *id;
};

static void report_item(void *arg, const struct sync_item_report *r)
{
	struct report_ctx *rc = arg;
	json_t *ev;

	ev = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s?, s:s, s:I}", "sync_id", rc->id, "path",
		       r->path, "state", plan_state_name(r->state), "op", plan_op_name(r->op),
		       "applied", r->applied, "skipped", r->skipped, "result",
		       r->result == 0	    ? "ok" :
		       r->result == -ESTALE ? "conflict" :
					      strerrorname_np(-r->result),
		       "bytes", (json_int_t)r->bytes);
	ipc_server_publish(rc->m->srv, "SyncFileResult", ev);
	json_decref(ev);
}

static void run_job(struct syncer *sy, struct sync_req *q)
{
	struct mount *m = sy->m;
	struct report_ctx ctx = {m, q->id};
	struct sync_result total = {0}, res;
	int64_t t0 = mono_ns();
	const char *result = "ok";
	json_t *ev;
	int rc = 0;

	ev = json_pack("{s:s, s:s, s:I, s:b}", "sync_id", q->id, "share", m->opts->unc_text,
		       "flags", (json_int_t)q->flags, "dry_run", q->dry_run);
	ipc_server_publish(m->srv, "SyncBegin", ev);
	json_decref(ev);
	for (size_t i = 0; i < q->nroots && rc == 0; i++) {
		struct sync_job job = {.share = m->share,
				       .root = q->roots[i],
				       .share_root = m->root,
				       .share_unc = m->opts->unc_text,
				       .flags = q->flags,
				       .dry_run = q->dry_run,
				       .pinned_only = q->pinned_only,
				       .keep = q->keep,
				       .cancel = &q->cancel,
				       .item = report_item,
				       .arg = &ctx};
		rc = sync_run(m->cache, m->smb, &job, &res);
		total.items += res.items;
		total.applied += res.applied;
		total.conflicts += res.conflicts;
		total.resolved += res.resolved;
		total.failed += res.failed;
		total.skipped += res.skipped;
		total.bytes += res.bytes;
	}
	if (rc == -ECANCELED)
		result = "cancelled";
	else if (rc < 0)
		result = strerrorname_np(-rc) ? strerrorname_np(-rc) : "error";
	ev = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:f}", "sync_id", q->id,
		       "result", result, "items", total.items, "applied", total.applied,
		       "conflicts", total.conflicts, "resolved", total.resolved, "failed",
		       total.failed, "skipped", total.skipped, "bytes", (json_int_t)total.bytes,
		       "seconds", (double)(mono_ns() - t0) / 1e9);
	ipc_server_publish(m->srv, "SyncEnd", ev);
	json_decref(ev);
	log_info("sync %s of %s: %s; %u items, %u applied, %u conflicts (%u resolved), %u failed, "
		 "%lld bytes, %.1f s",
		 q->id, m->opts->unc_text, result, total.items, total.applied, total.conflicts,
		 total.resolved, total.failed, (long long)total.bytes,
		 (double)(mono_ns() - t0) / 1e9);
}

static void *syncer_main(void *arg)
{
	struct syncer *sy = arg;
	struct sync_req *q;

	pthread_mutex_lock(&sy->lock);
	for (;;) {
		while (!sy->head && !sy->stopping)
			pthread_cond_wait(&sy->cond, &sy->lock);
		if (sy->stopping)
			break;
		q = sy->head;
		sy->head = q->next;
		if (!sy->head)
			sy->tail = NULL;
		sy->running = q;
		pthread_mutex_unlock(&sy->lock);
		run_job(sy, q);
		pthread_mutex_lock(&sy->lock);
		sy->running = NULL;
		free(q->roots);
		free(q);
	}
	pthread_mutex_unlock(&sy->lock);
	return NULL;
}

int syncer_start(struct mount *m, struct syncer **out)
{
	struct syncer *sy;
	sigset_t all, old;
	int rc;

	sy = calloc(1, sizeof(*sy));
	if (!sy)
		return -ENOMEM;
	sy->m = m;
	pthread_mutex_init(&sy->lock, NULL);
	pthread_cond_init(&sy->cond, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&sy->thread, NULL, syncer_main, sy);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		pthread_cond_destroy(&sy->cond);
		pthread_mutex_destroy(&sy->lock);
		free(sy);
		return rc;
	}
	*out = sy;
	return 0;
}

int syncer_submit(struct syncer *sy, const uint64_t *roots, size_t nroots, uint32_t flags,
		  int dry_run, int pinned_only, int keep, const char *id, char *id_out)
{
	struct sync_req *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->roots = malloc(nroots * sizeof(*roots));
	if (!q->roots) {
		free(q);
		return -ENOMEM;
	}
	memcpy(q->roots, roots, nroots * sizeof(*roots));
	q->nroots = nroots;
	q->flags = flags;
	q->dry_run = dry_run;
	q->pinned_only = pinned_only;
	q->keep = keep;
	if (id)
		snprintf(q->id, sizeof(q->id), "%s", id);
	else
		new_sync_id(q->id);
	snprintf(id_out, SYNC_ID_LEN + 1, "%s", q->id);
	pthread_mutex_lock(&sy->lock);
	if (sy->stopping) {
		pthread_mutex_unlock(&sy->lock);
		free(q->roots);
		free(q);
		return -ESHUTDOWN;
	}
	if (sy->tail)
		sy->tail->next = q;
	else
		sy->head = q;
	sy->tail = q;
	pthread_cond_signal(&sy->cond);
	pthread_mutex_unlock(&sy->lock);
	return 0;
}

int syncer_cancel(struct syncer *sy, const char *id)
{
	int found = 0;

	pthread_mutex_lock(&sy->lock);
	if (sy->running && !strcasecmp(sy->running->id, id)) {
		sy->running->cancel = 1;
		found = 1;
	}
	for (struct sync_req *q = sy->head; q; q = q->next) {
		if (!strcasecmp(q->id, id)) {
			q->cancel = 1; /* it starts, sees the flag, and ends cancelled */
			found = 1;
		}
	}
	pthread_mutex_unlock(&sy->lock);
	return found ? 0 : -ENOENT;
}

void syncer_stop(struct syncer *sy)
{
	if (!sy)
		return;
	pthread_mutex_lock(&sy->lock);
	sy->stopping = 1;
	if (sy->running)
		sy->running->cancel = 1;
	pthread_cond_signal(&sy->cond);
	pthread_mutex_unlock(&sy->lock);
	pthread_join(sy->thread, NULL);
}

void syncer_free(struct syncer *sy)
{
	if (!sy)
		return;
	while (sy->head) {
		struct sync_req *q = sy->head;
		sy->head = q->next;
		free(q->roots);
		free(q);
	}
	pthread_cond_destroy(&sy->cond);
	pthread_mutex_destroy(&sy->lock);
	free(sy);
}

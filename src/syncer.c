/*
 * syncer.c - runs Synchronize jobs for the control socket, one at a time on
 * one worker thread, and publishes their events: SyncBegin, one
 * SyncFileResult per item, SyncEnd, each carrying the sync id.  See daemon.h.
 *
 * A caller that handles conflicts (or failed items) itself is asked over
 * its own connection: the worker sends the question as an event carrying a
 * query number and sleeps until `answer` (syncer_answer, on the socket's
 * thread) wakes it, the sync is cancelled, the daemon stops, or the
 * connection closes.  One question is open at a time.
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
#include "sync/sync.h"
#include "util/log.h"
#include "util/util.h"

struct sync_req {
	struct sync_req *next;
	char id[SYNC_ID_LEN + 1];
	struct sync_root *roots; /* items to sync, each with its subtree */
	size_t nroots;
	uint32_t flags;
	int dry_run;
	int pinned_only; /* fill pinned files only (after `ofsync pin`) */
	int flush;	 /* push what is dirty (`ofsync flush`), no walk */
	int keep;	 /* ENGINE_KEEP_* for `ofsync resolve`, or 0 */
	struct sync_asks asks;
	int client_gone;     /* the asking connection closed (under the lock) */
	volatile int cancel; /* set by syncer_cancel */
};

enum { Q_CONFLICT = 1, Q_ITEM = 2 };

struct syncer {
	struct daemon *d; /* constant */
	pthread_t thread;
	pthread_mutex_t lock; /* protects head, tail, running, stopping */
	pthread_cond_t cond;
	struct sync_req *head, *tail;
	struct sync_req *running;
	int stopping;
	pthread_cond_t answered; /* an open question got its answer, or gave up */
	int64_t q_seq;		 /* the last question's number */
	int q_kind;		 /* Q_*, 0 when no question is open */
	int q_done;		 /* answered: q_answer, q_name */
	int q_answer;
	char q_name[256];
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
	struct syncer *sy;
	struct sync_req *q;
	struct mount *m; /* the mount of the root being synced */
	unsigned items;	 /* items reported */
	int file_result; /* the last item's result (for a sync of one file) */
};

/*
 * Sends data (consumed) as event to the job's caller, as question kind, and
 * waits for the answer.  Returns it (name filled for conflicts), or -1 when
 * no answer will come (connection gone, cancelled, stopping).
 */
static int ask(struct syncer *sy, struct sync_req *q, int kind, const char *event, json_t *data,
	       char *name, size_t len)
{
	int64_t qid;
	int ans = -1;

	pthread_mutex_lock(&sy->lock);
	if (q->client_gone || q->cancel || sy->stopping) {
		pthread_mutex_unlock(&sy->lock);
		json_decref(data);
		return -1;
	}
	qid = ++sy->q_seq;
	sy->q_kind = kind;
	sy->q_done = 0;
	pthread_mutex_unlock(&sy->lock);
	json_object_set_new(data, "query", json_integer(qid));
	ipc_server_send(sy->d->srv, q->asks.client, event, data);
	json_decref(data);
	pthread_mutex_lock(&sy->lock);
	while (!sy->q_done && !q->client_gone && !q->cancel && !sy->stopping)
		pthread_cond_wait(&sy->answered, &sy->lock);
	if (sy->q_done) {
		ans = sy->q_answer;
		if (name)
			snprintf(name, len, "%s", sy->q_name);
	}
	sy->q_kind = 0;
	pthread_mutex_unlock(&sy->lock);
	return ans;
}

static const char *result_name(int result)
{
	if (result == 0)
		return "ok";
	if (result == -ESTALE)
		return "conflict";
	return strerrorname_np(-result) ? strerrorname_np(-result) : "error";
}

static int report_item(void *arg, const struct sync_item_report *r)
{
	struct report_ctx *rc = arg;
	struct sync_req *q = rc->q;
	json_t *ev;
	int ans;

	rc->items++;
	rc->file_result = r->result;
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:s, s:i, s:I}", "sync_id", q->id,
		       "share", rc->m->opts->unc_text, "path", r->path, "state",
		       plan_state_name(r->state), "op", plan_op_name(r->op), "applied", r->applied,
		       "skipped", r->skipped, "result", result_name(r->result), "errno", -r->result,
		       "bytes", (json_int_t)r->bytes);
	if (!ev)
		return OFSYNC_OP_CONTINUE;
	if (q->asks.failed_items && r->result < 0 && r->result != -ESTALE && !r->skipped) {
		/* The caller answers for a failed item; everyone else sees it too. */
		ipc_server_publish(rc->sy->d->srv, "SyncFileResult", ev);
		ans = ask(rc->sy, q, Q_ITEM, "SyncItemQuery", ev, NULL, 0);
		return ans < 0 ? OFSYNC_OP_CONTINUE : ans;
	}
	ipc_server_publish(rc->sy->d->srv, "SyncFileResult", ev);
	json_decref(ev);
	return OFSYNC_OP_CONTINUE;
}

static void report_begin(void *arg, const char *path)
{
	struct report_ctx *rc = arg;
	json_t *ev = json_pack("{s:s, s:s, s:s}", "sync_id", rc->q->id, "share",
			       rc->m->opts->unc_text, "path", path);

	ipc_server_send(rc->sy->d->srv, rc->q->asks.client, "SyncItemBegin", ev);
	json_decref(ev);
}

static json_t *side_json(int kind, int changed, int64_t size, int64_t mtime_ns)
{
	const char *k = kind == PSIDE_FILE ? "file" : kind == PSIDE_DIR ? "dir" : "none";

	return json_pack("{s:s, s:b, s:I, s:I}", "kind", k, "changed", changed, "size",
			 (json_int_t)size, "mtime", (json_int_t)mtime_ns);
}

/* The engine's conflict handler for a caller that answers conflicts. */
static int report_conflict(void *arg, const struct sync_conflict *c, char *name, size_t len)
{
	struct report_ctx *rc = arg;
	const struct plan_local *l = c->l;
	const struct plan_remote *r = c->r;
	const struct plan_base *b = c->b;
	int rchanged = !b->valid || r->kind != b->kind || r->size != b->size ||
		       r->mtime != b->mtime || r->file_id != b->file_id;
	json_t *ev;
	int ans;

	ev = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:o}", "sync_id", rc->q->id, "share",
		       rc->m->opts->unc_text, "path", c->path, "state", plan_state_name(c->state),
		       "state_value", c->state, "local",
		       side_json(l->deleted ? PSIDE_NONE : l->kind,
				 l->changed || l->created || l->deleted,
				 l->kind == PSIDE_FILE && !l->deleted ? c->lsize : 0, l->mtime),
		       "remote", side_json(r->kind, rchanged, r->size, r->mtime * 100));
	if (!ev)
		return OFSYNC_RESOLVE_LOG;
	ans = ask(rc->sy, rc->q, Q_CONFLICT, "SyncConflictQuery", ev, name, len);
	return ans < 0 ? OFSYNC_RESOLVE_LOG : ans;
}

/* What SyncBegin says of the job: its share(s) and an estimate of its items. */
static json_t *begin_event(struct sync_req *q, int *one_file)
{
	struct mount *m0 = q->roots[0].m;
	json_t *shares = json_array();
	uint64_t estimate = 0;
	int same = 1;

	*one_file = 0;
	for (size_t i = 0; i < q->nroots; i++) {
		struct mount *m = q->roots[i].m;
		struct index_stats st;
		struct index_item it;
		int listed = 0;
		for (size_t j = 0; j < i; j++)
			listed |= q->roots[j].m == m;
		if (!listed)
			json_array_append_new(shares, json_string(m->opts->unc_text));
		same &= m == m0;
		if (q->roots[i].id == m->root) {
			if (index_stats(cache_index(m->cache), m->share, &st) == 0 && st.items > 0)
				estimate += st.items - 1; /* the root is not an item */
		} else if (index_get(cache_index(m->cache), q->roots[i].id, &it) == 0) {
			*one_file = q->nroots == 1 && it.type == ITEM_FILE;
			estimate += it.type == ITEM_FILE;
			index_item_release(&it);
		}
	}
	return json_pack("{s:s, s:s, s:o, s:I, s:b, s:I}", "sync_id", q->id, "share",
			 same ? m0->opts->unc_text : "", "shares", shares, "flags",
			 (json_int_t)q->flags, "dry_run", q->dry_run, "estimate",
			 (json_int_t)estimate);
}

static void run_job(struct syncer *sy, struct sync_req *q)
{
	struct daemon *d = sy->d;
	struct report_ctx ctx = {.sy = sy, .q = q};
	struct sync_result total = {0}, res;
	int64_t t0 = mono_ns();
	const char *result = "ok";
	int one_file, rc = 0;
	json_t *ev;

	ev = begin_event(q, &one_file);
	ipc_server_publish(d->srv, "SyncBegin", ev);
	json_decref(ev);
	for (size_t i = 0; q->flush && i < q->nroots && rc == 0; i++) {
		struct mount *m = q->roots[i].m;
		struct sync_out_stats st;
		rc = sync_flush(m->cache, m->smb, m->share, m->root, 1, &st);
		total.items += st.ops + st.items;
		total.applied += st.ops + st.pushed;
		total.conflicts += st.conflicts;
		total.failed += st.failed;
		total.skipped += st.skipped;
	}
	for (size_t i = 0; !q->flush && i < q->nroots && rc == 0; i++) {
		struct mount *m = q->roots[i].m;
		struct sync_job job = {.share = m->share,
				       .root = q->roots[i].id,
				       .share_root = m->root,
				       .share_unc = m->opts->unc_text,
				       .flags = q->flags,
				       .dry_run = q->dry_run,
				       .pinned_only = q->pinned_only,
				       .keep = q->keep,
				       .cancel = &q->cancel,
				       .item = report_item,
				       .item_begin = q->asks.item_begin ? report_begin : NULL,
				       .conflict = q->asks.conflicts ? report_conflict : NULL,
				       .arg = &ctx};
		ctx.m = m;
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
	ev = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:f}", "sync_id", q->id,
		       "result", result, "errno", rc < 0 ? -rc : 0, "items", total.items, "applied",
		       total.applied, "conflicts", total.conflicts, "resolved", total.resolved,
		       "failed", total.failed, "skipped", total.skipped, "bytes",
		       (json_int_t)total.bytes, "seconds", (double)(mono_ns() - t0) / 1e9);
	if (ev && one_file && rc == 0 && ctx.items > 0) {
		/* A sync of one file returns that file's own result. */
		json_object_set_new(ev, "file_result", json_string(result_name(ctx.file_result)));
		json_object_set_new(ev, "file_errno", json_integer(-ctx.file_result));
	}
	ipc_server_publish(d->srv, "SyncEnd", ev);
	json_decref(ev);
	/* The one summary line of each sync. */
	log_info("sync %s of %s: %s; %u items, %u applied, %u conflicts (%u resolved), %u failed, "
		 "%lld bytes, %.1f s",
		 q->id, q->roots[0].m->opts->unc_text, result, total.items, total.applied,
		 total.conflicts, total.resolved, total.failed, (long long)total.bytes,
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

int syncer_start(struct daemon *d, struct syncer **out)
{
	struct syncer *sy;
	sigset_t all, old;
	int rc;

	sy = calloc(1, sizeof(*sy));
	if (!sy)
		return -ENOMEM;
	sy->d = d;
	pthread_mutex_init(&sy->lock, NULL);
	pthread_cond_init(&sy->cond, NULL);
	pthread_cond_init(&sy->answered, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&sy->thread, NULL, syncer_main, sy);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		pthread_cond_destroy(&sy->answered);
		pthread_cond_destroy(&sy->cond);
		pthread_mutex_destroy(&sy->lock);
		free(sy);
		return rc;
	}
	*out = sy;
	return 0;
}

int syncer_submit(struct syncer *sy, const struct sync_root *roots, size_t nroots, uint32_t flags,
		  int dry_run, int kind, int keep, const struct sync_asks *asks, const char *id,
		  char *id_out)
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
	q->pinned_only = kind == SYNC_KIND_PINNED;
	q->flush = kind == SYNC_KIND_FLUSH;
	q->keep = keep;
	if (asks)
		q->asks = *asks;
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
		pthread_cond_broadcast(&sy->answered);
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
	pthread_cond_broadcast(&sy->answered);
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
	pthread_cond_destroy(&sy->answered);
	pthread_cond_destroy(&sy->cond);
	pthread_mutex_destroy(&sy->lock);
	free(sy);
}

/* Answer words, by question kind. */
static int answer_value(int kind, const char *a)
{
	static const struct {
		int kind;
		const char *word;
		int value;
	} words[] = {
		{Q_CONFLICT, "keep_local", OFSYNC_RESOLVE_KEEPLOCAL},
		{Q_CONFLICT, "keep_remote", OFSYNC_RESOLVE_KEEPREMOTE},
		{Q_CONFLICT, "keep_all", OFSYNC_RESOLVE_KEEPALLCHANGES},
		{Q_CONFLICT, "keep_latest", OFSYNC_RESOLVE_KEEPLATEST},
		{Q_CONFLICT, "log", OFSYNC_RESOLVE_LOG},
		{Q_CONFLICT, "skip", OFSYNC_RESOLVE_SKIP},
		{Q_CONFLICT, "abort", OFSYNC_RESOLVE_ABORT},
		{Q_ITEM, "continue", OFSYNC_OP_CONTINUE},
		{Q_ITEM, "retry", OFSYNC_OP_RETRY},
		{Q_ITEM, "abort", OFSYNC_OP_ABORT},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i].kind == kind && !strcmp(words[i].word, a))
			return words[i].value;
	return -1;
}

int syncer_answer(struct syncer *sy, uint64_t client, const char *id, int64_t query,
		  const char *answer, const char *name, char *msg, size_t len)
{
	struct sync_req *q;
	int v, rc = 0;

	pthread_mutex_lock(&sy->lock);
	q = sy->running;
	if (!q || strcasecmp(q->id, id) || q->asks.client != client || !sy->q_kind ||
	    sy->q_seq != query || sy->q_done) {
		snprintf(msg, len, "sync %s has no open question %lld for this connection", id,
			 (long long)query);
		rc = -ENOENT;
	} else if ((v = answer_value(sy->q_kind, answer)) < 0) {
		snprintf(msg, len, "'%s' does not answer a %s", answer,
			 sy->q_kind == Q_CONFLICT ? "conflict (keep_local, keep_remote, keep_all, "
						    "keep_latest, log, skip, abort)" :
						    "failed item (continue, retry, abort)");
		rc = -EINVAL;
	} else if (name && strlen(name) >= sizeof(sy->q_name)) {
		/* A name the server refuses fails the item instead (keep_both). */
		snprintf(msg, len, "a new name is at most %zu bytes", sizeof(sy->q_name) - 1);
		rc = -EINVAL;
	} else {
		sy->q_answer = v;
		snprintf(sy->q_name, sizeof(sy->q_name), "%s", name ? name : "");
		sy->q_done = 1;
		pthread_cond_broadcast(&sy->answered);
	}
	pthread_mutex_unlock(&sy->lock);
	return rc;
}

void syncer_client_gone(struct syncer *sy, uint64_t client)
{
	if (!sy || !client)
		return;
	pthread_mutex_lock(&sy->lock);
	if (sy->running && sy->running->asks.client == client) {
		sy->running->client_gone = 1;
		pthread_cond_broadcast(&sy->answered);
	}
	for (struct sync_req *q = sy->head; q; q = q->next)
		if (q->asks.client == client)
			q->client_gone = 1;
	pthread_mutex_unlock(&sy->lock);
}

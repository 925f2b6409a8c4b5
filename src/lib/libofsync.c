/*
 * libofsync.c - the client library: include/ofsync.h, ofsync(3).
 *
 * One struct ofsync_client is one connection to the daemon.  A Synchronize
 * subscribes the connection to events, sends `sync` and then follows the
 * events of its sync id: progress callbacks for SyncBegin, SyncItemBegin,
 * SyncFileResult and SyncEnd, and the conflict handler for each
 * SyncConflictQuery, whose answer goes back as an `answer` request.  Events
 * that arrive while a request waits for its reply are kept, in order, for
 * the next reader.  An async sync runs the same loop on a thread of its own,
 * over a connection of its own.
 */
#include "ofsync.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ipc/client.h"
#include "util/util.h"

#define CALL_TIMEOUT_MS 30000

struct evnode {
	struct evnode *next;
	struct proto_reply ev;
};

struct async_sync {
	struct async_sync *next;
	struct ofsync_client *owner; /* the client that started it */
	pthread_t thread;
	char sock[PATH_MAX];
	const struct ofsync_sync_args *args; /* valid until started */
	struct ofsync_progress progress;     /* a copy */
	struct ofsync_sync_args a;	     /* a copy, for the follow */
	char id[OFSYNC_SYNC_ID_SIZE];
	int started, start_rc; /* under the owner's lock */
	char start_err[512];
	int done, rc;
	struct ofsync_summary sum;
};

struct ofsync_client {
	char sock[PATH_MAX];
	struct ipc_conn *conn;
	int subscribed;
	struct evnode *evq, **evtail; /* events read while waiting for a reply */
	char err[512];
	pthread_mutex_t lock; /* protects asyncs and their started/done */
	pthread_cond_t cond;
	struct async_sync *asyncs;
};

static void set_err(struct ofsync_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct ofsync_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

int ofsync_open(const char *socket_path, struct ofsync_client **out)
{
	struct ofsync_client *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (socket_path)
		snprintf(c->sock, sizeof(c->sock), "%s", socket_path);
	else
		default_socket_path(c->sock, sizeof(c->sock));
	rc = ipc_open(c->sock, &c->conn);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->evtail = &c->evq;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	*out = c;
	return 0;
}

const char *ofsync_errmsg(const struct ofsync_client *c)
{
	return c && c->err[0] ? c->err : "no error";
}

/* Keeps an event read while a reply was awaited (only when subscribed). */
static void keep_event(struct ofsync_client *c, struct proto_reply *ev)
{
	struct evnode *n = c->subscribed ? calloc(1, sizeof(*n)) : NULL;

	if (!n) {
		proto_reply_release(ev);
		return;
	}
	n->ev = *ev;
	*c->evtail = n;
	c->evtail = &n->next;
}

/* Sends a request and waits for its reply; events meanwhile are kept. */
static int call(struct ofsync_client *c, const char *cmd, json_t *args, struct proto_reply *rep)
{
	int64_t id;
	int rc;

	rc = ipc_send(c->conn, cmd, args, &id, c->err, sizeof(c->err));
	if (rc < 0)
		return rc;
	for (;;) {
		rc = ipc_read(c->conn, CALL_TIMEOUT_MS, rep, c->err, sizeof(c->err));
		if (rc < 0)
			return rc;
		if (rep->event[0]) {
			keep_event(c, rep);
			continue;
		}
		/* An error with id -1 answers a request the daemon could not read: ours. */
		if (rep->id == id || (rep->id == -1 && !rep->ok))
			break;
		proto_reply_release(rep); /* the reply to an answer or a cancel */
	}
	if (!rep->ok) {
		set_err(c, "%s", rep->message);
		rc = -(rep->err ? rep->err : EIO);
		proto_reply_release(rep);
		return rc;
	}
	return 0;
}

/* The next event: a kept one, else the next one read (replies are skipped). */
static int next_event(struct ofsync_client *c, struct proto_reply *ev)
{
	struct evnode *n = c->evq;
	int rc;

	if (n) {
		c->evq = n->next;
		if (!c->evq)
			c->evtail = &c->evq;
		*ev = n->ev;
		free(n);
		return 0;
	}
	for (;;) {
		rc = ipc_read(c->conn, -1, ev, c->err, sizeof(c->err));
		if (rc < 0)
			return rc;
		if (ev->event[0])
			return 0;
		if (!ev->ok) /* a refused answer or cancel: say so, go on */
			set_err(c, "%s", ev->message);
		proto_reply_release(ev);
	}
}

static int subscribe(struct ofsync_client *c)
{
	struct proto_reply rep;
	int rc;

	if (c->subscribed)
		return 0;
	rc = call(c, "events", NULL, &rep);
	if (rc < 0)
		return rc;
	proto_reply_release(&rep);
	c->subscribed = 1;
	return 0;
}

/* Sends a request whose reply is not waited for (answer, cancel). */
static void send_only(struct ofsync_client *c, const char *cmd, json_t *args)
{
	int64_t id;

	ipc_send(c->conn, cmd, args, &id, c->err, sizeof(c->err));
	json_decref(args);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int64_t jint(json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

static void side(json_t *o, struct ofsync_side *s)
{
	const char *k = jstr(o, "kind");

	s->kind = !strcmp(k, "file") ? 1 : !strcmp(k, "dir") ? 2 : 0;
	s->changed = json_is_true(json_object_get(o, "changed"));
	s->size = jint(o, "size");
	s->mtime_ns = jint(o, "mtime");
}

static const char *const resolve_words[] = {
	[OFSYNC_RESOLVE_NONE] = "log",
	[OFSYNC_RESOLVE_KEEPLOCAL] = "keep_local",
	[OFSYNC_RESOLVE_KEEPREMOTE] = "keep_remote",
	[OFSYNC_RESOLVE_KEEPALLCHANGES] = "keep_all",
	[OFSYNC_RESOLVE_KEEPLATEST] = "keep_latest",
	[OFSYNC_RESOLVE_LOG] = "log",
	[OFSYNC_RESOLVE_SKIP] = "skip",
	[OFSYNC_RESOLVE_ABORT] = "abort",
};

static const char *const op_words[] = {
	[OFSYNC_OP_CONTINUE] = "continue",
	[OFSYNC_OP_RETRY] = "retry",
	[OFSYNC_OP_ABORT] = "abort",
};

/* One sync being followed. */
struct follow {
	struct ofsync_client *c;
	const char *id;
	const struct ofsync_progress *p;
	ofsync_conflict_fn conflict;
	void *conflict_arg;
	int asked_failed; /* the daemon asks about failed items (SyncItemQuery) */
	char share[1024]; /* "//server/share" of SyncBegin: item paths are below it */
	int cancelled;	  /* a cancel was sent */
};

/* An item's UNC path: its event's share (a sync may span shares), else SyncBegin's. */
static void full_path(const struct follow *f, json_t *d, char *out, size_t len)
{
	const char *share = json_string_value(json_object_get(d, "share"));

	snprintf(out, len, "%s%s", share && *share ? share : f->share, jstr(d, "path"));
}

static void cancel_once(struct follow *f)
{
	if (f->cancelled)
		return;
	f->cancelled = 1;
	send_only(f->c, "cancel", json_pack("{s:s}", "sync_id", f->id));
}

static void on_conflict(struct follow *f, json_t *d)
{
	struct ofsync_conflict q = {.sync_id = f->id};
	char path[8192], name[256] = "";
	int ans = OFSYNC_RESOLVE_LOG;

	full_path(f, d, path, sizeof(path));
	q.path = path;
	q.state = jstr(d, "state");
	q.state_value = (int)jint(d, "state_value");
	side(json_object_get(d, "local"), &q.local);
	side(json_object_get(d, "remote"), &q.remote);
	if (f->conflict)
		ans = f->conflict(f->conflict_arg, &q, name, sizeof(name));
	if (ans < 0 || ans > OFSYNC_RESOLVE_ABORT)
		ans = OFSYNC_RESOLVE_LOG;
	name[sizeof(name) - 1] = '\0';
	send_only(f->c, "answer",
		  json_pack("{s:s, s:I, s:s, s:s?}", "sync_id", f->id, "query", jint(d, "query"),
			    "answer", resolve_words[ans], "name",
			    ans == OFSYNC_RESOLVE_KEEPALLCHANGES && name[0] ? name : NULL));
}

static int on_result(struct follow *f, json_t *d, int asked)
{
	struct ofsync_item_result r = {.sync_id = f->id};
	char path[8192];
	int resp = OFSYNC_OP_CONTINUE;

	full_path(f, d, path, sizeof(path));
	r.path = path;
	r.state = jstr(d, "state");
	r.op = jstr(d, "op");
	r.applied = json_is_true(json_object_get(d, "applied"));
	r.skipped = json_string_value(json_object_get(d, "skipped"));
	r.result = -(int)jint(d, "errno");
	if (!strcmp(jstr(d, "result"), "conflict"))
		r.result = -ESTALE;
	r.bytes = jint(d, "bytes");
	if (f->p && f->p->item_result)
		resp = f->p->item_result(f->p->arg, &r);
	if (resp < OFSYNC_OP_CONTINUE || resp > OFSYNC_OP_ABORT)
		resp = OFSYNC_OP_CONTINUE;
	if (asked)
		send_only(f->c, "answer",
			  json_pack("{s:s, s:I, s:s}", "sync_id", f->id, "query", jint(d, "query"),
				    "answer", op_words[resp]));
	else if (resp == OFSYNC_OP_ABORT)
		cancel_once(f);
	return resp;
}

static void fill_summary(const char *id, json_t *d, struct ofsync_summary *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->sync_id, sizeof(s->sync_id), "%s", id);
	if (!strcmp(jstr(d, "result"), "cancelled"))
		s->result = -ECANCELED;
	else if (jint(d, "errno") > 0)
		s->result = -(int)jint(d, "errno");
	else if (strcmp(jstr(d, "result"), "ok"))
		s->result = -EIO;
	s->items = (unsigned)jint(d, "items");
	s->applied = (unsigned)jint(d, "applied");
	s->conflicts = (unsigned)jint(d, "conflicts");
	s->resolved = (unsigned)jint(d, "resolved");
	s->failed = (unsigned)jint(d, "failed");
	s->skipped = (unsigned)jint(d, "skipped");
	s->bytes = jint(d, "bytes");
	s->seconds = json_number_value(json_object_get(d, "seconds"));
}

/* Follows sync f->id to its SyncEnd; returns the Synchronize result. */
static int follow(struct follow *f, struct ofsync_summary *out)
{
	const struct ofsync_progress *p = f->p;
	struct ofsync_summary sum;
	struct proto_reply ev;
	int rc;

	for (;;) {
		rc = next_event(f->c, &ev);
		if (rc < 0)
			return rc;
		json_t *d = ev.body;
		if (strcasecmp(jstr(d, "sync_id"), f->id)) {
			proto_reply_release(&ev);
			continue;
		}
		if (p && p->event) {
			char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
			if (text)
				p->event(p->arg, ev.event, text);
			free(text);
		}
		if (!strcmp(ev.event, "SyncBegin")) {
			snprintf(f->share, sizeof(f->share), "%s", jstr(d, "share"));
			if (p && p->begin)
				p->begin(p->arg, f->id, (uint32_t)jint(d, "flags"),
					 (uint64_t)jint(d, "estimate"));
		} else if (!strcmp(ev.event, "SyncItemBegin")) {
			char path[8192];
			full_path(f, d, path, sizeof(path));
			if (p && p->item_begin && p->item_begin(p->arg, path) == OFSYNC_OP_ABORT)
				cancel_once(f);
		} else if (!strcmp(ev.event, "SyncFileResult")) {
			/* A failed item the daemon waits on comes again as SyncItemQuery. */
			int failed = jint(d, "errno") > 0 &&
				     strcmp(jstr(d, "result"), "conflict") &&
				     !json_is_string(json_object_get(d, "skipped"));
			if (!(f->asked_failed && failed))
				on_result(f, d, 0);
			if (p && p->query_abort && p->query_abort(p->arg))
				cancel_once(f);
		} else if (!strcmp(ev.event, "SyncItemQuery")) {
			on_result(f, d, 1);
			if (p && p->query_abort && p->query_abort(p->arg))
				cancel_once(f);
		} else if (!strcmp(ev.event, "SyncConflictQuery")) {
			on_conflict(f, d);
		} else if (!strcmp(ev.event, "SyncEnd")) {
			fill_summary(f->id, d, &sum);
			if (p && p->end)
				p->end(p->arg, &sum);
			rc = sum.result;
			if (rc == 0 && json_object_get(d, "file_errno"))
				rc = -(int)jint(d, "file_errno");
			proto_reply_release(&ev);
			if (out)
				*out = sum;
			return rc;
		}
		proto_reply_release(&ev);
	}
}

/* Subscribes and sends `sync`; fills id with the daemon's sync id. */
static int start_sync(struct ofsync_client *c, const struct ofsync_sync_args *a,
		      ofsync_conflict_fn conflict, char *id)
{
	const struct ofsync_progress *p = a->progress;
	char path[PATH_MAX * 2];
	struct proto_reply rep;
	json_t *args, *paths;
	int rc;

	args = json_pack("{s:I, s:b, s:b, s:b, s:b}", "flags", (json_int_t)a->flags, "dry_run",
			 a->dry_run, "handler", conflict != NULL && !a->detach, "item_begin",
			 p && p->item_begin && !a->detach, "ask_failed",
			 p && p->item_result && !a->detach);
	paths = json_array();
	if (!args || !paths) {
		json_decref(args);
		json_decref(paths);
		return -ENOMEM;
	}
	json_object_set_new(args, "paths", paths);
	for (size_t i = 0; i < a->npaths; i++) {
		if (!a->paths[i] || ofsync_abspath(a->paths[i], path, sizeof(path)) < 0) {
			set_err(c, "%s: not a usable path", a->paths[i] ? a->paths[i] : "(null)");
			json_decref(args);
			return -EINVAL;
		}
		json_array_append_new(paths, json_string(path));
	}
	if (a->sync_id)
		json_object_set_new(args, "sync_id", json_string(a->sync_id));
	rc = a->detach ? 0 : subscribe(c);
	if (rc == 0)
		rc = call(c, "sync", args, &rep);
	json_decref(args);
	if (rc < 0)
		return rc;
	snprintf(id, OFSYNC_SYNC_ID_SIZE, "%s", jstr(rep.body, "sync_id"));
	proto_reply_release(&rep);
	return 0;
}

/* Checks the arguments; returns the conflict handler to use through *fn. */
static int check_args(struct ofsync_client *c, const struct ofsync_sync_args *a,
		      ofsync_conflict_fn *fn)
{
	int rc;

	rc = ofsync_flags_check(a->flags, a->async && !a->detach, a->progress != NULL || a->detach,
				c->err, sizeof(c->err));
	if (rc < 0)
		return rc;
	if (a->detach && !a->async) {
		set_err(c, "detach goes with async");
		return -EINVAL;
	}
	if (a->detach && (a->conflict || (a->flags & OFSYNC_INTERACTIVE))) {
		set_err(c,
			"a detached sync cannot ask anyone: no conflict handler, no INTERACTIVE");
		return -EINVAL;
	}
	if (a->npaths && !a->paths) {
		set_err(c, "npaths without paths");
		return -EINVAL;
	}
	*fn = a->conflict;
	if (!*fn && (a->flags & OFSYNC_INTERACTIVE)) {
		if (!(a->flags & OFSYNC_CONSOLE)) {
			set_err(c, "INTERACTIVE without CONSOLE needs a conflict handler");
			return -EINVAL;
		}
		*fn = ofsync_console_conflict;
	}
	return 0;
}

static void *async_main(void *arg)
{
	struct async_sync *as = arg;
	struct ofsync_client *own;
	ofsync_conflict_fn fn = NULL;
	int rc;

	rc = ofsync_open(as->sock, &own);
	if (rc == 0) {
		check_args(own, as->args, &fn);
		rc = start_sync(own, as->args, fn, as->id);
		if (rc < 0)
			snprintf(as->start_err, sizeof(as->start_err), "%s", own->err);
	} else {
		snprintf(as->start_err, sizeof(as->start_err), "no daemon answers on %.300s: %s",
			 as->sock, strerror(-rc));
	}
	/* The owner waits for this; after it, as->args is gone. */
	struct ofsync_client *owner = as->owner;
	pthread_mutex_lock(&owner->lock);
	as->started = 1;
	as->start_rc = rc;
	pthread_cond_broadcast(&owner->cond);
	pthread_mutex_unlock(&owner->lock);
	if (rc == 0) {
		struct follow f = {.c = own,
				   .id = as->id,
				   .p = &as->progress,
				   .conflict = fn,
				   .conflict_arg = as->a.conflict_arg,
				   .asked_failed = as->progress.item_result != NULL};
		rc = follow(&f, &as->sum);
	}
	ofsync_close(own);
	pthread_mutex_lock(&owner->lock);
	as->rc = rc;
	as->done = 1;
	pthread_cond_broadcast(&owner->cond);
	pthread_mutex_unlock(&owner->lock);
	return NULL;
}

/* Starts an async sync on a thread and a connection of its own. */
static int start_async(struct ofsync_client *c, const struct ofsync_sync_args *a, char *id_out)
{
	struct async_sync *as = calloc(1, sizeof(*as));
	int rc;

	if (!as)
		return -ENOMEM;
	snprintf(as->sock, sizeof(as->sock), "%s", c->sock);
	as->args = a;
	as->a = *a;
	as->progress = *a->progress;
	as->owner = c;
	rc = -pthread_create(&as->thread, NULL, async_main, as);
	if (rc < 0) {
		free(as);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	while (!as->started)
		pthread_cond_wait(&c->cond, &c->lock);
	rc = as->start_rc;
	if (rc == 0) {
		as->next = c->asyncs;
		c->asyncs = as;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0) {
		pthread_join(as->thread, NULL);
		set_err(c, "%s", as->start_err);
		free(as);
		return rc;
	}
	if (id_out)
		snprintf(id_out, OFSYNC_SYNC_ID_SIZE, "%s", as->id);
	return 0;
}

int ofsync_synchronize(struct ofsync_client *c, const struct ofsync_sync_args *a,
		       char sync_id_out[OFSYNC_SYNC_ID_SIZE], struct ofsync_summary *summary)
{
	char id[OFSYNC_SYNC_ID_SIZE];
	ofsync_conflict_fn fn;
	int rc;

	c->err[0] = '\0';
	rc = check_args(c, a, &fn);
	if (rc < 0)
		return rc;
	if (a->async && !a->detach)
		return start_async(c, a, sync_id_out);
	rc = start_sync(c, a, fn, id);
	if (rc < 0)
		return rc;
	if (sync_id_out)
		snprintf(sync_id_out, OFSYNC_SYNC_ID_SIZE, "%s", id);
	if (a->detach)
		return 0;
	struct follow f = {.c = c,
			   .id = id,
			   .p = a->progress,
			   .conflict = fn,
			   .conflict_arg = a->conflict_arg,
			   .asked_failed = a->progress && a->progress->item_result};
	rc = follow(&f, summary);
	if (rc == -ECANCELED && !c->err[0])
		set_err(c, "the sync was cancelled");
	return rc;
}

int ofsync_wait(struct ofsync_client *c, const char *sync_id, struct ofsync_summary *summary)
{
	struct async_sync **pp, *as = NULL;
	int rc;

	pthread_mutex_lock(&c->lock);
	for (pp = &c->asyncs; *pp; pp = &(*pp)->next) {
		if (!strcasecmp((*pp)->id, sync_id)) {
			as = *pp;
			*pp = as->next;
			break;
		}
	}
	if (!as) {
		pthread_mutex_unlock(&c->lock);
		set_err(c, "no async sync %s was started by this client", sync_id);
		return -ENOENT;
	}
	while (!as->done)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	pthread_join(as->thread, NULL);
	rc = as->rc;
	if (summary)
		*summary = as->sum;
	free(as);
	return rc;
}

int ofsync_follow(struct ofsync_client *c, const char *sync_id, const struct ofsync_progress *p,
		  struct ofsync_summary *summary)
{
	struct follow f = {.c = c, .id = sync_id, .p = p};

	if (!c->subscribed) {
		set_err(c, "follow needs a client that subscribed before the request");
		return -EINVAL;
	}
	return follow(&f, summary);
}

int ofsync_cancel(struct ofsync_client *c, const char *sync_id)
{
	struct proto_reply rep;
	json_t *args = json_pack("{s:s}", "sync_id", sync_id);
	int rc = call(c, "cancel", args, &rep);

	json_decref(args);
	if (rc == 0)
		proto_reply_release(&rep);
	return rc;
}

int ofsync_request(struct ofsync_client *c, const char *cmd, const char *args_json, int opts,
		   char **result_json)
{
	struct proto_reply rep;
	json_error_t jerr;
	json_t *args = NULL;
	int rc;

	if (result_json)
		*result_json = NULL;
	if (args_json) {
		args = json_loads(args_json, 0, &jerr);
		if (!json_is_object(args)) {
			set_err(c, "the arguments are not a JSON object: %s", jerr.text);
			json_decref(args);
			return -EINVAL;
		}
	}
	rc = (opts & OFSYNC_REQ_SUBSCRIBE) ? subscribe(c) : 0;
	if (rc == 0)
		rc = call(c, cmd, args, &rep);
	json_decref(args);
	if (rc < 0)
		return rc;
	if (result_json) {
		*result_json = json_dumps(rep.body, JSON_COMPACT | JSON_SORT_KEYS);
		if (!*result_json)
			rc = -ENOMEM;
	}
	proto_reply_release(&rep);
	return rc;
}

int ofsync_events(struct ofsync_client *c, const char *sync_id,
		  int (*fn)(void *arg, const char *event, const char *data_json), void *arg)
{
	struct proto_reply ev;
	int rc, stop = 0;

	rc = subscribe(c);
	while (rc == 0 && !stop) {
		rc = next_event(c, &ev);
		if (rc < 0)
			break;
		if (!sync_id || !strcasecmp(jstr(ev.body, "sync_id"), sync_id)) {
			char *text = json_dumps(ev.body, JSON_COMPACT | JSON_SORT_KEYS);
			stop = text ? fn(arg, ev.event, text) : 0;
			free(text);
		}
		proto_reply_release(&ev);
	}
	return rc;
}

void ofsync_close(struct ofsync_client *c)
{
	if (!c)
		return;
	for (;;) {
		char id[OFSYNC_SYNC_ID_SIZE];
		pthread_mutex_lock(&c->lock);
		if (!c->asyncs) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		snprintf(id, sizeof(id), "%s", c->asyncs->id);
		pthread_mutex_unlock(&c->lock);
		ofsync_wait(c, id, NULL);
	}
	while (c->evq) {
		struct evnode *n = c->evq;
		c->evq = n->next;
		proto_reply_release(&n->ev);
		free(n);
	}
	ipc_close(c->conn);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int ofsync_abspath(const char *in, char *out, size_t len)
{
	char buf[PATH_MAX * 2], cwd[PATH_MAX];
	char *parts[512];
	size_t np = 0, o = 0;
	char *save, *tok;

	if (!strncmp(in, "//", 2) || !strncmp(in, "\\\\", 2) || !strncmp(in, "smb://", 6))
		return snprintf(out, len, "%s", in) < (int)len ? 0 : -ENAMETOOLONG;
	if (in[0] == '/') {
		if (snprintf(buf, sizeof(buf), "%s", in) >= (int)sizeof(buf))
			return -ENAMETOOLONG;
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (snprintf(buf, sizeof(buf), "%s/%s", cwd, in) >= (int)sizeof(buf))
			return -ENAMETOOLONG;
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

/* ---- the CONSOLE conflict handler ---------------------------------------- */

static void describe_side(FILE *tty, const char *label, const struct ofsync_side *s)
{
	char size[32], when[64] = "";
	time_t sec = (time_t)(s->mtime_ns / 1000000000);
	struct tm tm;

	if (s->mtime_ns && localtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (s->kind == 0) {
		fprintf(tty, "  %-7s deleted%s%s\n", label, when[0] ? " at " : "", when);
		return;
	}
	fprintf(tty, "  %-7s %s%s, %s, changed %s\n", label, s->kind == 2 ? "directory" : "file",
		s->changed ? " (changed)" : "", human_bytes((uint64_t)s->size, size, sizeof(size)),
		when[0] ? when : "(unknown)");
}

int ofsync_console_conflict(void *arg, const struct ofsync_conflict *c, char *new_name,
			    size_t new_name_len)
{
	static const struct {
		const char *key;
		int answer;
	} keys[] = {
		{"l", OFSYNC_RESOLVE_KEEPLOCAL},      {"r", OFSYNC_RESOLVE_KEEPREMOTE},
		{"b", OFSYNC_RESOLVE_KEEPALLCHANGES}, {"t", OFSYNC_RESOLVE_KEEPLATEST},
		{"s", OFSYNC_RESOLVE_SKIP},	      {"g", OFSYNC_RESOLVE_LOG},
		{"a", OFSYNC_RESOLVE_ABORT},
	};
	char line[256];
	FILE *tty;
	int fd, ans = -1;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return OFSYNC_RESOLVE_LOG; /* nobody to ask: it is recorded */
	tty = fdopen(fd, "r+");
	if (!tty) {
		close(fd);
		return OFSYNC_RESOLVE_LOG;
	}
	fprintf(tty, "\nConflict: %s\n  state   %s\n", c->path, c->state);
	describe_side(tty, "local", &c->local);
	describe_side(tty, "server", &c->remote);
	while (ans < 0) {
		fprintf(tty, "Keep [l]ocal, [r]emote, [b]oth, la[t]est; [s]kip, lo[g] it, "
			     "[a]bort? ");
		fflush(tty);
		if (!fgets(line, sizeof(line), tty)) {
			ans = OFSYNC_RESOLVE_LOG; /* end of input: record it */
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcasecmp(line, keys[i].key))
				ans = keys[i].answer;
	}
	while (ans == OFSYNC_RESOLVE_KEEPALLCHANGES && new_name_len > 0) {
		fprintf(tty, "New name for the local copy (empty: the usual \"name (HOST vN)\"): ");
		fflush(tty);
		if (!fgets(line, sizeof(line), tty))
			break;
		line[strcspn(line, "\r\n")] = '\0';
		/* SMB takes none of these in a name; ask again rather than fail the item. */
		if (strpbrk(line, "\\/:*?\"<>|") || !strcmp(line, ".") || !strcmp(line, "..") ||
		    strlen(line) >= new_name_len) {
			fprintf(tty, "'%s' cannot name a file on the server.\n", line);
			continue;
		}
		snprintf(new_name, new_name_len, "%s", line);
		break;
	}
	fclose(tty);
	return ans;
}

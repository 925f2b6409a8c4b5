/*
 * engine.c - the Synchronize engine; see engine.h.
 *
 * A sync is a walk from the job's root, one directory at a time:
 *   1. with SYNCOUT, the journal of namespace changes made offline is
 *      replayed first (journal.c), so that the walk sees the server with
 *      the local renames, creates and deletes already applied;
 *   2. for each directory, the server's listing (one readdirplus walk) and
 *      the index's children are merged by name; each name gets a decision
 *      from the planner's table (plan.c): a sync state named after
 *      OFFLINEFILES_SYNC_STATE and the operation it calls for;
 *   3. the operation is carried out when the flags allow it: PULL, ADD_LOCAL
 *      and DELETE_LOCAL need SYNCIN; FILL needs FILLSPARSE (SYNCIN implies
 *      it); PUSH needs SYNCOUT; CONFLICT goes to the conflict handler when
 *      there is one, else to the CR rule, else it is recorded in the
 *      conflict store and left as it is;
 *   4. every item is reported to the caller, applied or not, failed or not,
 *      and the cancel flag is looked at between items.
 * Before each overwrite the side being overwritten is looked at again: the
 * push checks the target against the base (push.c), a pull goes through
 * sync_apply_remote, which never touches a dirty item.
 */
#include "sync/engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ofsync.h"
#include "sync/lnk.h"
#include "sync/plan.h"
#include "sync/sync.h"
#include "util/log.h"
#include "util/util.h"

/* One sync at a time: two syncs of overlapping trees never interleave. */
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;

struct entry {
	char *name;
	uint64_t id;	     /* index row, 0 when only the server has it */
	struct plan_local l; /* the planner's view of the row, when id */
	struct plan_base b;
	uint32_t pins; /* the row's pin kinds */
	int64_t size;  /* the row's size */
	int is_dir;    /* the row is a directory */
	int suspended; /* the row is a suspended root */
	int has_remote;
	struct smb_stat st; /* the server's, when has_remote */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static struct entry *entries_add(struct entries *e, const char *name)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct entry *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		e->v = v;
		e->cap = cap;
	}
	memset(&e->v[e->n], 0, sizeof(e->v[0]));
	e->v[e->n].name = strdup(name);
	if (!e->v[e->n].name)
		return NULL;
	return &e->v[e->n++];
}

static void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].name);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void to_local(const struct index_item *it, struct plan_local *l)
{
	memset(l, 0, sizeof(*l));
	l->kind = it->type == ITEM_DIR ? PSIDE_DIR : PSIDE_FILE;
	l->created = !!(it->flags & ITEM_F_CREATED);
	l->changed = it->gen != it->synced_gen;
	l->sparse = it->type == ITEM_FILE && rangeset_total(&it->present) < (uint64_t)it->size;
	l->mtime = it->mtime;
}

static void to_base(const struct index_item *it, struct plan_base *b)
{
	memset(b, 0, sizeof(*b));
	b->valid = it->base.valid;
	b->kind = it->type == ITEM_DIR ? PSIDE_DIR : PSIDE_FILE;
	b->size = it->base.size;
	b->mtime = it->base.mtime;
	b->file_id = it->base.file_id;
}

/* Keeps what the planner needs of a row, so that it is read once. */
static void take_row(struct entry *e, const struct index_item *it)
{
	e->id = it->id;
	to_local(it, &e->l);
	to_base(it, &e->b);
	e->pins = it->pins;
	e->size = it->size;
	e->is_dir = it->type == ITEM_DIR;
	e->suspended = !!(it->flags & ITEM_F_SUSPENDED);
}

static int add_local(void *arg, const struct index_item *it)
{
	struct entry *e;

	if (sync_name_hidden(it->name))
		return 0;
	e = entries_add(arg, it->name);
	if (!e)
		return -ENOMEM;
	take_row(e, it);
	return 0;
}

static int add_remote(void *arg, const char *name, const struct smb_stat *st)
{
	struct entries *l = arg;
	struct entry *e;

	if (sync_name_hidden(name))
		return 0;
	e = entries_add(l, name);
	if (!e)
		return -ENOMEM;
	e->has_remote = 1;
	e->st = *st;
	return 0;
}

/*
 * The names of directory dir: the index's children merged with the
 * server's listing (when list_remote).  Sorted by name.
 */
/*
 * The entries of directory dir: the index's children merged by name with
 * the server's listing (when list_remote).  listed, when not NULL, is that
 * listing already taken (by the prefetcher): it is consumed.
 */
static int dir_entries(struct cache *c, struct smb *s, uint64_t dir, const char *path,
		       int list_remote, struct entries *listed, struct entries *out)
{
	struct entries loc = {0}, rem = {0};
	size_t i = 0, j = 0;
	int rc;

	rc = index_children(cache_index(c), dir, add_local, &loc);
	if (listed) {
		rem = *listed;
		*listed = (struct entries){0};
	} else if (rc == 0 && list_remote) {
		rc = smb_list(s, path, add_remote, &rem);
	}
	if (rc < 0)
		goto out;
	if (loc.n > 1)
		qsort(loc.v, loc.n, sizeof(*loc.v), by_name);
	if (rem.n > 1)
		qsort(rem.v, rem.n, sizeof(*rem.v), by_name);
	while (i < loc.n || j < rem.n) {
		int cmp = i == loc.n ? 1 : j == rem.n ? -1 : strcmp(loc.v[i].name, rem.v[j].name);
		struct entry *e = entries_add(out, cmp <= 0 ? loc.v[i].name : rem.v[j].name);
		if (!e) {
			rc = -ENOMEM;
			goto out;
		}
		if (cmp <= 0) {
			struct entry *src = &loc.v[i++];
			e->id = src->id;
			e->l = src->l;
			e->b = src->b;
			e->pins = src->pins;
			e->is_dir = src->is_dir;
			e->suspended = src->suspended;
		}
		if (cmp >= 0) {
			e->has_remote = 1;
			e->st = rem.v[j++].st;
		}
	}
out:
	entries_free(&loc);
	entries_free(&rem);
	return rc;
}

static void to_remote(const struct entry *e, struct plan_remote *r)
{
	memset(r, 0, sizeof(*r));
	if (!e->has_remote)
		return;
	r->kind = e->st.type == SMB_DIR ? PSIDE_DIR : PSIDE_FILE;
	r->size = e->st.size;
	r->mtime = e->st.mtime;
	r->file_id = e->st.file_id;
}

/* Fetches every missing byte of file id.  Adds what it moved to *bytes. */
static int fill(struct cache *c, struct smb *s, uint64_t id, int64_t *bytes)
{
	struct node *n;
	uint64_t before, size;
	int rc;

	rc = cache_node_get(c, id, &n);
	if (rc < 0)
		return rc;
	for (int attempt = 0; attempt < 3; attempt++) {
		pthread_mutex_lock(&n->lock);
		size = (uint64_t)n->it.size;
		before = rangeset_total(&n->it.present);
		pthread_mutex_unlock(&n->lock);
		rc = sync_fetch(c, s, n, 0, size);
		if (rc != -EAGAIN)
			break;
	}
	pthread_mutex_lock(&n->lock);
	*bytes += (int64_t)(rangeset_total(&n->it.present) - before);
	pthread_mutex_unlock(&n->lock);
	cache_node_put(c, n, 1);
	return rc;
}

/* Takes the server's current version as the item's (PULL, or KEEPREMOTE). */
static int pull(struct cache *c, struct smb *s, uint64_t id, const struct smb_stat *st,
		int discard_local, int64_t *bytes)
{
	struct node *n;
	int rc, is_file;

	rc = cache_node_get(c, id, &n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	if (discard_local) {
		/* The conflict rule chose the server: local changes are dropped. */
		n->it.synced_gen = n->it.gen;
		n->it.flags &= ~ITEM_F_CREATED;
		rangeset_clear(&n->it.dirty);
		n->it.base.valid = 0; /* differs from any stat: the pull happens */
	}
	rc = sync_apply_remote(c, n, st);
	is_file = n->it.type == ITEM_FILE;
	pthread_mutex_unlock(&n->lock);
	cache_node_put(c, n, 1);
	if (rc < 0)
		return rc;
	return is_file ? fill(c, s, id, bytes) : 0;
}

/* Pushes a dirty file over whatever the server has now (KEEPLOCAL). */
static int push_over(struct cache *c, struct smb *s, uint64_t id, const char *path)
{
	struct smb_stat st;
	struct node *n;
	int rc;

	rc = cache_node_get(c, id, &n);
	if (rc < 0)
		return rc;
	rc = smb_stat(s, path, &st);
	pthread_mutex_lock(&n->lock);
	if (rc == 0)
		sync_base_from_stat(&n->it.base, &st); /* the server's version is the base now */
	else if (rc == -ENOENT)
		n->it.base.valid = 0; /* gone there: the push creates it */
	if (n->it.gen == n->it.synced_gen)
		n->it.gen++; /* make sure it counts as changed */
	pthread_mutex_unlock(&n->lock);
	if (rc == 0 || rc == -ENOENT)
		rc = sync_push_file(c, s, n);
	cache_node_put(c, n, 1);
	return rc;
}

/* The pin kind a PINFOR* flag names (PINFORUSER when none is given). */
static uint32_t pin_kind(uint32_t flags)
{
	if (flags & OFSYNC_PINFORUSER_POLICY)
		return PIN_POLICY;
	if (flags & OFSYNC_PINFORALL)
		return PIN_ALL;
	if (flags & OFSYNC_PINFORREDIR)
		return PIN_REDIR;
	return PIN_USER;
}

/* PINNEWFILES: a new file in a pinned directory gets the flags' pin kind. */
static int pin_new(struct cache *c, uint64_t dir, uint64_t id, uint32_t flags, int *pinned)
{
	struct index_item d;
	struct node *n;
	int rc;

	rc = index_get(cache_index(c), dir, &d);
	if (rc < 0)
		return rc;
	*pinned = d.pins != 0;
	index_item_release(&d);
	if (!*pinned)
		return 0;
	rc = cache_node_get(c, id, &n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	n->it.pins |= pin_kind(flags);
	rc = cache_node_save(c, n);
	pthread_mutex_unlock(&n->lock);
	cache_node_put(c, n, 1);
	return rc;
}

/* Removes a clean local tree that the server no longer has. */
static int delete_local(struct cache *c, uint64_t parent, uint64_t id, const char *name)
{
	uint64_t dirty = 0;
	int rc = index_tree_dirty(cache_index(c), id, &dirty);

	if (rc < 0)
		return rc;
	if (dirty)
		return -ESTALE; /* something below changed here: kept */
	rc = cache_delete_tree(c, id);
	if (rc == 0)
		cache_notify_entry(c, parent, name);
	return rc;
}

/*
 * LOWPRIORITY: the calling thread runs the sync at idle CPU priority (nice
 * 19) and in the idle I/O class, and gets its own back afterwards.  Linux
 * keeps both per thread.
 */
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_WHO_PROCESS 1

struct saved_prio {
	int nice;
	int ioprio;
};

static void lower_priority(struct saved_prio *sp)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	errno = 0;
	sp->nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		sp->nice = 0;
	sp->ioprio = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);
	if (setpriority(PRIO_PROCESS, (id_t)tid, 19) < 0)
		log_debug("low priority: setpriority: %s", strerror(errno));
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid,
		    IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) < 0)
		log_debug("low priority: ioprio_set: %s", strerror(errno));
}

static void restore_priority(const struct saved_prio *sp)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	/* Raising the priority back needs CAP_SYS_NICE; as a user it stays low. */
	if (setpriority(PRIO_PROCESS, (id_t)tid, sp->nice) < 0)
		log_debug("low priority: cannot restore nice: %s", strerror(errno));
	if (sp->ioprio >= 0)
		syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, sp->ioprio);
}

/* A server listing taken ahead of the walk (see prefetch_main). */
struct listing {
	int state; /* PF_* */
	int rc;
	struct entries rem;
	int64_t at;   /* wall time the listing was asked for */
	uint64_t gen; /* cache_listings_gen then */
};

enum { PF_WAITING, PF_RUNNING, PF_DONE, PF_TAKEN };

/* How many directories the prefetcher lists ahead of the walk. */
#define PF_AHEAD 4

struct walk {
	struct cache *c;
	struct smb *s;
	const struct sync_job *job;
	struct sync_result *res;
	uint64_t *queue;    /* directories still to walk (breadth first) */
	struct listing *pf; /* one per queue entry, under pf_lock */
	size_t qn, qcap;
	/* The prefetcher: lists queue[cur+1 .. cur+PF_AHEAD] while cur is walked. */
	pthread_t pf_thread;
	pthread_mutex_t pf_lock; /* protects queue, pf, qn, qcap, cur, pf_stop */
	pthread_cond_t pf_cond;
	size_t cur;
	int pf_on, pf_stop;
	/*
	 * Items gone from the server, whose delete waits for the end of the
	 * walk: one may turn up under another name (a rename on the server,
	 * matched by file id), and then it moves instead.
	 */
	struct vanished *van;
	size_t nvan, vancap;
};

struct vanished {
	uint64_t dir;
	char *dpath;
	struct entry e; /* e.name owned */
};

static int enqueue(struct walk *w, uint64_t id)
{
	int rc = 0;

	if (w->pf_on)
		pthread_mutex_lock(&w->pf_lock);
	if (w->qn == w->qcap) {
		size_t cap = w->qcap ? w->qcap * 2 : 64;
		uint64_t *q = realloc(w->queue, cap * sizeof(*q));
		struct listing *l = q ? realloc(w->pf, cap * sizeof(*l)) : NULL;
		if (q)
			w->queue = q;
		if (l)
			w->pf = l;
		if (!q || !l)
			rc = -ENOMEM;
		else
			w->qcap = cap;
	}
	if (rc == 0) {
		w->pf[w->qn] = (struct listing){.state = PF_WAITING};
		w->queue[w->qn++] = id;
		if (w->pf_on)
			pthread_cond_broadcast(&w->pf_cond);
	}
	if (w->pf_on)
		pthread_mutex_unlock(&w->pf_lock);
	return rc;
}

/*
 * The prefetcher's thread: lists the next directories of the queue on the
 * server while the walk plans and applies the current one, so that the
 * server's work and ours overlap.  A listing taken a moment early is as
 * good as one taken on time: every change is checked against the server
 * again before it is made.
 */
static void *prefetch_main(void *arg)
{
	struct walk *w = arg;
	char path[4096];

	pthread_mutex_lock(&w->pf_lock);
	while (!w->pf_stop) {
		size_t k = w->cur + 1;
		while (k < w->qn && k <= w->cur + PF_AHEAD && w->pf[k].state != PF_WAITING)
			k++;
		if (k >= w->qn || k > w->cur + PF_AHEAD) {
			pthread_cond_wait(&w->pf_cond, &w->pf_lock);
			continue;
		}
		uint64_t dir = w->queue[k];
		w->pf[k].state = PF_RUNNING;
		pthread_mutex_unlock(&w->pf_lock);
		struct entries rem = {0};
		uint64_t gen = cache_listings_gen(w->c);
		int64_t at = now_ns();
		int rc = index_path(cache_index(w->c), dir, path, sizeof(path));
		if (rc == 0)
			rc = smb_list(w->s, path, add_remote, &rem);
		pthread_mutex_lock(&w->pf_lock);
		w->pf[k].rc = rc;
		w->pf[k].rem = rem;
		w->pf[k].at = at;
		w->pf[k].gen = gen;
		w->pf[k].state = PF_DONE;
		pthread_cond_broadcast(&w->pf_cond);
	}
	pthread_mutex_unlock(&w->pf_lock);
	return NULL;
}

/*
 * Takes the listing of queue entry i for the walk: the prefetched one
 * (waiting for it if it is being taken), with when it was asked for and
 * the listings generation then; or none (*have = 0: list it now).
 */
static int take_listing(struct walk *w, size_t i, struct entries *out, int *have, int64_t *at,
			uint64_t *gen)
{
	int rc = 0;

	*have = 0;
	if (!w->pf_on)
		return 0;
	pthread_mutex_lock(&w->pf_lock);
	w->cur = i;
	pthread_cond_broadcast(&w->pf_cond);
	while (w->pf[i].state == PF_RUNNING)
		pthread_cond_wait(&w->pf_cond, &w->pf_lock);
	if (w->pf[i].state == PF_DONE) {
		*out = w->pf[i].rem;
		rc = w->pf[i].rc;
		*at = w->pf[i].at;
		*gen = w->pf[i].gen;
		*have = 1;
	}
	w->pf[i].state = PF_TAKEN;
	w->pf[i].rem = (struct entries){0};
	pthread_mutex_unlock(&w->pf_lock);
	return rc;
}

static void prefetch_start(struct walk *w)
{
	sigset_t all, old;

	pthread_mutex_init(&w->pf_lock, NULL);
	pthread_cond_init(&w->pf_cond, NULL);
	w->pf_on = 1;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&w->pf_thread, NULL, prefetch_main, w) != 0) {
		w->pf_on = 0; /* the walk lists each directory itself */
		pthread_cond_destroy(&w->pf_cond);
		pthread_mutex_destroy(&w->pf_lock);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void prefetch_stop(struct walk *w)
{
	if (!w->pf_on)
		return;
	pthread_mutex_lock(&w->pf_lock);
	w->pf_stop = 1;
	pthread_cond_broadcast(&w->pf_cond);
	pthread_mutex_unlock(&w->pf_lock);
	pthread_join(w->pf_thread, NULL);
	for (size_t i = 0; i < w->qn; i++)
		entries_free(&w->pf[i].rem);
	pthread_cond_destroy(&w->pf_cond);
	pthread_mutex_destroy(&w->pf_lock);
	w->pf_on = 0;
}

static int is_lnk(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".lnk");
}

/*
 * Finds the item at rel ("/a/b") below the share root, asking the server for
 * names the index does not know yet.  *id is 0 when there is no such item.
 */
static int find_path(struct walk *w, const char *rel, uint64_t *id)
{
	char comp[256];
	int rc;

	*id = w->job->share_root;
	for (;;) {
		struct node *dir;
		size_t n;

		rc = index_walk(cache_index(w->c), *id, rel, id, &rel);
		if (rc < 0 || !*rel)
			return rc;
		/* The index stops here: ask the server for the next name. */
		n = strcspn(rel, "/");
		memcpy(comp, rel, n); /* shorter than comp: index_walk checked it */
		comp[n] = '\0';
		rel += n;
		rc = cache_node_get(w->c, *id, &dir);
		if (rc < 0)
			return rc;
		rc = sync_refresh_name(w->c, w->s, dir, comp, id);
		cache_node_put(w->c, dir, 1);
		if (rc < 0 || !*id)
			return rc;
	}
}

/*
 * PINLINKTARGETS: a pinned shell link (.lnk, MS-SHLLINK) pins its target
 * when the target is a file on this share; never a directory.  A link that
 * does not parse, or points elsewhere, pins nothing.
 */
static int pin_link_target(struct walk *w, uint64_t lnk, uint32_t kind, int64_t *bytes)
{
	struct lnk_target *t = NULL;
	char rel[4096], err[128];
	struct index_item it;
	struct node *n;
	uint64_t target;
	ssize_t len;
	char *buf;
	int rc, fd;

	rc = cache_node_get(w->c, lnk, &n);
	if (rc < 0)
		return rc;
	buf = malloc(1 << 20);
	t = malloc(sizeof(*t));
	pthread_mutex_lock(&n->lock);
	fd = cache_node_fd(w->c, n);
	len = buf && t && fd >= 0 && n->it.size <= (1 << 20) ?
		      pread_full(fd, buf, (size_t)n->it.size, 0) :
		      -1;
	cache_node_fd_idle(w->c, n);
	pthread_mutex_unlock(&n->lock);
	cache_node_put(w->c, n, 1);
	rc = 0;
	if (len < 0 || lnk_parse(buf, (size_t)len, t, err, sizeof(err)) < 0 ||
	    !lnk_target_on_share(t, w->job->share_unc, rel, sizeof(rel)))
		goto out; /* not a link to a file here: nothing to pin */
	rc = find_path(w, rel, &target);
	if (rc < 0 || !target || index_get(cache_index(w->c), target, &it) < 0)
		goto out;
	int is_file = it.type == ITEM_FILE;
	index_item_release(&it);
	if (!is_file)
		goto out; /* never a directory target */
	rc = cache_node_get(w->c, target, &n);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&n->lock);
	n->it.pins |= kind;
	rc = cache_node_save(w->c, n);
	pthread_mutex_unlock(&n->lock);
	cache_node_put(w->c, n, 1);
	if (rc == 0)
		rc = fill(w->c, w->s, target, bytes);
out:
	free(buf);
	free(t);
	return rc;
}

/*
 * The name the local copy takes when both are kept: "stem (HOST vN).ext",
 * as Sync Center does, with the first N free both here and on the server.
 */
static int both_name(struct walk *w, uint64_t dir, const char *dpath, const char *name, char *out,
		     size_t len)
{
	char host[64], path[8192];
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	struct index_item it;
	struct smb_stat st;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "local");
	host[sizeof(host) - 1] = '\0';
	for (int v = 1; v < 1000; v++) {
		snprintf(out, len, "%.*s (%s v%d)%s", (int)stem, name, host, v,
			 dot && dot != name ? dot : "");
		if (index_lookup(cache_index(w->c), dir, out, &it) == 0) {
			index_item_release(&it);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dpath, out);
		int rc = smb_stat(w->s, path, &st);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
	}
	return -EEXIST;
}

/*
 * KEEPALLCHANGES: the local copy moves to a new name and goes to the server
 * as a new file; the server's copy comes in under the real name.
 */
static int keep_both(struct walk *w, uint64_t dir, const struct entry *e, const char *path,
		     const char *asked, int64_t *bytes)
{
	char dpath[4096], newname[1024], there[8192];
	struct index_item it;
	struct smb_stat st;
	struct node *n;
	uint64_t nid;
	int rc;

	snprintf(dpath, sizeof(dpath), "%.*s", (int)(strrchr(path, '/') - path), path);
	if (asked && *asked) {
		/* The handler's name: a free one, valid on the server. */
		if (!sync_name_ok(asked) || strlen(asked) >= sizeof(newname))
			return -EINVAL;
		if (index_lookup(cache_index(w->c), dir, asked, &it) == 0) {
			index_item_release(&it);
			return -EEXIST;
		}
		snprintf(there, sizeof(there), "%s/%s", dpath, asked);
		rc = smb_stat(w->s, there, &st);
		if (rc == 0)
			return -EEXIST;
		if (rc != -ENOENT)
			return rc;
		snprintf(newname, sizeof(newname), "%s", asked);
	} else {
		rc = both_name(w, dir, dpath, e->name, newname, sizeof(newname));
		if (rc < 0)
			return rc;
	}
	rc = index_move(cache_index(w->c), e->id, dir, newname);
	if (rc < 0)
		return rc;
	cache_notify_entry(w->c, dir, e->name);
	rc = cache_node_get(w->c, e->id, &n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	n->it.base.valid = 0; /* a new file on the server */
	n->it.flags |= ITEM_F_CREATED;
	n->it.gen++;
	cache_node_save(w->c, n);
	pthread_mutex_unlock(&n->lock);
	rc = sync_push_file(w->c, w->s, n);
	cache_node_put(w->c, n, 1);
	if (rc < 0)
		return rc;
	if (e->has_remote) {
		rc = sync_insert_remote(w->c, w->job->share, dir, e->name, &e->st, &nid);
		if (rc == 0 && e->st.type == SMB_FILE)
			rc = fill(w->c, w->s, nid, bytes);
	}
	return rc;
}

/* The conflict rule of the flags as a plan_keep, or 0. */
static int cr_rule(uint32_t flags)
{
	switch (flags & OFSYNC_CR_MASK) {
	case OFSYNC_CR_KEEPLOCAL:
		return PKEEP_LOCAL;
	case OFSYNC_CR_KEEPREMOTE:
		return PKEEP_REMOTE;
	case OFSYNC_CR_KEEPLATEST:
		return PKEEP_LATEST;
	}
	return 0;
}

/*
 * How one conflict is settled: the rule of `ofsync resolve`, else the
 * conflict handler, else the CR flag.  Returns OFSYNC_RESOLVE_KEEPLOCAL,
 * _KEEPREMOTE, _KEEPALLCHANGES (name: the handler's name for the local
 * copy, or empty), _LOG, _SKIP or _ABORT; KEEPLATEST is decided here.  A
 * clash of a file with a directory is left for the user (LOG) whatever the
 * rule, as are both copies of a directory.
 */
static int settle(struct walk *w, const struct sync_conflict *q, char *name, size_t len)
{
	static const int from_keep[] = {
		[ENGINE_KEEP_LOCAL] = OFSYNC_RESOLVE_KEEPLOCAL,
		[ENGINE_KEEP_REMOTE] = OFSYNC_RESOLVE_KEEPREMOTE,
		[ENGINE_KEEP_LATEST] = OFSYNC_RESOLVE_KEEPLATEST,
		[ENGINE_KEEP_BOTH] = OFSYNC_RESOLVE_KEEPALLCHANGES,
	};
	int ans, dirs = q->l->kind == PSIDE_DIR || q->r->kind == PSIDE_DIR;

	name[0] = '\0';
	if (w->job->keep > 0 && w->job->keep <= ENGINE_KEEP_BOTH) {
		ans = from_keep[w->job->keep];
	} else if (w->job->conflict) {
		ans = w->job->conflict(w->job->arg, q, name, len);
		name[len - 1] = '\0';
	} else {
		switch (w->job->flags & OFSYNC_CR_MASK) {
		case OFSYNC_CR_KEEPLOCAL:
			ans = OFSYNC_RESOLVE_KEEPLOCAL;
			break;
		case OFSYNC_CR_KEEPREMOTE:
			ans = OFSYNC_RESOLVE_KEEPREMOTE;
			break;
		case OFSYNC_CR_KEEPLATEST:
			ans = OFSYNC_RESOLVE_KEEPLATEST;
			break;
		default:
			ans = OFSYNC_RESOLVE_LOG;
		}
	}
	switch (ans) {
	case OFSYNC_RESOLVE_KEEPLATEST:
		if (dirs)
			return OFSYNC_RESOLVE_LOG;
		return plan_resolve(PKEEP_LATEST, q->l, q->r) == PKEEP_LOCAL ?
			       OFSYNC_RESOLVE_KEEPLOCAL :
			       OFSYNC_RESOLVE_KEEPREMOTE;
	case OFSYNC_RESOLVE_KEEPLOCAL:
	case OFSYNC_RESOLVE_KEEPREMOTE:
		return dirs ? OFSYNC_RESOLVE_LOG : ans;
	case OFSYNC_RESOLVE_KEEPALLCHANGES:
		/* A local delete has no copy to keep: the server's copy stays. */
		if (q->l->kind == PSIDE_NONE && q->r->kind == PSIDE_FILE)
			return OFSYNC_RESOLVE_KEEPREMOTE;
		return q->l->kind == PSIDE_FILE && q->r->kind != PSIDE_DIR ? ans :
									     OFSYNC_RESOLVE_LOG;
	case OFSYNC_RESOLVE_SKIP:
	case OFSYNC_RESOLVE_ABORT:
		return ans;
	default:
		return OFSYNC_RESOLVE_LOG; /* LOG, NONE, or an answer we do not know */
	}
}

/* The journal's resolver (struct sync_resolver) over one walk. */
static int journal_settle(void *arg, const struct sync_conflict *q)
{
	struct walk *w = arg;
	char name[256];
	int ans = settle(w, q, name, sizeof(name));

	if (ans == OFSYNC_RESOLVE_KEEPALLCHANGES)
		ans = OFSYNC_RESOLVE_KEEPREMOTE;
	if (ans == OFSYNC_RESOLVE_KEEPLOCAL || ans == OFSYNC_RESOLVE_KEEPREMOTE)
		w->res->resolved++;
	return ans;
}

static void journal_report(void *arg, const char *path, int state, int op, int result)
{
	struct walk *w = arg;
	struct sync_item_report r = {
		.path = path, .state = state, .op = op, .applied = 1, .result = result};

	w->res->items++; /* a conflict is counted by the replay */
	if (result < 0 && result != -ESTALE)
		w->res->failed++;
	if (w->job->item)
		w->job->item(w->job->arg, &r);
}

/*
 * Carries out the decision d for entry e (in directory dir, at path).
 * Fills r.  Returns a negative errno only for errors that must stop the
 * sync (the share went offline); item errors go into r->result.
 */
static int apply(struct walk *w, uint64_t dir, const struct entry *e, const char *path,
		 const struct plan_decision *d, const struct plan_local *l,
		 const struct plan_base *b, const struct plan_remote *rm, uint32_t pins,
		 struct sync_item_report *r)
{
	uint32_t f = w->job->flags;
	int in = !!(f & OFSYNC_SYNCIN), out = !!(f & OFSYNC_SYNCOUT);
	int fillsparse = in || (f & OFSYNC_FILLSPARSE);
	struct cache *c = w->c;
	struct smb *s = w->s;
	uint64_t id = e->id;
	int rc = 0, ans;
	char name[256];

	r->applied = 0;
	switch (d->op) {
	case POP_NONE:
	case POP_FORGET:
		return 0;
	case POP_FILL:
		if (!fillsparse || (w->job->pinned_only && !pins))
			return 0;
		break;
	case POP_PULL:
	case POP_ADD_LOCAL:
	case POP_DELETE_LOCAL:
		if (!in)
			return 0;
		break;
	case POP_PUSH:
	case POP_CREATE_REMOTE_DIR:
	case POP_DELETE_REMOTE:
		if (!out)
			return 0;
		break;
	case POP_CONFLICT:
		if (!in && !out)
			return 0;
		break;
	}
	if ((f & OFSYNC_BACKGROUND) && id && d->op != POP_ADD_LOCAL && l->kind == PSIDE_FILE) {
		/* Background: a file open through the mount is backed off for now. */
		struct node *n;
		int open = 0;
		if (cache_node_get(c, id, &n) == 0) {
			pthread_mutex_lock(&n->lock);
			open = n->opens > 0;
			pthread_mutex_unlock(&n->lock);
			cache_node_put(c, n, 1);
		}
		if (open) {
			r->skipped = "open";
			return 0;
		}
	}
	r->applied = 1;
	if (w->job->dry_run) {
		/* A conflict that no rule would settle is reported as one. */
		if (d->op == POP_CONFLICT && !w->job->keep && (w->job->conflict || !cr_rule(f)))
			r->result = -ESTALE;
		return 0;
	}

	switch (d->op) {
	case POP_FILL:
		rc = fill(c, s, id, &r->bytes);
		break;
	case POP_PULL:
		if (rm->kind == l->kind) {
			rc = pull(c, s, id, &e->st, 0, &r->bytes);
		} else {
			/* The kind changed on the server: replace the clean local item. */
			uint64_t nid;
			rc = delete_local(c, dir, id, e->name);
			if (rc == 0)
				rc = sync_insert_remote(c, w->job->share, dir, e->name, &e->st,
							&nid);
			if (rc == 0 && e->st.type == SMB_FILE)
				rc = fill(c, s, nid, &r->bytes);
		}
		break;
	case POP_ADD_LOCAL: {
		uint64_t nid;
		rc = sync_insert_remote(c, w->job->share, dir, e->name, &e->st, &nid);
		int pinned = 0;
		if (rc == 0 && e->st.type == SMB_FILE && (f & OFSYNC_PINNEWFILES))
			rc = pin_new(c, dir, nid, f, &pinned);
		if (rc == 0 && e->st.type == SMB_FILE)
			rc = fill(c, s, nid, &r->bytes);
		if (rc == 0 && pinned && (f & OFSYNC_PINLINKTARGETS) && is_lnk(e->name))
			rc = pin_link_target(w, nid, pin_kind(f), &r->bytes);
		break;
	}
	case POP_DELETE_LOCAL:
		rc = delete_local(c, dir, id, e->name);
		break;
	case POP_PUSH:
		if (l->kind == PSIDE_FILE && (f & OFSYNC_NONEWFILESOUT) &&
		    (l->created || !e->b.valid)) {
			r->skipped = "new file"; /* NONEWFILESOUT: it stays in the cache */
			r->applied = 0;
			return 0;
		}
		if (l->kind == PSIDE_FILE) {
			struct node *n;
			rc = cache_node_get(c, id, &n);
			if (rc == 0) {
				rc = sync_push_file(c, s, n);
				cache_node_put(c, n, 1);
			}
		}
		break;
	case POP_CREATE_REMOTE_DIR:
		rc = smb_mkdir(s, path, 0755);
		if (rc == -EEXIST)
			rc = 0;
		break;
	case POP_DELETE_REMOTE:
		break; /* local deletes travel in the journal, replayed above */
	case POP_CONFLICT: {
		struct sync_conflict q = {path, d->state, l, b, rm, e->size};
		ans = settle(w, &q, name, sizeof(name));
		if (ans == OFSYNC_RESOLVE_ABORT) {
			r->applied = 0;
			r->skipped = "aborted";
			return -ECANCELED;
		}
		if (ans == OFSYNC_RESOLVE_SKIP) {
			r->applied = 0;
			r->skipped = "conflict skipped";
			return 0;
		}
		if (ans == OFSYNC_RESOLVE_KEEPALLCHANGES && !(in && out))
			ans = OFSYNC_RESOLVE_LOG; /* it moves data both ways */
		if (ans == OFSYNC_RESOLVE_KEEPALLCHANGES) {
			rc = keep_both(w, dir, e, path, name, &r->bytes);
		} else if (ans == OFSYNC_RESOLVE_KEEPLOCAL && out) {
			rc = push_over(c, s, id, path);
		} else if (ans == OFSYNC_RESOLVE_KEEPREMOTE && in) {
			if (rm->kind == PSIDE_NONE) {
				/* deleted there: the local copy goes, changes and all */
				rc = cache_delete_tree(c, id);
				if (rc == 0)
					cache_notify_entry(c, dir, e->name);
			} else {
				rc = pull(c, s, id, &e->st, 1, &r->bytes);
			}
		} else {
			sync_record_conflict(c, w->job->share, id, path, plan_state_name(d->state),
					     "changed on both sides");
			r->result = -ESTALE;
			return 0;
		}
		if (rc == 0) {
			sync_clear_conflict(c, id);
			w->res->resolved++;
		}
		break;
	}
	}
	r->result = rc;
	return smb_is_conn_error(rc) ? rc : 0;
}

static int defer_delete(struct walk *w, uint64_t dir, const char *dpath, const struct entry *e)
{
	struct vanished *v;

	if (w->nvan == w->vancap) {
		size_t cap = w->vancap ? w->vancap * 2 : 16;
		v = realloc(w->van, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->van = v;
		w->vancap = cap;
	}
	v = &w->van[w->nvan];
	v->dir = dir;
	v->e = *e;
	v->e.name = strdup(e->name);
	v->dpath = strdup(dpath);
	if (!v->e.name || !v->dpath) {
		free(v->e.name);
		free(v->dpath);
		return -ENOMEM;
	}
	w->nvan++;
	return 0;
}

/*
 * A name new on the server whose file id is that of an item the cache has
 * elsewhere, which the server no longer has there: renamed (or moved) on
 * the server.  The item moves here with its cached data and its local
 * changes, instead of a delete there and a download here.  Returns 1 when
 * it was such a rename (reported), 0 when not, or a connection error.
 */
static int server_renamed(struct walk *w, uint64_t dir, const char *path, const struct entry *e)
{
	struct sync_item_report r = {.path = path, .op = POP_RENAME_LOCAL, .applied = 1};
	char oldpath[4096];
	struct index_item it;
	struct smb_stat st;
	int rc;

	rc = index_by_fileid(cache_index(w->c), w->job->share, e->st.file_id, &it);
	if (rc < 0)
		return 0;
	if ((it.type == ITEM_DIR) != (e->st.type == SMB_DIR) || it.id == w->job->share_root ||
	    index_path(cache_index(w->c), it.id, oldpath, sizeof(oldpath)) < 0) {
		index_item_release(&it);
		return 0;
	}
	/* Still there under its old name (a hard link): not a rename. */
	rc = smb_stat(w->s, oldpath, &st);
	if (rc == 0 && st.file_id == e->st.file_id) {
		index_item_release(&it);
		return 0;
	}
	if (rc < 0 && rc != -ENOENT) {
		index_item_release(&it);
		return smb_is_conn_error(rc) ? rc : 0;
	}
	r.state = it.type == ITEM_DIR ? PSTATE_DirRenamedOnServer : PSTATE_FileRenamedOnServer;
	if (w->job->item_begin)
		w->job->item_begin(w->job->arg, path);
	if (!w->job->dry_run) {
		rc = index_move(cache_index(w->c), it.id, dir, e->name);
		if (rc == 0) {
			cache_notify_entry(w->c, it.parent, it.name);
			cache_notify_entry(w->c, dir, e->name);
			/* The server's copy under the new name is the base now (a pull
			   when its content changed too; local changes are kept). */
			rc = pull(w->c, w->s, it.id, &e->st, 0, &r.bytes);
		}
		if (rc == 0 && it.type == ITEM_FILE && (w->job->flags & OFSYNC_SYNCOUT)) {
			/* Changed here too: the change goes out under the new name. */
			struct node *n;
			int dirty = 0;
			rc = cache_node_get(w->c, it.id, &n);
			if (rc == 0) {
				pthread_mutex_lock(&n->lock);
				dirty = item_is_dirty(&n->it);
				pthread_mutex_unlock(&n->lock);
				if (dirty)
					rc = sync_push_file(w->c, w->s, n);
				cache_node_put(w->c, n, 1);
			}
			if (rc == 0)
				sync_clear_conflict(w->c, it.id);
		}
		r.result = rc;
	}
	w->res->items++;
	w->res->bytes += r.bytes;
	if (r.result == 0)
		w->res->applied++;
	else
		w->res->failed++;
	if (w->job->item)
		w->job->item(w->job->arg, &r);
	index_item_release(&it);
	if (smb_is_conn_error(rc))
		return rc;
	if (e->st.type == SMB_DIR && !w->job->dry_run)
		enqueue(w, it.id); /* its children are walked under the new name */
	return 1;
}

static int do_entry(struct walk *w, uint64_t dir, const char *dpath, const struct entry *e,
		    int list_remote);

/*
 * The deferred deletes, once the walk ended well (rc 0): each item that did
 * not move meanwhile (a rename found at its new name) gets its delete now.
 * Returns rc, or the first error of a delete that must stop the sync.
 */
static int finish_vanished(struct walk *w, int rc)
{
	for (size_t i = 0; i < w->nvan; i++) {
		struct vanished *v = &w->van[i];
		struct index_item it;
		if (rc == 0 && index_get(cache_index(w->c), v->e.id, &it) == 0) {
			int moved = it.parent != v->dir || strcmp(it.name, v->e.name);
			index_item_release(&it);
			if (!moved && !(w->job->cancel && *w->job->cancel))
				rc = do_entry(w, v->dir, v->dpath, &v->e, 2);
		}
		free(v->e.name);
		free(v->dpath);
	}
	free(w->van);
	w->van = NULL;
	w->nvan = w->vancap = 0;
	return rc;
}

/*
 * Classifies and applies one entry of directory dir.  list_remote: 0 when
 * the server was not listed, 1 when it was, 2 for a deferred delete
 * (finish_vanished).
 */
static int do_entry(struct walk *w, uint64_t dir, const char *dpath, const struct entry *e,
		    int list_remote)
{
	struct sync_item_report r = {0};
	struct plan_local l = {0};
	struct plan_base b = {0};
	struct plan_remote rm;
	struct plan_decision d;
	char path[4096];
	uint32_t pins = e->pins;
	int rc, is_dir = e->is_dir;

	snprintf(path, sizeof(path), "%s/%s", dpath, e->name);
	if (e->id) {
		l = e->l;
		b = e->b;
	}
	if (list_remote == 1 && (w->job->flags & OFSYNC_SYNCIN) && !e->has_remote && e->id &&
	    b.valid && b.file_id && !w->job->dry_run && !e->suspended)
		return defer_delete(w, dir, dpath, e); /* unless it turns up elsewhere */
	if (list_remote == 1 && (w->job->flags & OFSYNC_SYNCIN) && !e->id && e->has_remote &&
	    e->st.file_id) {
		rc = server_renamed(w, dir, path, e);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (list_remote) {
		to_remote(e, &rm);
	} else {
		/* Not listed (FILLSPARSE alone): take the base as the server's state. */
		rm.kind = b.valid ? b.kind : PSIDE_NONE;
		rm.size = b.size;
		rm.mtime = b.mtime;
		rm.file_id = b.file_id;
	}
	plan_decide(&l, &b, &rm, &d);
	r.path = path;
	r.state = d.state;
	r.op = d.op;
	if (e->suspended && (w->job->flags & OFSYNC_SKIPSUSPENDEDDIRS)) {
		/* A suspended subtree: neither it nor anything below is touched. */
		r.skipped = "suspended";
		w->res->items++;
		w->res->skipped++;
		if (w->job->item)
			w->job->item(w->job->arg, &r);
		return 0;
	}
	if (w->job->item_begin)
		w->job->item_begin(w->job->arg, path);
	for (;;) {
		int resp = OFSYNC_OP_CONTINUE;
		rc = apply(w, dir, e, path, &d, &l, &b, &rm, pins, &r);
		w->res->bytes += r.bytes;
		if (w->job->item)
			resp = w->job->item(w->job->arg, &r);
		if (resp == OFSYNC_OP_ABORT && rc == 0)
			rc = -ECANCELED;
		if (resp != OFSYNC_OP_RETRY || rc < 0 || r.result == 0 || r.result == -ESTALE ||
		    r.skipped)
			break;
		/* A failed item, and the caller asked for another try. */
		r = (struct sync_item_report){.path = path, .state = d.state, .op = d.op};
	}
	w->res->items++;
	if (r.skipped)
		w->res->skipped++;
	else if (r.applied && r.result == 0 && d.op != POP_CONFLICT)
		w->res->applied++;
	else if (r.result == -ESTALE)
		w->res->conflicts++;
	else if (r.result < 0)
		w->res->failed++;
	if (rc < 0)
		return rc;

	/* Walk on into directories that exist here (or just arrived). */
	if (is_dir || (!e->id && e->has_remote && e->st.type == SMB_DIR)) {
		struct index_item now;
		if (index_lookup(cache_index(w->c), dir, e->name, &now) == 0) {
			if (now.type == ITEM_DIR)
				rc = enqueue(w, now.id);
			index_item_release(&now);
		}
	}
	return rc;
}

/* index_list callback of listing_complete: counts children the server listed. */
struct complete_ctx {
	const struct entries *es;
	size_t matched;
	int extra; /* a child the server did not list */
};

static int complete_child(void *arg, const struct index_item *it)
{
	struct complete_ctx *cc = arg;
	struct entry key = {.name = it->name};
	const struct entry *e =
		cc->es->n ? bsearch(&key, cc->es->v, cc->es->n, sizeof(key), by_name) : NULL;

	if (e && e->has_remote)
		cc->matched++;
	else
		cc->extra = 1;
	return 0;
}

/*
 * True when the index's children of dir are now exactly the names of the
 * server's listing es (the entries the walk merged and carried out): what
 * the mount would have after listing dir itself at that time.
 */
static int listing_complete(struct cache *c, uint64_t dir, const struct entries *es)
{
	struct complete_ctx cc = {es, 0, 0};
	size_t remote = 0;

	for (size_t i = 0; i < es->n; i++)
		remote += es->v[i].has_remote != 0;
	if (index_list(cache_index(c), dir, complete_child, &cc) < 0)
		return 0;
	return !cc.extra && cc.matched == remote;
}

static int walk_dir(struct walk *w, size_t qi, int list_remote)
{
	struct entries es = {0}, listed = {0};
	uint64_t dir = w->queue[qi];
	uint64_t gen = cache_listings_gen(w->c);
	int64_t at = now_ns();
	char dpath[4096];
	int rc, have = 0;

	rc = list_remote ? take_listing(w, qi, &listed, &have, &at, &gen) : 0;
	if (rc == 0)
		rc = index_path(cache_index(w->c), dir, dpath, sizeof(dpath));
	if (rc == 0)
		rc = dir_entries(w->c, w->s, dir, dpath, list_remote, have ? &listed : NULL, &es);
	entries_free(&listed);
	for (size_t i = 0; rc == 0 && i < es.n; i++) {
		if (w->job->cancel && *w->job->cancel) {
			rc = -ECANCELED;
			break;
		}
		rc = do_entry(w, dir, dpath, &es.v[i], list_remote);
	}
	if (rc == 0 && list_remote && !w->job->dry_run && (w->job->flags & OFSYNC_SYNCIN)) {
		/*
		 * When the index now holds exactly the server's names, the walk
		 * did what the mount's own listing would have done at `at`: the
		 * mount may trust it as of then, unless a listing was found stale
		 * since.  Otherwise the mount lists the directory afresh.
		 */
		int complete = listing_complete(w->c, dir, &es);
		struct node *n;
		if (cache_node_get(w->c, dir, &n) == 0) {
			pthread_mutex_lock(&n->lock);
			if (complete && cache_listings_gen(w->c) == gen) {
				if (n->it.listed < at)
					n->it.listed = at;
			} else {
				n->it.listed = 0;
			}
			cache_node_save(w->c, n);
			pthread_mutex_unlock(&n->lock);
			cache_node_put(w->c, n, 1);
		}
	}
	entries_free(&es);
	return rc;
}

/* A sync of one file: its directory entry alone. */
static int walk_one(struct walk *w, const struct index_item *it, int list_remote)
{
	struct entry e = {.name = it->name};
	char path[4096], dpath[4096];
	int rc;

	take_row(&e, it);
	rc = index_path(cache_index(w->c), it->id, path, sizeof(path));
	if (rc < 0)
		return rc;
	snprintf(dpath, sizeof(dpath), "%.*s", (int)(strrchr(path, '/') - path), path);
	if (list_remote) {
		rc = smb_stat(w->s, path, &e.st);
		if (rc == 0)
			e.has_remote = 1;
		else if (rc != -ENOENT)
			return rc;
	}
	return do_entry(w, it->parent, dpath, &e, list_remote);
}

int sync_run(struct cache *c, struct smb *s, const struct sync_job *job, struct sync_result *res)
{
	struct walk w = {.c = c, .s = s, .job = job, .res = res};
	struct saved_prio prio = {0, -1};
	int list_remote = !!(job->flags & (OFSYNC_SYNCIN | OFSYNC_SYNCOUT));
	struct index_item root;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&engine_lock);
	if (job->cancel && *job->cancel) {
		rc = -ECANCELED; /* cancelled while it waited: nothing is done */
		goto out;
	}
	if (job->flags & OFSYNC_LOWPRIORITY)
		lower_priority(&prio);
	if ((job->flags & OFSYNC_SYNCOUT) && !job->dry_run) {
		unsigned done, conflicts;
		struct sync_resolver rs = {journal_settle, journal_report, &w};
		rc = sync_replay_journal(
			c, s, job->share, job->share_root, !(job->flags & OFSYNC_SKIPSUSPENDEDDIRS),
			!!(job->flags & OFSYNC_NONEWFILESOUT), &rs, &done, &conflicts);
		res->applied += done;
		res->conflicts += conflicts;
		if (rc < 0)
			goto out;
	}
	if ((job->flags & OFSYNC_SKIPSUSPENDEDDIRS) && sync_is_suspended(c, job->root))
		goto out; /* the whole job lies in a suspended subtree */
	rc = index_get(cache_index(c), job->root, &root);
	if (rc < 0)
		goto out;
	if (root.type == ITEM_FILE) {
		rc = walk_one(&w, &root, list_remote);
	} else {
		rc = enqueue(&w, root.id);
		if (list_remote)
			prefetch_start(&w);
		for (size_t i = 0; rc == 0; i++) {
			size_t qn;
			if (w.pf_on)
				pthread_mutex_lock(&w.pf_lock);
			qn = w.qn;
			if (w.pf_on)
				pthread_mutex_unlock(&w.pf_lock);
			if (i >= qn)
				break;
			rc = walk_dir(&w, i, list_remote);
		}
		prefetch_stop(&w);
	}
	rc = finish_vanished(&w, rc);
	index_item_release(&root);
out:
	if (job->flags & OFSYNC_LOWPRIORITY)
		restore_priority(&prio);
	pthread_mutex_unlock(&engine_lock);
	free(w.queue);
	free(w.pf);
	if (rc == -ECANCELED)
		res->cancelled = 1;
	return rc;
}

int sync_flush(struct cache *c, struct smb *s, uint64_t share, uint64_t root, int include_open,
	       struct sync_out_stats *out)
{
	int rc;

	pthread_mutex_lock(&engine_lock);
	rc = sync_out_dirty(c, s, share, root, include_open, out);
	pthread_mutex_unlock(&engine_lock);
	return rc;
}

/*
 * cache.c - the cache directory and the in-memory node table; see cache.h.
 *
 * Nodes in memory:
 *   A node lives in the table while it has references, and after its last
 *   one it is idle: still in the table, on an LRU list, its data file
 *   closed.  Beyond CACHE_IDLE_NODES idle nodes the oldest is freed.  So
 *   memory follows what is in use, not what the kernel has seen: listing a
 *   million files leaves a few thousand nodes, not a million.
 *
 *   Freeing an idle node loses only what lives in memory alone, and each
 *   such field is a hint that is rebuilt on load:
 *     checked      0: the next getattr past the timeout asks the server;
 *     atime_saved  the index's atime, which is what was saved;
 *     ra_next/run  a sequential reader holds a reference, so it keeps them;
 *     inflight     a fetch holds a reference;
 *     unlinked     an unlinked node is freed at its last reference, and a
 *                  reload fails (the row is gone);
 *     content_ver / kernel_ver  open keeps the kernel's pages when they
 *                  are equal.  A freed node whose content changed since the
 *                  kernel last cached it (they differ) leaves its id in the
 *                  stale table, and a reload of that id starts with them
 *                  different; otherwise both start at 0, equal, which is
 *                  right: the kernel's pages of it are current.
 *   A node being loaded sits in the table marked loading, so that there is
 *   never more than one node of an id, and a load never returns a row older
 *   than a node freed meanwhile saved.
 */
#include "cache/cache.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/store.h"
#include "util/idmap.h"
#include "util/log.h"
#include "util/util.h"

#define NODE_BUCKETS 4096

struct cache {
	char *dir;	       /* the cache directory; constant */
	struct index *ix;      /* the index; has its own lock */
	pthread_mutex_t lock;  /* protects buckets, nodes' private fields, lru_*, n*, stale */
	pthread_cond_t loaded; /* broadcast when a node's loading ends */
	struct node *buckets[NODE_BUCKETS];	   /* every node in memory, by id */
	struct node *lru_head, *lru_tail;	   /* idle nodes, least recently used first */
	size_t nnodes;				   /* nodes in the table */
	size_t nidle;				   /* of which idle */
	struct idmap stale;			   /* freed ids whose kernel pages are stale */
	pthread_mutex_t hook_lock;		   /* protects hooks, nhooks */
	struct cache_hooks hooks[CACHE_MAX_HOOKS]; /* one set per mount */
	size_t nhooks;
	cache_conflict_fn conflict_fn; /* set once before threads start */
	void *conflict_arg;
	uint64_t listings_gen; /* bumped when a listing is found stale; __atomic */
};

int cache_open(const char *dir, struct cache **out)
{
	char path[PATH_MAX];
	struct cache *c;
	int rc;

	rc = mkdir_p(dir, 0700);
	if (rc < 0) {
		log_err("cannot create cache directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (chmod(dir, 0700) < 0)
		log_warn("cannot set mode 0700 on %s: %s", dir, strerror(errno));
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->loaded, NULL);
	pthread_mutex_init(&c->hook_lock, NULL);
	idmap_init(&c->stale);
	c->dir = strdup(dir);
	if (!c->dir) {
		rc = -ENOMEM;
		goto err_free;
	}
	snprintf(path, sizeof(path), "%s/data", dir);
	rc = mkdir_p(path, 0700);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/tmp", dir);
		rc = mkdir_p(path, 0700);
	}
	if (rc < 0) {
		log_err("cannot create %s: %s", path, strerror(-rc));
		goto err_free;
	}
	snprintf(path, sizeof(path), "%s/index.db", dir);
	rc = index_open(path, &c->ix);
	if (rc < 0) {
		log_err("cannot open the index %s: %s", path, strerror(-rc));
		goto err_free;
	}
	*out = c;
	return 0;

err_free:
	free(c->dir);
	pthread_mutex_destroy(&c->hook_lock);
	pthread_cond_destroy(&c->loaded);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}

static void node_free(struct node *n)
{
	if (n->fd >= 0)
		close(n->fd);
	index_item_release(&n->it);
	rangeset_release(&n->inflight);
	pthread_cond_destroy(&n->fetched);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	for (size_t b = 0; b < NODE_BUCKETS; b++) {
		struct node *n = c->buckets[b], *next;
		for (; n; n = next) {
			next = n->hnext;
			node_free(n);
		}
	}
	index_close(c->ix);
	idmap_release(&c->stale);
	pthread_mutex_destroy(&c->hook_lock);
	pthread_cond_destroy(&c->loaded);
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	free(c);
}

struct index *cache_index(struct cache *c)
{
	return c->ix;
}

static struct node **bucket(struct cache *c, uint64_t id)
{
	return &c->buckets[(id * 0x9e3779b97f4a7c15ull) >> 52];
}

static struct node *find_locked(struct cache *c, uint64_t id)
{
	for (struct node *n = *bucket(c, id); n; n = n->hnext)
		if (n->id == id)
			return n;
	return NULL;
}

/* Takes n out of its bucket. */
static void unhash_locked(struct cache *c, struct node *n)
{
	for (struct node **pp = bucket(c, n->id); *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	c->nnodes--;
}

static void lru_unlink_locked(struct cache *c, struct node *n)
{
	if (n->lru_prev)
		n->lru_prev->lru_next = n->lru_next;
	else
		c->lru_head = n->lru_next;
	if (n->lru_next)
		n->lru_next->lru_prev = n->lru_prev;
	else
		c->lru_tail = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
	c->nidle--;
}

static void lru_append_locked(struct cache *c, struct node *n)
{
	n->lru_next = NULL;
	n->lru_prev = c->lru_tail;
	if (c->lru_tail)
		c->lru_tail->lru_next = n;
	else
		c->lru_head = n;
	c->lru_tail = n;
	c->nidle++;
}

/*
 * With c->lock held: the node of id once it is loaded, or NULL.  Waits
 * (dropping the lock) while another thread loads it; that load may fail
 * and the node go, so the table is searched again after each wait.
 */
static struct node *find_loaded_locked(struct cache *c, uint64_t id)
{
	struct node *n;

	while ((n = find_locked(c, id)) && n->loading)
		pthread_cond_wait(&c->loaded, &c->lock);
	return n;
}

int cache_node_get(struct cache *c, uint64_t id, struct node **out)
{
	struct node *n;
	int rc;

	pthread_mutex_lock(&c->lock);
	n = find_loaded_locked(c, id);
	if (n) {
		if (n->refs++ == 0)
			lru_unlink_locked(c, n);
		pthread_mutex_unlock(&c->lock);
		*out = n;
		return 0;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	n->id = id;
	n->fd = -1;
	n->refs = 1;
	n->loading = 1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->fetched, NULL);
	rangeset_init(&n->inflight);
	index_item_init(&n->it);
	n->hnext = *bucket(c, id);
	*bucket(c, id) = n;
	c->nnodes++;
	pthread_mutex_unlock(&c->lock);

	/* Read outside the table lock; the mark keeps others waiting for it. */
	rc = index_get(c->ix, id, &n->it);

	pthread_mutex_lock(&c->lock);
	n->loading = 0;
	if (rc < 0) {
		unhash_locked(c, n); /* nobody else took a reference while loading */
	} else {
		n->atime_saved = n->it.atime;
		if (idmap_del(&c->stale, id))
			n->content_ver = 1; /* the kernel's pages (kernel_ver 0) are stale */
	}
	pthread_cond_broadcast(&c->loaded);
	pthread_mutex_unlock(&c->lock);
	if (rc < 0) {
		node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

int cache_node_peek(struct cache *c, uint64_t id, struct node **out)
{
	struct node *n;

	pthread_mutex_lock(&c->lock);
	n = find_loaded_locked(c, id);
	if (n && n->refs++ == 0)
		lru_unlink_locked(c, n);
	pthread_mutex_unlock(&c->lock);
	*out = n;
	return n ? 0 : -ENOENT;
}

void cache_node_ref(struct cache *c, struct node *n)
{
	pthread_mutex_lock(&c->lock);
	n->refs++;
	pthread_mutex_unlock(&c->lock);
}

/*
 * With c->lock held, for a node without references: nobody else can reach
 * it but through the table, under this lock, so its fields are read and its
 * file closed without n->lock.  Returns the node to free (outside the lock),
 * or NULL when it stays idle.
 */
static struct node *idle_locked(struct cache *c, struct node *n)
{
	struct node *victim;

	if (n->fd >= 0) {
		close(n->fd);
		n->fd = -1;
	}
	if (n->unlinked) {
		unhash_locked(c, n);
		return n;
	}
	lru_append_locked(c, n);
	if (c->nidle <= CACHE_IDLE_NODES)
		return NULL;
	victim = c->lru_head;
	/* Its kernel pages are stale: remember so, or keep it if that fails. */
	if (victim->content_ver != victim->kernel_ver && idmap_add(&c->stale, victim->id, 1) < 0)
		return NULL;
	lru_unlink_locked(c, victim);
	unhash_locked(c, victim);
	return victim;
}

void cache_node_put(struct cache *c, struct node *n, uint64_t count)
{
	struct node *victim;

	pthread_mutex_lock(&c->lock);
	n->refs = count >= n->refs ? 0 : n->refs - count;
	if (n->refs > 0) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	victim = idle_locked(c, n);
	pthread_mutex_unlock(&c->lock);
	if (victim)
		node_free(victim);
}

void cache_get_stats(struct cache *c, struct cache_stats *st)
{
	pthread_mutex_lock(&c->lock);
	st->nodes = c->nnodes;
	st->idle = c->nidle;
	st->stale = c->stale.n;
	st->table_bytes = idmap_bytes(&c->stale);
	pthread_mutex_unlock(&c->lock);
}

int cache_node_fd(struct cache *c, struct node *n)
{
	if (n->fd < 0) {
		int fd = store_open(c->dir, n->id);
		if (fd < 0) {
			log_err("cannot open cache file of item %llu: %s",
				(unsigned long long)n->id, strerror(-fd));
			return fd;
		}
		n->fd = fd;
	}
	return n->fd;
}

void cache_node_fd_idle(struct cache *c, struct node *n)
{
	(void)c;
	if (n->fd >= 0 && n->opens == 0 && n->fd_users == 0) {
		close(n->fd);
		n->fd = -1;
	}
}

int cache_node_save(struct cache *c, struct node *n)
{
	if (n->unlinked)
		return 0;
	return index_update(c->ix, &n->it);
}

int cache_node_save_durable(struct cache *c, struct node *n)
{
	if (n->unlinked)
		return 0;
	return index_update_durable(c->ix, &n->it);
}

int cache_node_drop_clean(struct cache *c, struct node *n)
{
	struct rangeset drop = RANGESET_INIT;
	int rc, fd;

	rc = rangeset_copy(&drop, &n->it.present);
	for (size_t i = 0; rc == 0 && i < n->it.dirty.n; i++)
		rc = rangeset_remove(&drop, n->it.dirty.v[i].start, n->it.dirty.v[i].end);
	if (rc < 0)
		goto out;
	/* Unmark and commit first, so that a crash never leaves a hole marked present. */
	for (size_t i = 0; rc == 0 && i < drop.n; i++)
		rc = rangeset_remove(&n->it.present, drop.v[i].start, drop.v[i].end);
	if (rc == 0)
		rc = cache_node_save(c, n);
	if (rc < 0 || drop.n == 0)
		goto out;
	fd = cache_node_fd(c, n);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	for (size_t i = 0; i < drop.n; i++)
		store_punch(fd, drop.v[i].start, drop.v[i].end - drop.v[i].start);
out:
	rangeset_release(&drop);
	return rc;
}

int cache_free_tree_data(struct cache *c, uint64_t id)
{
	char path[PATH_MAX];
	uint64_t *ids;
	size_t n;
	int rc;

	rc = index_subtree_ids(c->ix, id, &ids, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		store_path(c->dir, ids[i], path, sizeof(path));
		if (truncate(path, 0) < 0 && errno != ENOENT)
			rc = rc ? rc : -errno;
	}
	free(ids);
	return rc;
}

int cache_evict(struct cache *c, uint64_t id, uint64_t *freed, const char **why)
{
	struct node *n;
	uint64_t before;
	int rc;

	*freed = 0;
	*why = NULL;
	rc = cache_node_get(c, id, &n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	before = rangeset_total(&n->it.present);
	if (n->it.type != ITEM_FILE) {
		*why = "a directory holds no data of its own";
		rc = -EISDIR;
	} else if (n->it.pins) {
		*why = "pinned: pinned files stay available offline (ofsync unpin first)";
		rc = -EPERM;
	} else if (item_is_dirty(&n->it)) {
		*why = "changed here and not yet on the server (ofsync flush first)";
		rc = -EBUSY;
	} else if (n->opens > 0) {
		*why = "open through the mount";
		rc = -EBUSY;
	} else if (n->inflight.n > 0) {
		*why = "being fetched from the server";
		rc = -EBUSY;
	} else {
		rc = cache_node_drop_clean(c, n);
		cache_node_fd_idle(c, n);
		if (rc == 0) {
			*freed = before - rangeset_total(&n->it.present);
			n->content_ver++; /* the kernel's pages go with the next open */
		}
	}
	pthread_mutex_unlock(&n->lock);
	cache_node_put(c, n, 1);
	if (rc == 0 && *freed)
		cache_notify_inode(c, id);
	return rc;
}

struct gone_ctx {
	struct cache *c;
};

static void data_gone(void *arg, uint64_t id)
{
	struct gone_ctx *g = arg;
	struct node *n;

	pthread_mutex_lock(&g->c->lock);
	idmap_del(&g->c->stale, id);
	n = find_loaded_locked(g->c, id);
	if (n && n->refs++ == 0)
		lru_unlink_locked(g->c, n);
	pthread_mutex_unlock(&g->c->lock);
	if (n) {
		pthread_mutex_lock(&n->lock);
		n->unlinked = 1;
		pthread_mutex_unlock(&n->lock);
		cache_node_put(g->c, n, 1);
	}
	store_unlink(g->c->dir, id);
}

int cache_delete_tree(struct cache *c, uint64_t id)
{
	struct gone_ctx g = {c};

	return index_delete_tree(c->ix, id, data_gone, &g);
}

void cache_data_path(struct cache *c, uint64_t id, char *buf, size_t len)
{
	store_path(c->dir, id, buf, len);
}

int cache_add_hooks(struct cache *c, const struct cache_hooks *h)
{
	int rc = 0;

	pthread_mutex_lock(&c->hook_lock);
	if (c->nhooks == CACHE_MAX_HOOKS)
		rc = -ENOSPC;
	else
		c->hooks[c->nhooks++] = *h;
	pthread_mutex_unlock(&c->hook_lock);
	return rc;
}

void cache_remove_hooks(struct cache *c, void *arg)
{
	pthread_mutex_lock(&c->hook_lock);
	for (size_t i = 0; i < c->nhooks; i++) {
		if (c->hooks[i].arg == arg) {
			c->hooks[i] = c->hooks[--c->nhooks];
			break;
		}
	}
	pthread_mutex_unlock(&c->hook_lock);
}

/*
 * Every mount hears of every change: an inode another mount's kernel never
 * saw is refused there (ENOENT) and costs nothing.
 */
void cache_notify_inode(struct cache *c, uint64_t id)
{
	pthread_mutex_lock(&c->hook_lock);
	for (size_t i = 0; i < c->nhooks; i++)
		if (c->hooks[i].inval_inode)
			c->hooks[i].inval_inode(c->hooks[i].arg, id);
	pthread_mutex_unlock(&c->hook_lock);
}

void cache_notify_entry(struct cache *c, uint64_t parent, const char *name)
{
	pthread_mutex_lock(&c->hook_lock);
	for (size_t i = 0; i < c->nhooks; i++)
		if (c->hooks[i].inval_entry)
			c->hooks[i].inval_entry(c->hooks[i].arg, parent, name);
	pthread_mutex_unlock(&c->hook_lock);
}

int item_is_dirty(const struct index_item *it)
{
	return it->gen != it->synced_gen || (it->flags & (ITEM_F_CREATED | ITEM_F_DELETED));
}

void cache_set_conflict_hook(struct cache *c, cache_conflict_fn fn, void *arg)
{
	c->conflict_fn = fn;
	c->conflict_arg = arg;
}

void cache_conflict_event(struct cache *c, int added, uint64_t share, uint64_t item,
			  const char *path, const char *state)
{
	if (c->conflict_fn)
		c->conflict_fn(c->conflict_arg, added, share, item, path, state);
}

uint64_t cache_listings_gen(struct cache *c)
{
	return __atomic_load_n(&c->listings_gen, __ATOMIC_ACQUIRE);
}

void cache_listings_stale(struct cache *c)
{
	__atomic_add_fetch(&c->listings_gen, 1, __ATOMIC_ACQ_REL);
}

/*
 * cache.h - the local cache: the index, the sparse data files, and the
 * in-memory nodes that the mount and the sync engine share.
 *
 * A node is the live state of one indexed item: a copy of its index row, the
 * open data file, and counters the read path needs.  Nodes are refcounted by
 * their users (an open handle, an upload, a fetch, a handler at work); the
 * kernel's lookups are not references (the mount counts them apart, see
 * fs.c).  A node nobody references is idle: it stays in memory in an LRU of
 * at most CACHE_IDLE_NODES and is freed beyond it, to be loaded from the
 * index again when next needed.  Every change to a node is written through
 * to the index (cache_node_save) before the operation that made it returns,
 * so freeing an idle node loses nothing but hints (see cache.c).
 *
 * Locks, in the order they are taken: cache->lock (the node table) ->
 * node->lock -> the index's own lock.  Nobody holds a node lock across a
 * network call.
 */
#ifndef OFSYNC_CACHE_H
#define OFSYNC_CACHE_H

#include <pthread.h>
#include <stdint.h>

#include "cache/index.h"

/* Reads fetch and cache whole chunks of this size, aligned to it. */
#define CACHE_CHUNK (4u << 20)
/* Idle nodes kept in memory at most (a few hundred bytes each). */
#define CACHE_IDLE_NODES 4096

struct node {
	uint64_t id;		  /* row id; constant */
	pthread_mutex_t lock;	  /* protects every field below */
	struct index_item it;	  /* the row as last saved (or about to be) */
	int fd;			  /* data file, -1 until cache_node_fd */
	uint64_t content_ver;	  /* bumped when a remote change replaced cached bytes */
	uint64_t kernel_ver;	  /* content_ver when the kernel last cached pages */
	int64_t checked;	  /* monotonic ns of the last check against the server */
	unsigned opens;		  /* open file handles through the mount */
	unsigned fd_users;	  /* users of fd outside the lock (an upload) */
	int unlinked;		  /* the row is gone; the node lives on for open handles */
	struct rangeset inflight; /* bytes a thread is fetching from the server now */
	pthread_cond_t fetched;	  /* broadcast when inflight shrinks */
	uint64_t ra_next;	  /* read-ahead: where a sequential reader reads next */
	uint64_t ra_run;	  /* read-ahead: bytes read sequentially so far */
	uint64_t ra_dropped;	  /* read-ahead: cache-file pages dropped up to here */
	int64_t atime_saved;	  /* it.atime as last written to the index (LRU order) */
	/* private to cache.c, protected by cache->lock: */
	uint64_t refs;	       /* users; 0: idle, on the LRU */
	int loading;	       /* being read from the index; not usable yet */
	struct node *hnext;    /* next in the hash bucket */
	struct node *lru_prev; /* the LRU of idle nodes, oldest first */
	struct node *lru_next;
};

struct cache;

/*
 * Opens the cache in dir (created with mode 0700, with data/ and tmp/).
 * Returns 0 or a negative errno, with the reason logged.
 */
int cache_open(const char *dir, struct cache **out);
void cache_close(struct cache *c);
struct index *cache_index(struct cache *c);

/*
 * Returns the node for id with one more reference, loading it from the
 * index when it is not in memory.  0, -ENOENT or -EIO.
 */
int cache_node_get(struct cache *c, uint64_t id, struct node **out);
/* As cache_node_get for a node in memory; -ENOENT (no load) when it is not. */
int cache_node_peek(struct cache *c, uint64_t id, struct node **out);
/* Adds one reference to a node the caller already holds. */
void cache_node_ref(struct cache *c, struct node *n);
/*
 * Drops count references.  After the last one the node's file is closed and
 * the node is idle (freed at once when unlinked, or later when the LRU is
 * full): the caller must not touch it again.
 */
void cache_node_put(struct cache *c, struct node *n, uint64_t count);

/* Counters of the node table, for status and tests. */
struct cache_stats {
	uint64_t nodes;	      /* nodes in memory */
	uint64_t idle;	      /* of which idle (no reference) */
	uint64_t stale;	      /* freed items whose kernel pages must go at the next open */
	uint64_t table_bytes; /* memory of the stale table */
};
void cache_get_stats(struct cache *c, struct cache_stats *st);

/*
 * With n->lock held: the data file of the node, opened (and created) on
 * first use.  Returns the fd or a negative errno.
 */
int cache_node_fd(struct cache *c, struct node *n);
/*
 * With n->lock held: closes the data file when nothing uses it (no open
 * handle, no upload): a sync of 100,000 files must not keep 100,000 open.
 * The next cache_node_fd opens it again.
 */
void cache_node_fd_idle(struct cache *c, struct node *n);
/* With n->lock held: writes n->it to the index.  0 or a negative errno. */
int cache_node_save(struct cache *c, struct node *n);
/* Same, durable on return (for fsync). */
int cache_node_save_durable(struct cache *c, struct node *n);
/*
 * With n->lock held: forgets every cached byte that is not dirty (ranges
 * unmarked and committed first, then holes punched).  0 or a negative errno.
 */
int cache_node_drop_clean(struct cache *c, struct node *n);

/*
 * For a delete that a full disk refuses: frees the data of id and of
 * everything below it (files truncated, rows kept), so that the index can
 * record the delete.  Only for items the caller is deleting.  0 or -errno.
 */
int cache_free_tree_data(struct cache *c, uint64_t id);

/*
 * Evicts a file: drops its cached bytes (cache_node_drop_clean) and tells
 * the kernel.  Refused for a directory (-EISDIR), a pinned file (-EPERM), a
 * dirty one, one open through the mount or being fetched (-EBUSY), with
 * the reason in *why.  *freed: the bytes dropped.  0 or a negative errno.
 */
int cache_evict(struct cache *c, uint64_t id, uint64_t *freed, const char **why);

/*
 * Deletes the item and everything below it from the index and drops their
 * data files; nodes still in memory are marked unlinked.  The caller holds
 * no node lock.  0 or -errno.
 */
int cache_delete_tree(struct cache *c, uint64_t id);

/*
 * Change announcements: the sync code calls these when the server changed
 * something the kernel may have cached; the mount registers hooks that queue
 * kernel invalidations (never sent from inside a FUSE handler).
 */
struct cache_hooks {
	void (*inval_inode)(void *arg, uint64_t id);			   /* data and attrs */
	void (*inval_entry)(void *arg, uint64_t parent, const char *name); /* a name */
	void *arg;
};
#define CACHE_MAX_HOOKS 64
/* Adds a mount's hooks (-ENOSPC past CACHE_MAX_HOOKS); removes them by arg. */
int cache_add_hooks(struct cache *c, const struct cache_hooks *h);
void cache_remove_hooks(struct cache *c, void *arg);
void cache_notify_inode(struct cache *c, uint64_t id);
void cache_notify_entry(struct cache *c, uint64_t parent, const char *name);

/*
 * Conflict-store announcements: the sync code calls cache_conflict_event
 * when an entry is added (added = 1) or removed; the daemon publishes them.
 */
typedef void (*cache_conflict_fn)(void *arg, int added, uint64_t share, uint64_t item,
				  const char *path, const char *state);
void cache_set_conflict_hook(struct cache *c, cache_conflict_fn fn, void *arg);
void cache_conflict_event(struct cache *c, int added, uint64_t share, uint64_t item,
			  const char *path, const char *state);

/*
 * The listings generation: whoever finds a directory's listing stale (a
 * change the server reported, a replay that may have brought more names)
 * calls cache_listings_stale before clearing the directory's `listed`.
 * A listing taken at generation g may be trusted as of its time only while
 * cache_listings_gen is still g (the generation snapshot of STYLE.md).
 */
uint64_t cache_listings_gen(struct cache *c);
void cache_listings_stale(struct cache *c);

/* True when the item has local changes that are not on the server. */
int item_is_dirty(const struct index_item *it);

/* Path of the data file of id, for diagnostics and tests. */
void cache_data_path(struct cache *c, uint64_t id, char *buf, size_t len);

#endif

/*
 * index.h - the SQLite index of the cache (the only user of sqlite3.h).
 *
 * One row per item: its place in the tree (parent, name), its type, the
 * remote base recorded at the last sync, the local size/mtime/mode, the
 * local and synced generations, state flags, pins, and the present and
 * dirty byte ranges.  The row id is the item's inode number.
 *
 * Every call takes the index mutex for its duration, so calls from many
 * threads are serialized; no call ever waits on the network.  Lock order:
 * a cache node's lock may be held when calling in here, never the reverse.
 */
#ifndef OFSYNC_INDEX_H
#define OFSYNC_INDEX_H

#include <stdint.h>

#include "util/range.h"

enum item_type { ITEM_FILE = 1, ITEM_DIR = 2 };

/* Item state flags (items.flags). */
#define ITEM_F_CREATED 0x1   /* created locally, not yet on the server */
#define ITEM_F_DELETED 0x2   /* deleted locally, not yet on the server */
#define ITEM_F_SUSPENDED 0x4 /* root of a suspended subtree */

struct rbase {
	int valid;	  /* 0 when the item has never been seen on the server */
	int64_t size;	  /* server size at the last sync */
	int64_t mtime;	  /* server mtime at the last sync, 100 ns since the epoch */
	uint64_t file_id; /* server file id (inode number on Samba) */
};

struct index_item {
	uint64_t id;		 /* row id = inode number */
	uint64_t share;		 /* shares.id the item belongs to */
	uint64_t parent;	 /* parent row id, 0 for a share root */
	char *name;		 /* malloc'd; the UNC for a share root */
	int type;		 /* enum item_type */
	struct rbase base;	 /* remote base */
	int64_t size;		 /* local size */
	int64_t mtime;		 /* local mtime, ns since the epoch */
	uint32_t mode;		 /* permission bits */
	uint64_t gen;		 /* local generation, bumped on every local change */
	uint64_t synced_gen;	 /* gen at the last successful sync */
	uint32_t flags;		 /* ITEM_F_* */
	uint32_t pins;		 /* pin kinds (bit mask) */
	int64_t listed;		 /* dirs: wall time (ns) of the last server listing, 0 never */
	int64_t atime;		 /* last access through the mount, ns */
	struct rangeset present; /* bytes present in the cache file */
	struct rangeset dirty;	 /* bytes written locally and not on the server */
};

struct index_stats {
	uint64_t items;	       /* rows of the share, root included */
	uint64_t files;	       /* regular files */
	uint64_t cached_bytes; /* sum of present bytes */
	uint64_t dirty_items;  /* items with local changes not on the server */
	uint64_t dirty_bytes;  /* sum of dirty bytes */
	uint64_t sparse_items; /* files with some bytes not cached */
	uint64_t full_items;   /* files with every byte cached */
	uint64_t conflicts;    /* entries of the conflict store */
	uint64_t pending_ops;  /* namespace changes waiting in the journal */
};

struct index;

/*
 * Opens (creating if needed) the index at path, in WAL mode, and brings its
 * schema to the current version.  Returns 0 or a negative errno; -EPROTO when
 * the file was written by a newer ofsync, -EIO when it is not a database.
 */
int index_open(const char *path, struct index **out);
void index_close(struct index *ix);
/*
 * Takes the reserve again if it was given up (the index keeps a small file
 * beside it to release when the disk fills, so deletes can still be
 * recorded).  Cheap when it is there.
 */
void index_reserve_refill(struct index *ix);

/*
 * Finds or creates the share row for unc and its root item.  *share and
 * *root receive their ids.  Returns 0 or -EIO.
 */
int index_share(struct index *ix, const char *unc, uint64_t *share, uint64_t *root);

/* Zero an item before filling it; release frees its name and ranges. */
void index_item_init(struct index_item *it);
void index_item_release(struct index_item *it);

/* Load one row by id / by (parent, name).  0, -ENOENT or -EIO. */
int index_get(struct index *ix, uint64_t id, struct index_item *out);
int index_lookup(struct index *ix, uint64_t parent, const char *name, struct index_item *out);

/* Inserts it (its id is ignored and set).  0, -EEXIST for a taken name, -EIO. */
int index_insert(struct index *ix, struct index_item *it);
/*
 * Inserts n items in one transaction (a directory's new names): each gets
 * its id, or 0 when its name was taken meanwhile.  On failure none is
 * inserted.  0, -ENOSPC or -EIO.
 */
int index_insert_many(struct index *ix, struct index_item *its, size_t n);
/* Writes every field of the row except parent and name.  0, -ENOENT, -EIO. */
int index_update(struct index *ix, const struct index_item *it);
/*
 * Same as index_update, and durable when it returns (the WAL is synced):
 * for fsync.  0, -ENOENT or -EIO.
 */
int index_update_durable(struct index *ix, const struct index_item *it);
/* Moves the row to (parent, name).  0, -EEXIST, -ENOENT or -EIO. */
int index_move(struct index *ix, uint64_t id, uint64_t parent, const char *name);

/*
 * Deletes the row and every row below it.  Calls gone(arg, id) for each
 * deleted id (to drop its cache file) after the commit.  0 or -EIO.
 */
int index_delete_tree(struct index *ix, uint64_t id, void (*gone)(void *arg, uint64_t id),
		      void *arg);

/*
 * Calls fn for each child of parent in name order, with a borrowed item
 * valid only during the call.  fn returns 0 to go on, non-zero to stop (that
 * value is returned).  The index lock is held during the walk: fn must not
 * call into the index.  Returns 0, fn's value or -EIO.
 */
int index_children(struct index *ix, uint64_t parent,
		   int (*fn)(void *arg, const struct index_item *it), void *arg);

/*
 * index_children for a listing: fn sees only id, parent, name, type, size,
 * mtime and mode set (the rest zero), name valid only during the call, and
 * reading them costs no range decoding and no copy.
 */
int index_list(struct index *ix, uint64_t parent, int (*fn)(void *arg, const struct index_item *it),
	       void *arg);

/* A subdirectory, as index_subdirs_after gives it. */
struct index_subdir {
	uint64_t id;
	int64_t listed; /* items.listed: when its names were last listed, 0 never */
};

/*
 * The first (at most max) subdirectories of parent whose names sort after
 * the name of the item `after` (0: the first ones), in name order (the
 * order of index_children).  *n gets their count.  0 or -EIO.
 */
int index_subdirs_after(struct index *ix, uint64_t parent, uint64_t after, struct index_subdir *out,
			size_t max, size_t *n);

/*
 * Writes the item's path below its share root into buf ("" for the root,
 * else "/a/b").  Returns 0, -ENOENT, -ENAMETOOLONG or -EIO.
 */
int index_path(struct index *ix, uint64_t id, char *buf, size_t len);

/* Pin kinds (items.pins), kept apart: unpinning one leaves the others. */
#define PIN_USER 0x1
#define PIN_POLICY 0x2
#define PIN_ALL 0x4
#define PIN_REDIR 0x8

/* The ids of id and every item below it (id first).  *ids is malloc'd. */
int index_subtree_ids(struct index *ix, uint64_t id, uint64_t **ids, size_t *n);

/* Number of items at or below id with local changes not on the server. */
int index_tree_dirty(struct index *ix, uint64_t id, uint64_t *count);

/*
 * The ids of the share's items with local changes (files and directories),
 * parents before children (by depth, then id).  *ids is malloc'd.  0 or -errno.
 */
int index_dirty_ids(struct index *ix, uint64_t share, uint64_t **ids, size_t *n);

/*
 * The journal: namespace changes made while the share could not take them,
 * replayed in order (seq) when it can.  Paths are those at the time of the
 * change; the base is the item's at that time (an unlink checks the server
 * still has that version before deleting it).
 */
enum journal_kind {
	JOP_MKDIR = 1,
	JOP_CREATE = 2,
	JOP_UNLINK = 3,
	JOP_RMDIR = 4,
	JOP_RENAME = 5, /* path -> path2 */
};

struct journal_op {
	uint64_t seq; /* order of the change; set by the index */
	uint64_t share;
	int op;		  /* enum journal_kind */
	uint64_t item;	  /* the item's row id (it may be gone since) */
	char path[4096];  /* below the share root */
	char path2[4096]; /* rename target, else "" */
	struct rbase base;
	int64_t time; /* when the change was made, ns since the epoch (0: now, on add) */
};

int index_journal_add(struct index *ix, const struct journal_op *op);
/* The first op of the share after seq `after`.  0, -ENOENT when none, -EIO. */
int index_journal_next(struct index *ix, uint64_t share, uint64_t after, struct journal_op *op);
int index_journal_del(struct index *ix, uint64_t seq);
/* Drops every op of an item (created and deleted offline: no trace). */
int index_journal_drop_item(struct index *ix, uint64_t item);
int index_journal_count(struct index *ix, uint64_t share, uint64_t *n);
int index_journal_item_pending(struct index *ix, uint64_t item, uint64_t *n);

/*
 * The conflict store: one entry per path, replaced when recorded again.
 * state is an OFFLINEFILES_SYNC_STATE name.  0 or -EIO.
 */
int index_conflict_add(struct index *ix, uint64_t share, uint64_t item, const char *path,
		       const char *state, const char *detail, int64_t when);
/* Removes the item's conflicts.  Returns how many, or -EIO. */
int index_conflict_clear_item(struct index *ix, uint64_t item);
/* How many conflicts the item has in the store.  0 or -EIO. */
int index_conflict_item(struct index *ix, uint64_t item, uint64_t *n);
/* Dirty files of the share with no recorded conflict (work for a sync-out). */
int index_unresolved_dirty(struct index *ix, uint64_t share, uint64_t *n);
/* Calls fn for each conflict of the share, by path; fn returns 0 to go on. */
int index_conflicts(struct index *ix, uint64_t share,
		    int (*fn)(void *arg, uint64_t item, const char *path, const char *state,
			      const char *detail, int64_t when),
		    void *arg);

/*
 * Walks rel ("/a/b", "" for root itself) down from root as far as the index
 * knows it.  Returns 0 with *id the deepest item found and *rest the part of
 * rel not found ("" when all of it was), or -ENAMETOOLONG for a component of
 * 256 bytes or more, or -EIO.
 */
int index_walk(struct index *ix, uint64_t root, const char *rel, uint64_t *id, const char **rest);

/* Aggregates for `ofsync status`.  0 or -EIO. */
int index_stats(struct index *ix, uint64_t share, struct index_stats *st);

/*
 * Cache space.  usage: bytes cached in all, and of items with no pin (the
 * auto-cached data), counted from the present ranges.  evictable: up to max
 * clean, unpinned files with cached bytes, least recently used first.
 * Settings: integers by name (-ENOENT when unset).  0 or -EIO.
 */
int index_usage(struct index *ix, uint64_t *total, uint64_t *unpinned);
int index_evictable(struct index *ix, uint64_t *ids, size_t max, size_t *n);
int index_setting_get(struct index *ix, const char *key, int64_t *value);
int index_setting_set(struct index *ix, const char *key, int64_t value);

/* The item of share whose base has this server file id.  0, -ENOENT or -EIO. */
int index_by_fileid(struct index *ix, uint64_t share, uint64_t file_id, struct index_item *out);

/* Is the reserve in place (0: the disk was full and is not yet freed)? */
int index_reserve_ok(struct index *ix);

#endif

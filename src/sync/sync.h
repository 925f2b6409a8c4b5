/*
 * sync.h - moving changes between the cache and the server, one item at a
 * time.  The mount calls these for its online write-through (push on close
 * and fsync, remote checks on getattr/lookup/readdir); the Synchronize
 * engine builds on them.  No FUSE in here: changes the kernel must hear of
 * go through the cache's hooks (cache_notify_*).
 */
#ifndef OFSYNC_SYNC_H
#define OFSYNC_SYNC_H

#include "cache/cache.h"
#include "smb/smb.h"
#include "sync/plan.h"

/* Prefix of the temporary names uploads use; hidden from listings. */
#define SYNC_TMP_PREFIX ".~ofsync-"

/* True for names the mount never shows (our temporary upload names). */
int sync_name_hidden(const char *name);
/*
 * Is name one a new item may take?  Not one of our temporary names, no
 * control characters and none of \\ / : * ? " < > | (SMB refuses them), not
 * "." or "..", not empty.  1 or 0.
 */
int sync_name_ok(const char *name);

/* Converts a server stat to a base. */
void sync_base_from_stat(struct rbase *b, const struct smb_stat *st);
/* True when the server's current stat differs from the base. */
int sync_base_changed(const struct rbase *b, const struct smb_stat *st);

/*
 * Uploads the local content of a dirty file: written under a temporary
 * name in the same directory, the target checked against the base, then
 * renamed over it, its times set, and the result recorded as the new base.
 * The server never shows a half-written file in place of an older one.  A
 * small file new to the server is created under its real name instead
 * (push.c explains why).  Bytes not cached locally are copied from the
 * server's current file.  Uploads of one node run one at a time.
 *
 * Returns 0 when the file is clean afterwards (or was), -EAGAIN when it was
 * written to again during the upload (the upload stands, the file stays
 * dirty), -ESTALE when the server's copy changed since the base (a conflict:
 * nothing on the server is touched and the file stays dirty), or another
 * negative errno.  The caller holds no lock on n.
 */
int sync_push_file(struct cache *c, struct smb *s, struct node *n);

/*
 * Keeps uploads of n away while the caller changes what the server must not
 * see half-done (a rename of a file not yet uploaded): waits for an upload
 * of n in progress to end.  Take no node lock before; release with
 * sync_push_release.  Returns 0 or -ENOMEM.
 */
int sync_push_hold(struct node *n);
void sync_push_release(struct node *n);

/*
 * Applies a fresh server stat of a known item: when it differs from the base
 * and the item is clean, the base, size and mtime follow the server, clean
 * cached bytes are dropped and the kernel is told.  A dirty item keeps its
 * local state (a conflict for the Synchronize engine).  With n->lock held.
 * Returns 1 when cached content was dropped, 0 when nothing changed, or a
 * negative errno.
 */
int sync_apply_remote(struct cache *c, struct node *n, const struct smb_stat *st);

/*
 * Refreshes the directory dir from the server: new entries are added, changed
 * ones updated (sync_apply_remote), and entries gone from the server removed
 * unless they or something below them has local changes.  Records the
 * listing time.  Returns 1 when the directory's names or entries changed in
 * the index, 0 when the listing changed nothing, or a negative errno (the
 * index is untouched on a server error).  The caller holds no node lock.
 */
int sync_refresh_dir(struct cache *c, struct smb *s, struct node *dir);

/*
 * Checks one name in dir on the server (a stat) and brings the index in line:
 * *id receives the item's id, or 0 when the server has no such name (any
 * clean index entry for it is removed).  Returns 0 or a negative errno.
 */
int sync_refresh_name(struct cache *c, struct smb *s, struct node *dir, const char *name,
		      uint64_t *id);

/*
 * Makes [off, end) of file n present in the cache by fetching the chunks it
 * touches (see fetch.c).  Returns 0; -EAGAIN when the server's copy changed
 * or a fetch waited for failed (look again: the size may have changed); a
 * connection error; or another negative errno.  The caller holds no lock on n.
 */
int sync_fetch(struct cache *c, struct smb *s, struct node *n, uint64_t off, uint64_t end);

/*
 * The same for read-ahead: fetches the missing bytes of the chunks that
 * [off, end) touches that no other thread is fetching, and waits for none.
 */
int sync_fetch_ahead(struct cache *c, struct smb *s, struct node *n, uint64_t off, uint64_t end);

/* Inserts a new index row for a server entry below parent.  0 or -errno. */
int sync_insert_remote(struct cache *c, uint64_t share, uint64_t parent, const char *name,
		       const struct smb_stat *st, uint64_t *id);

/*
 * True when id or a directory above it is suspended (SuspendRoot): such a
 * subtree is treated as offline by the mount and the background sync, and
 * skipped by syncs that say SKIPSUSPENDEDDIRS.
 */
int sync_is_suspended(struct cache *c, uint64_t id);
/* The same for a path below the share root (its deepest known item). */
int sync_path_suspended(struct cache *c, uint64_t root, const char *path);

/* Removes the item's conflicts from the store, announcing it when there were any. */
void sync_clear_conflict(struct cache *c, uint64_t item);

/* Records a conflict in the store (and logs it once). */
void sync_record_conflict(struct cache *c, uint64_t share, uint64_t item, const char *path,
			  const char *state, const char *detail);

/*
 * Replays the share's journal in order (see journal.c for the rules).  *done
 * and *conflicts count ops applied and ops that became conflicts.  Unless
 * include_suspended, the replay stops (keeping order) at the first op inside
 * a suspended subtree (root: the share root, to resolve paths).  With
 * no_new_files (NONEWFILESOUT), creates of files, and every later op of
 * those items, are held back in the journal.  Returns 0
 * when the journal is empty afterwards, or the connection error that
 * stopped it.
 */
/* A conflict, as the engine puts it to a conflict handler. */
struct sync_conflict {
	const char *path; /* below the share root */
	int state;	  /* enum plan_state */
	const struct plan_local *l;
	const struct plan_base *b;
	const struct plan_remote *r;
	int64_t lsize; /* the cache's size of the file (0 for a delete) */
};

/*
 * How the journal's replay settles a conflict it finds (a local delete of a
 * file changed on the server): settle returns OFSYNC_RESOLVE_KEEPLOCAL,
 * _KEEPREMOTE, _LOG, _SKIP or _ABORT (KEEPLATEST and KEEPALLCHANGES are
 * already mapped), and report is told the outcome (result 0, -ESTALE when
 * left as a conflict).  NULL: every conflict is recorded.
 */
struct sync_resolver {
	int (*settle)(void *arg, const struct sync_conflict *q);
	void (*report)(void *arg, const char *path, int state, int op, int result);
	void *arg;
};

int sync_replay_journal(struct cache *c, struct smb *s, uint64_t share, uint64_t root,
			int include_suspended, int no_new_files, const struct sync_resolver *res,
			unsigned *done, unsigned *conflicts);

struct sync_out_stats {
	unsigned ops;	    /* journal ops applied */
	unsigned items;	    /* dirty items looked at */
	unsigned pushed;    /* made clean on the server */
	unsigned conflicts; /* left dirty: the server changed too */
	unsigned skipped;   /* open through the mount: pushed at close instead */
	unsigned failed;    /* any other error (the first is logged) */
};

/*
 * Replays the journal, then pushes every dirty file of the share that is
 * not in a suspended subtree, and not open through the mount unless
 * include_open (the background sync-out after coming back online leaves
 * open files to their close; `ofsync flush` pushes them too).  Stops early
 * when the share goes offline.  Returns 0, or the connection error that
 * stopped it.  Callers go through sync_flush (engine.h), which serializes
 * it with the Synchronize engine.
 */
int sync_out_dirty(struct cache *c, struct smb *s, uint64_t share, uint64_t root, int include_open,
		   struct sync_out_stats *out);

#endif

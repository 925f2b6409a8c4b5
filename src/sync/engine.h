/*
 * engine.h - the Synchronize engine (IOfflineFilesCache::Synchronize, in
 * process): walks a subtree, classifies every item with the planner
 * (plan.c) and applies what the control flags allow.  No FUSE, no JSON:
 * results go to the caller's item callback.
 */
#ifndef OFSYNC_ENGINE_H
#define OFSYNC_ENGINE_H

#include <stdint.h>

#include "cache/cache.h"
#include "smb/smb.h"
#include "sync/plan.h"
#include "sync/sync.h"

struct sync_item_report {
	const char *path;    /* below the share root, "/a/b" */
	int state;	     /* enum plan_state */
	int op;		     /* enum plan_op that was due */
	int applied;	     /* 1 when the op was carried out, 0 when the flags left it */
	int result;	     /* 0 or a negative errno; -ESTALE: left as a conflict */
	const char *skipped; /* why a due op was not carried out, or NULL */
	int64_t bytes;	     /* bytes moved for this item */
};

/* Resolutions of `ofsync resolve` (KEEPALLCHANGES is Windows' name for BOTH). */
enum engine_keep {
	ENGINE_KEEP_LOCAL = 1,	/* = PKEEP_LOCAL */
	ENGINE_KEEP_REMOTE = 2, /* = PKEEP_REMOTE */
	ENGINE_KEEP_LATEST = 3, /* = PKEEP_LATEST */
	ENGINE_KEEP_BOTH = 4,	/* local copy renamed "name (HOST vN).ext", remote under the name */
};

struct sync_job {
	uint64_t share;	       /* the share's id in the index */
	uint64_t root;	       /* the item the sync starts at (a directory means its subtree) */
	uint64_t share_root;   /* the share root (link targets are resolved from it) */
	const char *share_unc; /* "//server[:port]/share[/dir]" of the mount */
	uint32_t flags;	       /* OFSYNC_* control flags, already checked */
	int dry_run;	       /* plan and report, change nothing */
	int pinned_only;       /* FILL only files that carry a pin (after `ofsync pin`) */
	int keep; /* ENGINE_KEEP_*: a rule for conflicts that overrides the CR flags, or 0 */
	volatile int *cancel; /* set non-zero to stop between items; may be NULL */
	/*
	 * Every item's result, may be NULL.  Returns an OFSYNC_OP_* response:
	 * RETRY runs a failed item again, ABORT ends the sync cancelled.
	 */
	int (*item)(void *arg, const struct sync_item_report *r);
	void (*item_begin)(void *arg, const char *path); /* before each item, may be NULL */
	/*
	 * The conflict handler, may be NULL: returns an OFSYNC_RESOLVE_* and, for
	 * KEEPALLCHANGES, may write the local copy's new leaf name into name.
	 * When set, the CR flags are not used.
	 */
	int (*conflict)(void *arg, const struct sync_conflict *q, char *name, size_t len);
	void *arg;
};

struct sync_result {
	unsigned items;	    /* items looked at */
	unsigned applied;   /* operations carried out */
	unsigned conflicts; /* left as conflicts */
	unsigned resolved;  /* conflicts resolved by the CR rule */
	unsigned failed;    /* operations that failed */
	unsigned skipped;   /* due operations held back (BACKGROUND: file open) */
	int64_t bytes;	    /* bytes moved */
	int cancelled;	    /* stopped by the cancel flag */
};

/*
 * Runs one sync.  Returns 0 when it ran to the end (item failures and
 * conflicts are counted in *res), -ECANCELED when cancelled (what was done
 * stays done), or a connection error when the share went offline.
 * Syncs of one process are serialized (one engine lock).
 */
int sync_run(struct cache *c, struct smb *s, const struct sync_job *job, struct sync_result *res);

/* sync_out_dirty under the engine's lock: never at the same time as a sync. */
int sync_flush(struct cache *c, struct smb *s, uint64_t share, uint64_t root, int include_open,
	       struct sync_out_stats *out);

#endif

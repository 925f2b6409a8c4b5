/*
 * plan.h - the Synchronize planner's decision table: for one item, from what
 * the cache has, what the server had at the last sync (the base) and what
 * the server has now, the sync state (Windows' OFFLINEFILES_SYNC_STATE) and
 * the operation the engine should carry out.
 *
 * Pure logic: plain structs in, a decision out; no I/O, no index, no SMB.
 * Unit-tested row by row in tests/unit/test_plan.c.  See plan.c for the
 * design of the table.
 */
#ifndef OFSYNC_PLAN_H
#define OFSYNC_PLAN_H

#include <stddef.h>
#include <stdint.h>

/* What one side holds under the item's name. */
enum plan_side_kind {
	PSIDE_NONE, /* no copy */
	PSIDE_FILE,
	PSIDE_DIR,
};

/* The cache's side of an item. */
struct plan_local {
	int kind;      /* enum plan_side_kind: what the cache has (NONE = not cached / deleted) */
	int created;   /* created locally, never synced (no base) */
	int deleted;   /* deleted locally (tombstone) */
	int changed;   /* gen != synced_gen: data or attributes changed locally */
	int sparse;    /* a file with some bytes not cached */
	int64_t mtime; /* local last change, ns since the epoch (a delete: when it happened) */
};

/* The server's side of an item, as a fresh stat shows it. */
struct plan_remote {
	int kind;	  /* enum plan_side_kind: what the server has (NONE = gone / never there) */
	int64_t size;	  /* size now */
	int64_t mtime;	  /* mtime now, 100 ns since the epoch */
	uint64_t file_id; /* file id now */
};

/* The server's side at the last successful sync ("original info"). */
struct plan_base {
	int valid;	  /* 0 when the item has never been synced */
	int kind;	  /* enum plan_side_kind the server had */
	int64_t size;	  /* size then */
	int64_t mtime;	  /* mtime then, 100 ns since the epoch */
	uint64_t file_id; /* file id then */
};

/*
 * Sync states, with Windows' OFFLINEFILES_SYNC_STATE names and values
 * (cscobj.h), so that a conflict handler written against the Windows
 * documentation reads them at once.  Not every state is produced by the
 * table (renames, sparse directories and replaced files are not modelled);
 * all are kept so the numbers match.
 */
enum plan_state {
	PSTATE_Stable = 0,
	PSTATE_FileOnClient_DirOnServer = 1,
	PSTATE_FileOnClient_NoServerCopy = 2,
	PSTATE_DirOnClient_FileOnServer = 3,
	PSTATE_DirOnClient_FileChangedOnServer = 4,
	PSTATE_DirOnClient_NoServerCopy = 5,
	PSTATE_FileCreatedOnClient_NoServerCopy = 6,
	PSTATE_FileCreatedOnClient_FileChangedOnServer = 7,
	PSTATE_FileCreatedOnClient_DirChangedOnServer = 8,
	PSTATE_FileCreatedOnClient_FileOnServer = 9,
	PSTATE_FileCreatedOnClient_DirOnServer = 10,
	PSTATE_FileCreatedOnClient_DeletedOnServer = 11,
	PSTATE_FileChangedOnClient_ChangedOnServer = 12,
	PSTATE_FileChangedOnClient_DirOnServer = 13,
	PSTATE_FileChangedOnClient_DirChangedOnServer = 14,
	PSTATE_FileChangedOnClient_DeletedOnServer = 15,
	PSTATE_FileSparseOnClient_ChangedOnServer = 16,
	PSTATE_FileSparseOnClient_DeletedOnServer = 17,
	PSTATE_FileSparseOnClient_DirOnServer = 18,
	PSTATE_FileSparseOnClient_DirChangedOnServer = 19,
	PSTATE_DirCreatedOnClient_NoServerCopy = 20,
	PSTATE_DirCreatedOnClient_DirOnServer = 21,
	PSTATE_DirCreatedOnClient_FileOnServer = 22,
	PSTATE_DirCreatedOnClient_FileChangedOnServer = 23,
	PSTATE_DirCreatedOnClient_DirChangedOnServer = 24,
	PSTATE_DirCreatedOnClient_DeletedOnServer = 25,
	PSTATE_DirChangedOnClient_FileOnServer = 26,
	PSTATE_DirChangedOnClient_FileChangedOnServer = 27,
	PSTATE_DirChangedOnClient_ChangedOnServer = 28,
	PSTATE_DirChangedOnClient_DeletedOnServer = 29,
	PSTATE_NoClientCopy_FileOnServer = 30,
	PSTATE_NoClientCopy_DirOnServer = 31,
	PSTATE_NoClientCopy_FileChangedOnServer = 32,
	PSTATE_NoClientCopy_DirChangedOnServer = 33,
	PSTATE_DeletedOnClient_FileOnServer = 34,
	PSTATE_DeletedOnClient_DirOnServer = 35,
	PSTATE_DeletedOnClient_FileChangedOnServer = 36,
	PSTATE_DeletedOnClient_DirChangedOnServer = 37,
	PSTATE_FileSparseOnClient = 38,
	PSTATE_FileChangedOnClient = 39,
	PSTATE_FileRenamedOnClient = 40,
	PSTATE_DirSparseOnClient = 41,
	PSTATE_DirChangedOnClient = 42,
	PSTATE_DirRenamedOnClient = 43,
	PSTATE_FileChangedOnServer = 44,
	PSTATE_FileRenamedOnServer = 45,
	PSTATE_FileDeletedOnServer = 46,
	PSTATE_DirChangedOnServer = 47,
	PSTATE_DirRenamedOnServer = 48,
	PSTATE_DirDeletedOnServer = 49,
	PSTATE_FileReplacedAndDeletedOnClient_FileOnServer = 50,
	PSTATE_FileReplacedAndDeletedOnClient_FileChangedOnServer = 51,
	PSTATE_FileReplacedAndDeletedOnClient_DirOnServer = 52,
	PSTATE_FileReplacedAndDeletedOnClient_DirChangedOnServer = 53,
	PSTATE_NUMSTATES = 54, /* not a state: the count */
};

/* What the engine does with the item. */
enum plan_op {
	POP_NONE, /* stable: nothing to do */
	POP_PUSH, /* upload local content/creation to the server */
	POP_PULL, /* bring the remote version into the cache (drop clean data, new base) */
	POP_FILL, /* fetch missing ranges of a sparse file (FILLSPARSE), remote unchanged */
	POP_CREATE_REMOTE_DIR, /* make the directory on the server */
	POP_DELETE_REMOTE,     /* local delete goes to the server */
	POP_DELETE_LOCAL,      /* remote delete comes into the cache */
	POP_ADD_LOCAL,	       /* new remote item appears in the cache (ghost) */
	POP_FORGET,	       /* both sides gone: drop the tombstone */
	POP_CONFLICT,	       /* both changed: conflict rules / handler decide */
	POP_RENAME_LOCAL,      /* renamed on the server (same file id): moved here too;
				  the engine's, never the table's */
	POP_NUMOPS,	       /* not an op: the count */
};

struct plan_decision {
	int state; /* enum plan_state */
	int op;	   /* enum plan_op */
};

/*
 * The table's key.  An item is reduced to four small values, and each table
 * row names, per value, the set it accepts (a bit mask).
 */
enum plan_lclass {
	PL_ABSENT,  /* nothing in the cache and no tombstone */
	PL_DELETED, /* tombstone: deleted locally */
	PL_CREATED, /* created locally, never synced */
	PL_CHANGED, /* changed locally since the last sync */
	PL_SPARSE,  /* a clean file with some bytes not cached */
	PL_CLEAN,   /* a clean file with every byte cached, or a clean directory */
};

enum plan_rclass {
	PR_ABSENT,  /* no base and nothing on the server */
	PR_NEW,	    /* no base, the server has something */
	PR_SAME,    /* the server matches the base */
	PR_CHANGED, /* the server differs from the base (kind, size, mtime or file id) */
	PR_GONE,    /* a base, and nothing on the server: deleted there */
};

struct plan_key {
	int lclass; /* enum plan_lclass */
	int lkind;  /* enum plan_side_kind of the cache; NONE when absent or deleted */
	int rclass; /* enum plan_rclass */
	int rkind;  /* enum plan_side_kind of the server; for PR_GONE, the base's kind */
};

/* Bit for one value in a row's mask: PLAN_BIT(PL_CLEAN), PLAN_BIT(PSIDE_DIR). */
#define PLAN_BIT(v) (1u << (v))

struct plan_row {
	unsigned lclass; /* PLAN_BIT(PL_*) accepted */
	unsigned lkind;	 /* PLAN_BIT(PSIDE_*) accepted for the cache */
	unsigned rclass; /* PLAN_BIT(PR_*) accepted */
	unsigned rkind;	 /* PLAN_BIT(PSIDE_*) accepted for the server */
	int state;	 /* enum plan_state decided */
	int op;		 /* enum plan_op decided */
};

/*
 * Returns the decision table and stores its number of rows in *n.  The rows
 * are disjoint and together cover every key built from valid kinds, so
 * their order does not matter (the unit test checks both).  Borrowed.
 */
const struct plan_row *plan_rows(size_t *n);

/* Reduces one item to its table key.  Pure. */
void plan_classify(const struct plan_local *l, const struct plan_base *b,
		   const struct plan_remote *r, struct plan_key *k);

/* Returns 1 when row accepts key k, else 0. */
int plan_row_match(const struct plan_row *row, const struct plan_key *k);

/*
 * Returns the index of the table row that decides this item, or -1 when no
 * row does (only for kinds outside enum plan_side_kind).  Pure.
 */
int plan_match(const struct plan_local *l, const struct plan_base *b, const struct plan_remote *r);

/*
 * Stores in *out the decision for one item.  An item no row accepts (a kind
 * outside enum plan_side_kind) gets Stable / POP_NONE: the engine never acts
 * on what it cannot classify.  Pure.
 */
void plan_decide(const struct plan_local *l, const struct plan_base *b, const struct plan_remote *r,
		 struct plan_decision *out);

/*
 * Returns the Windows name of a sync state without the OFFLINEFILES_SYNC_STATE_
 * prefix ("FileChangedOnClient_ChangedOnServer"), or NULL for a value that is
 * not a state.  Borrowed, static.
 */
const char *plan_state_name(int state);

/* Returns the name of an op without the POP_ prefix ("PUSH"), or NULL. */
const char *plan_op_name(int op);

/* Conflict resolution rules, as the CR_KEEP* sync flags name them. */
enum plan_keep {
	PKEEP_LOCAL = 1,  /* the cache's copy wins */
	PKEEP_REMOTE = 2, /* the server's copy wins */
	PKEEP_LATEST = 3, /* the side changed last wins */
};

/*
 * For a conflict and a rule, returns which side wins: PKEEP_LOCAL or
 * PKEEP_REMOTE; -EINVAL for a keep that is not a rule.
 *
 * KEEPLATEST compares the local last change (l->mtime, ns; for a local
 * delete, the time of the delete) with the server's mtime (r->mtime, 100 ns),
 * exactly, without rounding either.  The later one wins.  When the server's
 * copy is gone (r->kind NONE) the time of that delete is unknown to the
 * client, and a delete is the change that loses data: the local copy wins.
 * On an exact tie the side that still has content wins: the server when the
 * local side is a delete, else the cache.  Pure.
 */
int plan_resolve(int keep, const struct plan_local *l, const struct plan_remote *r);

#endif /* OFSYNC_PLAN_H */

/*
 * plan.c - the Synchronize planner's decision table; see plan.h.
 *
 * How an item is decided
 * ----------------------
 * Synchronize looks at each item three ways: what the cache has now, what the
 * server had at the last sync (the base), and what the server has now.  The
 * base is what makes "changed" meaningful on the server side: a server copy
 * that still matches the base was not touched, whatever its age.  On the
 * local side the index already knows (created, deleted, gen != synced_gen).
 *
 * Rather than a cascade of ifs, whose precedence hides in its nesting, the
 * item is first reduced to a key of four small values (plan_classify):
 *
 *   lclass  ABSENT, DELETED, CREATED, CHANGED, SPARSE or CLEAN, tested in
 *           that order: a tombstone is a delete whatever else is set, an
 *           item with no local kind is absent, a creation is more than a
 *           change, a change more than missing bytes.  Sparse only means
 *           something for files: a directory is CHANGED or CLEAN.
 *   lkind   FILE or DIR for a present local item, NONE otherwise.
 *   rclass  ABSENT / NEW without a base (nothing / something on the
 *           server); SAME, CHANGED or GONE against a valid base.  A change
 *           of kind on the server is a change.
 *   rkind   what the server has; for GONE, what it had (the base's kind),
 *           so a delete on the server can be named a file's or a dir's.
 *
 * The table is a flat array of rows.  A row holds, for each key value, the
 * set of values it accepts, and the state and op it decides.  plan_match
 * walks the rows and takes the one that accepts the key.  The rows are kept
 * disjoint and, between them, cover every key made of valid kinds; the unit
 * test enumerates every raw input to prove both, and has a hand-written case
 * for every row.  Order therefore carries no meaning, and each row can be
 * read (and argued about) on its own.
 *
 * The rules behind the rows:
 *   - One side changed: carry the change over (PUSH, PULL, DELETE_*,
 *     ADD_LOCAL, CREATE_REMOTE_DIR).
 *   - Both changed: CONFLICT; the engine applies the CR rule or asks the
 *     handler, or records the conflict.  Equal contents are found by the
 *     caller, not here.
 *   - A clean local copy, sparse or full, has nothing to lose: whatever the
 *     server did wins without a conflict (PULL, DELETE_LOCAL), even when
 *     the server's item changed kind.
 *   - A local directory is one exception: the planner sees one item, not its
 *     subtree, which may hold local changes.  A clean directory replaced by
 *     a file on the server is a conflict; one deleted on the server is
 *     DELETE_LOCAL, and the engine keeps it if anything below is dirty.
 *   - Both sides gone: FORGET the tombstone.  Directories created on both
 *     sides: nothing to do for the directory itself (op NONE); the engine
 *     merges the children, each planned on its own.
 *   - A creation the server has no copy of, or whose server copy was deleted
 *     since, is pushed: there is nothing on the server to lose.
 *
 * Windows has a state name for almost every row.  Where the fit is loose the
 * row says so.  Renames, sparse directories and files replaced after a local
 * delete are not modelled here, so their states are never produced.
 */
#include "sync/plan.h"

#include <errno.h>

#define L(c) PLAN_BIT(PL_##c)
#define R(c) PLAN_BIT(PR_##c)
#define K(k) PLAN_BIT(PSIDE_##k)
#define K_ANY (K(NONE) | K(FILE) | K(DIR))
#define ROW(lc, lk, rc, rk, st, op)                   \
	{                                             \
		lc, lk, rc, rk, PSTATE_##st, POP_##op \
	}

static const struct plan_row table[] = {
	/* Deleted locally (a tombstone). */
	ROW(L(DELETED), K(NONE), R(ABSENT) | R(GONE), K_ANY, Stable, FORGET),
	ROW(L(DELETED), K(NONE), R(SAME), K(FILE), DeletedOnClient_FileOnServer, DELETE_REMOTE),
	ROW(L(DELETED), K(NONE), R(SAME), K(DIR), DeletedOnClient_DirOnServer, DELETE_REMOTE),
	ROW(L(DELETED), K(NONE), R(CHANGED), K(FILE), DeletedOnClient_FileChangedOnServer,
	    CONFLICT),
	ROW(L(DELETED), K(NONE), R(CHANGED), K(DIR), DeletedOnClient_DirChangedOnServer, CONFLICT),
	/*
	 * A tombstone without a base: a local creation deleted before it was
	 * ever pushed.  Whatever the server now has under the name is not what
	 * was deleted, so it comes in as new.
	 */
	ROW(L(DELETED), K(NONE), R(NEW), K(FILE), NoClientCopy_FileOnServer, ADD_LOCAL),
	ROW(L(DELETED), K(NONE), R(NEW), K(DIR), NoClientCopy_DirOnServer, ADD_LOCAL),

	/* Nothing in the cache (a name the index knows, or a new one on the server). */
	ROW(L(ABSENT), K(NONE), R(ABSENT), K(NONE), Stable, NONE),
	ROW(L(ABSENT), K(NONE), R(NEW) | R(SAME), K(FILE), NoClientCopy_FileOnServer, ADD_LOCAL),
	ROW(L(ABSENT), K(NONE), R(NEW) | R(SAME), K(DIR), NoClientCopy_DirOnServer, ADD_LOCAL),
	ROW(L(ABSENT), K(NONE), R(CHANGED), K(FILE), NoClientCopy_FileChangedOnServer, ADD_LOCAL),
	ROW(L(ABSENT), K(NONE), R(CHANGED), K(DIR), NoClientCopy_DirChangedOnServer, ADD_LOCAL),
	/* A base of no kind is nonsense; it is filed with the files. */
	ROW(L(ABSENT), K(NONE), R(GONE), K(NONE) | K(FILE), FileDeletedOnServer, DELETE_LOCAL),
	ROW(L(ABSENT), K(NONE), R(GONE), K(DIR), DirDeletedOnServer, DELETE_LOCAL),

	/* A file created locally. */
	ROW(L(CREATED), K(FILE), R(ABSENT), K(NONE), FileCreatedOnClient_NoServerCopy, PUSH),
	ROW(L(CREATED), K(FILE), R(GONE), K_ANY, FileCreatedOnClient_DeletedOnServer, PUSH),
	ROW(L(CREATED), K(FILE), R(NEW) | R(SAME), K(FILE), FileCreatedOnClient_FileOnServer,
	    CONFLICT),
	ROW(L(CREATED), K(FILE), R(CHANGED), K(FILE), FileCreatedOnClient_FileChangedOnServer,
	    CONFLICT),
	ROW(L(CREATED), K(FILE), R(NEW) | R(SAME), K(DIR), FileCreatedOnClient_DirOnServer,
	    CONFLICT),
	ROW(L(CREATED), K(FILE), R(CHANGED), K(DIR), FileCreatedOnClient_DirChangedOnServer,
	    CONFLICT),

	/* A directory created locally. */
	ROW(L(CREATED), K(DIR), R(ABSENT), K(NONE), DirCreatedOnClient_NoServerCopy,
	    CREATE_REMOTE_DIR),
	ROW(L(CREATED), K(DIR), R(GONE), K_ANY, DirCreatedOnClient_DeletedOnServer,
	    CREATE_REMOTE_DIR),
	/* Made on both sides: the directories merge, their children are planned one by one. */
	ROW(L(CREATED), K(DIR), R(NEW) | R(SAME), K(DIR), DirCreatedOnClient_DirOnServer, NONE),
	ROW(L(CREATED), K(DIR), R(CHANGED), K(DIR), DirCreatedOnClient_DirChangedOnServer, NONE),
	ROW(L(CREATED), K(DIR), R(NEW) | R(SAME), K(FILE), DirCreatedOnClient_FileOnServer,
	    CONFLICT),
	ROW(L(CREATED), K(DIR), R(CHANGED), K(FILE), DirCreatedOnClient_FileChangedOnServer,
	    CONFLICT),

	/*
	 * A local file the server never had, that is neither a recorded
	 * creation nor a tombstone: a consistent index has none, since only a
	 * sync gives a file a base.  Windows' name for it is FileOnClient_
	 * NoServerCopy.  The local bytes are the only copy, so they are pushed
	 * (a sparse file's push fails on its missing bytes and says so); the
	 * engine never deletes what it cannot explain.
	 */
	ROW(L(CHANGED) | L(SPARSE) | L(CLEAN), K(FILE), R(ABSENT), K(NONE),
	    FileOnClient_NoServerCopy, PUSH),
	/* The same for a directory. */
	ROW(L(CHANGED) | L(CLEAN), K(DIR), R(ABSENT), K(NONE), DirOnClient_NoServerCopy,
	    CREATE_REMOTE_DIR),

	/* A file changed locally. */
	ROW(L(CHANGED), K(FILE), R(SAME), K(FILE), FileChangedOnClient, PUSH),
	ROW(L(CHANGED), K(FILE), R(NEW) | R(CHANGED), K(FILE), FileChangedOnClient_ChangedOnServer,
	    CONFLICT),
	ROW(L(CHANGED), K(FILE), R(GONE), K_ANY, FileChangedOnClient_DeletedOnServer, CONFLICT),
	ROW(L(CHANGED), K(FILE), R(NEW) | R(SAME), K(DIR), FileChangedOnClient_DirOnServer,
	    CONFLICT),
	ROW(L(CHANGED), K(FILE), R(CHANGED), K(DIR), FileChangedOnClient_DirChangedOnServer,
	    CONFLICT),

	/* A directory whose attributes changed locally. */
	ROW(L(CHANGED), K(DIR), R(SAME), K(DIR), DirChangedOnClient, PUSH),
	ROW(L(CHANGED), K(DIR), R(NEW) | R(CHANGED), K(DIR), DirChangedOnClient_ChangedOnServer,
	    CONFLICT),
	ROW(L(CHANGED), K(DIR), R(GONE), K_ANY, DirChangedOnClient_DeletedOnServer, CONFLICT),
	ROW(L(CHANGED), K(DIR), R(NEW) | R(SAME), K(FILE), DirChangedOnClient_FileOnServer,
	    CONFLICT),
	ROW(L(CHANGED), K(DIR), R(CHANGED), K(FILE), DirChangedOnClient_FileChangedOnServer,
	    CONFLICT),

	/*
	 * A clean sparse file: nothing to lose, the server wins.  Unchanged, the
	 * item is Stable and only has bytes to fetch (the engine fills it with
	 * FILLSPARSE or SYNCIN).  Windows also has FileSparseOnClient for this;
	 * Stable is used because there is nothing to reconcile.
	 */
	ROW(L(SPARSE), K(FILE), R(SAME), K(FILE), Stable, FILL),
	ROW(L(SPARSE), K(FILE), R(NEW) | R(CHANGED), K(FILE), FileSparseOnClient_ChangedOnServer,
	    PULL),
	ROW(L(SPARSE), K(FILE), R(GONE), K_ANY, FileSparseOnClient_DeletedOnServer, DELETE_LOCAL),
	ROW(L(SPARSE), K(FILE), R(NEW) | R(SAME), K(DIR), FileSparseOnClient_DirOnServer, PULL),
	ROW(L(SPARSE), K(FILE), R(CHANGED), K(DIR), FileSparseOnClient_DirChangedOnServer, PULL),

	/*
	 * A clean full file: the server wins.  Windows has no FileOnClient_
	 * DirChangedOnServer, so a directory there, changed or not, is
	 * FileOnClient_DirOnServer.
	 */
	ROW(L(CLEAN), K(FILE), R(SAME), K(FILE), Stable, NONE),
	ROW(L(CLEAN), K(FILE), R(NEW) | R(CHANGED), K(FILE), FileChangedOnServer, PULL),
	ROW(L(CLEAN), K(FILE), R(GONE), K_ANY, FileDeletedOnServer, DELETE_LOCAL),
	ROW(L(CLEAN), K(FILE), R(NEW) | R(SAME) | R(CHANGED), K(DIR), FileOnClient_DirOnServer,
	    PULL),

	/* A clean directory (see the essay for why a file in its place is a conflict). */
	ROW(L(CLEAN), K(DIR), R(SAME), K(DIR), Stable, NONE),
	ROW(L(CLEAN), K(DIR), R(NEW) | R(CHANGED), K(DIR), DirChangedOnServer, PULL),
	ROW(L(CLEAN), K(DIR), R(GONE), K_ANY, DirDeletedOnServer, DELETE_LOCAL),
	ROW(L(CLEAN), K(DIR), R(NEW) | R(SAME), K(FILE), DirOnClient_FileOnServer, CONFLICT),
	ROW(L(CLEAN), K(DIR), R(CHANGED), K(FILE), DirOnClient_FileChangedOnServer, CONFLICT),
};

#define NROWS (sizeof(table) / sizeof(table[0]))

static const char *const state_names[PSTATE_NUMSTATES] = {
	[PSTATE_Stable] = "Stable",
	[PSTATE_FileOnClient_DirOnServer] = "FileOnClient_DirOnServer",
	[PSTATE_FileOnClient_NoServerCopy] = "FileOnClient_NoServerCopy",
	[PSTATE_DirOnClient_FileOnServer] = "DirOnClient_FileOnServer",
	[PSTATE_DirOnClient_FileChangedOnServer] = "DirOnClient_FileChangedOnServer",
	[PSTATE_DirOnClient_NoServerCopy] = "DirOnClient_NoServerCopy",
	[PSTATE_FileCreatedOnClient_NoServerCopy] = "FileCreatedOnClient_NoServerCopy",
	[PSTATE_FileCreatedOnClient_FileChangedOnServer] =
		"FileCreatedOnClient_FileChangedOnServer",
	[PSTATE_FileCreatedOnClient_DirChangedOnServer] = "FileCreatedOnClient_DirChangedOnServer",
	[PSTATE_FileCreatedOnClient_FileOnServer] = "FileCreatedOnClient_FileOnServer",
	[PSTATE_FileCreatedOnClient_DirOnServer] = "FileCreatedOnClient_DirOnServer",
	[PSTATE_FileCreatedOnClient_DeletedOnServer] = "FileCreatedOnClient_DeletedOnServer",
	[PSTATE_FileChangedOnClient_ChangedOnServer] = "FileChangedOnClient_ChangedOnServer",
	[PSTATE_FileChangedOnClient_DirOnServer] = "FileChangedOnClient_DirOnServer",
	[PSTATE_FileChangedOnClient_DirChangedOnServer] = "FileChangedOnClient_DirChangedOnServer",
	[PSTATE_FileChangedOnClient_DeletedOnServer] = "FileChangedOnClient_DeletedOnServer",
	[PSTATE_FileSparseOnClient_ChangedOnServer] = "FileSparseOnClient_ChangedOnServer",
	[PSTATE_FileSparseOnClient_DeletedOnServer] = "FileSparseOnClient_DeletedOnServer",
	[PSTATE_FileSparseOnClient_DirOnServer] = "FileSparseOnClient_DirOnServer",
	[PSTATE_FileSparseOnClient_DirChangedOnServer] = "FileSparseOnClient_DirChangedOnServer",
	[PSTATE_DirCreatedOnClient_NoServerCopy] = "DirCreatedOnClient_NoServerCopy",
	[PSTATE_DirCreatedOnClient_DirOnServer] = "DirCreatedOnClient_DirOnServer",
	[PSTATE_DirCreatedOnClient_FileOnServer] = "DirCreatedOnClient_FileOnServer",
	[PSTATE_DirCreatedOnClient_FileChangedOnServer] = "DirCreatedOnClient_FileChangedOnServer",
	[PSTATE_DirCreatedOnClient_DirChangedOnServer] = "DirCreatedOnClient_DirChangedOnServer",
	[PSTATE_DirCreatedOnClient_DeletedOnServer] = "DirCreatedOnClient_DeletedOnServer",
	[PSTATE_DirChangedOnClient_FileOnServer] = "DirChangedOnClient_FileOnServer",
	[PSTATE_DirChangedOnClient_FileChangedOnServer] = "DirChangedOnClient_FileChangedOnServer",
	[PSTATE_DirChangedOnClient_ChangedOnServer] = "DirChangedOnClient_ChangedOnServer",
	[PSTATE_DirChangedOnClient_DeletedOnServer] = "DirChangedOnClient_DeletedOnServer",
	[PSTATE_NoClientCopy_FileOnServer] = "NoClientCopy_FileOnServer",
	[PSTATE_NoClientCopy_DirOnServer] = "NoClientCopy_DirOnServer",
	[PSTATE_NoClientCopy_FileChangedOnServer] = "NoClientCopy_FileChangedOnServer",
	[PSTATE_NoClientCopy_DirChangedOnServer] = "NoClientCopy_DirChangedOnServer",
	[PSTATE_DeletedOnClient_FileOnServer] = "DeletedOnClient_FileOnServer",
	[PSTATE_DeletedOnClient_DirOnServer] = "DeletedOnClient_DirOnServer",
	[PSTATE_DeletedOnClient_FileChangedOnServer] = "DeletedOnClient_FileChangedOnServer",
	[PSTATE_DeletedOnClient_DirChangedOnServer] = "DeletedOnClient_DirChangedOnServer",
	[PSTATE_FileSparseOnClient] = "FileSparseOnClient",
	[PSTATE_FileChangedOnClient] = "FileChangedOnClient",
	[PSTATE_FileRenamedOnClient] = "FileRenamedOnClient",
	[PSTATE_DirSparseOnClient] = "DirSparseOnClient",
	[PSTATE_DirChangedOnClient] = "DirChangedOnClient",
	[PSTATE_DirRenamedOnClient] = "DirRenamedOnClient",
	[PSTATE_FileChangedOnServer] = "FileChangedOnServer",
	[PSTATE_FileRenamedOnServer] = "FileRenamedOnServer",
	[PSTATE_FileDeletedOnServer] = "FileDeletedOnServer",
	[PSTATE_DirChangedOnServer] = "DirChangedOnServer",
	[PSTATE_DirRenamedOnServer] = "DirRenamedOnServer",
	[PSTATE_DirDeletedOnServer] = "DirDeletedOnServer",
	[PSTATE_FileReplacedAndDeletedOnClient_FileOnServer] =
		"FileReplacedAndDeletedOnClient_FileOnServer",
	[PSTATE_FileReplacedAndDeletedOnClient_FileChangedOnServer] =
		"FileReplacedAndDeletedOnClient_FileChangedOnServer",
	[PSTATE_FileReplacedAndDeletedOnClient_DirOnServer] =
		"FileReplacedAndDeletedOnClient_DirOnServer",
	[PSTATE_FileReplacedAndDeletedOnClient_DirChangedOnServer] =
		"FileReplacedAndDeletedOnClient_DirChangedOnServer",
};

static const char *const op_names[POP_NUMOPS] = {
	[POP_NONE] = "NONE",
	[POP_PUSH] = "PUSH",
	[POP_PULL] = "PULL",
	[POP_FILL] = "FILL",
	[POP_CREATE_REMOTE_DIR] = "CREATE_REMOTE_DIR",
	[POP_DELETE_REMOTE] = "DELETE_REMOTE",
	[POP_DELETE_LOCAL] = "DELETE_LOCAL",
	[POP_ADD_LOCAL] = "ADD_LOCAL",
	[POP_FORGET] = "FORGET",
	[POP_CONFLICT] = "CONFLICT",
	[POP_RENAME_LOCAL] = "RENAME_LOCAL",
};

const struct plan_row *plan_rows(size_t *n)
{
	*n = NROWS;
	return table;
}

void plan_classify(const struct plan_local *l, const struct plan_base *b,
		   const struct plan_remote *r, struct plan_key *k)
{
	if (l->deleted)
		k->lclass = PL_DELETED;
	else if (l->kind == PSIDE_NONE)
		k->lclass = PL_ABSENT;
	else if (l->created)
		k->lclass = PL_CREATED;
	else if (l->changed)
		k->lclass = PL_CHANGED;
	else if (l->sparse && l->kind == PSIDE_FILE)
		k->lclass = PL_SPARSE;
	else
		k->lclass = PL_CLEAN;
	k->lkind = k->lclass == PL_DELETED || k->lclass == PL_ABSENT ? PSIDE_NONE : l->kind;

	if (r->kind == PSIDE_NONE) {
		k->rclass = b->valid ? PR_GONE : PR_ABSENT;
		k->rkind = b->valid ? b->kind : PSIDE_NONE;
	} else {
		if (!b->valid)
			k->rclass = PR_NEW;
		else if (r->kind != b->kind || r->size != b->size || r->mtime != b->mtime ||
			 r->file_id != b->file_id)
			k->rclass = PR_CHANGED;
		else
			k->rclass = PR_SAME;
		k->rkind = r->kind;
	}
}

/* PLAN_BIT(v) & mask, safe for any int v (out-of-range values match nothing). */
static int in_mask(unsigned mask, int v)
{
	return v >= 0 && v < 32 && (mask & PLAN_BIT(v));
}

int plan_row_match(const struct plan_row *row, const struct plan_key *k)
{
	return in_mask(row->lclass, k->lclass) && in_mask(row->lkind, k->lkind) &&
	       in_mask(row->rclass, k->rclass) && in_mask(row->rkind, k->rkind);
}

int plan_match(const struct plan_local *l, const struct plan_base *b, const struct plan_remote *r)
{
	struct plan_key k;
	size_t i;

	plan_classify(l, b, r, &k);
	for (i = 0; i < NROWS; i++)
		if (plan_row_match(&table[i], &k))
			return (int)i;
	return -1;
}

void plan_decide(const struct plan_local *l, const struct plan_base *b, const struct plan_remote *r,
		 struct plan_decision *out)
{
	int i = plan_match(l, b, r);

	if (i < 0) {
		out->state = PSTATE_Stable;
		out->op = POP_NONE;
		return;
	}
	out->state = table[i].state;
	out->op = table[i].op;
}

const char *plan_state_name(int state)
{
	if (state < 0 || state >= PSTATE_NUMSTATES)
		return NULL;
	return state_names[state];
}

const char *plan_op_name(int op)
{
	if (op < 0 || op >= POP_NUMOPS)
		return NULL;
	return op_names[op];
}

/*
 * Compares a time in ns with one in 100 ns units, exactly: returns <0, 0 or
 * >0 as ns is earlier than, equal to or later than t100.  Splits ns instead
 * of multiplying t100, which could overflow.
 */
static int cmp_ns_100ns(int64_t ns, int64_t t100)
{
	int64_t q = ns / 100, rem = ns % 100;

	if (rem < 0) { /* C rounds toward zero; make q the floor */
		q--;
		rem += 100;
	}
	if (q != t100)
		return q < t100 ? -1 : 1;
	return rem > 0;
}

int plan_resolve(int keep, const struct plan_local *l, const struct plan_remote *r)
{
	int local_gone, c;

	switch (keep) {
	case PKEEP_LOCAL:
	case PKEEP_REMOTE:
		return keep;
	case PKEEP_LATEST:
		break;
	default:
		return -EINVAL;
	}
	if (r->kind == PSIDE_NONE) /* deleted on the server, at a time we cannot know */
		return PKEEP_LOCAL;
	local_gone = l->deleted || l->kind == PSIDE_NONE;
	c = cmp_ns_100ns(l->mtime, r->mtime);
	if (c != 0)
		return c > 0 ? PKEEP_LOCAL : PKEEP_REMOTE;
	return local_gone ? PKEEP_REMOTE : PKEEP_LOCAL;
}

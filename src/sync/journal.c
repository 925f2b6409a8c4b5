/*
 * journal.c - replaying namespace changes made offline; see sync.h.
 *
 * The ops run in the order the user made them, with the paths they had then,
 * so a sequence such as "mkdir d; create d/f; rename d e" reaches the server
 * as exactly that, and a rename stays a rename (the server keeps the file's
 * id).  Before each op the server's side is looked at again:
 *   MKDIR   an existing directory is taken as is (the two merge); a file
 *           there is a conflict.
 *   CREATE  an existing file is a conflict (FileCreatedOnClient_FileOnServer)
 *           unless it is the item's own upload.
 *   UNLINK  a file changed on the server since the base is a conflict
 *           (DeletedOnClient_FileChangedOnServer): the resolver (the sync's
 *           handler or CR rule) may delete it anyway (KEEPLOCAL), drop the
 *           delete so that the server's copy comes back (KEEPREMOTE), leave
 *           it for later (SKIP) or stop.  Else (LOG, or a background sync,
 *           which has nobody to ask) it is recorded and the delete waits in
 *           the journal for the user's decision; the server's copy is not
 *           deleted.  KEEPLATEST weighs the time of the delete against the
 *           server's mtime.  A missing file is fine.
 *   RMDIR   a directory the server filled meanwhile is not deleted.
 *   RENAME  a source gone from the server, or a target that exists there, is
 *           a conflict; nothing is overwritten.
 * A conflict is recorded in the conflict store and every later op of that
 * item is dropped with it (replaying them could touch someone else's file);
 * the local copy stays as it is.  A connection error stops the replay and
 * leaves the op for the next try.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ofsync.h"
#include "sync/sync.h"
#include "util/log.h"
#include "util/util.h"

void sync_record_conflict(struct cache *c, uint64_t share, uint64_t item, const char *path,
			  const char *state, const char *detail)
{
	log_warn("conflict on %s: %s%s%s", path, state, detail && *detail ? ": " : "",
		 detail ? detail : "");
	if (index_conflict_add(cache_index(c), share, item, path, state, detail, now_ns()) == 0)
		cache_conflict_event(c, 1, share, item, path, state);
}

void sync_clear_conflict(struct cache *c, uint64_t item)
{
	struct index_item it;
	uint64_t share = 0;
	char path[4096];

	if (index_conflict_clear_item(cache_index(c), item) > 0) {
		if (index_path(cache_index(c), item, path, sizeof(path)) < 0)
			path[0] = '\0';
		if (index_get(cache_index(c), item, &it) == 0) {
			share = it.share;
			index_item_release(&it);
		}
		cache_conflict_event(c, 0, share, item, path, "");
	}
}

/* After a successful MKDIR or CREATE: the item is on the server now. */
static void created(struct cache *c, struct smb *s, const struct journal_op *op)
{
	struct smb_stat st;
	struct node *n;

	if (smb_stat(s, op->path, &st) < 0 || cache_node_get(c, op->item, &n) < 0)
		return;
	pthread_mutex_lock(&n->lock);
	n->it.flags &= ~ITEM_F_CREATED;
	if (n->it.type == ITEM_DIR) {
		cache_listings_stale(c);
		sync_base_from_stat(&n->it.base, &st);
		n->it.synced_gen = n->it.gen;
		n->it.listed = 0; /* list it again: the server may have more */
	} else if (!n->it.base.valid) {
		/* An empty file: its content follows as an ordinary upload. */
		sync_base_from_stat(&n->it.base, &st);
	}
	cache_node_save(c, n);
	pthread_mutex_unlock(&n->lock);
	cache_node_put(c, n, 1);
}

/* Is the file at path the item's own (uploaded before its CREATE replayed)? */
static int is_own(struct cache *c, const struct journal_op *op, const struct smb_stat *st)
{
	struct index_item it;
	int own;

	if (index_get(cache_index(c), op->item, &it) < 0)
		return 0;
	own = it.base.valid && it.base.file_id == st->file_id;
	index_item_release(&it);
	return own;
}

/* What apply() made of an op besides 0 (done) and a negative errno. */
enum {
	OP_CONFLICT = 1, /* recorded here; the item's later ops are dropped */
	OP_DROPPED = 2,	 /* settled by giving up the local change */
	OP_HELD = 3,	 /* left in the journal (SKIP), and the item's later ops with it */
	OP_WAITS = 4,	 /* a recorded conflict; held like OP_HELD until the user decides */
};

/* A local delete against a server change: asks the resolver. */
static int unlink_conflict(struct cache *c, struct smb *s, const struct journal_op *op,
			   const struct smb_stat *st, const struct sync_resolver *res)
{
	struct plan_local l = {.kind = PSIDE_NONE, .deleted = 1, .mtime = op->time};
	struct plan_base b = {.valid = 1,
			      .kind = PSIDE_FILE,
			      .size = op->base.size,
			      .mtime = op->base.mtime,
			      .file_id = op->base.file_id};
	struct plan_remote r = {.kind = st->type == SMB_DIR ? PSIDE_DIR : PSIDE_FILE,
				.size = st->size,
				.mtime = st->mtime,
				.file_id = st->file_id};
	struct sync_conflict q = {op->path, PSTATE_DeletedOnClient_FileChangedOnServer, &l, &b, &r,
				  0};
	int ans = res ? res->settle(res->arg, &q) : OFSYNC_RESOLVE_LOG;
	uint64_t known = 0;
	int rc;

	switch (ans) {
	case OFSYNC_RESOLVE_KEEPLOCAL:
		rc = smb_unlink(s, op->path);
		rc = rc == -ENOENT ? 0 : rc;
		break;
	case OFSYNC_RESOLVE_KEEPREMOTE:
		rc = OP_DROPPED; /* a sync-in brings the server's copy back */
		break;
	case OFSYNC_RESOLVE_SKIP:
		return OP_HELD;
	case OFSYNC_RESOLVE_ABORT:
		return -ECANCELED;
	default:
		/* Recorded once (a background sync comes back every interval). */
		if (index_conflict_item(cache_index(c), op->item, &known) < 0 || known == 0)
			sync_record_conflict(c, op->share, op->item, op->path,
					     "DeletedOnClient_FileChangedOnServer",
					     "changed on the server; not deleted there");
		rc = OP_WAITS;
		break;
	}
	if (rc == 0 || rc == OP_DROPPED)
		sync_clear_conflict(c, op->item);
	if (res && res->report && !smb_is_conn_error(rc))
		res->report(res->arg, op->path, q.state, POP_CONFLICT,
			    rc == OP_WAITS ? -ESTALE :
			    rc > 0	   ? 0 :
					     rc);
	return rc;
}

/*
 * Applies one op.  Returns 0 when done, OP_* (a conflict is recorded here),
 * or a negative errno (a connection error leaves it for later).
 */
static int apply(struct cache *c, struct smb *s, const struct journal_op *op,
		 const struct sync_resolver *res)
{
	struct smb_stat st;
	struct smb_file *f;
	char why[8400];
	int rc;

	switch (op->op) {
	case JOP_MKDIR:
		rc = smb_mkdir(s, op->path, 0755);
		if (rc == -EEXIST) {
			rc = smb_stat(s, op->path, &st);
			if (rc == 0 && st.type != SMB_DIR) {
				sync_record_conflict(c, op->share, op->item, op->path,
						     "DirCreatedOnClient_FileOnServer",
						     "a file of that name is on the server");
				return OP_CONFLICT;
			}
		}
		if (rc == 0)
			created(c, s, op);
		return rc;
	case JOP_CREATE:
		rc = smb_open(s, op->path, O_WRONLY | O_CREAT | O_EXCL, 0644, &f);
		if (rc == 0)
			rc = smb_close(s, f);
		if (rc == -EEXIST) {
			rc = smb_stat(s, op->path, &st);
			if (rc == 0 && !is_own(c, op, &st)) {
				sync_record_conflict(c, op->share, op->item, op->path,
						     "FileCreatedOnClient_FileOnServer",
						     "the server has a file of that name too");
				return OP_CONFLICT;
			}
		}
		if (rc == 0)
			created(c, s, op);
		return rc;
	case JOP_UNLINK:
		rc = smb_stat(s, op->path, &st);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		if (op->base.valid && sync_base_changed(&op->base, &st))
			return unlink_conflict(c, s, op, &st, res);
		rc = smb_unlink(s, op->path);
		return rc == -ENOENT ? 0 : rc;
	case JOP_RMDIR:
		rc = smb_rmdir(s, op->path);
		if (rc == -ENOENT)
			return 0;
		if (rc == -ENOTEMPTY || rc == -EEXIST) {
			sync_record_conflict(c, op->share, op->item, op->path,
					     "DeletedOnClient_DirChangedOnServer",
					     "the server's directory is not empty; not deleted");
			return OP_CONFLICT;
		}
		return rc;
	case JOP_RENAME:
		rc = smb_stat(s, op->path, &st);
		if (rc == -ENOENT) {
			snprintf(why, sizeof(why), "renamed here to %s, deleted on the server",
				 op->path2);
			sync_record_conflict(c, op->share, op->item, op->path2,
					     "RenamedOnClient_DeletedOnServer", why);
			return OP_CONFLICT;
		}
		if (rc < 0)
			return rc;
		rc = smb_stat(s, op->path2, &st);
		if (rc == 0) {
			snprintf(why, sizeof(why), "renamed here from %s; the server has %s too",
				 op->path, op->path2);
			sync_record_conflict(c, op->share, op->item, op->path2,
					     "RenamedOnClient_FileOnServer", why);
			return OP_CONFLICT;
		}
		if (rc != -ENOENT)
			return rc;
		return smb_rename(s, op->path, op->path2);
	}
	return -EINVAL;
}

/* Adds item to the held list; 0 or -ENOMEM. */
static int hold(uint64_t **held, size_t *nheld, uint64_t item)
{
	uint64_t *nh = realloc(*held, (*nheld + 1) * sizeof(**held));

	if (!nh)
		return -ENOMEM;
	*held = nh;
	nh[(*nheld)++] = item;
	return 0;
}

int sync_replay_journal(struct cache *c, struct smb *s, uint64_t share, uint64_t root,
			int include_suspended, int no_new_files, const struct sync_resolver *res,
			unsigned *done, unsigned *conflicts)
{
	struct journal_op op;
	uint64_t after = 0, *held = NULL;
	size_t nheld = 0;
	int rc;

	*done = *conflicts = 0;
	while ((rc = index_journal_next(cache_index(c), share, after, &op)) == 0) {
		int is_held = 0;
		after = op.seq;
		/*
		 * NONEWFILESOUT: a file created here stays here, and every later op
		 * of that item waits with it (they need it on the server).
		 */
		for (size_t i = 0; i < nheld; i++)
			is_held |= held[i] == op.item;
		if (!is_held && no_new_files && op.op == JOP_CREATE) {
			rc = hold(&held, &nheld, op.item);
			if (rc < 0)
				break;
			is_held = 1;
		}
		if (is_held)
			continue;
		if (!include_suspended &&
		    (sync_path_suspended(c, root, op.path) ||
		     (op.op == JOP_RENAME && sync_path_suspended(c, root, op.path2)))) {
			free(held);
			return 0; /* suspended: it and all after it wait, in order */
		}
		rc = apply(c, s, &op, res);
		if (rc < 0 && (smb_is_conn_error(rc) || rc == -ECANCELED)) {
			free(held);
			return rc; /* keep it for the next try */
		}
		if (rc == OP_HELD || rc == OP_WAITS) {
			if (rc == OP_WAITS)
				(*conflicts)++;
			rc = hold(&held, &nheld, op.item);
			if (rc < 0)
				break;
			continue;
		}
		if (rc < 0) {
			/* The server refused it for good (a name it does not take, ...). */
			char why[256];
			snprintf(why, sizeof(why), "the server refused it: %s", strerror(-rc));
			sync_record_conflict(c, share, op.item,
					     op.op == JOP_RENAME ? op.path2 : op.path, "Error",
					     why);
			rc = OP_CONFLICT;
		}
		if (rc == OP_CONFLICT) {
			(*conflicts)++;
			index_journal_drop_item(cache_index(c), op.item);
		} else if (rc == OP_DROPPED) {
			(*done)++;
			index_journal_drop_item(cache_index(c), op.item);
		} else {
			(*done)++;
			index_journal_del(cache_index(c), op.seq);
		}
	}
	free(held);
	return rc == -ENOENT ? 0 : rc;
}

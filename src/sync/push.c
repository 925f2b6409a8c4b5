/*
 * push.c - uploading a dirty file; see sync_push_file in sync.h.
 *
 * The order of an upload (DESIGN.md section 7):
 *   1. snapshot the generation, size and base under the node lock;
 *   2. write the whole content to SYNC_TMP_PREFIX<name>.<random> in the same
 *      directory: cached bytes from the cache file, the rest from the
 *      server's current file;
 *   3. stat the target and compare it with the base: a change there is a
 *      conflict and the temporary file is removed;
 *   4. rename the temporary file over the target, stat it, set its times
 *      if the server's differ from ours by more than MTIME_SLACK, and record
 *      the server's stat as the new base; the item is clean only if its
 *      generation did not move during the upload.
 *
 * A small file new to the server (no base: created here) skips the
 * temporary name: it is created under its real name with O_EXCL, written,
 * closed, and stat'ed as in step 4; on a server that keeps the time a
 * handle shows once its size is set (smb.h, smb_dating: Samba), the stat
 * is taken on the handle before the close (set size, stat: two round trips
 * for the three of a stat by name).  The temporary name protects a good
 * file from being replaced by a half-written one; a new name has no file to
 * protect, and O_EXCL does the check of step 3 (a file someone else put
 * there is a conflict, both kept) in the same round trip.  It saves the
 * stat of the target and the rename of the temporary: four round trips.
 * What another client may see meanwhile is what any SMB copy shows: the
 * new name with part of the content, for the few writes (at most
 * DIRECT_MAX bytes) between the create and the close.
 * If the upload fails midway the partial file is removed; if the daemon
 * dies or the connection drops midway it stays, and the next upload finds
 * a file it does not know there: a FileCreatedOnClient_FileOnServer
 * conflict, both copies kept, nothing lost.
 *
 * One upload of a node at a time: uploads and local-only renames (sync.h,
 * sync_push_hold) of the same node wait for each other, so that an upload
 * never lands under a name the file no longer has.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sync/sync.h"
#include "util/log.h"
#include "util/util.h"

/* Builds "dir/SYNC_TMP_PREFIX<name>.<8 random hex digits>" next to path. */
static int temp_name(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	uint32_t rnd = 0;
	int n;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)mono_ns();
	n = snprintf(buf, len, "%.*s/%s%s.%08x", (int)(slash - path), path, SYNC_TMP_PREFIX,
		     slash + 1, rnd);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Nodes being uploaded or held by sync_push_hold: a short list, as many as
 * threads upload at once.  Protected by busy_lock; busy_cond is broadcast
 * when a node leaves it.  Taken before any node lock, never with one held.
 */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cond = PTHREAD_COND_INITIALIZER;
static const struct node **busy;
static size_t nbusy, busy_cap;

static int busy_find(const struct node *n)
{
	for (size_t i = 0; i < nbusy; i++)
		if (busy[i] == n)
			return (int)i;
	return -1;
}

/* Waits until no one else has n, then marks it busy.  0 or -ENOMEM. */
static int busy_enter(const struct node *n)
{
	int rc = 0;

	pthread_mutex_lock(&busy_lock);
	while (busy_find(n) >= 0)
		pthread_cond_wait(&busy_cond, &busy_lock);
	if (nbusy == busy_cap) {
		size_t cap = busy_cap ? busy_cap * 2 : 16;
		const struct node **nb = realloc(busy, cap * sizeof(*nb));
		if (nb) {
			busy = nb;
			busy_cap = cap;
		} else {
			rc = -ENOMEM;
		}
	}
	if (rc == 0)
		busy[nbusy++] = n;
	pthread_mutex_unlock(&busy_lock);
	return rc;
}

static void busy_leave(const struct node *n)
{
	int i;

	pthread_mutex_lock(&busy_lock);
	i = busy_find(n);
	if (i >= 0)
		busy[i] = busy[--nbusy];
	pthread_cond_broadcast(&busy_cond);
	pthread_mutex_unlock(&busy_lock);
}

int sync_push_hold(struct node *n)
{
	return busy_enter(n);
}

void sync_push_release(struct node *n)
{
	busy_leave(n);
}

struct snapshot {
	uint64_t gen;
	int64_t size;
	int64_t mtime;
	struct rbase base;
	uint32_t mode;
	uint64_t share;
	int fd;
	struct rangeset dirty; /* the bytes changed here since the base */
};

/* Below this size a file is sent whole: a server-side copy costs more. */
#define DIFF_MIN (1 << 20)

/* A new file up to this size is created under its real name (see the top). */
#define DIRECT_MAX (1 << 20)

/*
 * How far the server's mtime of a file just uploaded may be from ours
 * before ours is set there (upload): 2 s, the granularity of FAT and the
 * tolerance of robocopy /FFT.
 */
#define MTIME_SLACK (2 * (int64_t)1000000000)

/* Copies the content into the open temporary file. */
static int copy_content(struct cache *c, struct smb *s, struct node *n, const struct snapshot *sn,
			const char *path, struct smb_file *out)
{
	struct rangeset missing = RANGESET_INIT;
	struct smb_file *orig = NULL;
	char *buf;
	int rc = 0;

	buf = malloc(CACHE_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (int64_t off = 0; off < sn->size && rc == 0; off += CACHE_CHUNK) {
		size_t len = (size_t)(sn->size - off < CACHE_CHUNK ? sn->size - off : CACHE_CHUNK);
		ssize_t got;

		pthread_mutex_lock(&n->lock);
		rc = rangeset_missing(&n->it.present, (uint64_t)off, (uint64_t)off + len, &missing);
		pthread_mutex_unlock(&n->lock);
		if (rc < 0)
			break;
		if (missing.n == 0 || rangeset_total(&missing) < len) {
			got = pread_full(sn->fd, buf, len, off);
			if (got < 0) {
				rc = (int)got;
				break;
			}
			memset(buf + got, 0, len - (size_t)got);
		}
		for (size_t i = 0; i < missing.n && rc == 0; i++) {
			struct range r = missing.v[i];
			size_t rlen = (size_t)(r.end - r.start);

			memset(buf + (r.start - (uint64_t)off), 0, rlen);
			if (!sn->base.valid || (int64_t)r.start >= sn->base.size)
				continue; /* beyond the server's copy: zeros */
			if (!orig) {
				rc = smb_open(s, path, O_RDONLY, 0, &orig);
				if (rc < 0)
					break;
			}
			got = smb_pread(s, orig, buf + (r.start - (uint64_t)off), rlen,
					(int64_t)r.start);
			if (got < 0)
				rc = (int)got;
		}
		if (rc == 0)
			rc = smb_pwrite(s, out, buf, len, off);
	}
	if (orig)
		smb_close(s, orig);
	rangeset_release(&missing);
	free(buf);
	(void)c;
	return rc;
}

/* Writes [start, end) of the cache file into out (bytes not cached: zeros). */
static int send_range(const struct snapshot *sn, struct smb *s, struct smb_file *out, char *buf,
		      uint64_t start, uint64_t end)
{
	while (start < end) {
		size_t len = end - start < CACHE_CHUNK ? (size_t)(end - start) : CACHE_CHUNK;
		ssize_t got = pread_full(sn->fd, buf, len, (off_t)start);
		int rc;
		if (got < 0)
			return (int)got;
		memset(buf + got, 0, len - (size_t)got);
		rc = smb_pwrite(s, out, buf, len, (int64_t)start);
		if (rc < 0)
			return rc;
		start += len;
	}
	return 0;
}

/*
 * Bitmap differential transfer: the server copies its own copy (the base,
 * checked unchanged just before) into the temporary file, and only the
 * byte ranges changed here, and what lies past the base's end, cross the
 * wire.  Returns 0; -EOPNOTSUPP when it does not pay (a small file, most of
 * it changed); a connection error; or another error after which the caller
 * sends the whole file instead (a server without server-side copy).
 */
static int copy_differential(struct smb *s, const struct snapshot *sn, const char *path,
			     struct smb_file *out)
{
	uint64_t keep = (uint64_t)(sn->base.size < sn->size ? sn->base.size : sn->size);
	struct smb_file *orig;
	char *buf;
	int rc;

	if (!sn->base.valid || sn->size < DIFF_MIN || rangeset_total(&sn->dirty) > keep / 2)
		return -EOPNOTSUPP;
	rc = smb_open(s, path, O_RDONLY, 0, &orig);
	if (rc < 0)
		return rc;
	rc = smb_copy(s, orig, out, (int64_t)keep);
	smb_close(s, orig);
	if (rc < 0) {
		if (!smb_is_conn_error(rc))
			log_debug("upload of %s: no server-side copy (%s): sending it whole", path,
				  strerror(-rc));
		return rc;
	}
	buf = malloc(CACHE_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < sn->dirty.n; i++) {
		uint64_t a = sn->dirty.v[i].start, b = sn->dirty.v[i].end;
		if (b > keep)
			b = keep;
		if (a < b)
			rc = send_range(sn, s, out, buf, a, b);
	}
	if (rc == 0 && (uint64_t)sn->size > keep)
		rc = send_range(sn, s, out, buf, keep, (uint64_t)sn->size);
	free(buf);
	if (rc == 0)
		rc = smb_ftruncate(s, out, sn->size);
	return rc;
}

/*
 * Compares the target with the snapshot's base.  Returns 0 when it may be
 * replaced, -ESTALE for a conflict (recorded here), or the server's error.
 */
static int check_target(struct cache *c, struct smb *s, struct node *n, const struct snapshot *sn,
			const char *path)
{
	struct smb_stat cur;
	int rc = smb_stat(s, path, &cur);

	if (rc == 0 && sn->base.valid && sync_base_changed(&sn->base, &cur)) {
		sync_record_conflict(c, sn->share, n->id, path,
				     "FileChangedOnClient_ChangedOnServer",
				     "changed here and on the server; both kept, not uploaded");
		return -ESTALE;
	}
	if (rc == -ENOENT && sn->base.valid) {
		sync_record_conflict(c, sn->share, n->id, path,
				     "FileChangedOnClient_DeletedOnServer",
				     "changed here, deleted on the server; kept here");
		return -ESTALE;
	}
	if (rc == 0 && !sn->base.valid) {
		sync_record_conflict(c, sn->share, n->id, path, "FileCreatedOnClient_FileOnServer",
				     "created here and on the server; both kept");
		return -ESTALE;
	}
	return rc == -ENOENT ? 0 : rc;
}

static int upload(struct cache *c, struct smb *s, struct node *n, const struct snapshot *sn);

static int push_file(struct cache *c, struct smb *s, struct node *n);

int sync_push_file(struct cache *c, struct smb *s, struct node *n)
{
	int rc = busy_enter(n);

	if (rc < 0)
		return rc;
	rc = push_file(c, s, n);
	busy_leave(n);
	return rc;
}

/* sync_push_file with n marked busy. */
static int push_file(struct cache *c, struct smb *s, struct node *n)
{
	struct snapshot sn;
	int rc;

	pthread_mutex_lock(&n->lock);
	if (n->unlinked || n->it.type != ITEM_FILE || !item_is_dirty(&n->it)) {
		/*
		 * Clean here: if the index still says dirty (its save failed on a
		 * full disk after the upload), it hears it again now.
		 */
		rc = n->unlinked ? 0 : cache_node_save(c, n);
		pthread_mutex_unlock(&n->lock);
		return rc;
	}
	sn.gen = n->it.gen;
	sn.size = n->it.size;
	sn.mtime = n->it.mtime;
	sn.base = n->it.base;
	sn.mode = n->it.mode;
	sn.share = n->it.share;
	sn.fd = cache_node_fd(c, n);
	sn.dirty = (struct rangeset)RANGESET_INIT;
	rc = sn.fd < 0 ? sn.fd : rangeset_copy(&sn.dirty, &n->it.dirty);
	if (sn.fd >= 0)
		n->fd_users++; /* sn.fd is read without the lock */
	pthread_mutex_unlock(&n->lock);
	if (rc == 0)
		rc = upload(c, s, n, &sn);
	rangeset_release(&sn.dirty);
	if (sn.fd >= 0) {
		pthread_mutex_lock(&n->lock);
		n->fd_users--;
		cache_node_fd_idle(c, n);
		pthread_mutex_unlock(&n->lock);
	}
	return rc;
}

/*
 * Writes the content under a temporary name and renames it over path once
 * the target is checked against the base.  Returns 0, -ESTALE for a
 * conflict (recorded), or an error; the temporary file never stays.
 */
static int send_via_temp(struct cache *c, struct smb *s, struct node *n, const struct snapshot *sn,
			 const char *path)
{
	char tmp[4200];
	struct smb_file *out;
	int rc;

	rc = temp_name(path, tmp, sizeof(tmp));
	if (rc < 0)
		return rc;
	/*
	 * A conflict known before uploading costs one stat, not the whole file;
	 * a small file goes up first and meets the check before the rename.
	 */
	rc = sn->size > DIFF_MIN ? check_target(c, s, n, sn, path) : 0;
	if (rc < 0)
		return rc;
	rc = smb_open(s, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, &out);
	if (rc < 0) {
		log_warn("upload of %s: cannot create %s: %s", path, tmp, strerror(-rc));
		return rc;
	}
	rc = copy_differential(s, sn, path, out);
	if (rc < 0 && !smb_is_conn_error(rc))
		rc = copy_content(c, s, n, sn, path, out); /* the whole file, over anything */
	if (rc == 0)
		rc = smb_close(s, out);
	else
		smb_close(s, out);
	if (rc < 0)
		goto err_unlink;

	/* The race between planning and doing: look at the target again. */
	rc = check_target(c, s, n, sn, path);
	if (rc < 0)
		goto err_unlink;
	rc = smb_rename(s, tmp, path);
	if (rc < 0)
		goto err_unlink;
	return 0;

err_unlink:
	smb_unlink(s, tmp);
	return rc;
}

/* True when two stats of one file say the same. */
static int same_stat(const struct smb_stat *a, const struct smb_stat *b)
{
	return a->type == b->type && a->size == b->size && a->mtime == b->mtime &&
	       a->file_id == b->file_id && a->mode == b->mode;
}

/*
 * Creates path, new to the server, with the whole content (see the top).
 * When the server keeps the time a handle shows (smb.h, smb_dating), the
 * server's stat of the new file is taken on the handle before the close,
 * into *now, and *known is set: the stat by name after the close (three
 * round trips) is saved.  The first upload of a connection learns it by
 * taking both.  Returns 0, -ESTALE when a file is there already (a
 * conflict, recorded), -EAGAIN when it was there and is gone again (the
 * next upload tries), or an error, after which the partial file is removed
 * if the server can still be reached.
 */
static int send_direct(struct cache *c, struct smb *s, struct node *n, const struct snapshot *sn,
		       const char *path, struct smb_stat *now, int *known)
{
	int dating = smb_dating(s);
	struct smb_stat after;
	struct smb_file *out;
	int rc;

	*known = 0;
	/* A handle that is to be stat'ed needs read access too. */
	rc = smb_open(s, path,
		      O_CREAT | O_EXCL | (dating == SMB_DATING_REDATES ? O_WRONLY : O_RDWR), 0644,
		      &out);
	if (rc == -EACCES && dating != SMB_DATING_REDATES) {
		dating = SMB_DATING_REDATES; /* a share we may write, not read */
		rc = smb_open(s, path, O_WRONLY | O_CREAT | O_EXCL, 0644, &out);
	}
	if (rc == -EEXIST) {
		rc = check_target(c, s, n, sn, path);
		return rc == 0 ? -EAGAIN : rc;
	}
	if (rc < 0) {
		log_warn("upload of %s: cannot create it: %s", path, strerror(-rc));
		return rc;
	}
	rc = copy_content(c, s, n, sn, path, out);
	if (rc == 0 && dating != SMB_DATING_REDATES) {
		/*
		 * Setting the size last dates the file now, and (Samba) the close
		 * no longer does: the handle's stat is then the file's.
		 */
		rc = smb_ftruncate(s, out, sn->size);
		if (rc == 0)
			rc = smb_fstat(s, out, now);
		if (rc == 0) {
			*known = 1;
		} else if (!smb_is_conn_error(rc)) {
			/* Not for this server: a stat after the close, from now on. */
			smb_set_dating(s, SMB_DATING_REDATES);
			rc = 0;
		}
	}
	if (rc == 0)
		rc = smb_close(s, out);
	else
		smb_close(s, out);
	if (rc < 0) {
		smb_unlink(s, path);
		return rc;
	}
	if (*known && dating == SMB_DATING_UNKNOWN) {
		rc = smb_stat(s, path, &after);
		if (rc < 0)
			return rc;
		dating = same_stat(now, &after) ? SMB_DATING_KEEPS : SMB_DATING_REDATES;
		smb_set_dating(s, dating);
		log_debug("the server %s the time of a file at close",
			  dating == SMB_DATING_KEEPS ? "keeps" : "changes");
		*now = after; /* the true one, either way */
	}
	return 0;
}

/* Uploads what the snapshot took (sync_push_file). */
static int upload(struct cache *c, struct smb *s, struct node *n, const struct snapshot *snp)
{
	const struct snapshot sn = *snp;
	char path[4096];
	struct smb_stat now;
	int rc, again = 0, known = 0;

	rc = index_path(cache_index(c), n->id, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (!sn.base.valid && sn.size <= DIRECT_MAX)
		rc = send_direct(c, s, n, &sn, path, &now, &known);
	else
		rc = send_via_temp(c, s, n, &sn, path);
	if (rc < 0)
		return rc;
	/*
	 * The server dated the file when it was written (the close above): at
	 * close, within MTIME_SLACK of our mtime.  Setting ours costs three
	 * round trips (libsmbclient opens the file by name again), so it is set
	 * only when the two differ more: an upload long after the write, or a
	 * time set by the user (touch -d, cp -p).  The base is what the server
	 * says, as always: taken on the handle by send_direct where the server
	 * allows it, else asked for now.
	 */
	rc = known ? 0 : smb_stat(s, path, &now);
	if (rc < 0)
		return rc;
	if (now.mtime * 100 - sn.mtime > MTIME_SLACK || sn.mtime - now.mtime * 100 > MTIME_SLACK) {
		rc = smb_utimes(s, path, sn.mtime, sn.mtime);
		if (rc < 0)
			log_debug("upload of %s: cannot set times: %s", path, strerror(-rc));
		again = 1;
	}
	/*
	 * SMB keeps only the read-only attribute of a mode, and the file we
	 * created is writable: a call only for a mode without write bits.
	 */
	if (!(sn.mode & 0222)) {
		rc = smb_chmod(s, path, sn.mode & 07777);
		if (rc < 0)
			log_debug("upload of %s: cannot set mode: %s", path, strerror(-rc));
		again = 1;
	}
	rc = again ? smb_stat(s, path, &now) : 0;
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&n->lock);
	sync_base_from_stat(&n->it.base, &now);
	if (n->it.gen == sn.gen) {
		n->it.synced_gen = n->it.gen;
		n->it.flags &= ~ITEM_F_CREATED;
		rangeset_clear(&n->it.dirty);
	}
	rc = cache_node_save(c, n);
	if (rc == 0 && n->it.gen != sn.gen)
		rc = -EAGAIN;
	pthread_mutex_unlock(&n->lock);
	sync_clear_conflict(c, n->id);
	log_debug("uploaded %s (%lld bytes)", path, (long long)sn.size);
	return rc;
}

int sync_name_ok(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || sync_name_hidden(name))
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("\\/:*?\"<>|", *p))
			return 0;
	return 1;
}

int sync_out_dirty(struct cache *c, struct smb *s, uint64_t share, uint64_t root, int include_open,
		   struct sync_out_stats *out)
{
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	unsigned jconf = 0;
	rc = sync_replay_journal(c, s, share, root, 0, 0, NULL, &out->ops, &jconf);
	out->conflicts += jconf;
	if (rc < 0)
		return rc; /* offline again: the files wait too */
	rc = index_dirty_ids(cache_index(c), share, &ids, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct node *node;
		int open, type;

		if (cache_node_get(c, ids[i], &node) < 0)
			continue; /* gone meanwhile */
		pthread_mutex_lock(&node->lock);
		open = node->opens > 0;
		type = node->it.type;
		pthread_mutex_unlock(&node->lock);
		if (type != ITEM_FILE) {
			cache_node_put(c, node, 1);
			continue;
		}
		uint64_t conflicted = 0;
		index_conflict_item(cache_index(c), ids[i], &conflicted);
		if (conflicted) {
			out->conflicts++; /* recorded before: the user resolves it */
			cache_node_put(c, node, 1);
			continue;
		}
		out->items++;
		if ((open && !include_open) || sync_is_suspended(c, ids[i])) {
			out->skipped++;
			cache_node_put(c, node, 1);
			continue;
		}
		rc = sync_push_file(c, s, node);
		cache_node_put(c, node, 1);
		if (rc == 0) {
			out->pushed++;
		} else if (rc == -ESTALE) {
			out->conflicts++;
		} else if (smb_is_conn_error(rc)) {
			out->failed++;
			break;
		} else {
			if (!out->failed)
				log_warn("background upload of item %llu failed: %s",
					 (unsigned long long)ids[i], strerror(-rc));
			out->failed++;
		}
		rc = 0;
	}
	free(ids);
	return rc;
}

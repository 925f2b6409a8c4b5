/*
 * fetch.c - the cache's fetch path: bringing byte ranges of a file from the
 * server into its sparse cache file.  Used by the mount's reads and
 * read-ahead and by the Synchronize engine's FILLSPARSE; see sync.h.
 *
 * The missing parts of the CACHE_CHUNK-aligned chunks a request touches are
 * fetched with no node lock held, in reads of up to FETCH_MAX.  Bytes another
 * thread is already fetching are waited for, not fetched twice (the kernel
 * sends several read-ahead requests for one chunk at once).  Then, under the
 * node lock and only if the content version did not move meanwhile (a
 * remote change dropped the cache), the bytes are written where they are
 * still missing (never over dirty bytes) and only then marked present in
 * the index: a crash in between leaves bytes written but not marked, which
 * is harmless, and never the reverse.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "sync/sync.h"
#include "util/util.h"

#define FETCH_MAX (8u << 20) /* largest single server read */

/*
 * Stores fetched bytes [start, start+len) into the cache file where they are
 * still missing, then marks them present.  With n->lock held.
 */
static int store_fetched(struct cache *c, struct node *n, const char *buf, uint64_t start,
			 uint64_t len)
{
	struct rangeset need = RANGESET_INIT;
	int fd, rc;

	fd = cache_node_fd(c, n);
	if (fd < 0)
		return fd;
	rc = rangeset_missing(&n->it.present, start, start + len, &need);
	for (size_t i = 0; rc == 0 && i < need.n; i++)
		rc = pwrite_all(fd, buf + (need.v[i].start - start),
				need.v[i].end - need.v[i].start, (off_t)need.v[i].start);
	for (size_t i = 0; rc == 0 && i < need.n; i++)
		rc = rangeset_add(&n->it.present, need.v[i].start, need.v[i].end);
	if (rc == 0 && need.n)
		rc = cache_node_save(c, n);
	rangeset_release(&need);
	return rc;
}

/*
 * Makes [off, end) present by fetching the chunks it touches.  Bytes another
 * thread is already fetching are waited for, not fetched twice (the kernel
 * sends several readahead requests for one chunk at once); ahead (read-ahead,
 * which needs nothing itself) fetches only what nobody is fetching, and
 * never waits.  Returns 0, -EAGAIN when the server's copy changed or a fetch
 * we waited for failed (the caller looks again), or a negative errno.
 */
static int fetch(struct cache *c, struct smb *s, struct node *n, uint64_t off, uint64_t end,
		 int ahead)
{
	struct rangeset missing = RANGESET_INIT;
	struct smb_file *f = NULL;
	struct smb_stat st;
	char path[PATH_MAX];
	char *buf = NULL;
	uint64_t ver, cs, ce, size;
	int rc, claimed = 0;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		size = (uint64_t)n->it.size;
		cs = off / CACHE_CHUNK * CACHE_CHUNK;
		ce = (end + CACHE_CHUNK - 1) / CACHE_CHUNK * CACHE_CHUNK;
		if (ce > size)
			ce = size;
		/* Beyond the server's copy there is nothing to fetch (local extension). */
		if (n->it.base.valid && ce > (uint64_t)n->it.base.size)
			ce = (uint64_t)n->it.base.size > cs ? (uint64_t)n->it.base.size : cs;
		rc = rangeset_missing(&n->it.present, cs, ce, &missing);
		if (rc < 0 || missing.n == 0)
			break;
		if (!rangeset_overlaps(&n->inflight, cs, ce))
			break;
		if (ahead) {
			/* Take what nobody fetches: the next chunk, as the last is read. */
			for (size_t i = 0; rc == 0 && i < n->inflight.n; i++)
				rc = rangeset_remove(&missing, n->inflight.v[i].start,
						     n->inflight.v[i].end);
			break;
		}
		/* Someone fetches part of it: wait, then look again. */
		pthread_cond_wait(&n->fetched, &n->lock);
	}
	for (size_t i = 0; rc == 0 && i < missing.n; i++)
		rc = rangeset_add(&n->inflight, missing.v[i].start, missing.v[i].end);
	claimed = rc == 0 && missing.n > 0;
	ver = n->content_ver;
	pthread_mutex_unlock(&n->lock);
	if (!claimed)
		goto out;

	rc = index_path(cache_index(c), n->id, path, sizeof(path));
	if (rc < 0)
		goto out;
	rc = smb_open(s, path, O_RDONLY, 0, &f);
	if (rc < 0)
		goto out;
	rc = smb_fstat(s, f, &st);
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&n->lock);
	if (!item_is_dirty(&n->it) && sync_base_changed(&n->it.base, &st)) {
		rc = sync_apply_remote(c, n, &st);
		pthread_mutex_unlock(&n->lock);
		rc = rc < 0 ? rc : -EAGAIN;
		goto out;
	}
	pthread_mutex_unlock(&n->lock);

	buf = malloc(FETCH_MAX);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < missing.n && rc == 0; i++) {
		for (uint64_t p = missing.v[i].start; p < missing.v[i].end && rc == 0;) {
			uint64_t len = missing.v[i].end - p;
			ssize_t got;

			if (len > FETCH_MAX)
				len = FETCH_MAX;
			got = smb_pread(s, f, buf, len, (int64_t)p);
			if (got < 0) {
				rc = (int)got;
				break;
			}
			pthread_mutex_lock(&n->lock);
			if ((uint64_t)got < len) {
				rc = -EAGAIN; /* shorter than we knew: changed meanwhile */
				n->checked = 0;
			} else if (n->content_ver != ver || n->unlinked) {
				rc = -EAGAIN;
			} else {
				rc = store_fetched(c, n, buf, p, len);
			}
			cache_node_fd_idle(c, n); /* a fill of a file nobody has open */
			pthread_mutex_unlock(&n->lock);
			p += len;
		}
	}
out:
	if (f)
		smb_close(s, f);
	free(buf);
	if (claimed) {
		pthread_mutex_lock(&n->lock);
		for (size_t i = 0; i < missing.n; i++)
			rangeset_remove(&n->inflight, missing.v[i].start, missing.v[i].end);
		pthread_cond_broadcast(&n->fetched);
		pthread_mutex_unlock(&n->lock);
	}
	rangeset_release(&missing);
	return rc;
}

int sync_fetch(struct cache *c, struct smb *s, struct node *n, uint64_t off, uint64_t end)
{
	return fetch(c, s, n, off, end, 0);
}

int sync_fetch_ahead(struct cache *c, struct smb *s, struct node *n, uint64_t off, uint64_t end)
{
	return fetch(c, s, n, off, end, 1);
}

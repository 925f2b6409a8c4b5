/*
 * fs.c - FUSE low-level operations over the cache; see fs.h.
 *
 * The read path:
 *   A read whose bytes are all present is served from the cache file and
 *   never waits for the server or the SMB lock.  A read that misses goes
 *   through the cache's fetch path (sync_fetch, see sync/fetch.c), then is
 *   served from the cache file like any other.
 *
 *   Known window: a read checks the ranges under the node lock and reads the
 *   cache file after dropping it (the reply must not hold a lock).  A remote
 *   change landing in between punches the old bytes, so such a read may see
 *   zeros where the old version was.  Closing it needs a per-node read/write
 *   lock held across the pread (not across the reply); left for later.
 *
 * Attributes and names are trusted for attr_timeout seconds; after that
 * getattr, lookup and opendir ask the server, and a change there replaces
 * clean cached data and invalidates the kernel's pages (sync_apply_remote).
 * open keeps the kernel's page cache only when the content did not change
 * since the kernel last cached it.
 *
 * Read-ahead: once a reader has read a whole chunk sequentially, each read
 * queues the next RA_CHUNKS chunks for the read-ahead threads, which fetch
 * them through the same path while the reader consumes what it has; so the
 * server connection stays busy.  There are two: while one writes a chunk it
 * fetched into the cache file, the other reads the next from the server
 * (the one connection serves a thread at a time).  A short or random read
 * never triggers it, so a partial read caches exactly the chunks it touched.
 *
 * Directory read-ahead: a walker (find, ls -R, du, cp -r) opens directories
 * in readdir order, and each opendir of one not listed for attr_timeout
 * waits for a listing from the server.  So an opendir that took a listing,
 * or found one taken ahead, queues listings of the next RA_DIRS
 * subdirectories after it and of its own first RA_DIRS for the same
 * threads; the walker's next opendir finds its directory listed (or waits
 * for the listing under way).  The server lists one directory while the
 * daemon stores the one before and the walker reads the one before that.
 * A walk of a tree already listed queues nothing, and neither does one
 * offline.
 *
 * Writes go to the cache file and mark bytes present and dirty; flush (every
 * close) and fsync push a dirty file to the server (sync_push_file).
 *
 * Inodes: an inode number is the item's row id (the share's root is
 * FUSE_ROOT_ID).  The kernel's lookup counts live in a compact table (12 to
 * 24 bytes an inode, see util/idmap.h), not as node references: a node is
 * loaded from the index when a request needs it and freed when idle (see
 * cache.c), so a tree of a million files the kernel keeps in its inode
 * cache costs the daemon a few megabytes, not a node each.  A count is
 * added before the reply that gives the kernel the reference (a FORGET may
 * follow the reply at once, on another thread) and taken back if the reply
 * fails.
 */
/*
 * 3.12 (written 312): below it, fuse_session_loop_mt is the 3.2 entry point,
 * which reads the fuse_loop_cfg_create() object we pass as the old
 * two-field struct: clone_fd came out set and max_idle_threads 0, so every
 * request started a thread (and cloned /dev/fuse) and ended it.
 */
#define FUSE_USE_VERSION 312
#include "fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/notify.h"
#include "fs/walkers.h"
#include "sync/sync.h"
#include "util/idmap.h"
#include "util/log.h"
#include "util/util.h"

#define RA_CHUNKS 4    /* chunks fetched ahead of a sequential reader */
#define RA_THREADS 2   /* read-ahead threads: one stores while the other reads */
#define RA_QUEUE_MAX 8 /* pending read-ahead requests at most */
#define RA_DIRS 4      /* directories listed ahead of a walker, each way */
#define RA_AHEAD 16    /* directories listed ahead and not opened yet, remembered */
#define RA_DROP 9      /* chunks behind a sequential reader whose cache-file pages go */

struct ra_req {
	struct ra_req *next;
	struct node *n; /* holds a reference; NULL for a directory listing */
	uint64_t dir;	/* the directory to list ahead, when n is NULL */
	uint64_t start, end;
};

struct readahead {
	pthread_t threads[RA_THREADS];
	pthread_mutex_t lock; /* protects every field below */
	pthread_cond_t cond;
	pthread_cond_t listed; /* a directory listing ahead ended */
	struct ra_req *head, *tail;
	unsigned len;
	int stopping;
	unsigned started;	   /* threads running */
	uint64_t busy[RA_THREADS]; /* directories being listed ahead, 0 for none */
	struct {
		uint64_t dir; /* listed ahead, not opened since; 0 for none */
		int changed;  /* that listing changed the index */
	} ahead[RA_AHEAD];
	unsigned ahead_next;  /* the slot of ahead to fill next */
	uint64_t last_parent; /* of the directory last opened and listed */
};

/*
 * The names of one directory as the server had them at `taken` (a names-only
 * listing), to answer lookups of names neither the index nor the server has
 * during a burst of them: cp, tar x and unzip look up every new name before
 * creating it, and each such miss costs Samba a scan of the whole directory
 * (its match is case-insensitive), so a directory of n names filled by us
 * costs n^2/2 entries read on the server.  The second miss answered by the
 * server in the same directory within attr_timeout takes a listing; names
 * absent from it are absent for as long as any listing is trusted
 * (fresh_at: attr_timeout, or watch_timeout while the server's change
 * watch is up).  The watch's report of a name the index lacks appearing in
 * the directory drops the listing (fs_remote_change), and the listings
 * generation (cache_listings_gen) keeps a listing that was under way
 * meanwhile from being kept.  One directory at a time: the one being filled.
 */
struct names_snap {
	pthread_mutex_t lock; /* protects every field below */
	uint64_t dir;	      /* the directory listed (or missed in), 0 for none */
	int64_t taken;	      /* monotonic ns before the listing, 0 for none */
	int64_t missed;	      /* monotonic ns of the last miss in dir the server answered */
	char **names;	      /* sorted (cmp_name_nocase), n of them */
	size_t n, cap;
};

struct fs {
	struct fs_conf conf;	 /* constant after mount */
	struct cache *c;	 /* borrowed */
	struct smb *s;		 /* borrowed */
	struct fuse_session *se; /* constant after mount */
	struct notify *nt;	 /* set by fs_run before the loop starts */
	struct readahead ra;	 /* the read-ahead threads and their queue */
	struct names_snap snap;	 /* names of the directory being filled */
	char *mountpoint;	 /* constant */
	int watching;		 /* the server's change watch is up; __atomic */
	int64_t watch_wall;	 /* now_ns() when it last came up; __atomic */
	int64_t watch_mono;	 /* mono_ns() then; __atomic */
	uid_t uid;		 /* owner shown for every item */
	gid_t gid;
	pthread_t loop; /* the thread in fs_run, once running */
	int looping;
	pthread_mutex_t lookup_lock; /* protects lookups and bare_dirs; taken last */
	struct idmap lookups;	     /* ino -> the kernel's lookup count */
	struct idmap bare_dirs;	     /* directories whose listing went names only -> 1 */
	pthread_mutex_t walk_lock;   /* protects walkers */
	struct walkers walkers;	     /* how each walker is given its listings */
};

/* ---- inode numbers ---------------------------------------------------- */

static uint64_t ino_to_id(struct fs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? fs->conf.root : (uint64_t)ino;
}

static fuse_ino_t id_to_ino(struct fs *fs, uint64_t id)
{
	return id == fs->conf.root ? FUSE_ROOT_ID : (fuse_ino_t)id;
}

/* The node of ino with one reference (put it with cache_node_put(.., 1)). */
static int ino_node(struct fs *fs, fuse_ino_t ino, struct node **out)
{
	int rc = cache_node_get(fs->c, ino_to_id(fs, ino), out);

	return rc == -ENOENT ? -ESTALE : rc;
}

static void put(struct fs *fs, struct node *n)
{
	cache_node_put(fs->c, n, 1);
}

/*
 * Counts one kernel lookup of ino.  A count that cannot be recorded (no
 * memory) is only bookkeeping lost: nodes do not depend on it.
 */
static void lookup_add(struct fs *fs, fuse_ino_t ino)
{
	int rc;

	if (ino == FUSE_ROOT_ID)
		return; /* the kernel never forgets the root */
	pthread_mutex_lock(&fs->lookup_lock);
	rc = idmap_add(&fs->lookups, ino, 1);
	pthread_mutex_unlock(&fs->lookup_lock);
	if (rc < 0)
		log_warn("cannot count a lookup of inode %llu: %s", (unsigned long long)ino,
			 strerror(-rc));
}

/* Forgets count lookups of ino each, for n inodes (a FORGET, or a failed reply). */
static void lookup_sub(struct fs *fs, const struct fuse_forget_data *v, size_t n)
{
	pthread_mutex_lock(&fs->lookup_lock);
	for (size_t i = 0; i < n; i++)
		if (!idmap_sub(&fs->lookups, v[i].ino, v[i].nlookup))
			idmap_del(&fs->bare_dirs, v[i].ino); /* its listing went with it */
	pthread_mutex_unlock(&fs->lookup_lock);
}

static void lookup_undo(struct fs *fs, fuse_ino_t ino)
{
	struct fuse_forget_data f = {.ino = ino, .nlookup = 1};

	lookup_sub(fs, &f, 1);
}

/* ---- freshness --------------------------------------------------------- */

/*
 * How long names and attributes are trusted, by the kernel and by us: the
 * configured attr_timeout, or watch_timeout while the server's change watch
 * is up (every change it reports is invalidated at once, see
 * fs_remote_change).
 */
static double ttl(struct fs *fs)
{
	if (fs->conf.watch_timeout > 0 && __atomic_load_n(&fs->watching, __ATOMIC_ACQUIRE))
		return fs->conf.watch_timeout;
	return fs->conf.attr_timeout;
}

/*
 * Is something checked at t (clock mono or wall, as `mono` says) still
 * fresh at now?  While the watch is up, only what was checked since it came
 * up: changes before that were not reported.
 */
static int fresh_at(struct fs *fs, int64_t t, int64_t now, int mono)
{
	if (!t || now - t >= (int64_t)(ttl(fs) * 1e9))
		return 0;
	if (fs->conf.watch_timeout > 0 && __atomic_load_n(&fs->watching, __ATOMIC_ACQUIRE))
		return t >=
		       __atomic_load_n(mono ? &fs->watch_mono : &fs->watch_wall, __ATOMIC_ACQUIRE);
	return 1;
}

/* ---- attributes -------------------------------------------------------- */

/* With n->lock held. */
static void fill_attr_item(struct fs *fs, const struct index_item *it, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = id_to_ino(fs, it->id);
	if (it->type == ITEM_DIR) {
		st->st_mode = S_IFDIR | (it->mode & 07777 ? it->mode & 07777 : 0755);
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | (it->mode & 07777 ? it->mode & 07777 : 0644);
		st->st_nlink = 1;
	}
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = it->type == ITEM_DIR ? 4096 : it->size;
	st->st_blksize = 128 * 1024;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim.tv_sec = it->mtime / 1000000000;
	st->st_mtim.tv_nsec = it->mtime % 1000000000;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

/* With n->lock held. */
static void fill_attr(struct fs *fs, const struct node *n, struct stat *st)
{
	fill_attr_item(fs, &n->it, st);
}

static void fill_entry(struct fs *fs, const struct node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = id_to_ino(fs, n->id);
	e->generation = 1;
	e->attr_timeout = ttl(fs);
	e->entry_timeout = e->attr_timeout;
	fill_attr(fs, n, &e->attr);
}

/* Server path of an item ("" for the root). */
static int item_path(struct fs *fs, uint64_t id, char *buf, size_t len)
{
	return index_path(cache_index(fs->c), id, buf, len);
}

/* Server path of name inside directory id. */
static int child_path(struct fs *fs, uint64_t dir, const char *name, char *buf, size_t len)
{
	size_t plen;
	int rc = item_path(fs, dir, buf, len);

	if (rc < 0)
		return rc;
	plen = strlen(buf);
	if (plen + 1 + strlen(name) + 1 > len)
		return -ENAMETOOLONG;
	buf[plen] = '/';
	strcpy(buf + plen + 1, name);
	return 0;
}

/*
 * Checks the item against the server when its attributes are older than the
 * timeout.  A server error is returned; the caller decides what it means.
 */
static int revalidate(struct fs *fs, struct node *n)
{
	char path[PATH_MAX];
	struct smb_stat st;
	int64_t now = mono_ns();
	int rc;

	pthread_mutex_lock(&n->lock);
	/* Fresh, unlinked and open, or created here: nothing on the server to compare. */
	if (fresh_at(fs, n->checked, now, 1) || n->unlinked || (n->it.flags & ITEM_F_CREATED)) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	pthread_mutex_unlock(&n->lock);
	if (sync_is_suspended(fs->c, n->id))
		return 0; /* suspended: treated as offline, the cache answers */
	rc = item_path(fs, n->id, path, sizeof(path));
	if (rc < 0)
		return rc;
	rc = smb_stat(fs->s, path, &st);
	if (smb_is_conn_error(rc))
		return 0; /* offline: what the cache has is the answer */
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	if (!n->unlinked)
		rc = sync_apply_remote(fs->c, n, &st);
	n->checked = now;
	pthread_mutex_unlock(&n->lock);
	return rc < 0 ? rc : 0;
}

/* ---- names ------------------------------------------------------------- */

static int dir_is_fresh(struct fs *fs, struct node *dir)
{
	int fresh;

	pthread_mutex_lock(&dir->lock);
	fresh = fresh_at(fs, dir->it.listed, now_ns(), 0);
	pthread_mutex_unlock(&dir->lock);
	return fresh;
}

/* With snap->lock held, or on a snapshot of one's own. */
static void snap_clear(struct names_snap *snap)
{
	for (size_t i = 0; i < snap->n; i++)
		free(snap->names[i]);
	free(snap->names);
	snap->names = NULL;
	snap->n = snap->cap = 0;
	snap->taken = 0;
}

static int snap_add(void *arg, const char *name)
{
	struct names_snap *snap = arg;

	if (snap->n == snap->cap) {
		size_t cap = snap->cap ? snap->cap * 2 : 256;
		char **v = realloc(snap->names, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		snap->names = v;
		snap->cap = cap;
	}
	snap->names[snap->n] = strdup(name);
	return snap->names[snap->n] ? (snap->n++, 0) : -ENOMEM;
}

/*
 * The server matches names without case (Samba, Windows): a name that
 * differs from a listed one only in case is not taken as absent.  Case is
 * folded for ASCII only; another letter in another case is taken as absent,
 * and the server tells at the upload (a conflict, both kept).
 */
static int cmp_name_nocase(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The window in which two misses in one directory make a burst, and the
 * switch of the names listing (0: never listed): attr_timeout as configured.
 */
static int64_t snap_ttl_ns(struct fs *fs)
{
	return (int64_t)(fs->conf.attr_timeout * 1e9);
}

/* With snap->lock held: does the listing taken at `taken` still answer? */
static int snap_fresh(struct fs *fs, int64_t taken, int64_t now)
{
	return taken && fresh_at(fs, taken, now, 1);
}

/* True when a listing of dir younger than attr_timeout lacks name. */
static int snap_absent(struct fs *fs, uint64_t dir, const char *name)
{
	struct names_snap *snap = &fs->snap;
	int absent;

	pthread_mutex_lock(&snap->lock);
	absent = snap->dir == dir && snap_fresh(fs, snap->taken, mono_ns()) &&
		 (snap->n == 0 ||
		  !bsearch(&name, snap->names, snap->n, sizeof(*snap->names), cmp_name_nocase));
	pthread_mutex_unlock(&snap->lock);
	return absent;
}

/*
 * The server answered "no such name" in dir: the second time within
 * attr_timeout, dir's names are listed (struct names_snap), outside the lock;
 * the listing is kept only if no listing was found stale meanwhile
 * (cache_listings_gen).
 */
static void snap_missed(struct fs *fs, struct node *dir)
{
	struct names_snap *snap = &fs->snap, got = {0};
	char path[PATH_MAX];
	int64_t now = mono_ns();
	uint64_t gen;
	int list;

	pthread_mutex_lock(&snap->lock);
	list = snap->dir == dir->id && now - snap->missed < snap_ttl_ns(fs) &&
	       !snap_fresh(fs, snap->taken, now);
	if (snap->dir != dir->id)
		snap_clear(snap);
	snap->dir = dir->id;
	snap->missed = now;
	gen = cache_listings_gen(fs->c);
	pthread_mutex_unlock(&snap->lock);
	if (!list || item_path(fs, dir->id, path, sizeof(path)) < 0 ||
	    smb_list_names(fs->s, path, snap_add, &got) != 0) {
		snap_clear(&got);
		return;
	}
	if (got.n > 1)
		qsort(got.names, got.n, sizeof(*got.names), cmp_name_nocase);
	pthread_mutex_lock(&snap->lock);
	if (snap->dir == dir->id && snap->taken < now && cache_listings_gen(fs->c) == gen) {
		snap_clear(snap);
		snap->names = got.names;
		snap->n = got.n;
		snap->cap = got.cap;
		snap->taken = now;
		got.names = NULL;
		got.n = 0;
	}
	pthread_mutex_unlock(&snap->lock);
	snap_clear(&got);
}

/* Finds name in dir: *id gets its id, or 0 when there is no such item. */
static int find_child(struct fs *fs, struct node *dir, const char *name, uint64_t *id)
{
	struct index_item it;
	int rc;

	if (sync_name_hidden(name)) {
		*id = 0;
		return 0;
	}
	if (!dir_is_fresh(fs, dir) && !(dir->it.flags & ITEM_F_CREATED) &&
	    !sync_is_suspended(fs->c, dir->id)) {
		rc = index_lookup(cache_index(fs->c), dir->id, name, &it);
		if (rc == 0)
			index_item_release(&it);
		if (rc == -ENOENT && snap_ttl_ns(fs) > 0 && snap_absent(fs, dir->id, name)) {
			*id = 0; /* neither here nor in a listing younger than attr_timeout */
			return 0;
		}
		rc = sync_refresh_name(fs->c, fs->s, dir, name, id);
		if (rc == 0 && *id == 0 && snap_ttl_ns(fs) > 0)
			snap_missed(fs, dir);
		if (!smb_is_conn_error(rc))
			return rc;
		/* offline: the index is the answer */
	}
	rc = index_lookup(cache_index(fs->c), dir->id, name, &it);
	if (rc == -ENOENT) {
		*id = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	*id = it.id;
	index_item_release(&it);
	return 0;
}

/*
 * Replies with an entry for id, counting the lookup the kernel now holds.
 * Returns the item's type (ITEM_*), or -1 when the reply was an error.
 */
static int reply_entry_id(struct fs *fs, fuse_req_t req, uint64_t id)
{
	struct fuse_entry_param e;
	struct node *n;
	int rc = cache_node_get(fs->c, id, &n), type;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return -1;
	}
	pthread_mutex_lock(&n->lock);
	fill_entry(fs, n, &e);
	n->checked = mono_ns();
	type = n->it.type;
	pthread_mutex_unlock(&n->lock);
	put(fs, n);
	lookup_add(fs, e.ino);
	if (fuse_reply_entry(req, &e) != 0)
		lookup_undo(fs, e.ino);
	return type;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *dir;
	pid_t pid = fuse_req_ctx(req)->pid; /* req is gone after the reply */
	uint64_t id;
	int rc, type;

	rc = ino_node(fs, parent, &dir);
	if (rc < 0)
		goto err;
	rc = find_child(fs, dir, name, &id);
	put(fs, dir);
	if (rc < 0)
		goto err;
	if (id == 0) {
		struct fuse_entry_param e = {.ino = 0, .entry_timeout = ttl(fs)};
		fuse_reply_entry(req, &e);
		return;
	}
	type = reply_entry_id(fs, req, id);
	if (type >= 0 && type != ITEM_DIR) {
		/* A walker given this directory's names only may be one that stats. */
		pthread_mutex_lock(&fs->walk_lock);
		walkers_lookup(&fs->walkers, pid, ino_to_id(fs, parent));
		pthread_mutex_unlock(&fs->walk_lock);
	}
	return;
err:
	fuse_reply_err(req, -rc);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fuse_forget_data f = {.ino = ino, .nlookup = nlookup};

	lookup_sub(fs, &f, 1);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	lookup_sub(fuse_req_userdata(req), forgets, count);
	fuse_reply_none(req);
}

/*
 * Whether n's row is as fresh as a listing of its directory that is itself
 * fresh (a listing brings every child's attributes).  Only a directory in
 * memory is asked: a walk keeps the ones it lists there.
 */
static int parent_listing_fresh(struct fs *fs, struct node *n)
{
	struct node *dir;
	uint64_t parent;
	int fresh;

	pthread_mutex_lock(&n->lock);
	parent = n->it.parent;
	pthread_mutex_unlock(&n->lock);
	if (!parent || cache_node_peek(fs->c, parent, &dir) < 0)
		return 0;
	fresh = dir_is_fresh(fs, dir);
	put(fs, dir);
	return fresh;
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct stat st;
	struct node *n;
	int rc;

	rc = ino_node(fs, ino, &n);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/*
	 * The kernel asks again after every listing it reads of a directory
	 * (the atime it has of it is then stale): a walk's next stat of each
	 * directory, which the listing of its parent answers.
	 */
	rc = parent_listing_fresh(fs, n) ? 0 : revalidate(fs, n);
	if (rc == -ENOENT) {
		pthread_mutex_lock(&n->lock);
		if (item_is_dirty(&n->it))
			rc = 0; /* gone on the server, changed here: keep showing it */
		pthread_mutex_unlock(&n->lock);
	}
	if (rc < 0) {
		put(fs, n);
		fuse_reply_err(req, -rc);
		return;
	}
	pthread_mutex_lock(&n->lock);
	fill_attr(fs, n, &st);
	pthread_mutex_unlock(&n->lock);
	put(fs, n);
	fuse_reply_attr(req, &st, ttl(fs));
}

/* ---- directories ------------------------------------------------------- */

struct dirent_snap {
	char *name;
	uint64_t id;
	int type;
	struct stat st; /* the attributes in the index then ("." and "..": none) */
};

struct dirbuf {
	struct dirent_snap *v; /* the listing as of the first readdir, "." and ".." first */
	size_t n, cap;
	uint64_t id, parent;   /* the directory and its parent */
	int filled;	       /* v is taken (the kernel serializes a handle's readdirs) */
	pid_t pid;	       /* the process that opened it */
	enum walk_listing how; /* walkers_open's answer for it */
	int bare;	       /* files go as names only (see walkers.h); set when v is taken */
};

static int dirbuf_add(struct dirbuf *d, const char *name, uint64_t id, int type,
		      const struct stat *st)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct dirent_snap *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].name = strdup(name);
	if (!d->v[d->n].name)
		return -ENOMEM;
	d->v[d->n].id = id;
	d->v[d->n].type = type;
	if (st)
		d->v[d->n].st = *st;
	d->n++;
	return 0;
}

static void dirbuf_free(struct dirbuf *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	free(d);
}

struct snap_ctx {
	struct fs *fs;
	struct dirbuf *d;
};

static int snap_child(void *arg, const struct index_item *it)
{
	struct snap_ctx *sc = arg;
	struct stat st;

	if (sync_name_hidden(it->name))
		return 0;
	fill_attr_item(sc->fs, it, &st);
	return dirbuf_add(sc->d, it->name, it->id, it->type, &st);
}

/* Takes the listing of d's directory from the index.  0 or -errno. */
static int dirbuf_fill(struct fs *fs, struct dirbuf *d)
{
	struct snap_ctx sc = {fs, d};
	int rc = dirbuf_add(d, ".", d->id, ITEM_DIR, NULL);

	if (rc == 0)
		rc = dirbuf_add(d, "..", d->parent, ITEM_DIR, NULL);
	if (rc == 0)
		rc = index_list(cache_index(fs->c), d->id, snap_child, &sc);
	d->filled = rc == 0;
	if (rc < 0) {
		for (size_t i = 0; i < d->n; i++)
			free(d->v[i].name);
		d->n = 0;
	}
	return rc;
}

/* ---- directory read-ahead ---------------------------------------------- */

/* With ra->lock held: is dir queued, being listed or listed ahead? */
static int ra_has_dir(struct readahead *ra, uint64_t dir)
{
	for (struct ra_req *r = ra->head; r; r = r->next)
		if (!r->n && r->dir == dir)
			return 1;
	for (unsigned i = 0; i < RA_THREADS; i++)
		if (ra->busy[i] == dir)
			return 1;
	for (unsigned i = 0; i < RA_AHEAD; i++)
		if (ra->ahead[i].dir == dir)
			return 1;
	return 0;
}

/* With ra->lock held: appends r to the queue and wakes a thread. */
static void ra_push(struct readahead *ra, struct ra_req *r)
{
	if (ra->tail)
		ra->tail->next = r;
	else
		ra->head = r;
	ra->tail = r;
	ra->len++;
	pthread_cond_signal(&ra->cond);
}

/* Queues a listing of the directory dir (dropped when full or known). */
static void ra_queue_dir(struct fs *fs, uint64_t dir)
{
	struct readahead *ra = &fs->ra;
	struct ra_req *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->dir = dir;
	pthread_mutex_lock(&ra->lock);
	if (!ra->started || ra->stopping || ra->len >= RA_QUEUE_MAX || ra_has_dir(ra, dir)) {
		pthread_mutex_unlock(&ra->lock);
		free(r);
		return;
	}
	ra_push(ra, r);
	pthread_mutex_unlock(&ra->lock);
}

/*
 * Lists the directory dir ahead of a walker, as its opendir would: only
 * when that would (not fresh, on the server, not suspended).  1 when the
 * listing changed the index, 0 when it did not, -1 when not listed.
 */
static int ra_list_dir(struct fs *fs, uint64_t dir)
{
	struct node *n;
	int rc = -1;

	if (cache_node_get(fs->c, dir, &n) < 0)
		return -1;
	if (n->it.type == ITEM_DIR && !dir_is_fresh(fs, n) && !(n->it.flags & ITEM_F_CREATED) &&
	    !sync_is_suspended(fs->c, n->id)) {
		rc = sync_refresh_dir(fs->c, fs->s, n); /* a failure shows at the opendir */
		rc = rc < 0 ? -1 : rc;
	}
	cache_node_put(fs->c, n, 1);
	return rc;
}

/*
 * With ra->lock held: remembers dir as listed ahead.  The kernel may hold a
 * listing of a directory that a listing ahead changed, and the directory's
 * opendir finds it fresh: that opendir drops the kernel's listing
 * (ra_opened_dir), or, when dir is forgotten unopened to make room, the
 * kernel is told now.  *forget gets the directory to tell (0 for none).
 */
static void ra_remember(struct readahead *ra, uint64_t dir, int changed, uint64_t *forget)
{
	unsigned i = ra->ahead_next;

	*forget = ra->ahead[i].changed ? ra->ahead[i].dir : 0;
	ra->ahead[i].dir = dir;
	ra->ahead[i].changed = changed;
	ra->ahead_next = (i + 1) % RA_AHEAD;
}

/*
 * At the opendir of dir: waits for a listing of it ahead under way, and
 * says whether it was listed ahead since it was last opened (forgetting
 * it): 0 when not, 1 when that listing changed nothing, 2 when it changed
 * the index (the kernel's cached listing is then stale).
 */
static int ra_opened_dir(struct fs *fs, uint64_t dir)
{
	struct readahead *ra = &fs->ra;
	int ahead = 0;

	pthread_mutex_lock(&ra->lock);
	for (unsigned i = 0; i < RA_THREADS; i++)
		while (ra->busy[i] == dir)
			pthread_cond_wait(&ra->listed, &ra->lock);
	for (unsigned i = 0; i < RA_AHEAD; i++)
		if (ra->ahead[i].dir == dir) {
			ahead = 1 + ra->ahead[i].changed;
			ra->ahead[i].dir = 0;
			ra->ahead[i].changed = 0;
		}
	pthread_mutex_unlock(&ra->lock);
	return ahead;
}

/*
 * A directory in parent was opened and listed (from the server or ahead):
 * says whether the one opened before it that way was in parent too, the
 * sign of a walker going through parent's subdirectories.
 */
static int ra_walk_step(struct fs *fs, uint64_t parent)
{
	struct readahead *ra = &fs->ra;
	int seq;

	pthread_mutex_lock(&ra->lock);
	seq = ra->last_parent == parent;
	ra->last_parent = parent;
	pthread_mutex_unlock(&ra->lock);
	return seq;
}

/* Queues listings of the first RA_DIRS subdirectories of parent after `after` not fresh. */
static void ra_queue_subdirs(struct fs *fs, uint64_t parent, uint64_t after)
{
	struct index_subdir sub[RA_DIRS];
	int64_t now = now_ns();
	size_t n;

	if (index_subdirs_after(cache_index(fs->c), parent, after, sub, RA_DIRS, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!fresh_at(fs, sub[i].listed, now, 0))
			ra_queue_dir(fs, sub[i].id);
}

/*
 * Where a walker (find, ls -R, cp -r) goes next, it being in dir: they walk
 * in readdir order, which is name order.  Queues listings of the next
 * RA_DIRS subdirectories of parent after dir (parent 0: none) and, with
 * own, of the first RA_DIRS of dir.  Only those not fresh: a walk of a
 * tree listed already queues nothing.
 */
static void ra_dirs_ahead(struct fs *fs, uint64_t dir, uint64_t parent, int own)
{
	if (parent)
		ra_queue_subdirs(fs, parent, dir);
	if (own)
		ra_queue_subdirs(fs, dir, 0);
}

/* Whether the kernel's listing of the directory ino is names only. */
static int dir_listed_bare(struct fs *fs, fuse_ino_t ino)
{
	int bare;

	pthread_mutex_lock(&fs->lookup_lock);
	bare = idmap_get(&fs->bare_dirs, ino) > 0;
	pthread_mutex_unlock(&fs->lookup_lock);
	return bare;
}

/* Remembers whether the listing of ino just given to the kernel went names only. */
static void dir_mark_bare(struct fs *fs, fuse_ino_t ino, int bare)
{
	pthread_mutex_lock(&fs->lookup_lock);
	if (!bare)
		idmap_del(&fs->bare_dirs, ino);
	else if (!idmap_get(&fs->bare_dirs, ino) && idmap_add(&fs->bare_dirs, ino, 1) < 0)
		log_warn("cannot mark the listing of inode %llu: out of memory",
			 (unsigned long long)ino);
	pthread_mutex_unlock(&fs->lookup_lock);
}

/*
 * At the opendir of d, in parent (0: the root): how the process opening it
 * is given the listing (walkers.h).  A walker that is to get attributes
 * does not keep a listing the kernel has names only of (it would look up
 * every name); one that is to get names only, and is kept such a listing,
 * is watched on it as if given it now.
 */
static void walk_opened(struct fs *fs, fuse_req_t req, struct dirbuf *d, uint64_t parent,
			struct fuse_file_info *fi)
{
	int kept_bare = dir_listed_bare(fs, id_to_ino(fs, d->id));

	d->pid = fuse_req_ctx(req)->pid;
	pthread_mutex_lock(&fs->walk_lock);
	d->how = walkers_open(&fs->walkers, d->pid, d->id, parent);
	if (kept_bare && d->how == WALK_PLUS)
		fi->keep_cache = 0;
	else if (kept_bare && fi->keep_cache)
		walkers_listed(&fs->walkers, d->pid, d->id, d->how, 0);
	pthread_mutex_unlock(&fs->walk_lock);
}

/* At the READDIRPLUS that takes d's listing: whether its files go as names only. */
static void walk_listing(struct fs *fs, struct dirbuf *d)
{
	size_t files = 0;

	for (size_t i = 2; i < d->n; i++)
		files += d->v[i].type != ITEM_DIR;
	pthread_mutex_lock(&fs->walk_lock);
	d->bare = files && walkers_listed(&fs->walkers, d->pid, d->id, d->how, files);
	pthread_mutex_unlock(&fs->walk_lock);
	dir_mark_bare(fs, id_to_ino(fs, d->id), d->bare);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct dirbuf *d;
	struct node *n;
	uint64_t id, parent = 0;
	int rc, refreshed = 0, walk = 0, ahead;

	rc = ino_node(fs, ino, &n);
	if (rc < 0)
		goto err;
	if (n->it.type != ITEM_DIR) {
		rc = -ENOTDIR;
		goto err_put;
	}
	ahead = ra_opened_dir(fs, n->id);
	if (!dir_is_fresh(fs, n) && !(n->it.flags & ITEM_F_CREATED) &&
	    !sync_is_suspended(fs->c, n->id)) {
		refreshed = 1;
		rc = sync_refresh_dir(fs->c, fs->s, n);
		if (rc < 0 && !smb_is_conn_error(rc))
			goto err_put; /* offline: list what the index has */
		walk = rc >= 0;
	}
	/*
	 * The listing is taken at the first readdir: a kernel that kept its
	 * cached listing sends none, and then opendir costs no index query.
	 */
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto err_put;
	}
	d->id = n->id;
	d->parent = n->it.parent ? n->it.parent : n->id;
	id = n->id; /* d may be gone once the reply is out */
	parent = n->it.parent;
	put(fs, n);
	fi->fh = (uintptr_t)d;
	/*
	 * The kernel may keep the listing: every change we learn of reaches it
	 * as an entry invalidation (which drops its cached listing too), and
	 * the mount's own creates and deletes it sees itself.  A listing just
	 * taken again from the server starts afresh.
	 */
	fi->cache_readdir = 1;
	fi->keep_cache = !refreshed && ahead != 2;
	walk_opened(fs, req, d, parent, fi);
	if (fuse_reply_open(req, fi) != 0)
		dirbuf_free(d);
	else if ((walk || ahead) && parent)
		/*
		 * Two sibling directories opened in a row make a walk (the
		 * first opendir of a lone `ls` lists nothing more); a directory
		 * listed ahead is part of one, so its subdirectories are next.
		 */
		ra_dirs_ahead(fs, id, ra_walk_step(fs, parent) ? parent : 0, ahead);
	return;
err_put:
	put(fs, n);
err:
	fuse_reply_err(req, -rc);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct fs *fs = fuse_req_userdata(req);
	struct dirbuf *d = (struct dirbuf *)(uintptr_t)fi->fh;
	struct fuse_forget_data *counted = NULL; /* lookups counted for this reply */
	size_t ncounted = 0;
	char *buf, *p;
	size_t left = size;
	int rc;

	if (!d->filled) {
		if ((rc = dirbuf_fill(fs, d)) < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		if (plus)
			walk_listing(fs, d);
	}
	buf = malloc(size);
	if (buf && plus) {
		/* Entries fit in the reply at most as many as of the smallest size. */
		size_t min = fuse_add_direntry_plus(req, NULL, 0, "", NULL, 0);
		counted = malloc((size / min + 1) * sizeof(*counted));
	}
	if (!buf || (plus && !counted)) {
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p = buf;
	for (size_t i = (size_t)off; i < d->n; i++) {
		struct dirent_snap *e = &d->v[i];
		int dot = i < 2; /* "." and "..": the kernel takes no reference */
		size_t need;

		if (!plus) {
			struct stat st = {.st_ino = id_to_ino(fs, e->id),
					  .st_mode = e->type == ITEM_DIR ? S_IFDIR : S_IFREG};
			need = fuse_add_direntry(req, p, left, e->name, &st, (off_t)i + 1);
			if (need > left)
				break;
		} else {
			struct fuse_entry_param ep;
			struct node *n;

			need = fuse_add_direntry_plus(req, NULL, 0, e->name, NULL, 0);
			if (need > left)
				break;
			if (dot || (d->bare && e->type != ITEM_DIR)) {
				/* A name only: the kernel makes no inode of it. */
				memset(&ep, 0, sizeof(ep));
				ep.attr.st_ino = id_to_ino(fs, e->id);
				ep.attr.st_mode = dot ? S_IFDIR : e->st.st_mode & S_IFMT;
			} else {
				/*
				 * A node in memory may be ahead of the row (a write
				 * under way); else the row read with the listing is
				 * the item, with no query of its own.
				 */
				if (cache_node_peek(fs->c, e->id, &n) == 0) {
					pthread_mutex_lock(&n->lock);
					fill_entry(fs, n, &ep);
					pthread_mutex_unlock(&n->lock);
					put(fs, n);
				} else {
					memset(&ep, 0, sizeof(ep));
					ep.ino = id_to_ino(fs, e->id);
					ep.generation = 1;
					ep.attr_timeout = ttl(fs);
					ep.entry_timeout = ep.attr_timeout;
					ep.attr = e->st;
				}
				/* The kernel takes a lookup reference on each entry. */
				lookup_add(fs, ep.ino);
				counted[ncounted].ino = ep.ino;
				counted[ncounted++].nlookup = 1;
			}
			fuse_add_direntry_plus(req, p, left, e->name, &ep, (off_t)i + 1);
		}
		p += need;
		left -= need;
	}
	if (fuse_reply_buf(req, buf, size - left) != 0)
		lookup_sub(fs, counted, ncounted);
	free(counted);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dirbuf_free((struct dirbuf *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- files: open, read ------------------------------------------------- */

/* Open file handles: the node, with FH_RDONLY set in the low bit for a read-only open. */
#define FH_RDONLY ((uint64_t)1)

static struct node *fh_node(const struct fuse_file_info *fi)
{
	return (struct node *)(uintptr_t)(fi->fh & ~FH_RDONLY);
}

static int set_local_size(struct fs *fs, struct node *n, uint64_t size);

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *n;
	int rc;

	rc = ino_node(fs, ino, &n);
	if (rc < 0)
		goto err;
	if (n->it.type == ITEM_DIR) {
		rc = -EISDIR;
		goto err_put;
	}
	rc = revalidate(fs, n);
	if (rc < 0)
		goto err_put;
	pthread_mutex_lock(&n->lock);
	/*
	 * A ghost (known by name, no byte cached) cannot be read offline:
	 * opening it for reading fails at once with the offline errno.
	 */
	if ((fi->flags & O_ACCMODE) == O_RDONLY && n->it.size > 0 && n->it.present.n == 0) {
		struct smb_state st;
		smb_get_state(fs->s, &st);
		if (!st.online || st.forced || sync_is_suspended(fs->c, n->id)) {
			pthread_mutex_unlock(&n->lock);
			rc = -SMB_OFFLINE_ERRNO;
			goto err_put;
		}
	}
	rc = cache_node_fd(fs->c, n);
	if (rc >= 0 && (fi->flags & O_TRUNC) && n->it.size > 0) {
		/*
		 * Atomic O_TRUNC (libfuse asks the kernel for it): the truncation
		 * comes with the open, not as a setattr; it is a local change.
		 */
		rc = set_local_size(fs, n, 0);
		if (rc == 0) {
			n->it.mtime = now_ns();
			n->it.gen++;
			rc = cache_node_save(fs->c, n);
		}
	}
	if (rc >= 0) {
		/* Keep the kernel's pages only if the content did not change under them. */
		fi->keep_cache = n->kernel_ver == n->content_ver;
		n->kernel_ver = n->content_ver;
		n->opens++;
		n->it.atime = now_ns(); /* reads from the kernel's pages never reach us */
		rc = 0;
	}
	pthread_mutex_unlock(&n->lock);
	if (rc < 0)
		goto err_put;
	/* The open handle keeps this reference; its low bit says read-only. */
	fi->fh = (uintptr_t)n | ((fi->flags & O_ACCMODE) == O_RDONLY ? FH_RDONLY : 0);
	if (fuse_reply_open(req, fi) != 0) {
		pthread_mutex_lock(&n->lock);
		n->opens--;
		pthread_mutex_unlock(&n->lock);
		put(fs, n);
	}
	return;
err_put:
	put(fs, n);
err:
	fuse_reply_err(req, -rc);
}

/* Queues [start, end) of n for the read-ahead thread (dropped when full). */
static void ra_queue(struct fs *fs, struct node *n, uint64_t start, uint64_t end)
{
	struct readahead *ra = &fs->ra;
	struct ra_req *r;

	pthread_mutex_lock(&ra->lock);
	if (!ra->started || ra->stopping || ra->len >= RA_QUEUE_MAX) {
		pthread_mutex_unlock(&ra->lock);
		return;
	}
	pthread_mutex_unlock(&ra->lock);
	r = calloc(1, sizeof(*r));
	if (!r)
		return;
	cache_node_ref(fs->c, n);
	r->n = n;
	r->start = start;
	r->end = end;
	pthread_mutex_lock(&ra->lock);
	ra_push(ra, r);
	pthread_mutex_unlock(&ra->lock);
}

/*
 * With ra->lock held (dropped during the listing): lists dir ahead, marked
 * busy meanwhile so that its opendir waits for it (ra_opened_dir).
 */
static void ra_run_dir(struct fs *fs, uint64_t dir)
{
	struct readahead *ra = &fs->ra;
	uint64_t forget = 0;
	unsigned slot;
	int listed;

	for (slot = 0; ra->busy[slot]; slot++)
		; /* one slot a thread: there is a free one */
	ra->busy[slot] = dir;
	pthread_mutex_unlock(&ra->lock);
	listed = ra_list_dir(fs, dir);
	pthread_mutex_lock(&ra->lock);
	ra->busy[slot] = 0;
	if (listed >= 0)
		ra_remember(ra, dir, listed, &forget);
	pthread_cond_broadcast(&ra->listed);
	if (forget) {
		pthread_mutex_unlock(&ra->lock);
		cache_notify_inode(fs->c, forget);
		pthread_mutex_lock(&ra->lock);
	}
}

static void *ra_main(void *arg)
{
	struct fs *fs = arg;
	struct readahead *ra = &fs->ra;
	struct ra_req *r;

	pthread_mutex_lock(&ra->lock);
	for (;;) {
		while (!ra->head && !ra->stopping)
			pthread_cond_wait(&ra->cond, &ra->lock);
		r = ra->head;
		if (!r)
			break;
		ra->head = r->next;
		if (!ra->head)
			ra->tail = NULL;
		ra->len--;
		if (!r->n) {
			if (!ra->stopping)
				ra_run_dir(fs, r->dir);
			free(r);
			continue;
		}
		int stopping = ra->stopping;
		pthread_mutex_unlock(&ra->lock);
		if (!stopping)
			sync_fetch_ahead(fs->c, fs->s, r->n, r->start,
					 r->end); /* a failure shows on the real read */
		cache_node_put(fs->c, r->n, 1);
		free(r);
		pthread_mutex_lock(&ra->lock);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

/*
 * With n->lock held: notes a read of [off, end) and returns in *ra_start /
 * *ra_end what to read ahead, and in *drop_start / *drop_end the cache
 * file's pages to drop once the read is answered (each empty when nothing).
 */
static void ra_note(struct node *n, uint64_t off, uint64_t end, uint64_t *ra_start,
		    uint64_t *ra_end, uint64_t *drop_start, uint64_t *drop_end)
{
	uint64_t size = (uint64_t)n->it.size, s, e, behind;

	/* The kernel's own read-ahead reorders requests a little: allow slack. */
	if (off + CACHE_CHUNK / 4 >= n->ra_next && off <= n->ra_next + CACHE_CHUNK / 4)
		n->ra_run += end - off;
	else {
		n->ra_run = end - off;
		n->ra_dropped = 0;
	}
	n->ra_next = end;
	*ra_start = *ra_end = 0;
	/*
	 * Behind a sequential reader, the cache file's pages only double the
	 * kernel's pages of the mount, which the reader was just given: the
	 * chunks from one to nine behind it are dropped at each chunk the
	 * reader enters.  Dirty pages only start their writeback at a drop,
	 * so each chunk has eight chances to go once written.
	 */
	*drop_start = *drop_end = 0;
	behind = off / CACHE_CHUNK * CACHE_CHUNK;
	if (n->ra_run >= 2 * (uint64_t)CACHE_CHUNK && behind >= CACHE_CHUNK &&
	    behind - CACHE_CHUNK > n->ra_dropped) {
		*drop_start = behind >= RA_DROP * (uint64_t)CACHE_CHUNK ?
				      behind - RA_DROP * (uint64_t)CACHE_CHUNK :
				      0;
		*drop_end = behind - CACHE_CHUNK;
		n->ra_dropped = *drop_end;
	}
	if (n->ra_run < CACHE_CHUNK)
		return;
	s = (end + CACHE_CHUNK - 1) / CACHE_CHUNK * CACHE_CHUNK;
	e = s + (uint64_t)RA_CHUNKS * CACHE_CHUNK;
	if (n->it.base.valid && e > (uint64_t)n->it.base.size)
		e = (uint64_t)n->it.base.size;
	if (e > size)
		e = size;
	if (s >= e || rangeset_contains(&n->it.present, s, e) ||
	    rangeset_contains(&n->inflight, s, e))
		return;
	*ra_start = s;
	*ra_end = e;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *n = fh_node(fi);
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(0);
	uint64_t end, ra_start, ra_end, drop_start = 0, drop_end = 0;
	int rc = 0, fd;

	for (int attempt = 0; attempt < 3; attempt++) {
		pthread_mutex_lock(&n->lock);
		end = (uint64_t)off + size;
		if (end > (uint64_t)n->it.size)
			end = (uint64_t)n->it.size;
		int have = (uint64_t)off >= end ||
			   rangeset_contains(&n->it.present, (uint64_t)off, end);
		fd = n->fd;
		n->it.atime = now_ns();
		if (attempt == 0 && (uint64_t)off < end)
			ra_note(n, (uint64_t)off, end, &ra_start, &ra_end, &drop_start, &drop_end);
		else
			ra_start = ra_end = 0;
		pthread_mutex_unlock(&n->lock);
		if (ra_end > ra_start && !sync_is_suspended(fs->c, n->id))
			ra_queue(fs, n, ra_start, ra_end);
		if (have) {
			rc = 0;
			break;
		}
		rc = sync_is_suspended(fs->c, n->id) ?
			     -SMB_OFFLINE_ERRNO :
			     sync_fetch(fs->c, fs->s, n, (uint64_t)off, end);
		if (rc != -EAGAIN && rc < 0)
			break;
	}
	if (rc < 0) {
		if (rc == -EAGAIN)
			rc = -EIO;
		else if (smb_is_conn_error(rc))
			rc = -SMB_OFFLINE_ERRNO; /* not cached, and no server: one errno */
		fuse_reply_err(req, -rc);
		return;
	}
	if ((uint64_t)off >= end) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	bv.buf[0].size = end - (uint64_t)off;
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	if (drop_end > drop_start)
		posix_fadvise(fd, (off_t)drop_start, (off_t)(drop_end - drop_start),
			      POSIX_FADV_DONTNEED);
}

/* ---- files: write, truncate, flush ------------------------------------- */

/*
 * Records a local change of size (and the zeros it adds) with n->lock held:
 * the bytes from the old size to the new one are present, dirty zeros.
 */
static int set_local_size(struct fs *fs, struct node *n, uint64_t size)
{
	uint64_t old = (uint64_t)n->it.size;
	int fd = cache_node_fd(fs->c, n);
	int rc = 0;

	if (fd < 0)
		return fd;
	if (size < old) {
		if (ftruncate(fd, (off_t)size) < 0)
			return -errno;
		rangeset_truncate(&n->it.present, size);
		rangeset_truncate(&n->it.dirty, size);
	} else if (size > old) {
		/* Whatever the file held past the old size must read as zeros. */
		if (ftruncate(fd, (off_t)old) < 0 || ftruncate(fd, (off_t)size) < 0)
			return -errno;
		rc = rangeset_add(&n->it.present, old, size);
		if (rc == 0)
			rc = rangeset_add(&n->it.dirty, old, size);
	}
	n->it.size = (int64_t)size;
	return rc;
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *n = fh_node(fi);
	uint64_t end = (uint64_t)off + size;
	int rc, fd;

	pthread_mutex_lock(&n->lock);
	fd = cache_node_fd(fs->c, n);
	rc = fd < 0 ? fd : 0;
	if (rc == 0 && (uint64_t)off > (uint64_t)n->it.size)
		rc = set_local_size(fs, n, (uint64_t)off);
	if (rc == 0)
		rc = pwrite_all(fd, buf, size, off);
	if (rc == 0)
		rc = rangeset_add(&n->it.present, (uint64_t)off, end);
	if (rc == 0)
		rc = rangeset_add(&n->it.dirty, (uint64_t)off, end);
	if (rc == 0) {
		if (end > (uint64_t)n->it.size)
			n->it.size = (int64_t)end;
		n->it.mtime = now_ns();
		n->it.gen++;
		rc = cache_node_save(fs->c, n);
	}
	pthread_mutex_unlock(&n->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

/*
 * True when changes to id must wait in the cache: the share is offline,
 * namespace changes made offline wait in the journal (later changes must
 * not overtake them), or id lies in a suspended subtree.
 */
static int journaling(struct fs *fs, uint64_t id)
{
	struct smb_state st;
	uint64_t pending = 0;

	smb_get_state(fs->s, &st);
	if (!st.online || st.forced)
		return 1;
	index_journal_count(cache_index(fs->c), fs->conf.share, &pending);
	return pending > 0 || sync_is_suspended(fs->c, id);
}

/*
 * Pushes a dirty file.  Offline (or behind the journal), a conflict
 * (-ESTALE) or a concurrent write (-EAGAIN) leaves the data safe in the
 * cache for the background sync and is not an error for close or fsync.
 */
static int push(struct fs *fs, struct node *n)
{
	int rc;

	if (journaling(fs, n->id))
		return 0;
	rc = sync_push_file(fs->c, fs->s, n);
	if (rc == -ESTALE || rc == -EAGAIN || smb_is_conn_error(rc))
		return 0;
	if (rc < 0)
		log_warn("upload of item %llu failed: %s", (unsigned long long)n->id,
			 strerror(-rc));
	return rc;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *n = fh_node(fi);

	/* A reader's close uploads nothing, and so cannot fail for an upload. */
	fuse_reply_err(req, (fi->fh & FH_RDONLY) ? 0 : -push(fs, n));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *n = fh_node(fi);
	int rc = 0;

	pthread_mutex_lock(&n->lock);
	if (n->fd >= 0 && fdatasync(n->fd) < 0)
		rc = -errno;
	if (rc == 0)
		rc = cache_node_save_durable(fs->c, n);
	pthread_mutex_unlock(&n->lock);
	if (rc == 0)
		rc = push(fs, n);
	fuse_reply_err(req, -rc);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *n = fh_node(fi);

	pthread_mutex_lock(&n->lock);
	n->opens--;
	cache_node_fd_idle(fs->c, n);
	/*
	 * The last access goes to the index at close, for the eviction's LRU
	 * order; not while the disk is full (the room left is for deletes).
	 */
	if (n->it.atime > n->atime_saved && index_reserve_ok(cache_index(fs->c)) &&
	    cache_node_save(fs->c, n) == 0)
		n->atime_saved = n->it.atime;
	pthread_mutex_unlock(&n->lock);
	put(fs, n);
	fuse_reply_err(req, 0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	char path[PATH_MAX];
	struct smb_stat st;
	struct stat out;
	struct node *n;
	int rc, push_now = 0, server, is_file;

	rc = ino_node(fs, ino, &n);
	if (rc < 0)
		goto err;
	if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != fs->uid) ||
	    ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != fs->gid)) {
		rc = -EPERM; /* the server has no owners to give */
		goto err_put;
	}
	/*
	 * Online, mode and times of a clean item go to the server at once.
	 * Otherwise (offline, behind the journal, created here, unlinked and
	 * open) they change locally; for a file that makes it dirty and the
	 * upload carries them.
	 */
	pthread_mutex_lock(&n->lock);
	server = !n->unlinked && !(n->it.flags & ITEM_F_CREATED);
	is_file = n->it.type == ITEM_FILE;
	pthread_mutex_unlock(&n->lock);
	if (server && journaling(fs, n->id))
		server = 0;
	rc = server ? item_path(fs, n->id, path, sizeof(path)) : 0;
	if (rc < 0)
		goto err_put;
	if (to_set & FUSE_SET_ATTR_MODE) {
		if (server) {
			rc = smb_chmod(fs->s, path, attr->st_mode & 07777);
			if (smb_is_conn_error(rc))
				server = 0, rc = 0;
			if (rc < 0)
				goto err_put;
		}
		pthread_mutex_lock(&n->lock);
		n->it.mode = attr->st_mode & 07777;
		if (!server && is_file)
			n->it.gen++;
		rc = cache_node_save(fs->c, n);
		pthread_mutex_unlock(&n->lock);
		if (rc < 0)
			goto err_put;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (!is_file) {
			rc = -EISDIR;
			goto err_put;
		}
		pthread_mutex_lock(&n->lock);
		rc = set_local_size(fs, n, (uint64_t)attr->st_size);
		if (rc == 0) {
			n->it.mtime = now_ns();
			n->it.gen++;
			rc = cache_node_save(fs->c, n);
		}
		push_now = n->opens == 0; /* no close will follow */
		pthread_mutex_unlock(&n->lock);
		if (rc < 0)
			goto err_put;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		int64_t t =
			(to_set & FUSE_SET_ATTR_MTIME_NOW) ?
				now_ns() :
				(int64_t)attr->st_mtim.tv_sec * 1000000000 + attr->st_mtim.tv_nsec;
		int dirty;

		pthread_mutex_lock(&n->lock);
		n->it.mtime = t;
		dirty = item_is_dirty(&n->it);
		rc = cache_node_save(fs->c, n);
		pthread_mutex_unlock(&n->lock);
		if (rc < 0)
			goto err_put;
		if (!dirty && server) {
			/* A clean item: set the time on the server and take it as the base. */
			rc = smb_utimes(fs->s, path, t, t);
			if (rc == 0)
				rc = smb_stat(fs->s, path, &st);
			if (smb_is_conn_error(rc)) {
				server = 0;
				rc = 0;
			} else if (rc < 0) {
				goto err_put;
			} else {
				pthread_mutex_lock(&n->lock);
				sync_base_from_stat(&n->it.base, &st);
				rc = cache_node_save(fs->c, n);
				pthread_mutex_unlock(&n->lock);
				if (rc < 0)
					goto err_put;
			}
		}
		if ((dirty || !server) && is_file) {
			pthread_mutex_lock(&n->lock);
			n->it.gen++; /* the upload sets the time */
			rc = cache_node_save(fs->c, n);
			pthread_mutex_unlock(&n->lock);
			if (rc < 0)
				goto err_put;
		}
	}
	if (push_now) {
		rc = push(fs, n);
		if (rc < 0)
			goto err_put;
	}
	pthread_mutex_lock(&n->lock);
	fill_attr(fs, n, &out);
	pthread_mutex_unlock(&n->lock);
	put(fs, n);
	fuse_reply_attr(req, &out, ttl(fs));
	return;
err_put:
	put(fs, n);
err:
	fuse_reply_err(req, -rc);
}

/* ---- namespace --------------------------------------------------------- */

/*
 * Checks a new name: our temporary names are reserved, and SMB takes no
 * control characters and none of \\ / : * ? " < > | (the server would refuse
 * it online; offline it must be refused too, not at replay).
 */
static int name_ok(const char *name)
{
	return sync_name_ok(name) ? 0 : -EINVAL;
}

/*
 * Records an item the server just created at dir/name: its stat goes into
 * the index, replacing a stale entry of that name.  *id gets its id.
 */
static int record_created(struct fs *fs, struct node *dir, const char *name, const char *path,
			  uint64_t *id)
{
	struct smb_stat st;
	int rc;

	rc = smb_stat(fs->s, path, &st);
	if (rc < 0)
		return rc;
	rc = sync_insert_remote(fs->c, dir->it.share, dir->id, name, &st, id);
	if (rc == -EEXIST) {
		rc = sync_refresh_name(fs->c, fs->s, dir, name, id);
		if (rc == 0 && *id == 0)
			rc = -ENOENT;
	}
	return rc;
}

/* Appends a namespace change to the journal. */
static int journal(struct fs *fs, int kind, uint64_t item, const char *path, const char *path2,
		   const struct rbase *base)
{
	struct journal_op *op = calloc(1, sizeof(*op));
	int rc;

	if (!op)
		return -ENOMEM;
	op->share = fs->conf.share;
	op->op = kind;
	op->item = item;
	snprintf(op->path, sizeof(op->path), "%s", path);
	snprintf(op->path2, sizeof(op->path2), "%s", path2 ? path2 : "");
	if (base)
		op->base = *base;
	rc = index_journal_add(cache_index(fs->c), op);
	free(op);
	return rc;
}

/*
 * Creates name in pn in the cache: a new index row flagged created (not on
 * the server), and, with journaled, a journal entry to create it there
 * later.  Without one the item's first upload creates it (a file: see
 * make_child).
 */
static int make_child_local(struct fs *fs, struct node *pn, const char *name, const char *path,
			    int dir, mode_t mode, int journaled, uint64_t *id)
{
	struct index_item it;
	int rc;

	index_item_init(&it);
	it.share = pn->it.share;
	it.parent = pn->id;
	it.name = strdup(name);
	if (!it.name)
		return -ENOMEM;
	it.type = dir ? ITEM_DIR : ITEM_FILE;
	it.mtime = now_ns();
	it.mode = mode & 07777;
	it.gen = 1;
	it.flags = ITEM_F_CREATED;
	it.listed = dir ? now_ns() : 0; /* new and empty: nothing to list */
	rc = index_insert(cache_index(fs->c), &it);
	if (rc == 0 && journaled)
		rc = journal(fs, dir ? JOP_MKDIR : JOP_CREATE, it.id, path, NULL, NULL);
	if (rc == 0)
		*id = it.id;
	index_item_release(&it);
	return rc;
}

static int has_children_cb(void *arg, const struct index_item *it);

/*
 * A directory this mount just made on the server was empty there at time
 * t (taken before the mkdir): as good as a listing taken then, so lookups
 * of new names in it are answered here for attr_timeout (a cp -r or tar x
 * fills many small directories within that).  Not for an index entry that
 * already has children (a stale one the mkdir found again).
 */
static void mark_listed(struct fs *fs, uint64_t id, int64_t t)
{
	struct node *n;

	if (index_children(cache_index(fs->c), id, has_children_cb, NULL) != 0 ||
	    cache_node_get(fs->c, id, &n) < 0)
		return;
	pthread_mutex_lock(&n->lock);
	if (n->it.type == ITEM_DIR && n->it.listed < t) {
		n->it.listed = t;
		cache_node_save(fs->c, n);
	}
	pthread_mutex_unlock(&n->lock);
	put(fs, n);
}

/*
 * Creates name in directory parent (a file, or a directory when dir is set)
 * and records it in the index; offline, in the cache and the journal.  *id
 * gets its id.
 *
 * A directory is created on the server at once.  A file, online too, starts
 * in the cache only (created, no journal entry): its first upload, at close
 * or fsync, creates it on the server under the name it has then, with its
 * content, in one CREATE (push.c).  A new file that is renamed or removed
 * before its upload costs the server nothing, and a new file costs one
 * CREATE instead of an empty one made here and replaced at upload.  The
 * price: the server does not show the name until the first close, and a
 * file another client made under the same name meanwhile (unknown here
 * within attr_timeout) is found at upload, a conflict with both kept,
 * instead of being opened here.
 */
static int make_child(struct fs *fs, fuse_ino_t parent, const char *name, int dir, mode_t mode,
		      uint64_t *id)
{
	char path[PATH_MAX];
	struct index_item old;
	int64_t made = 0;
	struct node *pn;
	int rc;

	rc = name_ok(name);
	if (rc < 0)
		return rc;
	rc = ino_node(fs, parent, &pn);
	if (rc < 0)
		return rc;
	rc = child_path(fs, pn->id, name, path, sizeof(path));
	if (rc < 0)
		goto out;
	if (journaling(fs, pn->id) || (pn->it.flags & ITEM_F_CREATED)) {
		rc = -ECONNREFUSED; /* take the offline way below */
	} else if (dir) {
		made = now_ns();
		rc = smb_mkdir(fs->s, path, mode & 07777);
	} else {
		rc = -EINPROGRESS; /* a file: created by its first upload */
	}
	if (rc == 0) {
		rc = record_created(fs, pn, name, path, id);
		if (rc == 0)
			mark_listed(fs, *id, made);
	} else if (smb_is_conn_error(rc) || rc == -EINPROGRESS) {
		if (index_lookup(cache_index(fs->c), pn->id, name, &old) == 0) {
			index_item_release(&old);
			rc = -EEXIST;
		} else {
			rc = make_child_local(fs, pn, name, path, dir, mode, rc != -EINPROGRESS,
					      id);
		}
	}
out:
	put(fs, pn);
	return rc;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e;
	struct node *n;
	uint64_t id;
	int rc;

	rc = make_child(fs, parent, name, 0, mode, &id);
	if (rc < 0)
		goto err;
	rc = cache_node_get(fs->c, id, &n); /* the open handle's reference */
	if (rc < 0)
		goto err;
	pthread_mutex_lock(&n->lock);
	rc = cache_node_fd(fs->c, n);
	if (rc >= 0) {
		rc = 0;
		n->opens++;
		n->checked = mono_ns();
		n->kernel_ver = n->content_ver;
		fill_entry(fs, n, &e);
	}
	pthread_mutex_unlock(&n->lock);
	if (rc < 0) {
		put(fs, n);
		goto err;
	}
	lookup_add(fs, e.ino); /* the kernel's lookup */
	fi->fh = (uintptr_t)n;
	if (fuse_reply_create(req, &e, fi) != 0) {
		lookup_undo(fs, e.ino);
		pthread_mutex_lock(&n->lock);
		n->opens--;
		cache_node_fd_idle(fs->c, n);
		pthread_mutex_unlock(&n->lock);
		put(fs, n);
	}
	return;
err:
	fuse_reply_err(req, -rc);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fuse_req_userdata(req);
	uint64_t id;
	int rc = make_child(fs, parent, name, 1, mode, &id);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry_id(fs, req, id);
}

static int has_children_cb(void *arg, const struct index_item *it)
{
	(void)arg;
	return sync_name_hidden(it->name) ? 0 : 1;
}

/*
 * Removes an item offline: one created here (never on the server) leaves no
 * trace, its journal entries dropped; any other is journaled for deletion
 * on the server, with its base, so that a version changed there meanwhile
 * is not deleted.
 */
static int remove_local(struct fs *fs, const struct index_item *it, const char *path)
{
	int rc;

	if (it->flags & ITEM_F_CREATED)
		rc = index_journal_drop_item(cache_index(fs->c), it->id);
	else
		rc = journal(fs, it->type == ITEM_DIR ? JOP_RMDIR : JOP_UNLINK, it->id, path, NULL,
			     &it->base);
	return rc;
}

/*
 * For a file only the cache has (created here and not uploaded; with
 * no_journal, also without journal entries, so the server will not hear of
 * it from the journal either): keeps its uploads off (sync_push_hold), after
 * waiting for one in progress.  Returns 1 with *np referenced and held
 * (sync_push_release, then put), 0 when the server has or will have it (an
 * upload may just have ended), or a negative errno.
 */
static int hold_local_only(struct fs *fs, uint64_t id, int no_journal, struct node **np)
{
	uint64_t pending = 0;
	struct node *n;
	int rc, local;

	rc = cache_node_get(fs->c, id, &n);
	if (rc < 0)
		return rc;
	rc = sync_push_hold(n);
	if (rc < 0) {
		put(fs, n);
		return rc;
	}
	pthread_mutex_lock(&n->lock);
	local = !n->unlinked && n->it.type == ITEM_FILE && (n->it.flags & ITEM_F_CREATED);
	pthread_mutex_unlock(&n->lock);
	if (local && no_journal) {
		rc = index_journal_item_pending(cache_index(fs->c), id, &pending);
		local = rc == 0 && pending == 0;
	}
	if (!local) {
		sync_push_release(n);
		put(fs, n);
		return rc;
	}
	*np = n;
	return 1;
}

/* unlink and rmdir: remove on the server (or journal it), then from the index. */
static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, int want_dir)
{
	struct fs *fs = fuse_req_userdata(req);
	struct node *dir, *held = NULL;
	struct index_item it;
	char path[PATH_MAX];
	int rc;

	rc = ino_node(fs, parent, &dir);
	if (rc < 0)
		goto err;
	rc = child_path(fs, dir->id, name, path, sizeof(path));
	if (rc == 0)
		rc = index_lookup(cache_index(fs->c), dir->id, name, &it);
	put(fs, dir);
	if (rc < 0)
		goto err;
	if (want_dir && it.type != ITEM_DIR)
		rc = -ENOTDIR;
	else if (!want_dir && it.type == ITEM_DIR)
		rc = -EISDIR;
	if (rc == 0 && it.type == ITEM_FILE && (it.flags & ITEM_F_CREATED)) {
		/* Not on the server: no upload may put it there while it goes. */
		rc = hold_local_only(fs, it.id, 0, &held);
		if (rc == 0)
			it.flags &= ~ITEM_F_CREATED; /* uploaded meanwhile */
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0 && (journaling(fs, it.id) || (it.flags & ITEM_F_CREATED)))
		rc = -ECONNREFUSED; /* take the offline way below */
	else if (rc == 0)
		rc = want_dir ? smb_rmdir(fs->s, path) : smb_unlink(fs->s, path);
	if (rc == -ENOENT)
		rc = 0; /* already gone on the server */
	if (smb_is_conn_error(rc)) {
		/* Offline, a directory must look empty here to go. */
		rc = want_dir && index_children(cache_index(fs->c), it.id, has_children_cb, NULL) ?
			     -ENOTEMPTY :
			     remove_local(fs, &it, path);
		if (rc == -ENOSPC && cache_free_tree_data(fs->c, it.id) == 0)
			rc = remove_local(fs, &it, path); /* a delete is how a full disk is freed */
	}
	if (rc == 0)
		rc = cache_delete_tree(fs->c, it.id);
	if (rc == -ENOSPC && cache_free_tree_data(fs->c, it.id) == 0)
		rc = cache_delete_tree(fs->c, it.id);
	if (held) {
		sync_push_release(held);
		put(fs, held);
	}
	index_item_release(&it);
err:
	fuse_reply_err(req, -rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 1);
}

/*
 * Renames n, a file only the cache has (hold_local_only), to npid/newname:
 * the server hears nothing now, and the first upload creates the file under
 * the new name.  A target dst the server has is taken over online: n
 * becomes a new version of it (dst's base, every byte dirty), so that its
 * upload replaces dst by temporary name and rename after checking it
 * unchanged, as any upload does, and the server never goes without the name
 * (the save-by-rename of editors).  Offline, or for a target without a
 * base, the target is removed as unlink would; one only the cache has goes
 * without a trace.  Returns 0 or a negative errno.
 */
static int rename_local(struct fs *fs, struct node *n, const struct index_item *dst, uint64_t npid,
			const char *newname, const char *to)
{
	int rc = 0, take = 0;

	if (dst) {
		take = dst->type == ITEM_FILE && !(dst->flags & ITEM_F_CREATED) &&
		       dst->base.valid && !journaling(fs, dst->id);
		if (!take && !(dst->flags & ITEM_F_CREATED) && !journaling(fs, dst->id)) {
			rc = smb_unlink(fs->s, to);
			rc = rc == -ENOENT ? 0 : rc;
			if (smb_is_conn_error(rc))
				rc = remove_local(fs, dst, to);
		} else if (!take) {
			rc = remove_local(fs, dst, to);
		}
		if (rc == 0)
			rc = cache_delete_tree(fs->c, dst->id);
	}
	if (rc == 0)
		rc = index_move(cache_index(fs->c), n->id, npid, newname);
	if (rc == 0 && take) {
		pthread_mutex_lock(&n->lock);
		n->it.base = dst->base;
		n->it.flags &= ~ITEM_F_CREATED;
		rangeset_clear(&n->it.dirty);
		if (n->it.size > 0)
			rc = rangeset_add(&n->it.dirty, 0, (uint64_t)n->it.size);
		n->it.gen++;
		if (rc == 0)
			rc = cache_node_save(fs->c, n);
		pthread_mutex_unlock(&n->lock);
	}
	return rc;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = fuse_req_userdata(req);
	char from[PATH_MAX], to[PATH_MAX];
	struct index_item src, dst;
	uint64_t pid = ino_to_id(fs, parent), npid = ino_to_id(fs, newparent);
	struct node *held = NULL;
	int rc, have_dst;

	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	rc = name_ok(newname);
	if (rc == 0)
		rc = child_path(fs, pid, name, from, sizeof(from));
	if (rc == 0)
		rc = child_path(fs, npid, newname, to, sizeof(to));
	if (rc == 0)
		rc = index_lookup(cache_index(fs->c), pid, name, &src);
	if (rc < 0)
		goto err;
	have_dst = index_lookup(cache_index(fs->c), npid, newname, &dst) == 0;
	if (have_dst && (flags & RENAME_NOREPLACE))
		rc = -EEXIST;
	else if (have_dst && dst.type == ITEM_DIR && src.type != ITEM_DIR)
		rc = -EISDIR;
	else if (have_dst && dst.type != ITEM_DIR && src.type == ITEM_DIR)
		rc = -ENOTDIR;
	else if (have_dst && dst.type == ITEM_DIR &&
		 index_children(cache_index(fs->c), dst.id, has_children_cb, NULL))
		rc = -ENOTEMPTY;
	if (rc == 0 && src.type == ITEM_FILE && (src.flags & ITEM_F_CREATED)) {
		rc = hold_local_only(fs, src.id, 1, &held);
		if (rc == 1) {
			rc = rename_local(fs, held, have_dst ? &dst : NULL, npid, newname, to);
			sync_push_release(held);
			put(fs, held);
			goto out;
		}
	}
	if (rc == 0 && (journaling(fs, src.id) || sync_is_suspended(fs->c, npid)))
		rc = -ECONNREFUSED; /* take the offline way below */
	else if (rc == 0)
		rc = smb_rename(fs->s, from, to);
	if (smb_is_conn_error(rc)) {
		/*
		 * Offline: a replaced target is journaled as removed first, then
		 * the rename itself, so that the server sees a rename (the file
		 * keeps its id there).
		 */
		rc = have_dst ? remove_local(fs, &dst, to) : 0;
		if (rc == 0)
			rc = journal(fs, JOP_RENAME, src.id, from, to, &src.base);
	}
	if (rc == 0 && have_dst)
		rc = cache_delete_tree(fs->c, dst.id);
	if (rc == 0)
		rc = index_move(cache_index(fs->c), src.id, npid, newname);
out:
	if (have_dst)
		index_item_release(&dst);
	index_item_release(&src);
err:
	fuse_reply_err(req, -rc);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	struct statvfs sv;
	int rc;

	rc = smb_statvfs(fs->s, &sv);
	if (rc < 0 && statvfs(fs->conf.cache_dir, &sv) < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO; /* always plus: attrs come free */
	/* Cached reads go from the cache file to the kernel without a copy. */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.fsync = op_fsync,
	.release = op_release,
	.create = op_create,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.statfs = op_statfs,
};

/* ---- the session ------------------------------------------------------- */

/*
 * True when the kernel may hold ino: it holds the root always, and any other
 * inode from the lookup counted before the reply that gave it.
 */
static int kernel_knows(struct fs *fs, fuse_ino_t ino)
{
	int known;

	if (ino == FUSE_ROOT_ID)
		return 1;
	pthread_mutex_lock(&fs->lookup_lock);
	known = idmap_get(&fs->lookups, ino) > 0;
	pthread_mutex_unlock(&fs->lookup_lock);
	return known;
}

/*
 * Invalidations go only to inodes this mount's kernel holds: a sync of many
 * items the kernel never saw queues nothing.
 */
static void hook_inode(void *arg, uint64_t id)
{
	struct fs *fs = arg;
	fuse_ino_t ino = id_to_ino(fs, id);

	if (fs->nt && kernel_knows(fs, ino))
		notify_inode(fs->nt, ino);
}

static void hook_entry(void *arg, uint64_t parent, const char *name)
{
	struct fs *fs = arg;
	fuse_ino_t ino = id_to_ino(fs, parent);

	if (fs->nt && kernel_knows(fs, ino))
		notify_entry(fs->nt, ino, name);
}

void fs_set_watching(struct fs *fs, int watching)
{
	if (watching) {
		__atomic_store_n(&fs->watch_wall, now_ns(), __ATOMIC_RELEASE);
		__atomic_store_n(&fs->watch_mono, mono_ns(), __ATOMIC_RELEASE);
	}
	__atomic_store_n(&fs->watching, watching, __ATOMIC_RELEASE);
	log_debug("%s: the server's change watch is %s", fs->mountpoint, watching ? "up" : "down");
}

int fs_watching(struct fs *fs)
{
	return __atomic_load_n(&fs->watching, __ATOMIC_ACQUIRE);
}

void fs_remote_change(struct fs *fs, int change, const char *path)
{
	struct index *ix = cache_index(fs->c);
	char dpath[PATH_MAX];
	const char *leaf = strrchr(path, '/'), *rest;
	struct index_item it;
	struct node *n;
	uint64_t dir;
	int known, held = 0;

	if (!leaf || !fs->nt || (size_t)(leaf - path) >= sizeof(dpath) ||
	    sync_name_hidden(leaf + 1))
		return;
	memcpy(dpath, path, (size_t)(leaf - path));
	dpath[leaf - path] = '\0';
	leaf++;
	/* A directory the index never held: nothing cached there to correct. */
	if (index_walk(ix, fs->conf.root, dpath, &dir, &rest) < 0 || *rest)
		return;
	known = index_lookup(ix, dir, leaf, &it) == 0;
	if (known) {
		fuse_ino_t ino = id_to_ino(fs, it.id);
		held = kernel_knows(fs, ino);
		/* Checked against the server the next time the kernel asks. */
		if (held && cache_node_get(fs->c, it.id, &n) == 0) {
			pthread_mutex_lock(&n->lock);
			n->checked = 0;
			pthread_mutex_unlock(&n->lock);
			put(fs, n);
			notify_attr(fs->nt, ino);
		}
		index_item_release(&it);
	}
	/*
	 * A new name the index has, or a gone name it lacks, is the mount's own
	 * doing; so is a change to an item the kernel holds (handled above).
	 * Otherwise the directory is listed again, and the kernel forgets the
	 * name (and its cached listing): a lookup that the kernel sends for an
	 * item it does not hold is answered from the listing, which must not
	 * be trusted now.
	 */
	if (change == SMB_CHANGE_MODIFIED ?
		    known && held :
		    known == (change == SMB_CHANGE_ADDED || change == SMB_CHANGE_NEW_NAME))
		return;
	/* Listings under way now are stale, and so is a names listing of dir. */
	cache_listings_stale(fs->c);
	pthread_mutex_lock(&fs->snap.lock);
	if (fs->snap.dir == dir)
		snap_clear(&fs->snap);
	pthread_mutex_unlock(&fs->snap.lock);
	if (cache_node_get(fs->c, dir, &n) == 0) {
		pthread_mutex_lock(&n->lock);
		if (n->it.listed) {
			n->it.listed = 0;
			cache_node_save(fs->c, n);
		}
		pthread_mutex_unlock(&n->lock);
		put(fs, n);
	}
	if (kernel_knows(fs, id_to_ino(fs, dir)))
		notify_entry(fs->nt, id_to_ino(fs, dir), leaf);
}

int fs_mount(const struct fs_conf *conf, const char *mountpoint, struct fs **out)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char opts[2048];
	struct node *root;
	struct fs *fs;
	int rc = -ENOMEM;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->conf = *conf;
	fs->c = conf->cache;
	fs->s = conf->smb;
	fs->uid = getuid();
	fs->gid = getgid();
	fs->mountpoint = strdup(mountpoint);
	if (!fs->mountpoint)
		goto err_free;
	pthread_mutex_init(&fs->lookup_lock, NULL);
	idmap_init(&fs->lookups);
	idmap_init(&fs->bare_dirs);
	pthread_mutex_init(&fs->walk_lock, NULL);
	walkers_init(&fs->walkers);
	pthread_mutex_init(&fs->ra.lock, NULL);
	pthread_cond_init(&fs->ra.cond, NULL);
	pthread_cond_init(&fs->ra.listed, NULL);
	pthread_mutex_init(&fs->snap.lock, NULL);

	snprintf(opts, sizeof(opts), "fsname=%s,subtype=ofsync,default_permissions%s%s",
		 conf->fsname, conf->fuse_opts && *conf->fuse_opts ? "," : "",
		 conf->fuse_opts ? conf->fuse_opts : "");
	if (fuse_opt_add_arg(&args, "ofsyncd") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts) || (conf->debug && fuse_opt_add_arg(&args, "-d")))
		goto err_args;
	fs->se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	if (!fs->se) {
		log_err("cannot create the FUSE session (options: %s)", opts);
		rc = -EINVAL;
		goto err_args;
	}
	/* The root's reference lives as long as the mount. */
	rc = cache_node_get(fs->c, conf->root, &root);
	if (rc < 0)
		goto err_session;
	if (fuse_session_mount(fs->se, mountpoint) != 0) {
		log_err("cannot mount on %s", mountpoint);
		rc = -EIO;
		goto err_session;
	}
	fuse_opt_free_args(&args);
	*out = fs;
	return 0;

err_session:
	fuse_session_destroy(fs->se);
err_args:
	fuse_opt_free_args(&args);
err_free:
	free(fs->mountpoint);
	free(fs);
	return rc;
}

/*
 * The kernel caps a FUSE mount's read-ahead at 128 KiB whatever init asks
 * for; root may raise it in sysfs, which halves the cost of reading cached
 * data.  The device is found in /proc/self/mountinfo, not by a stat of the
 * mountpoint, which would ask this very daemon before it serves.
 */
static void raise_read_ahead(const char *mountpoint)
{
	char line[8192], dev[64], mnt[4096], path[256];
	FILE *f;

	if (geteuid() != 0)
		return;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	dev[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %63s %*s %4095s", dev, mnt) == 2 &&
		    !strcmp(mnt, mountpoint))
			break;
		dev[0] = '\0';
	}
	fclose(f);
	if (!dev[0])
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "%u\n", CACHE_CHUNK / 1024 / 4);
	if (fclose(f) != 0)
		log_debug("cannot raise read-ahead of %s", mountpoint);
}

int fs_run(struct fs *fs)
{
	struct fuse_loop_config *cfg;
	struct cache_hooks hooks = {hook_inode, hook_entry, fs};
	sigset_t all, old;
	int rc;

	rc = notify_start(fs->se, &fs->nt);
	if (rc < 0)
		return rc;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; rc == 0 && i < RA_THREADS; i++) {
		rc = -pthread_create(&fs->ra.threads[i], NULL, ra_main, fs);
		if (rc == 0) {
			pthread_mutex_lock(&fs->ra.lock);
			fs->ra.started++;
			pthread_mutex_unlock(&fs->ra.lock);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		return rc;
	rc = cache_add_hooks(fs->c, &hooks);
	if (rc < 0)
		return rc;
	raise_read_ahead(fs->mountpoint);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	fs->loop = pthread_self();
	__atomic_store_n(&fs->looping, 1, __ATOMIC_RELEASE);
	rc = fuse_session_loop_mt(fs->se, cfg);
	__atomic_store_n(&fs->looping, 0, __ATOMIC_RELEASE);
	fuse_loop_cfg_destroy(cfg);
	return rc < 0 ? rc : 0;
}

int fs_daemonize(int foreground)
{
	return fuse_daemonize(foreground) == 0 ? 0 : -EIO;
}

void fs_stop(struct fs *fs)
{
	fuse_session_exit(fs->se);
	/* The loop waits in sem_wait: a signal with a handler ends the wait. */
	if (__atomic_load_n(&fs->looping, __ATOMIC_ACQUIRE))
		pthread_kill(fs->loop, FS_WAKE_SIGNAL);
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	cache_remove_hooks(fs->c, fs);
	pthread_mutex_lock(&fs->ra.lock);
	fs->ra.stopping = 1;
	pthread_cond_broadcast(&fs->ra.cond);
	pthread_mutex_unlock(&fs->ra.lock);
	for (unsigned i = 0; i < fs->ra.started; i++)
		pthread_join(fs->ra.threads[i], NULL);
	pthread_mutex_destroy(&fs->ra.lock);
	pthread_cond_destroy(&fs->ra.cond);
	pthread_cond_destroy(&fs->ra.listed);
	snap_clear(&fs->snap);
	pthread_mutex_destroy(&fs->snap.lock);
	notify_stop(fs->nt);
	fuse_session_unmount(fs->se);
	fuse_session_destroy(fs->se);
	idmap_release(&fs->lookups);
	idmap_release(&fs->bare_dirs);
	pthread_mutex_destroy(&fs->lookup_lock);
	pthread_mutex_destroy(&fs->walk_lock);
	free(fs->mountpoint);
	free(fs);
}

int fs_clear_stale(const char *mountpoint)
{
	struct statvfs sv;
	pid_t pid;
	int status;

	/* statfs always reaches the file system (stat may be answered from cache). */
	if (statvfs(mountpoint, &sv) == 0 || errno != ENOTCONN)
		return 0;
	if (geteuid() == 0) {
		if (umount2(mountpoint, MNT_DETACH) < 0)
			return -errno;
	} else {
		char *argv[] = {"fusermount3", "-u", "-z", (char *)mountpoint, NULL};
		int rc = posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ);
		if (rc != 0)
			return -rc;
		if (waitpid(pid, &status, 0) < 0)
			return -errno;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -EBUSY;
	}
	log_warn("%s was a stale mount (its daemon died): unmounted it", mountpoint);
	return 1;
}

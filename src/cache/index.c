/*
 * index.c - the SQLite index; see index.h.
 *
 * One connection, serialized by ix->lock, with one prepared statement per
 * query (prepared once at open).  Schema versions live in PRAGMA
 * user_version; migrations[] holds the SQL that takes version N to N+1, so
 * an old index is brought up to date in one transaction at open.
 */
#include "cache/index.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/util.h"

static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE shares ("
	"  id INTEGER PRIMARY KEY,"
	"  unc TEXT NOT NULL UNIQUE,"
	"  root INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE items ("
	"  id INTEGER PRIMARY KEY,"
	"  share INTEGER NOT NULL,"
	"  parent INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  has_base INTEGER NOT NULL DEFAULT 0,"
	"  base_size INTEGER NOT NULL DEFAULT 0,"
	"  base_mtime INTEGER NOT NULL DEFAULT 0,"
	"  base_fileid INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  mtime INTEGER NOT NULL DEFAULT 0,"
	"  mode INTEGER NOT NULL DEFAULT 0,"
	"  gen INTEGER NOT NULL DEFAULT 0,"
	"  synced_gen INTEGER NOT NULL DEFAULT 0,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  pins INTEGER NOT NULL DEFAULT 0,"
	"  listed INTEGER NOT NULL DEFAULT 0,"
	"  atime INTEGER NOT NULL DEFAULT 0,"
	"  cached_bytes INTEGER NOT NULL DEFAULT 0,"
	"  dirty_bytes INTEGER NOT NULL DEFAULT 0,"
	"  present BLOB,"
	"  dirty BLOB);"
	"CREATE UNIQUE INDEX items_parent_name ON items(parent, name);"
	"CREATE INDEX items_share ON items(share);",
	/* 1 -> 2: namespace changes made offline, and the conflict store. */
	"CREATE TABLE journal ("
	"  seq INTEGER PRIMARY KEY,"
	"  share INTEGER NOT NULL,"
	"  op INTEGER NOT NULL,"
	"  item INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  path2 TEXT NOT NULL DEFAULT '',"
	"  has_base INTEGER NOT NULL DEFAULT 0,"
	"  base_size INTEGER NOT NULL DEFAULT 0,"
	"  base_mtime INTEGER NOT NULL DEFAULT 0,"
	"  base_fileid INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX journal_item ON journal(item);"
	"CREATE TABLE conflicts ("
	"  id INTEGER PRIMARY KEY,"
	"  share INTEGER NOT NULL,"
	"  item INTEGER NOT NULL,"
	"  path TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  time INTEGER NOT NULL,"
	"  UNIQUE (share, path));",
	/* 2 -> 3: when each journaled change was made (KEEPLATEST on a local delete). */
	"ALTER TABLE journal ADD COLUMN time INTEGER NOT NULL DEFAULT 0;",
	/* 3 -> 4: settings of the cache (the limits of `ofsync limits`), and LRU order. */
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE INDEX items_evictable ON items(atime) WHERE pins = 0 AND cached_bytes > 0;",
	/* 4 -> 5: items by the server's file id (renames on the server). */
	"CREATE INDEX items_fileid ON items(share, base_fileid) WHERE has_base = 1;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ITEM_COLS                                                                             \
	"id, share, parent, name, type, has_base, base_size, base_mtime, base_fileid, size, " \
	"mtime, mode, gen, synced_gen, flags, pins, listed, atime, present, dirty"

enum stmt_id {
	ST_GET,
	ST_LOOKUP,
	ST_INSERT,
	ST_UPDATE,
	ST_MOVE,
	ST_CHILDREN,
	ST_LIST,
	ST_PARENT,
	ST_SUBDIRS_AFTER,
	ST_SHARE_GET,
	ST_SHARE_ADD,
	ST_SHARE_ROOT,
	ST_STATS,
	ST_JOURNAL_COUNT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_GET] = "SELECT " ITEM_COLS " FROM items WHERE id = ?1",
	[ST_LOOKUP] = "SELECT " ITEM_COLS " FROM items WHERE parent = ?1 AND name = ?2",
	[ST_INSERT] =
		"INSERT INTO items (share, parent, name, type, has_base, base_size, "
		"base_mtime, base_fileid, size, mtime, mode, gen, synced_gen, flags, pins, "
		"listed, atime, present, dirty, cached_bytes, dirty_bytes) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		"?18, ?19, ?20, ?21)",
	[ST_UPDATE] = "UPDATE items SET type = ?4, has_base = ?5, base_size = ?6, base_mtime = ?7, "
		      "base_fileid = ?8, size = ?9, mtime = ?10, mode = ?11, gen = ?12, "
		      "synced_gen = ?13, flags = ?14, pins = ?15, listed = ?16, atime = ?17, "
		      "present = ?18, dirty = ?19, cached_bytes = ?20, dirty_bytes = ?21 "
		      "WHERE id = ?22",
	[ST_MOVE] = "UPDATE items SET parent = ?2, name = ?3 WHERE id = ?1",
	[ST_CHILDREN] = "SELECT " ITEM_COLS " FROM items WHERE parent = ?1 ORDER BY name",
	/* A directory listing through the mount: what a stat shows, no more. */
	[ST_LIST] = "SELECT id, name, type, size, mtime, mode FROM items WHERE parent = ?1 "
		    "ORDER BY name",
	[ST_PARENT] = "SELECT parent, name FROM items WHERE id = ?1",
	[ST_SUBDIRS_AFTER] = "SELECT id, listed FROM items WHERE parent = ?1 AND type = 2 AND "
			     "name > coalesce((SELECT name FROM items WHERE id = ?2), '') "
			     "ORDER BY name LIMIT ?3",
	[ST_SHARE_GET] = "SELECT id, root FROM shares WHERE unc = ?1",
	[ST_SHARE_ADD] = "INSERT INTO shares (unc) VALUES (?1)",
	[ST_SHARE_ROOT] = "UPDATE shares SET root = ?2 WHERE id = ?1",
	[ST_STATS] = "SELECT count(*), coalesce(sum(type = 1), 0), coalesce(sum(cached_bytes), 0), "
		     "coalesce(sum(gen != synced_gen OR (flags & 3) != 0), 0) + "
		     "(SELECT count(*) FROM journal WHERE share = ?1 AND op IN (3, 4)), "
		     "coalesce(sum(dirty_bytes), 0), "
		     "coalesce(sum(type = 1 AND cached_bytes < size), 0), "
		     "coalesce(sum(type = 1 AND cached_bytes >= size), 0), "
		     "(SELECT count(*) FROM conflicts WHERE share = ?1), "
		     "(SELECT count(*) FROM journal WHERE share = ?1) "
		     "FROM items WHERE share = ?1",
	/* Asked at every close of a written file (fs.c, journaling). */
	[ST_JOURNAL_COUNT] = "SELECT count(*) FROM journal WHERE share = ?1",
};

#define RESERVE_BYTES (1 << 20)

struct index {
	char *reserve;		    /* path of the reserve file; constant */
	int growing;		    /* the write under way adds a row: no reserve for it */
	sqlite3 *db;		    /* protected by lock */
	sqlite3_stmt *st[ST_COUNT]; /* protected by lock */
	pthread_mutex_t lock;	    /* serializes every call */
};

/*
 * Logs a database error once and maps it: a full disk is ENOSPC (what a
 * writer through the mount must see), anything else EIO.
 */
static int db_err(struct index *ix, const char *what)
{
	int code = sqlite3_errcode(ix->db);

	if (code == SQLITE_FULL)
		return -ENOSPC; /* the caller's error says it; no log flood */
	log_err("index: %s: %s", what, sqlite3_errmsg(ix->db));
	return -EIO;
}

/*
 * The reserve: a file of RESERVE_BYTES beside the index, given up when the
 * disk is full so that the index can still record deletes (the way a user
 * frees space), and taken again later (index_reserve_refill).  A new row
 * (ix->growing) may not use it: a new name on a full disk fails with ENOSPC
 * and leaves the reserve to the next delete.
 */
static int release_reserve(struct index *ix)
{
	if (ix->growing || unlink(ix->reserve) < 0)
		return 0;
	log_warn("cache disk full: released the index's reserve of %d KiB", RESERVE_BYTES / 1024);
	return 1;
}

int index_reserve_ok(struct index *ix)
{
	return access(ix->reserve, F_OK) == 0;
}

void index_reserve_refill(struct index *ix)
{
	int fd = open(ix->reserve, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return; /* there already, or no room: next time */
	if (posix_fallocate(fd, 0, RESERVE_BYTES) != 0)
		unlink(ix->reserve);
	close(fd);
}

/* sqlite3_step, retried once after giving up the reserve on a full disk. */
static int step(struct index *ix, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_FULL && release_reserve(ix)) {
		sqlite3_reset(st);
		rc = sqlite3_step(st);
	}
	return rc;
}

static int exec_sql(struct index *ix, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(ix->db, sql, NULL, NULL, &msg);

	if (rc == SQLITE_FULL && release_reserve(ix)) {
		sqlite3_free(msg);
		msg = NULL;
		rc = sqlite3_exec(ix->db, sql, NULL, NULL, &msg);
	}
	if (rc == SQLITE_FULL) {
		sqlite3_free(msg);
		return -ENOSPC;
	}
	if (rc != SQLITE_OK) {
		log_err("index: %s", msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int user_version(struct index *ix, int *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ix->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_err(ix, "user_version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* Applies the migrations from the file's version to SCHEMA_VERSION. */
static int migrate(struct index *ix)
{
	char sql[64];
	int v, rc;

	rc = user_version(ix, &v);
	if (rc < 0)
		return rc;
	if (v > SCHEMA_VERSION) {
		log_err("index: schema version %d is newer than this ofsync (%d)", v,
			SCHEMA_VERSION);
		return -EPROTO;
	}
	if (v == SCHEMA_VERSION)
		return 0;
	rc = exec_sql(ix, "BEGIN IMMEDIATE");
	if (rc < 0)
		return rc;
	for (; v < SCHEMA_VERSION; v++) {
		rc = exec_sql(ix, migrations[v]);
		if (rc < 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	rc = exec_sql(ix, sql);
	if (rc < 0)
		goto fail;
	return exec_sql(ix, "COMMIT");
fail:
	if (!sqlite3_get_autocommit(ix->db)) /* SQLite may have rolled back itself (a full disk) */
		exec_sql(ix, "ROLLBACK");
	return rc;
}

int index_open(const char *path, struct index **out)
{
	struct index *ix;
	int rc;

	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	pthread_mutex_init(&ix->lock, NULL);
	if (asprintf(&ix->reserve, "%s.reserve", path) < 0) {
		ix->reserve = NULL;
		rc = -ENOMEM;
		goto err_close;
	}
	index_reserve_refill(ix);
	if (sqlite3_open_v2(path, &ix->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = db_err(ix, path);
		goto err_close;
	}
	sqlite3_busy_timeout(ix->db, 5000);
	/*
	 * The daemon is the index's only user: holding it exclusively spares
	 * the file locks and checks SQLite makes around every transaction
	 * (a third of the index's cost on a walk), and keeps a second daemon
	 * off the same cache.
	 */
	rc = exec_sql(ix, "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; "
			  "PRAGMA synchronous = NORMAL;");
	if (rc == 0)
		rc = migrate(ix);
	if (rc < 0) {
		if (sqlite3_errcode(ix->db) == SQLITE_BUSY) {
			log_err("%s is in use by another process (an ofsyncd with the same "
				"cache_dir?)",
				path);
			rc = -EBUSY;
		}
		goto err_close;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(ix->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &ix->st[i], NULL) != SQLITE_OK) {
			rc = db_err(ix, stmt_sql[i]);
			goto err_close;
		}
	}
	*out = ix;
	return 0;

err_close:
	index_close(ix);
	return rc;
}

void index_close(struct index *ix)
{
	if (!ix)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(ix->st[i]);
	sqlite3_close(ix->db);
	pthread_mutex_destroy(&ix->lock);
	free(ix->reserve);
	free(ix);
}

void index_item_init(struct index_item *it)
{
	memset(it, 0, sizeof(*it));
	rangeset_init(&it->present);
	rangeset_init(&it->dirty);
}

void index_item_release(struct index_item *it)
{
	free(it->name);
	it->name = NULL;
	rangeset_release(&it->present);
	rangeset_release(&it->dirty);
}

/* Fills it (already initialized and empty) from a row of ITEM_COLS. */
static int row_to_item(sqlite3_stmt *st, struct index_item *it)
{
	const char *name = (const char *)sqlite3_column_text(st, 3);
	int rc;

	it->id = (uint64_t)sqlite3_column_int64(st, 0);
	it->share = (uint64_t)sqlite3_column_int64(st, 1);
	it->parent = (uint64_t)sqlite3_column_int64(st, 2);
	it->name = strdup(name ? name : "");
	if (!it->name)
		return -ENOMEM;
	it->type = sqlite3_column_int(st, 4);
	it->base.valid = sqlite3_column_int(st, 5);
	it->base.size = sqlite3_column_int64(st, 6);
	it->base.mtime = sqlite3_column_int64(st, 7);
	it->base.file_id = (uint64_t)sqlite3_column_int64(st, 8);
	it->size = sqlite3_column_int64(st, 9);
	it->mtime = sqlite3_column_int64(st, 10);
	it->mode = (uint32_t)sqlite3_column_int(st, 11);
	it->gen = (uint64_t)sqlite3_column_int64(st, 12);
	it->synced_gen = (uint64_t)sqlite3_column_int64(st, 13);
	it->flags = (uint32_t)sqlite3_column_int(st, 14);
	it->pins = (uint32_t)sqlite3_column_int(st, 15);
	it->listed = sqlite3_column_int64(st, 16);
	it->atime = sqlite3_column_int64(st, 17);
	rc = rangeset_decode(&it->present, sqlite3_column_blob(st, 18),
			     (size_t)sqlite3_column_bytes(st, 18));
	if (rc == 0)
		rc = rangeset_decode(&it->dirty, sqlite3_column_blob(st, 19),
				     (size_t)sqlite3_column_bytes(st, 19));
	if (rc < 0)
		log_err("index: item %llu has malformed ranges", (unsigned long long)it->id);
	return rc;
}

/* Runs a SELECT of ITEM_COLS expected to give at most one row. */
static int fetch_one(struct index *ix, sqlite3_stmt *st, struct index_item *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		index_item_init(out);
		rc = row_to_item(st, out);
		if (rc < 0)
			index_item_release(out);
	} else if (rc == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = db_err(ix, "select");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int index_get(struct index *ix, uint64_t id, struct index_item *out)
{
	int rc;

	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(ix->st[ST_GET], 1, (sqlite3_int64)id);
	rc = fetch_one(ix, ix->st[ST_GET], out);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_lookup(struct index *ix, uint64_t parent, const char *name, struct index_item *out)
{
	int rc;

	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(ix->st[ST_LOOKUP], 1, (sqlite3_int64)parent);
	sqlite3_bind_text(ix->st[ST_LOOKUP], 2, name, -1, SQLITE_STATIC);
	rc = fetch_one(ix, ix->st[ST_LOOKUP], out);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

/* Binds parameters 4..21 (everything but id, share, parent, name). */
static int bind_fields(sqlite3_stmt *st, const struct index_item *it, void **pblob, void **dblob)
{
	size_t plen, dlen;
	int rc;

	rc = rangeset_encode(&it->present, pblob, &plen);
	if (rc < 0)
		return rc;
	rc = rangeset_encode(&it->dirty, dblob, &dlen);
	if (rc < 0) {
		free(*pblob);
		*pblob = NULL;
		return rc;
	}
	sqlite3_bind_int(st, 4, it->type);
	sqlite3_bind_int(st, 5, it->base.valid);
	sqlite3_bind_int64(st, 6, it->base.size);
	sqlite3_bind_int64(st, 7, it->base.mtime);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)it->base.file_id);
	sqlite3_bind_int64(st, 9, it->size);
	sqlite3_bind_int64(st, 10, it->mtime);
	sqlite3_bind_int(st, 11, (int)it->mode);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)it->gen);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)it->synced_gen);
	sqlite3_bind_int(st, 14, (int)it->flags);
	sqlite3_bind_int(st, 15, (int)it->pins);
	sqlite3_bind_int64(st, 16, it->listed);
	sqlite3_bind_int64(st, 17, it->atime);
	sqlite3_bind_blob(st, 18, *pblob, (int)plen, SQLITE_STATIC);
	sqlite3_bind_blob(st, 19, *dblob, (int)dlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 20, (sqlite3_int64)rangeset_total(&it->present));
	sqlite3_bind_int64(st, 21, (sqlite3_int64)rangeset_total(&it->dirty));
	return 0;
}

static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int insert_locked(struct index *ix, struct index_item *it)
{
	sqlite3_stmt *st = ix->st[ST_INSERT];
	void *pblob = NULL, *dblob = NULL;
	int rc;

	rc = bind_fields(st, it, &pblob, &dblob);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)it->share);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)it->parent);
	sqlite3_bind_text(st, 3, it->name, -1, SQLITE_STATIC);
	ix->growing = 1;
	rc = step(ix, st);
	ix->growing = 0;
	if (rc == SQLITE_DONE) {
		it->id = (uint64_t)sqlite3_last_insert_rowid(ix->db);
		rc = 0;
	} else if (rc == SQLITE_CONSTRAINT) {
		rc = -EEXIST;
	} else {
		rc = db_err(ix, "insert");
	}
	stmt_done(st);
	free(pblob);
	free(dblob);
	return rc;
}

int index_insert(struct index *ix, struct index_item *it)
{
	int rc;

	pthread_mutex_lock(&ix->lock);
	rc = insert_locked(ix, it);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_insert_many(struct index *ix, struct index_item *its, size_t n)
{
	int rc;

	/*
	 * One transaction under the lock: nobody else's write joins it, so a
	 * rollback takes back these rows only.
	 */
	pthread_mutex_lock(&ix->lock);
	rc = exec_sql(ix, "BEGIN IMMEDIATE");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = insert_locked(ix, &its[i]);
		if (rc == -EEXIST) {
			its[i].id = 0; /* inserted meanwhile by someone else */
			rc = 0;
		}
	}
	if (rc == 0)
		rc = exec_sql(ix, "COMMIT");
	if (rc < 0) {
		exec_sql(ix, "ROLLBACK");
		for (size_t i = 0; i < n; i++)
			its[i].id = 0;
	}
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

static int update_locked(struct index *ix, const struct index_item *it)
{
	sqlite3_stmt *st = ix->st[ST_UPDATE];
	void *pblob = NULL, *dblob = NULL;
	int rc;

	rc = bind_fields(st, it, &pblob, &dblob);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 22, (sqlite3_int64)it->id);
	rc = step(ix, st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(ix->db) == 1 ? 0 : -ENOENT;
	else
		rc = db_err(ix, "update");
	stmt_done(st);
	free(pblob);
	free(dblob);
	return rc;
}

int index_update(struct index *ix, const struct index_item *it)
{
	int rc;

	pthread_mutex_lock(&ix->lock);
	rc = update_locked(ix, it);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_update_durable(struct index *ix, const struct index_item *it)
{
	int rc;

	/*
	 * synchronous = FULL makes this commit sync the WAL, and with it every
	 * earlier commit of this connection: what fsync promises.
	 */
	pthread_mutex_lock(&ix->lock);
	rc = exec_sql(ix, "PRAGMA synchronous = FULL");
	if (rc == 0) {
		rc = update_locked(ix, it);
		exec_sql(ix, "PRAGMA synchronous = NORMAL");
	}
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_move(struct index *ix, uint64_t id, uint64_t parent, const char *name)
{
	sqlite3_stmt *st = ix->st[ST_MOVE];
	int rc;

	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)parent);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	rc = step(ix, st);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(ix->db) == 1 ? 0 : -ENOENT;
	else if (rc == SQLITE_CONSTRAINT)
		rc = -EEXIST;
	else
		rc = db_err(ix, "move");
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_delete_tree(struct index *ix, uint64_t id, void (*gone)(void *arg, uint64_t id),
		      void *arg)
{
	static const char sel[] = "WITH RECURSIVE t(id) AS (SELECT ?1 UNION ALL "
				  "SELECT items.id FROM items JOIN t ON items.parent = t.id) "
				  "SELECT id FROM t";
	static const char del[] = "WITH RECURSIVE t(id) AS (SELECT ?1 UNION ALL "
				  "SELECT items.id FROM items JOIN t ON items.parent = t.id) "
				  "DELETE FROM items WHERE id IN (SELECT id FROM t)";
	sqlite3_stmt *st = NULL;
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	pthread_mutex_lock(&ix->lock);
	rc = exec_sql(ix, "BEGIN IMMEDIATE");
	if (rc < 0)
		goto out;
	if (sqlite3_prepare_v2(ix->db, sel, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "delete");
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			uint64_t *nids = realloc(ids, ncap * sizeof(*ids));
			if (!nids) {
				rc = -ENOMEM;
				goto rollback;
			}
			ids = nids;
			cap = ncap;
		}
		ids[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		rc = db_err(ix, "delete");
		goto rollback;
	}
	if (sqlite3_prepare_v2(ix->db, del, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "delete");
		goto rollback;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = step(ix, st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		rc = db_err(ix, "delete");
		goto rollback;
	}
	rc = exec_sql(ix, "COMMIT");
	if (rc < 0)
		goto rollback;
	pthread_mutex_unlock(&ix->lock);
	for (size_t i = 0; gone && i < n; i++)
		gone(arg, ids[i]);
	free(ids);
	return 0;

rollback:
	sqlite3_finalize(st);
	if (!sqlite3_get_autocommit(ix->db)) /* SQLite may have rolled back itself (a full disk) */
		exec_sql(ix, "ROLLBACK");
out:
	pthread_mutex_unlock(&ix->lock);
	free(ids);
	return rc;
}

int index_children(struct index *ix, uint64_t parent,
		   int (*fn)(void *arg, const struct index_item *it), void *arg)
{
	sqlite3_stmt *st = ix->st[ST_CHILDREN];
	struct index_item it;
	int rc;

	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)parent);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		index_item_init(&it);
		rc = row_to_item(st, &it);
		if (rc == 0)
			rc = fn(arg, &it);
		index_item_release(&it);
		if (rc != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(ix, "children");
out:
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_list(struct index *ix, uint64_t parent, int (*fn)(void *arg, const struct index_item *it),
	       void *arg)
{
	sqlite3_stmt *st = ix->st[ST_LIST];
	struct index_item it;
	int rc;

	index_item_init(&it);
	it.parent = parent;
	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)parent);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		it.id = (uint64_t)sqlite3_column_int64(st, 0);
		it.name = (char *)(name ? name : "");
		it.type = sqlite3_column_int(st, 2);
		it.size = sqlite3_column_int64(st, 3);
		it.mtime = sqlite3_column_int64(st, 4);
		it.mode = (uint32_t)sqlite3_column_int(st, 5);
		rc = fn(arg, &it);
		if (rc != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(ix, "listing");
out:
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_subdirs_after(struct index *ix, uint64_t parent, uint64_t after, struct index_subdir *out,
			size_t max, size_t *n)
{
	sqlite3_stmt *st = ix->st[ST_SUBDIRS_AFTER];
	int rc;

	*n = 0;
	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)parent);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) { /* LIMIT max */
		out[*n].id = (uint64_t)sqlite3_column_int64(st, 0);
		out[*n].listed = sqlite3_column_int64(st, 1);
		(*n)++;
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(ix, "subdirectories");
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_path(struct index *ix, uint64_t id, char *buf, size_t len)
{
	sqlite3_stmt *st = ix->st[ST_PARENT];
	char tmp[4096];
	size_t pos = sizeof(tmp) - 1;
	int rc = 0;

	tmp[pos] = '\0';
	pthread_mutex_lock(&ix->lock);
	for (;;) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			rc = rc == SQLITE_DONE ? -ENOENT : db_err(ix, "path");
			stmt_done(st);
			break;
		}
		uint64_t parent = (uint64_t)sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		size_t nlen = name ? strlen(name) : 0;
		if (parent == 0) { /* the share root: its name is not part of the path */
			stmt_done(st);
			rc = 0;
			break;
		}
		if (nlen + 1 > pos) {
			stmt_done(st);
			rc = -ENAMETOOLONG;
			break;
		}
		pos -= nlen;
		memcpy(tmp + pos, name, nlen);
		tmp[--pos] = '/';
		stmt_done(st);
		id = parent;
	}
	pthread_mutex_unlock(&ix->lock);
	if (rc < 0)
		return rc;
	if (sizeof(tmp) - pos > len)
		return -ENAMETOOLONG;
	memcpy(buf, tmp + pos, sizeof(tmp) - pos);
	return 0;
}

int index_share(struct index *ix, const char *unc, uint64_t *share, uint64_t *root)
{
	sqlite3_stmt *st;
	struct index_item it;
	int rc;

	pthread_mutex_lock(&ix->lock);
	st = ix->st[ST_SHARE_GET];
	sqlite3_bind_text(st, 1, unc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*share = (uint64_t)sqlite3_column_int64(st, 0);
		*root = (uint64_t)sqlite3_column_int64(st, 1);
		stmt_done(st);
		pthread_mutex_unlock(&ix->lock);
		return 0;
	}
	stmt_done(st);
	if (rc != SQLITE_DONE) {
		rc = db_err(ix, "share");
		pthread_mutex_unlock(&ix->lock);
		return rc;
	}
	st = ix->st[ST_SHARE_ADD];
	sqlite3_bind_text(st, 1, unc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE) {
		rc = db_err(ix, "share");
		pthread_mutex_unlock(&ix->lock);
		return rc;
	}
	*share = (uint64_t)sqlite3_last_insert_rowid(ix->db);
	pthread_mutex_unlock(&ix->lock);

	/* The root item: parent 0, named after the share so that it is unique. */
	index_item_init(&it);
	it.share = *share;
	it.parent = 0;
	it.name = strdup(unc);
	it.type = ITEM_DIR;
	it.mode = 0755;
	if (!it.name)
		return -ENOMEM;
	rc = index_insert(ix, &it);
	index_item_release(&it);
	if (rc < 0)
		return rc;
	*root = it.id;
	pthread_mutex_lock(&ix->lock);
	st = ix->st[ST_SHARE_ROOT];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)*share);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)*root);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(ix, "share root");
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_stats(struct index *ix, uint64_t share, struct index_stats *s)
{
	sqlite3_stmt *st = ix->st[ST_STATS];
	int rc;

	pthread_mutex_lock(&ix->lock);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)share);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->items = (uint64_t)sqlite3_column_int64(st, 0);
		s->files = (uint64_t)sqlite3_column_int64(st, 1);
		s->cached_bytes = (uint64_t)sqlite3_column_int64(st, 2);
		s->dirty_items = (uint64_t)sqlite3_column_int64(st, 3);
		s->dirty_bytes = (uint64_t)sqlite3_column_int64(st, 4);
		s->sparse_items = (uint64_t)sqlite3_column_int64(st, 5);
		s->full_items = (uint64_t)sqlite3_column_int64(st, 6);
		s->conflicts = (uint64_t)sqlite3_column_int64(st, 7);
		s->pending_ops = (uint64_t)sqlite3_column_int64(st, 8);
		rc = 0;
	} else {
		rc = db_err(ix, "stats");
	}
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

/*
 * Steps st, with ?1 bound to v, for a one-row COUNT and puts it in *n; with
 * ix->lock held.  0 or a negative errno (logged as what).
 */
static int step_count(struct index *ix, sqlite3_stmt *st, uint64_t v, uint64_t *n, const char *what)
{
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		return 0;
	}
	return db_err(ix, what);
}

/* Counts rows of a one-parameter COUNT query. */
static int count_int(struct index *ix, const char *sql, uint64_t v, uint64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, sql);
	} else {
		rc = step_count(ix, st, v, n, sql);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_tree_dirty(struct index *ix, uint64_t id, uint64_t *count)
{
	static const char sql[] = "WITH RECURSIVE t(id) AS (SELECT ?1 UNION ALL "
				  "SELECT items.id FROM items JOIN t ON items.parent = t.id) "
				  "SELECT count(*) FROM items WHERE id IN (SELECT id FROM t) "
				  "AND (gen != synced_gen OR (flags & 3) != 0)";

	return count_int(ix, sql, id, count);
}

/*
 * Runs a query of one integer parameter whose rows are ids; *ids is
 * malloc'd.  0, -ENOMEM or -EIO.
 */
static int select_ids(struct index *ix, const char *sql, uint64_t param, uint64_t **ids, size_t *n)
{
	sqlite3_stmt *st;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, sql);
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)param);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		*ids = v;
		*n = cnt;
		v = NULL;
		rc = 0;
	} else if (rc > 0) {
		rc = db_err(ix, sql);
	}
out:
	pthread_mutex_unlock(&ix->lock);
	free(v);
	return rc;
}

int index_dirty_ids(struct index *ix, uint64_t share, uint64_t **ids, size_t *n)
{
	return select_ids(ix,
			  "SELECT id FROM items WHERE share = ?1 AND parent != 0 AND "
			  "(gen != synced_gen OR (flags & 3) != 0) ORDER BY id",
			  share, ids, n);
}

/* ---- the journal -------------------------------------------------------- */

int index_journal_add(struct index *ix, const struct journal_op *op)
{
	static const char sql[] = "INSERT INTO journal (share, op, item, path, path2, has_base, "
				  "base_size, base_mtime, base_fileid, time) VALUES "
				  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "journal add");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)op->share);
	sqlite3_bind_int(st, 2, op->op);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)op->item);
	sqlite3_bind_text(st, 4, op->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, op->path2, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, op->base.valid);
	sqlite3_bind_int64(st, 7, op->base.size);
	sqlite3_bind_int64(st, 8, op->base.mtime);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)op->base.file_id);
	sqlite3_bind_int64(st, 10, op->time ? op->time : now_ns());
	rc = step(ix, st) == SQLITE_DONE ? 0 : db_err(ix, "journal add");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_journal_next(struct index *ix, uint64_t share, uint64_t after, struct journal_op *op)
{
	static const char sql[] = "SELECT seq, share, op, item, path, path2, has_base, base_size, "
				  "base_mtime, base_fileid, time FROM journal WHERE share = ?1 AND "
				  "seq > ?2 ORDER BY seq LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "journal next");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)share);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 4);
		const char *p2 = (const char *)sqlite3_column_text(st, 5);
		op->seq = (uint64_t)sqlite3_column_int64(st, 0);
		op->share = (uint64_t)sqlite3_column_int64(st, 1);
		op->op = sqlite3_column_int(st, 2);
		op->item = (uint64_t)sqlite3_column_int64(st, 3);
		snprintf(op->path, sizeof(op->path), "%s", p ? p : "");
		snprintf(op->path2, sizeof(op->path2), "%s", p2 ? p2 : "");
		op->base.valid = sqlite3_column_int(st, 6);
		op->base.size = sqlite3_column_int64(st, 7);
		op->base.mtime = sqlite3_column_int64(st, 8);
		op->base.file_id = (uint64_t)sqlite3_column_int64(st, 9);
		op->time = sqlite3_column_int64(st, 10);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_err(ix, "journal next");
	}
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

/* Runs one statement with one integer parameter and no result. */
static int exec_int(struct index *ix, const char *sql, uint64_t v)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, sql);
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
	rc = step(ix, st) == SQLITE_DONE ? 0 : db_err(ix, sql);
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_journal_del(struct index *ix, uint64_t seq)
{
	return exec_int(ix, "DELETE FROM journal WHERE seq = ?1", seq);
}

int index_journal_drop_item(struct index *ix, uint64_t item)
{
	return exec_int(ix, "DELETE FROM journal WHERE item = ?1", item);
}

int index_journal_count(struct index *ix, uint64_t share, uint64_t *n)
{
	sqlite3_stmt *st = ix->st[ST_JOURNAL_COUNT];
	int rc;

	pthread_mutex_lock(&ix->lock);
	rc = step_count(ix, st, share, n, "journal count");
	stmt_done(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_journal_item_pending(struct index *ix, uint64_t item, uint64_t *n)
{
	return count_int(ix, "SELECT count(*) FROM journal WHERE item = ?1", item, n);
}

/* ---- the conflict store ------------------------------------------------- */

int index_conflict_add(struct index *ix, uint64_t share, uint64_t item, const char *path,
		       const char *state, const char *detail, int64_t when)
{
	static const char sql[] = "INSERT INTO conflicts (share, item, path, state, detail, time) "
				  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (share, path) DO "
				  "UPDATE SET item = ?2, state = ?4, detail = ?5, time = ?6";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "conflict add");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)share);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)item);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, when);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(ix, "conflict add");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_conflict_clear_item(struct index *ix, uint64_t item)
{
	int rc = exec_int(ix, "DELETE FROM conflicts WHERE item = ?1", item);

	return rc < 0 ? rc : sqlite3_changes(ix->db);
}

int index_conflicts(struct index *ix, uint64_t share,
		    int (*fn)(void *arg, uint64_t item, const char *path, const char *state,
			      const char *detail, int64_t when),
		    void *arg)
{
	static const char sql[] = "SELECT item, path, state, detail, time FROM conflicts WHERE "
				  "share = ?1 ORDER BY path";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "conflicts");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)share);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = fn(arg, (uint64_t)sqlite3_column_int64(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			(const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4));
		if (rc != 0)
			break;
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0 && rc != SQLITE_ROW)
		rc = db_err(ix, "conflicts");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_conflict_item(struct index *ix, uint64_t item, uint64_t *n)
{
	return count_int(ix, "SELECT count(*) FROM conflicts WHERE item = ?1", item, n);
}

int index_unresolved_dirty(struct index *ix, uint64_t share, uint64_t *n)
{
	return count_int(ix,
			 "SELECT count(*) FROM items WHERE share = ?1 AND parent != 0 AND "
			 "type = 1 AND (gen != synced_gen OR (flags & 3) != 0) AND "
			 "id NOT IN (SELECT item FROM conflicts)",
			 share, n);
}

int index_subtree_ids(struct index *ix, uint64_t id, uint64_t **ids, size_t *n)
{
	return select_ids(ix,
			  "WITH RECURSIVE t(id) AS (SELECT ?1 UNION ALL "
			  "SELECT items.id FROM items JOIN t ON items.parent = t.id) "
			  "SELECT id FROM t",
			  id, ids, n);
}

int index_walk(struct index *ix, uint64_t root, const char *rel, uint64_t *id, const char **rest)
{
	char comp[256];

	*id = root;
	for (;;) {
		struct index_item it;
		const char *start;
		size_t n;
		int rc;

		while (*rel == '/')
			rel++;
		n = strcspn(rel, "/");
		if (n == 0)
			break;
		if (n >= sizeof(comp))
			return -ENAMETOOLONG;
		memcpy(comp, rel, n);
		comp[n] = '\0';
		start = rel;
		rc = index_lookup(ix, *id, comp, &it);
		if (rc == -ENOENT) {
			*rest = start;
			return 0;
		}
		if (rc < 0)
			return rc;
		*id = it.id;
		index_item_release(&it);
		rel += n;
	}
	*rest = rel;
	return 0;
}

/* ---- cache space ------------------------------------------------------- */

int index_usage(struct index *ix, uint64_t *total, uint64_t *unpinned)
{
	static const char sql[] = "SELECT coalesce(sum(cached_bytes), 0), "
				  "coalesce(sum(CASE WHEN pins = 0 THEN cached_bytes END), 0) "
				  "FROM items";
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "usage");
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*total = (uint64_t)sqlite3_column_int64(st, 0);
		*unpinned = (uint64_t)sqlite3_column_int64(st, 1);
		rc = 0;
	} else {
		rc = db_err(ix, "usage");
	}
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_evictable(struct index *ix, uint64_t *ids, size_t max, size_t *n)
{
	static const char sql[] = "SELECT id FROM items WHERE pins = 0 AND cached_bytes > 0 "
				  "AND type = 1 AND gen = synced_gen AND (flags & 3) = 0 "
				  "AND dirty_bytes = 0 ORDER BY atime, id LIMIT ?1";
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "evictable");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_err(ix, "evictable");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_setting_get(struct index *ix, const char *key, int64_t *value)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db, "SELECT value FROM settings WHERE key = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_err(ix, "setting get");
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : db_err(ix, "setting get");
	}
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_setting_set(struct index *ix, const char *key, int64_t value)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db,
			       "INSERT INTO settings (key, value) VALUES (?1, ?2) "
			       "ON CONFLICT (key) DO UPDATE SET value = ?2",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(ix, "setting set");
		goto out;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	rc = step(ix, st) == SQLITE_DONE ? 0 : db_err(ix, "setting set");
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

int index_by_fileid(struct index *ix, uint64_t share, uint64_t file_id, struct index_item *out)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&ix->lock);
	if (sqlite3_prepare_v2(ix->db,
			       "SELECT " ITEM_COLS " FROM items WHERE share = ?1 AND has_base = 1 "
			       "AND base_fileid = ?2 LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&ix->lock);
		return db_err(ix, "by file id");
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)share);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)file_id);
	rc = fetch_one(ix, st, out);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&ix->lock);
	return rc;
}

/*
 * remote.c - bringing the server's view of names and attributes into the
 * cache; see sync.h.
 *
 * The rules, from DESIGN.md section 7: a change on the server replaces only
 * clean local state; an item with local changes is never overwritten here
 * (that is a conflict, for the Synchronize engine); and unreachable is not
 * deleted: a server error leaves the index as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sync/sync.h"
#include "util/log.h"
#include "util/util.h"

int sync_name_hidden(const char *name)
{
	return strncmp(name, SYNC_TMP_PREFIX, sizeof(SYNC_TMP_PREFIX) - 1) == 0;
}

void sync_base_from_stat(struct rbase *b, const struct smb_stat *st)
{
	b->valid = 1;
	b->size = st->size;
	b->mtime = st->mtime;
	b->file_id = st->file_id;
}

int sync_base_changed(const struct rbase *b, const struct smb_stat *st)
{
	return !b->valid || b->size != st->size || b->mtime != st->mtime ||
	       b->file_id != st->file_id;
}

int sync_apply_remote(struct cache *c, struct node *n, const struct smb_stat *st)
{
	struct index_item *it = &n->it;
	int rc;

	if (!sync_base_changed(&it->base, st))
		return 0;
	if (item_is_dirty(it)) {
		log_debug("item %llu changed on the server and locally; kept local",
			  (unsigned long long)n->id);
		return 0;
	}
	sync_base_from_stat(&it->base, st);
	it->mode = st->mode ? st->mode : it->mode;
	if (it->type == ITEM_DIR) {
		it->mtime = st->mtime * 100;
		return cache_node_save(c, n);
	}
	it->size = st->size;
	it->mtime = st->mtime * 100;
	rc = cache_node_drop_clean(c, n); /* saves the row too */
	if (rc < 0)
		return rc;
	if (n->fd >= 0 && ftruncate(n->fd, st->size) < 0)
		log_warn("cannot size cache file of item %llu", (unsigned long long)n->id);
	n->content_ver++;
	cache_notify_inode(c, n->id);
	return 1;
}

/* Fills it (initialized here) as the server's entry name below parent.  0 or -ENOMEM. */
static int item_from_remote(struct index_item *it, uint64_t share, uint64_t parent,
			    const char *name, const struct smb_stat *st)
{
	index_item_init(it);
	it->share = share;
	it->parent = parent;
	it->name = strdup(name);
	if (!it->name)
		return -ENOMEM;
	it->type = st->type == SMB_DIR ? ITEM_DIR : ITEM_FILE;
	sync_base_from_stat(&it->base, st);
	it->size = st->size;
	it->mtime = st->mtime * 100;
	it->mode = st->mode ? st->mode : (it->type == ITEM_DIR ? 0755 : 0644);
	return 0;
}

int sync_insert_remote(struct cache *c, uint64_t share, uint64_t parent, const char *name,
		       const struct smb_stat *st, uint64_t *id)
{
	struct index_item it;
	int rc;

	rc = item_from_remote(&it, share, parent, name, st);
	if (rc == 0)
		rc = index_insert(cache_index(c), &it);
	if (rc == 0)
		*id = it.id;
	index_item_release(&it);
	return rc;
}

/* Removes a name the server no longer has, unless local changes live there. */
static int drop_if_clean(struct cache *c, uint64_t parent, uint64_t id, const char *name)
{
	uint64_t dirty = 0;
	int rc;

	rc = index_tree_dirty(cache_index(c), id, &dirty);
	if (rc < 0 || dirty)
		return rc;
	rc = cache_delete_tree(c, id);
	if (rc == 0)
		cache_notify_entry(c, parent, name);
	return rc;
}

/*
 * Brings one server entry into the index below dir: inserts it, or applies
 * the stat to the existing item (replacing it when its type changed and it
 * is clean).  *id receives the item id.
 */
static int merge_entry(struct cache *c, struct node *dir, const char *name,
		       const struct smb_stat *st, uint64_t *id)
{
	struct index_item old;
	struct node *n;
	int rc, want = st->type == SMB_DIR ? ITEM_DIR : ITEM_FILE;

	rc = index_lookup(cache_index(c), dir->id, name, &old);
	if (rc == -ENOENT)
		return sync_insert_remote(c, dir->it.share, dir->id, name, st, id);
	if (rc < 0)
		return rc;
	*id = old.id;
	if (old.type != want) {
		index_item_release(&old);
		rc = drop_if_clean(c, dir->id, *id, name);
		if (rc < 0)
			return rc;
		if (index_lookup(cache_index(c), dir->id, name, &old) == 0) {
			index_item_release(&old); /* kept: it has local changes */
			return 0;
		}
		return sync_insert_remote(c, dir->it.share, dir->id, name, st, id);
	}
	index_item_release(&old);
	rc = cache_node_get(c, *id, &n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	rc = sync_apply_remote(c, n, st);
	pthread_mutex_unlock(&n->lock);
	cache_node_put(c, n, 1);
	return rc < 0 ? rc : 0;
}

struct listing {
	char **names;
	struct smb_stat *st;
	size_t n, cap;
};

static int collect(void *arg, const char *name, const struct smb_stat *st)
{
	struct listing *l = arg;

	if (sync_name_hidden(name))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **names = realloc(l->names, cap * sizeof(*names));
		if (!names)
			return -ENOMEM;
		l->names = names;
		struct smb_stat *sts = realloc(l->st, cap * sizeof(*sts));
		if (!sts)
			return -ENOMEM;
		l->st = sts;
		l->cap = cap;
	}
	l->names[l->n] = strdup(name);
	if (!l->names[l->n])
		return -ENOMEM;
	l->st[l->n++] = *st;
	return 0;
}

/* An index child of the directory being refreshed. */
struct kid {
	char *name;
	uint64_t id;
	int type;
	struct rbase base;
	int seen; /* the server listed it */
};

struct kids {
	struct kid *v;
	size_t n, cap;
};

static int add_kid(void *arg, const struct index_item *it)
{
	struct kids *k = arg;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct kid *v = realloc(k->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n] = (struct kid){.id = it->id, .type = it->type, .base = it->base};
	k->v[k->n].name = strdup(it->name);
	if (!k->v[k->n].name)
		return -ENOMEM;
	k->n++;
	return 0;
}

static int cmp_kid(const void *a, const void *b)
{
	return strcmp(((const struct kid *)a)->name, ((const struct kid *)b)->name);
}

/*
 * True when the server's entry st changes nothing for the index child k:
 * same type, same base, and no node in memory (whose fields, not the row's,
 * would be the ones to compare).
 */
static int kid_unchanged(struct cache *c, const struct kid *k, const struct smb_stat *st)
{
	struct node *n;

	if (k->type != (st->type == SMB_DIR ? ITEM_DIR : ITEM_FILE) ||
	    sync_base_changed(&k->base, st))
		return 0;
	if (cache_node_peek(c, k->id, &n) == 0) {
		cache_node_put(c, n, 1);
		return 0;
	}
	return 1;
}

/*
 * The index's children of dir are read once and matched with the listing
 * by name: a name the index lacks goes in (all of them in one transaction),
 * a changed one is merged, an unchanged one costs nothing more, and a child
 * the server no longer lists is dropped unless it has local changes.
 */
int sync_refresh_dir(struct cache *c, struct smb *s, struct node *dir)
{
	struct listing l = {0};
	struct kids k = {0};
	struct index_item *fresh = NULL;
	size_t nfresh = 0;
	char path[4096];
	uint64_t id;
	int rc, changed = 0;

	rc = index_path(cache_index(c), dir->id, path, sizeof(path));
	if (rc < 0)
		return rc;
	rc = smb_list(s, path, collect, &l);
	if (rc == 0)
		rc = index_children(cache_index(c), dir->id, add_kid, &k);
	if (rc < 0)
		goto out;
	if (k.n > 1)
		qsort(k.v, k.n, sizeof(*k.v), cmp_kid);
	fresh = calloc(l.n ? l.n : 1, sizeof(*fresh));
	if (!fresh) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct kid key = {.name = l.names[i]};
		struct kid *old = k.n ? bsearch(&key, k.v, k.n, sizeof(*k.v), cmp_kid) : NULL;

		if (!old) {
			rc = item_from_remote(&fresh[nfresh], dir->it.share, dir->id, l.names[i],
					      &l.st[i]);
			nfresh++;
			continue;
		}
		old->seen = 1;
		if (!kid_unchanged(c, old, &l.st[i])) {
			changed = 1;
			rc = merge_entry(c, dir, l.names[i], &l.st[i], &id);
		}
	}
	if (rc == 0 && nfresh) {
		changed = 1;
		rc = index_insert_many(cache_index(c), fresh, nfresh);
	}
	/* Names the index has and the server does not. */
	for (size_t i = 0; i < k.n && rc == 0; i++)
		if (!k.v[i].seen) {
			changed = 1;
			rc = drop_if_clean(c, dir->id, k.v[i].id, k.v[i].name);
		}
	if (rc < 0)
		goto out;

	pthread_mutex_lock(&dir->lock);
	dir->it.listed = now_ns();
	rc = cache_node_save(c, dir);
	pthread_mutex_unlock(&dir->lock);
	if (rc == 0)
		rc = changed;
out:
	for (size_t i = 0; i < nfresh; i++)
		index_item_release(&fresh[i]);
	free(fresh);
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(l.st);
	for (size_t i = 0; i < k.n; i++)
		free(k.v[i].name);
	free(k.v);
	return rc;
}

int sync_refresh_name(struct cache *c, struct smb *s, struct node *dir, const char *name,
		      uint64_t *id)
{
	struct index_item old;
	struct smb_stat st;
	char path[4096];
	size_t plen;
	int rc;

	*id = 0;
	rc = index_path(cache_index(c), dir->id, path, sizeof(path));
	if (rc < 0)
		return rc;
	plen = strlen(path);
	if (plen + 1 + strlen(name) >= sizeof(path))
		return -ENAMETOOLONG;
	path[plen] = '/';
	strcpy(path + plen + 1, name);
	rc = smb_stat(s, path, &st);
	if (rc == -ENOENT) {
		if (index_lookup(cache_index(c), dir->id, name, &old) == 0) {
			uint64_t oid = old.id;
			index_item_release(&old);
			rc = drop_if_clean(c, dir->id, oid, name);
			if (rc < 0)
				return rc;
			if (index_lookup(cache_index(c), dir->id, name, &old) == 0) {
				*id = old.id; /* kept for its local changes */
				index_item_release(&old);
			}
		}
		return 0;
	}
	if (rc < 0)
		return rc;
	return merge_entry(c, dir, name, &st, id);
}

int sync_is_suspended(struct cache *c, uint64_t id)
{
	struct index_item it;

	for (int depth = 0; id && depth < 4096; depth++) {
		if (index_get(cache_index(c), id, &it) < 0)
			return 0;
		int sus = !!(it.flags & ITEM_F_SUSPENDED);
		id = it.parent;
		index_item_release(&it);
		if (sus)
			return 1;
	}
	return 0;
}

int sync_path_suspended(struct cache *c, uint64_t root, const char *path)
{
	const char *rest;
	uint64_t id;

	if (index_walk(cache_index(c), root, path, &id, &rest) < 0)
		return 0;
	return sync_is_suspended(c, id);
}

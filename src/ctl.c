/*
 * ctl.c - the daemon's control commands (docs/protocol.md): status, info.
 * They read the index only and never wait for the server.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fs/fs.h"
#include "ipc/server.h"
#include "ofsync.h"
#include "sync/engine.h"
#include "sync/sync.h"
#include "util/ticker.h"
#include "util/unc.h"

/* If path is prefix, or below it, returns the rest ("" or "/..."), else NULL. */
static const char *below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] != '\0' && path[n] != '/')
		return NULL;
	return path + n;
}

/*
 * The mount a path (in a mount, or UNC) lies in; *rel receives the rest of
 * the path below its root ("" or "/...").  NULL with a reason in msg.
 */
static struct mount *find_mount(struct daemon *d, const char *p, const char **rel, char *msg,
				size_t len, int *err)
{
	struct unc u;
	int rc;

	if (!strncmp(p, "//", 2) || !strncmp(p, "\\\\", 2) || !strncmp(p, "smb://", 6)) {
		rc = unc_parse(p, &u, msg, len);
		if (rc < 0) {
			*err = rc;
			return NULL;
		}
		for (size_t i = 0; i < d->nmounts; i++) {
			struct mount *m = &d->mounts[i];
			if (unc_same_share(&u, &m->opts->unc) &&
			    (*rel = below(u.path, m->opts->unc.path)))
				return m;
		}
		snprintf(msg, len, "%s is not on a mounted share", p);
	} else if (p[0] == '/') {
		for (size_t i = 0; i < d->nmounts; i++)
			if ((*rel = below(p, d->mounts[i].opts->mountpoint)))
				return &d->mounts[i];
		snprintf(msg, len, "%s is not inside a mount", p);
	} else {
		snprintf(msg, len, "%s: give an absolute path or a UNC", p);
		*err = -EINVAL;
		return NULL;
	}
	*err = -ENOENT;
	return NULL;
}

/* Finds the item a path (in a mount, or UNC) names: its mount and its id. */
static int resolve(struct daemon *d, const char *p, struct mount **mp, uint64_t *id, char *msg,
		   size_t len)
{
	const char *rel, *rest;
	struct mount *m;
	int rc = 0;

	m = find_mount(d, p, &rel, msg, len, &rc);
	if (!m)
		return rc;
	rc = index_walk(cache_index(m->cache), m->root, rel, id, &rest);
	if (rc < 0) {
		snprintf(msg, len, "%s: %s", p, strerror(-rc));
		return rc;
	}
	if (*rest) {
		snprintf(msg, len, "%s: not known to the cache", p);
		return -ENOENT;
	}
	*mp = m;
	return 0;
}

static json_t *error_obj(int err, const char *message)
{
	return json_pack("{s:i, s:s, s:s}", "errno", err, "code",
			 strerrorname_np(err) ? strerrorname_np(err) : "E?", "message", message);
}

static json_t *pins_json(uint32_t pins)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} kinds[] = {
		{PIN_USER, "user"}, {PIN_POLICY, "policy"}, {PIN_ALL, "all"}, {PIN_REDIR, "redir"}};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (pins & kinds[i].bit)
			json_array_append_new(a, json_string(kinds[i].name));
	return a;
}

static json_t *item_json(struct mount *m, const char *path, uint64_t id)
{
	struct index_item it;
	char rel[4096], unc[8192], msg[256];
	uint64_t cached;
	json_t *o, *base;
	int rc;

	rc = index_get(cache_index(m->cache), id, &it);
	if (rc == 0)
		rc = index_path(cache_index(m->cache), id, rel, sizeof(rel));
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(-rc));
		return json_pack("{s:s, s:o}", "path", path, "error", error_obj(-rc, msg));
	}
	snprintf(unc, sizeof(unc), "%s%s", m->opts->unc_text, rel);
	cached = rangeset_total(&it.present);
	base = it.base.valid ? json_pack("{s:I, s:I, s:I}", "size", (json_int_t)it.base.size,
					 "mtime", (json_int_t)it.base.mtime, "file_id",
					 (json_int_t)it.base.file_id) :
			       json_null();
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:b, s:I, s:I, s:I, s:o}", "path", path,
		      "unc", unc, "type", it.type == ITEM_DIR ? "dir" : "file", "size",
		      (json_int_t)(it.type == ITEM_DIR ? 0 : it.size), "cached",
		      it.type == ITEM_DIR || cached >= (uint64_t)it.size ? "full" : "sparse",
		      "cached_bytes", (json_int_t)cached, "dirty", item_is_dirty(&it),
		      "dirty_bytes", (json_int_t)rangeset_total(&it.dirty), "gen",
		      (json_int_t)it.gen, "synced_gen", (json_int_t)it.synced_gen, "base", base);
	json_object_set_new(o, "pins", pins_json(it.pins));
	json_object_set_new(o, "suspended", json_boolean(it.flags & ITEM_F_SUSPENDED));
	index_item_release(&it);
	return o;
}

static int cmd_info(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	json_t *paths = json_object_get(args, "paths"), *items, *p;
	size_t i;

	if (!json_is_array(paths) || json_array_size(paths) == 0) {
		snprintf(msg, len, "info needs \"paths\": a non-empty array of strings");
		return -EINVAL;
	}
	items = json_array();
	json_array_foreach(paths, i, p)
	{
		struct mount *m = NULL;
		char err[512];
		uint64_t id;
		int rc;

		if (!json_is_string(p)) {
			json_decref(items);
			snprintf(msg, len, "info: paths must be strings");
			return -EINVAL;
		}
		rc = resolve(d, json_string_value(p), &m, &id, err, sizeof(err));
		if (rc < 0)
			json_array_append_new(items,
					      json_pack("{s:s, s:o}", "path", json_string_value(p),
							"error", error_obj(-rc, err)));
		else
			json_array_append_new(items, item_json(m, json_string_value(p), id));
	}
	*result = json_pack("{s:o}", "items", items);
	return 0;
}

static json_t *share_status(struct mount *m)
{
	struct index_stats st;
	struct smb_state ss;

	if (index_stats(cache_index(m->cache), m->share, &st) < 0)
		return NULL;
	smb_get_state(m->smb, &ss);
	return json_pack(
		"{s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"unc", m->opts->unc_text, "mountpoint", m->opts->mountpoint, "state",
		ss.online ? "online" : "offline", "reason", ss.reason, "forced", ss.forced, "watch",
		!m->watch	   ? "off" :
		fs_watching(m->fs) ? "up" :
				     "down",
		"items", (json_int_t)st.items, "files", (json_int_t)st.files, "cached_bytes",
		(json_int_t)st.cached_bytes, "dirty_items", (json_int_t)st.dirty_items,
		"dirty_bytes", (json_int_t)st.dirty_bytes, "sparse_items",
		(json_int_t)st.sparse_items, "full_items", (json_int_t)st.full_items, "conflicts",
		(json_int_t)st.conflicts, "pending_ops", (json_int_t)st.pending_ops, "chunk_size",
		(json_int_t)CACHE_CHUNK);
}

/*
 * The mounts an optional "target" (a share or a path in it) names: *one is
 * that mount, or NULL for every mount.  0 or a negative errno with msg.
 */
static int target_mounts(struct daemon *d, json_t *args, struct mount **one, char *msg, size_t len)
{
	json_t *target = json_object_get(args, "target");
	uint64_t id;

	*one = NULL;
	if (!target || json_is_null(target))
		return 0;
	if (!json_is_string(target)) {
		snprintf(msg, len, "\"target\" must be a string");
		return -EINVAL;
	}
	return resolve(d, json_string_value(target), one, &id, msg, len);
}

/* The cache's usage against its two limits (0: none). */
static json_t *cache_json(struct daemon *d)
{
	uint64_t total, unpinned, used = 0, auto_used = 0;

	daemon_limits(d, &total, &unpinned);
	index_usage(cache_index(d->cache), &used, &auto_used);
	return json_pack("{s:I, s:I, s:I, s:I}", "used", (json_int_t)used, "auto_used",
			 (json_int_t)auto_used, "limit", (json_int_t)total, "auto_limit",
			 (json_int_t)unpinned);
}

static int cmd_status(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	struct mount *one;
	json_t *shares;
	int rc;

	rc = target_mounts(d, args, &one, msg, len);
	if (rc < 0)
		return rc;
	shares = json_array();
	for (size_t i = 0; i < d->nmounts; i++) {
		json_t *st;
		if (one && one != &d->mounts[i])
			continue;
		st = share_status(&d->mounts[i]);
		if (!st) {
			json_decref(shares);
			snprintf(msg, len, "cannot read the index");
			return -EIO;
		}
		json_array_append_new(shares, st);
	}
	*result = json_pack("{s:o, s:o}", "shares", shares, "cache", cache_json(d));
	return 0;
}

static int conflict_json(void *arg, uint64_t item, const char *path, const char *state,
			 const char *detail, int64_t when)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:I}", "item", (json_int_t)item,
					     "path", path, "state", state, "detail", detail, "time",
					     (json_int_t)(when / 1000000000)));
	return 0;
}

/* conflicts: the conflict store of the target's share, or of every share. */
static int cmd_conflicts(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	struct mount *one;
	json_t *list, *c;
	size_t k;
	int rc = target_mounts(d, args, &one, msg, len);

	if (rc < 0)
		return rc;
	list = json_array();
	for (size_t i = 0; i < d->nmounts; i++) {
		struct mount *m = &d->mounts[i];
		size_t from = json_array_size(list);
		if (one && one != m)
			continue;
		rc = index_conflicts(cache_index(m->cache), m->share, conflict_json, list);
		if (rc < 0) {
			json_decref(list);
			snprintf(msg, len, "cannot read the conflict store");
			return rc;
		}
		json_array_foreach(list, k, c)
		{
			if (k >= from)
				json_object_set_new(c, "unc", json_string(m->opts->unc_text));
		}
	}
	*result = json_pack("{s:s, s:o}", "unc",
			    one		    ? one->opts->unc_text :
			    d->nmounts == 1 ? d->mounts[0].opts->unc_text :
					      "",
			    "conflicts", list);
	return 0;
}

/*
 * sync: queues a Synchronize job and answers with its sync id at once; the
 * job's progress and end are published as events (SyncBegin,
 * SyncFileResult, SyncEnd).  args: {"paths": [..] (default: the share),
 * "flags": OFSYNC_* control flags, "sync_id": UUID (optional), "dry_run"}.
 */
/* Is m online (and not forced offline)?  Else a reason in msg. */
static int online(struct mount *m, char *msg, size_t len)
{
	struct smb_state ss;

	smb_get_state(m->smb, &ss);
	if (ss.online && !ss.forced)
		return 1;
	snprintf(msg, len, "%s is offline (%s): nothing can be synchronized now", m->opts->unc_text,
		 ss.reason);
	return 0;
}

static int cmd_sync(struct daemon *d, uint64_t client, json_t *args, json_t **result, char *msg,
		    size_t len)
{
	struct sync_asks asks = {
		.client = client,
		.item_begin = json_is_true(json_object_get(args, "item_begin")),
		.conflicts = json_is_true(json_object_get(args, "handler")),
		.failed_items = json_is_true(json_object_get(args, "ask_failed")),
	};
	json_t *paths = json_object_get(args, "paths"), *jflags = json_object_get(args, "flags");
	json_t *jid = json_object_get(args, "sync_id"), *p;
	char id[SYNC_ID_LEN + 1];
	struct sync_root *roots;
	uint32_t flags;
	size_t n, i;
	int rc;

	if (!json_is_integer(jflags) || json_integer_value(jflags) < 0 ||
	    json_integer_value(jflags) > UINT32_MAX) {
		snprintf(msg, len, "sync needs \"flags\": the control flags as a number");
		return -EINVAL;
	}
	flags = (uint32_t)json_integer_value(jflags);
	/* Progress always reaches the caller as events: it has a sink. */
	rc = ofsync_flags_check(flags, 0, 1, msg, len);
	if (rc < 0)
		return rc;
	if ((flags & OFSYNC_INTERACTIVE) && !asks.conflicts) {
		/* The caller may be asked: only a connection that answers can be. */
		snprintf(msg, len,
			 "INTERACTIVE needs a conflict handler on this connection "
			 "(\"handler\": true)");
		return -EINVAL;
	}
	if (jid && !json_is_null(jid) &&
	    (!json_is_string(jid) || !sync_id_valid(json_string_value(jid)))) {
		snprintf(msg, len, "a sync id is a UUID (8-4-4-4-12 hex digits)");
		return -EINVAL;
	}
	if (paths && !json_is_null(paths) && !json_is_array(paths)) {
		snprintf(msg, len, "\"paths\" must be an array of strings");
		return -EINVAL;
	}
	n = json_is_array(paths) ? json_array_size(paths) : 0;
	roots = calloc(n ? n : d->nmounts, sizeof(*roots));
	if (!roots)
		return -ENOMEM;
	json_array_foreach(paths, i, p)
	{
		if (!json_is_string(p)) {
			free(roots);
			snprintf(msg, len, "\"paths\" must be an array of strings");
			return -EINVAL;
		}
		rc = resolve(d, json_string_value(p), &roots[i].m, &roots[i].id, msg, len);
		if (rc == 0 && !online(roots[i].m, msg, len))
			rc = -EHOSTDOWN;
		if (rc < 0) {
			free(roots);
			return rc;
		}
	}
	if (n == 0) {
		/* No path: every share that can be synchronized now. */
		for (i = 0; i < d->nmounts; i++)
			if (online(&d->mounts[i], msg, len))
				roots[n++] = (struct sync_root){&d->mounts[i], d->mounts[i].root};
		if (n == 0) {
			free(roots);
			return -EHOSTDOWN; /* msg names the last share */
		}
		msg[0] = '\0';
	}
	rc = syncer_submit(d->syncer, roots, n, flags,
			   json_is_true(json_object_get(args, "dry_run")), 0, 0, &asks,
			   json_is_string(jid) ? json_string_value(jid) : NULL, id);
	if (rc < 0) {
		free(roots);
		snprintf(msg, len, "cannot start the sync: %s", strerror(-rc));
		return rc;
	}
	*result = json_pack("{s:s, s:s}", "sync_id", id, "unc", roots[0].m->opts->unc_text);
	free(roots);
	return 0;
}

/*
 * flush [target]: pushes every dirty item of the target's share (or of every
 * share) now, files open through the mount too, as a job whose sync id is in
 * the answer (null when nothing could start); shares that are offline are
 * named in "offline" and their dirty data waits.
 */
static int cmd_flush(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	char id[SYNC_ID_LEN + 1];
	struct sync_root *roots;
	struct mount *one;
	json_t *off;
	size_t n = 0;
	int rc;

	rc = target_mounts(d, args, &one, msg, len);
	if (rc < 0)
		return rc;
	roots = calloc(d->nmounts, sizeof(*roots));
	off = json_array();
	if (!roots || !off) {
		free(roots);
		json_decref(off);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->nmounts; i++) {
		struct mount *m = &d->mounts[i];
		if (one && one != m)
			continue;
		if (online(m, msg, len))
			roots[n++] = (struct sync_root){m, m->root};
		else
			json_array_append_new(off, json_string(m->opts->unc_text));
	}
	msg[0] = '\0';
	rc = n ? syncer_submit(d->syncer, roots, n, OFSYNC_SYNCOUT, 0, SYNC_KIND_FLUSH, 0, NULL,
			       NULL, id) :
		 0;
	free(roots);
	if (rc < 0) {
		json_decref(off);
		snprintf(msg, len, "cannot start the flush: %s", strerror(-rc));
		return rc;
	}
	*result = n ? json_pack("{s:s, s:o}", "sync_id", id, "offline", off) :
		      json_pack("{s:n, s:o}", "sync_id", "offline", off);
	return 0;
}

/*
 * limits {"total": BYTES, "auto": BYTES} (each optional; 0: no limit): sets
 * the cache's limits, kept in the index over the config file's, and checks
 * them at once.  Answers with the usage and the limits in force.
 */
static int cmd_limits(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	static const struct {
		const char *arg, *key;
	} keys[] = {{"total", "cache_limit"}, {"auto", "auto_cache_limit"}};
	uint64_t total, unpinned;
	int rc;

	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(args, keys[i].arg);
		if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
			snprintf(msg, len, "\"%s\" is a size in bytes (0: no limit)", keys[i].arg);
			return -EINVAL;
		}
	}
	daemon_limits(d, &total, &unpinned);
	if (json_object_get(args, "total"))
		total = (uint64_t)json_integer_value(json_object_get(args, "total"));
	if (json_object_get(args, "auto"))
		unpinned = (uint64_t)json_integer_value(json_object_get(args, "auto"));
	if (total && unpinned > total) {
		snprintf(msg, len, "the auto-cached limit cannot be over the total limit");
		return -EINVAL;
	}
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(args, keys[i].arg);
		if (!v)
			continue;
		rc = index_setting_set(cache_index(d->cache), keys[i].key, json_integer_value(v));
		if (rc < 0) {
			snprintf(msg, len, "cannot record the limit");
			return rc;
		}
	}
	evictor_kick(d->evictor);
	*result = cache_json(d);
	return 0;
}

/* Evicts one file for cmd_evict; adds a refusal to refused. */
static void evict_one(struct mount *m, uint64_t id, const char *path, uint64_t *freed,
		      unsigned *files, json_t *refused)
{
	const char *why;
	uint64_t got;
	char rel[4096];
	int rc = cache_evict(m->cache, id, &got, &why);

	if (rc == 0) {
		*freed += got;
		*files += got > 0;
		return;
	}
	if (index_path(cache_index(m->cache), id, rel, sizeof(rel)) < 0)
		snprintf(rel, sizeof(rel), "%s", path);
	json_array_append_new(
		refused, json_pack("{s:s, s:s}", "path", rel, "why", why ? why : strerror(-rc)));
}

/*
 * evict {"paths": [...]}: drops the clean, unpinned cached data of each file
 * (of every file below a directory) at once.  A pinned or dirty file is
 * refused, named with the reason in "refused"; for a directory, its pinned
 * and dirty files are left and counted there.
 */
static int cmd_evict(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	json_t *paths = json_object_get(args, "paths"), *p, *refused;
	uint64_t freed = 0;
	unsigned files = 0;
	size_t i;
	int rc;

	if (!json_is_array(paths) || json_array_size(paths) == 0) {
		snprintf(msg, len, "evict needs \"paths\": a non-empty array of strings");
		return -EINVAL;
	}
	refused = json_array();
	json_array_foreach(paths, i, p)
	{
		struct index_item it;
		struct mount *m;
		uint64_t id, *ids;
		size_t n;
		const char *path = json_string_value(p);
		if (!path) {
			json_decref(refused);
			snprintf(msg, len, "\"paths\" must be strings");
			return -EINVAL;
		}
		rc = resolve(d, path, &m, &id, msg, len);
		if (rc == 0)
			rc = index_get(cache_index(m->cache), id, &it);
		if (rc < 0) {
			json_decref(refused);
			return rc;
		}
		if (it.type == ITEM_FILE) {
			evict_one(m, id, path, &freed, &files, refused);
		} else if (index_subtree_ids(cache_index(m->cache), id, &ids, &n) == 0) {
			for (size_t k = 0; k < n; k++) {
				struct index_item sub;
				if (index_get(cache_index(m->cache), ids[k], &sub) < 0)
					continue;
				if (sub.type == ITEM_FILE && rangeset_total(&sub.present) > 0)
					evict_one(m, ids[k], path, &freed, &files, refused);
				index_item_release(&sub);
			}
			free(ids);
		}
		index_item_release(&it);
	}
	*result = json_pack("{s:I, s:i, s:o, s:o}", "freed", (json_int_t)freed, "files", files,
			    "refused", refused, "cache", cache_json(d));
	return 0;
}

/* The pin kind a "for" argument names (user when absent), or 0. */
static uint32_t pin_kind_arg(json_t *v)
{
	const char *k;

	if (!v || json_is_null(v))
		return PIN_USER;
	k = json_string_value(v);
	if (!k)
		return 0;
	if (!strcmp(k, "user"))
		return PIN_USER;
	if (!strcmp(k, "policy"))
		return PIN_POLICY;
	if (!strcmp(k, "all"))
		return PIN_ALL;
	if (!strcmp(k, "redir"))
		return PIN_REDIR;
	return 0;
}

/* Sets (on) or clears one pin kind on id, or on id and all below it. */
static int set_pins(struct mount *m, uint64_t id, int recursive, uint32_t kind, int on)
{
	uint64_t *ids = &id;
	size_t n = 1;
	int rc = 0;

	if (recursive) {
		rc = index_subtree_ids(cache_index(m->cache), id, &ids, &n);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct node *node;
		rc = cache_node_get(m->cache, ids[i], &node);
		if (rc < 0)
			break;
		pthread_mutex_lock(&node->lock);
		if (on)
			node->it.pins |= kind;
		else
			node->it.pins &= ~kind;
		rc = cache_node_save(m->cache, node);
		pthread_mutex_unlock(&node->lock);
		cache_node_put(m->cache, node, 1);
	}
	if (recursive)
		free(ids);
	return rc;
}

/*
 * pin / unpin: {"paths": [...], "recursive": bool, "for": "user"|"policy"|
 * "all"|"redir"}.  Pinning then fills the pinned files (a FILLSPARSE job of
 * pinned files only, whose id is in the answer, or null while offline).
 */
static int cmd_pin(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len, int on)
{
	json_t *paths = json_object_get(args, "paths"), *p;
	int recursive = json_is_true(json_object_get(args, "recursive"));
	uint32_t kind = pin_kind_arg(json_object_get(args, "for"));
	char id[SYNC_ID_LEN + 1];
	struct sync_root *roots;
	size_t i, n, nfill = 0;
	int rc = 0;

	if (!kind) {
		snprintf(msg, len, "a pin kind is one of user, policy, all, redir");
		return -EINVAL;
	}
	if (!json_is_array(paths) || json_array_size(paths) == 0) {
		snprintf(msg, len, "%s needs \"paths\": a non-empty array", on ? "pin" : "unpin");
		return -EINVAL;
	}
	n = json_array_size(paths);
	roots = calloc(n, sizeof(*roots));
	if (!roots)
		return -ENOMEM;
	json_array_foreach(paths, i, p)
	{
		if (!json_is_string(p)) {
			snprintf(msg, len, "\"paths\" must be strings");
			rc = -EINVAL;
			break;
		}
		rc = resolve(d, json_string_value(p), &roots[nfill].m, &roots[nfill].id, msg, len);
		if (rc == 0)
			rc = set_pins(roots[nfill].m, roots[nfill].id, recursive, kind, on);
		/* Pinning fills what can be filled now: the pinned items of online shares. */
		if (rc == 0 && on && online(roots[nfill].m, msg, len))
			nfill++;
		if (rc == 0)
			msg[0] = '\0';
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		if (!msg[0])
			snprintf(msg, len, "cannot change the pins: %s", strerror(-rc));
		free(roots);
		return rc;
	}
	if (nfill > 0 && syncer_submit(d->syncer, roots, nfill, OFSYNC_FILLSPARSE, 0,
				       SYNC_KIND_PINNED, 0, NULL, NULL, id) == 0)
		*result = json_pack("{s:I, s:s}", "items", (json_int_t)n, "sync_id", id);
	else
		*result = json_pack("{s:I, s:n}", "items", (json_int_t)n, "sync_id");
	free(roots);
	return 0;
}

/*
 * resolve: {"path": ..., "keep": "local"|"remote"|"both"|"latest"} settles
 * one conflict with a sync of that item in both directions under that rule;
 * answers with the sync's id.
 */
static int cmd_resolve(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	const char *k = json_string_value(json_object_get(args, "keep"));
	char id[SYNC_ID_LEN + 1];
	struct sync_root root;
	uint64_t n = 0;
	int keep, rc;

	keep = !k		    ? 0 :
	       !strcmp(k, "local")  ? ENGINE_KEEP_LOCAL :
	       !strcmp(k, "remote") ? ENGINE_KEEP_REMOTE :
	       !strcmp(k, "latest") ? ENGINE_KEEP_LATEST :
	       !strcmp(k, "both")   ? ENGINE_KEEP_BOTH :
				      0;
	if (!path || !keep) {
		snprintf(msg, len,
			 "resolve needs \"path\" and \"keep\": local, remote, both or latest");
		return -EINVAL;
	}
	rc = resolve(d, path, &root.m, &root.id, msg, len);
	if (rc < 0)
		return rc;
	index_conflict_item(cache_index(root.m->cache), root.id, &n);
	if (!n) {
		snprintf(msg, len, "%s has no recorded conflict", path);
		return -ENOENT;
	}
	if (!online(root.m, msg, len))
		return -EHOSTDOWN; /* the conflict stays until the share is back */
	rc = syncer_submit(d->syncer, &root, 1, OFSYNC_SYNCIN | OFSYNC_SYNCOUT, 0, SYNC_KIND_SYNC,
			   keep, NULL, NULL, id);
	if (rc < 0) {
		snprintf(msg, len, "cannot start the resolution: %s", strerror(-rc));
		return rc;
	}
	*result = json_pack("{s:s}", "sync_id", id);
	return 0;
}

/*
 * suspend / unsuspend: {"path": ...} marks a directory as a suspended root
 * (SuspendRoot): treated as offline by the mount and the background sync,
 * skipped by syncs with SKIPSUSPENDEDDIRS.
 */
static int cmd_suspend(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len,
		       int on)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	struct mount *m;
	struct node *n;
	uint64_t id;
	int rc;

	if (!path) {
		snprintf(msg, len, "%s needs \"path\"", on ? "suspend" : "unsuspend");
		return -EINVAL;
	}
	rc = resolve(d, path, &m, &id, msg, len);
	if (rc < 0)
		return rc;
	rc = cache_node_get(m->cache, id, &n);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&n->lock);
	if (n->it.type != ITEM_DIR) {
		rc = -ENOTDIR;
		snprintf(msg, len, "%s: only a directory can be suspended", path);
	} else {
		if (on)
			n->it.flags |= ITEM_F_SUSPENDED;
		else
			n->it.flags &= ~ITEM_F_SUSPENDED;
		rc = cache_node_save(m->cache, n);
	}
	pthread_mutex_unlock(&n->lock);
	cache_node_put(m->cache, n, 1);
	if (rc < 0)
		return rc;
	if (!on)
		ticker_kick(m->prober); /* what waited may go out now */
	*result = json_pack("{s:s, s:b}", "path", path, "suspended", on);
	return 0;
}

/* cancel: stops the sync with that id between items. */
static int cmd_cancel(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len)
{
	const char *id = json_string_value(json_object_get(args, "sync_id"));

	if (!id || !sync_id_valid(id)) {
		snprintf(msg, len, "cancel needs \"sync_id\": a UUID");
		return -EINVAL;
	}
	if (syncer_cancel(d->syncer, id) < 0) {
		snprintf(msg, len, "no sync %s is running or queued", id);
		return -ENOENT;
	}
	*result = json_pack("{s:s}", "sync_id", id);
	return 0;
}

static json_t *state_json(struct mount *m)
{
	struct smb_state ss;

	smb_get_state(m->smb, &ss);
	return json_pack("{s:s, s:s, s:s}", "unc", m->opts->unc_text, "state",
			 ss.online ? "online" : "offline", "reason", ss.reason);
}

/*
 * offline / online [target]: forced offline until `online`; online lifts it
 * and tries the server at once (on success the prober pushes what is
 * dirty).  For the target's share, or every share.  Answers with the state
 * reached: of the one share, and of all of them in "shares".
 */
static int cmd_offline(struct daemon *d, json_t *args, json_t **result, char *msg, size_t len,
		       int off)
{
	struct mount *one;
	json_t *shares;
	int rc = target_mounts(d, args, &one, msg, len);

	if (rc < 0)
		return rc;
	shares = json_array();
	for (size_t i = 0; i < d->nmounts; i++) {
		struct mount *m = &d->mounts[i];
		if (one && one != m)
			continue;
		smb_force(m->smb, off);
		if (!off && smb_probe(m->smb) == 0)
			ticker_kick(m->prober);
		json_array_append_new(shares, state_json(m));
	}
	*result = json_deep_copy(json_array_get(shares, 0));
	json_object_set_new(*result, "shares", shares);
	return 0;
}

void ctl_conflict_event(void *arg, int added, uint64_t share, uint64_t item, const char *path,
			const char *state)
{
	struct daemon *d = arg;
	const char *unc = "";
	json_t *ev;

	for (size_t i = 0; i < d->nmounts; i++)
		if (d->mounts[i].share == share)
			unc = d->mounts[i].opts->unc_text;
	ev = json_pack("{s:s, s:I, s:s}", "share", unc, "item", (json_int_t)item, "path", path);
	if (added)
		json_object_set_new(ev, "state", json_string(state));
	ipc_server_publish(d->srv, added ? "ConflictRecAdded" : "ConflictRecRemoved", ev);
	json_decref(ev);
}

/* answer {sync_id, query, answer, name?}: a reply to a question of a sync this connection started.
 */
static int cmd_answer(struct daemon *d, uint64_t client, json_t *args, char *msg, size_t len)
{
	const char *id = json_string_value(json_object_get(args, "sync_id"));
	const char *ans = json_string_value(json_object_get(args, "answer"));
	json_t *q = json_object_get(args, "query"), *name = json_object_get(args, "name");

	if (!id || !ans || !json_is_integer(q) ||
	    (name && !json_is_null(name) && !json_is_string(name))) {
		snprintf(msg, len, "answer needs \"sync_id\", \"query\" (a number) and \"answer\"");
		return -EINVAL;
	}
	return syncer_answer(d->syncer, client, id, json_integer_value(q), ans,
			     json_string_value(name), msg, len);
}

void ctl_client_closed(void *arg, uint64_t client)
{
	struct daemon *d = arg;

	syncer_client_gone(d->syncer, client);
}

int ctl_handle(void *arg, uint64_t client, const char *cmd, json_t *args, json_t **result,
	       char *msg, size_t msglen)
{
	struct daemon *d = arg;

	if (!strcmp(cmd, "status"))
		return cmd_status(d, args, result, msg, msglen);
	if (!strcmp(cmd, "info"))
		return cmd_info(d, args, result, msg, msglen);
	if (!strcmp(cmd, "sync"))
		return cmd_sync(d, client, args, result, msg, msglen);
	if (!strcmp(cmd, "answer"))
		return cmd_answer(d, client, args, msg, msglen);
	if (!strcmp(cmd, "suspend"))
		return cmd_suspend(d, args, result, msg, msglen, 1);
	if (!strcmp(cmd, "unsuspend"))
		return cmd_suspend(d, args, result, msg, msglen, 0);
	if (!strcmp(cmd, "resolve"))
		return cmd_resolve(d, args, result, msg, msglen);
	if (!strcmp(cmd, "pin"))
		return cmd_pin(d, args, result, msg, msglen, 1);
	if (!strcmp(cmd, "unpin"))
		return cmd_pin(d, args, result, msg, msglen, 0);
	if (!strcmp(cmd, "limits"))
		return cmd_limits(d, args, result, msg, msglen);
	if (!strcmp(cmd, "evict"))
		return cmd_evict(d, args, result, msg, msglen);
	if (!strcmp(cmd, "flush"))
		return cmd_flush(d, args, result, msg, msglen);
	if (!strcmp(cmd, "cancel"))
		return cmd_cancel(d, args, result, msg, msglen);
	if (!strcmp(cmd, "conflicts"))
		return cmd_conflicts(d, args, result, msg, msglen);
	if (!strcmp(cmd, "online"))
		return cmd_offline(d, args, result, msg, msglen, 0);
	if (!strcmp(cmd, "offline"))
		return cmd_offline(d, args, result, msg, msglen, 1);
	snprintf(msg, msglen, "unknown command '%s'", cmd);
	return -ENOSYS;
}

/*
 * daemon.h - what ofsyncd serves: its mounted shares, each with its parts,
 * over one cache and one control socket.  The control commands (ctl.c)
 * answer from here.
 */
#ifndef OFSYNC_DAEMON_H
#define OFSYNC_DAEMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "options.h"
#include "smb/smb.h"

struct daemon;
struct fs;
struct ipc_server;
struct ticker;
struct syncer;

struct mount {
	struct daemon *d;	    /* the daemon it belongs to */
	const struct options *opts; /* the share, mountpoint and settings */
	struct cache *cache;	    /* the daemon's */
	struct smb *smb;	    /* holds the connection state */
	uint64_t share;		    /* shares.id in the index */
	uint64_t root;		    /* row id of the share root */
	struct ipc_server *srv;	    /* the daemon's, for events; set before threads start */
	struct ticker *prober;	    /* the probe and background-sync thread */
	struct fs *fs;		    /* the FUSE mount */
	struct watch *watch;	    /* the server's change watch, NULL with notify=no */
};

struct evictor;

struct daemon {
	struct cache *cache; /* one cache (and index) for every share */
	struct ipc_server *srv;
	struct syncer *syncer; /* runs `ofsync sync` jobs of every share, one at a time */
	struct evictor *evictor;
	struct mount *mounts;
	size_t nmounts;
	uint64_t cfg_total, cfg_auto; /* cache limits of the config file (0: none) */
};

/*
 * The evictor: keeps the cache under its two limits (everything cached,
 * and the auto-cached, unpinned data), evicting clean unpinned files least
 * recently used first; dirty and pinned data is never evicted.
 * daemon_limits gives the limits in force: those set with `ofsync limits`
 * (kept in the index), else the config file's.  0 is no limit.
 */
int evictor_start(struct daemon *d, struct evictor **out);
void evictor_kick(struct evictor *ev);
void evictor_stop(struct evictor *ev);
void daemon_limits(struct daemon *d, uint64_t *total, uint64_t *unpinned);

/*
 * The prober: while the share is offline (and not forced), tries the server
 * every probe_interval seconds; whenever the share is online and has dirty
 * items, runs a background sync-out between BackgroundSyncBegin and
 * BackgroundSyncEnd events.  It is a ticker (util/ticker.h): ticker_kick
 * wakes it at once, ticker_stop ends it.
 */
int prober_start(struct mount *m, struct ticker **out);

/* Sync ids are UUIDs: 8-4-4-4-12 hex digits. */
#define SYNC_ID_LEN 36
int sync_id_valid(const char *id);

/*
 * The syncer: one thread that runs Synchronize jobs in order (so two syncs
 * never interleave) and publishes SyncBegin, SyncFileResult and SyncEnd with
 * the job's sync id.  submit queues a job over roots (items, each of one
 * mount; a job may span shares) and writes its id (the one given, or a new
 * UUID) into id_out; cancel stops the job with that id between items
 * (-ENOENT when there is none).
 */
struct sync_root {
	struct mount *m;
	uint64_t id; /* the item the sync starts at */
};

int syncer_start(struct daemon *d, struct syncer **out);

/*
 * What a sync's caller (a control connection) asked to be told and asked:
 * SyncItemBegin events; each conflict, as a SyncConflictQuery event that
 * waits for its `answer`; a failed item's SyncFileResult, which then waits
 * for an answer (continue / retry / abort).  Questions go to that one
 * connection; when it goes away, conflicts are recorded and items go on.
 */
struct sync_asks {
	uint64_t client; /* the control connection */
	int item_begin;
	int conflicts;
	int failed_items;
};

/* What a job does. */
enum sync_kind {
	SYNC_KIND_SYNC = 0,   /* a Synchronize with the flags */
	SYNC_KIND_PINNED = 1, /* FILLSPARSE of pinned files only (after `ofsync pin`) */
	SYNC_KIND_FLUSH = 2,  /* push every dirty item now, open or not (`ofsync flush`) */
};

int syncer_submit(struct syncer *sy, const struct sync_root *roots, size_t nroots, uint32_t flags,
		  int dry_run, int kind, int keep, const struct sync_asks *asks, const char *id,
		  char *id_out);
int syncer_cancel(struct syncer *sy, const char *id);
/*
 * The answer of client to question query of sync id: a conflict answer
 * (keep_local, keep_remote, keep_all, keep_latest, log, skip, abort; name:
 * the local copy's new name for keep_all, may be NULL) or an item answer
 * (continue, retry, abort).  0, or -ENOENT / -EINVAL with a reason in msg.
 */
int syncer_answer(struct syncer *sy, uint64_t client, const char *id, int64_t query,
		  const char *answer, const char *name, char *msg, size_t len);
/* A control connection closed: its syncs ask it nothing more. */
void syncer_client_gone(struct syncer *sy, uint64_t client);
/* Cancels the running job and ends the thread; later submits get -ESHUTDOWN. */
void syncer_stop(struct syncer *sy);
/* Frees it, once nothing can call submit or cancel any more. */
void syncer_free(struct syncer *sy);

/* Publishes ConflictRecAdded / ConflictRecRemoved (a cache_conflict_fn). */
void ctl_conflict_event(void *arg, int added, uint64_t share, uint64_t item, const char *path,
			const char *state);

/* The control socket's handler (ipc_handler_fn) over the daemon, and its close hook. */
int ctl_handle(void *arg, uint64_t client, const char *cmd, json_t *args, json_t **result,
	       char *msg, size_t msglen);
void ctl_client_closed(void *arg, uint64_t client);

#endif

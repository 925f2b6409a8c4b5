/*
 * daemon.h - what ofsyncd serves: one mounted share and its parts.  The
 * control commands (ctl.c) answer from here.
 */
#ifndef OFSYNC_DAEMON_H
#define OFSYNC_DAEMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "options.h"
#include "smb/smb.h"

struct ipc_server;
struct prober;
struct syncer;

struct mount {
	const struct options *opts; /* the share, mountpoint and settings */
	struct cache *cache;
	struct smb *smb;	/* holds the connection state */
	uint64_t share;		/* shares.id in the index */
	uint64_t root;		/* row id of the share root */
	struct ipc_server *srv; /* for events; set before threads start */
	struct prober *prober;	/* the probe and background-sync thread */
	struct syncer *syncer;	/* runs `ofsync sync` jobs */
};

/*
 * The prober: while the share is offline (and not forced), tries the server
 * every probe_interval seconds; whenever the share is online and has dirty
 * items, runs a background sync-out between BackgroundSyncBegin and
 * BackgroundSyncEnd events.  prober_kick wakes it at once.
 */
int prober_start(struct mount *m, struct prober **out);
void prober_kick(struct prober *p);
void prober_stop(struct prober *p);

/* Sync ids are UUIDs: 8-4-4-4-12 hex digits. */
#define SYNC_ID_LEN 36
int sync_id_valid(const char *id);

/*
 * The syncer: one thread that runs Synchronize jobs in order (so two syncs
 * never interleave) and publishes SyncBegin, SyncFileResult and SyncEnd with
 * the job's sync id.  submit queues a job over roots (item ids) and writes
 * its id (the one given, or a new UUID) into id_out; cancel stops the job
 * with that id between items (-ENOENT when there is none).
 */
int syncer_start(struct mount *m, struct syncer **out);
int syncer_submit(struct syncer *sy, const uint64_t *roots, size_t nroots, uint32_t flags,
		  int dry_run, int pinned_only, int keep, const char *id, char *id_out);
int syncer_cancel(struct syncer *sy, const char *id);
/* Cancels the running job and ends the thread; later submits get -ESHUTDOWN. */
void syncer_stop(struct syncer *sy);
/* Frees it, once nothing can call submit or cancel any more. */
void syncer_free(struct syncer *sy);

/* Publishes ConflictRecAdded / ConflictRecRemoved (a cache_conflict_fn). */
void ctl_conflict_event(void *arg, int added, uint64_t item, const char *path, const char *state);

/* The control socket's handler (ipc_handler_fn) over one mount. */
int ctl_handle(void *arg, const char *cmd, json_t *args, json_t **result, char *msg, size_t msglen);

#endif

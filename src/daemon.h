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

struct mount {
	const struct options *opts; /* the share, mountpoint and settings */
	struct cache *cache;
	struct smb *smb;	/* holds the connection state */
	uint64_t share;		/* shares.id in the index */
	uint64_t root;		/* row id of the share root */
	struct ipc_server *srv; /* for events; set before threads start */
	struct prober *prober;	/* the probe and background-sync thread */
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

/* The control socket's handler (ipc_handler_fn) over one mount. */
int ctl_handle(void *arg, const char *cmd, json_t *args, json_t **result, char *msg, size_t msglen);

#endif

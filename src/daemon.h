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

struct mount {
	const struct options *opts; /* the share, mountpoint and settings */
	struct cache *cache;
	struct smb *smb;
	uint64_t share;	  /* shares.id in the index */
	uint64_t root;	  /* row id of the share root */
	int online;	  /* the server answered */
	char reason[256]; /* why offline, "" when online */
};

/* The control socket's handler (ipc_handler_fn) over one mount. */
int ctl_handle(void *arg, const char *cmd, json_t *args, json_t **result, char *msg, size_t msglen);

#endif

/* client.h - the control socket, client side (ofsync(1)). */
#ifndef OFSYNC_IPC_CLIENT_H
#define OFSYNC_IPC_CLIENT_H

#include <stddef.h>

#include "ipc/proto.h"

/* Connects to the daemon's socket.  Returns an fd or a negative errno. */
int ipc_connect(const char *path);

/*
 * Sends one request and waits (at most timeout_ms) for its reply, skipping
 * events.  Returns 0 with *rep filled (release it), or a negative errno with
 * a reason in err: -ETIMEDOUT, -ECONNRESET when the daemon hung up, -EPROTO
 * for a reply that cannot be decoded.
 */
int ipc_call(int fd, const char *cmd, json_t *args, int timeout_ms, struct proto_reply *rep,
	     char *err, size_t errlen);

#endif

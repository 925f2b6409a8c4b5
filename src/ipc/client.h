/* client.h - the control socket, client side (ofsync(1)). */
#ifndef OFSYNC_IPC_CLIENT_H
#define OFSYNC_IPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/proto.h"

struct ipc_conn;

/* Connects to the daemon's socket.  0 or a negative errno. */
int ipc_open(const char *path, struct ipc_conn **out);
void ipc_close(struct ipc_conn *c);

/*
 * Reads the next line from the daemon (a reply or an event), waiting at
 * most timeout_ms (-1: no limit).  Returns 0 with *rep filled (release it),
 * or a negative errno with a reason in err: -ETIMEDOUT, -ECONNRESET when the
 * daemon hung up, -EPROTO for a line that cannot be decoded.
 */
int ipc_read(struct ipc_conn *c, int timeout_ms, struct proto_reply *rep, char *err, size_t errlen);

/*
 * Sends one request without waiting; *id is the id its reply will carry.
 * 0 or a negative errno with a reason in err.
 */
int ipc_send(struct ipc_conn *c, const char *cmd, json_t *args, int64_t *id, char *err,
	     size_t errlen);

/*
 * Sends one request and waits (at most timeout_ms) for its reply, skipping
 * events.  Returns as ipc_read.
 */
int ipc_call(struct ipc_conn *c, const char *cmd, json_t *args, int timeout_ms,
	     struct proto_reply *rep, char *err, size_t errlen);

#endif

/*
 * server.h - the control socket, daemon side: a Unix stream socket of mode
 * 0600 served by one thread with a poll loop.  Peers whose uid differs from
 * the daemon's are refused (root excepted).  Each request line is decoded
 * (proto.h) and handed to the daemon's handler; its answer is sent back.
 */
#ifndef OFSYNC_IPC_SERVER_H
#define OFSYNC_IPC_SERVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Answers one request: returns 0 with *result set (a new reference, or
 * NULL for an empty object), or a negative errno with a reason in msg.
 */
typedef int (*ipc_handler_fn)(void *arg, uint64_t client, const char *cmd, json_t *args,
			      json_t **result, char *msg, size_t msglen);
/* Told when a connection closes (on the server thread). */
typedef void (*ipc_close_fn)(void *arg, uint64_t client);

struct ipc_server;

/*
 * Binds and listens on path (its directory is created, mode 0700, when
 * missing); no thread yet, so that it can run before daemonizing.  A socket
 * file that no daemon answers on is replaced; one that answers gives
 * -EADDRINUSE.  Returns 0 or a negative errno (logged).
 */
int ipc_server_new(const char *path, ipc_handler_fn fn, ipc_close_fn on_close, void *arg,
		   struct ipc_server **out);
/* Starts the serving thread.  0 or a negative errno. */
int ipc_server_start(struct ipc_server *srv);
/*
 * Publishes an event to every connection that subscribed with the "events"
 * command (handled here: it answers {"subscribed":true} and the connection
 * then receives event lines).  Any thread may call it; data is borrowed.
 * Lines a slow reader cannot take yet are kept for it (never waited for); a
 * reader more than 16 MiB behind is dropped.
 */
void ipc_server_publish(struct ipc_server *srv, const char *event, json_t *data);
/* Sends an event to one client (by the id its handler calls got), subscribed or not. */
void ipc_server_send(struct ipc_server *srv, uint64_t client, const char *event, json_t *data);

/*
 * Stops the thread (no handler runs after it returns) but keeps the server:
 * events published meanwhile are queued and dropped at ipc_server_stop.
 */
void ipc_server_halt(struct ipc_server *srv);

/* Stops the thread if started, closes every connection and removes the socket file. */
void ipc_server_stop(struct ipc_server *srv);

#endif

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

/*
 * Answers one request: returns 0 with *result set (a new reference, or
 * NULL for an empty object), or a negative errno with a reason in msg.
 */
typedef int (*ipc_handler_fn)(void *arg, const char *cmd, json_t *args, json_t **result, char *msg,
			      size_t msglen);

struct ipc_server;

/*
 * Binds and listens on path (its directory is created, mode 0700, when
 * missing); no thread yet, so that it can run before daemonizing.  A socket
 * file that no daemon answers on is replaced; one that answers gives
 * -EADDRINUSE.  Returns 0 or a negative errno (logged).
 */
int ipc_server_new(const char *path, ipc_handler_fn fn, void *arg, struct ipc_server **out);
/* Starts the serving thread.  0 or a negative errno. */
int ipc_server_start(struct ipc_server *srv);
/*
 * Publishes an event to every connection that subscribed with the "events"
 * command (handled here: it answers {"subscribed":true} and the connection
 * then receives event lines).  Any thread may call it; data is borrowed.  A
 * subscriber whose socket is full is dropped rather than waited for.
 */
void ipc_server_publish(struct ipc_server *srv, const char *event, json_t *data);

/*
 * Stops the thread (no handler runs after it returns) but keeps the server:
 * events published meanwhile are queued and dropped at ipc_server_stop.
 */
void ipc_server_halt(struct ipc_server *srv);

/* Stops the thread if started, closes every connection and removes the socket file. */
void ipc_server_stop(struct ipc_server *srv);

#endif

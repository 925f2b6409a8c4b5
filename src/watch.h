/*
 * watch.h - change notification from the server (SMB2 CHANGE_NOTIFY).
 *
 * libsmbclient cannot be used from two threads at once, and a notify call
 * blocks for as long as the watch lasts, so the watch runs in a helper
 * process: ofsyncd started again as `ofsyncd --watch-helper`, with its own
 * connection.  It gets the share and the credentials on its standard input
 * (never argv or the environment) and writes one record per change on its
 * standard output.  A thread of the daemon starts it while the share is
 * online, reads the records and hands them to the mount; when the helper
 * ends (server gone, connection lost, the server's change buffer overflowed)
 * the mount is told the watch is down and the thread starts another, backing
 * off while it keeps failing.
 */
#ifndef OFSYNC_WATCH_H
#define OFSYNC_WATCH_H

#include "smb/smb.h"

struct watch_conf {
	struct smb_conf smb; /* strings borrowed; they outlive the watch */
	struct smb *client;  /* borrowed: no helper is started while it is offline */
	/* A change: enum smb_change and its path ("/a/b"), from the watch thread. */
	void (*changed)(void *arg, int change, const char *path);
	/* The watch is in place (1) or gone (0); changes before 1 were not seen. */
	void (*state)(void *arg, int watching);
	void *arg;
};

struct watch;

/* Starts the watch thread.  0 or a negative errno. */
int watch_start(const struct watch_conf *wc, struct watch **out);
/* Stops the helper (by its PID) and the thread, and frees. */
void watch_stop(struct watch *w);

/* The helper's main: `ofsyncd --watch-helper`.  Returns the exit status. */
int watch_helper_main(void);

#endif

/*
 * ofsync.h - the public face of ofsync: exit statuses of the ofsync(1)
 * command and the control protocol version.  The Synchronize engine's API
 * (flags with the Windows values of OFFLINEFILES_SYNC_CONTROL_FLAG_*) joins
 * this header with the engine.
 */
#ifndef OFSYNC_H
#define OFSYNC_H

#define OFSYNC_VERSION "0.1.0"

/* Exit statuses of ofsync(1); documented in ofsync(1), EXIT STATUS. */
enum ofsync_exit {
	OFSYNC_EXIT_OK = 0,	   /* success */
	OFSYNC_EXIT_FAILED = 1,	   /* the daemon refused or failed the request */
	OFSYNC_EXIT_USAGE = 2,	   /* bad command line */
	OFSYNC_EXIT_NO_DAEMON = 3, /* no daemon answers on the socket */
	OFSYNC_EXIT_ITEMS = 4,	   /* some items failed (e.g. a path not under a mount) */
	OFSYNC_EXIT_CONFLICTS = 5, /* conflicts were left for the user */
	OFSYNC_EXIT_CANCELLED = 6, /* the operation was cancelled */
};

#endif

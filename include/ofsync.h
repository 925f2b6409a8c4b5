/*
 * ofsync.h - the public face of ofsync: exit statuses of the ofsync(1)
 * command, and the Synchronize control flags with the values of Windows'
 * OFFLINEFILES_SYNC_CONTROL_FLAG_* and OFFLINEFILES_SYNC_CONTROL_CR_*, so
 * that a reader of the Windows documentation knows them at once
 * (DESIGN.md section 2).
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

#include <stddef.h>
#include <stdint.h>

/* Synchronize control flags (IOfflineFilesCache::Synchronize). */
#define OFSYNC_FILLSPARSE 0x00000001u	  /* fetch missing ranges of sparse files */
#define OFSYNC_SYNCIN 0x00000002u	  /* remote changes into the cache */
#define OFSYNC_SYNCOUT 0x00000004u	  /* local changes to the server */
#define OFSYNC_PINNEWFILES 0x00000008u	  /* with SYNCIN: pin new files in pinned dirs */
#define OFSYNC_PINLINKTARGETS 0x00000010u /* with PINNEWFILES: pin .lnk targets */
#define OFSYNC_PINFORUSER 0x00000020u	  /* the pin kind PINNEWFILES sets ... */
#define OFSYNC_PINFORUSER_POLICY 0x00000040u
#define OFSYNC_PINFORALL 0x00000080u
#define OFSYNC_PINFORREDIR 0x00000100u
#define OFSYNC_LOWPRIORITY 0x00000200u	     /* idle CPU and I/O priority */
#define OFSYNC_ASYNCPROGRESS 0x00000400u     /* progress from a queue, off the worker */
#define OFSYNC_INTERACTIVE 0x00000800u	     /* the caller may be asked */
#define OFSYNC_CONSOLE 0x00001000u	     /* with INTERACTIVE: ask on the terminal */
#define OFSYNC_SKIPSUSPENDEDDIRS 0x00002000u /* skip suspended subtrees */
#define OFSYNC_BACKGROUND 0x00010000u	     /* back off files open through the mount */
#define OFSYNC_NONEWFILESOUT 0x00020000u     /* with SYNCOUT: create no file on the server */
#define OFSYNC_CR_MASK 0xF0000000u	     /* the conflict rule: at most one of ... */
#define OFSYNC_CR_NONE 0x00000000u
#define OFSYNC_CR_KEEPLOCAL 0x10000000u
#define OFSYNC_CR_KEEPREMOTE 0x20000000u
#define OFSYNC_CR_KEEPLATEST 0x30000000u

/*
 * The flags this version of the engine does not carry out yet; a sync that
 * asks for one is refused (never silently ignored).
 */
#define OFSYNC_FLAGS_UNAVAILABLE (OFSYNC_INTERACTIVE | OFSYNC_CONSOLE)

/* Every flag above but the conflict rule. */
#define OFSYNC_FLAGS_KNOWN 0x00033FFFu

/*
 * Checks a Synchronize call before anything happens.  Returns 0, or -EINVAL
 * with a one-line reason in err: an unknown flag bit, a conflict-rule value
 * that is not one of the three (two CR flags at once), PINLINKTARGETS
 * without PINNEWFILES, PINNEWFILES without SYNCIN, more than one pin kind,
 * NONEWFILESOUT without SYNCOUT, CONSOLE without INTERACTIVE, or async
 * without a progress sink.
 */
int ofsync_flags_check(uint32_t flags, int async, int have_progress, char *err, size_t errlen);

/* The Windows name of one flag bit (e.g. "FILLSPARSE"), or NULL. */
const char *ofsync_flag_name(uint32_t bit);

#endif

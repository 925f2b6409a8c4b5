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
	OFSYNC_EXIT_OFFLINE = 7,   /* could not: the share is offline (flush) */
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

/* ---------------------------------------------------------------------- */
/*
 * libofsync: the client library (ofsync(3)).  It talks to ofsyncd over its
 * control socket; every callback below runs in the caller's process.
 * Functions return 0 or a negative errno; ofsync_errmsg() then holds a
 * one-line reason.  One struct ofsync_client must not be used by two
 * threads at once.
 */
struct ofsync_client;

#define OFSYNC_SYNC_ID_SIZE 37 /* a UUID, 8-4-4-4-12 hex digits, and its NUL */

/*
 * Connects to the daemon.  socket_path NULL: the default
 * ($XDG_RUNTIME_DIR/ofsync.sock, /run/ofsync.sock for root).  On failure
 * *out is NULL and the return is -ENOENT / -ECONNREFUSED when no daemon
 * answers.
 */
int ofsync_open(const char *socket_path, struct ofsync_client **out);
/* Waits for this client's async syncs to end, then disconnects and frees. */
void ofsync_close(struct ofsync_client *c);
/* The reason for the last failure of a call on c (never NULL). */
const char *ofsync_errmsg(const struct ofsync_client *c);

/*
 * Answers of a conflict handler, with the values of Windows'
 * OFFLINEFILES_SYNC_CONFLICT_RESOLVE.
 */
enum ofsync_resolve {
	OFSYNC_RESOLVE_NONE = 0,	   /* no answer: treated as LOG */
	OFSYNC_RESOLVE_KEEPLOCAL = 1,	   /* the cache's copy goes to the server */
	OFSYNC_RESOLVE_KEEPREMOTE = 2,	   /* the server's copy comes into the cache */
	OFSYNC_RESOLVE_KEEPALLCHANGES = 3, /* local copy under a new name, remote under the name */
	OFSYNC_RESOLVE_KEEPLATEST = 4,	   /* the side changed last wins */
	OFSYNC_RESOLVE_LOG = 5,		   /* record it in the conflict store, change nothing */
	OFSYNC_RESOLVE_SKIP = 6,	   /* leave it as it is, unrecorded, for a later sync */
	OFSYNC_RESOLVE_ABORT = 7,	   /* stop the sync: it ends cancelled */
};

/* Answers of the item callbacks (Windows' OFFLINEFILES_OP_RESPONSE). */
enum ofsync_op_response {
	OFSYNC_OP_CONTINUE = 0,
	OFSYNC_OP_RETRY = 1, /* item_result of a failed item: try it again */
	OFSYNC_OP_ABORT = 2, /* cancel the sync between items */
};

/* One side of an item in conflict. */
struct ofsync_side {
	int kind;	  /* 0 none (deleted / never there), 1 file, 2 directory */
	int changed;	  /* changed on this side since the last sync */
	int64_t size;	  /* bytes, for a file */
	int64_t mtime_ns; /* last change, ns since the epoch (local delete: when it happened) */
};

struct ofsync_conflict {
	const char *sync_id;
	const char *path;  /* //server/share/dir/name */
	const char *state; /* OFFLINEFILES_SYNC_STATE name, e.g.
			      "FileChangedOnClient_ChangedOnServer" */
	int state_value;   /* its numeric value */
	struct ofsync_side local, remote;
};

/*
 * Asked once per conflict, before any conflict rule (a handler makes the
 * CR_* flags moot).  Returns an enum ofsync_resolve.  For KEEPALLCHANGES it
 * may write the new leaf name of the local copy into new_name (left empty:
 * "name (HOST vN).ext", as Sync Center names it).
 */
typedef int (*ofsync_conflict_fn)(void *arg, const struct ofsync_conflict *c, char *new_name,
				  size_t new_name_len);

struct ofsync_item_result {
	const char *sync_id;
	const char *path;    /* //server/share/dir/name */
	const char *state;   /* sync state name */
	const char *op;	     /* the operation that was due: NONE PUSH PULL FILL ... CONFLICT */
	int applied;	     /* carried out (0: the flags left it) */
	const char *skipped; /* why a due op was held back ("open", "suspended", ...), or NULL */
	int result;	     /* 0, -ESTALE: left as a conflict, or a negative errno */
	int64_t bytes;	     /* bytes moved for it */
};

struct ofsync_summary {
	char sync_id[OFSYNC_SYNC_ID_SIZE];
	int result; /* 0, -ECANCELED, or a negative errno that stopped the sync */
	unsigned items, applied, conflicts, resolved, failed, skipped;
	int64_t bytes;
	double seconds;
};

/*
 * The progress sink (IOfflineFilesSyncProgress).  Any member may be NULL.
 * begin gets an estimate of the items to look at (0: unknown).  query_abort
 * is asked between items; non-zero cancels.  item_begin and item_result
 * return an enum ofsync_op_response; RETRY is honoured for a failed item
 * (the daemon waits for the answer of a failed item when item_result is
 * set).
 */
struct ofsync_progress {
	void (*begin)(void *arg, const char *sync_id, uint32_t flags, uint64_t estimate);
	int (*query_abort)(void *arg);
	int (*item_begin)(void *arg, const char *path);
	int (*item_result)(void *arg, const struct ofsync_item_result *r);
	void (*end)(void *arg, const struct ofsync_summary *s);
	/* Every event of the sync as it came: its name and its data as JSON text. */
	void (*event)(void *arg, const char *name, const char *data_json);
	void *arg;
};

/*
 * The conflict handler that CONSOLE stands for: describes the conflict on
 * the caller's terminal (/dev/tty) and reads the answer there.  With
 * INTERACTIVE | CONSOLE and no handler, ofsync_synchronize uses it; a
 * program may call it from its own handler.  LOG when there is no terminal.
 */
int ofsync_console_conflict(void *arg, const struct ofsync_conflict *c, char *new_name,
			    size_t new_name_len);

/* IOfflineFilesCache::Synchronize's arguments. */
struct ofsync_sync_args {
	const char *const *paths;    /* //server/share/..., or paths inside a mount */
	size_t npaths;		     /* 0: every share of the daemon */
	uint32_t flags;		     /* OFSYNC_* control flags */
	int async;		     /* return once started; callbacks from a library thread */
	int detach;		     /* with async: no callbacks; progress only as events */
	int dry_run;		     /* plan and report, change nothing */
	const char *sync_id;	     /* a UUID to carry on the events, or NULL for a new one */
	ofsync_conflict_fn conflict; /* NULL: CR_* flag, else the conflict store */
	void *conflict_arg;
	const struct ofsync_progress *progress; /* required with async (not detached) */
};

/*
 * Runs a Synchronize.  Invalid combinations (two CR flags, async without a
 * progress sink, ...) are refused with -EINVAL before anything happens.
 * Returns 0 on success; -ECANCELED when cancelled (by query_abort, an ABORT
 * answer or `ofsync cancel`: what was done stays done); when exactly one
 * file was named, that file's own result (-ESTALE: left as a conflict);
 * else a negative errno (-EHOSTDOWN: the share is offline).  With async it
 * returns once the daemon accepted the sync; ofsync_wait gives the result.
 * sync_id_out (may be NULL) receives the sync id; summary (may be NULL,
 * ignored with async) the totals of SyncEnd.
 */
int ofsync_synchronize(struct ofsync_client *c, const struct ofsync_sync_args *a,
		       char sync_id_out[OFSYNC_SYNC_ID_SIZE], struct ofsync_summary *summary);

/*
 * Waits for an async sync started on c to end; returns what a synchronous
 * call would have returned, and fills summary (may be NULL).  -ENOENT for an
 * id that c did not start.
 */
int ofsync_wait(struct ofsync_client *c, const char *sync_id, struct ofsync_summary *summary);

/* Cancels a running or queued sync (any client's).  -ENOENT: no such sync. */
int ofsync_cancel(struct ofsync_client *c, const char *sync_id);

/*
 * Follows a sync that a request started (pin, resolve), delivering its
 * progress as ofsync_synchronize does; returns as it.  The client must have
 * subscribed (OFSYNC_REQ_SUBSCRIBE) before that request.
 */
int ofsync_follow(struct ofsync_client *c, const char *sync_id, const struct ofsync_progress *p,
		  struct ofsync_summary *summary);

/*
 * Any other command of the control protocol (docs/protocol.md): status,
 * info, conflicts, resolve, pin, unpin, suspend, unsuspend, online, offline.
 * args_json is a JSON object (NULL: {}); on success *result_json is the
 * reply's result as JSON text (free() it).  A refusal returns the daemon's
 * errno negated, with its message in ofsync_errmsg.
 */
#define OFSYNC_REQ_SUBSCRIBE 0x1 /* subscribe to events first (ofsync_follow, ofsync_events) */
int ofsync_request(struct ofsync_client *c, const char *cmd, const char *args_json, int opts,
		   char **result_json);

/*
 * Makes a path absolute (against the current directory) and lexically
 * normal, as the daemon wants it; UNC names (//, \\\\, smb://) pass
 * unchanged.  0 or -ENAMETOOLONG.
 */
int ofsync_abspath(const char *in, char *out, size_t len);

/*
 * Streams published events: calls fn(arg, name, data_json) for each event
 * (of one sync when sync_id is not NULL) until fn returns non-zero (then
 * returns 0) or the daemon goes away (-ECONNRESET).
 */
int ofsync_events(struct ofsync_client *c, const char *sync_id,
		  int (*fn)(void *arg, const char *event, const char *data_json), void *arg);

#endif

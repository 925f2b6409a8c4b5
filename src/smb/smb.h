/*
 * smb.h - the server side: the only user of libsmbclient.h.
 *
 * libsmbclient 4.17 is not thread safe, even with one context per thread,
 * so every call here runs under one process-wide lock (DESIGN.md section 4).
 * Callers never hold a cache lock while calling in here.  Paths are relative
 * to the mounted share directory: "" for its root, else "/a/b".
 * Functions return 0 (or a count) or a negative errno.
 */
#ifndef OFSYNC_SMB_H
#define OFSYNC_SMB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>

struct smb_conf {
	const char *server;   /* host or address */
	unsigned port;	      /* 0: the default */
	const char *share;    /* share name */
	const char *base;     /* "" or "/dir": the directory mounted */
	const char *user;     /* NULL or "" for guest */
	const char *domain;   /* may be NULL */
	const char *password; /* may be NULL */
	int guest;	      /* log in as guest */
	unsigned timeout;     /* seconds for each server call */
};

enum smb_type { SMB_FILE = 1, SMB_DIR = 2 };

struct smb_stat {
	int type;	  /* enum smb_type */
	int64_t size;	  /* bytes */
	int64_t mtime;	  /* 100 ns since the epoch */
	uint64_t file_id; /* the server's file id */
	uint32_t mode;	  /* permission bits as the server maps them */
};

struct smb;
struct smb_file;

/*
 * How many of libsmbclient's parameter-name lookups were answered from
 * the memo of parm_memo.c, without Samba's scan of its table.
 */
unsigned long smb_parm_memo_hits(void);

/*
 * Creates the client.  It starts offline; smb_probe brings it online.
 * 0 or a negative errno.
 */
int smb_new(const struct smb_conf *conf, struct smb **out);
void smb_free(struct smb *s);

/*
 * Connection state.  While offline every call below fails at once with
 * -EHOSTDOWN, without touching the network (the mount then serves what the
 * cache has).  A call that fails with a connection error (refused, timed
 * out, reset, aborted, unreachable) puts the client offline, with the
 * error as the reason.  Forced offline holds until smb_force(s, 0).
 */
#define SMB_OFFLINE_ERRNO EHOSTDOWN

/* True for errors that mean the server cannot be reached (offline included). */
int smb_is_conn_error(int err);

struct smb_state {
	int online;	  /* calls go to the server */
	int forced;	  /* offline because the user said so */
	int64_t since;	  /* wall ns of the last change of state */
	char reason[256]; /* why offline; "" when online */
};
/* Reads the state; never waits for a call in progress. */
void smb_get_state(struct smb *s, struct smb_state *st);
/* Forces offline (forced = 1) or lifts it (0; still offline until a probe). */
void smb_force(struct smb *s, int forced);
/*
 * Tries the server with a fresh connection (a stat of the share's root)
 * unless forced offline.  Online on success.  Returns 0 when online, else a
 * negative errno (-EHOSTDOWN when forced).
 */
int smb_probe(struct smb *s);

int smb_stat(struct smb *s, const char *path, struct smb_stat *st);
/*
 * Lists a directory with one round trip per batch (readdirplus2): fn gets
 * each entry but "." and "..", with name and attributes borrowed for the
 * call.  fn returns 0 to go on.  Returns 0, fn's non-zero value, or -errno.
 */
int smb_list(struct smb *s, const char *path,
	     int (*fn)(void *arg, const char *name, const struct smb_stat *st), void *arg);

/*
 * Like smb_list, names only: fn(arg, name) for each entry but . and ..
 * (smbc_readdir; smb_list's smbc_readdirplus2 builds a stat per entry).
 * Returns 0, fn's non-zero value, or a negative errno.
 */
int smb_list_names(struct smb *s, const char *path, int (*fn)(void *arg, const char *name),
		   void *arg);

int smb_open(struct smb *s, const char *path, int flags, mode_t mode, struct smb_file **out);
/* Reads up to len bytes at off; short only at end of file.  Count or -errno. */
ssize_t smb_pread(struct smb *s, struct smb_file *f, void *buf, size_t len, int64_t off);
/* Writes all of buf at off.  0 or -errno. */
int smb_pwrite(struct smb *s, struct smb_file *f, const void *buf, size_t len, int64_t off);
/*
 * Stats an open file (one round trip).  f must have been opened with read
 * access (O_RDONLY or O_RDWR): a write-only handle may not read attributes.
 */
int smb_fstat(struct smb *s, struct smb_file *f, struct smb_stat *st);
/*
 * Copies the first len bytes of src into dst, on the server where it can
 * (SMB2 server-side copy: the bytes do not cross the wire).  0 or -errno.
 */
int smb_copy(struct smb *s, struct smb_file *src, struct smb_file *dst, int64_t len);
int smb_ftruncate(struct smb *s, struct smb_file *f, int64_t size);
/* Closes and frees f (also on error).  0 or -errno. */
int smb_close(struct smb *s, struct smb_file *f);

/*
 * What the server does to the mtime of a file written through a handle
 * whose size was set last (smb_ftruncate) when that handle is closed, as
 * the first upload of a connection learns it (sync/push.c):
 * SMB_DATING_KEEPS, the time the handle shows is the time the file keeps
 * (Samba: setting the size dates the file and closes the handle's pending
 * update of its time), or SMB_DATING_REDATES, the close dates it again.
 * SMB_DATING_UNKNOWN until learnt; every new connection (smb_probe) forgets
 * it, the server may be another one.
 */
enum smb_dating { SMB_DATING_UNKNOWN, SMB_DATING_KEEPS, SMB_DATING_REDATES };
int smb_dating(struct smb *s);
void smb_set_dating(struct smb *s, int dating);

int smb_rename(struct smb *s, const char *from, const char *to);
int smb_unlink(struct smb *s, const char *path);
int smb_mkdir(struct smb *s, const char *path, mode_t mode);
int smb_rmdir(struct smb *s, const char *path);
/* Sets the times (ns since the epoch). */
int smb_utimes(struct smb *s, const char *path, int64_t atime_ns, int64_t mtime_ns);
/* Maps mode onto what the server keeps (the read-only attribute on Samba). */
int smb_chmod(struct smb *s, const char *path, mode_t mode);
int smb_statvfs(struct smb *s, struct statvfs *out);

/* What smb_watch reports. */
enum smb_change {
	SMB_CHANGE_WATCHING = 1, /* the watch is in place (path NULL) */
	SMB_CHANGE_ADDED,
	SMB_CHANGE_REMOVED,
	SMB_CHANGE_MODIFIED, /* size, times or attributes */
	SMB_CHANGE_OLD_NAME, /* a rename: the name it had */
	SMB_CHANGE_NEW_NAME, /* a rename: the name it has */
};
/*
 * Watches the mounted directory and everything under it (SMB2 CHANGE_NOTIFY
 * with WATCH_TREE) until fn returns non-zero or the connection fails.  fn
 * gets SMB_CHANGE_WATCHING once the watch is in place, then each change
 * with its path ("/a/b"), and (0, NULL) every tick_ms while nothing
 * happens.  The call holds the process-wide lock throughout, so it is for
 * a process that does nothing else (the watch helper, see watch.h).
 * Returns fn's non-zero value or a negative errno.
 */
int smb_watch(struct smb *s, unsigned tick_ms, int (*fn)(void *arg, int change, const char *path),
	      void *arg);

#endif

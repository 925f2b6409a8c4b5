/*
 * fs.h - the mount: FUSE low-level operations over the cache (the only user
 * of fuse_lowlevel.h, with notify.c).
 *
 * Inode numbers are index row ids, except that the share root is inode 1
 * (FUSE_ROOT_ID) to the kernel.
 */
#ifndef OFSYNC_FS_H
#define OFSYNC_FS_H

#include <signal.h>
#include <stdint.h>

#include "cache/cache.h"
#include "smb/smb.h"

struct fs_conf {
	struct cache *cache;   /* borrowed */
	struct smb *smb;       /* borrowed */
	uint64_t share;	       /* shares.id */
	uint64_t root;	       /* row id of the share root */
	double attr_timeout;   /* seconds the kernel and we trust attributes and names */
	double watch_timeout;  /* the same while the server's change watch is up; 0: as above */
	const char *cache_dir; /* for statfs while offline */
	const char *fsname;    /* shown in /proc/mounts */
	const char *fuse_opts; /* pass-through options, comma-joined, may be "" */
	int debug;	       /* FUSE debug output */
};

struct fs;

/* Creates the FUSE session and mounts it.  0 or a negative errno (logged). */
int fs_mount(const struct fs_conf *conf, const char *mountpoint, struct fs **out);
/* Goes to the background unless foreground is set.  0 or -errno. */
int fs_daemonize(int foreground);
/*
 * Starts the helper threads (after daemonizing) and serves requests until
 * unmounted or stopped; the caller's thread must have FS_WAKE_SIGNAL
 * unblocked, with a handler installed without SA_RESTART.  Returns 0 or a
 * negative errno.
 */
int fs_run(struct fs *fs);
#define FS_WAKE_SIGNAL SIGUSR2
/* Asks fs_run to return (from any thread; not from a signal handler). */
void fs_stop(struct fs *fs);
/*
 * When mountpoint is a stale mount (a FUSE daemon that died: ENOTCONN),
 * detaches it (umount2 MNT_DETACH as root, else fusermount3 -u -z).
 * Returns 1 when it did, 0 when there was nothing to do, or -errno.
 */
int fs_clear_stale(const char *mountpoint);
/*
 * The server's change watch (watch.h) came up (1) or went down (0).  While
 * it is up, names and attributes are trusted for watch_timeout, and only
 * when checked since it came up.
 */
void fs_set_watching(struct fs *fs, int watching);
/* Is the watch up? */
int fs_watching(struct fs *fs);
/*
 * A change the server reported at path ("/a/b", enum smb_change): the
 * item is checked again the next time the kernel asks for it, and a name
 * that came or went makes its directory listed again and the kernel forget
 * the name.  From the watch thread.
 */
void fs_remote_change(struct fs *fs, int change, const char *path);
/* Unmounts and frees. */
void fs_free(struct fs *fs);

#endif

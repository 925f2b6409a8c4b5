/*
 * notify.h - the kernel invalidation thread.  FUSE handlers and the sync
 * code queue invalidations here; one thread sends them, so that no
 * notification is ever sent from inside a FUSE handler (which can deadlock).
 */
#ifndef OFSYNC_NOTIFY_H
#define OFSYNC_NOTIFY_H

#include <stdint.h>

struct fuse_session;
struct notify;

int notify_start(struct fuse_session *se, struct notify **out);
/* Queues: drop the kernel's cached data and attributes of ino. */
void notify_inode(struct notify *nt, uint64_t ino);
/* Queues: drop the kernel's cached attributes of ino (its pages stay). */
void notify_attr(struct notify *nt, uint64_t ino);
/* Queues: drop the kernel's cached name parent/name. */
void notify_entry(struct notify *nt, uint64_t parent, const char *name);
/* Sends what is queued, stops the thread and frees. */
void notify_stop(struct notify *nt);

#endif

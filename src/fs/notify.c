/* notify.c - see notify.h. */
#define FUSE_USE_VERSION 35
#include "fs/notify.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct note {
	struct note *next;
	uint64_t ino; /* the inode, or the parent for an entry */
	char *name;   /* NULL for an inode invalidation */
	int attr;     /* an inode's attributes only */
};

struct notify {
	struct fuse_session *se; /* constant */
	pthread_t thread;
	pthread_mutex_t lock; /* protects head, tail, stopping */
	pthread_cond_t cond;
	struct note *head, *tail;
	int stopping;
};

static void *notify_main(void *arg)
{
	struct notify *nt = arg;
	struct note *n;

	pthread_mutex_lock(&nt->lock);
	for (;;) {
		while (!nt->head && !nt->stopping)
			pthread_cond_wait(&nt->cond, &nt->lock);
		n = nt->head;
		if (!n)
			break; /* stopping and drained */
		nt->head = n->next;
		if (!nt->head)
			nt->tail = NULL;
		pthread_mutex_unlock(&nt->lock);
		int rc = n->name ? fuse_lowlevel_notify_inval_entry(nt->se, n->ino, n->name,
								    strlen(n->name)) :
				   fuse_lowlevel_notify_inval_inode(nt->se, n->ino,
								    n->attr ? -1 : 0, 0);
		if (rc < 0 && rc != -ENOENT)
			log_debug("invalidation of %llu failed: %s", (unsigned long long)n->ino,
				  strerror(-rc));
		free(n->name);
		free(n);
		pthread_mutex_lock(&nt->lock);
	}
	pthread_mutex_unlock(&nt->lock);
	return NULL;
}

int notify_start(struct fuse_session *se, struct notify **out)
{
	struct notify *nt;
	sigset_t all, old;
	int rc;

	nt = calloc(1, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	nt->se = se;
	pthread_mutex_init(&nt->lock, NULL);
	pthread_cond_init(&nt->cond, NULL);
	/* Helper threads block the termination signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&nt->thread, NULL, notify_main, nt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		free(nt);
		return rc;
	}
	*out = nt;
	return 0;
}

static void push(struct notify *nt, uint64_t ino, const char *name, int attr)
{
	struct note *n = calloc(1, sizeof(*n));

	if (!n)
		return;
	n->ino = ino;
	n->attr = attr;
	if (name && !(n->name = strdup(name))) {
		free(n);
		return;
	}
	pthread_mutex_lock(&nt->lock);
	if (nt->tail)
		nt->tail->next = n;
	else
		nt->head = n;
	nt->tail = n;
	pthread_cond_signal(&nt->cond);
	pthread_mutex_unlock(&nt->lock);
}

void notify_inode(struct notify *nt, uint64_t ino)
{
	push(nt, ino, NULL, 0);
}

void notify_attr(struct notify *nt, uint64_t ino)
{
	push(nt, ino, NULL, 1);
}

void notify_entry(struct notify *nt, uint64_t parent, const char *name)
{
	push(nt, parent, name, 0);
}

void notify_stop(struct notify *nt)
{
	if (!nt)
		return;
	pthread_mutex_lock(&nt->lock);
	nt->stopping = 1;
	pthread_cond_signal(&nt->cond);
	pthread_mutex_unlock(&nt->lock);
	pthread_join(nt->thread, NULL);
	pthread_cond_destroy(&nt->cond);
	pthread_mutex_destroy(&nt->lock);
	free(nt);
}

/*
 * watch.c - the change-notification helper and the thread that runs it;
 * see watch.h.
 *
 * The helper's input is the fields below, each ended by a NUL byte, in this
 * order: server, port, share, base, user, domain, password, guest (0 or 1),
 * timeout, log level.  Its output is one record per event: a character
 * ('0' + enum smb_change) and the path, ended by a NUL byte (SMB names may
 * hold almost any character, never NUL).  The helper ends when the watch
 * fails, when its output is closed, or when the daemon that started it is
 * gone (checked every TICK_MS).
 */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"
#include "util/util.h"

#define TICK_MS 1000
#define BACKOFF_MAX_MS 60000
#define STEADY_NS (30 * (int64_t)1000000000) /* a watch that lasted this long was fine */
#define NFIELDS 10

extern char **environ;

struct watch {
	struct watch_conf conf; /* constant */
	pthread_t thread;
	int wake[2];	      /* a byte on wake[1] stops the thread */
	pthread_mutex_t lock; /* protects pid */
	pid_t pid;	      /* the helper, 0 when none runs */
	char buf[65536];      /* the helper's output not yet parsed; the thread's own */
};

/* ---- the daemon's side ------------------------------------------------- */

/* Waits up to ms for the stop byte.  1 when stopping, else 0. */
static int wait_stop(struct watch *w, int ms)
{
	struct pollfd p = {.fd = w->wake[0], .events = POLLIN};

	return poll(&p, 1, ms) > 0;
}

static int put_field(char *buf, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s ? s : "") + 1;

	if (*o + n > len)
		return -E2BIG;
	memcpy(buf + *o, s ? s : "", n);
	*o += n;
	return 0;
}

/* The helper's input (see the top of the file) into buf.  Its length or -E2BIG. */
static ssize_t helper_input(const struct smb_conf *sc, char *buf, size_t len)
{
	char port[16], guest[4], timeout[16], level[4];
	const char *f[NFIELDS];
	size_t o = 0;

	snprintf(port, sizeof(port), "%u", sc->port);
	snprintf(guest, sizeof(guest), "%d", sc->guest ? 1 : 0);
	snprintf(timeout, sizeof(timeout), "%u", sc->timeout);
	snprintf(level, sizeof(level), "%d", (int)log_get_level());
	f[0] = sc->server;
	f[1] = port;
	f[2] = sc->share;
	f[3] = sc->base;
	f[4] = sc->user;
	f[5] = sc->domain;
	f[6] = sc->password;
	f[7] = guest;
	f[8] = timeout;
	f[9] = level;
	for (int i = 0; i < NFIELDS; i++)
		if (put_field(buf, len, &o, f[i]) < 0)
			return -E2BIG;
	return (ssize_t)o;
}

/*
 * Starts the helper with its input written; *rfd gets its output.
 * 0 or a negative errno.
 */
static int spawn_helper(struct watch *w, pid_t *pid, int *rfd)
{
	char *argv[] = {"ofsyncd", "--watch-helper", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char buf[16384];
	int in[2], out[2], rc;
	ssize_t len;

	len = helper_input(&w->conf.smb, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(out, O_CLOEXEC) < 0) {
		rc = -errno;
		goto err_in;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = -posix_spawn(pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc < 0) {
		close(out[0]);
		close(in[1]);
		explicit_bzero(buf, sizeof(buf));
		return rc;
	}
	/* A few hundred bytes: the pipe takes them whole.  A dead helper shows as EOF. */
	if (write_all(in[1], buf, (size_t)len) < 0)
		log_debug("watch helper %d did not take its input", (int)*pid);
	explicit_bzero(buf, sizeof(buf));
	close(in[1]);
	*rfd = out[0];
	return 0;

err_in:
	close(in[0]);
	close(in[1]);
	return rc;
}

/*
 * Reads the helper's records until its output ends or the thread is told
 * to stop.  1 when stopping, else 0.
 */
static int read_helper(struct watch *w, int fd)
{
	char *buf = w->buf;
	size_t have = 0;

	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = w->wake[0], .events = POLLIN}};
		ssize_t n;
		size_t o = 0;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (p[1].revents)
			return 1;
		n = read(fd, buf + have, sizeof(w->buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		have += (size_t)n;
		for (;;) {
			char *end = memchr(buf + o, '\0', have - o);
			int change;
			if (!end)
				break;
			change = buf[o] - '0';
			if (change == SMB_CHANGE_WATCHING)
				w->conf.state(w->conf.arg, 1);
			else if (change > SMB_CHANGE_WATCHING && change <= SMB_CHANGE_NEW_NAME)
				w->conf.changed(w->conf.arg, change, buf + o + 1);
			o = (size_t)(end - buf) + 1;
		}
		memmove(buf, buf + o, have - o);
		have -= o;
		if (have == sizeof(w->buf))
			have = 0; /* a record longer than any path: drop it */
	}
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	int backoff = 1000;

	for (;;) {
		struct smb_state st;
		int64_t t0;
		pid_t pid;
		int fd, status = 0, stop;

		smb_get_state(w->conf.client, &st);
		if (!st.online || st.forced) {
			if (wait_stop(w, TICK_MS))
				break;
			continue;
		}
		if (spawn_helper(w, &pid, &fd) < 0) {
			log_warn("cannot start the change watch of %s", w->conf.smb.share);
			if (wait_stop(w, BACKOFF_MAX_MS))
				break;
			continue;
		}
		pthread_mutex_lock(&w->lock);
		w->pid = pid;
		pthread_mutex_unlock(&w->lock);
		t0 = mono_ns();
		stop = read_helper(w, fd);
		w->conf.state(w->conf.arg, 0);
		if (stop)
			kill(pid, SIGTERM);
		close(fd);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&w->lock);
		w->pid = 0;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		log_debug("the change watch of %s ended (status %d)", w->conf.smb.share, status);
		/* A watch that keeps failing at once (no notify support) backs off. */
		if (mono_ns() - t0 >= STEADY_NS)
			backoff = 1000;
		if (wait_stop(w, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

int watch_start(const struct watch_conf *wc, struct watch **out)
{
	struct watch *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	if (!w)
		return -ENOMEM;
	w->conf = *wc;
	if (pipe2(w->wake, O_CLOEXEC) < 0) {
		rc = -errno;
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->lock, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&w->thread, NULL, watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0) {
		close(w->wake[0]);
		close(w->wake[1]);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void watch_stop(struct watch *w)
{
	char b = 1;

	if (!w)
		return;
	if (write(w->wake[1], &b, 1) < 0)
		log_debug("cannot wake the watch thread: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	close(w->wake[0]);
	close(w->wake[1]);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* ---- the helper -------------------------------------------------------- */

struct helper {
	pid_t parent; /* the daemon; the helper ends when it is gone */
};

static int helper_event(void *arg, int change, const char *path)
{
	struct helper *h = arg;
	char rec[8192];
	size_t n;

	if (change == 0)
		return getppid() != h->parent; /* a tick */
	rec[0] = (char)('0' + change);
	n = 1;
	if (path) {
		size_t len = strlen(path);
		if (len + 2 > sizeof(rec))
			return 0; /* longer than any path we could show */
		memcpy(rec + 1, path, len);
		n += len;
	}
	rec[n++] = '\0';
	return write_all(1, rec, n) < 0 ? 1 : 0;
}

int watch_helper_main(void)
{
	static char in[16384];
	const char *f[NFIELDS];
	struct helper h = {.parent = getppid()};
	struct smb_conf sc;
	struct smb *s;
	size_t have = 0, o = 0;
	enum log_level lvl;
	ssize_t n;
	int rc;

	while ((n = read(0, in + have, sizeof(in) - 1 - have)) > 0)
		have += (size_t)n;
	in[have] = '\0';
	for (int i = 0; i < NFIELDS; i++) {
		if (o >= have) {
			fprintf(stderr,
				"ofsyncd --watch-helper: is started by ofsyncd, not by hand\n");
			return 2;
		}
		f[i] = in + o;
		o += strlen(in + o) + 1;
	}
	/* The daemon reports online and offline itself: the helper only errors. */
	lvl = (enum log_level)atoi(f[9]);
	log_set_level(lvl >= LOG_LVL_DEBUG ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	sc = (struct smb_conf){.server = f[0],
			       .port = (unsigned)atoi(f[1]),
			       .share = f[2],
			       .base = f[3],
			       .user = *f[4] ? f[4] : NULL,
			       .domain = *f[5] ? f[5] : NULL,
			       .password = f[6],
			       .guest = atoi(f[7]),
			       .timeout = (unsigned)atoi(f[8])};
	rc = smb_new(&sc, &s);
	explicit_bzero(in, sizeof(in));
	if (rc < 0)
		return 1;
	rc = smb_probe(s);
	if (rc == 0)
		rc = smb_watch(s, TICK_MS, helper_event, &h);
	if (rc < 0)
		log_debug("the change watch of //%s/%s ended: %s", sc.server, sc.share,
			  strerror(-rc));
	smb_free(s);
	return rc < 0 ? 1 : 0;
}

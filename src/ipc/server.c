/*
 * server.c - see server.h.
 *
 * One thread, one poll loop: the listening socket, a pipe that wakes the
 * loop to stop, and up to MAX_CLIENTS connections, each with its own input
 * and output buffers (nothing the thread sends ever blocks it).  Handlers run on this thread and
 * must not block for long.
 */
#include "ipc/server.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/proto.h"
#include "util/log.h"
#include "util/util.h"

#define MAX_CLIENTS 64
#define OUT_MAX (16 << 20) /* a client further behind than this is dropped */

struct client {
	int fd;	     /* -1 when the slot is free */
	uint64_t id; /* unique for the server's life; 0 when free */
	int events;  /* subscribed to events */
	char *buf;   /* bytes received, not yet a whole line */
	size_t len;
	size_t cap;
	char *out; /* bytes to send: out[ooff..olen) */
	size_t olen, ooff, ocap;
	int dead; /* close it at the next turn of the loop */
};

struct evline {
	struct evline *next;
	uint64_t target; /* the one client it goes to, or 0: every subscriber */
	char *line;
};

struct ipc_server {
	char *path;		/* constant */
	int lfd;		/* listening socket */
	int wake[2];		/* pipe: a byte on wake[1] stops the loop */
	int evpipe[2];		/* pipe: a byte on evpipe[1] says events are queued */
	pthread_mutex_t evlock; /* protects evq */
	struct evline *evq;	/* events to send, oldest first */
	struct evline **evtail; /* where the next event goes */
	ipc_handler_fn fn;	/* constant */
	ipc_close_fn on_close;	/* constant, may be NULL */
	void *arg;
	uint64_t next_id; /* the id of the next client (server thread) */
	pthread_t thread;
	int started;		       /* the thread runs */
	struct client cl[MAX_CLIENTS]; /* owned by the thread */
};

static void client_close(struct ipc_server *srv, struct client *c)
{
	uint64_t id = c->id;

	close(c->fd);
	free(c->buf);
	free(c->out);
	*c = (struct client){.fd = -1};
	if (srv->on_close)
		srv->on_close(srv->arg, id);
}

/* Sends what is queued for c without blocking; marks it dead on an error. */
static void flush_out(struct client *c)
{
	while (c->ooff < c->olen) {
		ssize_t n = send(c->fd, c->out + c->ooff, c->olen - c->ooff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->dead = 1;
			return;
		}
		c->ooff += (size_t)n;
	}
	c->ooff = c->olen = 0;
}

/* Queues len bytes for c and sends what the socket takes now. */
static void queue_out(struct client *c, const char *line, size_t len)
{
	if (c->dead)
		return;
	if (c->ooff > 0 && c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (c->olen - c->ooff + len > OUT_MAX) {
		log_warn("control socket: a client fell %d MiB behind; dropped", OUT_MAX >> 20);
		c->dead = 1;
		return;
	}
	if (c->olen + len > c->ocap) {
		if (c->ooff > 0) {
			memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
			c->olen -= c->ooff;
			c->ooff = 0;
		}
		size_t cap = c->ocap ? c->ocap : 4096;
		while (cap < c->olen + len)
			cap *= 2;
		char *nb = realloc(c->out, cap);
		if (!nb) {
			c->dead = 1;
			return;
		}
		c->out = nb;
		c->ocap = cap;
	}
	memcpy(c->out + c->olen, line, len);
	c->olen += len;
	flush_out(c);
}

/* Queues a line (malloc'd, freed here; NULL is ignored) for c. */
static void send_line(struct client *c, char *line)
{
	if (!line)
		return;
	queue_out(c, line, strlen(line));
	free(line);
}

static void handle_line(struct ipc_server *srv, struct client *c, const char *line, size_t len)
{
	struct proto_request req;
	char msg[512] = "";
	json_t *result = NULL;
	int rc;

	rc = proto_request_decode(line, len, &req, msg, sizeof(msg));
	if (rc < 0) {
		send_line(c, proto_reply_error(req.id, -rc, msg));
		return;
	}
	if (!strcmp(req.cmd, "events")) {
		c->events = 1;
		result = json_pack("{s:b}", "subscribed", 1);
		rc = 0;
	} else {
		rc = srv->fn(srv->arg, c->id, req.cmd, req.args, &result, msg, sizeof(msg));
	}
	if (rc < 0)
		send_line(c, proto_reply_error(req.id, -rc, msg[0] ? msg : strerror(-rc)));
	else
		send_line(c, proto_reply_ok(req.id, result));
	json_decref(result);
	proto_request_release(&req);
}

/* Reads what the client sent; returns -1 when it should be closed. */
static int client_read(struct ipc_server *srv, struct client *c)
{
	ssize_t n;
	char *nl;

	if (c->len == c->cap) {
		/* A line may be PROTO_LINE_MAX bytes plus its '\n'. */
		size_t cap = c->cap ? c->cap * 2 : 4096;
		if (cap > PROTO_LINE_MAX + 1)
			cap = PROTO_LINE_MAX + 1;
		if (cap == c->cap) {
			send_line(c, proto_reply_error(-1, EMSGSIZE, "request line too long"));
			return -1;
		}
		char *nb = realloc(c->buf, cap);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t ll = (size_t)(nl - c->buf);
		handle_line(srv, c, c->buf, ll);
		memmove(c->buf, nl + 1, c->len - ll - 1);
		c->len -= ll + 1;
	}
	return 0;
}

static void accept_client(struct ipc_server *srv)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		log_warn("control socket: refused a peer with uid %u", (unsigned)cred.uid);
		close(fd);
		return;
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (srv->cl[i].fd < 0) {
			srv->cl[i].fd = fd;
			srv->cl[i].id = ++srv->next_id;
			return;
		}
	}
	char *line = proto_reply_error(-1, EBUSY, "too many connections");
	if (line && send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("control socket: too many connections");
	free(line);
	close(fd);
}

/* Sends the queued events to the subscribers (on the server thread). */
static void send_events(struct ipc_server *srv)
{
	struct evline *q, *next;
	char drain[64];

	while (read(srv->evpipe[0], drain, sizeof(drain)) == sizeof(drain))
		;
	pthread_mutex_lock(&srv->evlock);
	q = srv->evq;
	srv->evq = NULL;
	srv->evtail = &srv->evq;
	pthread_mutex_unlock(&srv->evlock);
	for (; q; q = next) {
		next = q->next;
		size_t len = strlen(q->line);
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &srv->cl[i];
			if (c->fd < 0 || (q->target ? c->id != q->target : !c->events))
				continue;
			queue_out(c, q->line, len);
		}
		free(q->line);
		free(q);
	}
}

void ipc_server_send(struct ipc_server *srv, uint64_t client, const char *event, json_t *data)
{
	struct evline *e;
	int wake;

	if (!srv)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->target = client;
	e->line = proto_event_encode(event, data);
	if (!e->line) {
		free(e);
		return;
	}
	pthread_mutex_lock(&srv->evlock);
	wake = srv->evq == NULL; /* one byte per batch: the thread takes the whole queue */
	*srv->evtail = e;
	srv->evtail = &e->next;
	pthread_mutex_unlock(&srv->evlock);
	if (wake && write(srv->evpipe[1], "e", 1) < 0 && errno != EAGAIN)
		log_warn("control socket: cannot queue an event");
}

void ipc_server_publish(struct ipc_server *srv, const char *event, json_t *data)
{
	ipc_server_send(srv, 0, event, data);
}

static void *server_main(void *arg)
{
	struct ipc_server *srv = arg;
	struct pollfd pfd[MAX_CLIENTS + 3];
	int map[MAX_CLIENTS + 3];

	for (;;) {
		int n = 0;
		pfd[n++] = (struct pollfd){.fd = srv->wake[0], .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = srv->lfd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = srv->evpipe[0], .events = POLLIN};
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &srv->cl[i];
			if (c->fd >= 0 && c->dead)
				client_close(srv, c);
			if (c->fd >= 0) {
				map[n] = i;
				pfd[n++] = (struct pollfd){
					.fd = c->fd,
					.events = POLLIN | (c->olen > c->ooff ? POLLOUT : 0)};
			}
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("control socket: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[2].revents & POLLIN)
			send_events(srv);
		if (pfd[1].revents & POLLIN)
			accept_client(srv);
		for (int k = 3; k < n; k++) {
			struct client *c = &srv->cl[map[k]];
			if (pfd[k].revents & POLLOUT)
				flush_out(c);
			if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    client_read(srv, c) < 0)
				c->dead = 1;
		}
	}
	return NULL;
}

/* Is a daemon answering on path? */
static int socket_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, alive;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	alive = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return alive;
}

int ipc_server_new(const char *path, ipc_handler_fn fn, ipc_close_fn on_close, void *arg,
		   struct ipc_server **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ipc_server *srv;
	char dir[PATH_MAX];
	mode_t um;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	rc = mkdir_p(dirname(dir), 0700);
	if (rc < 0) {
		log_err("cannot create the socket's directory for %s: %s", path, strerror(-rc));
		return rc;
	}
	if (socket_alive(path)) {
		log_err("another ofsyncd answers on %s", path);
		return -EADDRINUSE;
	}
	unlink(path);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	for (int i = 0; i < MAX_CLIENTS; i++)
		srv->cl[i].fd = -1;
	srv->fn = fn;
	srv->on_close = on_close;
	srv->arg = arg;
	srv->wake[0] = srv->wake[1] = -1;
	srv->evpipe[0] = srv->evpipe[1] = -1;
	pthread_mutex_init(&srv->evlock, NULL);
	srv->evtail = &srv->evq;
	srv->path = strdup(path);
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!srv->path || srv->lfd < 0 || pipe2(srv->wake, O_CLOEXEC) < 0 ||
	    pipe2(srv->evpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		goto err_free;
	}
	strcpy(sa.sun_path, path);
	um = umask(0177); /* the socket is born 0600 */
	rc = bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(um);
	if (rc == 0 && chmod(path, 0600) < 0)
		rc = -errno;
	if (rc == 0 && listen(srv->lfd, 16) < 0)
		rc = -errno;
	if (rc < 0) {
		log_err("cannot listen on %s: %s", path, strerror(-rc));
		goto err_free;
	}
	*out = srv;
	return 0;

err_free:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->wake[0] >= 0) {
		close(srv->wake[0]);
		close(srv->wake[1]);
	}
	if (srv->evpipe[0] >= 0) {
		close(srv->evpipe[0]);
		close(srv->evpipe[1]);
	}
	pthread_mutex_destroy(&srv->evlock);
	free(srv->path);
	free(srv);
	return rc ? rc : -EIO;
}

int ipc_server_start(struct ipc_server *srv)
{
	sigset_t all, old;
	int rc;

	/* Helper threads block the termination signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&srv->thread, NULL, server_main, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		srv->started = 1;
	return rc;
}

void ipc_server_halt(struct ipc_server *srv)
{
	if (!srv || !srv->started)
		return;
	if (write(srv->wake[1], "x", 1) < 0)
		log_warn("control socket: cannot wake the thread");
	pthread_join(srv->thread, NULL);
	srv->started = 0;
}

void ipc_server_stop(struct ipc_server *srv)
{
	if (!srv)
		return;
	ipc_server_halt(srv);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (srv->cl[i].fd >= 0)
			client_close(srv, &srv->cl[i]);
	close(srv->lfd);
	close(srv->wake[0]);
	close(srv->wake[1]);
	close(srv->evpipe[0]);
	close(srv->evpipe[1]);
	while (srv->evq) {
		struct evline *e = srv->evq;
		srv->evq = e->next;
		free(e->line);
		free(e);
	}
	pthread_mutex_destroy(&srv->evlock);
	unlink(srv->path);
	free(srv->path);
	free(srv);
}

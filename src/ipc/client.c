/* client.c - see client.h. */
#include "ipc/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"

struct ipc_conn {
	int fd;
	int64_t next_id; /* id of the next request */
	char *buf;	 /* bytes received and not yet returned */
	size_t len;
	size_t cap;
};

int ipc_open(const char *path, struct ipc_conn **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ipc_conn *c;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->next_id = 1;
	*out = c;
	return 0;
}

void ipc_close(struct ipc_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ipc_read(struct ipc_conn *c, int timeout_ms, struct proto_reply *rep, char *err, size_t errlen)
{
	int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;

	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t ll = (size_t)(nl - c->buf);
			int rc = proto_reply_decode(c->buf, ll, rep, err, errlen);
			memmove(c->buf, nl + 1, c->len - ll - 1);
			c->len -= ll + 1;
			return rc;
		}
		int wait = -1;
		if (timeout_ms >= 0) {
			int64_t left = (deadline - mono_ns()) / 1000000;
			if (left <= 0) {
				snprintf(err, errlen, "the daemon did not answer in %d ms",
					 timeout_ms);
				return -ETIMEDOUT;
			}
			wait = (int)left;
		}
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int rc = poll(&pfd, 1, wait);
		if (rc <= 0) {
			if (rc < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (c->len == c->cap) {
			/* A line may be PROTO_LINE_MAX bytes plus its '\n'. */
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			if (ncap > PROTO_LINE_MAX + 1)
				ncap = PROTO_LINE_MAX + 1;
			if (ncap == c->cap) {
				snprintf(err, errlen, "line longer than %d bytes", PROTO_LINE_MAX);
				return -EPROTO;
			}
			char *nb = realloc(c->buf, ncap);
			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->cap = ncap;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "the daemon closed the connection");
			return -ECONNRESET;
		}
		c->len += (size_t)n;
	}
}

int ipc_send(struct ipc_conn *c, const char *cmd, json_t *args, int64_t *id, char *err,
	     size_t errlen)
{
	char *line;
	int rc;

	*id = c->next_id++;
	line = proto_request_encode(*id, cmd, args);
	if (!line)
		return -ENOMEM;
	rc = send_all(c->fd, line, strlen(line));
	free(line);
	if (rc < 0)
		snprintf(err, errlen, "cannot send to the daemon: %s", strerror(-rc));
	return rc;
}

int ipc_call(struct ipc_conn *c, const char *cmd, json_t *args, int timeout_ms,
	     struct proto_reply *rep, char *err, size_t errlen)
{
	int64_t id;
	int rc;

	rc = ipc_send(c, cmd, args, &id, err, errlen);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = ipc_read(c, timeout_ms, rep, err, errlen);
		if (rc < 0)
			return rc;
		/* An error with id -1 answers a request the daemon could not read: ours. */
		if (!rep->event[0] && (rep->id == id || (rep->id == -1 && !rep->ok)))
			return 0;
		proto_reply_release(rep); /* an event, or not ours */
	}
}

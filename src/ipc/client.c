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

int ipc_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
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

int ipc_call(int fd, const char *cmd, json_t *args, int timeout_ms, struct proto_reply *rep,
	     char *err, size_t errlen)
{
	static int64_t next_id = 1;
	int64_t id = next_id++;
	int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;
	size_t len = 0, cap = 4096;
	char *line, *buf;
	int rc;

	line = proto_request_encode(id, cmd, args);
	if (!line)
		return -ENOMEM;
	rc = send_all(fd, line, strlen(line));
	free(line);
	if (rc < 0) {
		snprintf(err, errlen, "cannot send to the daemon: %s", strerror(-rc));
		return rc;
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		char *nl = memchr(buf, '\n', len);
		if (nl) {
			size_t ll = (size_t)(nl - buf);
			rc = proto_reply_decode(buf, ll, rep, err, errlen);
			memmove(buf, nl + 1, len - ll - 1);
			len -= ll + 1;
			if (rc < 0)
				break;
			/* An error with id -1 answers a request the daemon could not read: ours. */
			if (rep->event[0] || (rep->id != id && !(rep->id == -1 && !rep->ok))) {
				proto_reply_release(rep); /* an event, or not ours */
				continue;
			}
			break;
		}
		int64_t left = (deadline - mono_ns()) / 1000000;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0) {
			snprintf(err, errlen, "the daemon did not answer in %d ms", timeout_ms);
			rc = -ETIMEDOUT;
			break;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		if (len == cap) {
			/* A line may be PROTO_LINE_MAX bytes plus its '\n'. */
			size_t ncap = cap * 2 > PROTO_LINE_MAX + 1 ? PROTO_LINE_MAX + 1 : cap * 2;
			if (ncap == cap) {
				snprintf(err, errlen, "reply longer than %d bytes", PROTO_LINE_MAX);
				rc = -EPROTO;
				break;
			}
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "the daemon closed the connection");
			rc = -ECONNRESET;
			break;
		}
		len += (size_t)n;
	}
	free(buf);
	return rc;
}

/* store.c - see store.h. */
#include "cache/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void store_path(const char *dir, uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/data/%02x/%llu", dir, (unsigned)(id & 0xff), (unsigned long long)id);
}

int store_open(const char *dir, uint64_t id)
{
	char path[4096], sub[4096];
	int fd;

	store_path(dir, id, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		snprintf(sub, sizeof(sub), "%s/data/%02x", dir, (unsigned)(id & 0xff));
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	return fd < 0 ? -errno : fd;
}

int store_unlink(const char *dir, uint64_t id)
{
	char path[4096];

	store_path(dir, id, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int store_punch(int fd, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
		return errno == EOPNOTSUPP ? 0 : -errno;
	return 0;
}

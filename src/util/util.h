/* util.h - small helpers shared by the daemon and the CLI. */
#ifndef OFSYNC_UTIL_H
#define OFSYNC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Writes a one-line reason into err (when err is not NULL and errlen not 0)
 * and returns rc: for functions that fail with a code and a message.
 */
int errfmt(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* mkdir -p with the given mode for every directory it creates. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/* pwrite/pread the whole buffer, retrying on EINTR and short counts. 0 or -errno. */
int pwrite_all(int fd, const void *buf, size_t len, off_t off);
ssize_t pread_full(int fd, void *buf, size_t len, off_t off);
/* write the whole buffer (a pipe or socket), retrying on EINTR and short counts. 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
/* Wall clock in nanoseconds since the epoch. */
int64_t now_ns(void);
/* Monotonic clock in nanoseconds. */
int64_t mono_ns(void);
/* Formats n bytes as "12.3 MiB" into buf. Returns buf. */
const char *human_bytes(uint64_t n, char *buf, size_t len);

/*
 * The default control socket: $XDG_RUNTIME_DIR/ofsync.sock, /run/ofsync.sock
 * for root, else /tmp/ofsync-UID.sock.  Writes it into buf.
 */
void default_socket_path(char *buf, size_t len);

/*
 * Parses a size: a whole number of bytes with an optional K, M, G or T
 * (powers of 1024, either case), more than 0 and at most INT64_MAX; or
 * "none", stored as 0.  0, -EINVAL (not a size) or -ERANGE.
 */
int parse_size(const char *s, uint64_t *out);

#endif

/*
 * store.h - the sparse data files: one per item, data/XX/ID where XX is the
 * low byte of the id in hex.  Which bytes are valid is known only from the
 * index; holes and real zeros look the same here.
 */
#ifndef OFSYNC_STORE_H
#define OFSYNC_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Writes the data file path of id below dir into buf. */
void store_path(const char *dir, uint64_t id, char *buf, size_t len);
/* Opens (creating, mode 0600) the data file of id.  Returns an fd or -errno. */
int store_open(const char *dir, uint64_t id);
/* Removes the data file of id; a missing file is not an error. */
int store_unlink(const char *dir, uint64_t id);
/* Frees the blocks of [off, off+len) keeping the size.  0 or -errno. */
int store_punch(int fd, uint64_t off, uint64_t len);

#endif

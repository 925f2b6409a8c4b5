/*
 * bar.h - the one-line progress display of `ofsync sync`.
 *
 * Pure: bar_render() formats a snapshot of a sync's counters into a caller's
 * buffer and does no I/O.  The caller owns the terminal: it writes "\r", the
 * line, then "\033[K" (the line can get shorter between two renders), and
 * passes the terminal's width minus one so the cursor never sits in the last
 * column (some terminals wrap there).  Unit-tested in tests/unit/test_bar.c.
 */
#ifndef OFSYNC_BAR_H
#define OFSYNC_BAR_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of out that always hold a line of width columns and its NUL. */
#define BAR_BUFLEN(width) (4 * (size_t)(width) + 1)

struct bar {
	uint64_t items_done;  /* items finished, whatever their result */
	uint64_t items_total; /* estimate; 0 = unknown; may be exceeded */
	uint64_t failed;      /* items that failed */
	uint64_t conflicts;   /* items left in conflict */
	int64_t bytes;	      /* bytes moved so far; < 0 shows as 0 */
	const char *current;  /* path of the item being worked on, or NULL */
	double elapsed;	      /* seconds since the sync began */
};

/*
 * Renders b as one line of at most width display columns (width <= 0 means
 * 80) into out, NUL-terminated, with no "\r" and no newline:
 *
 *   [####......]  42% 1234/5000 (56/s) 12.3 MiB (1.2 MiB/s) 3 failed ...dir/file
 *
 * The bar and percentage appear only when the total is known; a total that
 * is exceeded shows as "done/done+" at 100%.  Rates appear from one second
 * of elapsed time on.  Failed and conflict counts appear when not zero.  The
 * path takes what is left, shortened from the left with "..."; when too
 * little is left it goes, then the rates, the bar, the bytes and the
 * percentage, in that order.  Control characters and invalid UTF-8 in the
 * path show as '?'; a character is never cut, and East Asian wide characters
 * count two columns.  An out smaller than BAR_BUFLEN(width) gets a shorter
 * line, still whole characters.  Returns the columns written.
 */
int bar_render(const struct bar *b, int width, char *out, size_t outlen);

#endif

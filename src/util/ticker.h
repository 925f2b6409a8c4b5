/*
 * ticker.h - a thread that runs one function every N seconds, and at once
 * when kicked (the prober's probes and background syncs, the evictor's
 * passes).  The function runs with no lock held; stop waits for it.
 */
#ifndef OFSYNC_TICKER_H
#define OFSYNC_TICKER_H

struct ticker;

/*
 * Starts the thread (every signal blocked in it): fn(arg) runs at once,
 * then every interval seconds, and whenever ticker_kick is called.
 * 0 or a negative errno.
 */
int ticker_start(void (*fn)(void *arg), void *arg, unsigned interval, struct ticker **out);
/* Runs fn again as soon as the current run (if any) ends.  NULL is allowed. */
void ticker_kick(struct ticker *t);
/* Ends the thread after the current run and frees it.  NULL is allowed. */
void ticker_stop(struct ticker *t);

#endif

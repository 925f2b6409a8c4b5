/*
 * parm_memo.c - a memo in front of Samba's parameter-name lookup.
 *
 * libsmbclient (Samba 4.17, Debian 12) rebuilds its credentials on every
 * path-based call, twice: SMBC_parse_path() and SMBC_server_internal() end
 * in smbc_set_credentials_with_fallback(), whose cli_credentials_set_conf()
 * asks lpcfg_parm_is_cmdline() about a dozen parameters.  Each of those
 * maps the name with lpcfg_map_parameter(), a linear scan of the ~700
 * entries of Samba's parameter table with a case- and blank-insensitive
 * compare (strwicmp).  Measured with perf on a first walk of 20,000 files,
 * that scan was a third of ofsyncd's CPU: about a millisecond per listed
 * directory, spent on the same few names each time.
 *
 * The mapping is a pure function of the name (the table is constant), so
 * ofsyncd defines lpcfg_map_parameter itself, exported from the executable
 * (see the Makefile) so that libsamba-hostconfig's calls, which go through
 * its PLT, reach this one; it asks the library's own function (dlsym
 * RTLD_NEXT) once per distinct name and remembers the answer.  Should a
 * Samba build call the function directly, this one is simply never used.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "smb/smb.h"

#define PARM_MEMO_MAX 64 /* distinct names remembered; more are asked each time */

static struct {
	char name[64]; /* the name as asked (exact bytes) */
	int index;     /* the library's answer */
} memo[PARM_MEMO_MAX];
static unsigned memo_n;					      /* protected by memo_lock */
static unsigned long memo_hits;				      /* protected by memo_lock */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER; /* taken alone */
static int (*real_map)(const char *);			      /* set under memo_lock */

int lpcfg_map_parameter(const char *name);

/*
 * Samba's lpcfg_map_parameter: the index of parameter name in the table,
 * or -1.  Answers from the memo when it can; else asks the library.
 */
int lpcfg_map_parameter(const char *name)
{
	size_t len = strlen(name);
	int index;

	pthread_mutex_lock(&memo_lock);
	for (unsigned i = 0; i < memo_n; i++) {
		if (!strcmp(memo[i].name, name)) {
			index = memo[i].index;
			memo_hits++;
			pthread_mutex_unlock(&memo_lock);
			return index;
		}
	}
	if (!real_map)
		real_map = (int (*)(const char *))dlsym(RTLD_NEXT, "lpcfg_map_parameter");
	if (!real_map) {
		pthread_mutex_unlock(&memo_lock);
		return -1; /* not reached: only the library that has it calls this */
	}
	index = real_map(name);
	if (memo_n < PARM_MEMO_MAX && len < sizeof(memo[0].name)) {
		memcpy(memo[memo_n].name, name, len + 1);
		memo[memo_n].index = index;
		memo_n++;
	}
	pthread_mutex_unlock(&memo_lock);
	return index;
}

unsigned long smb_parm_memo_hits(void)
{
	unsigned long n;

	pthread_mutex_lock(&memo_lock);
	n = memo_hits;
	pthread_mutex_unlock(&memo_lock);
	return n;
}

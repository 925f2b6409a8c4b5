/*
 * flags.c - the Synchronize control flags: names and the checks made before
 * a sync starts (include/ofsync.h).  Pure.
 */
#include <errno.h>
#include <stdio.h>

#include "ofsync.h"

static const struct {
	uint32_t bit;
	const char *name;
} flag_names[] = {
	{OFSYNC_FILLSPARSE, "FILLSPARSE"},
	{OFSYNC_SYNCIN, "SYNCIN"},
	{OFSYNC_SYNCOUT, "SYNCOUT"},
	{OFSYNC_PINNEWFILES, "PINNEWFILES"},
	{OFSYNC_PINLINKTARGETS, "PINLINKTARGETS"},
	{OFSYNC_PINFORUSER, "PINFORUSER"},
	{OFSYNC_PINFORUSER_POLICY, "PINFORUSER_POLICY"},
	{OFSYNC_PINFORALL, "PINFORALL"},
	{OFSYNC_PINFORREDIR, "PINFORREDIR"},
	{OFSYNC_LOWPRIORITY, "LOWPRIORITY"},
	{OFSYNC_ASYNCPROGRESS, "ASYNCPROGRESS"},
	{OFSYNC_INTERACTIVE, "INTERACTIVE"},
	{OFSYNC_CONSOLE, "CONSOLE"},
	{OFSYNC_SKIPSUSPENDEDDIRS, "SKIPSUSPENDEDDIRS"},
	{OFSYNC_BACKGROUND, "BACKGROUND"},
	{OFSYNC_NONEWFILESOUT, "NONEWFILESOUT"},
};

const char *ofsync_flag_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (flag_names[i].bit == bit)
			return flag_names[i].name;
	return NULL;
}

static int refuse(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

int ofsync_flags_check(uint32_t flags, int async, int have_progress, char *err, size_t errlen)
{
	uint32_t cr = flags & OFSYNC_CR_MASK;
	uint32_t pins = flags & (OFSYNC_PINFORUSER | OFSYNC_PINFORUSER_POLICY | OFSYNC_PINFORALL |
				 OFSYNC_PINFORREDIR);
	char why[96];

	if (flags & ~(OFSYNC_FLAGS_KNOWN | OFSYNC_CR_MASK)) {
		snprintf(why, sizeof(why), "unknown flag bits 0x%08x",
			 (unsigned)(flags & ~(OFSYNC_FLAGS_KNOWN | OFSYNC_CR_MASK)));
		return refuse(err, errlen, why);
	}
	if (cr != OFSYNC_CR_NONE && cr != OFSYNC_CR_KEEPLOCAL && cr != OFSYNC_CR_KEEPREMOTE &&
	    cr != OFSYNC_CR_KEEPLATEST)
		return refuse(err, errlen,
			      "at most one conflict rule (KEEPLOCAL, KEEPREMOTE or "
			      "KEEPLATEST) may be given");
	if ((flags & OFSYNC_PINNEWFILES) && !(flags & OFSYNC_SYNCIN))
		return refuse(err, errlen, "PINNEWFILES needs SYNCIN");
	if ((flags & OFSYNC_PINLINKTARGETS) && !(flags & OFSYNC_PINNEWFILES))
		return refuse(err, errlen, "PINLINKTARGETS needs PINNEWFILES");
	if (pins & (pins - 1))
		return refuse(err, errlen,
			      "at most one pin kind (FORUSER, FORUSER_POLICY, FORALL "
			      "or FORREDIR) may be given");
	if ((flags & OFSYNC_NONEWFILESOUT) && !(flags & OFSYNC_SYNCOUT))
		return refuse(err, errlen, "NONEWFILESOUT needs SYNCOUT");
	if ((flags & OFSYNC_CONSOLE) && !(flags & OFSYNC_INTERACTIVE))
		return refuse(err, errlen, "CONSOLE needs INTERACTIVE");
	if (async && !have_progress)
		return refuse(err, errlen, "an asynchronous sync needs a progress sink");
	return 0;
}

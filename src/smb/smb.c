/*
 * smb.c - libsmbclient behind one lock; see smb.h.
 *
 * URLs are built per call: smb://server[:port]/share/base/path, with every
 * byte outside [A-Za-z0-9._~/-] percent-encoded (libsmbclient decodes %XX,
 * and an unencoded '?' would start URL options).
 */
#include "smb/smb.h"

#include <errno.h>
#include <fcntl.h>
#include <libsmbclient.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/util.h"

#define URL_MAX 8192

/* libsmbclient keeps process-wide state: one lock for every call. */
static pthread_mutex_t smb_lock = PTHREAD_MUTEX_INITIALIZER;

struct smb {
	SMBCCTX *ctx;		    /* protected by smb_lock */
	struct smb_conf conf;	    /* guest, port, timeout; constant */
	char *prefix;		    /* "smb://server:port/share/base", encoded; constant */
	char *user;		    /* constant */
	char *domain;		    /* constant */
	char *password;		    /* constant; wiped on free */
	pthread_mutex_t state_lock; /* protects online, forced, since, reason, dating */
	int online;
	int forced;
	int64_t since;
	char reason[256];
	int dating; /* enum smb_dating, of the current connection */
};

struct smb_file {
	SMBCFILE *fh; /* protected by smb_lock */
	SMBCCTX *ctx; /* the context fh belongs to; a probe may replace it */
};

static void url_encode(char *out, size_t len, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < len; p++) {
		unsigned char ch = *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("._~/-", ch)) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
}

static int make_url(struct smb *s, const char *path, char *buf, size_t len)
{
	char enc[URL_MAX];
	int n;

	url_encode(enc, sizeof(enc), path);
	n = snprintf(buf, len, "%s%s", s->prefix, enc);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void auth_fn(SMBCCTX *ctx, const char *srv, const char *shr, char *wg, int wglen, char *un,
		    int unlen, char *pw, int pwlen)
{
	struct smb *s = smbc_getOptionUserData(ctx);

	if (s->domain)
		snprintf(wg, (size_t)wglen, "%s", s->domain);
	snprintf(un, (size_t)unlen, "%s", s->user ? s->user : "");
	snprintf(pw, (size_t)pwlen, "%s", s->password ? s->password : "");
}

int smb_is_conn_error(int err)
{
	switch (-err) {
	case ECONNREFUSED:
	case ETIMEDOUT:
	case ECONNRESET:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case EPIPE:
	case ENOTCONN:
		return 1;
	default:
		return 0;
	}
}

/* Creates and configures a context for s.  With smb_lock held. */
static int new_context(struct smb *s, SMBCCTX **out)
{
	SMBCCTX *ctx = smbc_new_context();

	if (!ctx)
		return errno ? -errno : -ENOMEM;
	smbc_setDebug(ctx, log_get_level() >= LOG_LVL_DEBUG ? 1 : 0);
	smbc_setOptionDebugToStderr(ctx, 1);
	smbc_setOptionUserData(ctx, s);
	smbc_setFunctionAuthDataWithContext(ctx, auth_fn);
	smbc_setOptionUseKerberos(ctx, 0);
	smbc_setOptionFallbackAfterKerberos(ctx, 1);
	smbc_setOptionNoAutoAnonymousLogin(ctx, !s->conf.guest);
	smbc_setTimeout(ctx, (int)(s->conf.timeout ? s->conf.timeout : 5) * 1000);
	if (s->conf.port)
		smbc_setPort(ctx, (uint16_t)s->conf.port);
	if (!smbc_init_context(ctx)) {
		int rc = errno ? -errno : -EIO;
		smbc_free_context(ctx, 1);
		return rc;
	}
	smbc_setOptionProtocols(ctx, "SMB2_10", "SMB3");
	*out = ctx;
	return 0;
}

int smb_new(const struct smb_conf *conf, struct smb **out)
{
	char host[512], enc_share[512], enc_base[4096], prefix[URL_MAX];
	struct smb *s;
	int rc = -ENOMEM;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->state_lock, NULL);
	snprintf(s->reason, sizeof(s->reason), "not yet connected");
	if (strchr(conf->server, ':'))
		snprintf(host, sizeof(host), "[%s]", conf->server); /* IPv6 literal */
	else
		snprintf(host, sizeof(host), "%s", conf->server);
	url_encode(enc_share, sizeof(enc_share), conf->share);
	url_encode(enc_base, sizeof(enc_base), conf->base ? conf->base : "");
	if (conf->port)
		snprintf(prefix, sizeof(prefix), "smb://%s:%u/%s%s", host, conf->port, enc_share,
			 enc_base);
	else
		snprintf(prefix, sizeof(prefix), "smb://%s/%s%s", host, enc_share, enc_base);
	s->prefix = strdup(prefix);
	s->user = strdup(conf->guest || !conf->user ? "guest" : conf->user);
	s->domain = conf->domain ? strdup(conf->domain) : NULL;
	s->password = strdup(conf->guest || !conf->password ? "" : conf->password);
	if (!s->prefix || !s->user || !s->password || (conf->domain && !s->domain))
		goto err_free;
	s->conf.guest = conf->guest;
	s->conf.port = conf->port;
	s->conf.timeout = conf->timeout;

	pthread_mutex_lock(&smb_lock);
	rc = new_context(s, &s->ctx);
	pthread_mutex_unlock(&smb_lock);
	if (rc < 0)
		goto err_free;
	*out = s;
	return 0;

err_free:
	smb_free(s);
	return rc;
}

void smb_free(struct smb *s)
{
	if (!s)
		return;
	if (s->ctx) {
		pthread_mutex_lock(&smb_lock);
		smbc_free_context(s->ctx, 1);
		pthread_mutex_unlock(&smb_lock);
	}
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->prefix);
	free(s->user);
	free(s->domain);
	pthread_mutex_destroy(&s->state_lock);
	free(s);
}

/* errno after a failed libsmbclient call, never 0. */
static int fail(void)
{
	return errno ? -errno : -EIO;
}

static void set_state(struct smb *s, int online, const char *reason)
{
	pthread_mutex_lock(&s->state_lock);
	if (s->online != online) {
		s->since = now_ns();
		if (online)
			log_info("%s is online", s->prefix);
		else
			log_warn("%s is offline: %s", s->prefix, reason);
	}
	s->online = online;
	snprintf(s->reason, sizeof(s->reason), "%s", online ? "" : reason);
	pthread_mutex_unlock(&s->state_lock);
}

void smb_get_state(struct smb *s, struct smb_state *st)
{
	pthread_mutex_lock(&s->state_lock);
	st->online = s->online;
	st->forced = s->forced;
	st->since = s->since;
	snprintf(st->reason, sizeof(st->reason), "%s", s->reason);
	pthread_mutex_unlock(&s->state_lock);
}

void smb_force(struct smb *s, int forced)
{
	pthread_mutex_lock(&s->state_lock);
	s->forced = forced;
	pthread_mutex_unlock(&s->state_lock);
	if (forced)
		set_state(s, 0, "forced offline");
}

/*
 * Before taking smb_lock: offline, fail at once.  A probe may hold the lock
 * for up to the timeout; nobody waits for it to learn the share is offline.
 */
static int offline_now(struct smb *s)
{
	int offline;

	pthread_mutex_lock(&s->state_lock);
	offline = !s->online || s->forced;
	pthread_mutex_unlock(&s->state_lock);
	return offline;
}

/* With smb_lock held: may a call go to the server? 0 or -SMB_OFFLINE_ERRNO. */
static int enter(struct smb *s)
{
	int online;

	pthread_mutex_lock(&s->state_lock);
	online = s->online && !s->forced;
	pthread_mutex_unlock(&s->state_lock);
	errno = 0;
	return online ? 0 : -SMB_OFFLINE_ERRNO;
}

/* With smb_lock held: a call ended with rc; a connection error goes offline. */
static int leave(struct smb *s, int rc)
{
	char why[200];

	if (rc < 0 && rc != -SMB_OFFLINE_ERRNO && smb_is_conn_error(rc)) {
		snprintf(why, sizeof(why), "server unreachable: %s", strerror(-rc));
		set_state(s, 0, why);
	}
	return rc;
}

int smb_probe(struct smb *s)
{
	struct stat st;
	SMBCCTX *ctx;
	char why[200];
	int rc, forced;

	pthread_mutex_lock(&s->state_lock);
	forced = s->forced;
	pthread_mutex_unlock(&s->state_lock);
	if (forced)
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	/* A fresh context: the old one may hold a connection that died. */
	rc = new_context(s, &ctx);
	if (rc == 0) {
		smbc_free_context(s->ctx, 1);
		s->ctx = ctx;
		pthread_mutex_lock(&s->state_lock);
		s->dating = SMB_DATING_UNKNOWN;
		pthread_mutex_unlock(&s->state_lock);
		errno = 0;
		rc = smbc_getFunctionStat(ctx)(ctx, s->prefix, &st) < 0 ? fail() : 0;
		if (rc == 0 && !S_ISDIR(st.st_mode))
			rc = -ENOTDIR;
	}
	pthread_mutex_unlock(&smb_lock);
	if (rc == 0) {
		set_state(s, 1, "");
	} else {
		snprintf(why, sizeof(why), "%s: %s",
			 smb_is_conn_error(rc) ? "server unreachable" : "server refused the share",
			 strerror(-rc));
		set_state(s, 0, why);
	}
	return rc;
}

static int64_t ts_to_100ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 10000000 + ts->tv_nsec / 100;
}

static void from_stat(const struct stat *st, struct smb_stat *out)
{
	out->type = S_ISDIR(st->st_mode) ? SMB_DIR : SMB_FILE;
	out->size = S_ISDIR(st->st_mode) ? 0 : (int64_t)st->st_size;
	out->mtime = ts_to_100ns(&st->st_mtim);
	out->file_id = (uint64_t)st->st_ino;
	out->mode = st->st_mode & 07777;
}

int smb_stat(struct smb *s, const char *path, struct smb_stat *out)
{
	char url[URL_MAX];
	struct stat st;
	int rc;

	rc = make_url(s, path, url, sizeof(url));
	if (rc < 0)
		return rc;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc == 0)
		rc = smbc_getFunctionStat(s->ctx)(s->ctx, url, &st) < 0 ? fail() : 0;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	if (rc == 0)
		from_stat(&st, out);
	return rc;
}

/*
 * Lists path: with fn_plus, each entry with its attributes (readdirplus2);
 * else with fn_names, names only (readdir, which builds no stat).  The
 * callback runs under the lock (it only collects entries, never calls the
 * network), so that a listing is one uninterrupted walk.
 */
static int list_dir(struct smb *s, const char *path,
		    int (*fn_plus)(void *arg, const char *name, const struct smb_stat *st),
		    int (*fn_names)(void *arg, const char *name), void *arg)
{
	char url[URL_MAX];
	SMBCFILE *dh;
	int rc;

	rc = make_url(s, path, url, sizeof(url));
	if (rc < 0)
		return rc;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc < 0)
		goto out;
	dh = smbc_getFunctionOpendir(s->ctx)(s->ctx, url);
	if (!dh) {
		rc = fail();
		goto out;
	}
	for (;;) {
		const char *name;
		struct smb_stat sst;
		struct stat st;

		errno = 0;
		if (fn_plus) {
			const struct libsmb_file_info *fi =
				smbc_getFunctionReaddirPlus2(s->ctx)(s->ctx, dh, &st);
			name = fi ? fi->name : NULL;
			if (fi && !name)
				continue;
		} else {
			struct smbc_dirent *de = smbc_getFunctionReaddir(s->ctx)(s->ctx, dh);
			name = de ? de->name : NULL;
		}
		if (!name) {
			rc = errno ? -errno : 0;
			break;
		}
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (fn_plus) {
			from_stat(&st, &sst);
			rc = fn_plus(arg, name, &sst);
		} else {
			rc = fn_names(arg, name);
		}
		if (rc != 0)
			break;
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, dh);
out:
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

int smb_list(struct smb *s, const char *path,
	     int (*fn)(void *arg, const char *name, const struct smb_stat *st), void *arg)
{
	return list_dir(s, path, fn, NULL, arg);
}

int smb_list_names(struct smb *s, const char *path, int (*fn)(void *arg, const char *name),
		   void *arg)
{
	return list_dir(s, path, NULL, fn, arg);
}

int smb_open(struct smb *s, const char *path, int flags, mode_t mode, struct smb_file **out)
{
	char url[URL_MAX];
	struct smb_file *f;
	int rc;

	rc = make_url(s, path, url, sizeof(url));
	if (rc < 0)
		return rc;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc == 0) {
		f->fh = smbc_getFunctionOpen(s->ctx)(s->ctx, url, flags, mode);
		rc = f->fh ? 0 : fail();
	}
	f->ctx = s->ctx;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	if (rc < 0) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* With smb_lock held: may a call on f go on?  Its context may be gone. */
static int enter_file(struct smb *s, struct smb_file *f)
{
	int rc = enter(s);

	return rc == 0 && f->ctx != s->ctx ? -SMB_OFFLINE_ERRNO : rc;
}

ssize_t smb_pread(struct smb *s, struct smb_file *f, void *buf, size_t len, int64_t off)
{
	size_t done = 0;
	int rc;

	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter_file(s, f);
	if (rc < 0)
		goto out;
	if (smbc_getFunctionLseek(s->ctx)(s->ctx, f->fh, off, SEEK_SET) < 0) {
		rc = fail();
		goto out;
	}
	while (done < len) {
		errno = 0;
		ssize_t n =
			smbc_getFunctionRead(s->ctx)(s->ctx, f->fh, (char *)buf + done, len - done);
		if (n < 0) {
			rc = fail();
			goto out;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
out:
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc < 0 ? rc : (ssize_t)done;
}

int smb_pwrite(struct smb *s, struct smb_file *f, const void *buf, size_t len, int64_t off)
{
	size_t done = 0;
	int rc;

	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter_file(s, f);
	if (rc < 0)
		goto out;
	if (smbc_getFunctionLseek(s->ctx)(s->ctx, f->fh, off, SEEK_SET) < 0) {
		rc = fail();
		goto out;
	}
	while (done < len) {
		errno = 0;
		ssize_t n = smbc_getFunctionWrite(s->ctx)(s->ctx, f->fh, (const char *)buf + done,
							  len - done);
		if (n <= 0) {
			rc = n < 0 ? fail() : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
out:
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

/* libsmbclient calls the splice's progress callback unconditionally: go on. */
static int splice_go_on(off_t n, void *priv)
{
	(void)n;
	(void)priv;
	return 1;
}

int smb_copy(struct smb *s, struct smb_file *src, struct smb_file *dst, int64_t len)
{
	SMBCCTX *ctx;
	off_t n;
	int rc;

	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	ctx = s->ctx;
	rc = enter_file(s, src);
	if (rc == 0)
		rc = enter_file(s, dst);
	if (rc == 0 && (smbc_getFunctionLseek(ctx)(ctx, src->fh, 0, SEEK_SET) < 0 ||
			smbc_getFunctionLseek(ctx)(ctx, dst->fh, 0, SEEK_SET) < 0))
		rc = fail();
	if (rc == 0) {
		errno = 0;
		n = smbc_getFunctionSplice(ctx)(ctx, src->fh, dst->fh, (off_t)len, splice_go_on,
						NULL);
		rc = n < 0 ? fail() : n != (off_t)len ? -EIO : 0;
	}
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

int smb_ftruncate(struct smb *s, struct smb_file *f, int64_t size)
{
	int rc;

	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter_file(s, f);
	if (rc == 0)
		rc = smbc_getFunctionFtruncate(s->ctx)(s->ctx, f->fh, (off_t)size) < 0 ? fail() : 0;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

int smb_fstat(struct smb *s, struct smb_file *f, struct smb_stat *out)
{
	struct stat st;
	int rc;

	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter_file(s, f);
	if (rc == 0)
		rc = smbc_getFunctionFstat(s->ctx)(s->ctx, f->fh, &st) < 0 ? fail() : 0;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	if (rc == 0)
		from_stat(&st, out);
	return rc;
}

int smb_dating(struct smb *s)
{
	int d;

	pthread_mutex_lock(&s->state_lock);
	d = s->dating;
	pthread_mutex_unlock(&s->state_lock);
	return d;
}

void smb_set_dating(struct smb *s, int dating)
{
	pthread_mutex_lock(&s->state_lock);
	s->dating = dating;
	pthread_mutex_unlock(&s->state_lock);
}

int smb_close(struct smb *s, struct smb_file *f)
{
	int rc = 0;

	pthread_mutex_lock(&smb_lock);
	/* A handle of a context already replaced died with it. */
	if (f->ctx == s->ctx && enter(s) == 0) {
		rc = smbc_getFunctionClose(s->ctx)(s->ctx, f->fh) < 0 ? fail() : 0;
		rc = leave(s, rc);
	}
	pthread_mutex_unlock(&smb_lock);
	free(f);
	return rc;
}

int smb_rename(struct smb *s, const char *from, const char *to)
{
	char ufrom[URL_MAX], uto[URL_MAX];
	int rc;

	rc = make_url(s, from, ufrom, sizeof(ufrom));
	if (rc == 0)
		rc = make_url(s, to, uto, sizeof(uto));
	if (rc < 0)
		return rc;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc == 0)
		rc = smbc_getFunctionRename(s->ctx)(s->ctx, ufrom, s->ctx, uto) < 0 ? fail() : 0;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

/* The calls that take one URL and return <0 on failure. */
enum path_op { OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_CHMOD };

static int path_call(struct smb *s, enum path_op op, const char *path, mode_t mode)
{
	char url[URL_MAX];
	int rc;

	rc = make_url(s, path, url, sizeof(url));
	if (rc < 0)
		return rc;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc < 0)
		goto out;
	switch (op) {
	case OP_UNLINK:
		rc = smbc_getFunctionUnlink(s->ctx)(s->ctx, url);
		break;
	case OP_MKDIR:
		rc = smbc_getFunctionMkdir(s->ctx)(s->ctx, url, mode);
		break;
	case OP_RMDIR:
		rc = smbc_getFunctionRmdir(s->ctx)(s->ctx, url);
		break;
	case OP_CHMOD:
		rc = smbc_getFunctionChmod(s->ctx)(s->ctx, url, mode);
		break;
	}
	rc = rc < 0 ? fail() : 0;
out:
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

int smb_unlink(struct smb *s, const char *path)
{
	return path_call(s, OP_UNLINK, path, 0);
}

int smb_mkdir(struct smb *s, const char *path, mode_t mode)
{
	return path_call(s, OP_MKDIR, path, mode);
}

int smb_rmdir(struct smb *s, const char *path)
{
	return path_call(s, OP_RMDIR, path, 0);
}

int smb_chmod(struct smb *s, const char *path, mode_t mode)
{
	return path_call(s, OP_CHMOD, path, mode);
}

int smb_utimes(struct smb *s, const char *path, int64_t atime_ns, int64_t mtime_ns)
{
	char url[URL_MAX];
	struct timeval tv[2];
	int rc;

	rc = make_url(s, path, url, sizeof(url));
	if (rc < 0)
		return rc;
	tv[0].tv_sec = atime_ns / 1000000000;
	tv[0].tv_usec = (atime_ns % 1000000000) / 1000;
	tv[1].tv_sec = mtime_ns / 1000000000;
	tv[1].tv_usec = (mtime_ns % 1000000000) / 1000;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc == 0)
		rc = smbc_getFunctionUtimes(s->ctx)(s->ctx, url, tv) < 0 ? fail() : 0;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

int smb_statvfs(struct smb *s, struct statvfs *out)
{
	char url[URL_MAX];
	int rc;

	rc = make_url(s, "", url, sizeof(url));
	if (rc < 0)
		return rc;
	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc == 0)
		rc = smbc_getFunctionStatVFS(s->ctx)(s->ctx, url, out) < 0 ? fail() : 0;
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

/* Maps libsmbclient's notify action onto enum smb_change; 0 when unknown. */
static int change_of(uint32_t action)
{
	switch (action) {
	case SMBC_NOTIFY_ACTION_ADDED:
		return SMB_CHANGE_ADDED;
	case SMBC_NOTIFY_ACTION_REMOVED:
		return SMB_CHANGE_REMOVED;
	case SMBC_NOTIFY_ACTION_MODIFIED:
		return SMB_CHANGE_MODIFIED;
	case SMBC_NOTIFY_ACTION_OLD_NAME:
		return SMB_CHANGE_OLD_NAME;
	case SMBC_NOTIFY_ACTION_NEW_NAME:
		return SMB_CHANGE_NEW_NAME;
	default:
		return 0; /* streams: not ours to show */
	}
}

struct watch_ctx {
	int (*fn)(void *arg, int change, const char *path);
	void *arg;
	int rc; /* fn's non-zero value */
};

static int watch_cb(const struct smbc_notify_callback_action *acts, size_t n, void *priv)
{
	struct watch_ctx *w = priv;
	char path[URL_MAX];

	if (n == 0) {
		w->rc = w->fn(w->arg, 0, NULL);
		return w->rc;
	}
	for (size_t i = 0; i < n; i++) {
		int change = change_of(acts[i].action);
		size_t k = 0;
		if (!change || !acts[i].filename)
			continue;
		/* "a\b\c", relative to the watched directory, becomes "/a/b/c". */
		path[k++] = '/';
		for (const char *p = acts[i].filename; *p && k + 1 < sizeof(path); p++)
			path[k++] = *p == '\\' ? '/' : *p;
		path[k] = '\0';
		w->rc = w->fn(w->arg, change, path);
		if (w->rc)
			return w->rc;
	}
	return 0;
}

int smb_watch(struct smb *s, unsigned tick_ms, int (*fn)(void *arg, int change, const char *path),
	      void *arg)
{
	struct watch_ctx w = {.fn = fn, .arg = arg};
	SMBCFILE *dh;
	int rc;

	if (offline_now(s))
		return -SMB_OFFLINE_ERRNO;
	pthread_mutex_lock(&smb_lock);
	rc = enter(s);
	if (rc < 0)
		goto out;
	dh = smbc_getFunctionOpendir(s->ctx)(s->ctx, s->prefix);
	if (!dh) {
		rc = fail();
		goto out;
	}
	w.rc = fn(arg, SMB_CHANGE_WATCHING, NULL);
	if (w.rc == 0) {
		errno = 0;
		rc = smbc_getFunctionNotify(s->ctx)(
			     s->ctx, dh, 1,
			     SMBC_NOTIFY_CHANGE_FILE_NAME | SMBC_NOTIFY_CHANGE_DIR_NAME |
				     SMBC_NOTIFY_CHANGE_ATTRIBUTES | SMBC_NOTIFY_CHANGE_SIZE |
				     SMBC_NOTIFY_CHANGE_LAST_WRITE,
			     tick_ms, watch_cb, &w) < 0 ?
			     fail() :
			     0;
	}
	smbc_getFunctionClosedir(s->ctx)(s->ctx, dh);
	if (w.rc)
		rc = w.rc;
out:
	rc = leave(s, rc);
	pthread_mutex_unlock(&smb_lock);
	return rc;
}

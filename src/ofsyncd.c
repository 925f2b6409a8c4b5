/*
 * ofsyncd.c - the daemon: parse the command line, open the cache, reach the
 * servers, mount every share, daemonize, then serve the mounts and the
 * control socket until a termination signal, or until every mount is gone.
 *
 * Threads: one FUSE loop per mount (each started by this file), one prober
 * per mount, one syncer and one control-socket thread for the daemon.  The
 * main thread only waits for signals (SIGTERM, SIGINT, SIGHUP stop the
 * daemon; SIGUSR1 says a mount's loop ended).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "fs/fs.h"
#include "ipc/server.h"
#include "ofsync.h"
#include "options.h"
#include "sync/sync.h"
#include "util/log.h"
#include "util/ticker.h"
#include "util/util.h"
#include "watch.h"

/* One mount's FUSE loop thread. */
struct loop {
	struct mount *m;
	pthread_t thread;
	pthread_t main; /* told with SIGUSR1 when the loop ends */
	int started;
	volatile int ended;
	int rc;
};

static void on_wake(int sig)
{
	(void)sig; /* only ends a sem_wait or poll in the FUSE loop */
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, FS_WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	l->rc = fs_run(l->m->fs);
	if (l->rc < 0)
		log_err("%s: the mount stopped: %s", l->m->opts->mountpoint, strerror(-l->rc));
	l->ended = 1;
	pthread_kill(l->main, SIGUSR1);
	return NULL;
}

/* The share's server settings, borrowed from o. */
static struct smb_conf share_smb_conf(const struct options *o)
{
	return (struct smb_conf){.server = o->unc.server,
				 .port = o->unc.port,
				 .share = o->unc.share,
				 .base = o->unc.path,
				 .user = o->user,
				 .domain = o->domain,
				 .password = o->password,
				 .guest = o->guest,
				 .timeout = o->timeout};
}

static void on_watch_change(void *arg, int change, const char *path)
{
	struct mount *m = arg;

	fs_remote_change(m->fs, change, path);
}

static void on_watch_state(void *arg, int watching)
{
	struct mount *m = arg;

	fs_set_watching(m->fs, watching);
}

/* Starts the share's change watch (watch.h).  0 or -errno. */
static int mount_watch(struct mount *m)
{
	struct watch_conf wc = {.smb = share_smb_conf(m->opts),
				.client = m->smb,
				.changed = on_watch_change,
				.state = on_watch_state,
				.arg = m};

	return watch_start(&wc, &m->watch);
}

/* Sets up one share: its record in the index, its SMB client, a first probe. */
static int share_open(struct daemon *d, struct mount *m, const struct options *o)
{
	struct smb_conf sc;
	int rc;

	m->d = d;
	m->opts = o;
	m->cache = d->cache;
	rc = index_share(cache_index(d->cache), o->unc_text, &m->share, &m->root);
	if (rc < 0) {
		log_err("cannot record %s in the index", o->unc_text);
		return rc;
	}
	sc = share_smb_conf(o);
	rc = smb_new(&sc, &m->smb);
	if (rc < 0) {
		log_err("cannot set up the SMB client: %s", strerror(-rc));
		return rc;
	}
	/*
	 * Windows' "Always Offline" needs nothing more: with the server
	 * unreachable (or -o offline) the mount is served from the index, and
	 * the prober brings the share online when the server appears.  A server
	 * that answers and refuses (no such share, bad password) is an error.
	 */
	if (o->offline) {
		smb_force(m->smb, 1);
		log_info("%s: starting forced offline", o->unc_text);
		return 0;
	}
	rc = smb_probe(m->smb);
	if (rc < 0 && !smb_is_conn_error(rc)) {
		log_err("%s: %s", o->unc_text, strerror(-rc));
		fprintf(stderr, "ofsyncd: cannot use %s: %s\n", o->unc_text, strerror(-rc));
		return rc;
	}
	if (rc < 0)
		log_warn("%s is unreachable (%s): serving the cache offline", o->unc_text,
			 strerror(-rc));
	return 0;
}

static int share_mount(struct mount *m)
{
	const struct options *o = m->opts;
	struct fs_conf fc = {.cache = m->cache,
			     .smb = m->smb,
			     .share = m->share,
			     .root = m->root,
			     .attr_timeout = o->attr_timeout,
			     .watch_timeout = o->notify ? o->watch_timeout : 0,
			     .cache_dir = o->cache_dir,
			     .fsname = o->unc_text,
			     .fuse_opts = o->fuse_opts,
			     .debug = o->debug};

	return fs_mount(&fc, o->mountpoint, &m->fs);
}

/*
 * Tells systemd (Type=notify; nothing happens without NOTIFY_SOCKET) how the
 * shares are: online or offline, and what waits to go to the server.
 */
static void notify_status(struct daemon *d)
{
	char line[1024], b[32];
	size_t o = 0;
	uint64_t items = 0, bytes = 0, ops = 0;
	unsigned on = 0;

	for (size_t i = 0; i < d->nmounts; i++) {
		struct mount *m = &d->mounts[i];
		struct index_stats st;
		struct smb_state ss;
		smb_get_state(m->smb, &ss);
		on += ss.online && !ss.forced;
		if (index_stats(cache_index(m->cache), m->share, &st) == 0) {
			items += st.dirty_items;
			bytes += st.dirty_bytes;
			ops += st.pending_ops;
		}
	}
	if (d->nmounts == 1)
		o = (size_t)snprintf(line, sizeof(line), "%s %s", d->mounts[0].opts->unc_text,
				     on ? "online" : "offline");
	else
		o = (size_t)snprintf(line, sizeof(line), "%u of %zu shares online", on, d->nmounts);
	snprintf(line + o, sizeof(line) - o, "; %llu dirty items (%s), %llu changes waiting",
		 (unsigned long long)items, human_bytes(bytes, b, sizeof(b)),
		 (unsigned long long)ops);
	sd_notifyf(0, "STATUS=%s", line);
}

/*
 * Serves until a termination signal or the end of every loop; then stops
 * the loops that still run and waits for them.  The status line for
 * systemd is refreshed every few seconds meanwhile.
 */
static void serve(struct daemon *d, struct loop *loops, size_t n)
{
	sigset_t wait;
	int stopping = 0;

	sigemptyset(&wait);
	sigaddset(&wait, SIGTERM);
	sigaddset(&wait, SIGINT);
	sigaddset(&wait, SIGHUP);
	sigaddset(&wait, SIGUSR1);
	for (;;) {
		struct timespec tick = {0, 200 * 1000000};
		size_t running = 0;
		int sig;

		for (size_t i = 0; i < n; i++)
			running += loops[i].started && !loops[i].ended;
		if (running == 0)
			break;
		struct timespec status_tick = {5, 0};
		if (!stopping)
			notify_status(d);
		sig = sigtimedwait(&wait, NULL, stopping ? &tick : &status_tick);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			if (!stopping) {
				log_info("signal %d: unmounting", sig);
				sd_notify(0, "STOPPING=1");
			}
			stopping = 1;
		}
		if (stopping) /* again each tick: a stop can race the loop's start */
			for (size_t i = 0; i < n; i++)
				if (loops[i].started && !loops[i].ended)
					fs_stop(loops[i].m->fs);
	}
	for (size_t i = 0; i < n; i++)
		if (loops[i].started)
			pthread_join(loops[i].thread, NULL);
}

/* Starts the threads (after daemonizing) and serves.  0 or 1 (exit status). */
static int run(struct daemon *d)
{
	struct loop *loops = calloc(d->nmounts, sizeof(*loops));
	struct sigaction sa = {.sa_handler = on_wake};
	sigset_t block, old;
	int rc, status = 0;

	if (!loops)
		return 1;
	sigemptyset(&sa.sa_mask);
	sigaction(FS_WAKE_SIGNAL, &sa, NULL); /* no SA_RESTART */
	signal(SIGPIPE, SIG_IGN);
	/* Every thread blocks the daemon's signals; the main thread waits for them. */
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = ipc_server_start(d->srv);
	if (rc < 0) {
		log_err("cannot start the control socket thread: %s", strerror(-rc));
		free(loops);
		return 1;
	}
	rc = syncer_start(d, &d->syncer);
	if (rc < 0)
		log_err("cannot start the sync thread: %s", strerror(-rc));
	if (rc == 0) {
		rc = evictor_start(d, &d->evictor);
		if (rc < 0)
			log_err("cannot start the eviction thread: %s", strerror(-rc));
	}
	for (size_t i = 0; rc == 0 && i < d->nmounts; i++) {
		rc = prober_start(&d->mounts[i], &d->mounts[i].prober);
		if (rc < 0)
			log_err("cannot start the probe thread: %s", strerror(-rc));
	}
	for (size_t i = 0; rc == 0 && i < d->nmounts; i++) {
		loops[i] = (struct loop){.m = &d->mounts[i], .main = pthread_self()};
		rc = -pthread_create(&loops[i].thread, NULL, loop_main, &loops[i]);
		if (rc < 0)
			log_err("cannot start a FUSE loop: %s", strerror(-rc));
		else
			loops[i].started = 1;
	}
	if (rc < 0) {
		status = 1;
		for (size_t i = 0; i < d->nmounts; i++)
			if (loops[i].started)
				fs_stop(d->mounts[i].fs);
	}
	for (size_t i = 0; rc == 0 && i < d->nmounts; i++) {
		if (!d->mounts[i].opts->notify)
			continue;
		rc = mount_watch(&d->mounts[i]);
		if (rc < 0)
			log_err("cannot start the change watch: %s", strerror(-rc));
	}
	if (rc == 0)
		sd_notify(0, "READY=1"); /* every share is mounted */
	serve(d, loops, d->nmounts);
	for (size_t i = 0; i < d->nmounts; i++) {
		watch_stop(d->mounts[i].watch);
		d->mounts[i].watch = NULL;
	}
	for (size_t i = 0; i < d->nmounts; i++)
		if (loops[i].started && loops[i].rc < 0)
			status = 1;
	/*
	 * No control command runs once the socket's thread is halted; then the
	 * threads that publish to it end; then everything is freed.
	 */
	ipc_server_halt(d->srv);
	evictor_stop(d->evictor);
	d->evictor = NULL;
	syncer_stop(d->syncer);
	for (size_t i = 0; i < d->nmounts; i++) {
		ticker_stop(d->mounts[i].prober);
		d->mounts[i].prober = NULL;
	}
	cache_set_conflict_hook(d->cache, NULL, NULL);
	ipc_server_stop(d->srv);
	d->srv = NULL;
	syncer_free(d->syncer);
	d->syncer = NULL;
	free(loops);
	return status;
}

/* Frees what share_open and share_mount made. */
static void share_close(struct mount *m)
{
	fs_free(m->fs);
	m->fs = NULL;
	smb_free(m->smb);
	m->smb = NULL;
}

/*
 * The options of every share to mount: the one on the command line, else
 * every share of the configuration file; the file's settings first, the
 * command line's over them.  Returns how many (> 0) in *out, or -1 after
 * saying why on stderr.
 */
static int share_options(int argc, char **argv, const struct options *cl,
			 const struct ofsync_config *cfg, struct options **out)
{
	size_t n = cl->unc_text ? 1 : cfg->nshares;
	struct options *o;
	char err[1024];

	if (n == 0) {
		fprintf(stderr,
			"ofsyncd: no share given, and %s%s names none\nTry 'ofsyncd --help'.\n",
			cfg->path ? "" : "no configuration file (ofsync.conf(5)) ",
			cfg->path ? cfg->path : "");
		return -1;
	}
	o = calloc(n, sizeof(*o));
	if (!o)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct config_share *sh = cl->unc_text ? NULL : &cfg->shares[i];
		char **av = NULL;
		int ac = config_argv(cfg, sh, argv[0], argc - 1, argv + 1, &av);
		int rc = ac < 0 ? ac : options_parse(ac, av, &o[i], err, sizeof(err));
		config_argv_free(av);
		if (rc == 0 && fs_clear_stale(o[i].mountpoint) < 0)
			log_warn("%s is a stale mount that could not be unmounted",
				 o[i].mountpoint);
		if (rc == 0)
			rc = options_validate(&o[i], err, sizeof(err));
		if (rc == 0 && i > 0 &&
		    (strcmp(o[i].cache_dir, o[0].cache_dir) || strcmp(o[i].socket, o[0].socket))) {
			snprintf(err, sizeof(err),
				 "every share of one daemon has the same cache_dir and socket");
			rc = -EINVAL;
		}
		if (rc < 0) {
			if (sh)
				fprintf(stderr, "ofsyncd: %s:%d: [share %s]: %s\n", cfg->path,
					sh->line, sh->name, err);
			else
				fprintf(stderr, "ofsyncd: %s\n", err);
			for (size_t j = 0; j <= i; j++)
				options_release(&o[j]);
			free(o);
			return -1;
		}
	}
	*out = o;
	return (int)n;
}

/* Reads -c FILE, else the default file when there is one. */
static int load_config(const struct options *cl, struct ofsync_config *cfg)
{
	char path[4096], err[1024];
	int rc;

	if (cl->config)
		rc = config_load(cl->config, cfg, err, sizeof(err));
	else if (config_default_path(path, sizeof(path)) == 0)
		rc = config_load(path, cfg, err, sizeof(err));
	else
		return config_init(cfg), 0;
	if (rc < 0)
		fprintf(stderr, "ofsyncd: %s\n", err);
	return rc;
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	struct ofsync_config cfg;
	struct options cl, *o = NULL;
	char err[1024];
	int rc, n, status = 1;

	if (argc == 2 && strcmp(argv[1], "--watch-helper") == 0)
		return watch_helper_main();
	rc = options_parse_ex(argc, argv, OPTIONS_SHARE_OPTIONAL, &cl, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "ofsyncd: %s\nTry 'ofsyncd --help'.\n", err);
		options_release(&cl);
		return 2;
	}
	if (cl.help || cl.version) {
		if (cl.help)
			options_usage(stdout);
		else
			printf("ofsyncd %s\n", OFSYNC_VERSION);
		options_release(&cl);
		return 0;
	}
	rc = load_config(&cl, &cfg);
	n = rc < 0 ? -1 : share_options(argc, argv, &cl, &cfg, &o);
	options_release(&cl);
	if (n < 0) {
		config_free(&cfg);
		return 2;
	}
	log_set_level(o[0].debug ? LOG_LVL_DEBUG : cfg.log_level);
	d.cfg_total = cfg.cache_limit;
	d.cfg_auto = o[0].cache_size ? o[0].cache_size : cfg.auto_cache_limit;

	d.mounts = calloc((size_t)n, sizeof(*d.mounts));
	if (!d.mounts)
		goto out;
	rc = cache_open(o[0].cache_dir, &d.cache);
	if (rc < 0)
		goto out;
	for (int i = 0; i < n && rc == 0; i++) {
		rc = share_open(&d, &d.mounts[i], &o[i]);
		d.nmounts++;
	}
	if (rc < 0)
		goto out_shares;
	rc = ipc_server_new(o[0].socket, ctl_handle, ctl_client_closed, &d, &d.srv);
	if (rc < 0)
		goto out_shares;
	for (size_t i = 0; i < d.nmounts; i++)
		d.mounts[i].srv = d.srv;
	cache_set_conflict_hook(d.cache, ctl_conflict_event, &d);
	for (size_t i = 0; i < d.nmounts && rc == 0; i++)
		rc = share_mount(&d.mounts[i]);
	if (rc == 0)
		rc = fs_daemonize(o[0].foreground);
	if (rc == 0)
		status = run(&d);
	cache_set_conflict_hook(d.cache, NULL, NULL);
	ipc_server_stop(d.srv);
out_shares:
	for (size_t i = 0; i < d.nmounts; i++)
		share_close(&d.mounts[i]);
	cache_close(d.cache);
out:
	free(d.mounts);
	for (int i = 0; i < n; i++)
		options_release(&o[i]);
	free(o);
	config_free(&cfg);
	return status;
}

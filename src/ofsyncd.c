/*
 * ofsyncd.c - the daemon: parse the command line, open the cache, reach the
 * server, mount, daemonize, then serve the mount and the control socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fs/fs.h"
#include "ipc/server.h"
#include "ofsync.h"
#include "options.h"
#include "sync/sync.h"
#include "util/log.h"

int main(int argc, char **argv)
{
	struct mount m = {0};
	struct options o;
	struct smb_conf sc;
	struct fs_conf fc;
	struct ipc_server *srv = NULL;
	struct fs *fs = NULL;
	char err[1024];
	int rc, status = 1;

	rc = options_parse(argc, argv, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "ofsyncd: %s\nTry 'ofsyncd --help'.\n", err);
		options_release(&o);
		return 2;
	}
	if (o.help || o.version) {
		if (o.help)
			options_usage(stdout);
		else
			printf("ofsyncd %s\n", OFSYNC_VERSION);
		options_release(&o);
		return 0;
	}
	rc = options_validate(&o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "ofsyncd: %s\n", err);
		options_release(&o);
		return 2;
	}
	log_set_level(o.debug ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	m.opts = &o;

	rc = cache_open(o.cache_dir, &m.cache);
	if (rc < 0)
		goto out;
	rc = index_share(cache_index(m.cache), o.unc_text, &m.share, &m.root);
	if (rc < 0) {
		log_err("cannot record %s in the index", o.unc_text);
		goto out_cache;
	}
	sc = (struct smb_conf){.server = o.unc.server,
			       .port = o.unc.port,
			       .share = o.unc.share,
			       .base = o.unc.path,
			       .user = o.user,
			       .domain = o.domain,
			       .password = o.password,
			       .guest = o.guest,
			       .timeout = o.timeout};
	rc = smb_new(&sc, &m.smb);
	if (rc < 0) {
		log_err("cannot set up the SMB client: %s", strerror(-rc));
		goto out_cache;
	}
	/*
	 * Windows' "Always Offline" needs nothing more: with the server
	 * unreachable (or -o offline) the mount is served from the index, and
	 * the prober brings the share online when the server appears.  A server
	 * that answers and refuses (no such share, bad password) is an error.
	 */
	if (o.offline) {
		smb_force(m.smb, 1);
		log_info("%s: starting forced offline", o.unc_text);
	} else {
		rc = smb_probe(m.smb);
		if (rc < 0 && !smb_is_conn_error(rc)) {
			log_err("%s: %s", o.unc_text, strerror(-rc));
			fprintf(stderr, "ofsyncd: cannot use %s: %s\n", o.unc_text, strerror(-rc));
			goto out_smb;
		}
		if (rc < 0)
			log_warn("%s is unreachable (%s): serving the cache offline", o.unc_text,
				 strerror(-rc));
	}

	rc = ipc_server_new(o.socket, ctl_handle, ctl_client_closed, &m, &srv);
	if (rc < 0)
		goto out_smb;
	m.srv = srv;
	cache_set_conflict_hook(m.cache, ctl_conflict_event, &m);
	fc = (struct fs_conf){.cache = m.cache,
			      .smb = m.smb,
			      .share = m.share,
			      .root = m.root,
			      .attr_timeout = o.attr_timeout,
			      .cache_dir = o.cache_dir,
			      .fsname = o.unc_text,
			      .fuse_opts = o.fuse_opts,
			      .debug = o.debug};
	rc = fs_mount(&fc, o.mountpoint, &fs);
	if (rc < 0)
		goto out_srv;
	rc = fs_daemonize(o.foreground);
	if (rc < 0)
		goto out_fs;
	/* Threads start after daemonizing. */
	rc = ipc_server_start(srv);
	if (rc < 0) {
		log_err("cannot start the control socket thread: %s", strerror(-rc));
		goto out_fs;
	}
	rc = prober_start(&m, &m.prober);
	if (rc < 0) {
		log_err("cannot start the probe thread: %s", strerror(-rc));
		goto out_fs;
	}
	rc = syncer_start(&m, &m.syncer);
	if (rc < 0) {
		log_err("cannot start the sync thread: %s", strerror(-rc));
		prober_stop(m.prober);
		goto out_fs;
	}
	rc = fs_run(fs);
	status = rc < 0 ? 1 : 0;
	/*
	 * No control command runs once the socket's thread is halted; then the
	 * threads that publish to it end; then everything is freed.
	 */
	ipc_server_halt(srv);
	syncer_stop(m.syncer);
	prober_stop(m.prober);
	cache_set_conflict_hook(m.cache, NULL, NULL);
	ipc_server_stop(srv);
	srv = NULL;
	syncer_free(m.syncer);
out_fs:
	ipc_server_stop(srv);
	srv = NULL;
	fs_free(fs);
out_srv:
	ipc_server_stop(srv);
out_smb:
	smb_free(m.smb);
out_cache:
	cache_close(m.cache);
out:
	options_release(&o);
	return status;
}

/* master.c: the pre-fork master (rg_master_run). It owns the listening sockets
 * (sockets.c: one per worker slot and address, SO_REUSEPORT, so the kernel
 * spreads connections over the workers) and the shared statistics board, forks
 * the workers and supervises them: a worker that dies is replaced
 * (rate-limited), TERM/INT stop gracefully, QUIT at once, HUP reloads the
 * configuration by starting a new generation on the same sockets before
 * draining the old one (so no connection is refused: a socket never closes
 * while clients queue on it), USR1 reopens the logs, USR2 writes the memory
 * dump to the error log. Every 10 s it samples the board into its history
 * (what /stats shows of the last 10 minutes). Signals arrive on a
 * signalfd: the loop is one poll(2), with no handler racing waitpid. */
#include "core/stats.h"
#include "ops/ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 10000 /* a new worker must accept within this */
#define KILL_GRACE_MS 2000     /* past shutdown_timeout, before SIGKILL */
#define STABLE_MS 1000	       /* a worker that lived this long was fine */
#define RESTART_MAX_DELAY_MS 10000
#define MAX_PROCS (2 * RG_MAX_WORKERS) /* two generations during a reload */

struct proc {
	pid_t pid; /* 0: a free entry; its index is its board slot */
	unsigned gen, slot;
	bool ready;
	int64_t started;
};

enum state { STARTING, RUNNING, RELOADING, STOPPING };

struct master {
	int (*worker)(const struct rg_worker *w, void *arg);
	void *arg;
	const struct rg_config_source *src;
	struct rg_config *set, *next_set; /* running; being started */
	struct rg__sockset *socks, *next_socks;
	unsigned gen;	  /* of the running workers */
	unsigned new_gen; /* of those being started (RELOADING) */
	enum state state;
	int64_t deadline; /* STARTING/RELOADING: ready by; STOPPING: kill at */
	int status;
	struct proc procs[MAX_PROCS];
	struct {
		int64_t restart_at; /* 0: none pending */
		unsigned fails;	    /* quick deaths in a row */
	} slots[RG_MAX_WORKERS];
	struct rg_stats_board *board;
	int64_t sample_at; /* the next sample of the board's history */
	int sigfd, ready_rd, ready_wr;
	pid_t pid;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_listening(const struct master *m)
{
	char list[512];
	size_t n = 0;
	const struct rg__sockset *s = m->socks;
	list[0] = '\0';
	for (unsigned j = 0; j < s->naddrs && n < sizeof(list); j++) {
		int v6 = strchr(s->addr[j].host, ':') != NULL;
		int w = snprintf(list + n, sizeof(list) - n, "%s%s%s%s:%u",
				 j ? ", " : "", v6 ? "[" : "", s->addr[j].host,
				 v6 ? "]" : "", (unsigned)s->addr[j].port);
		if (w > 0)
			n += (size_t)w;
	}
	rg_log(RG_LOG_INFO,
	       "ringlet %s: %u worker%s listening on %s; configuration: %s",
	       RG_VERSION, m->set->workers, m->set->workers == 1 ? "" : "s",
	       list, m->set->name);
}

/* ------------------------------------------------------------------------
 * Workers
 * ------------------------------------------------------------------------ */

static void child_exec(struct master *m, unsigned p,
		       const struct rg_config *set,
		       const struct rg__sockset *socks, unsigned slot)
{
	/* The worker stops if the master dies, even by SIGKILL, instead of
	 * serving on unsupervised (and exits if that happened already). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != m->pid)
		_exit(1);
	close(m->sigfd);
	close(m->ready_rd);
	int fds[RG_MAX_LISTEN];
	for (unsigned j = 0; j < socks->naddrs; j++)
		fds[j] = socks->fd[slot][j];
	/* Only its own sockets: the others' would keep them open. */
	const struct rg__sockset *all[] = {m->socks, m->next_socks};
	for (unsigned t = 0; t < 2; t++)
		for (unsigned i = 0; all[t] && i < all[t]->nslots; i++)
			for (unsigned j = 0; j < all[t]->naddrs; j++) {
				bool mine = false;
				for (unsigned k = 0; k < socks->naddrs; k++)
					mine |= all[t]->fd[i][j] == fds[k];
				if (!mine && all[t]->fd[i][j] >= 0)
					close(all[t]->fd[i][j]);
			}
	struct rg_worker w = {
	    .config = set,
	    .fds = fds,
	    .nfds = socks->naddrs,
	    .board = m->board,
	    .slot = p,
	    .ready_fd = m->ready_wr,
	};
	exit(m->worker(&w, m->arg));
}

static int spawn(struct master *m, const struct rg_config *set,
		 const struct rg__sockset *socks, unsigned gen, unsigned slot)
{
	unsigned p = 0;
	while (p < MAX_PROCS && m->procs[p].pid)
		p++;
	if (p == MAX_PROCS)
		return -EAGAIN;
	rg_stats_board_clear(m->board, p);
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		rg_log(RG_LOG_ERROR, "cannot fork a worker: %s", strerror(err));
		return -err;
	}
	if (pid == 0)
		child_exec(m, p, set, socks, slot);
	m->procs[p] = (struct proc){pid, gen, slot, false, now_ms()};
	return 0;
}

static int spawn_all(struct master *m, const struct rg_config *set,
		     const struct rg__sockset *socks, unsigned gen)
{
	for (unsigned i = 0; i < set->workers; i++) {
		int rc = spawn(m, set, socks, gen, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Sends `sig` to the workers of generation `gen` (or of every one: -1). */
static void signal_gen(struct master *m, int gen, int sig)
{
	for (unsigned p = 0; p < MAX_PROCS; p++)
		if (m->procs[p].pid &&
		    (gen < 0 || m->procs[p].gen == (unsigned)gen))
			kill(m->procs[p].pid, sig);
}

static unsigned count_gen(const struct master *m, unsigned gen, bool ready)
{
	unsigned n = 0;
	for (unsigned p = 0; p < MAX_PROCS; p++)
		n += m->procs[p].pid && m->procs[p].gen == gen &&
		     (!ready || m->procs[p].ready);
	return n;
}

static bool any_alive(const struct master *m)
{
	for (unsigned p = 0; p < MAX_PROCS; p++)
		if (m->procs[p].pid)
			return true;
	return false;
}

/* Stops every worker: gracefully (TERM: they finish what is in flight
 * within shutdown_timeout), or at once (`now`: QUIT). */
static void stop(struct master *m, bool now, const char *why)
{
	if (m->state == STOPPING && !now)
		return; /* already stopping gracefully */
	rg_log(RG_LOG_INFO, "%s: stopping %s", why, now ? "now" : "gracefully");
	m->state = STOPPING;
	signal_gen(m, -1, now ? SIGQUIT : SIGTERM);
	/* The workers close theirs too: new clients are refused, not left
	 * queueing. */
	rg__sockset_close(m->next_socks, m->socks);
	rg__sockset_close(m->socks, NULL);
	/* TERM: each worker drains first (drain_delay), then stops. */
	uint32_t grace = m->set->server.shutdown_timeout_ms;
	uint32_t drain = m->set->server.drain_delay_ms;
	m->deadline = !now && !grace ? INT64_MAX /* 0: wait for them */
				     : now_ms() + KILL_GRACE_MS +
					   (now ? 0 : (int64_t)grace + drain);
}

/* ------------------------------------------------------------------------
 * Reload
 * ------------------------------------------------------------------------ */

/* Back to the running configuration's error log. */
static void reload_abandon_log(struct master *m)
{
	const struct rg_config *f = m->set;
	if (rg_log_open(f->error_log, f->log_level) < 0)
		rg_log(RG_LOG_ERROR, "cannot reopen the error log %s: %s",
		       f->error_log, strerror(errno));
}

static void reload_abandon(struct master *m, const char *why)
{
	reload_abandon_log(m);
	rg_log(RG_LOG_ERROR, "reload failed: %s; the running workers stay",
	       why);
	signal_gen(m, (int)m->new_gen, SIGKILL);
	rg__sockset_close(m->next_socks, m->socks);
	rg_config_free(m->next_set);
	m->state = RUNNING;
}

static void reload_begin(struct master *m)
{
	char err[512];
	rg_log(RG_LOG_INFO, "SIGHUP: reloading the configuration");
	if (m->state != RUNNING) {
		rg_log(RG_LOG_WARN, "SIGHUP ignored: %s",
		       m->state == RELOADING ? "a reload is in progress"
					     : "not running");
		return;
	}
	if (rg_config_load(m->next_set, m->src, err, sizeof(err)) < 0) {
		rg_log(RG_LOG_ERROR, "reload failed: %s; nothing changed", err);
		return;
	}
	/* The new error log first: the new workers inherit it. */
	const struct rg_config *nf = m->next_set;
	if (rg_log_open(nf->error_log, nf->log_level) < 0) {
		rg_log(RG_LOG_ERROR,
		       "reload failed: cannot open the error log %s: %s; "
		       "nothing changed",
		       nf->error_log, strerror(errno));
		rg_config_free(m->next_set);
		return;
	}
	if (rg__sockset_open(m->next_socks, m->next_set, m->socks) < 0) {
		reload_abandon_log(m);
		rg_config_free(m->next_set);
		rg_log(RG_LOG_ERROR, "reload failed; nothing changed");
		return;
	}
	m->new_gen = m->gen + 1;
	while (count_gen(m, m->new_gen, false)) /* an abandoned one's */
		m->new_gen++;
	m->state = RELOADING;
	m->deadline = now_ms() + READY_TIMEOUT_MS;
	rg_log(RG_LOG_INFO, "starting %u new worker%s (%s)",
	       m->next_set->workers, m->next_set->workers == 1 ? "" : "s",
	       m->next_set->name);
	if (spawn_all(m, m->next_set, m->next_socks, m->new_gen) < 0)
		reload_abandon(m, "cannot start the new workers");
}

/* Every new worker accepts: the old ones stop (WINCH: gracefully, without
 * drain_delay, since the new ones serve the port and answer the health
 * checks) and the new configuration becomes the running one. */
static void reload_commit(struct master *m)
{
	for (unsigned p = 0; p < MAX_PROCS; p++)
		if (m->procs[p].pid && m->procs[p].gen != m->new_gen)
			kill(m->procs[p].pid, SIGWINCH);
	m->gen = m->new_gen;
	rg__sockset_close(m->socks, m->next_socks);
	struct rg__sockset *s = m->socks;
	m->socks = m->next_socks;
	m->next_socks = s;
	struct rg_config *t = m->set;
	m->set = m->next_set;
	m->next_set = t;
	rg_config_free(m->next_set);
	for (unsigned i = 0; i < RG_MAX_WORKERS; i++)
		m->slots[i].restart_at = 0, m->slots[i].fails = 0;
	m->state = RUNNING;
	rg_log(RG_LOG_INFO, "reloaded: the old workers are draining");
	log_listening(m);
}

/* ------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------ */

static void describe_exit(char *buf, size_t n, int st)
{
	if (WIFSIGNALED(st))
		snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
}

static void on_exit_of(struct master *m, struct proc *pr, int st)
{
	char how[96];
	describe_exit(how, sizeof(how), st);
	bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	struct proc dead = *pr;
	pr->pid = 0;
	rg__stats_board_retire(m->board, (unsigned)(pr - m->procs));

	if (m->state == STOPPING) {
		if (!clean) {
			rg_log(RG_LOG_ERROR, "worker %d %s while stopping",
			       (int)dead.pid, how);
			m->status = 1;
		}
		return;
	}
	if (m->state == RELOADING && dead.gen == m->new_gen && !dead.ready) {
		rg_log(RG_LOG_ERROR, "new worker %d %s before accepting",
		       (int)dead.pid, how);
		reload_abandon(m, "a new worker did not start");
		return;
	}
	if (dead.gen != m->gen) { /* old or abandoned: expected to go */
		if (!clean && !WIFSIGNALED(st))
			rg_log(RG_LOG_WARN, "old worker %d %s", (int)dead.pid,
			       how);
		return;
	}
	if (m->state == STARTING) {
		rg_log(RG_LOG_ERROR, "worker %d %s before accepting",
		       (int)dead.pid, how);
		m->status = 1;
		stop(m, false, "a worker did not start");
		return;
	}
	/* A running worker died: replace it, at once if it had been up a
	 * while, otherwise after a delay that doubles with each quick death
	 * (a crash loop must not spin). */
	unsigned slot = dead.slot;
	int64_t now = now_ms();
	unsigned fails =
	    now - dead.started >= STABLE_MS ? 0 : m->slots[slot].fails + 1;
	int64_t delay = fails ? 100LL << (fails < 7 ? fails : 7) : 0;
	if (delay > RESTART_MAX_DELAY_MS)
		delay = RESTART_MAX_DELAY_MS;
	m->slots[slot].fails = fails;
	m->slots[slot].restart_at = now + delay;
	rg_log(RG_LOG_ERROR, "worker %d %s; restarting it%s", (int)dead.pid,
	       how, delay ? " after a delay" : "");
}

static void reap(struct master *m)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned p = 0; p < MAX_PROCS; p++)
			if (m->procs[p].pid == pid) {
				on_exit_of(m, &m->procs[p], st);
				break;
			}
	}
}

static void on_ready(struct master *m)
{
	int32_t pids[64];
	ssize_t n;
	while ((n = read(m->ready_rd, pids, sizeof(pids))) > 0) {
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(pids[0]); i++)
			for (unsigned p = 0; p < MAX_PROCS; p++)
				if (m->procs[p].pid == pids[i])
					m->procs[p].ready = true;
	}
	if (m->state == STARTING &&
	    count_gen(m, m->gen, true) == m->set->workers) {
		m->state = RUNNING;
		log_listening(m);
	} else if (m->state == RELOADING &&
		   count_gen(m, m->new_gen, true) == m->next_set->workers) {
		reload_commit(m);
	}
}

static void dump_line(void *arg, const char *text)
{
	(void)arg;
	rg_log(RG_LOG_INFO, "%s", text);
}

static void on_signal(struct master *m)
{
	struct signalfd_siginfo si;
	while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
			stop(m, si.ssi_signo == SIGQUIT,
			     strsignal((int)si.ssi_signo));
			break;
		case SIGHUP:
			reload_begin(m);
			break;
		case SIGUSR1:
			rg_log_reopen();
			signal_gen(m, -1, SIGUSR1);
			rg_log(RG_LOG_INFO, "SIGUSR1: logs reopened");
			break;
		case SIGUSR2:
			rg_log(RG_LOG_INFO, "SIGUSR2: memory dump");
			rg__stats_board_dump(m->board, dump_line, NULL);
			break;
		case SIGCHLD:
			reap(m);
			break;
		}
	}
}

/* Timers: a late generation, the kill deadline, pending restarts, the
 * history's sample. The poll timeout until the next one, or -1. */
static int on_time(struct master *m)
{
	int64_t now = now_ms(), next = -1;
	if (now >= m->sample_at) {
		if (m->state != STOPPING)
			rg__stats_board_sample(m->board, now, time(NULL));
		m->sample_at += RG__HISTORY_INTERVAL_MS;
		if (m->sample_at <= now) /* the master was held up */
			m->sample_at = now + RG__HISTORY_INTERVAL_MS;
	}
	if (m->state == STARTING && now >= m->deadline) {
		rg_log(RG_LOG_ERROR, "the workers did not start within %d ms",
		       READY_TIMEOUT_MS);
		m->status = 1;
		stop(m, false, "the workers did not start");
	} else if (m->state == RELOADING && now >= m->deadline) {
		reload_abandon(m, "the new workers did not start in time");
	} else if (m->state == STOPPING && now >= m->deadline) {
		rg_log(RG_LOG_WARN, "workers still running after the "
				    "shutdown timeout: killing them");
		signal_gen(m, -1, SIGKILL);
		m->status = 1;
		m->deadline = INT64_MAX;
	}
	if (m->state != RUNNING && m->deadline != INT64_MAX)
		next = m->deadline;
	for (unsigned i = 0; m->state == RUNNING && i < m->set->workers; i++) {
		int64_t at = m->slots[i].restart_at;
		if (!at)
			continue;
		if (at <= now) {
			m->slots[i].restart_at = 0;
			if (spawn(m, m->set, m->socks, m->gen, i) < 0)
				m->slots[i].restart_at = now + 1000;
			else
				continue;
		}
		at = m->slots[i].restart_at;
		if (next < 0 || at < next)
			next = at;
	}
	if (m->state != STOPPING && (next < 0 || m->sample_at < next))
		next = m->sample_at;
	if (next < 0)
		return -1;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

int rg_master_run(struct rg_config *config, const struct rg_config_source *src,
		  int (*worker)(const struct rg_worker *w, void *arg),
		  void *arg)
{
	static struct master m0;
	static struct rg__sockset socks[2];
	static struct rg_config configs[2];
	struct master *m = &m0;
	configs[0] = *config; /* taken over */
	*config = (struct rg_config){0};
	*m = (struct master){.worker = worker,
			     .arg = arg,
			     .src = src,
			     .set = &configs[0],
			     .next_set = &configs[1],
			     .socks = &socks[0],
			     .next_socks = &socks[1],
			     .state = STARTING,
			     .sigfd = -1,
			     .ready_rd = -1,
			     .ready_wr = -1,
			     .pid = getpid()};

	sigset_t set;
	sigemptyset(&set);
	static const int sigs[] = {SIGTERM, SIGINT,  SIGQUIT, SIGHUP,
				   SIGUSR1, SIGUSR2, SIGCHLD};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int pipefd[2];
	if ((m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    pipe2(pipefd, O_CLOEXEC) < 0) {
		rg_log(RG_LOG_ERROR, "cannot set up the master: %s",
		       strerror(errno));
		return 1;
	}
	m->ready_rd = pipefd[0];
	m->ready_wr = pipefd[1];
	fcntl(m->ready_rd, F_SETFL, O_NONBLOCK);
	if (!(m->board = rg_stats_board_create(MAX_PROCS))) {
		rg_log(RG_LOG_ERROR, "cannot map the statistics board: %s",
		       strerror(errno));
		return 1;
	}
	if (rg__sockset_open(m->socks, m->set, NULL) < 0) {
		m->status = 1;
		goto out;
	}
	m->deadline = now_ms() + READY_TIMEOUT_MS;
	m->sample_at = now_ms() + RG__HISTORY_INTERVAL_MS;
	if (spawn_all(m, m->set, m->socks, m->gen) < 0) {
		m->status = 1;
		stop(m, false, "cannot start the workers");
	}

	while (m->state != STOPPING || any_alive(m)) {
		struct pollfd pf[2] = {{.fd = m->sigfd, .events = POLLIN},
				       {.fd = m->ready_rd, .events = POLLIN}};
		int timeout = on_time(m);
		if (m->state == STOPPING && !any_alive(m))
			break;
		if (poll(pf, 2, timeout) < 0 && errno != EINTR) {
			rg_log(RG_LOG_ERROR, "poll: %s", strerror(errno));
			signal_gen(m, -1, SIGKILL);
			m->status = 1;
			break;
		}
		if (pf[1].revents)
			on_ready(m);
		if (pf[0].revents)
			on_signal(m);
	}
out:
	rg_config_free(m->set);
	rg_config_free(m->next_set);
	rg__sockset_close(m->socks, NULL);
	rg_stats_board_destroy(m->board);
	close(m->sigfd);
	close(m->ready_rd);
	close(m->ready_wr);
	if (m->state == STOPPING && !m->status)
		rg_log(RG_LOG_INFO, "stopped");
	return m->status;
}

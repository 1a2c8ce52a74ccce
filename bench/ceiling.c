/* bench/ceiling.c: a measuring stick, NOT a server. The least an HTTP/1.1
 * responder can do with io_uring on this machine to answer wrk's plaintext
 * requests correctly, run by bench/server.sh beside ringlet so that the
 * report gives ringlet's share of it (ringlet ÷ ceiling) from the same run.
 *
 * It parses nothing: every "\r\n\r\n" it receives ends a request (GET
 * without a body is all it can take), and each one is answered, in order,
 * with the same 132 bytes ringlet's /plaintext sends (the status line,
 * Server, Date, Content-Type, Content-Length, "Hello, World!"), whatever the
 * path. "Server: ceiling" is as long as "Server: ringlet".
 *
 * One process, one thread, one io_uring: a multishot accept; per
 * connection a multishot receive into a ring of provided buffers, each
 * buffer scanned and handed back at once; after each batch of completions,
 * one send per connection of all the responses it owes (BATCH at most),
 * the rest of a short send sent again. One io_uring_submit_and_wait per
 * loop, no timers: the Date is rewritten when the second changes, checked
 * once per loop.
 *
 * Usage: ceiling PORT (on 127.0.0.1). SIGTERM or SIGINT: exit 0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ENTRIES 1024  /* submission queue; the completion queue has 8x */
#define NBUFS 1024    /* receive buffers, a power of two */
#define BUF_SIZE 4096 /* bytes each */
#define BGID 0	      /* their buffer group */
#define BATCH 256     /* responses in one send at most */

#define HEAD "HTTP/1.1 200 OK\r\nServer: ceiling\r\nDate: "
#define DATE_LEN 29 /* "Fri, 04 Dec 2026 18:05:46 GMT" */
#define TAIL                                                                   \
	"\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"           \
	"Hello, World!"
#define RESP_LEN (sizeof(HEAD) - 1 + DATE_LEN + sizeof(TAIL) - 1)

enum { ACCEPT, RECV, SEND, SIGNAL }; /* the low 2 bits of user_data */

struct conn {
	uint32_t owed; /* requests counted, not yet in a send */
	uint32_t len;  /* bytes of the send in flight; 0: none */
	uint32_t done; /* of those, sent */
	uint8_t scan;  /* of "\r\n\r\n", bytes the last receive ended with */
	uint8_t copy;  /* the canned copy that send reads */
	bool listed;   /* in todo[] */
	bool ended;    /* its receive ended: close once no send is in flight */
};

/* BATCH responses back to back, twice: a new Date goes into the copy no
 * send reads, which then becomes the current one. */
static struct canned {
	char bytes[BATCH * RESP_LEN];
	unsigned readers; /* sends in flight from it */
} canned[2];
static unsigned cur;
static time_t shown = -1;

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static int lfd, sfd;
static struct conn *conns; /* indexed by fd */
static unsigned nconns;
static int *todo; /* connections with responses owed, after this batch */
static unsigned ntodo;

static void die(const char *what, int err)
{
	fprintf(stderr, "ceiling: %s: %s\n", what, strerror(err));
	exit(1);
}

static void canned_refresh(void)
{
	time_t now = time(NULL);
	unsigned next = cur ^ 1;

	/* The same second, or a send still reads it: the next loop, then. */
	if (now == shown || canned[next].readers)
		return;
	struct tm tm;
	char date[DATE_LEN + 1];
	char *p = canned[next].bytes;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	memcpy(p, HEAD, sizeof(HEAD) - 1);
	memcpy(p + sizeof(HEAD) - 1, date, DATE_LEN);
	memcpy(p + sizeof(HEAD) - 1 + DATE_LEN, TAIL, sizeof(TAIL) - 1);
	for (unsigned i = 1; i < BATCH; i++)
		memcpy(p + i * RESP_LEN, p, RESP_LEN);
	cur = next;
	shown = now;
}

static struct io_uring_sqe *sqe_get(uint64_t data)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&ring)))
		io_uring_submit(&ring);
	io_uring_sqe_set_data64(sqe, data);
	return sqe;
}

static void arm_accept(void)
{
	io_uring_prep_multishot_accept(sqe_get(ACCEPT), lfd, NULL, NULL, 0);
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *sqe = sqe_get((uint64_t)fd << 2 | RECV);

	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
}

static void send_rest(int fd)
{
	struct conn *c = &conns[fd];

	io_uring_prep_send(sqe_get((uint64_t)fd << 2 | SEND), fd,
			   canned[c->copy].bytes + c->done, c->len - c->done,
			   MSG_NOSIGNAL);
}

static void send_start(int fd)
{
	struct conn *c = &conns[fd];
	uint32_t n = c->owed < BATCH ? c->owed : BATCH;

	c->owed -= n;
	c->copy = (uint8_t)cur;
	canned[cur].readers++;
	c->len = n * (uint32_t)RESP_LEN;
	c->done = 0;
	send_rest(fd);
}

static void list(int fd)
{
	if (!conns[fd].listed) {
		conns[fd].listed = true;
		todo[ntodo++] = fd;
	}
}

/* A fresh state for fd; `listed` stays, as todo[] may hold fd. */
static void conn_reset(int fd)
{
	conns[fd] = (struct conn){.listed = conns[fd].listed};
}

static void conn_close(int fd)
{
	close(fd);
	conn_reset(fd);
}

static void give_back(unsigned bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(br, 1);
}

/* Request ends in p[0..n), from the state the last receive left: how much
 * of "\r\n\r\n" it ended with. memchr skips to the next '\r' whenever
 * nothing is matched, so most bytes are not looked at one by one. */
static unsigned scan(uint8_t *state, const char *p, size_t n)
{
	const char *end = p + n;
	unsigned ends = 0, s = *state;

	while (p < end) {
		if (s == 0 && !(p = memchr(p, '\r', (size_t)(end - p))))
			break;
		char ch = *p++;
		if (ch == '\r')
			s = s == 2 ? 3 : 1;
		else if (ch == '\n' && s == 1)
			s = 2;
		else if (ch == '\n' && s == 3)
			ends++, s = 0;
		else
			s = 0;
	}
	*state = (uint8_t)s;
	return ends;
}

static void on_accept(int res, unsigned flags)
{
	if (!(flags & IORING_CQE_F_MORE))
		arm_accept();
	if (res < 0)
		return; /* ECONNABORTED, EMFILE: the next one may do */
	if ((unsigned)res >= nconns) {
		close(res);
		return;
	}
	int one = 1;

	setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_reset(res);
	arm_recv(res);
}

static void on_recv(int fd, int res, unsigned flags)
{
	struct conn *c = &conns[fd];

	if (res > 0) {
		unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
		unsigned n =
		    scan(&c->scan, bufs + (size_t)bid * BUF_SIZE, (size_t)res);

		give_back(bid);
		if (n) {
			c->owed += n;
			list(fd);
		}
		if (!(flags & IORING_CQE_F_MORE))
			arm_recv(fd); /* multishot ended; the socket is open */
		return;
	}
	if (res == -ENOBUFS) {
		/* Every buffer was in use: they are back by the next submit. */
		arm_recv(fd);
		return;
	}
	/* 0: the peer closed; an error: the connection is gone. */
	c->ended = true;
	if (!c->len)
		conn_close(fd);
}

static void on_send(int fd, int res)
{
	struct conn *c = &conns[fd];

	if (res > 0 && c->done + (uint32_t)res < c->len) {
		c->done += (uint32_t)res;
		send_rest(fd); /* short: the socket buffer was full */
		return;
	}
	canned[c->copy].readers--;
	c->len = 0;
	if (res <= 0) {
		/* EPIPE, ECONNRESET: answer no more, and end the receive. */
		c->owed = 0;
		shutdown(fd, SHUT_RDWR);
	}
	if (c->ended)
		conn_close(fd);
	else if (c->owed)
		list(fd);
}

/* liburing 2.3 (Debian 12) has no io_uring_setup_buf_ring (2.4): the ring
 * is mapped and registered here. */
static void setup_buffers(void)
{
	br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf),
		  PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bufs = malloc((size_t)NBUFS * BUF_SIZE);
	if (br == MAP_FAILED || !bufs)
		die("receive buffers", ENOMEM);
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = {
	    .ring_addr = (uintptr_t)br, .ring_entries = NBUFS, .bgid = BGID};
	int err = io_uring_register_buf_ring(&ring, &reg, 0);

	if (err < 0)
		die("io_uring_register_buf_ring (Linux 5.19)", -err);
	for (unsigned i = 0; i < NBUFS; i++)
		give_back(i);
}

static void setup_ring(void)
{
	/* The cheapest first: completions run only when we wait. */
	static const unsigned setups[] = {IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN,
					  IORING_SETUP_COOP_TASKRUN, 0};
	int err = -ENOSYS;

	for (unsigned i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
		struct io_uring_params p = {.flags = setups[i] |
						     IORING_SETUP_CQSIZE |
						     IORING_SETUP_SUBMIT_ALL,
					    .cq_entries = ENTRIES * 8};
		if ((err = io_uring_queue_init_params(ENTRIES, &ring, &p)) == 0)
			break;
	}
	if (err < 0)
		die("io_uring_queue_init", -err);
	io_uring_register_ring_fd(&ring);
}

static void setup_sockets(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	sigset_t sigs;
	struct rlimit rl;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket", errno);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind", errno);
	if (listen(lfd, 4096) < 0)
		die("listen", errno);

	/* SIGTERM and SIGINT arrive as a completion, never mid-loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd", errno);

	getrlimit(RLIMIT_NOFILE, &rl);
	nconns = rl.rlim_cur < (1u << 20) ? (unsigned)rl.rlim_cur : 1u << 20;
	conns = calloc(nconns, sizeof(*conns));
	todo = calloc(nconns, sizeof(*todo));
	if (!conns || !todo)
		die("connection table", ENOMEM);
}

int main(int argc, char **argv)
{
	char *end;
	long port = argc == 2 ? strtol(argv[1], &end, 10) : 0;

	if (argc != 2 || *end || port < 1 || port > 65535) {
		fprintf(stderr, "usage: ceiling PORT (listens on 127.0.0.1)\n");
		return 2;
	}
	setup_sockets((int)port);
	setup_ring();
	setup_buffers();
	canned_refresh();
	arm_accept();
	io_uring_prep_poll_add(sqe_get(SIGNAL), sfd, POLLIN);

	for (;;) {
		int err = io_uring_submit_and_wait(&ring, 1);

		if (err < 0 && err != -EINTR)
			die("io_uring_submit_and_wait", -err);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		io_uring_for_each_cqe(&ring, head, cqe)
		{
			uint64_t data = io_uring_cqe_get_data64(cqe);
			int fd = (int)(data >> 2);

			seen++;
			switch (data & 3) {
			case ACCEPT:
				on_accept(cqe->res, cqe->flags);
				break;
			case RECV:
				on_recv(fd, cqe->res, cqe->flags);
				break;
			case SEND:
				on_send(fd, cqe->res);
				break;
			case SIGNAL:
				/* The ring, freed after exit, holds the
				 * listener: free the port now. */
				shutdown(lfd, SHUT_RDWR);
				return 0;
			}
		}
		io_uring_cq_advance(&ring, seen);

		canned_refresh();
		for (unsigned i = 0; i < ntodo; i++) {
			struct conn *c = &conns[todo[i]];

			c->listed = false;
			if (!c->len && c->owed && !c->ended)
				send_start(todo[i]);
		}
		ntodo = 0;
	}
}

/* sendfile.c: rg_stream_file: bytes of an open file as (part of) a streamed
 * body; read into the output buffer when small, so that the head and the
 * body leave in one send, else sent with sendfile(2) from the page cache
 * straight into the socket, the handler suspended while the socket is
 * full. */
#include "core/server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bodies up to this size are copied into the output buffer, so that the
 * responses to pipelined requests leave in one send. Measured with wrk
 * (one worker, 64 connections): copying a 12 KiB file was ~15% slower than
 * sendfile, a 6 KiB one slower too, a 2.9 KiB one the same: hence 4 KiB. */
#define RG__FILE_COPY_MAX 4096
/* Bytes one handler sends before it lets the other connections run (a
 * fast client on loopback would otherwise take a whole large file in one
 * go). */
#define RG__FILE_BURST (1u << 20)
/* Bytes per sendfile call: the kernel's own cap is 0x7ffff000. */
#define RG__FILE_PIECE (1u << 30)

/* Ends the response after a failure: nothing more may follow its bytes,
 * and if it is short only closing tells the client. */
static int failed(struct rg_request *req, int err)
{
	req->resp = RG__RESP_DONE;
	req->conn->flags |= RG__C_LAST;
	return err;
}

/* A socket error ends the connection; a file error only the response. */
static int send_error(struct rg__conn *c, int err)
{
	if (err == EPIPE || err == ECONNRESET || err == ENOTCONN ||
	    err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH) {
		rg__conn_close(c);
		return -ECONNRESET;
	}
	return -EIO;
}

/* Reads file[off, off + n) into the output buffer (n <= RG__FILE_COPY_MAX,
 * within the buffer). */
static int copy_file(struct rg_request *req, int fd, int64_t off, size_t n)
{
	struct rg__conn *c = req->conn;
	int err = rg__conn_reserve(c, n);
	if (err < 0)
		return err;
	char *dst = c->out + c->out_len;
	size_t got = 0;
	while (got < n) {
		ssize_t r =
		    pread(fd, dst + got, n - got, (off_t)off + (off_t)got);
		if (r > 0)
			got += (size_t)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else
			return -EIO; /* ended early (0) or unreadable */
	}
	rg__conn_wrote(c, c->out_len + n);
	req->body_sent += n;
	return 0;
}

/* Empties the output buffer (this head, earlier pipelined responses)
 * before file bytes go out behind it. When no send is in flight it is
 * sent from here, with MSG_MORE so that the head and the first file bytes
 * share segments; otherwise the send in flight is waited for. */
static int flush(struct rg_request *req)
{
	struct rg__conn *c = req->conn;
	while (c->out_len) {
		if (c->flags & RG__C_CLOSING)
			return -ECONNRESET;
		int err;
		if (c->tx.kind != RG__IO_NONE) {
			/* Room for a whole buffer = an empty buffer. */
			if ((err = rg__conn_reserve(c, RG__OUT_SIZE)) < 0)
				return err;
			continue;
		}
		ssize_t n = send(c->fd, c->out, c->out_len,
				 MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE);
		if (n > 0) {
			c->out_len -= (uint32_t)n;
			memmove(c->out, c->out + n, c->out_len);
		} else if (n < 0 && errno == EAGAIN) {
			if ((err = rg__conn_wait_writable(c)) < 0)
				return err;
		} else if (!(n < 0 && errno == EINTR)) {
			rg__conn_close(c);
			return -ECONNRESET;
		}
	}
	/* Nothing left to hold: an idle connection keeps no buffer. */
	if (c->out) {
		rg_slab_free(c->w->slab, c->out, RG__OUT_SIZE);
		c->out = NULL;
	}
	return 0;
}

static int send_file(struct rg_request *req, int fd, int64_t off, int64_t n)
{
	struct rg__conn *c = req->conn;
	int err = flush(req);
	if (err < 0)
		return err;
	uint64_t burst = 0;
	while (n > 0) {
		if (c->flags & RG__C_CLOSING)
			return -ECONNRESET;
		if (burst >= RG__FILE_BURST) {
			/* The socket is writable: this waits one loop turn. */
			burst = 0;
			if ((err = rg__conn_wait_writable(c)) < 0)
				return err;
		}
		size_t k = n > RG__FILE_PIECE ? RG__FILE_PIECE : (size_t)n;
		off_t pos = (off_t)off;
		ssize_t r = sendfile(c->fd, fd, &pos, k);
		if (r > 0) {
			off += r;
			n -= r;
			burst += (uint64_t)r;
			req->body_sent += (uint64_t)r;
			if (req->resp_left > 0)
				req->resp_left -= r;
		} else if (r == 0) {
			return -EIO; /* the file ended early */
		} else if (errno == EAGAIN) {
			burst = 0;
			if ((err = rg__conn_wait_writable(c)) < 0)
				return err;
		} else if (errno != EINTR) {
			return send_error(c, errno);
		}
	}
	return 0;
}

/* file[off, off + n) as raw body bytes. */
static int body(struct rg_request *req, int fd, int64_t off, int64_t n)
{
	if (n <= RG__FILE_COPY_MAX) {
		int err = copy_file(req, fd, off, (size_t)n);
		if (err == 0 && req->resp_left > 0)
			req->resp_left -= n;
		return err;
	}
	return send_file(req, fd, off, n);
}

int rg_stream_file(struct rg_request *req, int fd, int64_t offset,
		   int64_t length)
{
	if (req->resp != RG__RESP_STREAM || offset < 0 || length < 0 ||
	    length > INT64_MAX - offset)
		return -EINVAL;
	if (req->resp_left >= 0 && length > req->resp_left)
		return -EINVAL;
	if (!length || req->resp_body == RG__RESP_NO_BODY)
		return 0;
	int err;
	if (req->resp_body == RG__RESP_CHUNKED_BODY) {
		/* One chunk: its size line, the file, its CRLF. */
		char line[24];
		int k = snprintf(line, sizeof(line), "%llx\r\n",
				 (unsigned long long)length);
		if ((err = rg__conn_write(req->conn, line, (size_t)k)) < 0 ||
		    (err = body(req, fd, offset, length)) < 0 ||
		    (err = rg__conn_write(req->conn, "\r\n", 2)) < 0)
			return failed(req, err);
		req->body_sent += (uint64_t)k + 2; /* framing counts, as in
						      rg_stream_write */
		return 0;
	}
	if ((err = body(req, fd, offset, length)) < 0)
		return failed(req, err);
	return 0;
}

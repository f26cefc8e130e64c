/* stream.c — streaming responses for RT_STREAM routes (http.h).
 *
 * Why a duplicate descriptor: the handler runs on a worker while the I/O
 * thread still owns the libuv handle; if the client hangs up, the loop
 * closes its descriptor and the number could be reused by the next
 * accepted connection. The dup is taken on the loop thread before the job
 * is queued and closed by the worker when the handler returns, so the
 * worker only ever writes to this client's socket. The socket is
 * non-blocking (libuv): writes wait with poll(2), bounded by a timeout.
 *
 * After the handler returns, response_serialize sees `streamed` and sends
 * nothing; the connection is closed, which ends the body. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "server_internal.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000 /* Linux; without _GNU_SOURCE the header hides it */
#endif

void stream_acquire(conn_t *c)
{
    uv_os_fd_t fd;
    c->stream_open = false;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) return;
    int d = dup(fd);
    if (d < 0) return;
    c->stream_fd = d;
    c->stream_open = true;
}

void stream_release(conn_t *c)
{
    if (!c->stream_open) return;
    close(c->stream_fd);
    c->stream_open = false;
}

static int write_all(int fd, const char *p, size_t n, int timeout_ms)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int pr = poll(&pfd, 1, timeout_ms);
            if (pr <= 0 || (pfd.revents & (POLLERR | POLLHUP))) return ERR_IO;
            continue;
        }
        return ERR_IO;
    }
    return 0;
}

int http_stream_begin(http_req_t *req, http_res_t *res, const char *content_type)
{
    conn_t *c = req->kernel;
    if (!c || !c->stream_open) return ERR_INTERNAL;
    char date[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    buf_t h;
    buf_init(&h);
    buf_printf(&h,
               "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\nCache-Control: no-cache\r\n"
               "X-Request-ID: %s\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
               date, content_type, req->request_id ? req->request_id : "-");
    if (res->headers.n) buf_append(&h, res->headers.p, res->headers.n);
    buf_append_str(&h, "\r\n");
    res->status = 200;
    atomic_store(&c->streamed, true);
    int rc = write_all(c->stream_fd, h.p, h.n, 5000);
    buf_cleanup(&h);
    return rc;
}

int http_stream_write(http_req_t *req, const char *data, size_t len, int timeout_ms)
{
    conn_t *c = req->kernel;
    if (!c || !c->stream_open || !atomic_load(&c->streamed)) return ERR_INTERNAL;
    int rc = write_all(c->stream_fd, data, len, timeout_ms);
    /* read by the I/O thread only after the job came back (the pool's
     * hand-over orders it) */
    if (rc == 0) c->res.stream_sent += len;
    return rc;
}

bool http_stream_closing(const http_req_t *req)
{
    const conn_t *c = req->kernel;
    return !c || atomic_load(&c->loop->srv->stopping);
}

bool http_stream_gone(const http_req_t *req)
{
    const conn_t *c = req->kernel;
    if (!c || !c->stream_open) return true;
    /* the peer's FIN or a reset shows on our duplicate without reading
     * from it (the I/O thread owns reads) */
    struct pollfd pfd = {.fd = c->stream_fd, .events = POLLRDHUP};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

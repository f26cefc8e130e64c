/* conn.c — one client connection: reading, framing, timeouts, writing.
 *
 * A connection is a small state machine (server_internal.h: CS_*). Bytes are
 * appended to c->in; the head is parsed with the strict parser, copied into
 * the request arena, and the body (Content-Length or chunked) is collected
 * into c->body. Requests are handled one at a time: while one is in a
 * handler, further pipelined bytes wait in c->in (reading pauses when too
 * many are buffered), which answers pipelined requests in order for free.
 *
 * Gateway requests to an HTTP upstream with a chunked or large body are the
 * exception (CS_STREAM): they are dispatched right after the head, and the
 * body is decoded and fed to the proxy's sink as it arrives, paused and
 * resumed by the proxy (backpressure), so memory stays bounded whatever the
 * body's size; see http.h "streaming" and stream_*() below.
 *
 * Closing after an error uses a lingering close (shutdown the write side,
 * discard input for a moment) so the client reads our response instead of a
 * reset. Memory of a connection is freed only when both libuv handles are
 * closed and no job for it is in the worker pool. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "err.h"
#include "ids.h"
#include "log.h"
#include "server_internal.h"

#define LINGER_MS 2000
/* Bodies above this (or chunked) for an HTTP upstream are streamed; smaller
 * ones are read first, so that an idempotent request can be retried. */
#define STREAM_MIN_BYTES 65536
#define CONTINUE_100 "HTTP/1.1 100 Continue\r\n\r\n"

static void process(conn_t *c);
static void conn_close(conn_t *c);
static void read_start(conn_t *c);

uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static arena_t *arena_get(io_loop_t *l)
{
    if (l->narenas) return l->arenas[--l->narenas];
    return arena_new();
}

static void arena_put(io_loop_t *l, arena_t *a)
{
    arena_reset(a);
    if (l->narenas < (int)(sizeof l->arenas / sizeof l->arenas[0]))
        l->arenas[l->narenas++] = a;
    else
        arena_free(a);
}

static void timer_set(conn_t *c, uint64_t ms, uv_timer_cb cb)
{
    uv_timer_start(&c->timer, cb, ms, 0);
}

/* loop_maybe_finish: a draining loop with no connection and no job left
 * closes its own handles so that uv_run returns. */
void loop_maybe_finish(io_loop_t *l)
{
    if (!l->stopping || l->conns || l->inflight) return;
    /* the gateway's idle upstream connections would keep the loop running */
    if (!uv_is_closing((uv_handle_t *)&l->wakeup)) dispatch_loop_closing(l);
    if (!uv_is_closing((uv_handle_t *)&l->wakeup)) uv_close((uv_handle_t *)&l->wakeup, NULL);
    if (!uv_is_closing((uv_handle_t *)&l->deadline)) uv_close((uv_handle_t *)&l->deadline, NULL);
}

static void on_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles_open > 0 || c->job_inflight) return;
    io_loop_t *l = c->loop;
    if (c->arena) arena_put(l, c->arena);
    buf_cleanup(&c->in);
    buf_cleanup(&c->out);
    buf_cleanup(&c->body);
    http_res_cleanup(&c->res);
    free(c);
    loop_maybe_finish(l);
}

static void stream_end(conn_t *c, bool complete);

static void conn_close(conn_t *c)
{
    if (c->state == CS_CLOSED) return;
    if (c->state == CS_STREAM) stream_end(c, false); /* the proxy stops waiting for the body */
    c->state = CS_CLOSED;
    io_loop_t *l = c->loop;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->counted) {
        atomic_fetch_sub(&l->srv->nconns, 1);
        metrics_conn_delta(-1);
    }
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* conn_finish_job: the job came back from the pool (on the loop thread). */
static void write_response(conn_t *c);
static bool finish_response(conn_t *c);

void conn_finish_job(conn_t *c)
{
    c->job_inflight = false;
    c->loop->inflight--;
    c->sink = (http_body_sink_t){0};
    if (c->state == CS_CLOSED) {
        if (c->handles_open == 0) {
            c->handles_open = 1; /* reuse the free path */
            on_handle_closed((uv_handle_t *)&c->tcp);
        }
        return;
    }
    if (c->state == CS_STREAM) {
        /* answered before the whole body came: what is left of it cannot be
         * told apart from a next request, so the connection ends here */
        c->close_after = true;
        c->state = CS_BUSY;
        c->sink_paused = false;
        uv_timer_stop(&c->timer);
    }
    if (c->res.streamed) { /* the proxy wrote the response itself */
        if (c->res.stream_broken) c->close_after = true;
        c->state = CS_WRITING;
        if (finish_response(c)) process(c);
        return;
    }
    write_response(c);
}

static void on_linger_timeout(uv_timer_t *t) { conn_close(t->data); }

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

static void start_linger(conn_t *c)
{
    c->state = CS_LINGER;
    buf_reset(&c->in);
    read_start(c); /* to see the client's EOF and discard its bytes */
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    timer_set(c, LINGER_MS, on_linger_timeout);
}

/* finish_response: the response is fully handed to the kernel. Logs it,
 * releases the request and decides what happens next. Returns true when the
 * connection may go on with the next request. */
static bool finish_response(conn_t *c)
{
    io_loop_t *l = c->loop;
    uint64_t us = (mono_ns() - c->t_start_ns) / 1000;
    const char *route = c->req.route ? c->req.route->pattern : "unmatched";
    metrics_observe(l->metrics, route, c->req.method.n ? c->req.method : STR_LIT("-"),
                    c->res.status, us);
    if (c->req.gw) dispatch_gateway_record(c, us);
    log_access(&(log_access_rec_t){
        .method = c->req.method.n ? arena_strndup(c->arena, c->req.method.p, c->req.method.n) : "-",
        .path = c->req.raw_path ? c->req.raw_path : "-",
        .request_id = c->req.request_id,
        .tenant_id = c->req.authenticated ? c->req.auth.tenant_id : NULL,
        .remote = c->remote,
        .status = c->res.status,
        /* written by the handler itself (a gateway relay, or an SSE stream,
         * which does not mark res streamed): what it handed over */
        .bytes = c->res.streamed || c->res.stream_sent ? c->res.stream_sent : c->res.body.n,
        .micros = us,
    });
    dispatch_reset(c);
    if (c->arena) {
        arena_put(l, c->arena);
        c->arena = NULL;
    }
    c->head = NULL;
    buf_reset(&c->body);
    if (c->body.cap > 65536) buf_cleanup(&c->body);
    buf_reset(&c->out);
    if (c->out.cap > 65536) buf_cleanup(&c->out);
    if (c->close_after || atomic_load(&l->srv->stopping)) {
        start_linger(c);
        return false;
    }
    c->state = CS_HEAD;
    read_start(c);
    return true;
}

static void on_write(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    if (c->state == CS_CLOSED) return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (finish_response(c)) process(c);
}

/* write_response: serializes c->res and writes it. Returns after handing
 * the bytes to the socket; finish_response runs here when the write
 * completed synchronously, else in on_write. */
static bool write_now(conn_t *c)
{
    bool head_only = str_eq_cstr(c->req.method, "HEAD");
    response_serialize(c, head_only);
    c->state = CS_WRITING;
    uv_buf_t b = uv_buf_init(c->out.p, (unsigned)c->out.n);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)c->out.n) return true;
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return false;
    }
    size_t off = n > 0 ? (size_t)n : 0;
    b = uv_buf_init(c->out.p + off, (unsigned)(c->out.n - off));
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) conn_close(c);
    return false;
}

static void write_response(conn_t *c)
{
    if (write_now(c) && finish_response(c)) process(c);
}

/* fail: answers a framing or limit error and closes the connection. */
static void fail(conn_t *c, int code, const char *why)
{
    io_loop_t *l = c->loop;
    if (!c->arena) c->arena = arena_get(l);
    if (!c->req.request_id) {
        char *id = arena_alloc(c->arena, 40);
        id_uuidv7(id);
        c->req.request_id = id;
    }
    if (!c->t_start_ns) c->t_start_ns = mono_ns();
    http_res_cleanup(&c->res);
    http_res_init(&c->res);
    c->res.request_id = c->req.request_id;
    http_error(&c->res, code, "%s", why ? why : err_message(code));
    c->close_after = true;
    log_kv(LOG_WARN, "request rejected", "code", err_api_code(code), "reason",
           why ? why : err_message(code), "remote", c->remote, "request_id", c->req.request_id,
           NULL);
    uv_timer_stop(&c->timer);
    write_response(c);
}

static void on_timer(uv_timer_t *t)
{
    conn_t *c = t->data;
    switch (c->state) {
    case CS_HEAD:
        if (c->in.n == 0 && !c->arena) {
            conn_close(c); /* idle keep-alive: close silently */
            return;
        }
        fail(c, ERR_REQUEST_TIMEOUT, "the request head was not received in time");
        return;
    case CS_BODY:
        fail(c, ERR_REQUEST_TIMEOUT, "the request body was not received in time");
        return;
    case CS_STREAM: /* the proxy may have answered already: just end it */
        log_kv(LOG_WARN, "streamed request body not received in time", "remote", c->remote,
               "request_id", c->req.request_id, NULL);
        conn_close(c);
        return;
    case CS_LINGER:
        conn_close(c);
        return;
    default:
        return;
    }
}

static void begin_request(conn_t *c)
{
    io_loop_t *l = c->loop;
    c->arena = arena_get(l);
    c->head = arena_alloc(c->arena, sizeof *c->head); /* first in the arena: fits its first block */
    c->t_start_ns = 0;
    memset(&c->req, 0, sizeof c->req);
    http_res_cleanup(&c->res);
    http_res_init(&c->res);
    timer_set(c, (uint64_t)l->srv->cfg->header_timeout_ms, on_timer);
}

/* rebase: copies the head bytes into the arena and moves every view into
 * the copy, so c->in can be consumed and reallocated freely. */
static void rebase_head(conn_t *c)
{
    hp_head_t *h = c->head;
    char *copy = arena_strndup(c->arena, c->in.p, h->head_len);
    ptrdiff_t d = copy - c->in.p;
#define MOVE(s) ((s).p = (s).p ? (s).p + d : NULL)
    MOVE(h->method);
    MOVE(h->target);
    MOVE(h->path);
    MOVE(h->query);
    for (size_t i = 0; i < h->nheaders; i++) {
        MOVE(h->headers[i].name);
        MOVE(h->headers[i].value);
    }
#undef MOVE
}

static void dispatch(conn_t *c)
{
    uv_timer_stop(&c->timer);
    c->state = CS_BUSY;
    c->t_start_ns = mono_ns();
    if (!c->head->keep_alive) c->close_after = true;
    if (dispatch_request(c)) {
        write_response(c);
    } else {
        c->job_inflight = true;
        c->loop->inflight++;
    }
}

static void send_continue(conn_t *c)
{
    static const char msg[] = CONTINUE_100;
    uv_buf_t b = uv_buf_init((char *)msg, sizeof msg - 1);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)(sizeof msg - 1)) return;
    /* The socket buffer of a fresh request is empty, so a partial write of
     * 25 bytes does not happen in practice; treat it as a broken peer. */
    conn_close(c);
}

/* --- streamed bodies (CS_STREAM) --- */

/* stream_start: dispatches a request whose body is still to come. The
 * gateway starts the proxy, which sets the sink; a refusal (401, 429, 503…)
 * is answered at once and the connection closed, as its body is unread. */
static void stream_start(conn_t *c)
{
    uv_timer_stop(&c->timer);
    c->t_start_ns = mono_ns();
    c->close_after = c->close_after || !c->head->keep_alive;
    c->stream_left = c->head->chunked ? 0 : c->head->content_length;
    c->sink_paused = false;
    c->state = CS_STREAM;
    if (dispatch_request(c)) {
        c->state = CS_BUSY;
        c->close_after = true;
        write_response(c);
        return;
    }
    c->job_inflight = true;
    c->loop->inflight++;
    /* only now that the upstream is to get it is the body asked for */
    if (c->head->expect_continue && c->head->version_minor == 1 && c->in.n == 0) {
        send_continue(c);
        if (c->state == CS_CLOSED) return;
    }
    timer_set(c, (uint64_t)c->loop->srv->cfg->body_timeout_ms, on_timer);
}

static void stream_end(conn_t *c, bool complete)
{
    http_body_sink_t s = c->sink;
    c->sink = (http_body_sink_t){0};
    if (c->state == CS_STREAM) c->state = CS_BUSY;
    uv_timer_stop(&c->timer);
    if (s.end) s.end(s.arg, complete);
}

/* stream_feed: hands the body bytes in c->in to the sink until the body is
 * complete, the input is used up, or the proxy paused us. */
static void stream_feed(conn_t *c)
{
    const config_t *cfg = c->loop->srv->cfg;
    while (c->state == CS_STREAM && !c->sink_paused && c->in.n) {
        size_t len = c->in.n, out = 0;
        bool done = false;
        if (c->head->chunked) {
            const char *why = NULL;
            int rc = hp_chunked_decode(&c->chunked, c->in.p, &len, &out, UINT64_MAX,
                                       &c->loop->srv->limits, &why);
            if (rc < 0) {
                log_kv(LOG_WARN, "malformed streamed body", "reason", why ? why : "-", "remote",
                       c->remote, "request_id", c->req.request_id, NULL);
                conn_close(c); /* the upstream has the start of it: nothing to answer */
                return;
            }
            done = rc == 1;
        } else {
            len = out = c->in.n < c->stream_left ? c->in.n : (size_t)c->stream_left;
            c->stream_left -= len;
            done = c->stream_left == 0;
        }
        if (out && c->sink.data) c->sink.data(c->sink.arg, c->in.p, out);
        buf_consume(&c->in, len);
        if (done) {
            stream_end(c, true);
            return;
        }
    }
    if (c->state == CS_STREAM && !c->sink_paused)
        timer_set(c, (uint64_t)cfg->body_timeout_ms, on_timer);
}

void http_body_sink(http_req_t *req, const http_body_sink_t *sink)
{
    ((conn_t *)req->kernel)->sink = *sink;
}

/* http_body_pause: while paused the client is not read (and no body
 * timeout runs: the upstream is the slow side); resuming feeds what is
 * buffered already. Called by the proxy from its own callbacks. */
void http_body_pause(http_req_t *req, bool pause)
{
    conn_t *c = req->kernel;
    if (c->state != CS_STREAM || c->sink_paused == pause) return;
    c->sink_paused = pause;
    if (pause) {
        uv_timer_stop(&c->timer);
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->reading = false;
        }
        return;
    }
    read_start(c);
    stream_feed(c);
}

bool http_stream_head(http_req_t *req, http_res_t *res, int64_t length, buf_t *out)
{
    conn_t *c = req->kernel;
    (void)res; /* always &c->res: the kernel serializes that one */
    c->res.streamed = true;
    c->res.stream_length = length;
    /* an HTTP/1.0 client knows no chunks: the close ends the body */
    if (length < 0 && c->head->version_minor == 0) c->close_after = true;
    response_serialize(c, true);
    buf_append(out, c->out.p, c->out.n);
    buf_reset(&c->out);
    return length < 0 && c->head->version_minor == 1;
}

void *http_stream_client(http_req_t *req) { return &((conn_t *)req->kernel)->tcp; }

static void process(conn_t *c)
{
    const config_t *cfg = c->loop->srv->cfg;
    const hp_limits_t *lim = &c->loop->srv->limits;
    for (;;) {
        if (c->state == CS_HEAD) {
            if (c->in.n == 0) {
                if (!c->arena)
                    timer_set(c, (uint64_t)cfg->idle_timeout_ms, on_timer);
                return;
            }
            if (!c->arena) begin_request(c);
            const char *why = NULL;
            int rc = hp_parse_head(c->in.p, c->in.n, lim, c->head, &why);
            if (rc == 0) return;
            if (rc < 0) {
                fail(c, rc, why);
                return;
            }
            rebase_head(c);
            buf_consume(&c->in, c->head->head_len);
            hp_head_t *h = c->head;
            bool has_body = h->chunked || (h->has_content_length && h->content_length > 0);
            bool stream = has_body && (h->chunked || h->content_length > STREAM_MIN_BYTES) &&
                          dispatch_streams_body(c);
            if (!stream && h->has_content_length &&
                h->content_length > (uint64_t)cfg->max_body_bytes) {
                fail(c, ERR_TOO_LARGE, "the request body is larger than the limit");
                return;
            }
            if (!has_body) {
                dispatch(c);
                if (c->state != CS_HEAD) return;
                continue;
            }
            if (!stream && h->expect_continue && h->version_minor == 1 && c->in.n == 0) {
                send_continue(c);
                if (c->state == CS_CLOSED) return;
            }
            if (h->chunked) hp_chunked_init(&c->chunked);
            if (stream) {
                stream_start(c);
                if (c->state != CS_STREAM) return;
            } else {
                c->state = CS_BODY;
                buf_reset(&c->body);
                timer_set(c, (uint64_t)cfg->body_timeout_ms, on_timer);
            }
        }
        if (c->state == CS_STREAM) {
            stream_feed(c);
            return;
        }
        if (c->state == CS_BODY) {
            hp_head_t *h = c->head;
            if (h->chunked) {
                size_t len = c->in.n, out = 0;
                const char *why = NULL;
                int rc = hp_chunked_decode(&c->chunked, c->in.p, &len, &out,
                                           (uint64_t)cfg->max_body_bytes, lim, &why);
                if (rc < 0) {
                    fail(c, rc, why);
                    return;
                }
                buf_append(&c->body, c->in.p, out);
                buf_consume(&c->in, len);
                if (rc == 0) {
                    timer_set(c, (uint64_t)cfg->body_timeout_ms, on_timer);
                    return;
                }
            } else {
                size_t need = (size_t)h->content_length - c->body.n;
                size_t take = c->in.n < need ? c->in.n : need;
                buf_append(&c->body, c->in.p, take);
                buf_consume(&c->in, take);
                if (c->body.n < h->content_length) {
                    timer_set(c, (uint64_t)cfg->body_timeout_ms, on_timer);
                    return;
                }
            }
            dispatch(c);
            if (c->state != CS_HEAD) return;
            continue;
        }
        return;
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    conn_t *c = h->data;
    io_loop_t *l = c->loop;
    /* One read buffer per loop: read_cb copies what it keeps, so the buffer
     * is free again before the next read on any connection. */
    if (!l->readbuf_busy) {
        l->readbuf_busy = true;
        *b = uv_buf_init(l->readbuf, READ_CHUNK);
    } else {
        *b = uv_buf_init(xmalloc(READ_CHUNK), READ_CHUNK);
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    conn_t *c = s->data;
    io_loop_t *l = c->loop;
    if (nread > 0 && c->state != CS_LINGER && c->state != CS_CLOSED)
        buf_append(&c->in, b->base, (size_t)nread);
    if (b->base == l->readbuf)
        l->readbuf_busy = false;
    else
        free(b->base);
    if (nread == 0) return;
    if (nread < 0) {
        /* EOF or error. A handler still running keeps the memory alive. */
        conn_close(c);
        return;
    }
    switch (c->state) {
    case CS_HEAD:
    case CS_BODY:
    case CS_STREAM:
        process(c);
        break;
    case CS_BUSY:
    case CS_WRITING: {
        const config_t *cfg = l->srv->cfg;
        size_t cap = (size_t)(cfg->max_header_bytes + cfg->max_request_line) + READ_CHUNK;
        if (c->in.n > cap && c->reading) {
            uv_read_stop(s);
            c->reading = false;
        }
        break;
    }
    default:
        break;
    }
}

static void read_start(conn_t *c)
{
    if (c->reading || c->state == CS_CLOSED) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0) c->reading = true;
}

static void reject_overloaded(conn_t *c)
{
    fail(c, ERR_OVERLOADED, "too many open connections; retry later");
}

void conn_on_accept(uv_stream_t *listener, int status)
{
    io_loop_t *l = listener->data;
    if (status < 0) {
        log_warn("accept failed: %s", uv_strerror(status));
        return;
    }
    conn_t *c = xcalloc(1, sizeof *c);
    c->loop = l;
    uv_tcp_init(&l->loop, &c->tcp);
    uv_timer_init(&l->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    c->state = CS_HEAD;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->state = CS_CLOSED;
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->remote, sizeof c->remote);
        else
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->remote, sizeof c->remote);
    }
    c->next = l->conns;
    if (l->conns) l->conns->prev = c;
    l->conns = c;
    read_start(c);
    int64_t n = atomic_fetch_add(&l->srv->nconns, 1) + 1;
    if (n > l->srv->cfg->max_connections || l->stopping) {
        atomic_fetch_sub(&l->srv->nconns, 1);
        reject_overloaded(c);
        return;
    }
    c->counted = true;
    metrics_conn_delta(1);
    timer_set(c, (uint64_t)l->srv->cfg->idle_timeout_ms, on_timer);
}

void conn_drain(io_loop_t *l)
{
    conn_t *c = l->conns;
    while (c) {
        conn_t *next = c->next;
        if (c->state == CS_HEAD && c->in.n == 0 && !c->arena)
            conn_close(c);
        else
            c->close_after = true;
        c = next;
    }
}

void conn_close_all(io_loop_t *l)
{
    while (l->conns) conn_close(l->conns);
}

/* proxy.c — one request to an HTTP upstream on the I/O thread's loop (see
 * proxy.h). A small state machine: take an idle pooled connection, or
 * resolve (when the host is a name) and connect (connect timeout) → write
 * the request → read the response head and body (response timeout) → give
 * the connection back to the pool when the exchange left it clean, close it
 * otherwise → done(). Every failure ends in a JSON 502/504 in res (after at
 * most one retry, see proxy.h); done() runs exactly once, from the close
 * callback of the request's timer.
 *
 * An upstream connection (uconn_t) lives apart from the request (proxy_t):
 * it is freed by its own close callback, so a request may let go of it at
 * any moment (timeout, failure) while libuv still finishes a write. */
#include "proxy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "http_parse.h"
#include "log.h"

#define MAX_RESP_HEADERS 100

typedef struct proxy proxy_t;
typedef struct upool upool_t;

/* One connection to an upstream: in use by one request (x set), or idle in
 * its pool (x NULL; still read, so that a close by the upstream is seen). */
typedef struct uconn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    proxy_t *x;          /* the request using it, NULL while idle or closing */
    upool_t *pool;       /* where it goes back to */
    gw_upstream_stats_t *stats;
    struct uconn *next, *prev; /* idle list */
    bool idle, closing, reading;
    int64_t idle_since_ms;
} uconn_t;

typedef struct budget {
    int64_t window_start;
    double req_cur, req_prev, ret_cur, ret_prev;
} budget_t;

/* The idle connections of one service on one I/O thread, and its share of
 * the service's retry budget. */
struct upool {
    upool_t *next;
    const gw_upstream_stats_t *key; /* the service */
    char host[256];
    int port;
    uconn_t *idle, *idle_tail; /* most recently used first; the tail is the oldest */
    int nidle;
    budget_t budget;
};

/* Pools are per I/O thread: only that thread's loop touches them. */
static _Thread_local upool_t *tl_pools;
static _Thread_local bool tl_closed; /* the loop is finishing: pool nothing more */

/* One read buffer per I/O thread: on_read copies what it keeps before the
 * next read on any connection can happen (libuv calls alloc_cb and read_cb
 * back to back), so a request holds only the bytes it has received. */
#define READ_BUF 65536
static _Thread_local char *tl_rbuf;
static _Thread_local bool tl_rbuf_busy;

struct proxy {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    uconn_t *u;          /* the connection in use, or NULL */
    upool_t *pool;
    gw_upstream_stats_t *stats;
    int max_idle;
    bool finished, resolving, connected;
    bool idempotent, retried;
    bool reused;         /* u came from the pool */
    bool written;        /* the request is fully written on u */
    bool reusable;       /* the exchange ended cleanly: u may go back to the pool */
    bool head_sent;      /* the request head is queued on u */
    /* a streamed request body (req->body_streamed): the kernel feeds it */
    bool req_streamed, req_chunked, body_done, client_paused;
    buf_t pend;          /* body bytes waiting for the connection */
    size_t up_queued;    /* bytes queued on u, not yet written */
    /* a streamed response: written to the client as it arrives */
    bool res_streamed, client_chunked, upstream_paused;
    uint64_t res_sent;   /* body bytes of a Content-Length response passed on */
    size_t client_queued; /* bytes queued to the client, not yet written */
    int client_writes;   /* writes to the client in flight (x lives until 0) */
    struct sockaddr_storage addr; /* the upstream's address, for a retry */
    bool have_addr;
    http_req_t *req;
    http_res_t *res;
    gw_proxy_done_fn done;
    void *arg;
    int64_t connect_timeout_ms, response_timeout_ms;
    bool head_only; /* HEAD request: no response body */
    buf_t out;      /* the request bytes */
    buf_t in;       /* response bytes not yet consumed */
    buf_t body;     /* decoded response body */
    bool have_head;
    int status;
    bool chunked, has_length, until_close, keep_alive;
    uint64_t length;
    hp_chunked_t ch;
    size_t head_len;      /* bytes of the response head at the start of in */
    gw_cache_ctx_t cache; /* the response cache's view of this request (cache.h) */
};

/* --- the retry budget ---
 * Kept per pool, i.e. per service and I/O thread, so counting a request
 * takes no lock: when every thread's retries stay within GW_RETRY_RATIO of
 * its requests, so do the service's. A two-bucket sliding window, like the
 * rate limit. */

void gw_upstream_stats_init(gw_upstream_stats_t *st) { memset(st, 0, sizeof *st); }

void gw_upstream_stats_destroy(gw_upstream_stats_t *st) { (void)st; }

/* budget_roll: the window moved to now; the weighted counts in it. */
static void budget_roll(budget_t *b, int64_t now, double *req, double *ret)
{
    int64_t ws = now - now % GW_RETRY_WINDOW_MS;
    if (ws != b->window_start) {
        bool next = ws - b->window_start == GW_RETRY_WINDOW_MS;
        b->req_prev = next ? b->req_cur : 0;
        b->ret_prev = next ? b->ret_cur : 0;
        b->req_cur = b->ret_cur = 0;
        b->window_start = ws;
    }
    /* the share of the previous window still inside the sliding window */
    double w = (double)(GW_RETRY_WINDOW_MS - (now - ws)) / GW_RETRY_WINDOW_MS;
    *req = b->req_prev * w + b->req_cur;
    *ret = b->ret_prev * w + b->ret_cur;
}

static void budget_request(budget_t *b)
{
    double req, ret;
    budget_roll(b, clock_now_ms(), &req, &ret);
    b->req_cur += 1;
}

/* budget_take_retry: may one more retry go out? Retries stay at most
 * GW_RETRY_RATIO of the requests in the window, counting this one. No pool
 * (the loop is shutting down): no retry. */
static bool budget_take_retry(upool_t *pl, gw_upstream_stats_t *st)
{
    bool ok = false;
    if (pl) {
        double req, ret;
        budget_roll(&pl->budget, clock_now_ms(), &req, &ret);
        ok = ret + 1 <= req * GW_RETRY_RATIO + 1e-9;
        if (ok) pl->budget.ret_cur += 1;
    }
    if (ok)
        atomic_fetch_add(&st->retries, 1);
    else
        atomic_fetch_add(&st->budget_exhausted, 1);
    return ok;
}

/* --- upstream URL --- */

const char *gw_upstream_parse(const char *url, gw_upstream_t *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(url, "http://", 7) != 0) return "only http:// upstreams are supported";
    const char *h = url + 7, *end = h + strcspn(h, "/?#");
    if (strpbrk(h, "?#")) return "the target must not have a query or fragment";
    const char *colon = NULL;
    if (h == end) return "the target needs a host";
    if (*h == '[') { /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb || rb[1] != ':') return "an IPv6 target needs [address]:port";
        if ((size_t)(rb - h - 1) >= sizeof out->host) return "host too long";
        memcpy(out->host, h + 1, (size_t)(rb - h - 1));
        colon = rb + 1;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        size_t hl = colon ? (size_t)(colon - h) : (size_t)(end - h);
        if (hl == 0 || hl >= sizeof out->host) return "the target needs a host";
        memcpy(out->host, h, hl);
        for (size_t i = 0; i < hl; i++) {
            char c = out->host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.'))
                return "the host has invalid characters";
        }
    }
    out->port = 80;
    if (colon) {
        char *e;
        long p = strtol(colon + 1, &e, 10);
        if (e != end || p < 1 || p > 65535) return "the port must be 1..65535";
        out->port = (int)p;
    }
    size_t bl = strlen(end);
    while (bl && end[bl - 1] == '/') bl--;
    if (bl >= sizeof out->base) return "the base path is too long";
    for (size_t i = 0; i < bl; i++)
        if ((unsigned char)end[i] <= 0x20 || (unsigned char)end[i] >= 0x7f)
            return "the base path has invalid characters";
    memcpy(out->base, end, bl);
    return NULL;
}

/* --- building the upstream request --- */

/* has_token: is tok one of the comma-separated tokens of v (any case)? */
static bool has_token(str_t v, str_t tok)
{
    size_t s = 0;
    while (s < v.n) {
        size_t e = s;
        while (e < v.n && v.p[e] != ',') e++;
        size_t a = s, b = e;
        while (a < b && (v.p[a] == ' ' || v.p[a] == '\t')) a++;
        while (b > a && (v.p[b - 1] == ' ' || v.p[b - 1] == '\t')) b--;
        if (str_ieq((str_t){v.p + a, b - a}, tok)) return true;
        s = e + 1;
    }
    return false;
}

static bool in_connection_tokens(const http_req_t *req, str_t name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (str_ieq_cstr(req->headers[i].name, "Connection") && has_token(req->headers[i].value, name))
            return true;
    return false;
}

/* Headers never forwarded: hop-by-hop ones (RFC 9110 §7.6.1) and the
 * identity headers the gateway sets itself. */
static const char *const drop_request[] = {
    "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE",
    "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Expect", "X-Tenant-ID",
    "X-User-ID", "X-Request-ID", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
    "Forwarded", NULL};

static bool listed(str_t name, const char *const *list)
{
    for (; *list; list++)
        if (str_ieq_cstr(name, *list)) return true;
    return false;
}

static void build_request(proxy_t *x, const gw_proxy_req_t *p, const http_req_t *req)
{
    buf_t *o = &x->out;
    buf_append(o, req->method.p, req->method.n);
    buf_printf(o, " %s/%s", p->up->base, p->rest);
    if (req->query && *req->query) buf_printf(o, "?%s", req->query);
    buf_printf(o, " HTTP/1.1\r\nHost: %s:%d\r\n", p->up->host, p->up->port);
    for (size_t i = 0; i < req->nheaders; i++) {
        const hp_header_t *h = &req->headers[i];
        if (listed(h->name, drop_request) || in_connection_tokens(req, h->name)) continue;
        buf_append(o, h->name.p, h->name.n);
        buf_append(o, ": ", 2);
        buf_append(o, h->value.p, h->value.n);
        buf_append(o, "\r\n", 2);
    }
    buf_append_str(o, "X-Request-ID: ");
    buf_append_str(o, req->request_id);
    buf_append_str(o, "\r\nX-Forwarded-For: ");
    buf_append_str(o, p->client_addr ? p->client_addr : "");
    buf_append_str(o, "\r\nX-Forwarded-Proto: http\r\n");
    if (req->authenticated) {
        if (req->auth.tenant_id[0]) {
            buf_append_str(o, "X-Tenant-ID: ");
            buf_append_str(o, req->auth.tenant_id);
            buf_append_str(o, "\r\n");
        }
        buf_append_str(o, "X-User-ID: ");
        buf_append_str(o, req->auth.user_id);
        buf_append_str(o, "\r\n");
    }
    if (req->body_streamed && req->body_length < 0)
        buf_append_str(o, "Transfer-Encoding: chunked\r\n");
    else if (req->body_streamed)
        buf_printf(o, "Content-Length: %lld\r\n", (long long)req->body_length);
    else if (req->body_len ||
             !(str_eq_cstr(req->method, "GET") || str_eq_cstr(req->method, "HEAD")))
        buf_printf(o, "Content-Length: %zu\r\n", req->body_len);
    buf_append_str(o, "\r\n"); /* HTTP/1.1: keep-alive unless either side says close */
    if (req->body_len) buf_append(o, req->body, req->body_len);
}

/* --- upstream connections and their pools --- */

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b);

static void u_closed(uv_handle_t *h)
{
    uconn_t *u = h->data;
    atomic_fetch_sub(&u->stats->open, 1);
    free(u);
}

static void pool_unlink(uconn_t *u)
{
    if (!u->idle) return;
    upool_t *pl = u->pool;
    if (u->prev) u->prev->next = u->next; else pl->idle = u->next;
    if (u->next) u->next->prev = u->prev; else pl->idle_tail = u->prev;
    u->next = u->prev = NULL;
    pl->nidle--;
    u->idle = false;
    atomic_fetch_sub(&u->stats->idle, 1);
}

static void u_close(uconn_t *u)
{
    if (u->closing) return;
    pool_unlink(u);
    u->closing = true;
    u->x = NULL;
    uv_close((uv_handle_t *)&u->tcp, u_closed);
}

static upool_t *pool_of(const gw_proxy_req_t *p)
{
    upool_t *pl = tl_pools;
    for (; pl; pl = pl->next)
        if (pl->key == p->stats) break;
    if (!pl) {
        pl = xcalloc(1, sizeof *pl);
        pl->key = p->stats;
        pl->next = tl_pools;
        tl_pools = pl;
    }
    /* the service's target changed: its idle connections go elsewhere */
    if (strcmp(pl->host, p->up->host) != 0 || pl->port != p->up->port) {
        while (pl->idle) u_close(pl->idle);
        snprintf(pl->host, sizeof pl->host, "%s", p->up->host);
        pl->port = p->up->port;
    }
    return pl;
}

/* pool_take: the most recently used idle connection that is young enough. */
static uconn_t *pool_take(upool_t *pl)
{
    int64_t now = clock_now_ms();
    while (pl->idle) {
        uconn_t *u = pl->idle;
        pool_unlink(u);
        if (now - u->idle_since_ms <= GW_POOL_IDLE_MAX_MS) return u;
        u_close(u);
    }
    return NULL;
}

/* u_release: the request is done with its connection. It goes back to the
 * pool only after a clean exchange (request fully written, response fully
 * read with nothing after it, neither side said close) and while there is
 * room; else it is closed. */
static void u_release(proxy_t *x)
{
    uconn_t *u = x->u;
    if (!u) return;
    x->u = NULL;
    u->x = NULL;
    upool_t *pl = x->pool;
    if (!x->reusable || !x->written || tl_closed || !pl || pl->nidle >= x->max_idle) {
        u_close(u);
        return;
    }
    if (!u->reading) { /* paused for a slow client: idle ones are read to see a close */
        if (uv_read_start((uv_stream_t *)&u->tcp, alloc_cb, on_read) != 0) {
            u_close(u);
            return;
        }
        u->reading = true;
    }
    u->idle = true;
    u->idle_since_ms = clock_now_ms();
    u->prev = NULL;
    u->next = pl->idle;
    if (pl->idle) pl->idle->prev = u; else pl->idle_tail = u;
    pl->idle = u;
    pl->nidle++;
    atomic_fetch_add(&u->stats->idle, 1);
    /* Connections taken most-recently-used first leave the ones demand no
     * longer needs at the tail: close those that have idled too long, so a
     * burst's connections do not stay open for as long as the pool has room. */
    while (pl->idle_tail && u->idle_since_ms - pl->idle_tail->idle_since_ms > GW_POOL_IDLE_MAX_MS)
        u_close(pl->idle_tail);
}

void gw_proxy_loop_closing(void)
{
    tl_closed = true;
    free(tl_rbuf);
    tl_rbuf = NULL;
    while (tl_pools) {
        upool_t *pl = tl_pools;
        tl_pools = pl->next;
        while (pl->idle) u_close(pl->idle);
        free(pl);
    }
}

/* --- completion --- */

static void on_closed(uv_handle_t *h)
{
    proxy_t *x = h->data;
    gw_proxy_done_fn done = x->done;
    void *arg = x->arg;
    buf_cleanup(&x->pend);
    buf_cleanup(&x->out);
    buf_cleanup(&x->in);
    buf_cleanup(&x->body);
    free(x);
    done(arg);
}

static void finish(proxy_t *x)
{
    if (x->finished) return;
    x->finished = true;
    /* a write through the gateway, done (or failed: it may have applied
     * anyway): the tenant's cached answers of this service go */
    if (x->cache.invalidate) gw_cache_invalidate(x->cache.cache, x->cache.key, x->cache.scope_len);
    uv_timer_stop(&x->timer);
    if (x->resolving) {
        /* the resolver's callback will see finished and close the timer */
        uv_cancel((uv_req_t *)&x->gai);
        return;
    }
    u_release(x);
    /* writes to the client still in flight hold x (and res) until they end */
    if (x->client_writes == 0) uv_close((uv_handle_t *)&x->timer, on_closed);
}

static void fail(proxy_t *x, int code, const char *fmt, const char *detail)
{
    if (x->finished) return;
    x->reusable = false;
    if (x->res_streamed) { /* the head is out: all that is left is to cut the body short */
        x->res->stream_broken = true;
        log_kv(LOG_WARN, "upstream response cut short", "error", detail, "request_id",
               x->req->request_id, NULL);
        finish(x);
        return;
    }
    http_res_cleanup(x->res);
    http_res_init(x->res);
    x->res->request_id = x->req->request_id;
    http_error(x->res, code, fmt, detail);
    log_kv(LOG_WARN, "upstream request failed", "error", detail, "request_id",
           x->req->request_id, NULL);
    finish(x);
}

static void start_connect(proxy_t *x);

/* retry_or_fail: the connection failed before any response byte. An
 * idempotent request that has not been retried yet goes out once more on a
 * fresh connection when the budget allows (see proxy.h); anything else
 * fails with a 502. `eligible` says whether this kind of failure may be
 * retried at all (a connect failure, or a reused connection lost). */
static void retry_or_fail(proxy_t *x, bool eligible, const char *fmt, const char *detail)
{
    if (x->finished) return;
    if (eligible && x->idempotent && !x->retried && x->have_addr && budget_take_retry(x->pool, x->stats)) {
        x->retried = true;
        log_kv(LOG_INFO, "retrying upstream request on a new connection", "error", detail,
               "request_id", x->req->request_id, NULL);
        x->reusable = false;
        u_release(x); /* closes it */
        buf_reset(&x->in);
        x->have_head = false;
        start_connect(x);
        return;
    }
    fail(x, ERR_BAD_GATEWAY, fmt, detail);
}

/* Response headers never passed back: hop-by-hop, and the ones the kernel
 * writes itself. */
static const char *const drop_response[] = {
    "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
    "Upgrade", "Content-Length", "Content-Type", "Date", "X-Request-ID", "X-Content-Type-Options",
    NULL};

/* copy_head: the upstream's status and end-to-end headers into res. */
static void copy_head(proxy_t *x, const hp_header_t *hs, size_t nh)
{
    http_res_t *res = x->res;
    res->status = x->status;
    for (size_t i = 0; i < nh; i++) {
        if (str_ieq_cstr(hs[i].name, "Content-Type")) {
            size_t n = hs[i].value.n < sizeof res->ctype_buf - 1 ? hs[i].value.n
                                                                 : sizeof res->ctype_buf - 1;
            memcpy(res->ctype_buf, hs[i].value.p, n);
            res->ctype_buf[n] = '\0';
            res->content_type = res->ctype_buf;
        }
        if (listed(hs[i].name, drop_response)) continue;
        buf_append(&res->headers, hs[i].name.p, hs[i].name.n);
        buf_append(&res->headers, ": ", 2);
        buf_append(&res->headers, hs[i].value.p, hs[i].value.n);
        buf_append(&res->headers, "\r\n", 2);
    }
    if (!res->content_type) res->content_type = "application/octet-stream";
}

static void complete(proxy_t *x, const hp_header_t *hs, size_t nh)
{
    size_t h0 = x->res->headers.n; /* the gateway's own headers come first */
    copy_head(x, hs, nh);
    /* the response cache may keep a copy of a complete answer (never of a
     * streamed one: those do not come here) */
    if (x->cache.store)
        gw_cache_offer(&x->cache, x->status, hs, nh,
                       (str_t){x->res->headers.p + h0, x->res->headers.n - h0},
                       x->res->content_type, (str_t){x->body.p, x->body.n});
    /* the body was collected in x->body; hand its memory over */
    buf_t tmp = x->res->body;
    x->res->body = x->body;
    x->body = tmp;
    finish(x);
}

/* --- writing: a copy per write, freed by its callback --- */

#define QUEUE_HIGH (256u << 10) /* pause the sending side above this many queued bytes */
#define QUEUE_LOW (64u << 10)   /* and resume it below this */
#define STREAM_RESPONSE_MIN (64u << 10) /* larger (or chunked) responses are streamed */

typedef struct wchunk {
    uv_write_t w;
    void *owner; /* uconn_t (upstream) or proxy_t (client) */
    size_t n;
    char data[];
} wchunk_t;

static void touch(proxy_t *x);
static void check_written(proxy_t *x);

static void on_up_written(uv_write_t *w, int status)
{
    wchunk_t *k = (wchunk_t *)w;
    uconn_t *u = k->owner;
    proxy_t *x = u->x;
    size_t n = k->n;
    free(k);
    if (!x || x->finished) return;
    x->up_queued -= n;
    if (status < 0) {
        retry_or_fail(x, x->reused && x->in.n == 0 && !x->req_streamed,
                      "cannot send to the upstream: %s", uv_strerror(status));
        return;
    }
    touch(x);
    if (x->client_paused && x->up_queued + x->pend.n < QUEUE_LOW) {
        x->client_paused = false;
        http_body_pause(x->req, false); /* may feed more right here */
    }
    if (!x->finished) check_written(x);
}

/* up_write: bytes (a + b) to the upstream, on x->u. Written right away
 * when the socket takes them all (the usual case): a uv_write that
 * completes at once still costs an epoll_ctl per request in libuv. */
static int up_write(proxy_t *x, const void *a, size_t an, const void *b, size_t bn)
{
    uv_buf_t bufs[2] = {uv_buf_init((char *)a, (unsigned)an), uv_buf_init((char *)b, (unsigned)bn)};
    int w = uv_try_write((uv_stream_t *)&x->u->tcp, bufs, bn ? 2 : 1);
    if (w < 0 && w != UV_EAGAIN) return -1;
    size_t done = w > 0 ? (size_t)w : 0;
    if (done == an + bn) return 0;
    size_t ra = done < an ? an - done : 0;             /* what is left of a */
    size_t rb = done > an ? an + bn - done : bn;       /* and of b */
    wchunk_t *k = xmalloc(sizeof *k + ra + rb);
    k->owner = x->u;
    k->n = ra + rb;
    if (ra) memcpy(k->data, (const char *)a + (an - ra), ra);
    if (rb) memcpy(k->data + ra, (const char *)b + (bn - rb), rb);
    uv_buf_t buf = uv_buf_init(k->data, (unsigned)k->n);
    if (uv_write(&k->w, (uv_stream_t *)&x->u->tcp, &buf, 1, on_up_written) != 0) {
        free(k);
        return -1;
    }
    x->up_queued += k->n;
    return 0;
}

static void on_client_written(uv_write_t *w, int status)
{
    wchunk_t *k = (wchunk_t *)w;
    proxy_t *x = k->owner;
    size_t n = k->n;
    free(k);
    x->client_writes--;
    x->client_queued -= n;
    if (x->finished) {
        if (x->client_writes == 0) uv_close((uv_handle_t *)&x->timer, on_closed);
        return;
    }
    if (status < 0) { /* the client went away */
        fail(x, ERR_BAD_GATEWAY, "%s", "the client connection closed");
        return;
    }
    touch(x);
    if (x->upstream_paused && x->client_queued < QUEUE_LOW && x->u) {
        x->upstream_paused = false;
        if (!x->u->reading &&
            uv_read_start((uv_stream_t *)&x->u->tcp, alloc_cb, on_read) == 0)
            x->u->reading = true;
    }
}

/* client_write: bytes (a + b + c) to the client; pauses the upstream when
 * the client is slower than it. */
static void client_write(proxy_t *x, const void *a, size_t an, const void *b, size_t bn,
                         const void *c, size_t cn)
{
    uv_stream_t *cl = http_stream_client(x->req);
    if (uv_is_closing((uv_handle_t *)cl)) {
        fail(x, ERR_BAD_GATEWAY, "%s", "the client connection closed");
        return;
    }
    wchunk_t *k = xmalloc(sizeof *k + an + bn + cn);
    k->owner = x;
    k->n = an + bn + cn;
    memcpy(k->data, a, an);
    if (bn) memcpy(k->data + an, b, bn);
    if (cn) memcpy(k->data + an + bn, c, cn);
    uv_buf_t buf = uv_buf_init(k->data, (unsigned)k->n);
    if (uv_write(&k->w, cl, &buf, 1, on_client_written) != 0) {
        free(k);
        fail(x, ERR_BAD_GATEWAY, "%s", "the client connection closed");
        return;
    }
    x->client_writes++;
    x->client_queued += k->n;
    if (x->client_queued > QUEUE_HIGH && x->u && x->u->reading) {
        uv_read_stop((uv_stream_t *)&x->u->tcp);
        x->u->reading = false;
        x->upstream_paused = true;
    }
}

/* --- the streamed request body (fed by the kernel) --- */

/* check_written: the whole request is on the wire (a condition for reuse). */
static void check_written(proxy_t *x)
{
    x->written = x->head_sent && x->body_done && x->pend.n == 0 && x->up_queued == 0;
}

/* body_send: body bytes framed for the upstream, queued or written. */
static void body_send(proxy_t *x, const char *p, size_t n, bool last)
{
    char pre[24] = "", post[8] = "";
    size_t pn = 0, qn = 0;
    if (x->req_chunked) {
        if (n) pn = (size_t)snprintf(pre, sizeof pre, "%zx\r\n", n);
        if (n) qn = (size_t)snprintf(post, sizeof post, "\r\n");
        if (last) qn += (size_t)snprintf(post + qn, sizeof post - qn, "0\r\n\r\n");
    }
    if (!x->head_sent) { /* not connected yet: keep it (bounded by the pause) */
        buf_append(&x->pend, pre, pn);
        if (n) buf_append(&x->pend, p, n);
        buf_append(&x->pend, post, qn);
    } else if (pn + n + qn) {
        wchunk_t *k = xmalloc(sizeof *k + pn + n + qn);
        k->owner = x->u;
        k->n = pn + n + qn;
        memcpy(k->data, pre, pn);
        if (n) memcpy(k->data + pn, p, n); /* p is NULL for the last chunk */
        memcpy(k->data + pn + n, post, qn);
        uv_buf_t buf = uv_buf_init(k->data, (unsigned)k->n);
        if (uv_write(&k->w, (uv_stream_t *)&x->u->tcp, &buf, 1, on_up_written) != 0) {
            free(k);
            fail(x, ERR_BAD_GATEWAY, "%s", "cannot send to the upstream");
            return;
        }
        x->up_queued += k->n;
    }
    if (x->up_queued + x->pend.n > QUEUE_HIGH && !x->client_paused) {
        x->client_paused = true;
        http_body_pause(x->req, true);
    }
}

static void sink_data(void *arg, const char *p, size_t n)
{
    proxy_t *x = arg;
    if (x->finished) return;
    body_send(x, p, n, false);
}

static void sink_end(void *arg, bool complete)
{
    proxy_t *x = arg;
    if (x->finished) return;
    if (!complete) { /* the client left or broke the body: the upstream gets no half request */
        fail(x, ERR_BAD_REQUEST, "%s", "the client did not send the whole body");
        return;
    }
    x->body_done = true;
    body_send(x, NULL, 0, true);
    if (!x->finished) check_written(x);
}

/* --- the response parser (strict: CRLF, tokens, one framing) --- */

typedef struct resp_head resp_head_t;
struct resp_head {
    size_t len;
    int status;
    int minor; /* HTTP/1.x */
    hp_header_t h[MAX_RESP_HEADERS];
    size_t n;
};

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The head being parsed: scratch per I/O thread, used only within one
 * callback (a request keeps just head_len; views point into its in). */
static _Thread_local resp_head_t tl_rh;

/* parse_head: 1 complete, 0 need more, -1 garbage. */
static int parse_head(const char *p, size_t n, resp_head_t *r)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') {
            end = p + i;
            break;
        }
    if (!end) return n > GW_PROXY_MAX_HEAD ? -1 : 0;
    r->len = (size_t)(end - p) + 4;
    for (const char *q = p; q < end; q++)
        if ((*q == '\n' && (q == p || q[-1] != '\r')) || (*q == '\r' && q[1] != '\n') || !*q)
            return -1;
    if ((size_t)(end - p) < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
        p[8] != ' ')
        return -1;
    if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return -1;
    r->minor = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *line = memchr(p, '\r', (size_t)(end - p));
    r->n = 0;
    while (line && line < end) {
        const char *s = line + 2;
        const char *e = memchr(s, '\r', (size_t)(end + 2 - s));
        if (!e) e = end;
        if (s >= end) break;
        const char *colon = memchr(s, ':', (size_t)(e - s));
        if (!colon || colon == s || r->n == MAX_RESP_HEADERS) return -1;
        for (const char *c = s; c < colon; c++)
            if (!is_tchar((unsigned char)*c)) return -1;
        const char *v = colon + 1, *ve = e;
        while (v < ve && (*v == ' ' || *v == '\t')) v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        r->h[r->n++] = (hp_header_t){{s, (size_t)(colon - s)}, {v, (size_t)(ve - v)}};
        line = e;
    }
    return 1;
}


static int framing(proxy_t *x, const resp_head_t *r)
{
    x->status = r->status;
    x->chunked = x->has_length = x->until_close = false;
    x->keep_alive = r->minor == 1; /* HTTP/1.0 answers are not reused */
    bool no_body = x->head_only || r->status == 204 || r->status == 304;
    for (size_t i = 0; i < r->n; i++) {
        if (str_ieq_cstr(r->h[i].name, "Connection")) {
            if (has_token(r->h[i].value, STR_LIT("close"))) x->keep_alive = false;
        } else if (str_ieq_cstr(r->h[i].name, "Transfer-Encoding")) {
            if (!str_ieq_cstr(r->h[i].value, "chunked") || x->chunked) return -1;
            x->chunked = true;
        } else if (str_ieq_cstr(r->h[i].name, "Content-Length")) {
            uint64_t v = 0;
            if (r->h[i].value.n == 0 || r->h[i].value.n > 15) return -1;
            for (size_t k = 0; k < r->h[i].value.n; k++) {
                char c = r->h[i].value.p[k];
                if (c < '0' || c > '9') return -1;
                v = v * 10 + (uint64_t)(c - '0');
            }
            if (x->has_length && v != x->length) return -1;
            x->has_length = true;
            x->length = v;
        }
    }
    if (x->chunked && x->has_length) return -1; /* ambiguous: never guess */
    if (no_body) {
        x->chunked = x->has_length = false;
        x->length = 0;
        x->has_length = true;
        return 0;
    }
    /* (a large body is streamed, never collected: no size limit here) */
    if (x->chunked) hp_chunked_init(&x->ch);
    if (!x->chunked && !x->has_length) {
        x->until_close = true;
        x->keep_alive = false;
    }
    return 0;
}

/* done_ok: completes with the head re-parsed, because x->in may have moved
 * (grown) since it was first parsed; the head bytes are still at its start.
 * extra: bytes the upstream sent after the response — never a reason to
 * trust the connection again. */
static void done_ok(proxy_t *x, size_t extra)
{
    x->reusable = x->keep_alive && extra == 0;
    parse_head(x->in.p, x->in.n, &tl_rh);
    complete(x, tl_rh.h, tl_rh.n);
}

/* stream_done: the streamed response is complete. */
static void stream_done(proxy_t *x, size_t extra)
{
    if (x->client_chunked) client_write(x, "0\r\n\r\n", 5, NULL, 0, NULL, 0);
    if (x->finished) return;
    x->reusable = x->keep_alive && extra == 0;
    finish(x);
}

/* client_body: decoded body bytes to the client, in its framing. */
static void client_body(proxy_t *x, const char *p, size_t n)
{
    if (!n) return;
    x->res->stream_sent += n; /* for the access log */
    if (!x->client_chunked) {
        client_write(x, p, n, NULL, 0, NULL, 0);
        return;
    }
    char pre[24];
    size_t pn = (size_t)snprintf(pre, sizeof pre, "%zx\r\n", n);
    client_write(x, pre, pn, p, n, "\r\n", 2);
}

/* stream_body: a streamed response's body bytes in x->in go to the client
 * as they come; x->in never holds more than one read. */
static void stream_body(proxy_t *x, bool eof)
{
    if (x->chunked) {
        size_t len = x->in.n, out = 0;
        const char *why = NULL;
        int rc = hp_chunked_decode(&x->ch, x->in.p, &len, &out, UINT64_MAX, NULL, &why);
        if (rc < 0) {
            fail(x, ERR_BAD_GATEWAY, "upstream chunked body: %s", why ? why : "malformed");
            return;
        }
        client_body(x, x->in.p, out);
        buf_consume(&x->in, len);
        if (x->finished) return;
        if (rc == 1)
            stream_done(x, x->in.n);
        else if (eof)
            fail(x, ERR_BAD_GATEWAY, "%s", "the upstream closed in the middle of the body");
        return;
    }
    if (x->has_length) {
        uint64_t left = x->length - x->res_sent;
        size_t take = x->in.n < left ? x->in.n : (size_t)left;
        client_body(x, x->in.p, take);
        x->res_sent += take;
        buf_consume(&x->in, take);
        if (x->finished) return;
        if (x->res_sent == x->length)
            stream_done(x, x->in.n);
        else if (eof)
            fail(x, ERR_BAD_GATEWAY, "%s", "the upstream closed in the middle of the body");
        return;
    }
    client_body(x, x->in.p, x->in.n); /* delimited by the close */
    buf_reset(&x->in);
    if (!x->finished && eof) stream_done(x, 1);
}

/* begin_stream: the head of a large or open-ended response goes to the
 * client at once; the body follows as it arrives. */
static void begin_stream(proxy_t *x, const resp_head_t *rh)
{
    copy_head(x, rh->h, rh->n);
    buf_t head;
    buf_init(&head);
    x->client_chunked =
        http_stream_head(x->req, x->res, x->has_length ? (int64_t)x->length : -1, &head);
    x->res_streamed = true;
    client_write(x, head.p, head.n, NULL, 0, NULL, 0);
    buf_cleanup(&head);
}

static void progress(proxy_t *x, bool eof)
{
    if (x->res_streamed) {
        stream_body(x, eof);
        return;
    }
    resp_head_t *rh = &tl_rh;
    if (!x->have_head) {
        int rc = parse_head(x->in.p, x->in.n, rh);
        if (rc == 0) {
            if (eof) {
                /* a reused connection the upstream had already given up:
                 * nothing of the answer came, so the request may go again */
                retry_or_fail(x, x->reused && x->in.n == 0, "%s",
                              "the upstream closed before answering");
            }
            return;
        }
        if (rc < 0) {
            fail(x, ERR_BAD_GATEWAY, "%s", "the upstream sent a malformed response");
            return;
        }
        if (rh->status < 200) { /* an interim 1xx: skip it, read the real answer */
            buf_consume(&x->in, rh->len);
            progress(x, eof);
            return;
        }
        int fr = framing(x, rh);
        if (fr < 0) {
            fail(x, ERR_BAD_GATEWAY, "%s",
                 fr == -2 ? "the upstream response is too large" : "the upstream response framing is ambiguous");
            return;
        }
        x->have_head = true;
        x->head_len = rh->len;
        if (!x->head_only && (x->chunked || x->until_close ||
                              (x->has_length && x->length > STREAM_RESPONSE_MIN))) {
            begin_stream(x, rh);
            if (x->finished) return;
            buf_consume(&x->in, rh->len);
            stream_body(x, eof);
            return;
        }
        /* keep the head bytes; the body starts after them */
        buf_reset(&x->body);
    }
    size_t start = x->head_len;
    if (x->chunked) {
        /* decode what arrived after what was decoded already */
        size_t avail = x->in.n - start;
        size_t len = avail, out = 0;
        const char *why = NULL;
        int rc = hp_chunked_decode(&x->ch, x->in.p + start, &len, &out, GW_PROXY_MAX_RESPONSE,
                                   NULL, &why);
        if (rc < 0) {
            fail(x, ERR_BAD_GATEWAY, "upstream chunked body: %s", why ? why : "malformed");
            return;
        }
        buf_append(&x->body, x->in.p + start, out);
        /* drop the consumed framing, keep the head in front */
        memmove(x->in.p + start, x->in.p + start + len, avail - len);
        x->in.n -= len;
        if (rc == 1) {
            done_ok(x, avail - len);
            return;
        }
        if (eof) fail(x, ERR_BAD_GATEWAY, "%s", "the upstream closed in the middle of the body");
        return;
    }
    size_t have = x->in.n - start;
    if (x->has_length) {
        if (have >= x->length) {
            buf_append(&x->body, x->in.p + start, (size_t)x->length);
            done_ok(x, have - (size_t)x->length);
        } else if (eof) {
            fail(x, ERR_BAD_GATEWAY, "%s", "the upstream closed in the middle of the body");
        }
        return;
    }
    /* delimited by the close of the connection */
    if (have > GW_PROXY_MAX_RESPONSE) {
        fail(x, ERR_BAD_GATEWAY, "%s", "the upstream response is too large");
        return;
    }
    if (eof) {
        buf_append(&x->body, x->in.p + start, have);
        done_ok(x, 1); /* the connection is gone anyway */
    }
}

/* --- libuv callbacks --- */

static void on_timeout(uv_timer_t *t)
{
    proxy_t *x = t->data;
    fail(x, ERR_GATEWAY_TIMEOUT, "%s",
         x->connected ? "the upstream did not answer in time" : "the upstream did not accept the connection in time");
}


static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    if (!tl_rbuf) tl_rbuf = xmalloc(READ_BUF);
    if (!tl_rbuf_busy) {
        tl_rbuf_busy = true;
        *b = uv_buf_init(tl_rbuf, READ_BUF);
    } else {
        *b = uv_buf_init(xmalloc(READ_BUF), READ_BUF);
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    uconn_t *u = s->data;
    proxy_t *x = u->x;
    if (x && !x->finished && n > 0) buf_append(&x->in, b->base, (size_t)n);
    if (b->base == tl_rbuf)
        tl_rbuf_busy = false;
    else
        free(b->base);
    if (!x) {
        /* idle (or being let go): the upstream closed it, or sent bytes
         * nobody asked for — either way it cannot be used again */
        if (n != 0) u_close(u);
        return;
    }
    if (x->finished) return;
    if (n > 0) {
        touch(x);
        progress(x, false);
    } else if (n == UV_EOF) {
        progress(x, true);
    } else if (n < 0) {
        retry_or_fail(x, x->reused && x->in.n == 0, "the upstream connection failed: %s",
                      uv_strerror((int)n));
    }
}

/* touch: progress in either direction restarts the response timer, which
 * thus bounds the upstream's silence, not the length of a long transfer. */
static void touch(proxy_t *x)
{
    if (!x->finished && x->connected)
        uv_timer_start(&x->timer, on_timeout, (uint64_t)x->response_timeout_ms, 0);
}

/* send_request: the request head (and the body bytes that came while
 * connecting) on x->u, and the response timer. */
static void send_request(proxy_t *x)
{
    uconn_t *u = x->u;
    x->written = false;
    x->up_queued = 0;
    uv_timer_start(&x->timer, on_timeout, (uint64_t)x->response_timeout_ms, 0);
    if (up_write(x, x->out.p, x->out.n, x->pend.p, x->pend.n) != 0) {
        retry_or_fail(x, x->reused && !x->req_streamed, "%s", "cannot send to the upstream");
        return;
    }
    x->head_sent = true;
    buf_cleanup(&x->pend);
    check_written(x); /* written at once when the socket took it all */
    /* a pooled connection is read while idle already */
    if (!u->reading) {
        if (uv_read_start((uv_stream_t *)&u->tcp, alloc_cb, on_read) != 0) {
            retry_or_fail(x, false, "%s", "cannot read from the upstream");
            return;
        }
        u->reading = true;
    }
    /* What on_up_written does once a write ends: a body that came while
     * connecting may have paused the client; written at once, it resumes. */
    if (x->client_paused && x->up_queued + x->pend.n < QUEUE_LOW) {
        x->client_paused = false;
        http_body_pause(x->req, false); /* may feed more right here */
    }
}

static void on_connect(uv_connect_t *c, int status)
{
    uconn_t *u = c->data;
    proxy_t *x = u->x;
    if (!x || x->finished) return;
    if (status < 0) {
        retry_or_fail(x, true, "cannot connect to the upstream: %s", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&u->tcp, 1);
    x->connected = true;
    send_request(x);
}

/* start_connect: a new connection to x->addr (connect timeout running). */
static void start_connect(proxy_t *x)
{
    uconn_t *u = xcalloc(1, sizeof *u);
    u->stats = x->stats;
    u->pool = x->pool;
    u->x = x;
    uv_tcp_init(x->loop, &u->tcp);
    u->tcp.data = u;
    atomic_fetch_add(&x->stats->open, 1);
    atomic_fetch_add(&x->stats->connects, 1);
    x->u = u;
    x->reused = x->connected = false;
    uv_timer_start(&x->timer, on_timeout, (uint64_t)x->connect_timeout_ms, 0);
    u->connect.data = u;
    int rc = uv_tcp_connect(&u->connect, &u->tcp, (struct sockaddr *)&x->addr, on_connect);
    if (rc != 0) {
        fail(x, ERR_BAD_GATEWAY, "cannot connect to the upstream: %s", uv_strerror(rc));
    }
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai)
{
    proxy_t *x = g->data;
    x->resolving = false;
    if (x->finished) { /* it failed or timed out while resolving: close now */
        uv_freeaddrinfo(ai);
        uv_close((uv_handle_t *)&x->timer, on_closed);
        return;
    }
    if (status < 0 || !ai) {
        fail(x, ERR_BAD_GATEWAY, "cannot resolve the upstream host: %s", uv_strerror(status));
    } else {
        memcpy(&x->addr, ai->ai_addr, ai->ai_addrlen);
        x->have_addr = true;
        start_connect(x);
    }
    uv_freeaddrinfo(ai);
}

static bool is_idempotent(str_t m)
{
    return str_eq_cstr(m, "GET") || str_eq_cstr(m, "HEAD") || str_eq_cstr(m, "PUT") ||
           str_eq_cstr(m, "DELETE");
}

int gw_proxy_start(uv_loop_t *loop, const gw_proxy_req_t *p, http_req_t *req, http_res_t *res,
                   gw_proxy_done_fn done, void *arg)
{
    proxy_t *x = xcalloc(1, sizeof *x);
    x->loop = loop;
    x->req = req;
    x->res = res;
    x->done = done;
    x->arg = arg;
    x->stats = p->stats;
    x->max_idle = p->max_idle;
    x->connect_timeout_ms = p->connect_timeout_ms;
    x->response_timeout_ms = p->response_timeout_ms;
    x->head_only = str_eq_cstr(req->method, "HEAD");
    if (p->cache) x->cache = *p->cache;
    /* a streamed body cannot be sent twice */
    x->idempotent = is_idempotent(req->method) && !req->body_streamed;
    x->req_streamed = req->body_streamed;
    x->req_chunked = req->body_streamed && req->body_length < 0;
    x->body_done = !req->body_streamed;
    if (req->body_streamed)
        http_body_sink(req, &(http_body_sink_t){.data = sink_data, .end = sink_end, .arg = x});
    build_request(x, p, req);
    uv_timer_init(loop, &x->timer);
    x->timer.data = x->gai.data = x;
    x->pool = tl_closed ? NULL : pool_of(p);
    if (x->pool) budget_request(&x->pool->budget);
    uconn_t *u = x->pool ? pool_take(x->pool) : NULL;
    if (u) {
        u->x = x;
        x->u = u;
        x->reused = x->connected = true;
        atomic_fetch_add(&x->stats->reused, 1);
        /* a retry needs the address; the pool's host:port is numeric or
         * resolved again below only when it is a name */
    }
    if (uv_ip4_addr(p->up->host, p->up->port, (struct sockaddr_in *)&x->addr) == 0 ||
        uv_ip6_addr(p->up->host, p->up->port, (struct sockaddr_in6 *)&x->addr) == 0) {
        x->have_addr = true;
        if (u)
            send_request(x);
        else
            start_connect(x);
        return 0;
    }
    if (u) { /* a reused connection to a named host: no retry address */
        send_request(x);
        return 0;
    }
    /* a host name: resolved on libuv's thread pool, never on this thread */
    char port[8];
    snprintf(port, sizeof port, "%d", p->up->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    uv_timer_start(&x->timer, on_timeout, (uint64_t)p->connect_timeout_ms, 0);
    x->resolving = true;
    int rc = uv_getaddrinfo(loop, &x->gai, on_resolved, p->up->host, port, &hints);
    if (rc != 0) {
        x->resolving = false;
        fail(x, ERR_BAD_GATEWAY, "cannot resolve the upstream host: %s", uv_strerror(rc));
    }
    return 0;
}

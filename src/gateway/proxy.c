/* proxy.c — one request to an HTTP upstream on the I/O thread's loop (see
 * proxy.h). A small state machine: resolve (when the host is a name) →
 * connect (connect timeout) → write the request → read the response head
 * and body (response timeout) → close → done(). Every failure ends in a JSON
 * 502/504 in res; done() runs exactly once, from the last close callback. */
#include "proxy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "err.h"
#include "http_parse.h"
#include "log.h"

#define MAX_RESP_HEADERS 100

typedef struct proxy {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    uv_connect_t connect;
    uv_write_t write;
    int open_handles;
    bool connected, finished, resolving;
    http_req_t *req;
    http_res_t *res;
    gw_proxy_done_fn done;
    void *arg;
    int64_t response_timeout_ms;
    bool head_only; /* HEAD request: no response body */
    buf_t out;      /* the request bytes */
    buf_t in;       /* response bytes not yet consumed */
    buf_t body;     /* decoded response body */
    bool have_head;
    int status;
    bool chunked, has_length, until_close;
    uint64_t length;
    hp_chunked_t ch;
    struct resp_head *rh; /* the parsed response head (views into in) */
} proxy_t;

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

static bool in_connection_tokens(const http_req_t *req, str_t name)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!str_ieq_cstr(req->headers[i].name, "Connection")) continue;
        str_t v = req->headers[i].value;
        size_t s = 0;
        while (s < v.n) {
            size_t e = s;
            while (e < v.n && v.p[e] != ',') e++;
            size_t a = s, b = e;
            while (a < b && (v.p[a] == ' ' || v.p[a] == '\t')) a++;
            while (b > a && (v.p[b - 1] == ' ' || v.p[b - 1] == '\t')) b--;
            if (str_ieq((str_t){v.p + a, b - a}, name)) return true;
            s = e + 1;
        }
    }
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
    buf_printf(o, "X-Request-ID: %s\r\nX-Forwarded-For: %s\r\nX-Forwarded-Proto: http\r\n",
               req->request_id, p->client_addr ? p->client_addr : "");
    if (req->authenticated) {
        if (req->auth.tenant_id[0]) buf_printf(o, "X-Tenant-ID: %s\r\n", req->auth.tenant_id);
        buf_printf(o, "X-User-ID: %s\r\n", req->auth.user_id);
    }
    if (req->body_len || !(str_eq_cstr(req->method, "GET") || str_eq_cstr(req->method, "HEAD")))
        buf_printf(o, "Content-Length: %zu\r\n", req->body_len);
    buf_append_str(o, "Connection: close\r\n\r\n");
    if (req->body_len) buf_append(o, req->body, req->body_len);
}

/* --- completion --- */

static void on_closed(uv_handle_t *h)
{
    proxy_t *x = h->data;
    if (--x->open_handles > 0) return;
    gw_proxy_done_fn done = x->done;
    void *arg = x->arg;
    buf_cleanup(&x->out);
    buf_cleanup(&x->in);
    buf_cleanup(&x->body);
    free(x->rh);
    free(x);
    done(arg);
}

static void finish(proxy_t *x)
{
    if (x->finished) return;
    x->finished = true;
    uv_timer_stop(&x->timer);
    if (x->resolving) {
        /* the resolver's callback will see finished and close the handles */
        uv_cancel((uv_req_t *)&x->gai);
        return;
    }
    uv_close((uv_handle_t *)&x->tcp, on_closed);
    uv_close((uv_handle_t *)&x->timer, on_closed);
}

static void fail(proxy_t *x, int code, const char *fmt, const char *detail)
{
    if (x->finished) return;
    http_res_cleanup(x->res);
    http_res_init(x->res);
    x->res->request_id = x->req->request_id;
    http_error(x->res, code, fmt, detail);
    log_kv(LOG_WARN, "upstream request failed", "error", detail, "request_id",
           x->req->request_id, NULL);
    finish(x);
}

/* Response headers never passed back: hop-by-hop, and the ones the kernel
 * writes itself. */
static const char *const drop_response[] = {
    "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
    "Upgrade", "Content-Length", "Content-Type", "Date", "X-Request-ID", "X-Content-Type-Options",
    NULL};

static void complete(proxy_t *x, const hp_header_t *hs, size_t nh)
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
    buf_reset(&res->body);
    buf_append(&res->body, x->body.p ? x->body.p : "", x->body.n);
    finish(x);
}

/* --- the response parser (strict: CRLF, tokens, one framing) --- */

typedef struct resp_head resp_head_t;
struct resp_head {
    size_t len;
    int status;
    hp_header_t h[MAX_RESP_HEADERS];
    size_t n;
};

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

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
    bool no_body = x->head_only || r->status == 204 || r->status == 304;
    for (size_t i = 0; i < r->n; i++) {
        if (str_ieq_cstr(r->h[i].name, "Transfer-Encoding")) {
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
    if (x->has_length && x->length > GW_PROXY_MAX_RESPONSE) return -2;
    if (x->chunked) hp_chunked_init(&x->ch);
    if (!x->chunked && !x->has_length) x->until_close = true;
    return 0;
}

/* done_ok: completes with the head re-parsed, because x->in may have moved
 * (grown) since it was first parsed; the head bytes are still at its start. */
static void done_ok(proxy_t *x)
{
    parse_head(x->in.p, x->in.n, x->rh);
    complete(x, x->rh->h, x->rh->n);
}

static void progress(proxy_t *x, bool eof)
{
    if (!x->rh) x->rh = xmalloc(sizeof *x->rh);
    resp_head_t *rh = x->rh;
    if (!x->have_head) {
        int rc = parse_head(x->in.p, x->in.n, rh);
        if (rc == 0) {
            if (eof) fail(x, ERR_BAD_GATEWAY, "%s", "the upstream closed before answering");
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
        /* keep the head bytes; the body starts after them */
        buf_reset(&x->body);
    }
    size_t start = rh->len;
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
            done_ok(x);
            return;
        }
        if (eof) fail(x, ERR_BAD_GATEWAY, "%s", "the upstream closed in the middle of the body");
        return;
    }
    size_t have = x->in.n - start;
    if (x->has_length) {
        if (have >= x->length) {
            buf_append(&x->body, x->in.p + start, (size_t)x->length);
            done_ok(x);
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
        done_ok(x);
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
    (void)suggested;
    proxy_t *x = h->data;
    buf_reserve(&x->in, 65536);
    *b = uv_buf_init(x->in.p + x->in.n, 65536);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    proxy_t *x = s->data;
    if (x->finished) return;
    if (n > 0) {
        x->in.n += (size_t)n;
        x->in.p[x->in.n] = '\0';
        progress(x, false);
    } else if (n == UV_EOF) {
        progress(x, true);
    } else if (n < 0) {
        fail(x, ERR_BAD_GATEWAY, "the upstream connection failed: %s", uv_strerror((int)n));
    }
}

static void on_written(uv_write_t *w, int status)
{
    proxy_t *x = w->data;
    if (status < 0 && !x->finished)
        fail(x, ERR_BAD_GATEWAY, "cannot send to the upstream: %s", uv_strerror(status));
}

static void on_connect(uv_connect_t *c, int status)
{
    proxy_t *x = c->data;
    if (x->finished) return;
    if (status < 0) {
        fail(x, ERR_BAD_GATEWAY, "cannot connect to the upstream: %s", uv_strerror(status));
        return;
    }
    x->connected = true;
    uv_timer_start(&x->timer, on_timeout, (uint64_t)x->response_timeout_ms, 0);
    uv_buf_t b = uv_buf_init(x->out.p, (unsigned)x->out.n);
    x->write.data = x;
    if (uv_write(&x->write, (uv_stream_t *)&x->tcp, &b, 1, on_written) != 0 ||
        uv_read_start((uv_stream_t *)&x->tcp, alloc_cb, on_read) != 0)
        fail(x, ERR_BAD_GATEWAY, "%s", "cannot send to the upstream");
}

static void start_connect(proxy_t *x, const struct sockaddr *sa)
{
    x->connect.data = x;
    int rc = uv_tcp_connect(&x->connect, &x->tcp, sa, on_connect);
    if (rc != 0) fail(x, ERR_BAD_GATEWAY, "cannot connect to the upstream: %s", uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai)
{
    proxy_t *x = g->data;
    x->resolving = false;
    if (x->finished) { /* it failed or timed out while resolving: close now */
        uv_freeaddrinfo(ai);
        uv_close((uv_handle_t *)&x->tcp, on_closed);
        uv_close((uv_handle_t *)&x->timer, on_closed);
        return;
    }
    if (status < 0 || !ai) {
        fail(x, ERR_BAD_GATEWAY, "cannot resolve the upstream host: %s", uv_strerror(status));
    } else {
        start_connect(x, ai->ai_addr);
    }
    uv_freeaddrinfo(ai);
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
    x->response_timeout_ms = p->response_timeout_ms;
    x->head_only = str_eq_cstr(req->method, "HEAD");
    build_request(x, p, req);
    uv_tcp_init(loop, &x->tcp);
    uv_timer_init(loop, &x->timer);
    x->tcp.data = x->timer.data = x->gai.data = x;
    x->open_handles = 2;
    uv_timer_start(&x->timer, on_timeout, (uint64_t)p->connect_timeout_ms, 0);
    struct sockaddr_storage ss;
    if (uv_ip4_addr(p->up->host, p->up->port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(p->up->host, p->up->port, (struct sockaddr_in6 *)&ss) == 0) {
        start_connect(x, (struct sockaddr *)&ss);
        return 0;
    }
    /* a host name: resolved on libuv's thread pool, never on this thread */
    char port[8];
    snprintf(port, sizeof port, "%d", p->up->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    x->resolving = true;
    int rc = uv_getaddrinfo(loop, &x->gai, on_resolved, p->up->host, port, &hints);
    if (rc != 0) {
        x->resolving = false;
        fail(x, ERR_BAD_GATEWAY, "cannot resolve the upstream host: %s", uv_strerror(rc));
    }
    return 0;
}

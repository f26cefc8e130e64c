/* proxy.h — forwarding a request to an HTTP upstream, asynchronously on the
 * calling I/O thread's loop.
 *
 * Upstream connections are kept alive and pooled per service per I/O thread
 * (at most BIZOSAAS_UPSTREAM_KEEPALIVE idle ones; a pool is private to its
 * loop, so it needs no lock). An idempotent request (GET, HEAD, PUT,
 * DELETE) whose connection could not be opened, or whose reused connection
 * was closed or reset before any response byte (the upstream dropped an idle
 * connection), is sent once more on a fresh connection — if the retry
 * budget allows: retries may be at most GW_RETRY_RATIO of the requests over
 * a sliding GW_RETRY_WINDOW_MS (counted per service and I/O thread, so the
 * service as a whole stays within it too), so an outage is never multiplied
 * by retries. POST and PATCH, and requests whose body was streamed, are
 * never retried.
 *
 * Bodies: a request body the kernel streams (http.h, "streaming") is fed to
 * the upstream as it arrives; a response that is chunked, close-delimited or
 * larger than 64 KiB is relayed to the client as it arrives; smaller ones
 * are collected and handed back in res. At most ~256 KiB is queued in either
 * direction before the sending side is paused. Hop-by-hop headers are
 * dropped both ways; the client's X-Tenant-ID, X-User-ID, X-Request-ID and
 * X-Forwarded-* are replaced by the gateway's own. A connect timeout, or no
 * progress for the response timeout, is 504; a refused, reset or garbled
 * upstream is 502 — always a JSON error while nothing was sent to the
 * client (afterwards the client connection is closed: the body is cut
 * short), and the client connection stays usable. */
#ifndef BZ_GW_PROXY_H
#define BZ_GW_PROXY_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "cache.h"
#include "http.h"

#define GW_PROXY_MAX_RESPONSE (64u << 20) /* bytes of a collected (not streamed) response */
#define GW_PROXY_MAX_HEAD 65536           /* bytes of an upstream response head */

typedef struct gw_upstream {
    char host[256];
    int port;
    char base[256]; /* path prefix, no trailing slash ("" for none) */
} gw_upstream_t;

/* gw_upstream_parse: "http://host:port/base" -> parts; NULL or a message. */
const char *gw_upstream_parse(const char *url, gw_upstream_t *out);

#define GW_RETRY_RATIO 0.2        /* retries per request, at most, over the window */
#define GW_RETRY_WINDOW_MS 10000  /* the retry budget's sliding window */
#define GW_POOL_IDLE_MAX_MS 60000 /* an idle upstream connection older than this is closed */

/* Per-service upstream counters. Owned by the service
 * (lives until gw_stop); updated from every I/O thread. */
typedef struct gw_upstream_stats {
    _Atomic int64_t open, idle;           /* connections now: all, and idle in pools */
    _Atomic uint64_t connects, reused;    /* connections opened; requests on a reused one */
    _Atomic uint64_t retries, budget_exhausted; /* retries sent; retries refused by the budget */
} gw_upstream_stats_t;

void gw_upstream_stats_init(gw_upstream_stats_t *st);
void gw_upstream_stats_destroy(gw_upstream_stats_t *st);

typedef void (*gw_proxy_done_fn)(void *arg);

typedef struct gw_proxy_req {
    const gw_upstream_t *up;  /* borrowed until done */
    int64_t connect_timeout_ms, response_timeout_ms;
    const char *rest;         /* path after /api/brain/{service}/, raw */
    const char *client_addr;  /* for X-Forwarded-For */
    gw_upstream_stats_t *stats; /* the service's; borrowed, outlives every request */
    int max_idle;             /* pool bound per I/O thread (0 = no keep-alive) */
    const gw_cache_ctx_t *cache; /* copied; NULL = no caching (cache.h: a collected
                                    answer is offered, a write invalidates when done) */
} gw_proxy_req_t;

/* gw_proxy_start: sends req upstream on loop and fills res; done(arg) is
 * called on the loop thread when res is complete (also on failure, with a
 * 502/504 error in res). Returns 0 when started, or an error written into
 * res (done is then never called). */
int gw_proxy_start(uv_loop_t *loop, const gw_proxy_req_t *p, http_req_t *req, http_res_t *res,
                   gw_proxy_done_fn done, void *arg);

/* gw_proxy_loop_closing: closes the idle upstream connections of the
 * calling I/O thread; its loop is finishing (no request is in flight), and
 * no connection is pooled on it afterwards. */
void gw_proxy_loop_closing(void);

#endif

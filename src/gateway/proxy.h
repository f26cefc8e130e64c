/* proxy.h — forwarding a request to an HTTP upstream, asynchronously on the
 * calling I/O thread's loop.
 *
 * Version 1 (this file): one upstream connection per request (sent with
 * "Connection: close"), the request body as the kernel read it (up to
 * BIZOSAAS_MAX_BODY_BYTES), the response collected up to GW_PROXY_MAX_RESPONSE
 * and then handed back. Hop-by-hop headers are dropped both ways; the
 * client's X-Tenant-ID, X-User-ID, X-Request-ID and X-Forwarded-* are
 * replaced by the gateway's own. A connect timeout or a response timeout is
 * 504; a refused, reset or garbled upstream is 502 — always a JSON error, and
 * the client connection stays usable. Streaming bodies and upstream
 * keep-alive pools are the next step. */
#ifndef BZ_GW_PROXY_H
#define BZ_GW_PROXY_H

#include <stdint.h>
#include <uv.h>

#include "http.h"

#define GW_PROXY_MAX_RESPONSE (64u << 20) /* bytes of an upstream response */
#define GW_PROXY_MAX_HEAD 65536           /* bytes of an upstream response head */

typedef struct gw_upstream {
    char host[256];
    int port;
    char base[256]; /* path prefix, no trailing slash ("" for none) */
} gw_upstream_t;

/* gw_upstream_parse: "http://host:port/base" -> parts; NULL or a message. */
const char *gw_upstream_parse(const char *url, gw_upstream_t *out);

typedef void (*gw_proxy_done_fn)(void *arg);

typedef struct gw_proxy_req {
    const gw_upstream_t *up;  /* borrowed until done */
    int64_t connect_timeout_ms, response_timeout_ms;
    const char *rest;         /* path after /api/brain/{service}/, raw */
    const char *client_addr;  /* for X-Forwarded-For */
} gw_proxy_req_t;

/* gw_proxy_start: sends req upstream on loop and fills res; done(arg) is
 * called on the loop thread when res is complete (also on failure, with a
 * 502/504 error in res). Returns 0 when started, or an error written into
 * res (done is then never called). */
int gw_proxy_start(uv_loop_t *loop, const gw_proxy_req_t *p, http_req_t *req, http_res_t *res,
                   gw_proxy_done_fn done, void *arg);

#endif

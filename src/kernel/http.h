/* http.h — the handler API: requests, responses and routes.
 *
 * A context exposes its HTTP API as a static table of route_t (method,
 * pattern, permission, summary, handler) registered at startup with
 * router_add(). The router, `bizosaas routes --json`, /openapi.json and the
 * spec checker all read the same table.
 *
 * Handlers are plain synchronous functions. Unless a route is RT_INLINE they
 * run on a worker thread, inside one database transaction opened by the
 * kernel with the request's tenant set (req->db); returning 0 commits,
 * returning a negative ERR_* rolls back. Everything a handler allocates for
 * the request comes from req->arena and is released after the response is
 * sent; nothing needs an explicit free.
 *
 *     static int get_lead(http_req_t *req, http_res_t *res)
 *     {
 *         const char *id = http_param(req, "id");
 *         json_t *lead = NULL;
 *         int rc = crm_lead_get(req->db, req->auth.tenant_id, id, req->arena, &lead);
 *         if (rc == ERR_NOT_FOUND) return http_error(res, rc, "lead %s not found", id);
 *         if (rc < 0) return http_error(res, rc, NULL);
 *         return http_json(res, 200, lead);
 *     }
 */
#ifndef BZ_HTTP_H
#define BZ_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "http_parse.h"
#include "str.h"

typedef struct http_req http_req_t;
typedef struct http_res http_res_t;
typedef struct route route_t;

typedef int (*http_handler_fn)(http_req_t *req, http_res_t *res);

enum route_flags {
    RT_PUBLIC = 1u << 0,   /* no token required (tenant may still come from Host) */
    RT_INLINE = 1u << 1,   /* runs on the I/O thread: must not block, req->db is NULL */
    RT_NO_TX = 1u << 2,    /* on a worker, no transaction; req->db is NULL when the db is down */
    RT_PLATFORM = 1u << 3, /* super_admin/service callers get a platform-scope transaction
                              (every tenant visible); other callers their tenant's */
    RT_GATEWAY = 1u << 4,  /* /api/brain/{service}/{path...}: re-routed by the gateway
                              (http_set_gateway) before anything else happens */
    RT_FALLBACK = 1u << 5, /* matched only when no other route has the path (under any
                              method): the marketing site's "/{path...}" must not turn a
                              405 or a JSON 404 elsewhere into a page */
    RT_STREAM = 1u << 6,   /* the handler may stream its response (http_stream_begin);
                              use with RT_NO_TX: it holds a worker while it streams */
    RT_READ = 1u << 7,     /* a GET that only reads through req->db: on SQLite the kernel
                              may run it on the I/O thread in a read transaction on that
                              thread's own connection instead of on a worker (see
                              "Reads on the I/O thread" in docs/ARCHITECTURE.md) */
    /* RT_REPEATABLE, with RT_READ: the 2xx answer depends only on the database, the
     * caller's verified token claims, the route and the path and query (not on other
     * headers, the clock or randomness): the I/O thread may answer the same request
     * again from memory while nothing has been committed to the database since. */
    RT_REPEATABLE = 1u << 8,
    RT_WRITES = 1u << 9, /* a GET whose handler writes too (the vault audits every read): its
                            transaction is opened for writing, so on SQLite it takes the write
                            lock up front instead of failing a read-to-write upgrade (409) when
                            another connection committed meanwhile */
};

#define HTTP_MAX_PARAMS 8

struct route {
    const char *method;     /* "GET", "POST", ... */
    const char *pattern;    /* "/api/v1/crm/leads/{id}"; "{rest...}" matches the remainder */
    const char *permission; /* e.g. "leads.view"; NULL = any authenticated user */
    const char *summary;    /* one line, shown in routes --json and OpenAPI */
    http_handler_fn handler;
    unsigned flags;
};

struct http_req {
    arena_t *arena;       /* request lifetime memory */
    str_t method;         /* borrowed from the connection buffer */
    const char *path;     /* NUL-terminated, percent-decoded path */
    const char *raw_path; /* as received (without query) */
    const char *query;    /* raw query string without '?', "" if none */
    const hp_header_t *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated copy of the decoded body ("" if none) */
    size_t body_len;
    const char *request_id;
    const char *remote_addr;
    const route_t *route;
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS];
    int nparams;
    bool authenticated;
    auth_ctx_t auth;         /* valid when authenticated; tenant_id "" when none */
    const char *api_key;     /* "bzk_…" bearer credential, resolved on the worker by the
                                request hook (see http_set_request_hook) */
    db_t *db;        /* the worker's connection (NULL for RT_INLINE routes) */
    void *gw;        /* the gateway service the request came through, or NULL */
    bool body_streamed;  /* the kernel did not read the body: see http_body_sink */
    int64_t body_length; /* with body_streamed: its length, -1 when chunked */
    void *kernel;    /* private to the kernel */
    struct http_after_commit *after_commit; /* private: see http_after_commit */
};

typedef struct http_res {
    int status;
    buf_t headers; /* extra header lines "Name: value\r\n" */
    buf_t body;
    const char *content_type; /* static or arena string; default application/json */
    const char *request_id;   /* for the error envelope */
    int err;                  /* the ERR_* code when http_error was used */
    bool streamed;            /* the body was written to the client by the handler itself
                                 (http_stream_head); the kernel writes nothing */
    bool stream_broken;       /* a streamed body ended early: the connection is closed */
    int64_t stream_length;    /* with streamed: Content-Length, or -1 for chunked */
    uint64_t stream_sent;     /* with streamed: body bytes handed to the client (access log) */
    char ctype_buf[96];       /* storage for a content type copied from elsewhere */
} http_res_t;

/* --- request accessors (results borrowed for the request's lifetime) --- */
const char *http_header(const http_req_t *req, const char *name); /* NULL when absent */
const char *http_param(const http_req_t *req, const char *name);  /* path parameter */
/* http_query: the decoded value of a query parameter, NULL when absent. */
const char *http_query(const http_req_t *req, const char *name);

/* http_after_commit: fn(arg) runs on the worker right after the request's
 * transaction committed, never when it rolled back; in the order of the
 * calls. Only for handlers run in a worker transaction (not RT_INLINE,
 * RT_NO_TX or reads served on the I/O thread: there fn is never called).
 * For memory that mirrors the database: updated from the handler itself it
 * would show a change that may still roll back. arg must live as long as
 * the request (req->arena); fn must not block. */
void http_after_commit(http_req_t *req, void (*fn)(void *arg), void *arg);

/* http_query_int: the integer query parameter name into *out, left
 * unchanged when absent. A value that is not a whole number in [min, max]
 * writes a 422 naming the parameter and returns ERR_VALIDATION. */
int http_query_int(const http_req_t *req, http_res_t *res, const char *name, int64_t min,
                   int64_t max, int64_t *out);

/* http_body_json: parses the body as a JSON object. On failure writes the
 * error response (415 when Content-Type is not JSON, 400 invalid_json with
 * the position, 422 when it is not an object) and returns NULL with *rc set.
 * The returned object is owned by the request (released with the arena). */
json_t *http_body_json(http_req_t *req, http_res_t *res, int *rc);

/* --- responses --- */
/* http_json: sets status and a JSON body; steals the reference to j. Returns 0. */
int http_json(http_res_t *res, int status, json_t *j);
/* http_text: a body of the given content type (copied). Returns 0. */
int http_text(http_res_t *res, int status, const char *content_type, const char *body, size_t len);
/* http_error: sets the status of code and the JSON error envelope; message
 * is printf-style, NULL for the table's default. Returns code so handlers can
 * `return http_error(...)`. */
int http_error(http_res_t *res, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* http_set_header: adds a response header (name and value are copied). */
void http_set_header(http_res_t *res, const char *name, const char *value);

/* --- JSON field validation: each writes a 422 naming the field on failure --- */
/* json_field_str: *out = the string at key (NULL when absent and optional).
 * Fails when required and absent, not a string, empty when required, or
 * longer than maxlen bytes. */
int json_field_str(http_res_t *res, json_t *obj, const char *key, bool required, size_t maxlen,
                   const char **out);
int json_field_int(http_res_t *res, json_t *obj, const char *key, bool required, int64_t min,
                   int64_t max, int64_t *out);
/* json_reject_unknown: fails (422) when obj has a key not in allowed (NULL-terminated).
 * The rule for every write endpoint: unknown fields are rejected, never ignored. */
int json_reject_unknown(http_res_t *res, json_t *obj, const char *const *allowed);

/* --- the request hook (identity plugs in here) ---
 * Called on the worker for every non-inline request that carries a
 * credential, before the request transaction opens (no transaction is open;
 * the hook may run its own) — except for RT_READ routes run on an I/O
 * thread (SQLite, bearer tokens only, never API keys), where it is called
 * inside the request's read transaction and must then only read. It resolves req->api_key into req->auth and may
 * refuse a verified token that was revoked, a suspended tenant or a
 * deactivated user. Returns 0, or an error written with http_error (the
 * request then ends with it). The kernel checks the route's permission after
 * the hook. Set once at startup, before threads start. */
typedef int (*http_request_hook_fn)(db_t *db, http_req_t *req, http_res_t *res);
void http_set_request_hook(http_request_hook_fn fn);

/* --- the gateway hooks ---
 * For RT_GATEWAY routes the kernel asks resolve() for the path to re-route
 * to (params "service" and "path"; 1 = an HTTP upstream, to proxy()), then,
 * once the caller is authenticated, admit() (breaker and rate limit; it
 * writes the refusal), and after the response record(). The kernel does not
 * know the gateway's types. Set once at startup. */
typedef struct http_gateway_ops {
    int (*resolve)(const char *service, const char *rest, arena_t *a, const char **path,
                   void **svc);
    int (*admit)(void *svc, const char *key, http_res_t *res);
    void (*record)(void *svc, int status, uint64_t micros);
    /* proxy: forwards the request to the service's HTTP upstream on loop
     * (a uv_loop_t *); done(arg) runs on that loop when res is complete.
     * Returns 0 when started, 1 when answered at once from the gateway's
     * response cache (res complete; it may set req->gw to NULL to say the
     * request was recorded already), or an error already written into res;
     * done is never called unless it returned 0. */
    int (*proxy)(void *svc, void *loop, http_req_t *req, http_res_t *res, const char *rest,
                 const char *client, void (*done)(void *), void *arg);
    /* loop_closing: on an I/O thread whose loop is about to finish (no
     * connection, no request left): release what proxy() keeps on that
     * loop (idle upstream connections). */
    void (*loop_closing)(void *loop);
} http_gateway_ops_t;
void http_set_gateway(const http_gateway_ops_t *ops);

/* --- streaming responses (Server-Sent Events and the like) ---
 * For RT_STREAM routes only. The kernel hands the handler's worker a
 * private duplicate of the client socket (taken on the I/O thread before
 * the job was queued, so it always names this connection). http_stream_begin
 * writes the status line and headers (no Content-Length; the connection
 * closes after the handler returns, which ends the body); then each
 * http_stream_write sends bytes at once, blocking the worker up to
 * timeout_ms while the client does not read. Both return 0, or ERR_IO when
 * the client has gone (stop streaming and return). Once begun, whatever the
 * handler puts in res is ignored. The I/O thread never writes to the
 * socket while the job runs, so the two never interleave. */
int http_stream_begin(http_req_t *req, http_res_t *res, const char *content_type);
int http_stream_write(http_req_t *req, const char *data, size_t len, int timeout_ms);
/* http_stream_closing: true once the server is shutting down; a streaming
 * handler should end its stream and return. */
bool http_stream_closing(const http_req_t *req);
/* --- streaming (for the gateway's proxy, on the I/O thread; see conn.c) ---
 * A chunked or large request body for a gateway route to an HTTP upstream
 * is not read by the kernel: the request is dispatched after its head
 * (req->body_streamed) and the decoded body is fed, as it arrives, to the
 * sink the proxy sets while starting. No BIZOSAAS_MAX_BODY_BYTES applies.
 * end(arg, true) follows the last byte; end(arg, false) means the client
 * went away or sent a broken body. The proxy may pause the client
 * (backpressure) and resume it. The sink is dropped when the proxy's done()
 * runs; body bytes still unread then make the connection close after the
 * response. */
typedef struct http_body_sink {
    void (*data)(void *arg, const char *p, size_t n);
    void (*end)(void *arg, bool complete);
    void *arg;
} http_body_sink_t;
void http_body_sink(http_req_t *req, const http_body_sink_t *sink);
void http_body_pause(http_req_t *req, bool pause);
/* http_stream_head: a response body written by the handler itself: appends
 * res's status line and headers for req's connection to out, framed with
 * Content-Length: length, or chunked when length < 0 (close-delimited for
 * an HTTP/1.0 client), and marks res streamed. Returns true when the body
 * must be sent in chunks. The handler then writes out and the body to
 * http_stream_client(req) (a uv_stream_t *) with uv_write, keeps res until
 * its writes completed, and sets res->stream_broken when the body could not
 * be completed. res must be the response the kernel gave the handler. */
bool http_stream_head(http_req_t *req, http_res_t *res, int64_t length, buf_t *out);
void *http_stream_client(http_req_t *req);
/* http_stream_gone: true once the client has hung up (without waiting for
 * a write to fail), so an idle stream gives its worker back at once. */
bool http_stream_gone(const http_req_t *req);

/* --- response lifecycle (kernel) --- */
void http_res_init(http_res_t *res);
void http_res_cleanup(http_res_t *res);

#endif

/* dispatch.c — from a complete request to a response: routing,
 * authentication, permission, and running the handler (inline on the I/O
 * thread or on a worker inside one database transaction with the tenant
 * context set, with idempotency keys honoured). */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "err.h"
#include "idem.h"
#include "ids.h"
#include "log.h"
#include "server_internal.h"

static http_request_hook_fn g_request_hook;
static const http_gateway_ops_t *g_gateway;

void http_set_request_hook(http_request_hook_fn fn) { g_request_hook = fn; }
void http_set_gateway(const http_gateway_ops_t *ops) { g_gateway = ops; }

static bool is_write_method(str_t m)
{
    return !(str_eq_cstr(m, "GET") || str_eq_cstr(m, "HEAD") || str_eq_cstr(m, "OPTIONS"));
}

struct http_after_commit {
    struct http_after_commit *next;
    void (*fn)(void *arg);
    void *arg;
};

void http_after_commit(http_req_t *req, void (*fn)(void *arg), void *arg)
{
    struct http_after_commit *a = arena_alloc(req->arena, sizeof *a), **tail = &req->after_commit;
    while (*tail) tail = &(*tail)->next;
    *a = (struct http_after_commit){NULL, fn, arg};
    *tail = a;
}

/* The worker side of a request. */
static void run_job(pool_job_t *pj, db_t *db)
{
    job_t *j = (job_t *)pj;
    conn_t *c = j->conn;
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    const route_t *rt = req->route;
    req->db = db;
    if (rt->flags & RT_NO_TX) { /* such handlers check req->db themselves */
        rt->handler(req, res);
        return;
    }
    if (!db) {
        http_error(res, ERR_DB_UNAVAILABLE, "the database is unavailable; retry later");
        return;
    }
    /* A read with a verified token opens its transaction first and runs the
     * request hook inside it: one transaction instead of two (on PostgreSQL
     * two round trips fewer). Writes (idempotency claims come first) and API
     * keys (whose tenant the hook is yet to find) keep the hook in front. */
    bool write = is_write_method(req->method) || (rt->flags & RT_WRITES);
    bool platform = (rt->flags & RT_PLATFORM) && req->authenticated &&
                    (req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE));
    bool began = false;
    if (g_request_hook && !write && req->authenticated && !req->api_key) {
        const char *t = req->auth.tenant_id[0] ? req->auth.tenant_id : NULL;
        int rc = platform ? db_begin_platform(db, false) : db_begin(db, t, false);
        if (rc < 0) {
            log_kv(LOG_ERROR, "cannot begin transaction", "error", db_errmsg(db), "request_id",
                   req->request_id, NULL);
            http_error(res, rc == ERR_DB_UNAVAILABLE ? rc : ERR_DB_UNAVAILABLE, NULL);
            return;
        }
        began = true;
        if (g_request_hook(db, req, res) < 0) {
            db_rollback(db);
            return;
        }
    } else if (g_request_hook && (req->authenticated || req->api_key)) {
        if (g_request_hook(db, req, res) < 0) return;
        if (req->api_key && !req->authenticated) {
            http_error(res, ERR_UNAUTHORIZED, "the API key is invalid or revoked");
            return;
        }
    } else if (req->api_key && !(rt->flags & RT_PUBLIC)) {
        http_error(res, ERR_UNAUTHORIZED, "API keys are not accepted here");
        return;
    }
    if (!(rt->flags & RT_PUBLIC) && !auth_permits(req->auth.roles, rt->permission)) {
        http_error(res, ERR_FORBIDDEN, "permission %s is required", rt->permission);
        if (began) db_rollback(db);
        return;
    }
    const char *tenant = req->authenticated && req->auth.tenant_id[0] ? req->auth.tenant_id : NULL;
    const char *key = str_eq_cstr(req->method, "POST") ? http_header(req, "Idempotency-Key") : NULL;
    /* Keys are scoped per tenant; a caller without one (a platform
     * super_admin or service token) gets a scope of its own. */
    const char *scope = tenant;
    if (!scope && req->authenticated)
        scope = arena_printf(req->arena, "platform:%s", req->auth.user_id);
    bool claimed = false;
    if (key && scope) {
        if (!idem_key_ok(key)) {
            http_error(res, ERR_VALIDATION, "Idempotency-Key must be 1..%d visible ASCII characters",
                       IDEM_KEY_MAX);
            return;
        }
        char hash[65];
        idem_hash(req, hash);
        int rc = idem_claim(db, scope, key, hash, c->loop->srv->cfg->idempotency_ttl_s,
                            (int64_t)time(NULL), res);
        if (rc == 1) return; /* replayed */
        if (rc < 0) {
            http_error(res, rc, NULL);
            return;
        }
        claimed = true;
    }
    int rc = began ? 0 : platform ? db_begin_platform(db, write) : db_begin(db, tenant, write);
    if (rc < 0) {
        log_kv(LOG_ERROR, "cannot begin transaction", "error", db_errmsg(db), "request_id",
               req->request_id, NULL);
        http_error(res, rc == ERR_DB_UNAVAILABLE ? rc : ERR_DB_UNAVAILABLE, NULL);
        if (claimed) idem_release(db, scope, key);
        return;
    }
    rc = rt->handler(req, res);
    if (rc == 0 && res->status < 400) {
        if (claimed) rc = idem_store(db, scope, key, res);
        if (rc == 0) rc = db_commit(db);
        if (rc == 0) {
            for (struct http_after_commit *a = req->after_commit; a; a = a->next) a->fn(a->arg);
            return;
        }
        log_kv(LOG_ERROR, "commit failed", "error", db_errmsg(db), "request_id", req->request_id,
               NULL);
        db_rollback(db);
        http_res_cleanup(res);
        http_res_init(res);
        res->request_id = req->request_id;
        http_error(res, rc == ERR_EXISTS || rc == ERR_CONFLICT ? rc : ERR_DB, NULL);
    } else {
        if (rc < 0 && res->status < 400) http_error(res, rc, NULL);
        if (rc == ERR_DB || rc == ERR_DB_UNAVAILABLE)
            log_kv(LOG_ERROR, "database error in handler", "error", db_errmsg(db), "route",
                   rt->pattern, "request_id", req->request_id, NULL);
        db_rollback(db);
    }
    if (claimed) idem_release(db, scope, key);
}

/* ---- per-I/O-thread memory: verified tokens and repeatable answers ----
 *
 * Verified tokens. A client sends the same access token with every request
 * for up to an hour, and verifying it (two base64 decodes, an HMAC or an
 * ECDSA check and a JSON parse) was a visible share of a short
 * authenticated request. Each thread keeps the last tokens it verified,
 * in one of two slots picked by a keyed hash (SipHash, random key: the slot
 * says nothing useful about the token), with their claims. A hit must equal the whole
 * Authorization value, compared in constant time, and counts only before
 * the token's exp — after it the full verification decides, leeway
 * included. Only successes are kept, so a bad token is always verified in
 * full; the keys never change while the process runs, so a token verified
 * once stays verified. Revocation is not this cache's business: the request
 * hook checks it.
 *
 * Repeatable answers (RT_REPEATABLE routes, see http.h). A 2xx answer that
 * depends only on the database, the caller's verified claims, the route and
 * the path and query is kept with the database fingerprint read before its
 * transaction began (db_data_version); the same request is answered from it
 * while the fingerprint is unchanged, i.e. while no transaction committed
 * anywhere — any logout, suspension or profile change, by this process or
 * another sharing the database, changes the fingerprint, and the next
 * request runs in full again (request hook included). A fingerprint read
 * before the snapshot can only be older than the data, so a race costs a
 * miss, never a stale answer. */
#define TOKEN_CACHE_N 128   /* token slots per thread, in pairs (two-way) */
#define TOKEN_CACHE_LEN 640 /* longest Authorization value kept (an ES256 token fits) */
#define ANSWER_CACHE_N 64   /* answer slots per thread */
#define ANSWER_KEY_LEN 256  /* longest path + query kept */
#define ANSWER_BODY_MAX 4096

typedef struct tok_slot {
    size_t len;    /* 0: empty */
    uint64_t used; /* last use, for replacing the older of a pair */
    char authz[TOKEN_CACHE_LEN];
    auth_ctx_t ctx;
} tok_slot_t;

typedef struct answer_slot {
    const route_t *route; /* NULL: empty */
    auth_ctx_t auth;
    size_t keylen;
    char key[ANSWER_KEY_LEN]; /* raw path, '?', query */
    db_version_t version;
    int status;
    size_t len;
    char *body; /* owned, ANSWER_BODY_MAX bytes */
} answer_slot_t;

typedef struct thread_memory {
    uint64_t tick;
    tok_slot_t tokens[TOKEN_CACHE_N];
    answer_slot_t answers[ANSWER_CACHE_N];
} thread_memory_t;

static unsigned char g_hash_key[crypto_shorthash_KEYBYTES];
static pthread_key_t g_memory_key;
static pthread_once_t g_memory_once = PTHREAD_ONCE_INIT;

static void memory_free(void *p)
{
    thread_memory_t *m = p;
    for (size_t i = 0; i < ANSWER_CACHE_N; i++)
        free(m->answers[i].body);
    free(m);
}

static void memory_init(void)
{
    randombytes_buf(g_hash_key, sizeof g_hash_key);
    if (pthread_key_create(&g_memory_key, memory_free) != 0) abort();
}

/* thread_memory: this thread's, created on first use, freed when the
 * thread exits. */
static thread_memory_t *thread_memory(void)
{
    pthread_once(&g_memory_once, memory_init);
    thread_memory_t *m = pthread_getspecific(g_memory_key);
    if (!m) {
        m = xcalloc(1, sizeof *m);
        pthread_setspecific(g_memory_key, m);
    }
    return m;
}

static unsigned slot_of(const void *data, size_t n, size_t nslots)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, data, n, g_hash_key);
    uint32_t v;
    memcpy(&v, h, sizeof v);
    return v % (uint32_t)nslots;
}

/* tok_pair: the two slots a token may live in. */
static tok_slot_t *tok_pair(const char *authz, size_t len, uint64_t *tick)
{
    thread_memory_t *m = thread_memory();
    *tick = ++m->tick;
    return &m->tokens[2 * slot_of(authz, len, TOKEN_CACHE_N / 2)];
}

static bool same_claims(const auth_ctx_t *a, const auth_ctx_t *b)
{
    return a->roles == b->roles && a->exp == b->exp && a->iat == b->iat &&
           strcmp(a->tenant_id, b->tenant_id) == 0 && strcmp(a->user_id, b->user_id) == 0 &&
           strcmp(a->jti, b->jti) == 0;
}

/* answer_key: "path?query" into buf; false when it does not fit. */
static bool answer_key(const http_req_t *req, char *buf, size_t *len)
{
    int n = snprintf(buf, ANSWER_KEY_LEN, "%s?%s", req->raw_path, req->query);
    if (n < 0 || n >= ANSWER_KEY_LEN) return false;
    *len = (size_t)n;
    return true;
}

/* answer_slot: the slot this request's answer lives in (whatever it holds). */
static answer_slot_t *answer_slot(const http_req_t *req, const char *key, size_t keylen)
{
    unsigned char mix[ANSWER_KEY_LEN + sizeof req->auth.user_id];
    size_t ul = strlen(req->auth.user_id);
    memcpy(mix, key, keylen);
    memcpy(mix + keylen, req->auth.user_id, ul);
    return &thread_memory()->answers[slot_of(mix, keylen + ul, ANSWER_CACHE_N)];
}

static bool answer_matches(const answer_slot_t *s, const http_req_t *req, const char *key,
                           size_t keylen, const db_version_t *v)
{
    return s->route == req->route && s->keylen == keylen && memcmp(s->key, key, keylen) == 0 &&
           same_claims(&s->auth, &req->auth) && memcmp(&s->version, v, sizeof *v) == 0;
}

static void answer_store(answer_slot_t *s, const http_req_t *req, const http_res_t *res,
                         const char *key, size_t keylen, const db_version_t *v)
{
    if (res->status < 200 || res->status > 299 || res->content_type || res->headers.n ||
        res->body.n > ANSWER_BODY_MAX)
        return;
    if (!s->body) s->body = xmalloc(ANSWER_BODY_MAX);
    s->route = req->route;
    s->auth = req->auth;
    s->keylen = keylen;
    memcpy(s->key, key, keylen);
    s->version = *v;
    s->status = res->status;
    s->len = res->body.n;
    memcpy(s->body, res->body.p, res->body.n);
}

/* run_read_here: an RT_READ route on this I/O thread's own SQLite
 * connection, inside one read transaction (BEGIN DEFERRED: the snapshot is
 * taken by the first SELECT — the request hook's — and kept for the
 * handler). This saves the two thread hand-offs of a worker job, which cost
 * more than the reads themselves. Returns true when res holds the answer;
 * false when the request must go to a worker after all: no reader (not
 * SQLite, or it cannot be opened), a lock that would make us wait (the
 * reader never waits), or any 5xx — the worker, which may wait, gives the
 * real answer. A read-only handler has no effects, so running it twice is
 * harmless. */
static bool run_read_here(conn_t *c)
{
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    const route_t *rt = req->route;
    db_t *db = pool_reader(c->loop->srv->pool, c->loop->index);
    if (!db) return false;
    /* a repeatable answer given before, with nothing committed since? */
    answer_slot_t *slot = NULL;
    char key[ANSWER_KEY_LEN];
    size_t keylen = 0;
    db_version_t version;
    if ((rt->flags & RT_REPEATABLE) && req->authenticated && answer_key(req, key, &keylen) &&
        db_data_version(db, &version)) {
        slot = answer_slot(req, key, keylen);
        if (answer_matches(slot, req, key, keylen, &version)) {
            res->status = slot->status;
            buf_append(&res->body, slot->body, slot->len);
            return true;
        }
    }
    req->db = db;
    const char *tenant = req->authenticated && req->auth.tenant_id[0] ? req->auth.tenant_id : NULL;
    bool platform = (rt->flags & RT_PLATFORM) && req->authenticated &&
                    (req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE));
    int rc = platform ? db_begin_platform(db, false) : db_begin(db, tenant, false);
    if (rc < 0) goto to_worker;
    if (g_request_hook && req->authenticated && (rc = g_request_hook(db, req, res)) < 0) {
        /* refused: res holds the answer */
    } else {
        rc = rt->handler(req, res);
        if (rc < 0 && res->status < 400) http_error(res, rc, NULL);
    }
    if (res->status >= 500) goto to_worker;
    if (rc == 0 && res->status < 400) {
        if (db_commit(db) < 0) goto to_worker;
        if (slot) answer_store(slot, req, res, key, keylen, &version);
    }
    db_rollback(db); /* a no-op after the commit */
    req->db = NULL;
    return true;
to_worker:
    db_rollback(db);
    http_res_cleanup(res);
    http_res_init(res);
    res->request_id = req->request_id;
    req->db = NULL;
    return false;
}

/* complete: on the worker thread; hands the job back to its I/O loop. */
static void complete_job(pool_job_t *pj)
{
    job_t *j = (job_t *)pj;
    io_loop_t *l = j->conn->loop;
    stream_release(j->conn); /* RT_STREAM: the handler is done with the socket */
    pthread_mutex_lock(&l->mu);
    j->next_done = NULL;
    if (l->done_tail)
        l->done_tail->next_done = j;
    else
        l->done_head = j;
    l->done_tail = j;
    pthread_mutex_unlock(&l->mu);
    uv_async_send(&l->wakeup);
}

/* admin_token_matches: "Bearer <BIZOSAAS_ADMIN_TOKEN>", compared in
 * constant time. */
static bool admin_token_matches(const config_t *cfg, const char *authz)
{
    if (!cfg->admin_token || !*cfg->admin_token || strncasecmp(authz, "Bearer ", 7) != 0)
        return false;
    const char *tok = authz + 7;
    size_t n = strlen(cfg->admin_token);
    return strlen(tok) == n && sodium_memcmp(tok, cfg->admin_token, n) == 0;
}

/* tenant_override: a client's X-Tenant-ID is never trusted, except from a
 * super_admin or a platform service token acting inside one tenant; each
 * such use is logged. For everyone else the header is simply not read. */
static int tenant_override(conn_t *c)
{
    http_req_t *req = &c->req;
    const char *t = http_header(req, "X-Tenant-ID");
    if (!t || !(req->auth.roles & (ROLE_SUPER_ADMIN | ROLE_SERVICE))) return 0;
    size_t n = strlen(t);
    bool ok = n > 0 && n < sizeof req->auth.tenant_id;
    for (size_t i = 0; ok && i < n; i++)
        ok = (t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
             (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '_';
    if (!ok) return http_error(&c->res, ERR_VALIDATION, "X-Tenant-ID is malformed");
    memcpy(req->auth.tenant_id, t, n + 1);
    log_kv(LOG_INFO, "tenant chosen by X-Tenant-ID", "tenant_id", t, "user_id", req->auth.user_id,
           "path", req->raw_path, "request_id", req->request_id, NULL);
    return 0;
}

/* same_secret: a == b over n bytes in time independent of where they
 * differ (eight bytes at a time; sodium_memcmp's byte loop showed in
 * profiles of cached-token requests). */
static bool same_secret(const char *a, const char *b, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        acc |= x ^ y;
    }
    for (; i < n; i++)
        acc |= (uint64_t)(unsigned char)(a[i] ^ b[i]);
    return acc == 0;
}

/* verify_bearer: auth_verify_bearer with the per-thread memory above. */
static int verify_bearer(const auth_config_t *cfg, const char *authz, int64_t now, auth_ctx_t *out,
                         const char **why)
{
    size_t len = strlen(authz);
    uint64_t tick = 0;
    tok_slot_t *pair = len < TOKEN_CACHE_LEN ? tok_pair(authz, len, &tick) : NULL;
    for (int i = 0; pair && i < 2; i++) {
        tok_slot_t *s = &pair[i];
        if (s->len == len && now < s->ctx.exp && same_secret(s->authz, authz, len)) {
            s->used = tick;
            *out = s->ctx;
            *why = NULL;
            return 0;
        }
    }
    int rc = auth_verify_bearer(cfg, authz, len, now, out, why);
    if (rc == 0 && pair) {
        tok_slot_t *s = pair[0].used <= pair[1].used ? &pair[0] : &pair[1];
        s->used = tick;
        memcpy(s->authz, authz, len);
        s->len = len;
        s->ctx = *out;
    }
    return rc;
}

static int authenticate(conn_t *c, bool required)
{
    http_req_t *req = &c->req;
    const char *authz = http_header(req, "Authorization");
    if (!authz) {
        if (!required) return 0;
        return http_error(&c->res, ERR_UNAUTHORIZED, "a bearer token is required");
    }
    if (strncasecmp(authz, "Bearer bzk_", 11) == 0) {
        /* an API key: looked up in the database on the worker */
        req->api_key = authz + 7;
        return 0;
    }
    if (admin_token_matches(c->loop->srv->cfg, authz)) {
        memset(&req->auth, 0, sizeof req->auth);
        req->auth.roles = ROLE_SERVICE;
        snprintf(req->auth.user_id, sizeof req->auth.user_id, "platform-admin");
        req->authenticated = true;
        log_kv(LOG_INFO, "platform admin token used", "path", req->raw_path, "request_id",
               req->request_id, "remote", c->remote, NULL);
        return tenant_override(c);
    }
    const char *why = NULL;
    int rc = verify_bearer(c->loop->srv->auth, authz, (int64_t)time(NULL), &req->auth, &why);
    if (rc == ERR_CONFIG) return http_error(&c->res, ERR_INTERNAL, NULL); /* our key, not theirs */
    if (rc < 0) {
        if (!required) return 0; /* a public route ignores a bad token */
        log_kv(LOG_INFO, "token rejected", "reason", why ? why : "invalid", "request_id",
               req->request_id, "remote", c->remote, NULL);
        return http_error(&c->res, ERR_UNAUTHORIZED, "the token is invalid or expired");
    }
    req->authenticated = true;
    return tenant_override(c);
}

static void proxy_done(void *arg) { conn_finish_job(arg); }

/* proxy_request: /api/brain/{service}/{rest} to an HTTP upstream. The
 * caller must present a verified token (the upstream gets its tenant and
 * user); then the breaker and the rate limit; then the asynchronous proxy,
 * which finishes the response like a worker job does. */
static int proxy_request(conn_t *c, const char *service, const char *rest)
{
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    req->raw_path = arena_printf(req->arena, "/api/brain/%s/%s", service, rest);
    if (authenticate(c, true) < 0 || req->api_key) {
        if (req->api_key) http_error(res, ERR_UNAUTHORIZED, "use a bearer token for upstream services");
        req->gw = NULL;
        return 1;
    }
    if (g_gateway->admit(req->gw, req->auth.tenant_id[0] ? req->auth.tenant_id : req->auth.user_id,
                         res) < 0) {
        req->gw = NULL;
        return 1;
    }
    /* not 0: answered at once (an error, or a cached answer) */
    if (g_gateway->proxy(req->gw, &c->loop->loop, req, res, rest, c->remote, proxy_done, c) != 0)
        return 1;
    return 0;
}

int dispatch_request(conn_t *c)
{
    http_req_t *req = &c->req;
    http_res_t *res = &c->res;
    hp_head_t *h = c->head;
    arena_t *a = c->arena;
    req->arena = a;
    req->kernel = c;
    req->method = h->method;
    req->headers = h->headers;
    req->nheaders = h->nheaders;
    req->raw_path = arena_strndup(a, h->path.p, h->path.n);
    req->query = arena_strndup(a, h->query.p ? h->query.p : "", h->query.n);
    req->remote_addr = c->remote;
    req->body_len = c->body.n;
    req->body = c->body.n ? arena_strndup(a, c->body.p, c->body.n) : "";
    if (c->state == CS_STREAM) { /* the body follows, to the proxy (conn.c) */
        req->body_streamed = true;
        req->body_length = c->head->chunked ? -1 : (int64_t)c->head->content_length;
    }

    const char *rid = http_header(req, "X-Request-ID");
    if (rid && id_request_id_ok(rid, strlen(rid))) {
        req->request_id = rid;
    } else {
        char *id = arena_alloc(a, 40);
        id_uuidv7(id);
        req->request_id = id;
    }
    res->request_id = req->request_id;

    req->path = url_decode(a, h->path.p, h->path.n, false);
    if (!req->path) {
        http_error(res, ERR_BAD_REQUEST, "the request path has a malformed %%-escape");
        return 1;
    }
    router_match_t m;
    char allow[96];
    int rc = router_match(c->loop->srv->router, h->method, h->path, a, &m, allow, sizeof allow);
    if (rc == 0 && (m.route->flags & RT_GATEWAY)) {
        /* /api/brain/{service}/{path...}: route to the service's own mount */
        const char *to = NULL;
        void *svc = NULL;
        rc = g_gateway ? g_gateway->resolve(m.values[0], m.values[1], a, &to, &svc) : ERR_NOT_FOUND;
        if (rc == ERR_NOT_FOUND) {
            http_error(res, rc, "unknown service %s", m.values[0]);
            return 1;
        }
        if (rc < 0) {
            http_error(res, rc, "service %s is disabled", m.values[0]);
            return 1;
        }
        req->gw = svc;
        if (rc == 1) return proxy_request(c, m.values[0], m.values[1]);
        if (req->body_streamed) { /* the service changed since the head was read */
            req->gw = NULL;
            http_error(res, ERR_UNAVAILABLE, "service %s changed; retry", m.values[0]);
            return 1;
        }
        rc = router_match(c->loop->srv->router, h->method, str_of(to), a, &m, allow, sizeof allow);
        if (rc == 0 && (m.route->flags & RT_GATEWAY)) rc = ERR_NOT_FOUND; /* no loops */
        req->raw_path = to;
        req->path = url_decode(a, to, strlen(to), false);
        if (!req->path) rc = ERR_BAD_REQUEST;
    }
    if (rc == ERR_METHOD_NOT_ALLOWED) {
        http_set_header(res, "Allow", allow);
        http_error(res, rc, "%.*s is not allowed on %s; allowed: %s", (int)h->method.n,
                   h->method.p, req->raw_path, allow);
        return 1;
    }
    if (rc == ERR_NOT_FOUND) {
        http_error(res, rc, "no route for %s", req->raw_path);
        return 1;
    }
    if (rc < 0) {
        http_error(res, rc, "malformed request path");
        return 1;
    }
    const route_t *rt = m.route;
    req->route = rt;
    req->nparams = m.nparams;
    for (int i = 0; i < m.nparams; i++) {
        req->param_names[i] = m.names[i];
        req->param_values[i] = m.values[i];
    }
    bool public = (rt->flags & RT_PUBLIC) != 0;
    if (authenticate(c, !public) < 0) return 1;
    /* With a verified token the permission is checked here, before any
     * queueing; an API key's roles are known only on the worker. */
    if (!public && req->authenticated && !auth_permits(req->auth.roles, rt->permission)) {
        http_error(res, ERR_FORBIDDEN, "permission %s is required", rt->permission);
        return 1;
    }
    if (req->gw && g_gateway) {
        const char *key = req->authenticated && req->auth.tenant_id[0]
                              ? req->auth.tenant_id
                              : arena_printf(a, "ip:%s", c->remote);
        if (g_gateway->admit(req->gw, key, res) < 0) {
            req->gw = NULL; /* refused before reaching the service: not its outcome */
            return 1;
        }
    }
    if (rt->flags & RT_INLINE) {
        if (!public && !req->authenticated) { /* an API key needs a worker to resolve it */
            http_error(res, ERR_UNAUTHORIZED, "use a bearer token for this route");
            return 1;
        }
        req->api_key = NULL;
        rt->handler(req, res);
        return 1;
    }
    /* A read with a verified token (or none on a public route) may run
     * right here; an API key's lookup writes last_used_at, so it goes to a
     * worker. */
    if ((rt->flags & RT_READ) && !req->api_key && (public || req->authenticated) &&
        !is_write_method(req->method) && run_read_here(c))
        return 1;
    c->job.base.run = run_job;
    c->job.base.complete = complete_job;
    c->job.conn = c;
    if (rt->flags & RT_STREAM) stream_acquire(c);
    if (pool_submit(c->loop->srv->pool, &c->job.base) < 0) {
        stream_release(c);
        http_error(res, ERR_OVERLOADED, "all workers are busy; retry later");
        http_set_header(res, "Retry-After", "1");
        return 1;
    }
    return 0;
}

void dispatch_gateway_record(conn_t *c, uint64_t micros)
{
    if (g_gateway) g_gateway->record(c->req.gw, c->res.status, micros);
}

bool dispatch_streams_body(conn_t *c)
{
    if (!g_gateway) return false;
    router_match_t m;
    char allow[96];
    const char *to = NULL;
    void *svc = NULL;
    return router_match(c->loop->srv->router, c->head->method, c->head->path, c->arena, &m, allow,
                        sizeof allow) == 0 &&
           (m.route->flags & RT_GATEWAY) &&
           g_gateway->resolve(m.values[0], m.values[1], c->arena, &to, &svc) == 1;
}

void dispatch_loop_closing(io_loop_t *l)
{
    if (g_gateway && g_gateway->loop_closing) g_gateway->loop_closing(&l->loop);
}

void dispatch_reset(conn_t *c)
{
    http_res_cleanup(&c->res);
    http_res_init(&c->res);
    memset(&c->req, 0, sizeof c->req);
}

/* site.c — the marketing site: "/", "/{path...}", /sitemap.xml,
 * /robots.txt, POST /contact and the media files, plus the public-traffic
 * plumbing the delivery API shares (tenant from Host, own transaction).
 *
 * Routes here are RT_PUBLIC | RT_NO_TX: the tenant is not known until the
 * Host header is resolved, so each handler resolves it (a platform-scope
 * read, cached for HOST_TTL_MS) and then opens its own transaction in that
 * tenant's scope. "/{path...}" is RT_FALLBACK, so it only sees paths no
 * other route has; reserved prefixes (APIs, portals, assets) get the JSON
 * 404 there, and a client that does not ask for HTML gets the JSON 404 for
 * a missing page too.
 *
 * Page cache: rendered pages are kept per (host, path, page number) with
 * the tenant's site version (cms_sites.version, bumped in the same
 * transaction as every content change). A request reads the version in
 * its own transaction and uses a cached page only when the versions are
 * equal, so a publish is visible to the next request on every process,
 * and a render that raced with a publish can never be served after it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "cms.h"
#include "err.h"
#include "gateway/ratelimit.h"
#include "contexts/identity/identity.h"
#include "internal.h"
#include "log.h"
#include "router.h"
#include "sanitize.h"
#include "site.h"
#include "str.h"

#define HOST_TTL_MS 5000
#define HOST_SLOTS 64
#define PAGE_NUM_MAX 10000
#define MEDIA_FILE_MAX (64 * 1024 * 1024)
#define CACHE_ENTRY_MAX (512 * 1024) /* larger pages are rendered every time */

/* ---- tenant by host ---- */

static struct host_slot {
    char host[128];
    char tenant[64];
    int64_t until_ms;
} g_hosts[HOST_SLOTS];
static pthread_mutex_t g_hosts_mu = PTHREAD_MUTEX_INITIALIZER;

/* host_norm: the host name of a Host header: lower-case, no port, no
 * trailing dot; loopback addresses read as "localhost". false when invalid. */
static bool host_norm(const char *h, char out[128])
{
    if (!h) return false;
    size_t n;
    if (h[0] == '[') {
        const char *e = strchr(h, ']');
        if (!e) return false;
        n = (size_t)(e - h) + 1;
    } else {
        n = strcspn(h, ":");
    }
    if (n == 0 || n >= 128) return false;
    for (size_t i = 0; i < n; i++) out[i] = (char)tolower((unsigned char)h[i]);
    if (out[n - 1] == '.') n--;
    out[n] = '\0';
    if (!strcmp(out, "127.0.0.1") || !strcmp(out, "[::1]")) strcpy(out, "localhost");
    return n > 0;
}

int cms_host_tenant(db_t *db, const char *host_header, char out[64])
{
    char host[128];
    if (!host_norm(host_header, host)) return ERR_NOT_FOUND;
    unsigned h = 5381;
    for (const char *p = host; *p; p++) h = h * 33 + (unsigned char)*p;
    struct host_slot *slot = &g_hosts[h % HOST_SLOTS];
    int64_t now = clock_now_ms();
    pthread_mutex_lock(&g_hosts_mu);
    bool hit = slot->until_ms > now && !strcmp(slot->host, host);
    if (hit) memcpy(out, slot->tenant, 64);
    pthread_mutex_unlock(&g_hosts_mu);
    if (hit) return 0;
    int rc = db_begin_platform(db, false);
    if (rc < 0) return ERR_DB_UNAVAILABLE;
    rc = identity_tenant_by_host(db, host, out);
    db_commit(db);
    if (rc < 0) return rc;
    pthread_mutex_lock(&g_hosts_mu);
    snprintf(slot->host, sizeof slot->host, "%s", host);
    memcpy(slot->tenant, out, 64);
    slot->until_ms = now + HOST_TTL_MS;
    pthread_mutex_unlock(&g_hosts_mu);
    return 0;
}

int cms__public_begin(http_req_t *req, http_res_t *res, bool write, char tenant[64])
{
    if (!req->db) return http_error(res, ERR_DB_UNAVAILABLE, "the database is unavailable; retry later");
    int rc = cms_host_tenant(req->db, http_header(req, "Host"), tenant);
    if (rc == ERR_NOT_FOUND) return http_error(res, rc, "no site is served for this host");
    if (rc < 0) return http_error(res, ERR_DB_UNAVAILABLE, NULL);
    if (db_begin(req->db, tenant, write) < 0) return http_error(res, ERR_DB_UNAVAILABLE, NULL);
    return 0;
}

int cms__public_end(http_req_t *req, http_res_t *res, int rc)
{
    if (rc == 0 && res->status < 400) {
        if (db_commit(req->db) == 0) return 0;
        log_kv(LOG_ERROR, "cms: commit failed", "error", db_errmsg(req->db), NULL);
        db_rollback(req->db);
        http_res_cleanup(res);
        http_res_init(res);
        res->request_id = req->request_id;
        http_error(res, ERR_DB, NULL);
        return 0;
    }
    db_rollback(req->db);
    return 0;
}

bool cms__rfc3339_ok(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    size_t n = strlen(s);
    if (n != 24) return false;
    for (size_t i = 0; i < n; i++) {
        if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i]) return false;
    }
    return true;
}

/* ---- the page cache ---- */

typedef struct cache_entry {
    struct cache_entry *next;
    char *key;
    int64_t version;
    char *body;
    size_t len;
    const char *ctype; /* static */
} cache_entry_t;

#define CACHE_BUCKETS 1024
static cache_entry_t *g_cache[CACHE_BUCKETS];
static int64_t g_cache_n;
static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned key_hash(const char *k)
{
    return (unsigned)(str_hash_cstr(k) % CACHE_BUCKETS);
}

static void cache_clear_locked(void)
{
    for (int i = 0; i < CACHE_BUCKETS; i++) {
        cache_entry_t *e = g_cache[i];
        while (e) {
            cache_entry_t *n = e->next;
            free(e->key);
            free(e->body);
            free(e);
            e = n;
        }
        g_cache[i] = NULL;
    }
    g_cache_n = 0;
}

/* cache_get: copies a current entry into res. */
static bool cache_get(const char *key, int64_t version, http_res_t *res)
{
    if (cms__cfg->cms_page_cache_entries == 0) return false;
    bool hit = false;
    pthread_mutex_lock(&g_cache_mu);
    for (cache_entry_t *e = g_cache[key_hash(key)]; e; e = e->next) {
        if (strcmp(e->key, key)) continue;
        if (e->version == version) {
            http_text(res, 200, e->ctype, e->body, e->len);
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(&g_cache_mu);
    return hit;
}

static void cache_put(const char *key, int64_t version, const char *ctype, const char *body, size_t len)
{
    if (cms__cfg->cms_page_cache_entries == 0 || len > CACHE_ENTRY_MAX) return;
    pthread_mutex_lock(&g_cache_mu);
    unsigned b = key_hash(key);
    cache_entry_t *e = g_cache[b];
    while (e && strcmp(e->key, key)) e = e->next;
    if (!e) {
        if (g_cache_n >= cms__cfg->cms_page_cache_entries) cache_clear_locked();
        e = calloc(1, sizeof *e);
        if (!e) goto out;
        e->key = strdup(key);
        e->next = g_cache[b];
        g_cache[b] = e;
        g_cache_n++;
    }
    /* a newer version wins; an older render never replaces a newer one */
    if (e->body && e->version > version) goto out;
    free(e->body);
    e->body = malloc(len + 1);
    if (e->body) memcpy(e->body, body, len);
    e->len = e->body ? len : 0;
    e->version = version;
    e->ctype = ctype;
out:
    pthread_mutex_unlock(&g_cache_mu);
}


/* ---- helpers ---- */

static const char *const reserved[] = {"/api/", "/v1/", "/.well-known/", "/portal", "/admin",
                                       "/static/", "/assets/", "/media/", "/health", "/metrics",
                                       "/version", "/openapi.json", "/livez", "/readyz", NULL};

static bool is_reserved(const char *p)
{
    for (const char *const *r = reserved; *r; r++) {
        size_t n = strlen(*r);
        if (!strncmp(p, *r, n) && ((*r)[n - 1] == '/' || p[n] == '\0' || p[n] == '/')) return true;
    }
    return false;
}

static bool wants_html(http_req_t *req)
{
    const char *acc = http_header(req, "Accept");
    return acc && strcasestr(acc, "text/html");
}

static const char *base_url(http_req_t *req)
{
    const char *host = http_header(req, "Host");
    const char *proto = http_header(req, "X-Forwarded-Proto");
    bool https = proto && !strcasecmp(proto, "https");
    buf_t b;
    buf_init(&b);
    for (const char *c = host ? host : "localhost"; *c; c++)
        if (isalnum((unsigned char)*c) || strchr(".-:[]", *c)) buf_append(&b, c, 1);
    const char *r = arena_printf(req->arena, "%s://%s", https ? "https" : "http", b.p ? b.p : "");
    buf_cleanup(&b);
    return r;
}

static void site_ctx(http_req_t *req, const char *tenant, cms_site_ctx_t *s)
{
    int64_t v;
    const char *name = "";
    if (cms__site_get(req->db, tenant, req->arena, &v, &name) < 0) name = "";
    json_t *menu = NULL;
    s->tenant = tenant;
    s->site_name = name;
    s->base_url = base_url(req);
    s->db = req->db;
    s->a = req->arena;
    s->menu = cms__menu_get(req->db, tenant, "main", true, req->arena, &menu) == 0
                  ? json_object_get(menu, "items")
                  : NULL;
}

/* html_headers: what every rendered page carries. */
static void html_headers(http_res_t *res)
{
    http_set_header(res, "Content-Security-Policy", cms__render_csp());
    http_set_header(res, "Referrer-Policy", "strict-origin-when-cross-origin");
    http_set_header(res, "Cache-Control", "no-cache");
}

static void send_html(http_res_t *res, int status, buf_t *b)
{
    html_headers(res);
    http_text(res, status, "text/html; charset=utf-8", b->p ? b->p : "", b->n);
    buf_cleanup(b);
}

static int not_found(http_req_t *req, http_res_t *res, const char *tenant)
{
    if (!wants_html(req) || !tenant) return http_error(res, ERR_NOT_FOUND, "no page at %s", req->path);
    cms_site_ctx_t s;
    site_ctx(req, tenant, &s);
    buf_t b;
    buf_init(&b);
    cms__render_not_found(&b, &s);
    send_html(res, 404, &b);
    return ERR_NOT_FOUND;
}

/* ---- GET / and GET /{path...} ---- */

static int render_live(http_req_t *req, http_res_t *res, const char *tenant, const char *path,
                       int page, const char *key, int64_t version)
{
    json_t *live;
    int rc = cms__live_by_path(req->db, tenant, path, req->arena, &live);
    if (rc == ERR_NOT_FOUND) {
        const char *to;
        if (cms__redirect_lookup(req->db, tenant, path, req->arena, &to) == 0) {
            http_set_header(res, "Location", to);
            http_text(res, 301, "text/plain; charset=utf-8", "Moved Permanently\n", 18);
            return 0;
        }
        return not_found(req, res, tenant);
    }
    if (rc < 0) return http_error(res, rc, NULL);
    json_t *posts = cms__own(req->arena, json_array());
    int64_t total = 0;
    int size = (int)cms__cfg->cms_blog_page_size;
    rc = cms__live_list(req->db, tenant, "blog_post", json_string_value(json_object_get(live, "id")),
                        size, (page - 1) * size, req->arena, posts, &total);
    if (rc < 0) return http_error(res, rc, NULL);
    int pages = (int)((total + size - 1) / size);
    if (page > 1 && page > pages) return not_found(req, res, tenant);
    cms_site_ctx_t s;
    site_ctx(req, tenant, &s);
    buf_t b;
    buf_init(&b);
    cms__render_page(&b, &s, live, total ? posts : NULL, page, pages);
    cache_put(key, version, "text/html; charset=utf-8", b.p, b.n);
    send_html(res, 200, &b);
    return 0;
}

static int site_page(http_req_t *req, http_res_t *res)
{
    const char *path = req->path;
    if (is_reserved(path)) return http_error(res, ERR_NOT_FOUND, "no route for %s", req->raw_path);
    size_t n = strlen(path);
    if (n > 1 && path[n - 1] == '/') {
        /* one address per page: /about/ → /about */
        const char *to = arena_strndup(req->arena, path, n - 1);
        while (strlen(to) > 1 && to[strlen(to) - 1] == '/') to = arena_strndup(req->arena, to, strlen(to) - 1);
        if (!cms__path_ok(to)) to = "/";
        http_set_header(res, "Location", to);
        return http_text(res, 301, "text/plain; charset=utf-8", "Moved Permanently\n", 18);
    }
    if (!cms__path_ok(path)) {
        char tenant[64];
        if (!req->db || cms_host_tenant(req->db, http_header(req, "Host"), tenant) < 0)
            return http_error(res, ERR_NOT_FOUND, "no page at %s", path);
        if (db_begin(req->db, tenant, false) < 0) return http_error(res, ERR_DB_UNAVAILABLE, NULL);
        not_found(req, res, tenant);
        db_rollback(req->db);
        return 0;
    }
    int page = 1;
    const char *pq = http_query(req, "page");
    if (pq) {
        char *end;
        long v = strtol(pq, &end, 10);
        if (*end || v < 1 || v > PAGE_NUM_MAX) v = -1;
        page = (int)v;
    }
    char tenant[64];
    int rc = cms__public_begin(req, res, false, tenant);
    if (rc < 0) {
        if (rc == ERR_NOT_FOUND && wants_html(req)) {
            buf_t b;
            buf_init(&b);
            buf_append_str(&b, "<!doctype html><title>No site here</title><h1>No site is served for this host</h1>\n");
            send_html(res, 404, &b);
        }
        return 0;
    }
    if (page < 1) {
        rc = not_found(req, res, tenant);
        return cms__public_end(req, res, rc);
    }
    int64_t version;
    if ((rc = cms__site_get(req->db, tenant, req->arena, &version, NULL)) < 0) {
        http_error(res, rc, NULL);
        return cms__public_end(req, res, rc);
    }
    const char *key = arena_printf(req->arena, "%s|%s|%s|%d", tenant, base_url(req), path, page);
    if (cache_get(key, version, res))
        html_headers(res);
    else
        rc = render_live(req, res, tenant, path, page, key, version);
    return cms__public_end(req, res, rc);
}

/* ---- sitemap.xml and robots.txt ---- */

static void xml_escape(buf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_append_str(b, "&amp;"); break;
        case '<': buf_append_str(b, "&lt;"); break;
        case '>': buf_append_str(b, "&gt;"); break;
        case '"': buf_append_str(b, "&quot;"); break;
        case '\'': buf_append_str(b, "&apos;"); break;
        default: buf_append(b, s, 1);
        }
    }
}

static int sitemap(http_req_t *req, http_res_t *res)
{
    char tenant[64];
    int rc = cms__public_begin(req, res, false, tenant);
    if (rc < 0) return 0;
    int64_t version;
    if ((rc = cms__site_get(req->db, tenant, req->arena, &version, NULL)) < 0) {
        http_error(res, rc, NULL);
        return cms__public_end(req, res, rc);
    }
    const char *base = base_url(req);
    const char *key = arena_printf(req->arena, "%s|%s|/sitemap.xml", tenant, base);
    if (cache_get(key, version, res)) return cms__public_end(req, res, 0);
    json_t *items = cms__own(req->arena, json_array());
    int64_t total;
    if ((rc = cms__live_list(req->db, tenant, NULL, NULL, 50000, 0, req->arena, items, &total)) < 0) {
        http_error(res, rc, NULL);
        return cms__public_end(req, res, rc);
    }
    buf_t b;
    buf_init(&b);
    buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    size_t i;
    json_t *p;
    json_array_foreach(items, i, p)
    {
        buf_append_str(&b, "<url><loc>");
        xml_escape(&b, base);
        xml_escape(&b, json_string_value(json_object_get(p, "path")));
        buf_append_str(&b, "</loc>");
        const char *at = json_string_value(json_object_get(p, "published_at"));
        if (at && strlen(at) >= 10) buf_printf(&b, "<lastmod>%.10s</lastmod>", at);
        buf_append_str(&b, "</url>\n");
    }
    buf_append_str(&b, "</urlset>\n");
    cache_put(key, version, "application/xml; charset=utf-8", b.p, b.n);
    http_text(res, 200, "application/xml; charset=utf-8", b.p, b.n);
    buf_cleanup(&b);
    return cms__public_end(req, res, 0);
}

static int robots(http_req_t *req, http_res_t *res)
{
    char tenant[64];
    if (cms__public_begin(req, res, false, tenant) < 0) return 0;
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /admin\nDisallow: /portal\n"
                   "\nSitemap: %s/sitemap.xml\n",
               base_url(req));
    http_text(res, 200, "text/plain; charset=utf-8", b.p, b.n);
    buf_cleanup(&b);
    return cms__public_end(req, res, 0);
}

/* ---- form submissions: a per-IP rate limit ---- */

static gw_ratelimit_t *g_form_rl;
static pthread_once_t g_form_rl_once = PTHREAD_ONCE_INIT;
static void form_rl_init(void) { g_form_rl = gw_rl_new(); }

void cms__site_stop(void)
{
    if (g_form_rl) gw_rl_free(g_form_rl);
    g_form_rl = NULL;
    pthread_mutex_lock(&g_cache_mu);
    cache_clear_locked();
    pthread_mutex_unlock(&g_cache_mu);
}

int cms__form_rate_check(http_req_t *req, http_res_t *res)
{
    pthread_once(&g_form_rl_once, form_rl_init);
    const char *key = arena_printf(req->arena, "cms-form|ip:%s", req->remote_addr ? req->remote_addr : "");
    gw_rl_result_t r = gw_rl_hit(g_form_rl, key, cms__cfg->cms_form_rate_per_min, 60000, clock_now_ms());
    if (r.allowed) return 0;
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)(r.retry_after_s > 0 ? r.retry_after_s : 1));
    http_set_header(res, "Retry-After", v);
    return http_error(res, ERR_RATE_LIMITED, "too many form submissions from this address; retry in %s s", v);
}

/* ---- POST /contact ---- */

static char *url_decode_plus(arena_t *a, const char *s, size_t n)
{
    char *o = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            o[k++] = ' ';
        } else if (s[i] == '%' && i + 2 < n + 0 && isxdigit((unsigned char)s[i + 1]) &&
                   isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            char c = (char)strtol(hex, NULL, 16);
            if (c) o[k++] = c;
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    return o;
}

/* form_body: application/x-www-form-urlencoded → a JSON object (repeated
 * names become arrays). NULL when a value is not valid UTF-8. */
static json_t *form_body(http_req_t *req)
{
    json_t *o = cms__own(req->arena, json_object());
    const char *p = req->body, *end = req->body + req->body_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq && eq > p) {
            char *k = url_decode_plus(req->arena, p, (size_t)(eq - p));
            char *v = url_decode_plus(req->arena, eq + 1, (size_t)(e - eq - 1));
            json_t *js = json_string(v);
            if (!js) return NULL;
            json_t *prev = json_object_get(o, k);
            if (!prev) {
                json_object_set_new(o, k, js);
            } else if (json_is_array(prev)) {
                json_array_append_new(prev, js);
            } else {
                json_object_set_new(o, k, json_pack("[O, o]", prev, js));
            }
        }
        p = e + 1;
    }
    return o;
}

static int contact(http_req_t *req, http_res_t *res)
{
    if (cms__form_rate_check(req, res) < 0) return 0;
    const char *ctype = http_header(req, "Content-Type");
    bool json_mode = ctype && !strncasecmp(ctype, "application/json", 16);
    json_t *body;
    int rc;
    if (json_mode) {
        if (!(body = http_body_json(req, res, &rc))) return 0;
    } else if (ctype && !strncasecmp(ctype, "application/x-www-form-urlencoded", 33)) {
        if (!(body = form_body(req))) return http_error(res, ERR_VALIDATION, "the form is not valid UTF-8");
    } else {
        return http_error(res, ERR_UNSUPPORTED_MEDIA, "send the form urlencoded or as JSON");
    }
    const char *slug = json_string_value(json_object_get(body, "_form"));
    if (!slug) slug = "contact";
    slug = arena_strdup(req->arena, slug);
    json_t *fields = cms__own(req->arena, json_object());
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) if (k[0] != '_') json_object_set(fields, k, v);
    char tenant[64];
    if ((rc = cms__public_begin(req, res, true, tenant)) < 0) return 0;
    json_t *out = NULL, *form = NULL;
    rc = cms__form_get(req->db, tenant, slug, req->arena, &form);
    cms_form_handler_fn handler = rc == 0 ? cms__form_handler(slug) : NULL;
    if (handler)
        rc = handler(req->db, tenant, fields, req->remote_addr, req->arena, &out);
    else if (rc == 0)
        rc = cms_form_submit(req->db, tenant, slug, fields, req->remote_addr, req->arena, &out);
    if (json_mode) {
        if (rc == 0) {
            json_t *sid = json_object_get(out, handler ? "submission_id" : "id");
            http_json(res, 201, json_pack("{s:b, s:O, s:O}", "success", 1, "submission_id", sid,
                                          "message",
                                          json_object_get(form, "success_message")));
        } else if (rc == ERR_VALIDATION && out) {
            http_json(res, 422, json_pack("{s:{s:s, s:s, s:O, s:s}}", "error", "code", "validation_failed",
                                          "message", json_string_value(json_object_get(out, "message")),
                                          "fields", json_object_get(out, "errors"), "request_id",
                                          req->request_id));
        } else {
            http_error(res, rc, rc == ERR_NOT_FOUND ? "no form %s on this site" : NULL, slug);
        }
        return cms__public_end(req, res, rc);
    }
    if (rc == ERR_NOT_FOUND) {
        not_found(req, res, tenant);
        return cms__public_end(req, res, rc);
    }
    if (rc < 0 && !(rc == ERR_VALIDATION && out)) {
        http_error(res, rc, NULL);
        return cms__public_end(req, res, rc);
    }
    cms_site_ctx_t s;
    site_ctx(req, tenant, &s);
    buf_t b;
    buf_init(&b);
    cms__render_form_result(&b, &s, form, fields, rc == 0 ? NULL : json_object_get(out, "errors"));
    send_html(res, rc == 0 ? 200 : 422, &b);
    return cms__public_end(req, res, rc);
}

/* ---- media files ---- */

static int media_file(http_req_t *req, http_res_t *res)
{
    const char *tenant = http_param(req, "tenant"), *file = http_param(req, "file");
    size_t tl = strspn(tenant, "0123456789abcdef-"), fl = strspn(file, "0123456789abcdef-");
    const char *ext = file + fl;
    static const char *const types[][2] = {{".png", "image/png"}, {".jpg", "image/jpeg"},
                                           {".gif", "image/gif"}, {".webp", "image/webp"}};
    const char *ctype = NULL;
    for (size_t i = 0; i < 4; i++)
        if (!strcmp(ext, types[i][0])) ctype = types[i][1];
    if (tl == 0 || tenant[tl] || fl == 0 || !ctype) return http_error(res, ERR_NOT_FOUND, "no such file");
    const char *path = arena_printf(req->arena, "%s/%s", cms__media_dir(req->arena, tenant), file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return http_error(res, ERR_NOT_FOUND, "no such file");
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MEDIA_FILE_MAX) {
        close(fd);
        return http_error(res, ERR_NOT_FOUND, "no such file");
    }
    char *data = arena_alloc(req->arena, (size_t)st.st_size + 1);
    size_t off = 0;
    while (off < (size_t)st.st_size) {
        ssize_t r = read(fd, data + off, (size_t)st.st_size - off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        off += (size_t)r;
    }
    close(fd);
    http_set_header(res, "Cache-Control", "public, max-age=31536000, immutable");
    return http_text(res, 200, ctype, data, off);
}

static const route_t site_routes[] = {
    {"GET", "/", NULL, "Marketing site: the home page", site_page, RT_PUBLIC | RT_NO_TX},
    {"GET", "/{path...}", NULL, "Marketing site: a published page by its path (fallback route)",
     site_page, RT_PUBLIC | RT_NO_TX | RT_FALLBACK},
    {"GET", "/contact", NULL, "Marketing site: the contact page", site_page, RT_PUBLIC | RT_NO_TX},
    {"POST", "/contact", NULL, "Marketing site: submit a form (urlencoded or JSON)", contact,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/sitemap.xml", NULL, "Marketing site: sitemap of published pages", sitemap,
     RT_PUBLIC | RT_NO_TX},
    {"GET", "/robots.txt", NULL, "Marketing site: robots.txt", robots, RT_PUBLIC | RT_NO_TX},
    {"GET", "/media/{tenant}/{file}", NULL, "A media library image", media_file, RT_PUBLIC | RT_NO_TX},
};

void cms__site_register(router_t *r) { router_add(r, site_routes, sizeof site_routes / sizeof site_routes[0]); }

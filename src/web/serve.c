/* serve.c — the portal routes: pick the file, negotiate gzip, answer
 * conditional requests (If-None-Match, then If-Modified-Since) with 304,
 * and set the cache lifetime: a year and immutable for an asset requested
 * with its current ?v= version, revalidate-every-time for everything else. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "router.h"
#include "web.h"
#include "web_internal.h"

static const config_t *g_cfg;
static web_tree_t g_tree; /* built before the server starts, read-only while it runs */
static bool g_loaded;

/* ---- header parsing ------------------------------------------------------------ */

/* etag_listed: If-None-Match lists tag (weak comparison) or is "*". */
static bool etag_listed(const char *inm, const char *tag)
{
    size_t tn = strlen(tag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        if (*p == '*') return true;
        if (p[0] == 'W' && p[1] == '/') p += 2;
        const char *e = p;
        if (*e == '"') {
            e = strchr(e + 1, '"');
            e = e ? e + 1 : p + strlen(p);
        } else {
            while (*e && *e != ',') e++;
        }
        if ((size_t)(e - p) == tn && memcmp(p, tag, tn) == 0) return true;
        p = e;
    }
    return false;
}

/* accepts_gzip: Accept-Encoding names gzip (or x-gzip, or *) with q > 0. */
static bool accepts_gzip(const char *ae)
{
    if (!ae) return false;
    const char *p = ae;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *tok = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t') p++;
        size_t n = (size_t)(p - tok);
        bool match = (n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
                     (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0) || (n == 1 && *tok == '*');
        double q = 1.0;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ' || *p == '\t') p++;
                if ((*p == 'q' || *p == 'Q') && p[1] == '=') q = strtod(p + 2, NULL);
            }
            if (*p && *p != ',') p++;
        }
        if (match && q > 0.0) return true;
    }
    return false;
}

/* not_modified_since: If-Modified-Since parses and is not before mtime. */
static bool not_modified_since(const char *ims, time_t mtime)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return false;
    time_t t = timegm(&tm);
    return t != (time_t)-1 && mtime <= t;
}

/* ---- answering ------------------------------------------------------------------- */

static int serve_file(http_req_t *req, http_res_t *res, const web_file_t *f, bool immutable)
{
    bool gz = f->gz && accepts_gzip(http_header(req, "Accept-Encoding"));
    const char *etag = gz ? f->etag_gz : f->etag;
    http_set_header(res, "ETag", etag);
    http_set_header(res, "Last-Modified", f->last_modified);
    http_set_header(res, "Cache-Control",
                    immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (f->gz) http_set_header(res, "Vary", "Accept-Encoding");
    if (f->html) {
        http_set_header(res, "Content-Security-Policy", f->csp);
        http_set_header(res, "Referrer-Policy", "same-origin");
        http_set_header(res, "X-Frame-Options", "DENY");
    }
    const char *inm = http_header(req, "If-None-Match");
    const char *ims = http_header(req, "If-Modified-Since");
    bool fresh = inm ? etag_listed(inm, etag) : (ims && not_modified_since(ims, f->mtime));
    if (fresh) {
        /* the stored response keeps its body; its type is repeated so a
         * cache that merges 304 headers cannot change it */
        res->status = 304;
        res->content_type = f->ctype;
        return 0;
    }
    if (gz) {
        http_set_header(res, "Content-Encoding", "gzip");
        return http_text(res, 200, f->ctype, (const char *)f->gz, f->gzlen);
    }
    return http_text(res, 200, f->ctype, (const char *)f->body, f->len);
}

static int not_found(http_res_t *res, const char *what)
{
    return http_error(res, ERR_NOT_FOUND, "%s not found", what);
}

static int serve_page(http_req_t *req, http_res_t *res, const char *path)
{
    const web_file_t *f = g_loaded ? web__find(&g_tree, path) : NULL;
    if (!f) return not_found(res, "page");
    return serve_file(req, res, f, false);
}

static int page_login(http_req_t *req, http_res_t *res)
{
    return serve_page(req, res, "login/index.html");
}

/* /portal and /admin: every path below is a client-side route of the one page */
static int page_portal(http_req_t *req, http_res_t *res)
{
    return serve_page(req, res, "portal/index.html");
}

static int page_admin(http_req_t *req, http_res_t *res)
{
    return serve_page(req, res, "admin/index.html");
}

static int asset(http_req_t *req, http_res_t *res)
{
    /* the router hands the rest of the path over raw (undecoded) */
    const char *raw = http_param(req, "path");
    char *path = raw ? url_decode(req->arena, raw, strlen(raw), false) : NULL;
    if (!path || !web__path_ok(path)) return not_found(res, "asset");
    const web_file_t *f = g_loaded ? web__find(&g_tree, path) : NULL;
    if (!f) return not_found(res, "asset");
    const char *v = http_query(req, "v");
    return serve_file(req, res, f, v && strcmp(v, f->version) == 0);
}

static const route_t routes[] = {
    {"GET", "/login", NULL, "Web: the login page", page_login, RT_PUBLIC | RT_INLINE},
    {"GET", "/portal/{path...}", NULL, "Web: the client portal (one page, client-side routes)",
     page_portal, RT_PUBLIC | RT_INLINE},
    {"GET", "/admin/{path...}", NULL, "Web: the admin dashboard (one page, client-side routes)",
     page_admin, RT_PUBLIC | RT_INLINE},
    {"GET", "/assets/{path...}", NULL, "Web: static assets of the portals (web/)", asset,
     RT_PUBLIC | RT_INLINE},
};

void web_register(router_t *r, const config_t *cfg)
{
    g_cfg = cfg;
    router_add(r, routes, sizeof routes / sizeof routes[0]);
}

/* ---- start ------------------------------------------------------------------------- */

static bool is_root(const char *dir)
{
    char p[PATH_MAX];
    int n = snprintf(p, sizeof p, "%s/shared", dir);
    return n > 0 && (size_t)n < sizeof p && access(p, R_OK | X_OK) == 0;
}

/* find_root: ./web, else web/ next to the build directory holding the binary
 * (build/bizosaas -> ../web), else web/ beside the binary. */
static bool find_root(char *out, size_t len)
{
    if (is_root("web")) return snprintf(out, len, "web") < (int)len;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = '\0';
    static const char *const rel[] = {"/../web", "/web"};
    for (size_t i = 0; i < 2; i++) {
        int w = snprintf(out, len, "%s%s", exe, rel[i]);
        if (w > 0 && (size_t)w < len && is_root(out)) return true;
    }
    return false;
}

int web_start(void)
{
    char found[PATH_MAX];
    const char *root = g_cfg && g_cfg->web_root && *g_cfg->web_root ? g_cfg->web_root : NULL;
    if (!root) {
        if (!find_root(found, sizeof found)) {
            log_warn("web: no web root found (set BIZOSAAS_WEB_ROOT); the portals are not served");
            return 0;
        }
        root = found;
    }
    char err[PATH_MAX + 256];
    size_t max = g_cfg ? (size_t)g_cfg->web_cache_max_bytes : (size_t)64 << 20;
    int rc = web__load(root, max, &g_tree, err, sizeof err);
    if (rc < 0) {
        log_error("web: %s", err);
        web__free(&g_tree);
        return ERR_CONFIG;
    }
    g_loaded = true;
    char files[24], bytes[24];
    snprintf(files, sizeof files, "%zu", g_tree.n);
    snprintf(bytes, sizeof bytes, "%zu", g_tree.bytes);
    log_kv(LOG_INFO, "web portals loaded", "root", g_tree.root, "files", files, "bytes", bytes,
           NULL);
    return 0;
}

void web_stop(void)
{
    g_loaded = false;
    web__free(&g_tree);
}

/* config.c — the settings table and its INI/environment readers. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"

enum ctype { C_STR, C_INT, C_BOOL, C_LEVEL, C_LISTEN, C_ENUM_ENV };

typedef struct setting {
    const char *name; /* without the BIZOSAAS_ prefix */
    enum ctype type;
    size_t off;
    const char *def;
    int64_t min, max;
    const char *help;
} setting_t;

#define OFF(f) offsetof(config_t, f)
#define BIG INT64_C(1) << 40

static const setting_t settings[] = {
    {"ENV", C_ENUM_ENV, OFF(env), "development", 0, 0,
     "development or production (production hides the dev mailbox and requires explicit secrets)"},
    {"LISTEN", C_LISTEN, OFF(listen), "127.0.0.1:8001", 0, 0, "address:port to listen on"},
    {"THREADS", C_INT, OFF(threads), "0", 0, 256, "I/O threads (0 = number of cores)"},
    {"WORKERS", C_INT, OFF(workers), "0", 0, 1024,
     "worker threads, each with one database connection (0 = 2 x cores)"},
    {"DATABASE_URL", C_STR, OFF(database_url), "sqlite:./data/bizosaas.db", 0, 0,
     "sqlite:PATH or postgres://user:pass@host:port/db"},
    {"DATA_DIR", C_STR, OFF(data_dir), "./data", 0, 0, "directory for generated secrets and files"},
    {"MAX_CONNECTIONS", C_INT, OFF(max_connections), "16384", 1, 10000000,
     "open connections; more are answered 503 and closed"},
    {"MAX_BODY_BYTES", C_INT, OFF(max_body_bytes), "1048576", 0, BIG,
     "request body limit (413 above it)"},
    {"MAX_REQUEST_LINE", C_INT, OFF(max_request_line), "8192", 64, 1048576,
     "request line limit in bytes (414 above it)"},
    {"MAX_HEADER_BYTES", C_INT, OFF(max_header_bytes), "16384", 256, 1048576,
     "all header lines together (431 above it)"},
    {"MAX_HEADERS", C_INT, OFF(max_headers), "100", 1, 256, "header count (431 above it)"},
    {"HEADER_TIMEOUT_MS", C_INT, OFF(header_timeout_ms), "10000", 10, 3600000,
     "time to receive a complete request head (408 after it)"},
    {"BODY_TIMEOUT_MS", C_INT, OFF(body_timeout_ms), "30000", 10, 3600000,
     "inactivity allowed while receiving a body (408 after it)"},
    {"IDLE_TIMEOUT_MS", C_INT, OFF(idle_timeout_ms), "60000", 10, 86400000,
     "idle keep-alive connections are closed after this"},
    {"SHUTDOWN_TIMEOUT_MS", C_INT, OFF(shutdown_timeout_ms), "10000", 0, 3600000,
     "on SIGTERM/SIGINT, how long in-flight requests may take"},
    {"QUEUE_MAX", C_INT, OFF(queue_max), "1024", 1, 1000000,
     "requests waiting for a worker; more are answered 503"},
    {"DB_TIMEOUT_MS", C_INT, OFF(db_timeout_ms), "1000", 100, 600000,
     "database connect timeout; requests fail fast with 503 while it is down"},
    {"LOG_LEVEL", C_LEVEL, OFF(log_level), "info", 0, 0, "debug, info, warn, error or off"},
    {"ACCESS_LOG", C_BOOL, OFF(access_log), "true", 0, 0, "one JSON access-log line per request"},
    {"JWT_SECRET", C_STR, OFF(jwt_secret), "", 0, 0,
     "HS256 signing key (default: generated into DATA_DIR/jwt.secret, mode 0600)"},
    {"JWT_ISSUER", C_STR, OFF(jwt_issuer), "bizosaas", 0, 0, "required \"iss\" of tokens"},
    {"JWT_AUDIENCE", C_STR, OFF(jwt_audience), "bizosaas", 0, 0, "required \"aud\" of tokens"},
    {"IDEMPOTENCY_TTL_S", C_INT, OFF(idempotency_ttl_s), "86400", 60, 2592000,
     "how long an Idempotency-Key is remembered"},
    {"ACCESS_TOKEN_TTL_S", C_INT, OFF(access_ttl_s), "3600", 60, 86400,
     "lifetime of access tokens issued at login/refresh"},
    {"REFRESH_TOKEN_TTL_S", C_INT, OFF(refresh_ttl_s), "604800", 300, 31536000,
     "lifetime of refresh tokens (rotated on every use)"},
    {"JWT_ES256_KEY_FILE", C_STR, OFF(jwt_es256_key_file), "", 0, 0,
     "PEM EC P-256 private key: sign access tokens with ES256 and publish /.well-known/jwks.json"},
    {"JWT_ES256_OLD_KEY_FILES", C_STR, OFF(jwt_es256_old_keys), "", 0, 0,
     "comma-separated PEM EC P-256 keys (public or private) of earlier signing keys: still "
     "accepted and published in the JWKS until their tokens expire (key rotation)"},
    {"SIGNUP", C_BOOL, OFF(signup), "true", 0, 0,
     "self-service sign-up (POST /api/v1/auth/register without an invitation creates a tenant)"},
    {"DEMO_SEED", C_BOOL, OFF(demo_seed), "true", 0, 0,
     "development only: seed a demo tenant with one user per role on the embedded default's "
     "first start (logins logged once)"},
    {"LOGIN_MAX_FAILURES", C_INT, OFF(login_max_failures), "5", 1, 1000,
     "failed logins per account within LOCKOUT_S before the account is locked for LOCKOUT_S"},
    {"LOGIN_IP_MAX_FAILURES", C_INT, OFF(login_ip_max_failures), "100", 1, 1000000,
     "failed logins per client address within LOCKOUT_S before it is throttled (429)"},
    {"LOCKOUT_S", C_INT, OFF(lockout_s), "900", 1, 86400,
     "login failure window and lockout duration in seconds"},
    {"SMTP_URL", C_STR, OFF(smtp_url), "", 0, 0,
     "smtp://host:port or smtps://user:pass@host for outgoing mail; empty = development mailbox"},
    {"MAIL_FROM", C_STR, OFF(mail_from), "no-reply@bizosaas.local", 0, 0,
     "sender address of outgoing mail"},
    {"REDIS_URL", C_STR, OFF(redis_url), "", 0, 0,
     "redis://[:password@]host:port[/db]: relay domain events to Redis Streams (empty = off)"},
    {"REDIS_STREAM_MAXLEN", C_INT, OFF(redis_stream_maxlen), "100000", 1, BIG,
     "approximate length cap of each bizosaas:events:<tenant> stream (XADD MAXLEN ~)"},
    {"EVENTS_MAX_ATTEMPTS", C_INT, OFF(events_max_attempts), "8", 1, 1000,
     "deliveries of one event to a failing subscriber before it is dead-lettered"},
    {"EVENTS_RETRY_BASE_MS", C_INT, OFF(events_retry_base_ms), "200", 1, 3600000,
     "first retry delay of a failing subscriber; doubles per attempt (capped at 5 minutes)"},
    {"EVENTS_POLL_MS", C_INT, OFF(events_poll_ms), "50", 1, 60000,
     "how often the event dispatcher and relay look for new events when idle"},
    {"CONTACT_RATE_PER_MIN", C_INT, OFF(contact_rate_per_min), "10", 1, 1000000,
     "contact-form submissions per client IP per minute (429 above it)"},
    {"FAULTS", C_STR, OFF(faults), "", 0, 0,
     "test-only fault injection \"point:N,...\" (development only; see src/kernel/fault.h)"},
    {"EVENTS_TEST_DIR", C_STR, OFF(events_test_dir), "", 0, 0,
     "tests only: registers the test.recorder and test.flaky subscribers writing here"},
    {"EVENTS_RETENTION_S", C_INT, OFF(events_retention_s), "604800", 0, BIG,
     "outbox events older than this that every subscriber has processed are pruned (0 = keep)"},
    {"WORKFLOW_WORKERS", C_INT, OFF(workflow_workers), "2", 0, 64,
     "workflow worker threads in `serve` and `worker` (0 = none in this process)"},
    {"WORKFLOW_LEASE_MS", C_INT, OFF(workflow_lease_ms), "30000", 100, 3600000,
     "lease of a running workflow step, renewed while it runs; a dead worker's step is retried "
     "after it expires"},
    {"WORKFLOW_POLL_MS", C_INT, OFF(workflow_poll_ms), "50", 1, 60000,
     "how often an idle workflow worker looks for due steps"},
    {"WORKFLOW_SSE_MAX", C_INT, OFF(workflow_sse_max), "4", 1, 1024,
     "open run event streams (each holds a request worker); more are answered 503"},
    {"NOTIFY_SSE_MAX", C_INT, OFF(notify_sse_max), "2", 1, 1024,
     "open notification streams; each holds a request worker, so keep it well below WORKERS; more are answered 503"},
    {"WORKFLOW_TEST_DEFS", C_BOOL, OFF(workflow_test_defs), "false", 0, 0,
     "tests only: registers the test.* workflow definitions"},
    {"MASTER_KEY", C_STR, OFF(master_key), "", 0, 0,
     "vault master key, 64 hex characters (default: generated into DATA_DIR/master.key, mode 0600)"},
    {"ADMIN_TOKEN", C_STR, OFF(admin_token), "", 0, 0,
     "platform admin bearer token for /api/brain/services (at least 32 characters); empty = off"},
    {"HEALTH_INTERVAL_MS", C_INT, OFF(health_interval_ms), "30000", 100, 86400000,
     "gateway: how often each HTTP upstream's health path is checked"},
    {"CMS_MEDIA_MAX_BYTES", C_INT, OFF(cms_media_max_bytes), "1048576", 1, BIG,
     "cms: largest image upload (413 above; MAX_BODY_BYTES also applies)"},
    {"CMS_SCHEDULE_INTERVAL_MS", C_INT, OFF(cms_schedule_interval_ms), "30000", 50, 86400000,
     "cms: how often pages whose publish_at has come are published"},
    {"CMS_BLOG_PAGE_SIZE", C_INT, OFF(cms_blog_page_size), "10", 1, 100,
     "cms: blog posts per page of a blog index on the marketing site"},
    {"CMS_FORM_RATE_PER_MIN", C_INT, OFF(cms_form_rate_per_min), "30", 1, 1000000,
     "cms: public form submissions accepted per client IP per minute (429 above)"},
    {"CMS_PAGE_CACHE_ENTRIES", C_INT, OFF(cms_page_cache_entries), "1024", 0, 1000000,
     "cms: rendered pages kept in memory per process (0 = no cache)"},
    {"WEB_ROOT", C_STR, OFF(web_root), "", 0, 0,
     "directory of the web portals (/login, /portal, /admin, /assets); empty = ./web, else web/ "
     "next to the binary's build directory; none found = portals not served"},
    {"WEB_CACHE_MAX_BYTES", C_INT, OFF(web_cache_max_bytes), "67108864", 1024, BIG,
     "web portals: the whole web root is loaded (and gzipped) into memory at start; a larger "
     "tree refuses to start"},
    {"UPSTREAM_KEEPALIVE", C_INT, OFF(upstream_keepalive), "256", 0, 4096,
     "gateway: idle keep-alive connections kept per HTTP upstream per I/O thread (0 = none)"},
    {"RATELIMIT_REDIS_TIMEOUT_MS", C_INT, OFF(ratelimit_redis_timeout_ms), "50", 1, 5000,
     "gateway: with REDIS_URL, rate limits are shared through Redis; its connect/command "
     "timeout (when Redis fails, limits fall back to per process for a second)"},
    {"GATEWAY_CACHE_MB", C_INT, OFF(gateway_cache_mb), "32", 0, 65536,
     "gateway: memory for cached upstream answers per process, all services together (LRU "
     "beyond it; 0 = no response cache); a service caches only with cache_ttl_s > 0"},
    {"GATEWAY_PLAN_REFRESH_MS", C_INT, OFF(gateway_plan_refresh_ms), "5000", 100, 3600000,
     "gateway: how often the tenants whose plan may have changed are re-read for per-plan rate "
     "limits (a plan change takes effect within this)"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const setting_t *find_setting(const char *name, size_t n, bool lower)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *s = settings[i].name;
        if (strlen(s) != n) continue;
        size_t k = 0;
        for (; k < n; k++) {
            char c = name[k];
            if (lower) {
                if (c >= 'A' && c <= 'Z') break; /* INI keys are lower case */
                c = (char)toupper((unsigned char)c);
            }
            if (c != s[k]) break;
        }
        if (k == n) return &settings[i];
    }
    return NULL;
}

static int parse_listen(config_t *c, const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon) return -1;
    size_t hl = (size_t)(colon - v);
    const char *host = v;
    if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
        host++;
        hl -= 2;
    }
    if (hl >= sizeof c->listen_host) return -1;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535) return -1;
    if (hl == 0) {
        strcpy(c->listen_host, "0.0.0.0");
    } else {
        memcpy(c->listen_host, host, hl);
        c->listen_host[hl] = '\0';
    }
    c->listen_port = (int)port;
    return 0;
}

static int apply(config_t *c, const setting_t *s, const char *v, const char *src, char *err,
                 size_t errlen)
{
    void *field = (char *)c + s->off;
    switch (s->type) {
    case C_STR:
    case C_ENUM_ENV:
    case C_LISTEN:
        if (s->type == C_ENUM_ENV && strcmp(v, "development") != 0 && strcmp(v, "production") != 0)
            goto bad;
        if (s->type == C_LISTEN && parse_listen(c, v) < 0) goto bad;
        free(*(char **)field);
        *(char **)field = xstrdup(v);
        return 0;
    case C_INT: {
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < s->min || x > s->max) goto bad;
        *(int64_t *)field = x;
        return 0;
    }
    case C_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on"))
            *(bool *)field = true;
        else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off"))
            *(bool *)field = false;
        else
            goto bad;
        return 0;
    case C_LEVEL: {
        int l = log_parse_level(v);
        if (l < 0) goto bad;
        *(int64_t *)field = l;
        return 0;
    }
    }
bad:
    if (s->type == C_INT)
        snprintf(err, errlen, "%s: BIZOSAAS_%s must be an integer in [%lld, %lld], got \"%s\"", src,
                 s->name, (long long)s->min, (long long)s->max, v);
    else
        snprintf(err, errlen, "%s: BIZOSAAS_%s has a malformed value \"%s\"", src, s->name, v);
    return ERR_CONFIG;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
    return s;
}

/* The keys a [service.NAME] section may hold (values: see gateway.h);
 * rate_limit_per_min.<plan> overrides the limit for tenants on that plan. */
static const char *const service_keys[] = {
    "target", "enabled", "connect_timeout_ms", "response_timeout_ms", "breaker_failures",
    "breaker_cooldown_ms", "rate_limit_per_min", "health_path", "cache_ttl_s", "rate_limit_per_min.free",
    "rate_limit_per_min.starter", "rate_limit_per_min.professional",
    "rate_limit_per_min.enterprise", NULL};

static int begin_service(config_t *c, const char *name, const char *src, char *err, size_t errlen)
{
    if (!*name) {
        snprintf(err, errlen, "%s: [service.NAME] needs a name", src);
        return ERR_CONFIG;
    }
    for (size_t i = 0; i < c->nservices; i++) {
        if (strcmp(c->services[i].name, name) == 0) {
            snprintf(err, errlen, "%s: [service.%s] appears twice", src, name);
            return ERR_CONFIG;
        }
    }
    c->services = xrealloc(c->services, (c->nservices + 1) * sizeof *c->services);
    config_service_t *sv = &c->services[c->nservices++];
    memset(sv, 0, sizeof *sv);
    sv->name = xstrdup(name);
    sv->src = xstrdup(src);
    return 0;
}

static int service_kv(config_t *c, char *s, const char *src, char *err, size_t errlen)
{
    config_service_t *sv = &c->services[c->nservices - 1];
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "%s: expected key = value", src);
        return ERR_CONFIG;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
        val[vl - 1] = '\0';
        val++;
    }
    bool known = false;
    for (const char *const *k = service_keys; *k; k++)
        if (strcmp(*k, key) == 0) known = true;
    if (!known) {
        snprintf(err, errlen, "%s: unknown key \"%s\" in [service.%s]", src, key, sv->name);
        return ERR_CONFIG;
    }
    for (int i = 0; i < sv->n; i++) {
        if (strcmp(sv->keys[i], key) == 0) {
            snprintf(err, errlen, "%s: \"%s\" given twice in [service.%s]", src, key, sv->name);
            return ERR_CONFIG;
        }
    }
    if (sv->n == CONFIG_SERVICE_MAX_KEYS) return ERR_CONFIG; /* more than the known keys */
    sv->keys[sv->n] = xstrdup(key);
    sv->values[sv->n++] = xstrdup(val);
    return 0;
}

static int load_ini(config_t *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return ERR_CONFIG;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    bool in_main = true;
    char src[512];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(src, sizeof src, "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s: line too long", src);
            rc = ERR_CONFIG;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';') continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e || e[1]) {
                snprintf(err, errlen, "%s: malformed section header", src);
                rc = ERR_CONFIG;
                break;
            }
            *e = '\0';
            if (strncmp(s + 1, "service.", 8) == 0) {
                if ((rc = begin_service(c, s + 9, src, err, errlen)) < 0) break;
                in_main = false;
                continue;
            }
            if (strcmp(s + 1, "bizosaas") != 0) {
                snprintf(err, errlen, "%s: unknown section [%s]", src, s + 1);
                rc = ERR_CONFIG;
                break;
            }
            in_main = true;
            continue;
        }
        if (!in_main) { /* inside [service.NAME] */
            if ((rc = service_kv(c, s, src, err, errlen)) < 0) break;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq || !in_main) {
            snprintf(err, errlen, "%s: expected key = value", src);
            rc = ERR_CONFIG;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        const setting_t *st = find_setting(key, strlen(key), true);
        if (!st) {
            snprintf(err, errlen, "%s: unknown key \"%s\"", src, key);
            rc = ERR_CONFIG;
            break;
        }
        if ((rc = apply(c, st, val, src, err, errlen)) < 0) break;
    }
    fclose(f);
    return rc;
}

int config_load(config_t *c, const char *ini_path, char **envp, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NSETTINGS; i++) {
        int rc = apply(c, &settings[i], settings[i].def, "default", err, errlen);
        if (rc < 0) return rc;
    }
    if (ini_path) {
        int rc = load_ini(c, ini_path, err, errlen);
        if (rc < 0) return rc;
    }
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "BIZOSAAS_", 9) != 0) continue;
        const char *name = *e + 9;
        const char *eq = strchr(name, '=');
        if (!eq) continue;
        const setting_t *st = find_setting(name, (size_t)(eq - name), false);
        if (!st) {
            snprintf(err, errlen, "environment: unknown variable BIZOSAAS_%.*s", (int)(eq - name),
                     name);
            return ERR_CONFIG;
        }
        int rc = apply(c, st, eq + 1, "environment", err, errlen);
        if (rc < 0) return rc;
    }
    return 0;
}

void config_cleanup(config_t *c)
{
    for (size_t i = 0; i < c->nservices; i++) {
        config_service_t *sv = &c->services[i];
        for (int k = 0; k < sv->n; k++) {
            free(sv->keys[k]);
            free(sv->values[k]);
        }
        free(sv->name);
        free(sv->src);
    }
    free(c->services);
    c->services = NULL;
    c->nservices = 0;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting_t *s = &settings[i];
        if (s->type == C_STR || s->type == C_LISTEN || s->type == C_ENUM_ENV) {
            char **p = (char **)((char *)c + s->off);
            free(*p);
            *p = NULL;
        }
    }
}

bool config_is_dev(const config_t *c) { return c->env && strcmp(c->env, "development") == 0; }

void config_print_help(FILE *out)
{
    fprintf(out, "Environment variables (an INI file given with --config takes the same keys in\n"
                 "lower case without the BIZOSAAS_ prefix; the environment wins):\n\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting_t *s = &settings[i];
        fprintf(out, "  BIZOSAAS_%-22s default: %s\n      %s\n", s->name,
                *s->def ? s->def : "(empty)", s->help);
    }
}

/* config.h — settings from defaults, an optional INI file and BIZOSAAS_* env.
 *
 * Every setting is one row of a table in config.c (name, type, default,
 * bounds, help): --help prints the table, the INI reader and the environment
 * reader both validate against it, and an unknown key or a malformed value is
 * a startup error naming the key. Precedence: default < INI file < env. */
#ifndef BZ_CONFIG_H
#define BZ_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct config {
    char *env; /* "development" | "production" */
    char *listen;
    char listen_host[64];
    int listen_port;
    int64_t threads, workers;
    char *database_url;
    char *data_dir;
    int64_t max_connections, max_body_bytes, max_request_line, max_header_bytes, max_headers;
    int64_t header_timeout_ms, body_timeout_ms, idle_timeout_ms, shutdown_timeout_ms;
    int64_t queue_max, db_timeout_ms;
    int64_t log_level; /* enum log_level */
    bool access_log;
    char *jwt_secret; /* may be empty: then generated/read under data_dir */
    char *jwt_issuer, *jwt_audience;
    int64_t idempotency_ttl_s;
    /* identity (auth-service) */
    int64_t access_ttl_s, refresh_ttl_s;
    char *jwt_es256_key_file; /* PEM EC P-256 private key; empty = HS256 only */
    char *jwt_es256_old_keys; /* comma-separated PEM files still accepted (rotation) */
    bool signup;              /* self-service sign-up creates a tenant */
    bool demo_seed;           /* seed the demo tenant on the embedded default's first start */
    int64_t login_max_failures, login_ip_max_failures, lockout_s;
    char *smtp_url, *mail_from;
    char *redis_url;       /* events relay to Redis Streams; empty = off */
    int64_t redis_stream_maxlen;
    int64_t events_max_attempts, events_retry_base_ms, events_poll_ms;
    char *events_test_dir; /* test subscribers write here; empty = off */
    char *faults;          /* fault injection spec (fault.h); development only */
    int64_t contact_rate_per_min; /* contact form: submissions per client IP per minute */
    int64_t events_retention_s; /* prune processed outbox rows older than this; 0 = keep */
    /* workflows */
    int64_t workflow_workers, workflow_lease_ms, workflow_poll_ms, workflow_sse_max;
    int64_t notify_sse_max;
    bool workflow_test_defs;
    char *master_key;      /* vault master key (64 hex); empty = DATA_DIR/master.key */
    char *admin_token;     /* platform admin bearer token (>= 32 chars); empty = none */
    int64_t health_interval_ms; /* gateway: active health checks of HTTP upstreams */
    int64_t cms_media_max_bytes, cms_schedule_interval_ms, cms_blog_page_size,
        cms_page_cache_entries, cms_form_rate_per_min; /* cms: uploads, scheduling, site */
    char *web_root;             /* web portals: directory served (empty = found automatically) */
    int64_t web_cache_max_bytes; /* web portals: files held in memory, all together */
    int64_t upstream_keepalive; /* gateway: idle upstream connections per service per I/O thread */
    int64_t ratelimit_redis_timeout_ms; /* gateway: shared rate limits through redis_url */
    int64_t gateway_cache_mb; /* gateway: response cache memory per process (0 = none) */
    int64_t gateway_plan_refresh_ms; /* gateway: how often tenants' plans are re-read */
    /* [service.NAME] sections of the INI file, as given (the gateway
     * validates the values at start-up; config validates the keys) */
    struct config_service *services;
    size_t nservices;
} config_t;

#define CONFIG_SERVICE_MAX_KEYS 16 /* >= the keys config.c allows in a section */

typedef struct config_service {
    char *name;
    char *src; /* "file:line" of the section header, for messages */
    char *keys[CONFIG_SERVICE_MAX_KEYS];
    char *values[CONFIG_SERVICE_MAX_KEYS];
    int n;
} config_service_t;

/* config_load: fills c from defaults, then ini_path (may be NULL), then the
 * environment envp. On error returns ERR_CONFIG with a message naming the
 * key in err. c must be released with config_cleanup either way. */
int config_load(config_t *c, const char *ini_path, char **envp, char *err, size_t errlen);
void config_cleanup(config_t *c);
/* config_print_help: every variable with its default and meaning. */
void config_print_help(FILE *out);
/* config_is_dev: true in the development environment. */
bool config_is_dev(const config_t *c);

#endif

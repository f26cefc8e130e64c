/* main.c — the bizosaas command line: serve | migrate | routes | version. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "migrate.h"
#include "server.h"
#include "spec/spec.h"
#include "contexts/crm/crm.h"
#include "contexts/identity/identity.h"
#include "contexts/vault/vault.h"
#include "contexts/workflows/wf.h"

extern char **environ;

static void usage(FILE *out)
{
    fprintf(out,
            "bizosaas %s — the BizOSaaS platform in one binary\n\n"
            "Usage:\n"
            "  bizosaas serve [--config FILE] [--migrate]   run the gateway and every context\n"
            "  bizosaas worker [--config FILE]              run workflow workers only\n"
            "  bizosaas migrate [--status] [--config FILE]  apply (or list) database migrations\n"
            "  bizosaas routes --json                       print the route table\n"
            "  bizosaas spec list|show|draft|archive|status|check   OpenSpec workflow\n"
            "  bizosaas admin seed-demo|create-tenant|create-user|reset-password|unlock-user\n"
            "  bizosaas admin rotate-master-key [--new-key HEX] | verify-audit\n"
            "  bizosaas import leads FILE --tenant SLUG     import leads from a CSV file\n"
            "  bizosaas version                             print the version\n"
            "  bizosaas --help                              this help\n\n",
            BZ_VERSION);
    config_print_help(out);
}

typedef struct opts {
    const char *config;
    int migrate, status, json;
} opts_t;

static int parse_opts(int argc, char **argv, opts_t *o)
{
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            o->config = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            o->config = argv[i] + 9;
        else if (!strcmp(argv[i], "--migrate"))
            o->migrate = 1;
        else if (!strcmp(argv[i], "--status"))
            o->status = 1;
        else if (!strcmp(argv[i], "--json"))
            o->json = 1;
        else {
            fprintf(stderr, "bizosaas: unknown option %s (see bizosaas --help)\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int load_config(const opts_t *o, config_t *cfg)
{
    char err[512];
    if (config_load(cfg, o->config, environ, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas: configuration error: %s\n", err);
        return -1;
    }
    log_set_level((enum log_level)cfg->log_level);
    log_set_access(cfg->access_log);
    return 0;
}

static int open_db(const config_t *cfg, db_t **db)
{
    char err[512];
    if (db_url_backend(cfg->database_url) == DB_SQLITE) {
        /* the embedded default keeps its file under the data directory */
        mkdir(cfg->data_dir, 0700);
    }
    db_options_t dbo = {.connect_timeout_ms = (int)cfg->db_timeout_ms * 5};
    if (db_open(cfg->database_url, &dbo, db, err, sizeof err) < 0) {
        log_error("cannot open the database: %s", err);
        return -1;
    }
    if (db_check_role(*db, err, sizeof err) < 0) {
        log_error("%s", err);
        db_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

static int cmd_migrate(const opts_t *o)
{
    config_t cfg;
    int rc = 1;
    if (load_config(o, &cfg) < 0) goto out;
    db_t *db;
    if (open_db(&cfg, &db) < 0) goto out;
    if (o->status) {
        rc = migrate_status(db, stdout) < 0 ? 1 : 0;
    } else {
        int n = migrate_apply(db);
        if (n >= 0) printf("applied %d migration(s)\n", n);
        rc = n < 0 ? 1 : 0;
    }
    db_close(db);
out:
    config_cleanup(&cfg);
    return rc;
}

/* load_secret: the JWT key from the config, or from DATA_DIR/jwt.secret,
 * generated (32 random bytes, hex, mode 0600) on first start. */
static int load_secret(const config_t *cfg, char **out)
{
    if (cfg->jwt_secret && *cfg->jwt_secret) {
        if (strlen(cfg->jwt_secret) < AUTH_MIN_SECRET_LEN) {
            log_error("BIZOSAAS_JWT_SECRET must be at least %d characters", AUTH_MIN_SECRET_LEN);
            return -1;
        }
        *out = strdup(cfg->jwt_secret);
        return 0;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/jwt.secret", cfg->data_dir) >= (int)sizeof path) return -1;
    mkdir(cfg->data_dir, 0700);
    char buf[129] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
        if (n < AUTH_MIN_SECRET_LEN) {
            log_error("%s is shorter than 32 characters; remove it to regenerate", path);
            return -1;
        }
        *out = strdup(buf);
        return 0;
    }
    unsigned char key[32];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(buf, sizeof buf, key, sizeof key);
    sodium_memzero(key, sizeof key);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, buf, 64) != 64) {
        log_error("cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    log_info("generated a new JWT signing key in %s", path);
    *out = strdup(buf);
    return 0;
}

static int cmd_serve(const opts_t *o)
{
    config_t cfg;
    int rc = 1;
    char *secret = NULL;
    app_t *app = NULL;
    db_t *db = NULL;
    if (load_config(o, &cfg) < 0) goto out;
    if (open_db(&cfg, &db) < 0) goto out;
    int pending = migrate_pending(db);
    if (pending < 0) {
        log_error("cannot read the migration state: %s", db_errmsg(db));
        goto out;
    }
    if (pending > 0) {
        if (db_backend(db) == DB_POSTGRES && !o->migrate) {
            log_error("%d migration(s) pending on PostgreSQL; run `bizosaas migrate` or start "
                      "with `bizosaas serve --migrate`",
                      pending);
            goto out;
        }
        if (migrate_apply(db) < 0) goto out;
    }
    if (*cfg.admin_token && strlen(cfg.admin_token) < 32) {
        log_error("BIZOSAAS_ADMIN_TOKEN must be at least 32 characters");
        goto out;
    }
    if (load_secret(&cfg, &secret) < 0) goto out;
    app = app_new(&cfg, secret);
    if (app_start(app, db) < 0) goto out;
    db_close(db);
    db = NULL;
    rc = server_run(&cfg, app_router(app), app_auth(app)) == 0 ? 0 : 1;
out:
    db_close(db);
    app_free(app);
    if (secret) {
        sodium_memzero(secret, strlen(secret));
        free(secret);
    }
    config_cleanup(&cfg);
    log_flush();
    return rc;
}

/* cmd_worker: `bizosaas worker` — workflow workers without the HTTP server. */
static int cmd_worker(const opts_t *o)
{
    config_t cfg;
    int rc = 1;
    db_t *db = NULL;
    if (load_config(o, &cfg) < 0) goto out;
    if (cfg.workflow_workers < 1) {
        log_error("bizosaas worker: BIZOSAAS_WORKFLOW_WORKERS must be at least 1");
        rc = 2;
        goto out;
    }
    if (open_db(&cfg, &db) < 0) goto out;
    int pending = migrate_pending(db);
    if (pending != 0) {
        log_error(pending < 0 ? "cannot read the migration state" : "%d migration(s) pending; run "
                  "`bizosaas migrate` first", pending);
        goto out;
    }
    db_close(db);
    db = NULL;
    rc = wf_worker_main(&cfg);
out:
    db_close(db);
    config_cleanup(&cfg);
    log_flush();
    return rc;
}

static int cmd_routes(const opts_t *o)
{
    config_t cfg;
    if (load_config(o, &cfg) < 0) {
        config_cleanup(&cfg);
        return 1;
    }
    app_t *app = app_new(&cfg, "routes-listing-needs-no-secret-0000000");
    json_t *j = router_to_json(app_router(app));
    char *s = json_dumps(j, o->json ? JSON_INDENT(2) : JSON_INDENT(2));
    puts(s);
    free(s);
    json_decref(j);
    app_free(app);
    config_cleanup(&cfg);
    return 0;
}

/* cmd_admin: `bizosaas admin …` — operator commands of the contexts. */
static int cmd_admin(int argc, char **argv)
{
    config_t cfg;
    char err[512];
    if (config_load(&cfg, NULL, environ, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas: configuration error: %s\n", err);
        config_cleanup(&cfg);
        return 1;
    }
    log_set_level((enum log_level)cfg.log_level);
    int rc;
    if (argc >= 3 && (!strcmp(argv[2], "rotate-master-key") || !strcmp(argv[2], "verify-audit")))
        rc = vault_admin_main(argc, argv, &cfg);
    else
        rc = identity_admin_main(argc, argv, &cfg);
    config_cleanup(&cfg);
    return rc;
}

/* cmd_import: `bizosaas import leads FILE --tenant SLUG` (the CRM's CSV import). */
static int cmd_import(int argc, char **argv)
{
    config_t cfg;
    char err[512];
    if (config_load(&cfg, NULL, environ, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas: configuration error: %s\n", err);
        config_cleanup(&cfg);
        return 1;
    }
    log_set_level((enum log_level)cfg.log_level);
    if (db_url_backend(cfg.database_url) == DB_SQLITE) mkdir(cfg.data_dir, 0700);
    int rc = crm_import_main(argc, argv, &cfg);
    config_cleanup(&cfg);
    return rc;
}

/* cmd_spec: `bizosaas spec …` — the OpenSpec workflow over this binary's routes. */
static int cmd_spec(int argc, char **argv)
{
    config_t cfg;
    char err[512];
    /* only the route table is needed, and it does not depend on settings:
     * the defaults, so the check runs the same in any environment (CI's
     * included, which carries its own BIZOSAAS_TEST_* variables) */
    if (config_load(&cfg, NULL, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas: configuration error: %s\n", err);
        config_cleanup(&cfg);
        return 1;
    }
    app_t *app = app_new(&cfg, "spec-listing-needs-no-secret-000000000");
    int rc = spec_main(argc, argv, app_router(app));
    app_free(app);
    config_cleanup(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    /* a peer that closed its socket must cost an EPIPE, not the process */
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        fputs("bizosaas: libsodium failed to initialize\n", stderr);
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "spec")) return cmd_spec(argc - 1, argv + 1);
    if (!strcmp(argv[1], "admin")) return cmd_admin(argc, argv);
    if (!strcmp(argv[1], "import")) return cmd_import(argc, argv);
    opts_t o = {0};
    if (parse_opts(argc, argv, &o) < 0) return 2;
    if (!strcmp(argv[1], "serve")) return cmd_serve(&o);
    if (!strcmp(argv[1], "migrate")) return cmd_migrate(&o);
    if (!strcmp(argv[1], "worker")) return cmd_worker(&o);
    if (!strcmp(argv[1], "routes")) return cmd_routes(&o);
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("bizosaas %s\n", BZ_VERSION);
        return 0;
    }
    fprintf(stderr, "bizosaas: unknown command %s (see bizosaas --help)\n", argv[1]);
    return 2;
}

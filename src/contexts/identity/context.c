/* context.c — identity's startup wiring and the helpers its files share:
 * settings captured once, hashing of high-entropy secrets, the switch to a
 * platform-scope transaction, audit and mail writes. */
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

#include "err.h"
#include "http.h"
#include "identity.h"
#include "internal.h"
#include "jwks.h"
#include "log.h"
#include "mail.h"
#include "repo.h"

const config_t *idn__cfg;
const auth_config_t *idn__auth;

/* A startup problem found by identity_configure (which cannot fail) and
 * reported by identity_start, so `serve` refuses to start with it. */
static char config_error[512];

void identity_configure(const config_t *cfg, auth_config_t *auth)
{
    idn__cfg = cfg;
    idn__auth = auth;
    if (jwks_load(cfg, auth, config_error, sizeof config_error) < 0 && !config_error[0])
        snprintf(config_error, sizeof config_error, "cannot load the ES256 keys");
    http_set_request_hook(idn__request_hook);
}

void idn__sha256_hex(const char *s, char out[IDN_HASH_HEX])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, IDN_HASH_HEX, h, sizeof h);
}

int64_t idn__now(void)
{
    return (int64_t)time(NULL);
}

int idn__platform(db_t *db, bool write)
{
    db_rollback(db);
    return db_begin_platform(db, write);
}

int idn__audit(db_t *db, const char *tenant_id, const char *event, const char *actor_id,
               const char *subject_id, const char *ip, json_t *details)
{
    char *d = details ? json_dumps(details, JSON_COMPACT) : NULL;
    json_decref(details);
    int rc = repo_audit_insert(db, tenant_id, event, actor_id, subject_id, ip, d);
    free(d);
    if (rc < 0)
        log_kv(LOG_ERROR, "audit write failed", "event", event, "error", db_errmsg(db), NULL);
    return rc;
}

int idn__mail(db_t *db, const char *tenant_id, const char *to, const char *subject,
              const char *body)
{
    return repo_mail_insert(db, tenant_id, to, subject, body);
}

/* seed_demo_file: seeds the demo tenant and writes its logins to
 * <data_dir>/demo-logins.txt (mode 0600) rather than to the log: passwords
 * never go into logs, and scripts/run.sh prints the file in its banner. */
static int seed_demo_file(db_t *db)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/demo-logins.txt", idn__cfg->data_dir);
    if (n < 0 || (size_t)n >= sizeof path) return -1;
    /* the server makes DATA_DIR at startup; other callers (tools, tests) may not have */
    if (mkdir(idn__cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        log_error("identity: cannot create %s: %s", idn__cfg->data_dir, strerror(errno));
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        log_error("identity: cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# BizOSaaS demo logins (tenant \"demo\"); change them or run "
               "`bizosaas admin seed-demo`\n");
    int rc = idn__seed_demo(db, f);
    if (fclose(f) != 0 && rc == 0) rc = ERR_IO;
    if (rc < 0) return -1;
    log_kv(LOG_WARN, "demo tenant seeded; its logins are in this file (mode 0600)", "file", path,
           NULL);
    return 0;
}

int identity_start(db_t *db)
{
    if (config_error[0]) {
        log_error("identity: %s", config_error);
        return -1;
    }
    if (idn__auth && idn__auth->es256_signer)
        log_kv(LOG_INFO, "access tokens are signed with ES256", "kid",
               auth_es256_kid(idn__auth->es256_signer), NULL);
    if (!idn__cfg) return 0;
    if (mail_sender_start(idn__cfg) < 0) return -1;
    if (db_begin_platform(db, true) == 0) {
        if (repo_purge_expired(db, idn__now(), idn__cfg->lockout_s) == 0)
            db_commit(db);
        else
            db_rollback(db);
    }
    /* never in production: the demo accounts hold every role */
    if (!idn__cfg->demo_seed || !config_is_dev(idn__cfg) || db_backend(db) != DB_SQLITE) return 0;
    int64_t n = repo_tenant_count(db);
    if (n < 0) {
        log_error("identity: cannot count tenants: %s", db_errmsg(db));
        return -1;
    }
    if (n > 0) return 0;
    return seed_demo_file(db);
}

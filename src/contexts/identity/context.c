/* context.c — identity's startup wiring and the helpers its files share:
 * settings captured once, hashing of high-entropy secrets, the switch to a
 * platform-scope transaction, audit and mail writes. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    return idn__seed_demo(db, NULL) < 0 ? -1 : 0;
}

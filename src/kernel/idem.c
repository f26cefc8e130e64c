/* idem.c — the idempotency-key table operations (see idem.h). */
#include "idem.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"

bool idem_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > IDEM_KEY_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e) return false;
    return true;
}

void idem_hash(const http_req_t *req, char out[65])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->method.p, req->method.n);
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->raw_path, strlen(req->raw_path));
    crypto_hash_sha256_update(&st, (const unsigned char *)"?", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->query, strlen(req->query));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)req->body, req->body_len);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

void idem_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int replay(db_t *db, const char *tenant, const char *key, const char *hash,
                  http_res_t *res)
{
    db_res_t *r = NULL;
    int rc = db_query(db, &r,
                      "SELECT request_hash, state, status, response_headers, response_body "
                      "FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(key)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc <= 0) {
        db_res_free(r);
        return rc < 0 ? rc : ERR_CONFLICT; /* vanished between insert and select: retry later */
    }
    if (strcmp(db_res_text(r, 0), hash) != 0) {
        db_res_free(r);
        return ERR_IDEMPOTENCY_MISMATCH;
    }
    if (strcmp(db_res_text(r, 1), "done") != 0) {
        db_res_free(r);
        return ERR_IDEMPOTENCY_IN_PROGRESS;
    }
    res->status = (int)db_res_int(r, 2);
    buf_reset(&res->body);
    const char *body = db_res_text(r, 4);
    if (body) buf_append(&res->body, body, db_res_len(r, 4));
    const char *ct = db_res_text(r, 3);
    res->content_type = NULL;
    if (ct && *ct) {
        snprintf(res->ctype_buf, sizeof res->ctype_buf, "%s", ct);
        res->content_type = res->ctype_buf;
    }
    http_set_header(res, "Idempotent-Replayed", "true");
    db_res_free(r);
    return 1;
}

int idem_claim(db_t *db, const char *tenant, const char *key, const char *hash, int64_t ttl_s,
               int64_t now, http_res_t *res)
{
    char tnow[32], texp[32], tstale[32];
    idem_time(now, tnow);
    idem_time(now + ttl_s, texp);
    idem_time(now - IDEM_STALE_S, tstale);
    int rc = db_begin(db, tenant, true);
    if (rc < 0) return rc;
    /* Expired keys, and 'running' keys whose process died, are forgotten. */
    rc = db_exec(db, NULL,
                 "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND "
                 "(expires_at < $3 OR (state = 'running' AND created_at < $4))",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(key), DB_TEXT(tnow), DB_TEXT(tstale)));
    if (rc < 0) goto fail;
    rc = db_exec(db, NULL,
                 "INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, created_at, "
                 "expires_at) VALUES ($1, $2, $3, 'running', $4, $5)",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(key), DB_TEXT(hash), DB_TEXT(tnow), DB_TEXT(texp)));
    if (rc == ERR_EXISTS) {
        /* The failed INSERT aborted the PostgreSQL transaction: read in a new one. */
        db_rollback(db);
        if ((rc = db_begin(db, tenant, false)) < 0) return rc;
        rc = replay(db, tenant, key, hash, res);
        db_rollback(db);
        return rc;
    }
    if (rc < 0) goto fail;
    rc = db_commit(db);
    return rc < 0 ? rc : 0;
fail:
    db_rollback(db);
    return rc;
}

int idem_store(db_t *db, const char *tenant, const char *key, const http_res_t *res)
{
    char status[16];
    snprintf(status, sizeof status, "%d", res->status);
    return db_exec(db, NULL,
                   "UPDATE idempotency_keys SET state = 'done', status = $3, response_headers = $4, "
                   "response_body = $5 WHERE tenant_id = $1 AND key = $2",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(key), DB_INT(res->status),
                           DB_TEXT(res->content_type ? res->content_type : ""),
                           DB_TEXTN(res->body.p ? res->body.p : "", res->body.n)));
}

int idem_release(db_t *db, const char *tenant, const char *key)
{
    int rc = db_begin(db, tenant, true);
    if (rc < 0) return rc;
    rc = db_exec(db, NULL, "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(key)));
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

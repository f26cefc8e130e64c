/* audit.c — the vault's hash-chained audit log.
 *
 * One chain per storage tenant. Entry n carries prev_hash = hash of entry
 * n-1 (64 zeros for the first) and
 *   hash = SHA-256(prev_hash | tenant | seq | at | actor | operation | path | result)
 * where every field is written as "<length>:<bytes>" so no two entries
 * serialize alike. vault_audit_head holds the newest (seq, hash): appending
 * locks it (an upsert that changes nothing takes the row lock on PostgreSQL
 * and the write lock on SQLite), so appends to one chain are serialized and
 * the head anchors the end — removing the last entry is detected too.
 * Entries never contain values.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "str.h"
#include "vault_internal.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static void field(crypto_hash_sha256_state *st, const char *s)
{
    char len[24];
    int n = snprintf(len, sizeof len, "%zu:", strlen(s));
    crypto_hash_sha256_update(st, (const unsigned char *)len, (unsigned long long)n);
    crypto_hash_sha256_update(st, (const unsigned char *)s, strlen(s));
}

static void entry_hash(const char *prev, const char *tenant, int64_t seq, const char *at,
                       const char *actor, const char *op, const char *path, const char *result,
                       char out[65])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    char seqs[24];
    snprintf(seqs, sizeof seqs, "%lld", (long long)seq);
    const char *f[] = {prev, tenant, seqs, at, actor, op, path, result};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) field(&st, f[i]);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

int vault__audit_lock(db_t *db, const char *tenant)
{
    return db_exec(db, NULL,
                   "INSERT INTO vault_audit_head (tenant_id, seq, hash) VALUES ($1, 0, $2) "
                   "ON CONFLICT (tenant_id) DO UPDATE SET seq = vault_audit_head.seq",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(ZERO_HASH)));
}

int vault__audit_append(db_t *db, const char *tenant, const char *actor, const char *op,
                        const char *path, const char *result)
{
    int rc = vault__audit_lock(db, tenant);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r, "SELECT seq, hash FROM vault_audit_head WHERE tenant_id = $1",
                  DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc != 1) {
        db_res_free(r);
        return rc < 0 ? rc : ERR_DB;
    }
    int64_t seq = db_res_int(r, 0) + 1;
    char prev[65];
    snprintf(prev, sizeof prev, "%s", db_res_text(r, 1));
    db_res_free(r);
    char at[32], hash[65];
    clock_rfc3339(clock_now_ms(), at);
    entry_hash(prev, tenant, seq, at, actor, op, path, result, hash);
    rc = db_exec(db, NULL,
                 "INSERT INTO vault_audit (tenant_id, seq, at, actor, operation, path, result, "
                 "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                 DB_ARGS(DB_TEXT(tenant), DB_INT(seq), DB_TEXT(at), DB_TEXT(actor), DB_TEXT(op),
                         DB_TEXT(path), DB_TEXT(result), DB_TEXT(prev), DB_TEXT(hash)));
    if (rc < 0) return rc;
    return db_exec(db, NULL, "UPDATE vault_audit_head SET seq = $2, hash = $3 WHERE tenant_id = $1",
                   DB_ARGS(DB_TEXT(tenant), DB_INT(seq), DB_TEXT(hash)));
}

typedef struct head {
    char *tenant, *hash;
    int64_t seq;
} head_t;

static void say(FILE *out, const char *fmt, const char *tenant, long long seq)
{
    if (out) fprintf(out, fmt, tenant, seq);
}

/* verify_chain: checks one tenant's entries against its head. */
static int verify_chain(db_t *db, const head_t *h, FILE *out, int *problems)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT seq, at, actor, operation, path, result, prev_hash, hash "
                      "FROM vault_audit WHERE tenant_id = $1 ORDER BY seq",
                      DB_ARGS(DB_TEXT(h->tenant)));
    if (rc < 0) return rc;
    char prev[65] = ZERO_HASH;
    int64_t expect = 1;
    int bad = 0;
    while ((rc = db_res_next(r)) == 1) {
        int64_t seq = db_res_int(r, 0);
        char hash[65];
        entry_hash(prev, h->tenant, seq, db_res_text(r, 1), db_res_text(r, 2), db_res_text(r, 3),
                   db_res_text(r, 4), db_res_text(r, 5), hash);
        if (seq != expect) {
            say(out, "chain %s: entry %lld is missing (removed)\n", h->tenant, (long long)expect);
            bad++;
        } else if (strcmp(db_res_text(r, 6), prev) != 0) {
            say(out, "chain %s: entry %lld does not follow its predecessor\n", h->tenant,
                (long long)seq);
            bad++;
        } else if (strcmp(db_res_text(r, 7), hash) != 0) {
            say(out, "chain %s: entry %lld was altered (hash mismatch)\n", h->tenant,
                (long long)seq);
            bad++;
        }
        snprintf(prev, sizeof prev, "%s", db_res_text(r, 7));
        expect = seq + 1;
    }
    db_res_free(r);
    if (rc < 0) return rc;
    if (expect - 1 != h->seq || strcmp(prev, h->hash) != 0) {
        say(out, "chain %s: the chain ends before its recorded head (entry %lld); entries were removed\n",
            h->tenant, (long long)h->seq);
        bad++;
    }
    if (!bad && out) fprintf(out, "chain %s: %lld entries, intact\n", h->tenant, (long long)h->seq);
    *problems += bad;
    return 0;
}

int vault_audit_verify(db_t *db, FILE *out)
{
    int rc = db_begin_platform(db, false);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r, "SELECT tenant_id, seq, hash FROM vault_audit_head ORDER BY tenant_id",
                  DB_NOARGS);
    head_t *heads = NULL;
    size_t n = 0;
    if (rc == 0) {
        int more;
        while ((more = db_res_next(r)) == 1) {
            heads = xrealloc(heads, (n + 1) * sizeof *heads);
            heads[n++] = (head_t){xstrdup(db_res_text(r, 0)), xstrdup(db_res_text(r, 2)),
                                  db_res_int(r, 1)};
        }
        rc = more < 0 ? more : 0;
        db_res_free(r);
    }
    int problems = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = verify_chain(db, &heads[i], out, &problems);
    /* entries of a tenant without a head: the head row was removed */
    int64_t orphans = 0;
    if (rc == 0)
        rc = db_query_one_int(db, &orphans,
                              "SELECT count(*) FROM vault_audit a WHERE NOT EXISTS (SELECT 1 FROM "
                              "vault_audit_head h WHERE h.tenant_id = a.tenant_id)",
                              DB_NOARGS);
    if (rc == 0 && orphans > 0) {
        if (out) fprintf(out, "%lld entries belong to a chain whose head was removed\n", (long long)orphans);
        problems++;
    }
    db_rollback(db);
    for (size_t i = 0; i < n; i++) {
        free(heads[i].tenant);
        free(heads[i].hash);
    }
    free(heads);
    if (rc < 0) return rc;
    return problems ? ERR_CONFLICT : 0;
}

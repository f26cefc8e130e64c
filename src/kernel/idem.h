/* idem.h — Idempotency-Key support for POST requests, free for every context.
 *
 * A POST with an Idempotency-Key header from an authenticated tenant runs at
 * most once per (tenant, key):
 *   1. idem_claim() records the key as 'running' in its own committed
 *      transaction, so a concurrent retry sees it (-> 409);
 *   2. the handler runs in the request transaction, and idem_store() writes
 *      the response into the key's row in that same transaction — the stored
 *      response exists iff the change committed;
 *   3. when the handler fails (rolled back), idem_release() deletes the row
 *      so the client may retry.
 * A retry with the same key and the same request (method, path, query,
 * body) gets the stored response; a different request -> 422. Keys expire
 * after BIZOSAAS_IDEMPOTENCY_TTL_S; a 'running' row older than
 * IDEM_STALE_S (its process died) may be taken over. */
#ifndef BZ_IDEM_H
#define BZ_IDEM_H

#include "db.h"
#include "http.h"

#define IDEM_KEY_MAX 255
#define IDEM_STALE_S 300

/* idem_key_ok: 1..255 visible ASCII characters. */
bool idem_key_ok(const char *key);
/* idem_hash: hex SHA-256 of the request identity into out[65]. */
void idem_hash(const http_req_t *req, char out[65]);
/* idem_claim: 0 = claimed (run the handler); 1 = a stored response was
 * written into res (replay); ERR_IDEMPOTENCY_MISMATCH; ERR_IDEMPOTENCY_IN_PROGRESS;
 * or a database error. Runs and commits its own transaction. */
int idem_claim(db_t *db, const char *tenant, const char *key, const char *hash, int64_t ttl_s,
               int64_t now, http_res_t *res);
/* idem_store: inside the request transaction, records res for the key. */
int idem_store(db_t *db, const char *tenant, const char *key, const http_res_t *res);
/* idem_release: forgets a claimed key after a failed request (own transaction). */
int idem_release(db_t *db, const char *tenant, const char *key);
/* idem_time: formats unix seconds as the RFC 3339 UTC text stored in the
 * database ("2026-11-25T18:00:00Z") into out[32]. */
void idem_time(int64_t t, char out[32]);

#endif

/* internal.h — what identity's own files share (the idn__ prefix): the
 * settings captured at startup and small helpers. Not for other contexts;
 * they use identity.h. */
#ifndef BZ_IDENTITY_INTERNAL_H
#define BZ_IDENTITY_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "db.h"

/* Set once by identity_configure() before any thread starts; read-only after. */
extern const config_t *idn__cfg;
extern const auth_config_t *idn__auth;

/* Length of a hex SHA-256 digest with its NUL. */
#define IDN_HASH_HEX 65
/* Opaque secrets handed to clients: refresh tokens, one-time tokens, API keys. */
#define IDN_REFRESH_PREFIX "bzr_"
#define IDN_APIKEY_PREFIX "bzk_"

/* idn__sha256_hex: the lower-case hex SHA-256 of s into out. Used for
 * high-entropy secrets only (tokens, keys, recovery codes); passwords use
 * argon2id (passwords.h). */
void idn__sha256_hex(const char *s, char out[IDN_HASH_HEX]);
/* idn__now: unix seconds. */
int64_t idn__now(void);
/* idn__platform: ends the transaction the kernel opened and starts a
 * platform-scope one. For the few steps that run before the tenant is known
 * (login, refresh, registration, one-time tokens, API-key lookup); the
 * row-level security policies are unchanged, the scope is chosen here,
 * explicitly. */
int idn__platform(db_t *db, bool write);
/* idn__audit: records a security event in the request's transaction.
 * details (may be NULL) is stolen and must never contain a secret. */
int idn__audit(db_t *db, const char *tenant_id, const char *event, const char *actor_id,
               const char *subject_id, const char *ip, json_t *details);
/* idn__mail: queues a mail in the request's transaction (mail_outbox). */
int idn__mail(db_t *db, const char *tenant_id, const char *to, const char *subject,
              const char *body);

/* The request hook installed into the kernel (hook.c). */
struct http_req;
struct http_res;
int idn__request_hook(db_t *db, struct http_req *req, struct http_res *res);

/* Route tables of the context's HTTP files. */
struct router;
void idn__routes_auth(struct router *r);
void idn__routes_admin(struct router *r);

#endif

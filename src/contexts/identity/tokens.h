/* tokens.h — identity's session use cases: login, refresh rotation,
 * logout (private to the context). */
#ifndef BZ_IDENTITY_TOKENS_H
#define BZ_IDENTITY_TOKENS_H

#include <jansson.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"

typedef struct login_input {
    const char *email; /* normalised */
    const char *password;
    const char *tenant_slug; /* NULL: any tenant with this e-mail */
    const char *totp_code;   /* NULL when not given */
    const char *recovery_code;
    const char *ip;
} login_input_t;

/* The result of a login or refresh. */
typedef struct session {
    json_t *body;        /* the response object (access/refresh tokens, user); caller owns */
    int64_t retry_after; /* seconds, with ERR_RATE_LIMITED */
    const char *why;     /* the message for an error */
} session_t;

/* idn_login: checks throttling, the password (argon2id, outside any
 * transaction) and the second factor, and issues a token pair. The caller's
 * transaction is replaced by platform-scope ones: on success one is left
 * open for the kernel to commit; on failure the bookkeeping (failure
 * counters, audit) is already committed and none is open. Errors:
 * ERR_UNAUTHORIZED (bad credentials, or a second factor is needed: why
 * says so), ERR_RATE_LIMITED (retry_after set). */
int idn_login(db_t *db, arena_t *a, const login_input_t *in, session_t *out);
/* idn_refresh: rotates a refresh token. Reuse of a rotated token revokes
 * its family (committed) and fails with ERR_UNAUTHORIZED. */
int idn_refresh(db_t *db, arena_t *a, const char *refresh_token, const char *ip, session_t *out);
/* idn_logout: revokes the access token jti (until exp) and its session's
 * refresh family; refresh_token (may be NULL) names another family to end.
 * Runs in the caller's tenant transaction. */
int idn_logout(db_t *db, const char *tenant_id, const char *user_id, const char *jti, int64_t exp,
               const char *refresh_token, const char *ip);
/* idn__issue: mints an access token and a refresh token (a new family when
 * family is NULL) for a user, into body ("access_token", "refresh_token",
 * "token_type", "expires_in", "refresh_expires_in"). */
int idn__issue(db_t *db, const char *tenant_id, const char *user_id, unsigned roles,
               const char *family, json_t *body);

#endif

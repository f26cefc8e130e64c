/* app.h — identity's use cases (private to the context). Inputs are
 * already type-checked by http.c; invariants are checked here via domain.c.
 * On ERR_VALIDATION *why names the problem. */
#ifndef BZ_IDENTITY_APP_H
#define BZ_IDENTITY_APP_H

#include "arena.h"
#include "db.h"
#include "domain.h"
#include "internal.h"
#include "repo.h"

typedef struct tenant_input {
    const char *name, *slug, *plan, *status; /* NULL = unchanged / default */
    json_t *domains;                         /* NULL = unchanged / [] */
} tenant_input_t;

int idn_tenant_create(db_t *db, arena_t *a, const tenant_input_t *in, tenant_t *out,
                      const char **why);
/* idn_tenant_update: a status change is audited (tenant.suspended /
 * tenant.activated) with actor and ip. */
int idn_tenant_update(db_t *db, arena_t *a, const char *id, const tenant_input_t *in, tenant_t *out,
                      const char *actor, const char *ip, const char **why);

int idn_tenant_set_require_mfa(db_t *db, const char *tenant_id, bool on, const char *actor,
                               const char *ip);

/* ---- users (users.c) ---------------------------------------------------------- */

/* Who is acting: the verified caller. */
typedef struct actor {
    const char *tenant_id; /* "" for platform tokens without a tenant */
    const char *user_id;
    unsigned roles;
    const char *ip;
} actor_t;

typedef struct user_input {
    const char *tenant_id; /* create: super_admin may name the tenant */
    const char *email;     /* normalised */
    const char *name;
    const char *password; /* NULL: the user sets one through a mailed link */
    json_t *roles;        /* NULL = unchanged / ["client"] */
    int active;           /* -1 unchanged, 0, 1 */
} user_input_t;

/* idn_user_create: ERR_FORBIDDEN when the actor may not give these roles;
 * ERR_EXISTS for an e-mail already in the tenant. */
int idn_user_create(db_t *db, arena_t *a, const actor_t *who, const user_input_t *in, user_t *out,
                    const char **why);
/* idn_user_update: name, roles, active. Changing roles needs the right to
 * assign them (ERR_FORBIDDEN); deactivation ends the user's sessions. */
int idn_user_update(db_t *db, arena_t *a, const actor_t *who, const char *scope, const char *id,
                    const user_input_t *in, user_t *out, const char **why);
/* idn_user_unlock: clears the lockout of a user of scope. Switches to a
 * platform-scope transaction for the throttle table. */
int idn_user_unlock(db_t *db, arena_t *a, const actor_t *who, const char *scope, const char *id);
/* idn_password_change: checks current, sets the new password, ends other
 * sessions. */
int idn_password_change(db_t *db, arena_t *a, const actor_t *who, const char *current,
                        const char *next, const char **why);

/* ---- accounts (account.c): sign-up, invitations, verification, reset ------------ */

typedef struct register_input {
    const char *email, *password, *name, *tenant_name, *invitation_token, *ip;
} register_input_t;
/* idn_register: with an invitation token, joins its tenant with the
 * invited role; otherwise (when sign-up is enabled) creates a tenant with
 * the user as tenant_admin and mails a verification token. Runs in platform
 * scope. ERR_EXISTS for an e-mail already registered; ERR_FORBIDDEN when
 * sign-up is disabled. *out_tenant is set for a new tenant. */
int idn_register(db_t *db, arena_t *a, const register_input_t *in, user_t *out,
                 tenant_t *out_tenant, bool *new_tenant, const char **why);
/* idn_invite: a tenant_admin invites email with roles; mails the token. */
int idn_invite(db_t *db, const actor_t *who, const char *email, unsigned roles, const char **why);
/* idn_verify_email: consumes a verification token (platform scope). */
int idn_verify_email(db_t *db, const char *token, const char **why);
/* idn_send_verification: mails a new verification token to a user. */
int idn_send_verification(db_t *db, const char *tenant_id, const char *user_id, const char *email);
/* idn_password_forgot: mails reset tokens to the users with email (none:
 * nothing, and the same answer). Platform scope. */
int idn_password_forgot(db_t *db, const char *email, const char *ip);
/* idn_password_reset: consumes a reset (or invitation-less welcome) token,
 * sets the password, clears the lockout and ends every session. */
int idn_password_reset(db_t *db, arena_t *a, const char *token, const char *password,
                       const char *ip, const char **why);
/* idn__token_new: a new one-time token for purpose, stored hashed; the
 * clear token (64 hex characters) is written to out[65]. */
int idn__token_new(db_t *db, const char *tenant_id, const char *purpose, const char *user_id,
                   const char *email, const char *role, int64_t ttl_s, char out[65]);

/* ---- API keys and two-factor (keys.c) ---------------------------------------------- */

/* idn_apikey_create: a new key for the actor's tenant acting with role
 * (NULL: client) narrowed by scopes (NULL: ["*"]). The clear key is written
 * to key_out[45] and never stored. On success out->scopes is a new
 * reference the caller releases (json_decref). */
int idn_apikey_create(db_t *db, arena_t *a, const actor_t *who, const char *name, const char *role,
                      json_t *scopes, apikey_t *out, char key_out[45], const char **why);
int idn_apikey_revoke(db_t *db, const actor_t *who, const char *id);

/* idn_totp_enroll: stores a new (not yet enabled) secret for the actor and
 * returns it with its otpauth:// URI (arena strings). ERR_CONFLICT when
 * two-factor is already enabled. */
int idn_totp_enroll(db_t *db, arena_t *a, const actor_t *who, const char **secret,
                    const char **uri);
/* idn_totp_confirm: enables two-factor when code matches the enrolled
 * secret; returns RECOVERY_CODES new recovery codes as a JSON array. */
int idn_totp_confirm(db_t *db, arena_t *a, const actor_t *who, const char *code, json_t **codes,
                     const char **why);
/* idn_totp_disable: needs a current code; removes secret and recovery codes. */
int idn_totp_disable(db_t *db, arena_t *a, const actor_t *who, const char *code, const char **why);

#endif

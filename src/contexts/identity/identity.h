/* identity.h — the identity context (service auth-service, /api/v1/auth):
 * tenants, users and roles, tokens (login, refresh with rotation and reuse
 * detection, logout), passwords with throttling and lockout, e-mail
 * verification and password reset, TOTP two-factor, API keys, the audit
 * log and the demo data. This header is what the rest of the binary may
 * call. */
#ifndef BZ_IDENTITY_H
#define BZ_IDENTITY_H

#include <stdio.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "router.h"

/* identity_register: adds the context's routes and permissions. */
void identity_register(router_t *r);

/* identity_on_plan_change: fn(tenant_id, plan) is called (on a worker
 * thread, after the transaction committed) whenever a tenant is created or
 * its plan set through this process's tenant API — so that in-memory copies
 * (the gateway's per-plan rate limits) follow at once. Both strings are
 * borrowed for the call. Set once at startup; NULL = none. Changes made by
 * other processes are not reported: readers must also refresh. */
void identity_on_plan_change(void (*fn)(const char *tenant_id, const char *plan));

/* identity_configure: captures the settings and the token configuration
 * (both borrowed; they must outlive the process's serving), loads the ES256
 * keys when configured into auth (see jwks.h; a bad key makes
 * identity_start fail) and installs the kernel's request hook (API keys,
 * revoked tokens, suspended tenants, deactivated users). Call once at
 * startup, before threads start. */
void identity_configure(const config_t *cfg, auth_config_t *auth);

/* identity_start: startup work needing the database: starts the SMTP
 * sender when configured, purges expired token rows and, in development
 * on the embedded default (SQLite) with no tenant yet, seeds the demo
 * tenant and writes its logins to <data_dir>/demo-logins.txt (mode 0600). Returns 0, or -1 (logged) when
 * identity_configure met a bad configuration or SMTP cannot run. */
int identity_start(db_t *db);

/* identity_tenant_by_host: the id of the active tenant whose domains list
 * host (lower-case, without port) into out. Runs in the caller's open
 * transaction, which must be in platform scope (tenants are row-level
 * secured). ERR_NOT_FOUND when no tenant has it; the oldest wins if two do. */
int identity_tenant_by_host(db_t *db, const char *host, char out[64]);

/* idn__seed_demo: creates (or, when it exists, resets the passwords of) the
 * demo tenant (slug "demo", domain "localhost") with one user per role,
 * all with one new generated password. The logins ("email role password"
 * lines) are written to out when non-NULL — never to the log. Returns 0 or
 * a negative ERR_*. */
int idn__seed_demo(db_t *db, FILE *out);

/* identity_mail_staff: queues one mail (mail_outbox: SMTP when configured,
 * else the development mailbox) to every active user of tenant_id holding
 * a role in the roles mask (enum auth_role), inside the caller's open
 * transaction on db (tenant or platform scope). Returns the number of mails
 * queued (0 when nobody holds the roles), ERR_VALIDATION for bad arguments,
 * or a database error. */
int identity_mail_staff(db_t *db, const char *tenant_id, unsigned roles, const char *subject,
                        const char *body);

/* identity_admin_main: `bizosaas admin <command>` — seed-demo,
 * create-tenant --name N --slug S [--domain D], create-user --tenant SLUG
 * --email E --role R [--password P], reset-password --tenant SLUG --email E
 * [--password P], unlock-user --email E. argv[0] is "admin"... i.e. argv
 * as main() received it with argv[1] == "admin". Prints to stdout/stderr;
 * returns the process exit code (0 ok, 1 failure, 2 usage). */
int identity_admin_main(int argc, char **argv, const config_t *cfg);

#endif

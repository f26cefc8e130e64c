/* vault.h — the secrets vault: KV v2 style versioned secrets, encrypted at
 * rest, with path policies and a hash-chained audit log.
 *
 * Paths: "tenant/{tenant_id}/…" belong to that tenant (its storage
 * tenant); every other path is a platform path (storage tenant
 * "_platform"). A tenant caller can never address another tenant's paths
 * (they answer "not found", as if absent); platform paths are for
 * super_admin only. Capabilities (read, create, update, delete, list) come
 * from a role → path prefix → capabilities table (see policy.c), checked on
 * every call.
 *
 * Encryption: each storage tenant has a random 256-bit data key, stored only
 * wrapped (XChaCha20-Poly1305) by the master key; values are sealed with the
 * data key and bound to (tenant, path, version) as associated data, so a
 * ciphertext copied to another row does not open. The master key comes from
 * BIZOSAAS_MASTER_KEY (64 hex characters) or DATA_DIR/master.key (generated,
 * mode 0600, on first start outside production). A key-check value written
 * with the first data key makes a process with a different master key
 * refuse to start. Rotation re-wraps the data keys only.
 *
 * Audit: every access — who, tenant, path, operation, result, time, never a
 * value — is appended to a per-tenant hash chain (vault_audit).
 *
 * Secrets handed out by this API are heap strings the caller must release
 * with vault_secret_free (which wipes them).
 */
#ifndef BZ_VAULT_H
#define BZ_VAULT_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "db.h"
#include "router.h"

/* Longest secret path (bytes) and largest secret (bytes of JSON). */
#define VAULT_MAX_PATH 512
#define VAULT_MAX_SECRET (256 * 1024)
/* Versions kept per path when its metadata sets none. */
#define VAULT_DEFAULT_MAX_VERSIONS 10
/* The storage tenant of platform paths. */
#define VAULT_PLATFORM_TENANT "_platform"

/* vault_register: the /v1 routes. Call at startup. */
void vault_register(router_t *r);

/* vault_start: loads the master key (config or key file, generating the
 * file on a first start outside production) and checks it against the
 * database's key-check value. Returns 0, or ERR_CONFIG after logging a
 * clear message (wrong master key, unreadable key file, malformed
 * BIZOSAAS_MASTER_KEY): the server must not start. cfg must outlive the
 * vault; db is only used during the call (no transaction open). */
int vault_start(const config_t *cfg, db_t *db);

/* vault_stop: wipes the master key and every cached data key. */
void vault_stop(void);

/* vault_secret_read: for other contexts (integrations, payment gateways,
 * LLM providers): the current version of tenant_id's secret at
 * "tenant/{tenant_id}/{path}" as a JSON object text in *out (caller frees
 * with vault_secret_free). Runs in the caller's open transaction on db
 * (tenant scope of tenant_id, or platform scope) and audits the read under
 * actor (e.g. "system:payments") in that transaction — commit it even when
 * the read fails, or the audit entry is lost with the rollback.
 * ERR_NOT_FOUND when absent or deleted. */
int vault_secret_read(db_t *db, const char *tenant_id, const char *path, const char *actor,
                      char **out);

/* vault_secret_write: writes a new version of the same path (data is a JSON
 * object text, copied) in the caller's open transaction; *version_out (may
 * be NULL) receives the new version. */
int vault_secret_write(db_t *db, const char *tenant_id, const char *path, const char *actor,
                       const char *data, int64_t *version_out);

/* vault_secret_free: wipes and frees a secret returned above (NULL is ok). */
void vault_secret_free(char *secret);

/* vault_audit_verify: walks every audit chain (db: no transaction open; the
 * call runs its own platform-scope transaction), printing one line per
 * chain and one per problem to out (may be NULL). Returns 0 when every
 * chain is intact, ERR_CONFLICT when an entry was removed, altered or
 * reordered, or a database error. */
int vault_audit_verify(db_t *db, FILE *out);

/* vault_rotate_master_key: re-wraps every data key under new_key (32 bytes)
 * and replaces the key-check value, in one transaction on db (no
 * transaction open); the current master key must be loaded (vault_start).
 * On success the process uses new_key. */
int vault_rotate_master_key(db_t *db, const unsigned char new_key[32]);

/* vault_admin_main: `bizosaas admin rotate-master-key [--new-key HEX]` and
 * `bizosaas admin verify-audit`. argv[1] is "admin", argv[2] the command.
 * With the key file, rotation writes DATA_DIR/master.key.new, commits, then
 * renames it over master.key (a start after a crash between the two picks
 * up master.key.new); with BIZOSAAS_MASTER_KEY, --new-key is required and
 * the operator sets it in every process's environment afterwards. Returns
 * the process exit code: 0 ok, 1 failure, 2 usage. */
int vault_admin_main(int argc, char **argv, const config_t *cfg);

#endif

/* vault_internal.h — shared between the files of src/contexts/vault only. */
#ifndef BZ_VAULT_INTERNAL_H
#define BZ_VAULT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "vault.h"

#define VAULT_KEY_BYTES 32

/* Capabilities. */
enum vault_cap {
    VCAP_READ = 1u << 0,
    VCAP_CREATE = 1u << 1,
    VCAP_UPDATE = 1u << 2,
    VCAP_DELETE = 1u << 3,
    VCAP_LIST = 1u << 4,
};
#define VCAP_ALL 0x1Fu

/* Who is calling. actor is a user id or "system:<context>". */
typedef struct vault_caller {
    const char *actor;
    const char *tenant_id; /* "" for platform callers (super_admin, service) */
    unsigned roles;
} vault_caller_t;

/* A resolved path: its storage tenant (borrowed from the path or static). */
typedef struct vault_path {
    const char *path; /* normalized: no leading/trailing '/', no empty segment */
    char tenant[128];
} vault_path_t;

/* --- policy.c --- */
/* vault__path_check: validates path (1..VAULT_MAX_PATH bytes of printable
 * characters, segments neither empty nor "." or "..") after stripping one
 * leading and trailing '/'; allow_empty for list prefixes. Writes the
 * normalized path into the arena. ERR_VALIDATION when malformed. */
int vault__path_check(arena_t *a, const char *raw, bool allow_empty, vault_path_t *out);
/* vault__authorize: ERR_NOT_FOUND when a tenant caller addresses another
 * tenant's path, ERR_FORBIDDEN when no policy of the caller's roles grants
 * cap on the path, else 0. */
int vault__authorize(const vault_caller_t *c, const vault_path_t *p, unsigned cap);
/* vault__caps: the capabilities the caller's policies grant on path. */
unsigned vault__caps(const vault_caller_t *c, const char *path);
/* vault__is_platform: the caller has a platform role. */
bool vault__is_platform(const vault_caller_t *c);

/* --- keys.c --- */
/* vault__master_set: installs a 32-byte master key (copied). */
void vault__master_set(const unsigned char key[32]);
/* vault__data_key: the storage tenant's data key into key (32 bytes),
 * creating it (and the key-check value) when create and absent. Inside the
 * caller's transaction. ERR_NOT_FOUND when absent and !create; ERR_INTERNAL
 * when it does not unwrap with the master key. */
int vault__data_key(db_t *db, const char *tenant, bool create, unsigned char key[32]);
/* vault__seal/open: AEAD of plaintext under key with associated data
 * (tenant, path, version); the stored text is base64(nonce || ciphertext).
 * seal returns a heap string; open a heap buffer (NUL-terminated, length
 * in *len) the caller wipes with vault_secret_free. */
char *vault__seal(const unsigned char key[32], const char *tenant, const char *path,
                  int64_t version, const char *plain, size_t len);
int vault__open(const unsigned char key[32], const char *tenant, const char *path,
                int64_t version, const char *stored, char **plain, size_t *len);
/* vault__key_check_new / _ok: the key-check value for a master key. */
char *vault__key_check_new(const unsigned char master[32]);
bool vault__key_check_ok(const unsigned char master[32], const char *stored);
/* vault__wrap/unwrap: a data key under a master key (AD = tenant). */
char *vault__wrap(const unsigned char master[32], const char *tenant, const unsigned char dk[32]);
int vault__unwrap(const unsigned char master[32], const char *tenant, const char *wrapped,
                  unsigned char dk[32]);
/* vault__master_get: copies the current master key; false when none. */
bool vault__master_get(unsigned char out[32]);
/* vault__master_reload (vault.c): re-reads the master key from its source
 * (the key file may have been rotated by `bizosaas admin`). */
int vault__master_reload(void);
/* vault__cache_clear: wipes and forgets the master key and cached data keys. */
void vault__cache_clear(void);

/* --- audit.c --- */
/* vault__audit_lock: takes the chain head of tenant for update (first thing
 * in a read transaction, so SQLite takes the write lock before reading). */
int vault__audit_lock(db_t *db, const char *tenant);
/* vault__audit_append: appends one entry (time now) to tenant's chain. */
int vault__audit_append(db_t *db, const char *tenant, const char *actor, const char *op,
                        const char *path, const char *result);

/* --- kv.c: the operations; every one runs in the caller's transaction --- */
typedef struct vault_version_info {
    int64_t version;
    const char *created_at, *deleted_at; /* arena strings; deleted_at NULL when live */
    bool destroyed;
} vault_version_info_t;

int vault__kv_read(db_t *db, arena_t *a, const vault_path_t *p, int64_t version, char **plain,
                   size_t *len, vault_version_info_t *info);
/* vault__kv_write: cas < 0 means none. ERR_CONFLICT on a cas mismatch,
 * ERR_PRECONDITION when the path requires cas and none was given. */
int vault__kv_write(db_t *db, arena_t *a, const vault_path_t *p, const char *plain, size_t len,
                    int64_t cas, vault_version_info_t *info);
/* vault__kv_exists: 1 when the path has metadata, 0 when not, <0. */
int vault__kv_exists(db_t *db, const vault_path_t *p);
/* vault__kv_versions_op: "delete", "undelete" or "destroy" on versions
 * (nv == 0: the current version). ERR_NOT_FOUND when the path is absent. */
int vault__kv_versions_op(db_t *db, const vault_path_t *p, const char *op, const int64_t *v,
                          size_t nv);
/* vault__kv_metadata: the path's metadata as JSON (new reference). */
int vault__kv_metadata(db_t *db, arena_t *a, const vault_path_t *p, json_t **out);
int vault__kv_metadata_set(db_t *db, const vault_path_t *p, int64_t max_versions, int cas_required);
int vault__kv_metadata_delete(db_t *db, const vault_path_t *p);
/* vault__kv_list: every path under prefix visible to the caller's
 * transaction and permitted by its policies (read or list). A new array of
 * full paths in *out. */
int vault__kv_list(db_t *db, const vault_caller_t *c, const char *prefix, json_t **out);

#endif

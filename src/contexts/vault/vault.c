/* vault.c — the vault's lifecycle (master key loading and checking), its C
 * API for other contexts, master-key rotation and the `bizosaas admin`
 * commands (see vault.h).
 *
 * Master key source, in order: BIZOSAAS_MASTER_KEY (64 hex characters), else
 * DATA_DIR/master.key (64 hex characters, mode 0600), generated on the first
 * start outside production. If the database holds a key-check value that
 * the key does not open, DATA_DIR/master.key.new (left by a rotation that
 * was interrupted between its commit and its rename) is tried; otherwise
 * the process refuses to start.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "vault_internal.h"

static const config_t *g_cfg;

static bool from_env(const config_t *cfg) { return cfg->master_key && *cfg->master_key; }

static int key_path(const config_t *cfg, const char *suffix, char *out, size_t n)
{
    int w = snprintf(out, n, "%s/master.key%s", cfg->data_dir, suffix);
    return w < 0 || (size_t)w >= n ? ERR_CONFIG : 0;
}

static int parse_hex_key(const char *hex, unsigned char key[32])
{
    size_t n = strlen(hex);
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' ')) n--;
    size_t bin = 0;
    if (n != 64 || sodium_hex2bin(key, 32, hex, n, NULL, &bin, NULL) != 0 || bin != 32)
        return ERR_CONFIG;
    return 0;
}

static int read_key_file(const char *path, unsigned char key[32])
{
    char buf[130] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    int rc = n > 0 ? parse_hex_key(buf, key) : ERR_CONFIG;
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* write_key_file: writes key as hex to path (mode 0600, fsynced). */
static int write_key_file(const char *path, const unsigned char key[32], bool exclusive)
{
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, key, 32);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0600);
    int rc = 0;
    if (fd < 0 || write(fd, hex, 64) != 64 || fsync(fd) != 0) rc = ERR_IO;
    if (fd >= 0) close(fd);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

/* load_master: the configured key, or the key file (generated if allowed). */
static int load_master(const config_t *cfg, unsigned char key[32], bool generate)
{
    if (from_env(cfg)) {
        if (parse_hex_key(cfg->master_key, key) < 0) {
            log_error("vault: BIZOSAAS_MASTER_KEY must be 64 hexadecimal characters (32 bytes)");
            return ERR_CONFIG;
        }
        return 0;
    }
    char path[4096];
    if (key_path(cfg, "", path, sizeof path) < 0) return ERR_CONFIG;
    int rc = read_key_file(path, key);
    if (rc == 0) return 0;
    if (rc != ERR_NOT_FOUND || !generate) {
        log_error("vault: cannot read the master key file %s (64 hexadecimal characters expected)",
                  path);
        return ERR_CONFIG;
    }
    if (!config_is_dev(cfg)) {
        log_error("vault: no master key: set BIZOSAAS_MASTER_KEY or provision %s (production "
                  "does not generate one)",
                  path);
        return ERR_CONFIG;
    }
    mkdir(cfg->data_dir, 0700);
    randombytes_buf(key, 32);
    if (write_key_file(path, key, true) < 0) {
        log_error("vault: cannot write %s: %s", path, strerror(errno));
        return ERR_CONFIG;
    }
    log_info("vault: generated a new master key in %s (mode 0600); back it up", path);
    return 0;
}

int vault__master_reload(void)
{
    if (!g_cfg || from_env(g_cfg)) return ERR_CONFIG;
    unsigned char key[32];
    char path[4096];
    if (key_path(g_cfg, "", path, sizeof path) < 0 || read_key_file(path, key) < 0) return ERR_CONFIG;
    vault__master_set(key);
    sodium_memzero(key, sizeof key);
    log_info("vault: reloaded the master key from %s", path);
    return 0;
}

/* stored_check: the database's key-check value (NULL when none yet). */
static int stored_check(db_t *db, char **check)
{
    int rc = db_begin_platform(db, false);
    if (rc < 0) return rc;
    rc = db_query_one_text(db, check, "SELECT key_check FROM vault_master WHERE id = 1", DB_NOARGS);
    db_rollback(db);
    return rc == ERR_NOT_FOUND ? 0 : rc;
}

int vault_start(const config_t *cfg, db_t *db)
{
    g_cfg = cfg;
    unsigned char key[32];
    int rc = load_master(cfg, key, true);
    if (rc < 0) return rc;
    char *check = NULL;
    rc = stored_check(db, &check);
    if (rc < 0) {
        sodium_memzero(key, sizeof key);
        log_error("vault: cannot read the key-check value: %s", db_errmsg(db));
        return rc;
    }
    if (check && !vault__key_check_ok(key, check)) {
        char next[4096];
        bool recovered = false;
        if (!from_env(cfg) && key_path(cfg, ".new", next, sizeof next) == 0 &&
            read_key_file(next, key) == 0 && vault__key_check_ok(key, check)) {
            char path[4096];
            key_path(cfg, "", path, sizeof path);
            recovered = rename(next, path) == 0;
            if (recovered) log_warn("vault: completed an interrupted master-key rotation (%s)", path);
        }
        if (!recovered) {
            sodium_memzero(key, sizeof key);
            free(check);
            log_error("vault: the master key does not match this database (key check failed); "
                      "refusing to start. Start with the master key the vault was created with "
                      "(BIZOSAAS_MASTER_KEY or %s/master.key)",
                      cfg->data_dir);
            return ERR_CONFIG;
        }
    }
    free(check);
    vault__master_set(key);
    sodium_memzero(key, sizeof key);
    return 0;
}

void vault_stop(void) { vault__cache_clear(); }

void vault_secret_free(char *secret)
{
    if (!secret) return;
    sodium_memzero(secret, strlen(secret));
    free(secret);
}

static int internal_path(arena_t *a, const char *tenant, const char *path, vault_path_t *p)
{
    char *full = arena_printf(a, "tenant/%s/%s", tenant, path);
    return vault__path_check(a, full, false, p);
}

int vault_secret_read(db_t *db, const char *tenant_id, const char *path, const char *actor,
                      char **out)
{
    *out = NULL;
    arena_t *a = arena_new();
    vault_path_t p;
    int rc = internal_path(a, tenant_id, path, &p);
    if (rc == 0) rc = vault__audit_lock(db, p.tenant);
    size_t len = 0;
    vault_version_info_t info;
    if (rc == 0) rc = vault__kv_read(db, a, &p, 0, out, &len, &info);
    if (rc != ERR_VALIDATION && rc != ERR_DB && rc != ERR_DB_UNAVAILABLE) {
        int arc = vault__audit_append(db, p.tenant, actor, "read", p.path,
                                      rc == 0 ? "ok" : err_api_code(rc));
        if (arc < 0 && rc == 0) {
            vault_secret_free(*out);
            *out = NULL;
            rc = arc;
        }
    }
    arena_free(a);
    return rc;
}

int vault_secret_write(db_t *db, const char *tenant_id, const char *path, const char *actor,
                       const char *data, int64_t *version_out)
{
    arena_t *a = arena_new();
    vault_path_t p;
    int rc = internal_path(a, tenant_id, path, &p);
    json_t *j = rc == 0 ? json_loads(data, 0, NULL) : NULL;
    if (rc == 0 && !json_is_object(j)) rc = ERR_VALIDATION;
    json_decref(j);
    vault_version_info_t info = {0};
    if (rc == 0) rc = vault__kv_write(db, a, &p, data, strlen(data), -1, &info);
    if (rc == 0) rc = vault__audit_append(db, p.tenant, actor, "create", p.path, "ok");
    if (rc == 0 && version_out) *version_out = info.version;
    arena_free(a);
    return rc;
}

int vault_rotate_master_key(db_t *db, const unsigned char new_key[32])
{
    unsigned char old[32], dk[32];
    if (!vault__master_get(old)) return ERR_CONFIG;
    int rc = db_begin_platform(db, true);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r, "SELECT tenant_id, wrapped FROM vault_keys ORDER BY tenant_id", DB_NOARGS);
    char **tenants = NULL, **wrapped = NULL;
    size_t n = 0;
    if (rc == 0) {
        int more;
        while ((more = db_res_next(r)) == 1) {
            tenants = xrealloc(tenants, (n + 1) * sizeof *tenants);
            wrapped = xrealloc(wrapped, (n + 1) * sizeof *wrapped);
            tenants[n] = xstrdup(db_res_text(r, 0));
            wrapped[n++] = xstrdup(db_res_text(r, 1));
        }
        rc = more < 0 ? more : 0;
        db_res_free(r);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = vault__unwrap(old, tenants[i], wrapped[i], dk);
        if (rc < 0) {
            log_kv(LOG_ERROR, "vault: a data key does not unwrap with the current master key",
                   "tenant_id", tenants[i], NULL);
            break;
        }
        char *w = vault__wrap(new_key, tenants[i], dk);
        sodium_memzero(dk, sizeof dk);
        rc = db_exec(db, NULL,
                     "UPDATE vault_keys SET wrapped = $2, rotated_at = CURRENT_TIMESTAMP "
                     "WHERE tenant_id = $1",
                     DB_ARGS(DB_TEXT(tenants[i]), DB_TEXT(w)));
        free(w);
    }
    if (rc == 0) {
        char *check = vault__key_check_new(new_key);
        rc = db_exec(db, NULL,
                     "INSERT INTO vault_master (id, key_check) VALUES (1, $1) ON CONFLICT (id) DO "
                     "UPDATE SET key_check = excluded.key_check, rotated_at = CURRENT_TIMESTAMP",
                     DB_ARGS(DB_TEXT(check)));
        free(check);
    }
    if (rc == 0) rc = db_commit(db);
    if (rc < 0) db_rollback(db);
    if (rc == 0) vault__master_set(new_key);
    for (size_t i = 0; i < n; i++) {
        free(tenants[i]);
        free(wrapped[i]);
    }
    free(tenants);
    free(wrapped);
    sodium_memzero(old, sizeof old);
    return rc;
}

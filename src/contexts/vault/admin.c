/* admin.c — `bizosaas admin rotate-master-key` and `bizosaas admin
 * verify-audit` (see vault_admin_main in vault.h).
 *
 * Rotation with the key file: the new key is written to master.key.new
 * first, the database is re-wrapped in one transaction, then master.key.new
 * replaces master.key. Running servers keep working: their unwrapped data
 * keys do not change, and a server that meets a data key it has not cached
 * yet and cannot unwrap re-reads the key file once.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "log.h"
#include "vault_internal.h"

static int open_db(const config_t *cfg, db_t **db)
{
    char err[512];
    db_options_t o = {.connect_timeout_ms = (int)cfg->db_timeout_ms * 5};
    if (db_open(cfg->database_url, &o, db, err, sizeof err) < 0) {
        fprintf(stderr, "bizosaas admin: cannot open the database: %s\n", err);
        return -1;
    }
    return 0;
}

static int rotate(const config_t *cfg, db_t *db, const char *new_hex)
{
    bool env = cfg->master_key && *cfg->master_key;
    if (env && !new_hex) {
        fputs("bizosaas admin: BIZOSAAS_MASTER_KEY is set: give the new key with --new-key HEX "
              "(64 hexadecimal characters), then set it in every process's environment\n",
              stderr);
        return 2;
    }
    unsigned char key[32];
    if (new_hex) {
        size_t bin = 0;
        if (strlen(new_hex) != 64 || sodium_hex2bin(key, 32, new_hex, 64, NULL, &bin, NULL) != 0 ||
            bin != 32) {
            fputs("bizosaas admin: --new-key must be 64 hexadecimal characters\n", stderr);
            return 2;
        }
    } else {
        randombytes_buf(key, sizeof key);
    }
    char path[4096], next[4096];
    snprintf(path, sizeof path, "%s/master.key", cfg->data_dir);
    snprintf(next, sizeof next, "%s/master.key.new", cfg->data_dir);
    int rc = 0;
    if (!env) {
        char hex[65];
        sodium_bin2hex(hex, sizeof hex, key, 32);
        FILE *f = NULL;
        umask(077);
        f = fopen(next, "w");
        if (!f || fputs(hex, f) < 0 || fflush(f) != 0) rc = ERR_IO;
        if (f) fclose(f);
        sodium_memzero(hex, sizeof hex);
        if (rc < 0) {
            fprintf(stderr, "bizosaas admin: cannot write %s\n", next);
            sodium_memzero(key, sizeof key);
            return 1;
        }
        chmod(next, 0600);
    }
    rc = vault_rotate_master_key(db, key);
    sodium_memzero(key, sizeof key);
    if (rc < 0) {
        fprintf(stderr, "bizosaas admin: rotation failed (%s): %s; nothing was changed\n",
                err_api_code(rc), db_errmsg(db));
        if (!env) remove(next);
        return 1;
    }
    if (!env && rename(next, path) != 0) {
        fprintf(stderr, "bizosaas admin: rotated, but cannot rename %s to %s; the next start completes it\n",
                next, path);
        return 1;
    }
    printf("master key rotated; every data key re-wrapped%s\n",
           env ? " (now set BIZOSAAS_MASTER_KEY to the new key everywhere)" : "");
    return 0;
}

int vault_admin_main(int argc, char **argv, const config_t *cfg)
{
    if (argc < 3) {
        fputs("usage: bizosaas admin rotate-master-key [--new-key HEX] | verify-audit\n", stderr);
        return 2;
    }
    const char *cmd = argv[2];
    const char *new_hex = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--new-key") && i + 1 < argc) {
            new_hex = argv[++i];
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            i++; /* read by main */
        } else {
            fprintf(stderr, "bizosaas admin: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    bool is_rotate = strcmp(cmd, "rotate-master-key") == 0;
    if (!is_rotate && strcmp(cmd, "verify-audit") != 0) {
        fprintf(stderr, "bizosaas admin: unknown command %s\n", cmd);
        return 2;
    }
    db_t *db;
    if (open_db(cfg, &db) < 0) return 1;
    int code;
    if (is_rotate) {
        code = vault_start(cfg, db) < 0 ? 1 : rotate(cfg, db, new_hex);
        vault_stop();
    } else {
        int rc = vault_audit_verify(db, stdout);
        if (rc == 0) puts("audit log intact");
        else if (rc == ERR_CONFLICT) puts("audit log TAMPERED");
        else fprintf(stderr, "bizosaas admin: cannot read the audit log: %s\n", db_errmsg(db));
        code = rc == 0 ? 0 : 1;
    }
    db_close(db);
    return code;
}

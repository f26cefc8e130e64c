/* keys.c — the vault's key hierarchy: master key → per-tenant data keys →
 * sealed values (libsodium XChaCha20-Poly1305 IETF).
 *
 * Stored forms are base64 (URL-safe, no padding) of nonce || ciphertext.
 * Associated data binds each ciphertext to where it belongs:
 *   data key  "bizosaas-vault-dk\n<tenant>"
 *   value     "bizosaas-vault-v\n<tenant>\n<path>\n<version>"
 *   key check "bizosaas-vault-check" (plaintext: a fixed constant)
 *
 * Unwrapped data keys are cached in memory (a small table under a mutex,
 * wiped on vault_stop). Only keys read from a row that existed before this
 * transaction are cached: a key created by a transaction that later rolls
 * back must not outlive it. Rotation does not change data keys, so the
 * cache stays valid across a master-key rotation by another process; a
 * key that does not unwrap makes keys.c reload the master key (vault.c's
 * reload hook) once before giving up.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "vault_internal.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define CACHE_MAX 1024
#define CHECK_PLAIN "bizosaas vault key check v1"

typedef struct cached {
    char tenant[128];
    unsigned char key[VAULT_KEY_BYTES];
} cached_t;

static struct {
    pthread_mutex_t mu;
    bool have_master;
    unsigned char master[VAULT_KEY_BYTES];
    cached_t *cache;
    size_t n;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

void vault__master_set(const unsigned char key[32])
{
    pthread_mutex_lock(&g.mu);
    memcpy(g.master, key, VAULT_KEY_BYTES);
    g.have_master = true;
    pthread_mutex_unlock(&g.mu);
}

bool vault__master_get(unsigned char out[32])
{
    pthread_mutex_lock(&g.mu);
    bool ok = g.have_master;
    if (ok) memcpy(out, g.master, VAULT_KEY_BYTES);
    pthread_mutex_unlock(&g.mu);
    return ok;
}

void vault__cache_clear(void)
{
    pthread_mutex_lock(&g.mu);
    if (g.cache) sodium_memzero(g.cache, g.n * sizeof *g.cache);
    free(g.cache);
    g.cache = NULL;
    g.n = 0;
    sodium_memzero(g.master, sizeof g.master);
    g.have_master = false;
    pthread_mutex_unlock(&g.mu);
}

static bool cache_get(const char *tenant, unsigned char key[32])
{
    bool hit = false;
    pthread_mutex_lock(&g.mu);
    for (size_t i = 0; i < g.n; i++) {
        if (strcmp(g.cache[i].tenant, tenant) == 0) {
            memcpy(key, g.cache[i].key, VAULT_KEY_BYTES);
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&g.mu);
    return hit;
}

static void cache_put(const char *tenant, const unsigned char key[32])
{
    if (strlen(tenant) >= sizeof g.cache[0].tenant) return;
    pthread_mutex_lock(&g.mu);
    if (!g.cache) g.cache = xcalloc(CACHE_MAX, sizeof *g.cache);
    if (g.n == CACHE_MAX) { /* simplest eviction: start over */
        sodium_memzero(g.cache, g.n * sizeof *g.cache);
        g.n = 0;
    }
    snprintf(g.cache[g.n].tenant, sizeof g.cache[g.n].tenant, "%s", tenant);
    memcpy(g.cache[g.n].key, key, VAULT_KEY_BYTES);
    g.n++;
    pthread_mutex_unlock(&g.mu);
}

static char *seal_ad(const unsigned char key[32], const char *ad, const unsigned char *plain,
                     size_t len)
{
    size_t blen = NONCE + len + ABYTES;
    unsigned char *buf = xmalloc(blen);
    randombytes_buf(buf, NONCE);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE, &clen, plain, len,
                                               (const unsigned char *)ad, strlen(ad), NULL, buf, key);
    size_t olen = sodium_base64_encoded_len(blen, B64);
    char *out = xmalloc(olen);
    sodium_bin2base64(out, olen, buf, blen, B64);
    free(buf);
    return out;
}

/* open_ad: returns a heap buffer of *len bytes plus a NUL, or NULL. */
static unsigned char *open_ad(const unsigned char key[32], const char *ad, const char *stored,
                              size_t *len)
{
    size_t sl = strlen(stored);
    unsigned char *bin = xmalloc(sl + 1);
    size_t blen;
    if (sodium_base642bin(bin, sl + 1, stored, sl, NULL, &blen, NULL, B64) != 0 ||
        blen < NONCE + ABYTES) {
        free(bin);
        return NULL;
    }
    unsigned char *plain = xmalloc(blen - NONCE - ABYTES + 1);
    unsigned long long pl;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &pl, NULL, bin + NONCE, blen - NONCE,
                                                   (const unsigned char *)ad, strlen(ad), bin,
                                                   key) != 0) {
        free(bin);
        free(plain);
        return NULL;
    }
    free(bin);
    plain[pl] = '\0';
    *len = (size_t)pl;
    return plain;
}

static void dk_ad(char *ad, size_t n, const char *tenant)
{
    snprintf(ad, n, "bizosaas-vault-dk\n%s", tenant);
}

char *vault__wrap(const unsigned char master[32], const char *tenant, const unsigned char dk[32])
{
    char ad[256];
    dk_ad(ad, sizeof ad, tenant);
    return seal_ad(master, ad, dk, VAULT_KEY_BYTES);
}

int vault__unwrap(const unsigned char master[32], const char *tenant, const char *wrapped,
                  unsigned char dk[32])
{
    char ad[256];
    dk_ad(ad, sizeof ad, tenant);
    size_t len = 0;
    unsigned char *k = open_ad(master, ad, wrapped, &len);
    if (!k) return ERR_INTERNAL;
    int rc = len == VAULT_KEY_BYTES ? 0 : ERR_INTERNAL;
    if (rc == 0) memcpy(dk, k, VAULT_KEY_BYTES);
    sodium_memzero(k, len);
    free(k);
    return rc;
}

char *vault__key_check_new(const unsigned char master[32])
{
    return seal_ad(master, "bizosaas-vault-check", (const unsigned char *)CHECK_PLAIN,
                   sizeof CHECK_PLAIN - 1);
}

bool vault__key_check_ok(const unsigned char master[32], const char *stored)
{
    size_t len = 0;
    unsigned char *p = open_ad(master, "bizosaas-vault-check", stored, &len);
    bool ok = p && len == sizeof CHECK_PLAIN - 1 && memcmp(p, CHECK_PLAIN, len) == 0;
    free(p);
    return ok;
}

static void value_ad(char *ad, size_t n, const char *tenant, const char *path, int64_t version)
{
    snprintf(ad, n, "bizosaas-vault-v\n%s\n%s\n%lld", tenant, path, (long long)version);
}

char *vault__seal(const unsigned char key[32], const char *tenant, const char *path,
                  int64_t version, const char *plain, size_t len)
{
    char ad[VAULT_MAX_PATH + 256];
    value_ad(ad, sizeof ad, tenant, path, version);
    return seal_ad(key, ad, (const unsigned char *)plain, len);
}

int vault__open(const unsigned char key[32], const char *tenant, const char *path,
                int64_t version, const char *stored, char **plain, size_t *len)
{
    char ad[VAULT_MAX_PATH + 256];
    value_ad(ad, sizeof ad, tenant, path, version);
    unsigned char *p = open_ad(key, ad, stored, len);
    if (!p) return ERR_INTERNAL;
    *plain = (char *)p;
    return 0;
}

/* unwrap_current: unwraps with the loaded master key, reloading it once. */
static int unwrap_current(const char *tenant, const char *wrapped, unsigned char dk[32])
{
    unsigned char m[VAULT_KEY_BYTES];
    int rc = ERR_CONFIG;
    for (int pass = 0; pass < 2; pass++) {
        if (!vault__master_get(m)) break;
        rc = vault__unwrap(m, tenant, wrapped, dk);
        if (rc == 0 || pass == 1 || vault__master_reload() < 0) break;
    }
    sodium_memzero(m, sizeof m);
    return rc;
}

int vault__data_key(db_t *db, const char *tenant, bool create, unsigned char key[32])
{
    if (cache_get(tenant, key)) return 0;
    char *wrapped = NULL;
    int rc = db_query_one_text(db, &wrapped, "SELECT wrapped FROM vault_keys WHERE tenant_id = $1",
                               DB_ARGS(DB_TEXT(tenant)));
    bool existed = rc == 0;
    if (rc == ERR_NOT_FOUND && create) {
        unsigned char m[VAULT_KEY_BYTES], dk[VAULT_KEY_BYTES];
        if (!vault__master_get(m)) return ERR_CONFIG;
        randombytes_buf(dk, sizeof dk);
        char *w = vault__wrap(m, tenant, dk);
        char *check = vault__key_check_new(m);
        sodium_memzero(m, sizeof m);
        sodium_memzero(dk, sizeof dk);
        rc = db_exec(db, NULL,
                     "INSERT INTO vault_master (id, key_check) VALUES (1, $1) ON CONFLICT DO NOTHING",
                     DB_ARGS(DB_TEXT(check)));
        if (rc == 0)
            rc = db_exec(db, NULL,
                         "INSERT INTO vault_keys (tenant_id, wrapped) VALUES ($1, $2) "
                         "ON CONFLICT DO NOTHING",
                         DB_ARGS(DB_TEXT(tenant), DB_TEXT(w)));
        free(w);
        free(check);
        /* read back: a concurrent creator may have won */
        if (rc == 0)
            rc = db_query_one_text(db, &wrapped, "SELECT wrapped FROM vault_keys WHERE tenant_id = $1",
                                   DB_ARGS(DB_TEXT(tenant)));
    }
    if (rc < 0) return rc;
    rc = unwrap_current(tenant, wrapped, key);
    free(wrapped);
    if (rc < 0) {
        log_kv(LOG_ERROR, "vault: a data key does not unwrap with the master key", "tenant_id",
               tenant, NULL);
        return ERR_INTERNAL;
    }
    if (existed) cache_put(tenant, key);
    return 0;
}

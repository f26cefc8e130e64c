/* jwks.c — ES256 key loading and the published key set (see jwks.h). The
 * key table is filled once at startup and read-only afterwards. */
#include "jwks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define JWKS_MAX_KEYS 8
#define PEM_MAX 65536

static auth_es256_key_t *keys[JWKS_MAX_KEYS];
static size_t nkeys;

static void free_keys(void)
{
    for (size_t i = 0; i < nkeys; i++)
        auth_es256_key_free(keys[i]);
    nkeys = 0;
}

static int load_file(const char *path, char *err, size_t errlen)
{
    if (nkeys == JWKS_MAX_KEYS) {
        snprintf(err, errlen, "at most %d ES256 keys", JWKS_MAX_KEYS);
        return ERR_CONFIG;
    }
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read ES256 key file %s", path);
        return ERR_CONFIG;
    }
    char *pem = malloc(PEM_MAX);
    size_t n = pem ? fread(pem, 1, PEM_MAX, f) : 0;
    fclose(f);
    int rc = ERR_CONFIG;
    if (pem && n > 0 && n < PEM_MAX) rc = auth_es256_key_load(pem, n, &keys[nkeys]);
    if (pem) {
        memset(pem, 0, PEM_MAX); /* it may hold a private key */
        free(pem);
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s is not a PEM EC P-256 key", path);
        return rc;
    }
    nkeys++;
    return 0;
}

int jwks_load(const config_t *cfg, auth_config_t *auth, char *err, size_t errlen)
{
    if (!cfg->jwt_es256_key_file || !*cfg->jwt_es256_key_file) return 0;
    static bool registered;
    if (!registered) {
        atexit(free_keys);
        registered = true;
    }
    int rc = load_file(cfg->jwt_es256_key_file, err, errlen);
    if (rc < 0) return rc;
    if (!auth_es256_can_sign(keys[0])) {
        snprintf(err, errlen, "%s holds no private key", cfg->jwt_es256_key_file);
        return ERR_CONFIG;
    }
    const char *list = cfg->jwt_es256_old_keys ? cfg->jwt_es256_old_keys : "";
    while (*list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        char path[4096];
        if (len >= sizeof path) {
            snprintf(err, errlen, "an ES256 key path is too long");
            return ERR_CONFIG;
        }
        memcpy(path, list, len);
        path[len] = '\0';
        if (len && (rc = load_file(path, err, errlen)) < 0) return rc;
        list += len + (comma ? 1 : 0);
    }
    auth->es256_keys = (const auth_es256_key_t *const *)keys;
    auth->es256_nkeys = nkeys;
    auth->es256_signer = keys[0];
    return 0;
}

json_t *jwks_document(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < nkeys; i++) {
        char jwk[512];
        if (auth_es256_jwk(keys[i], jwk, sizeof jwk) == 0)
            json_array_append_new(arr, json_loads(jwk, 0, NULL));
    }
    return json_pack("{s:o}", "keys", arr);
}

/* jwks.h — ES256 signing keys and the JSON Web Key Set published at
 * /.well-known/jwks.json.
 *
 * With BIZOSAAS_JWT_ES256_KEY_FILE set, access tokens are signed with ES256
 * under that key (its kid is its RFC 7638 thumbprint); the keys listed in
 * BIZOSAAS_JWT_ES256_OLD_KEY_FILES stay accepted and published, so a key
 * can be rotated without logging anyone out: add the new key, move the
 * old one to the list, remove it once its last token expired (1 h). With
 * no key the set is empty: HS256 tokens are verified with the shared
 * secret, which is never published. */
#ifndef BZ_IDENTITY_JWKS_H
#define BZ_IDENTITY_JWKS_H

#include <jansson.h>

#include "auth.h"
#include "config.h"

/* jwks_load: loads the configured keys and points auth's ES256 fields at
 * them (the keys live until exit). Returns 0, or ERR_CONFIG with a message
 * in err (naming the file, never key material). Call once at startup. */
int jwks_load(const config_t *cfg, auth_config_t *auth, char *err, size_t errlen);
/* jwks_document: a new {"keys": [...]} object; the caller owns it. */
json_t *jwks_document(void);

#endif

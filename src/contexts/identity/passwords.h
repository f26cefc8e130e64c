/* passwords.h — password policy and argon2id hashing (no I/O).
 *
 * Hashes are libsodium's crypto_pwhash_str_alg() strings ("$argon2id$v=19$
 * m=19456,t=2,p=1$salt$hash"), so the parameters travel with each hash and
 * can be raised later (pw_needs_rehash) without invalidating old ones.
 *
 * Parameters: argon2id, memory 19 MiB (19456 KiB), 2 passes, 1 lane — the
 * minimum OWASP's Password Storage Cheat Sheet recommends for argon2id
 * (m=19 MiB, t=2, p=1). Verifying takes tens of milliseconds on purpose;
 * it runs on worker threads, never on an I/O thread. */
#ifndef BZ_IDENTITY_PASSWORDS_H
#define BZ_IDENTITY_PASSWORDS_H

#include <stdbool.h>
#include <stddef.h>

#define PW_OPSLIMIT 2ULL
#define PW_MEMLIMIT (19ULL * 1024 * 1024)
#define PW_MIN_LEN 10
#define PW_MAX_LEN 128
/* Room for a hash string (crypto_pwhash_STRBYTES). */
#define PW_HASH_MAX 128

/* pw_policy_invalid: NULL when password is acceptable: 10..128 bytes, not
 * one of the common passwords (case-insensitive), and not the e-mail
 * address or its local part (email may be NULL). */
const char *pw_policy_invalid(const char *password, const char *email);
/* pw_is_common: true when password (case-insensitively) is on the built-in
 * list of the most common passwords. */
bool pw_is_common(const char *password);
/* pw_hash: writes the argon2id hash string of password into out. Returns 0,
 * or ERR_INTERNAL when libsodium cannot allocate the memory it needs. */
int pw_hash(const char *password, char out[PW_HASH_MAX]);
/* pw_verify: true when password matches hash (timing-safe). A NULL hash
 * (no password set) still spends the time of one verification and fails,
 * so unknown accounts cannot be told apart by timing. */
bool pw_verify(const char *hash, const char *password);
/* pw_needs_rehash: true when hash was made with other parameters. */
bool pw_needs_rehash(const char *hash);
/* pw_generate: a random password of 20 characters from an unambiguous
 * alphabet (about 110 bits) into out[21]. */
void pw_generate(char out[21]);

#endif

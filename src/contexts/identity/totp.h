/* totp.h — time-based one-time passwords (RFC 6238) and recovery codes
 * (no I/O).
 *
 * TOTP: HMAC-SHA1 over the 30-second time step (RFC 4226 dynamic
 * truncation), 6 digits, secrets of 20 random bytes exchanged as base32
 * without padding — what authenticator apps expect from an otpauth:// URI.
 * Verification accepts the current step and one step either side (clock
 * drift) and compares in constant time. */
#ifndef BZ_IDENTITY_TOTP_H
#define BZ_IDENTITY_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_BYTES 20
#define TOTP_SECRET_B32_LEN 32 /* base32 of 20 bytes, no padding */
#define TOTP_STEP_S 30
#define TOTP_DIGITS 6
#define RECOVERY_CODES 10
#define RECOVERY_CODE_LEN 11 /* "xxxxx-xxxxx" */

/* totp_at: the code (digits wide) of key[0..n) at time step counter. */
uint32_t totp_at(const unsigned char *key, size_t n, uint64_t counter, int digits);
/* totp_new_secret: a fresh random secret as base32 into out[33]. */
void totp_new_secret(char out[TOTP_SECRET_B32_LEN + 1]);
/* totp_b32_decode: decodes base32 text (A-Z2-7, case-insensitive, no
 * padding) into out (cap bytes); returns the length or -1. */
int totp_b32_decode(const char *s, unsigned char *out, size_t cap);
/* totp_b32_encode: base32 of data[0..n) without padding into out (needs
 * ceil(n*8/5)+1 bytes). */
void totp_b32_encode(const unsigned char *data, size_t n, char *out);
/* totp_verify: true when code (a string of TOTP_DIGITS digits) is valid
 * for the base32 secret at unix time now, allowing +-1 step. */
bool totp_verify(const char *secret_b32, const char *code, int64_t now);
/* totp_verify_step: totp_verify that also stores the time step the code
 * belongs to in *matched (when non-NULL), so a caller can refuse a second
 * use of the same code (RFC 6238 §5.2). */
bool totp_verify_step(const char *secret_b32, const char *code, int64_t now, uint64_t *matched);
/* totp_uri: "otpauth://totp/<issuer>:<account>?secret=...&issuer=...&
 * algorithm=SHA1&digits=6&period=30" (issuer and account percent-encoded)
 * into out (cap bytes); false when it does not fit. */
bool totp_uri(const char *issuer, const char *account, const char *secret_b32, char *out,
              size_t cap);
/* recovery_code_new: a random code "xxxxx-xxxxx" (lower-case base32, 50
 * bits) into out[12]. */
void recovery_code_new(char out[RECOVERY_CODE_LEN + 1]);
/* recovery_code_normalize: the canonical form of user input (lower case,
 * blanks removed, the dash re-inserted) into out[12]; false when the input
 * cannot be a recovery code. */
bool recovery_code_normalize(const char *in, char out[RECOVERY_CODE_LEN + 1]);

#endif

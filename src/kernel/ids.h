/* ids.h — identifiers: UUIDv7 entity ids, request ids, random hex tokens.
 *
 * Every entity id in bizosaas is a UUIDv7 string (RFC 9562): the first 48
 * bits are the unix time in milliseconds, so ids sort by creation time and
 * B-tree indexes stay append-mostly. Ids from one process are strictly
 * increasing — also as strings — even when many are made in one millisecond.
 * Randomness comes from libsodium (getrandom(2)); the module initialises
 * libsodium itself, once, thread-safely. */
#ifndef BZ_IDS_H
#define BZ_IDS_H

#include <stdbool.h>
#include <stddef.h>

/* Length of a UUID in canonical text form, without the NUL. */
#define ID_UUID_LEN 36
/* Longest client-supplied X-Request-ID we accept (bytes). */
#define ID_REQUEST_ID_MAX 128

/* id_uuidv7: writes a new UUIDv7 as 36 lower-case characters plus a NUL into
 * out. Thread-safe. Successive calls in one process return strictly
 * increasing values (byte-wise string order), even if the wall clock steps
 * back; within one millisecond the 12-bit rand_a field is a counter seeded
 * randomly each millisecond (RFC 9562 §6.2, method 1), and when it overflows
 * the timestamp is advanced by one millisecond. The low 62 bits are fresh
 * random bits on every call. Aborts if libsodium cannot be initialised. */
void id_uuidv7(char out[static ID_UUID_LEN + 1]);

/* id_is_uuid: true when s[0..n) is exactly a UUID in canonical lower-case
 * form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (any version). Upper-case hex is
 * refused on purpose: ids are compared as text in SQL, so an upper-case
 * spelling of a stored id would silently match nothing; refusing it turns
 * that into a clear validation error. s may be NULL when n is 0. */
bool id_is_uuid(const char *s, size_t n);

/* id_request_id_ok: true when an incoming X-Request-ID value s[0..n) is
 * 1..ID_REQUEST_ID_MAX bytes of [A-Za-z0-9._:-]; such a value is safe to echo
 * in a header and to write in a log line. Otherwise the server replaces it
 * with a fresh UUIDv7. s may be NULL when n is 0. */
bool id_request_id_ok(const char *s, size_t n);

/* id_random_hex: fills out with nbytes random bytes written as 2*nbytes
 * lower-case hex characters plus a NUL; out must hold 2*nbytes+1 bytes.
 * Suitable for secrets (session tokens, generated keys): the bytes come from
 * the OS CSPRNG and the intermediate copy is wiped. Thread-safe. */
void id_random_hex(char *out, size_t nbytes);

#endif

/* ids.c — UUIDv7 generation, id and request-id validation, random hex.
 *
 * UUIDv7 layout (RFC 9562 §5.7), 128 bits, most significant first:
 *   unix_ts_ms:48 | ver:4 = 0111 | rand_a:12 | var:2 = 10 | rand_b:62
 * Monotonicity (§6.2 method 1, "fixed-length dedicated counter"): rand_a is a
 * counter. On the first id of a new millisecond it is seeded with 11 random
 * bits — the top bit left clear so at least 2048 ids fit in the millisecond
 * before overflow — and each further id of the same millisecond adds one.
 * When the counter would pass 0xFFF, or when the clock reads a time earlier
 * than the last id's (NTP step back), we keep using the last timestamp, and
 * on overflow advance it by one millisecond (§6.2 allows running ahead of
 * the clock). (timestamp, counter) is therefore strictly increasing, and
 * because both are fixed-width lower-case hex at the front of the text, so
 * is the string. One mutex guards the two state words; the random bytes are
 * drawn before taking it so the critical section is a few instructions. */
#include "ids.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start(void)
{
    if (sodium_init() < 0) {
        /* Without a CSPRNG no id or secret can be made safely. */
        fputs("{\"level\":\"fatal\",\"msg\":\"libsodium initialisation failed\"}\n", stderr);
        abort();
    }
}

static void ensure_sodium(void)
{
    pthread_once(&sodium_once, sodium_start);
}

static pthread_mutex_t v7_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t v7_last_ms; /* timestamp of the last id issued */
static unsigned v7_counter; /* rand_a of the last id issued, 0..0xFFF */

#define V7_COUNTER_MAX 0xFFFu
#define V7_TS_MASK ((UINT64_C(1) << 48) - 1)

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char hexdig[] = "0123456789abcdef";

/* take_random: n bytes from a per-thread pool refilled from the system
 * CSPRNG 1 KiB at a time — one getrandom(2) per ~100 ids instead of one per
 * id (a request id is made for every request). */
static void take_random(unsigned char *out, size_t n)
{
    static _Thread_local unsigned char pool[1024];
    static _Thread_local size_t pos = sizeof pool;
    if (sizeof pool - pos < n) {
        randombytes_buf(pool, sizeof pool);
        pos = 0;
    }
    memcpy(out, pool + pos, n);
    sodium_memzero(pool + pos, n); /* never hand out the same bytes twice */
    pos += n;
}

void id_uuidv7(char out[static ID_UUID_LEN + 1])
{
    ensure_sodium();
    unsigned char rnd[10]; /* 2 bytes counter seed + 8 bytes rand_b */
    take_random(rnd, sizeof rnd);
    unsigned seed = (((unsigned)rnd[0] << 8) | rnd[1]) & 0x7FFu;
    uint64_t clock_ms = now_ms();

    pthread_mutex_lock(&v7_lock);
    if (clock_ms > v7_last_ms) {
        v7_last_ms = clock_ms;
        v7_counter = seed;
    } else if (v7_counter < V7_COUNTER_MAX) {
        v7_counter++;
    } else {
        v7_last_ms++;
        v7_counter = seed;
    }
    uint64_t ms = v7_last_ms & V7_TS_MASK;
    unsigned counter = v7_counter;
    pthread_mutex_unlock(&v7_lock);

    unsigned char b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70u | (counter >> 8));
    b[7] = (unsigned char)(counter & 0xFFu);
    memcpy(b + 8, rnd + 2, 8);
    b[8] = (unsigned char)(0x80u | (b[8] & 0x3Fu));

    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hexdig[b[i] >> 4];
        *o++ = hexdig[b[i] & 0xFu];
    }
    *o = '\0';
}

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool id_is_uuid(const char *s, size_t n)
{
    if (n != ID_UUID_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_pos ? s[i] != '-' : !is_lower_hex(s[i])) return false;
    }
    return true;
}

bool id_request_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > ID_REQUEST_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

void id_random_hex(char *out, size_t nbytes)
{
    ensure_sodium();
    unsigned char chunk[64];
    char *o = out;
    while (nbytes > 0) {
        size_t k = nbytes < sizeof chunk ? nbytes : sizeof chunk;
        randombytes_buf(chunk, k);
        /* sodium_bin2hex is constant-time: the output may be a secret. It
         * NUL-terminates; the next chunk overwrites that NUL. */
        sodium_bin2hex(o, 2 * k + 1, chunk, k);
        o += 2 * k;
        nbytes -= k;
    }
    *o = '\0';
    sodium_memzero(chunk, sizeof chunk);
}

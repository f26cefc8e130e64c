/* totp.c — RFC 6238 TOTP with HMAC-SHA1 (OpenSSL), base32, recovery codes. */
#include "totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint32_t totp_at(const unsigned char *key, size_t n, uint64_t counter, int digits)
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    unsigned int len = 0;
    HMAC(EVP_sha1(), key, (int)n, msg, sizeof msg, mac, &len);
    int off = mac[len - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return bin % mod;
}

void totp_b32_encode(const unsigned char *data, size_t n, char *out)
{
    size_t o = 0;
    uint32_t buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out[o++] = b32[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

int totp_b32_decode(const char *s, unsigned char *out, size_t cap)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (; *s; s++) {
        char c = *s;
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        const char *p = c ? strchr(b32, c) : NULL;
        if (!p) return -1;
        buf = (buf << 5) | (uint32_t)(p - b32);
        bits += 5;
        if (bits >= 8) {
            if (o == cap) return -1;
            out[o++] = (unsigned char)((buf >> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return (int)o;
}

void totp_new_secret(char out[TOTP_SECRET_B32_LEN + 1])
{
    unsigned char key[TOTP_SECRET_BYTES];
    randombytes_buf(key, sizeof key);
    totp_b32_encode(key, sizeof key, out);
    sodium_memzero(key, sizeof key);
}

bool totp_verify_step(const char *secret_b32, const char *code, int64_t now, uint64_t *matched)
{
    if (!secret_b32 || !code || strlen(code) != TOTP_DIGITS || now < 0) return false;
    for (int i = 0; i < TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9') return false;
    unsigned char key[64];
    int n = totp_b32_decode(secret_b32, key, sizeof key);
    if (n <= 0) return false;
    uint64_t step = (uint64_t)now / TOTP_STEP_S;
    bool ok = false;
    /* every candidate is compared, so the time taken does not say which matched */
    for (int d = -1; d <= 1; d++) {
        char want[16];
        uint64_t s = step + (uint64_t)(int64_t)d;
        snprintf(want, sizeof want, "%0*u", TOTP_DIGITS, totp_at(key, (size_t)n, s, TOTP_DIGITS));
        bool hit = CRYPTO_memcmp(want, code, TOTP_DIGITS) == 0;
        if (hit && !ok && matched) *matched = s;
        ok |= hit;
    }
    sodium_memzero(key, sizeof key);
    return ok;
}

bool totp_verify(const char *secret_b32, const char *code, int64_t now)
{
    return totp_verify_step(secret_b32, code, now, NULL);
}

static bool pct_append(char *out, size_t cap, size_t *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
        if (*o + 4 >= cap) return false;
        if (plain) {
            out[(*o)++] = (char)c;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[c >> 4];
            out[(*o)++] = hex[c & 15];
        }
    }
    out[*o] = '\0';
    return true;
}

bool totp_uri(const char *issuer, const char *account, const char *secret, char *out, size_t cap)
{
    size_t o = 0;
    int n = snprintf(out, cap, "otpauth://totp/");
    if (n < 0 || (size_t)n >= cap) return false;
    o = (size_t)n;
    if (!pct_append(out, cap, &o, issuer) || o + 2 >= cap) return false;
    out[o++] = ':';
    out[o] = '\0';
    if (!pct_append(out, cap, &o, account)) return false;
    n = snprintf(out + o, cap - o, "?secret=%s&issuer=", secret);
    if (n < 0 || (size_t)n >= cap - o) return false;
    o += (size_t)n;
    if (!pct_append(out, cap, &o, issuer)) return false;
    n = snprintf(out + o, cap - o, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP_S);
    return n >= 0 && (size_t)n < cap - o;
}

void recovery_code_new(char out[RECOVERY_CODE_LEN + 1])
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    for (int i = 0; i < RECOVERY_CODE_LEN; i++)
        out[i] = i == 5 ? '-' : alpha[randombytes_uniform(32)];
    out[RECOVERY_CODE_LEN] = '\0';
}

bool recovery_code_normalize(const char *in, char out[RECOVERY_CODE_LEN + 1])
{
    char raw[10];
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if (c == ' ' || c == '-') continue;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) || n == sizeof raw) return false;
        raw[n++] = c;
    }
    if (n != sizeof raw) return false;
    memcpy(out, raw, 5);
    out[5] = '-';
    memcpy(out + 6, raw + 5, 5);
    out[RECOVERY_CODE_LEN] = '\0';
    return true;
}

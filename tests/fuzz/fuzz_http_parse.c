/* fuzz_http_parse.c — libFuzzer harness for the strict HTTP/1.1 parser.
 *
 * Input: one mode byte, then the bytes to parse.
 *   bit 0  small limits (request line 64, header bytes 128, 4 headers) so the
 *          limit paths are reached by short inputs; otherwise the defaults
 *   bit 1  the bytes are a chunked body, fed straight to the decoder;
 *          otherwise they are a stream of pipelined requests
 *   bit 2  max_body 16 instead of unlimited, for the chunked decoder
 * The split points are drawn from a hash of the whole input, so every input
 * replays the same way.
 *
 * Besides the sanitizers, the harness checks the contract (CHECK aborts):
 *  - results are 1, 0 or one of the documented errors, and an error has a
 *    message;
 *  - a complete head: head_len <= len, every view inside the head, method and
 *    target non-empty, path inside target, header names tokens, values free
 *    of CR/LF/NUL and of edge whitespace, framing rules (chunked implies
 *    HTTP/1.1 and no Content-Length, Host rules);
 *  - splitting never changes the answer: prefixes of the head give 0 or the
 *    same result, and a chunked body fed at random split points gives the
 *    same result, the same consumed count and the same decoded bytes as one
 *    call on the whole body; every call consumes <= its input, decodes <=
 *    what it consumed, consumes everything when it returns 0; total equals
 *    the decoded bytes and stays <= max_body.
 * Each call gets an exact-size heap copy so ASan sees any read past len.
 *
 * Built by scripts/fuzz.sh. Compiled with -DHP_FUZZ_MAIN (no libFuzzer) it is
 * a plain program that runs the files named on its command line, for
 * replaying a crash under gdb or valgrind. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static char *copy(const uint8_t *p, size_t n)
{
    char *b = malloc(n ? n : 1);
    CHECK(b != NULL);
    if (n) memcpy(b, p, n);
    return b;
}

static bool inside(str_t s, const char *base, size_t len)
{
    return s.p >= base && s.p <= base + len && s.n <= (size_t)(base + len - s.p);
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void check_head(const hp_head_t *h, const char *buf, size_t len, const hp_limits_t *lim)
{
    size_t max_headers = lim && lim->max_headers ? lim->max_headers : 100;
    size_t max_line = lim && lim->max_request_line ? lim->max_request_line : 8192;
    size_t max_hbytes = lim && lim->max_header_bytes ? lim->max_header_bytes : 16384;
    CHECK(h->head_len >= 16 && h->head_len <= len); /* "M / HTTP/1.0\r\n\r\n" */
    CHECK(buf[h->head_len - 1] == '\n' && buf[h->head_len - 2] == '\r');
    /* The limits hold: the request line starts at the method (after any
     * leading CRLFs) and holds no CR; the header lines fill the rest up to
     * the final CRLF. */
    size_t line0 = (size_t)(h->method.p - buf);
    const char *cr = memchr(h->method.p, '\r', h->head_len - line0);
    CHECK(cr != NULL);
    size_t line_len = (size_t)(cr - h->method.p);
    CHECK(line_len <= max_line);
    CHECK(h->head_len - (line0 + line_len + 2) - 2 <= max_hbytes);
    CHECK(h->version_minor == 0 || h->version_minor == 1);
    CHECK(h->nheaders <= max_headers);
    CHECK(h->method.n > 0 && h->target.n > 0);
    CHECK(inside(h->method, buf, h->head_len) && inside(h->target, buf, h->head_len));
    CHECK(inside(h->path, h->target.p, h->target.n));
    CHECK(inside(h->query, h->target.p, h->target.n));
    CHECK(h->path.n > 0);
    for (size_t i = 0; i < h->method.n; i++)
        CHECK(is_tchar((unsigned char)h->method.p[i]));
    for (size_t i = 0; i < h->target.n; i++) {
        unsigned char c = (unsigned char)h->target.p[i];
        CHECK(c > 0x20 && c < 0x7f);
    }
    int hosts = 0;
    for (size_t i = 0; i < h->nheaders; i++) {
        const hp_header_t *f = &h->headers[i];
        CHECK(f->name.n > 0 && inside(f->name, buf, h->head_len) &&
              inside(f->value, buf, h->head_len));
        for (size_t k = 0; k < f->name.n; k++)
            CHECK(is_tchar((unsigned char)f->name.p[k]));
        for (size_t k = 0; k < f->value.n; k++) {
            unsigned char c = (unsigned char)f->value.p[k];
            CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
        }
        if (f->value.n) {
            CHECK(f->value.p[0] != ' ' && f->value.p[0] != '\t');
            CHECK(f->value.p[f->value.n - 1] != ' ' && f->value.p[f->value.n - 1] != '\t');
        }
        if (str_ieq_cstr(f->name, "host")) hosts++;
    }
    CHECK(hosts <= 1 && (h->version_minor == 0 || hosts == 1));
    CHECK(hp_header_get(h, "host") != NULL || hosts == 0);
    if (h->chunked) CHECK(!h->has_content_length && h->version_minor == 1);
    if (h->has_content_length) CHECK(h->content_length <= (uint64_t)INT64_MAX);
    if (!h->has_content_length) CHECK(h->content_length == 0);
    if (h->expect_continue) CHECK(h->version_minor == 1);
}

/* Decodes a chunked body in one call and in random pieces; both must agree.
 * Returns the bytes the body took (0 if it did not complete). */
static size_t check_chunked(const uint8_t *p, size_t n, uint32_t *seed, uint64_t max_body,
                            const hp_limits_t *lim)
{
    /* One call on the whole body. */
    char *whole = copy(p, n);
    hp_chunked_t c1;
    hp_chunked_init(&c1);
    size_t used1 = n, out1 = 0;
    const char *em = NULL;
    int rc1 = hp_chunked_decode(&c1, whole, &used1, &out1, max_body, lim, &em);
    CHECK(rc1 == 0 || rc1 == 1 || rc1 == ERR_BAD_REQUEST || rc1 == ERR_TOO_LARGE ||
          rc1 == ERR_HEADERS_TOO_LARGE);
    CHECK(rc1 >= 0 || (em != NULL && em[0] != '\0'));
    CHECK(used1 <= n && out1 <= used1);
    CHECK(rc1 != 0 || used1 == n);
    CHECK(c1.total == out1 && c1.total <= max_body);
    if (rc1 == 1) {
        size_t more = n - used1, out = 1;
        CHECK(hp_chunked_decode(&c1, whole + used1, &more, &out, max_body, lim, NULL) == 1);
        CHECK(more == 0 && out == 0);
    }

    /* The same body in random pieces, each its own exact-size buffer. */
    char *decoded = malloc(n ? n : 1);
    CHECK(decoded != NULL);
    size_t dn = 0, off = 0;
    hp_chunked_t c2;
    hp_chunked_init(&c2);
    int rc2 = 0;
    do {
        size_t k = 1 + rng_next(seed) % 17;
        if (k > n - off) k = n - off;
        char *piece = copy(p + off, k);
        size_t used = k, out = 0;
        rc2 = hp_chunked_decode(&c2, piece, &used, &out, max_body, lim, NULL);
        CHECK(used <= k && out <= used);
        CHECK(rc2 != 0 || used == k);
        memcpy(decoded + dn, piece, out);
        dn += out;
        off += used;
        free(piece);
        CHECK(c2.total == dn && c2.total <= max_body);
    } while (rc2 == 0 && off < n);

    CHECK(rc2 == rc1);
    CHECK(off == used1);
    CHECK(dn == out1 && (dn == 0 || memcmp(decoded, whole, dn) == 0));
    free(decoded);
    free(whole);
    return rc1 == 1 ? used1 : 0;
}

/* Parses one head from p[0..n); returns its length, or 0 if it did not
 * complete. */
static size_t check_one_head(const uint8_t *p, size_t n, uint32_t *seed, const hp_limits_t *lim,
                             hp_head_t *h)
{
    char *buf = copy(p, n);
    const char *em = NULL;
    int rc = hp_parse_head(buf, n, lim, h, &em);
    CHECK(rc == 0 || rc == 1 || rc == ERR_BAD_REQUEST || rc == ERR_URI_TOO_LONG ||
          rc == ERR_HEADERS_TOO_LARGE || rc == ERR_NOT_IMPLEMENTED);
    CHECK(rc >= 0 || (em != NULL && em[0] != '\0'));
    size_t head_len = 0;
    if (rc == 1) {
        check_head(h, buf, n, lim);
        head_len = h->head_len;
    }
    free(buf);

    /* Prefixes: 0 until the answer is known, then the same answer. */
    static hp_head_t hp;
    for (int i = 0; i < 8 && n > 0; i++) {
        size_t k = rng_next(seed) % (n + 1);
        if (i == 0 && head_len) k = head_len - 1;
        if (i == 1 && head_len) k = head_len;
        char *pre = copy(p, k);
        int r = hp_parse_head(pre, k, lim, &hp, NULL);
        if (rc == 1) {
            CHECK(r == (k < head_len ? 0 : 1));
            if (r == 1) CHECK(hp.head_len == head_len);
        } else {
            CHECK(r == 0 || r == rc);
        }
        free(pre);
    }
    return head_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hp_head_t h;
    if (size == 0) return 0;
    const uint8_t mode = data[0];
    data++;
    size--;
    const hp_limits_t small = {.max_request_line = 64, .max_header_bytes = 128, .max_headers = 4};
    const hp_limits_t *lim = (mode & 1) ? &small : NULL;
    const uint64_t max_body = (mode & 4) ? 16 : UINT64_MAX;
    uint32_t seed = 2166136261u; /* FNV-1a of the input picks the split points */
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;

    if (mode & 2) {
        check_chunked(data, size, &seed, max_body, lim);
        return 0;
    }
    /* A stream of pipelined requests: head, body, next head, ... */
    size_t off = 0;
    for (int req = 0; req < 8 && off < size; req++) {
        size_t head_len = check_one_head(data + off, size - off, &seed, lim, &h);
        if (head_len == 0) break;
        off += head_len;
        if (h.chunked) {
            size_t body = check_chunked(data + off, size - off, &seed, max_body, lim);
            if (body == 0) break;
            off += body;
        } else if (h.has_content_length) {
            if (h.content_length > size - off) break;
            off += (size_t)h.content_length;
        }
    }
    return 0;
}

#ifdef HP_FUZZ_MAIN
/* Replays the inputs named on the command line. */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("ok %s (%zu bytes)\n", argv[i], n);
    }
    return 0;
}
#endif

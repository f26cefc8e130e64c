/* http_parse.c — the strict HTTP/1.1 request parser (contract in http_parse.h).
 *
 * hp_parse_head() is stateless: the connection code calls it on its whole
 * buffer after every read, and it rescans from byte 0. A head is at most
 * ~24 KiB and the scan is a few table lookups per byte, so remembering a
 * resume point would buy little and would make the caller keep parser state.
 * It makes one pass: request line, then header lines, then a loop over the
 * stored headers for the semantic rules (Host, Content-Length, ...).
 *
 * Splitting the input never changes the answer. Every decision depends only
 * on the bytes before the current position and is taken in position order,
 * and 0 ("need more") is returned only when the scan reached the end of the
 * buffer. So for any prefix of an input the result is 0 or the result for the
 * whole input; the unit tests and the fuzz harness check exactly that. The
 * size limits follow the same rule, which is why they are expressed as
 * positions:
 *  - request line: the byte at offset max_request_line of the line must be
 *    its CR; any other byte there means the line is too long, even if the
 *    rest has not arrived yet (ERR_URI_TOO_LONG);
 *  - header section: the header lines with their CRLFs (the final empty line
 *    excluded) may take max_header_bytes; a byte of a non-empty header line at
 *    or past that budget is ERR_HEADERS_TOO_LARGE;
 *  - the first byte of header line max_headers+1 is ERR_HEADERS_TOO_LARGE.
 * A limit of 0 means the default; max_headers is also capped at
 * HP_MAX_HEADERS_CAP, the size of the array in hp_head_t.
 *
 * Choices the header leaves open, fixed here:
 *  - up to MAX_LEADING_EMPTY empty lines (CRLF) before the request line are
 *    skipped (RFC 9112 2.2 asks to ignore at least one) and counted in
 *    head_len; more are ERR_BAD_REQUEST, so CRLF noise cannot be buffered
 *    without bound;
 *  - request target: origin-form ("/..."), "*" only with OPTIONS, or
 *    absolute-form "http://authority/..." or "https://authority/..."
 *    (scheme case-insensitive) whose path is the part from the first '/'
 *    after the authority; absolute-form without a path is ERR_BAD_REQUEST,
 *    because path must point into the buffer. Bytes allowed: 0x21..0x7e;
 *  - header values may hold obs-text (bytes >= 0x80) besides HTAB and
 *    visible ASCII; DEL and every other control are ERR_BAD_REQUEST;
 *  - Content-Length: a comma-separated list ("5, 5") counts as repeated
 *    headers; all members of all Content-Length headers must be the same
 *    number. Each is at most 19 digits and at most INT64_MAX;
 *  - Transfer-Encoding is checked in this order: on HTTP/1.0, more than one
 *    header, or together with Content-Length -> ERR_BAD_REQUEST (ambiguous
 *    framing); a value other than "chunked" -> ERR_NOT_IMPLEMENTED;
 *  - Host: HTTP/1.1 needs exactly one; two are an error in HTTP/1.0 too; the
 *    value itself is not checked (the router decides what it serves);
 *  - Connection is a token list: "close" wins over "keep-alive";
 *  - Expect (HTTP/1.1): "100-continue" (case-insensitive) sets
 *    expect_continue; any other expectation is ERR_BAD_REQUEST (417 is not in
 *    err.h). HTTP/1.0 ignores Expect, as RFC 9110 10.1.1 requires;
 *  - a version other than HTTP/1.0 or HTTP/1.1 is ERR_BAD_REQUEST (505 is
 *    not in err.h).
 * On 0 or an error the contents of *out are unspecified. Only the scalar
 * fields and headers[0..nheaders) are written: clearing the 8 KiB header
 * array on every call would cost more than the parse.
 *
 * The chunked decoder is a byte state machine that keeps its state in
 * hp_chunked_t between calls, so input may be split anywhere. It consumes all
 * the input it is given unless it completes or fails, and memmoves chunk data
 * down over the framing. Chunk extensions are not interpreted: after the size
 * (and optional SP/HTAB before ';') the rest of the size line may hold any
 * visible byte, HTAB or obs-text, and the whole size line is bounded by
 * max_request_line (ERR_BAD_REQUEST past it). The private field `digits`
 * counts the bytes of the current size line — while only digits have been
 * read that is also the digit count. max_body is taken literally (0 allows
 * only an empty body); pass UINT64_MAX for no limit. A NULL lim means all
 * defaults, for both functions. */
#include "http_parse.h"

#include <limits.h>
#include <string.h>

#include "err.h"

#define DEFAULT_REQUEST_LINE 8192
#define DEFAULT_HEADER_BYTES 16384
#define DEFAULT_HEADERS 100
#define MAX_LEADING_EMPTY 8
#define MAX_CHUNK_DIGITS 16

/* Character classes, one table lookup per byte. */
enum {
    C_TOKEN = 1,  /* tchar (RFC 9110 5.6.2) */
    C_TARGET = 2, /* request-target byte: visible ASCII */
    C_VALUE = 4,  /* field-value byte: HTAB, SP, visible ASCII, obs-text */
    C_HEX = 8,    /* HEXDIG */
};

/* clang-format off */
static const unsigned char cls[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  4,  0,  0,  0,  0,  0,  0, /* 00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 10 */
    4,  7,  6,  7,  7,  7,  7,  7,  6,  6,  7,  7,  6,  7,  7,  6, /* 20 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6,  6,  6,  6,  6,  6, /* 30 */
    6,  15, 15, 15, 15, 15, 15, 7,  7,  7,  7,  7,  7,  7,  7,  7, /* 40 */
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  6,  6,  6,  7,  7, /* 50 */
    7,  15, 15, 15, 15, 15, 15, 7,  7,  7,  7,  7,  7,  7,  7,  7, /* 60 */
    7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  6,  7,  6,  7,  0, /* 70 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* 80 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* 90 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* a0 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* b0 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* c0 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* d0 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* e0 */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  4, /* f0 */
};
/* clang-format on */

struct limits {
    size_t line, hbytes, nheaders;
};

static struct limits effective(const hp_limits_t *lim)
{
    struct limits l = {DEFAULT_REQUEST_LINE, DEFAULT_HEADER_BYTES, DEFAULT_HEADERS};
    if (lim) {
        if (lim->max_request_line) l.line = lim->max_request_line;
        if (lim->max_header_bytes) l.hbytes = lim->max_header_bytes;
        if (lim->max_headers) l.nheaders = lim->max_headers;
    }
    if (l.nheaders > HP_MAX_HEADERS_CAP) l.nheaders = HP_MAX_HEADERS_CAP;
    return l;
}

static int fail(const char **errmsg, int code, const char *msg)
{
    if (errmsg) *errmsg = msg;
    return code;
}

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool ieq_prefix(const unsigned char *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k) return false;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (c != (unsigned char)lit[i]) return false;
    }
    return true;
}

static str_t trim(str_t s)
{
    while (s.n && is_ows((unsigned char)s.p[0]))
        s.p++, s.n--;
    while (s.n && is_ows((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Splits the target into path and query; 0 or ERR_BAD_REQUEST. */
static int split_target(hp_head_t *out, const char **errmsg)
{
    const unsigned char *t = (const unsigned char *)out->target.p;
    size_t n = out->target.n, start;
    if (t[0] == '/') {
        start = 0;
    } else if (n == 1 && t[0] == '*') {
        if (!str_eq_cstr(out->method, "OPTIONS"))
            return fail(errmsg, ERR_BAD_REQUEST, "asterisk-form target is only for OPTIONS");
        out->path = out->target;
        out->query = (str_t){out->target.p + n, 0};
        return 0;
    } else {
        size_t s;
        if (ieq_prefix(t, n, "http://"))
            s = 7;
        else if (ieq_prefix(t, n, "https://"))
            s = 8;
        else
            return fail(errmsg, ERR_BAD_REQUEST, "malformed request target");
        start = s;
        while (start < n && t[start] != '/' && t[start] != '?' && t[start] != '#')
            start++;
        if (start == s || start == n || t[start] != '/')
            return fail(errmsg, ERR_BAD_REQUEST, "absolute-form target needs a host and a path");
    }
    const char *q = memchr(out->target.p + start, '?', n - start);
    size_t pend = q ? (size_t)(q - out->target.p) : n;
    out->path = (str_t){out->target.p + start, pend - start};
    out->query = q ? (str_t){q + 1, n - pend - 1} : (str_t){out->target.p + n, 0};
    return 0;
}

/* Parses a Content-Length value ("5" or "5, 5"); every member must equal the
 * value already seen, if any. 0 or -1. */
static int parse_content_length(str_t v, bool *seen, uint64_t *cl)
{
    const unsigned char *p = (const unsigned char *)v.p;
    size_t i = 0;
    for (;;) {
        size_t d0 = i;
        uint64_t x = 0;
        while (i < v.n && p[i] >= '0' && p[i] <= '9') {
            if (i - d0 == 19) return -1;
            x = x * 10 + (uint64_t)(p[i] - '0'); /* 19 digits fit in uint64_t */
            i++;
        }
        if (i == d0 || x > (uint64_t)INT64_MAX) return -1;
        if (*seen && x != *cl) return -1;
        *seen = true;
        *cl = x;
        while (i < v.n && is_ows(p[i]))
            i++;
        if (i == v.n) return 0;
        if (p[i] != ',') return -1;
        i++;
        while (i < v.n && is_ows(p[i]))
            i++;
    }
}

/* Scans a Connection token list for "close" and "keep-alive". */
static void scan_connection(str_t v, bool *close, bool *keep_alive)
{
    size_t i = 0;
    while (i < v.n) {
        const char *c = memchr(v.p + i, ',', v.n - i);
        size_t e = c ? (size_t)(c - v.p) : v.n;
        str_t tok = trim((str_t){v.p + i, e - i});
        if (str_ieq(tok, STR_LIT("close")))
            *close = true;
        else if (str_ieq(tok, STR_LIT("keep-alive")))
            *keep_alive = true;
        i = e + 1;
    }
}

/* The rules that need the whole header section. */
static int check_semantics(hp_head_t *out, const char **errmsg)
{
    int hosts = 0, te_count = 0;
    str_t te = STR_NULL;
    bool close = false, keep_alive = false;
    out->has_content_length = false;
    out->content_length = 0;
    out->chunked = false;
    out->expect_continue = false;
    for (size_t i = 0; i < out->nheaders; i++) {
        const hp_header_t *h = &out->headers[i];
        switch (h->name.n) { /* the length picks the one candidate name */
        case 4:
            if (str_ieq(h->name, STR_LIT("host"))) hosts++;
            break;
        case 6:
            if (out->version_minor == 1 && str_ieq(h->name, STR_LIT("expect"))) {
                if (!str_ieq(h->value, STR_LIT("100-continue")))
                    return fail(errmsg, ERR_BAD_REQUEST, "unsupported Expect");
                out->expect_continue = true;
            }
            break;
        case 10:
            if (str_ieq(h->name, STR_LIT("connection")))
                scan_connection(h->value, &close, &keep_alive);
            break;
        case 14:
            if (str_ieq(h->name, STR_LIT("content-length")) &&
                parse_content_length(h->value, &out->has_content_length, &out->content_length) != 0)
                return fail(errmsg, ERR_BAD_REQUEST, "invalid or conflicting Content-Length");
            break;
        case 17:
            if (str_ieq(h->name, STR_LIT("transfer-encoding"))) {
                te_count++;
                te = h->value;
            }
            break;
        default:
            break;
        }
    }
    if (hosts > 1) return fail(errmsg, ERR_BAD_REQUEST, "more than one Host header");
    if (hosts == 0 && out->version_minor == 1)
        return fail(errmsg, ERR_BAD_REQUEST, "HTTP/1.1 request without Host");
    if (te_count) {
        if (out->version_minor == 0)
            return fail(errmsg, ERR_BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0 request");
        if (te_count > 1) return fail(errmsg, ERR_BAD_REQUEST, "more than one Transfer-Encoding");
        if (out->has_content_length)
            return fail(errmsg, ERR_BAD_REQUEST, "both Transfer-Encoding and Content-Length");
        if (!str_ieq(te, STR_LIT("chunked")))
            return fail(errmsg, ERR_NOT_IMPLEMENTED, "Transfer-Encoding other than chunked");
        out->chunked = true;
    }
    out->keep_alive = out->version_minor == 1 ? !close : keep_alive && !close;
    return 1;
}

/* The scan stopped at p == min(len, cap): out of input (0) or at the limit. */
static int stop(size_t p, size_t len, int code, const char **errmsg, const char *msg)
{
    return p < len ? fail(errmsg, code, msg) : 0;
}

int hp_parse_head(const char *buf, size_t len, const hp_limits_t *lim, hp_head_t *out,
                  const char **errmsg)
{
    const struct limits l = effective(lim);
    const unsigned char *b = (const unsigned char *)buf;
    static const char too_long[] = "request line too long";
    static const char too_large[] = "header section too large";
    size_t p = 0;

    for (int empty = 0;; empty++) {
        if (p == len) return 0;
        if (b[p] != '\r') break;
        if (empty == MAX_LEADING_EMPTY)
            return fail(errmsg, ERR_BAD_REQUEST, "too many empty lines before the request");
        if (p + 1 == len) return 0;
        if (b[p + 1] != '\n') return fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");
        p += 2;
    }

    /* Request line. Bytes before cap are content; the byte at cap must be CR. */
    const size_t cap = add_sat(p, l.line);
    size_t end = len < cap ? len : cap;
    size_t m0 = p;
    while (p < end && (cls[b[p]] & C_TOKEN))
        p++;
    if (p == end) return stop(p, len, ERR_URI_TOO_LONG, errmsg, too_long);
    if (p == m0 || b[p] != ' ') return fail(errmsg, ERR_BAD_REQUEST, "malformed method");
    out->method = (str_t){buf + m0, p - m0};
    size_t t0 = ++p;
    while (p < end && (cls[b[p]] & C_TARGET))
        p++;
    if (p == end) return stop(p, len, ERR_URI_TOO_LONG, errmsg, too_long);
    if (p == t0 || b[p] != ' ') return fail(errmsg, ERR_BAD_REQUEST, "malformed request target");
    out->target = (str_t){buf + t0, p - t0};
    p++;
    static const char version[] = "HTTP/1.";
    for (size_t i = 0; i < sizeof version - 1; i++, p++) {
        if (p == end) return stop(p, len, ERR_URI_TOO_LONG, errmsg, too_long);
        if (b[p] != (unsigned char)version[i])
            return fail(errmsg, ERR_BAD_REQUEST, "unsupported HTTP version");
    }
    if (p == end) return stop(p, len, ERR_URI_TOO_LONG, errmsg, too_long);
    if (b[p] != '0' && b[p] != '1')
        return fail(errmsg, ERR_BAD_REQUEST, "unsupported HTTP version");
    out->version_minor = b[p++] - '0';
    if (p == len) return 0;
    if (b[p] != '\r') {
        if (p == cap) return fail(errmsg, ERR_URI_TOO_LONG, too_long);
        return fail(errmsg, ERR_BAD_REQUEST, "malformed request line end");
    }
    if (++p == len) return 0;
    if (b[p++] != '\n') return fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");

    /* Header lines. A non-empty line must end (after its LF) by hcap. */
    const size_t hcap = add_sat(p, l.hbytes);
    end = len < hcap ? len : hcap;
    size_t n = 0;
    for (;;) {
        if (p == len) return 0;
        if (b[p] == '\r') {
            if (p + 1 == len) return 0;
            if (b[p + 1] != '\n') return fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");
            p += 2;
            break;
        }
        if (p >= hcap) return fail(errmsg, ERR_HEADERS_TOO_LARGE, too_large);
        if (n == l.nheaders) return fail(errmsg, ERR_HEADERS_TOO_LARGE, "too many header fields");
        if (is_ows(b[p])) return fail(errmsg, ERR_BAD_REQUEST, "obsolete header line folding");
        size_t n0 = p;
        while (p < end && (cls[b[p]] & C_TOKEN))
            p++;
        if (p == end) return stop(p, len, ERR_HEADERS_TOO_LARGE, errmsg, too_large);
        if (p == n0 || b[p] != ':') return fail(errmsg, ERR_BAD_REQUEST, "malformed header name");
        size_t n1 = p++;
        while (p < end && is_ows(b[p]))
            p++;
        size_t v0 = p;
        while (p < end && (cls[b[p]] & C_VALUE))
            p++;
        if (p == end) return stop(p, len, ERR_HEADERS_TOO_LARGE, errmsg, too_large);
        if (b[p] != '\r') return fail(errmsg, ERR_BAD_REQUEST, "invalid byte in header value");
        size_t v1 = p;
        while (v1 > v0 && is_ows(b[v1 - 1]))
            v1--;
        if (++p == len) return 0;
        if (b[p++] != '\n') return fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");
        if (p > hcap) return fail(errmsg, ERR_HEADERS_TOO_LARGE, too_large);
        out->headers[n].name = (str_t){buf + n0, n1 - n0};
        out->headers[n].value = (str_t){buf + v0, v1 - v0};
        n++;
    }
    out->nheaders = n;
    out->head_len = p;
    int rc = split_target(out, errmsg);
    if (rc < 0) return rc;
    return check_semantics(out, errmsg);
}

const hp_header_t *hp_header_get(const hp_head_t *h, const char *name)
{
    str_t want = str_of(name);
    for (size_t i = 0; i < h->nheaders; i++)
        if (str_ieq(h->headers[i].name, want)) return &h->headers[i];
    return NULL;
}

/* ---- chunked body ---- */

enum {
    CH_SIZE,     /* reading the hex chunk size */
    CH_SIZE_BWS, /* SP/HTAB after the size, before ';' */
    CH_EXT,      /* chunk extensions, up to CR */
    CH_SIZE_LF,  /* CR of the size line seen */
    CH_DATA,     /* remaining bytes of chunk data */
    CH_DATA_CR,  /* CR after the data */
    CH_DATA_LF,  /* LF after the data */
    CH_TRAILER,  /* start of a trailer line or of the final empty line */
    CH_TRAILER_NAME,
    CH_TRAILER_VALUE,
    CH_TRAILER_LF, /* CR of a trailer line seen */
    CH_END_LF,     /* CR of the final empty line seen */
    CH_DONE,
};

void hp_chunked_init(hp_chunked_t *c)
{
    *c = (hp_chunked_t){.state = CH_SIZE};
}

static int hexval(unsigned char c)
{
    if (c <= '9') return c - '0';
    return (c | 0x20) - 'a' + 10;
}

int hp_chunked_decode(hp_chunked_t *c, char *buf, size_t *len, size_t *out_len, uint64_t max_body,
                      const hp_limits_t *lim, const char **errmsg)
{
    const struct limits l = effective(lim);
    /* digits is an int: a size line longer than INT_MAX - 1 is refused anyway. */
    const int line_max = l.line < (size_t)INT_MAX - 1 ? (int)l.line : INT_MAX - 1;
    const size_t n = *len;
    size_t i = 0, o = 0;
    int rc = 0;

    if (c->state == CH_DONE) {
        rc = 1;
        goto out;
    }
    while (i < n) {
        if (c->state == CH_DATA) {
            size_t take = n - i;
            if (take > c->remaining) take = (size_t)c->remaining;
            if (o != i) memmove(buf + o, buf + i, take);
            o += take;
            i += take;
            c->remaining -= take;
            c->total += take;
            if (c->remaining == 0) c->state = CH_DATA_CR;
            continue;
        }
        const unsigned char ch = (unsigned char)buf[i++];
        switch (c->state) {
        case CH_SIZE:
            if (cls[ch] & C_HEX) {
                /* Only digits so far, so the line length is the digit count. */
                if (c->digits == MAX_CHUNK_DIGITS) {
                    rc = fail(errmsg, ERR_BAD_REQUEST, "chunk size has too many digits");
                    goto out;
                }
                c->remaining = c->remaining << 4 | (uint64_t)hexval(ch);
                break;
            }
            if (c->digits == 0) {
                rc = fail(errmsg, ERR_BAD_REQUEST, "malformed chunk size");
                goto out;
            }
            /* The size is complete: judge it against the limit now, before any
             * of its data, but only after the digit count was (so too many
             * digits is a framing error, 400, not a size, 413). */
            if (c->total > max_body || c->remaining > max_body - c->total) {
                rc = fail(errmsg, ERR_TOO_LARGE, "chunked body too large");
                goto out;
            }
            if (ch == '\r') {
                c->state = CH_SIZE_LF;
                continue; /* the CRLF is not part of the line length */
            }
            if (ch == ';')
                c->state = CH_EXT;
            else if (is_ows(ch))
                c->state = CH_SIZE_BWS;
            else {
                rc = fail(errmsg, ERR_BAD_REQUEST, "malformed chunk size");
                goto out;
            }
            break;
        case CH_SIZE_BWS:
            if (ch == ';')
                c->state = CH_EXT;
            else if (!is_ows(ch)) {
                rc = fail(errmsg, ERR_BAD_REQUEST, "malformed chunk size line");
                goto out;
            }
            break;
        case CH_EXT:
            if (ch == '\r') {
                c->state = CH_SIZE_LF;
                continue;
            }
            if (!(cls[ch] & C_VALUE)) {
                rc = fail(errmsg, ERR_BAD_REQUEST, "invalid byte in chunk extension");
                goto out;
            }
            break;
        case CH_SIZE_LF:
            if (ch != '\n') {
                rc = fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");
                goto out;
            }
            c->digits = 0;
            c->state = c->remaining ? CH_DATA : CH_TRAILER;
            continue;
        case CH_DATA_CR:
            if (ch != '\r') {
                rc = fail(errmsg, ERR_BAD_REQUEST, "chunk data not followed by CRLF");
                goto out;
            }
            c->state = CH_DATA_LF;
            continue;
        case CH_DATA_LF:
            if (ch != '\n') {
                rc = fail(errmsg, ERR_BAD_REQUEST, "chunk data not followed by CRLF");
                goto out;
            }
            c->state = CH_SIZE;
            continue;
        case CH_TRAILER:
            if (ch == '\r') {
                c->state = CH_END_LF;
                continue;
            }
            if (++c->trailer_count > l.nheaders) {
                rc = fail(errmsg, ERR_HEADERS_TOO_LARGE, "too many trailer fields");
                goto out;
            }
            if (!(cls[ch] & C_TOKEN)) {
                rc = fail(errmsg, ERR_BAD_REQUEST, "malformed trailer field");
                goto out;
            }
            c->state = CH_TRAILER_NAME;
            goto trailer_byte;
        case CH_TRAILER_NAME:
            if (ch == ':')
                c->state = CH_TRAILER_VALUE;
            else if (!(cls[ch] & C_TOKEN)) {
                rc = fail(errmsg, ERR_BAD_REQUEST, "malformed trailer field name");
                goto out;
            }
            goto trailer_byte;
        case CH_TRAILER_VALUE:
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if (!(cls[ch] & C_VALUE)) {
                rc = fail(errmsg, ERR_BAD_REQUEST, "invalid byte in trailer value");
                goto out;
            }
            goto trailer_byte;
        case CH_TRAILER_LF:
            if (ch != '\n') {
                rc = fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");
                goto out;
            }
            c->state = CH_TRAILER;
            goto trailer_byte;
        case CH_END_LF:
            if (ch != '\n') {
                rc = fail(errmsg, ERR_BAD_REQUEST, "CR not followed by LF");
                goto out;
            }
            c->state = CH_DONE;
            rc = 1;
            goto out;
        default:
            rc = fail(errmsg, ERR_INTERNAL, "chunked decoder state corrupted");
            goto out;
        }
        /* A byte of the size line (CR and LF excluded). */
        if (++c->digits > line_max) {
            rc = fail(errmsg, ERR_BAD_REQUEST, "chunk size line too long");
            goto out;
        }
        continue;
    trailer_byte:
        if (++c->trailer_bytes > l.hbytes) {
            rc = fail(errmsg, ERR_HEADERS_TOO_LARGE, "trailer section too large");
            goto out;
        }
    }
out:
    *len = i;
    *out_len = o;
    return rc;
}

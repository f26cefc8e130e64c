/* test_http_parse.c — unit tests for the strict HTTP/1.1 parser.
 *
 * Table-driven: one table of heads that must parse (with the fields they must
 * produce), one of heads that must fail (with the error), the same for chunked
 * bodies, then each size limit exactly at and one past its boundary.
 *
 * Every call gets its own heap copy of exactly the bytes it may read, so
 * ASan/valgrind catch a read past len. Every head is also fed as all its
 * prefixes (the connection code calls hp_parse_head after each read), and
 * every chunked body one byte at a time and at random split points: the
 * answer must not depend on how the input was split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http_parse.h"
#include "str.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static char *copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n) memcpy(p, s, n);
    return p;
}

/* Parses s[0..n) from an exact-size copy; *owned receives the copy, which the
 * str_t fields of *h point into. */
static int parse_copy(const char *s, size_t n, const hp_limits_t *lim, hp_head_t *h, char **owned)
{
    *owned = copy(s, n);
    const char *em = NULL;
    int rc = hp_parse_head(*owned, n, lim, h, &em);
    if (rc < 0 && em == NULL) fail_msg("error %d without a message", rc);
    return rc;
}

/* Checks that the full input gives want and every prefix gives 0 or want
 * (for want == 1: 0 before head_len, 1 with the same head_len from there). */
static void check_all_prefixes(const char *name, const char *s, size_t n, const hp_limits_t *lim,
                               int want)
{
    static hp_head_t h; /* 8 KiB: keep it off the stack */
    char *b;
    int rc = parse_copy(s, n, lim, &h, &b);
    free(b);
    if (rc != want) fail_msg("%s: got %d, want %d", name, rc, want);
    size_t head_len = rc == 1 ? h.head_len : n;
    for (size_t k = 0; k < n; k++) {
        int r = parse_copy(s, k, lim, &h, &b);
        free(b);
        if (want == 1) {
            int exp = k < head_len ? 0 : 1;
            if (r != exp) fail_msg("%s: prefix %zu got %d, want %d", name, k, r, exp);
            if (r == 1 && h.head_len != head_len) fail_msg("%s: prefix %zu head_len", name, k);
        } else if (r != 0 && r != want) {
            fail_msg("%s: prefix %zu got %d, want 0 or %d", name, k, r, want);
        }
    }
}

static void expect_str(const char *name, const char *field, str_t got, const char *want)
{
    if (!str_eq_cstr(got, want))
        fail_msg("%s: %s is \"%.*s\", want \"%s\"", name, field, (int)got.n, got.p ? got.p : "",
                 want);
}

/* ---- heads that parse ---- */

struct ok_case {
    const char *name, *in;
    const char *method, *target, *path, *query;
    int minor;
    bool keep_alive, chunked, has_cl;
    uint64_t cl;
    bool expect;
    size_t nheaders;
};

static const struct ok_case ok_cases[] = {
    {"simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "/", "", 1, true, false, false, 0,
     false, 1},
    {"query", "GET /a/b?x=1&y HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a/b?x=1&y", "/a/b", "x=1&y", 1,
     true, false, false, 0, false, 1},
    {"empty query", "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a?", "/a", "", 1, true, false,
     false, 0, false, 1},
    {"second ? stays in query", "GET /a?b?c HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a?b?c", "/a",
     "b?c", 1, true, false, false, 0, false, 1},
    {"percent-encoded path", "GET /a%20b/%2F HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/a%20b/%2F",
     "/a%20b/%2F", "", 1, true, false, false, 0, false, 1},
    {"http/1.0 without host", "GET /x HTTP/1.0\r\n\r\n", "GET", "/x", "/x", "", 0, false, false,
     false, 0, false, 0},
    {"http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", "/", "",
     0, true, false, false, 0, false, 1},
    {"http/1.0 close wins", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/",
     "/", "", 0, false, false, false, 0, false, 1},
    {"http/1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "GET", "/", "/",
     "", 1, false, false, false, 0, false, 2},
    {"http/1.1 close in list", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade ,CLOSE\r\n\r\n",
     "GET", "/", "/", "", 1, false, false, false, 0, false, 2},
    {"http/1.1 close in 2nd header",
     "GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nconnection: close\r\n\r\n", "GET", "/", "/", "",
     1, false, false, false, 0, false, 3},
    {"http/1.1 not close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, ,keep-alive\r\n\r\n",
     "GET", "/", "/", "", 1, true, false, false, 0, false, 2},
    {"one leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "/", "", 1, true,
     false, false, 0, false, 1},
    {"eight leading CRLFs", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
     "GET", "/", "/", "", 1, true, false, false, 0, false, 1},
    {"options asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", "*", "", 1, true,
     false, false, 0, false, 1},
    {"absolute-form", "GET http://example.com:8080/x/y?z=1 HTTP/1.1\r\nHost: e\r\n\r\n", "GET",
     "http://example.com:8080/x/y?z=1", "/x/y", "z=1", 1, true, false, false, 0, false, 1},
    {"absolute-form https upper", "GET HTTPS://h/ HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "HTTPS://h/",
     "/", "", 1, true, false, false, 0, false, 1},
    {"token method", "M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n", "M-SEARCH", "/x", "/x", "", 1, true,
     false, false, 0, false, 1},
    {"content-length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "POST", "/p",
     "/p", "", 1, true, false, true, 5, false, 2},
    {"content-length zero", "POST /p HTTP/1.1\r\nHost: a\r\ncontent-length:0\r\n\r\n", "POST", "/p",
     "/p", "", 1, true, false, true, 0, false, 2},
    {"content-length list same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5 ,5\r\n\r\n",
     "POST", "/", "/", "", 1, true, false, true, 5, false, 2},
    {"content-length twice same",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 007\r\n\r\n", "POST", "/",
     "/", "", 1, true, false, true, 7, false, 3},
    {"content-length int64 max",
     "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", "POST", "/", "/",
     "", 1, true, false, true, INT64_MAX, false, 2},
    {"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "/",
     "/", "", 1, true, true, false, 0, false, 2},
    {"chunked mixed case padded",
     "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  ChunKed \t\r\n\r\n", "POST", "/", "/", "",
     1, true, true, false, 0, false, 2},
    {"expect 100-continue",
     "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", "PUT", "/",
     "/", "", 1, true, false, true, 3, true, 3},
    {"expect ignored on 1.0", "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n", "PUT",
     "/", "/", "", 0, false, false, false, 0, false, 2},
    {"value with obs-text and tab", "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\tb\r\n\r\n",
     "GET", "/", "/", "", 1, true, false, false, 0, false, 2},
    {"empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Blank:   \r\n\r\n", "GET", "/", "/",
     "", 1, true, false, false, 0, false, 3},
    {"empty host on 1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET", "/", "/", "", 1, true, false,
     false, 0, false, 1},
};

static void test_head_accept(void **state)
{
    (void)state;
    static hp_head_t h;
    for (size_t i = 0; i < LEN(ok_cases); i++) {
        const struct ok_case *c = &ok_cases[i];
        size_t n = strlen(c->in);
        char *b;
        int rc = parse_copy(c->in, n, NULL, &h, &b);
        if (rc != 1) fail_msg("%s: rc %d", c->name, rc);
        expect_str(c->name, "method", h.method, c->method);
        expect_str(c->name, "target", h.target, c->target);
        expect_str(c->name, "path", h.path, c->path);
        expect_str(c->name, "query", h.query, c->query);
        if (h.head_len != n) fail_msg("%s: head_len %zu, want %zu", c->name, h.head_len, n);
        if (h.version_minor != c->minor) fail_msg("%s: version_minor", c->name);
        if (h.keep_alive != c->keep_alive) fail_msg("%s: keep_alive", c->name);
        if (h.chunked != c->chunked) fail_msg("%s: chunked", c->name);
        if (h.has_content_length != c->has_cl) fail_msg("%s: has_content_length", c->name);
        if (h.content_length != c->cl) fail_msg("%s: content_length", c->name);
        if (h.expect_continue != c->expect) fail_msg("%s: expect_continue", c->name);
        if (h.nheaders != c->nheaders) fail_msg("%s: nheaders %zu", c->name, h.nheaders);
        /* Every view points into the parsed buffer. */
        for (size_t k = 0; k < h.nheaders; k++) {
            const hp_header_t *f = &h.headers[k];
            assert_true(f->name.p >= b && f->name.p + f->name.n <= b + n);
            assert_true(f->value.p >= b && f->value.p + f->value.n <= b + n);
        }
        assert_true(h.query.p >= b && h.query.p + h.query.n <= b + n);
        free(b);
        check_all_prefixes(c->name, c->in, n, NULL, 1);
    }
}

static void test_head_fields(void **state)
{
    (void)state;
    static hp_head_t h;
    const char *in = "GET / HTTP/1.1\r\nHost:  example.com \r\nX-A: 1\r\nx-a: 2\r\n"
                     "X-Sp:  a  b \t\r\nX-Empty:\r\n\r\n";
    char *b;
    assert_int_equal(parse_copy(in, strlen(in), NULL, &h, &b), 1);
    assert_int_equal(h.nheaders, 5);
    expect_str("fields", "name0", h.headers[0].name, "Host");
    expect_str("fields", "value0", h.headers[0].value, "example.com");
    const hp_header_t *f = hp_header_get(&h, "x-A");
    assert_non_null(f);
    expect_str("fields", "first X-A", f->value, "1");
    assert_ptr_equal(f, &h.headers[1]);
    f = hp_header_get(&h, "X-SP");
    assert_non_null(f);
    expect_str("fields", "X-Sp", f->value, "a  b");
    f = hp_header_get(&h, "x-empty");
    assert_non_null(f);
    assert_int_equal(f->value.n, 0);
    assert_null(hp_header_get(&h, "X-Missing"));
    assert_null(hp_header_get(&h, "X"));
    free(b);
}

/* ---- heads that fail ---- */

struct err_case {
    const char *name, *in;
    size_t len; /* 0: strlen(in); set for inputs with NUL bytes */
    int code;
};

#define BAD ERR_BAD_REQUEST
#define IN(lit) lit, sizeof(lit) - 1 /* for inputs with NUL bytes */
#define H11 " HTTP/1.1\r\nHost: a\r\n"
static const struct err_case err_cases[] = {
    {"bare LF request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 0, BAD},
    {"bare LF header line", "GET / HTTP/1.1\r\nHost: a\n\r\n", 0, BAD},
    {"bare LF final line", "GET / HTTP/1.1\r\nHost: a\r\n\n", 0, BAD},
    {"bare LF only", "GET / HTTP/1.1\nHost: a\n\n", 0, BAD},
    {"bare CR request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 0, BAD},
    {"bare CR in value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 0, BAD},
    {"bare CR final line", "GET / HTTP/1.1\r\nHost: a\r\n\rX", 0, BAD},
    {"leading LF", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, BAD},
    {"leading bare CR", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, BAD},
    {"nine leading CRLFs", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET /" H11 "\r\n", 0, BAD},
    {"leading space", " GET /" H11 "\r\n", 0, BAD},
    {"two spaces after method", "GET  /" H11 "\r\n", 0, BAD},
    {"tab after method", "GET\t/" H11 "\r\n", 0, BAD},
    {"bad method byte", "GE(T /" H11 "\r\n", 0, BAD},
    {"method with obs-text", "G\xc3\xa9T /" H11 "\r\n", 0, BAD},
    {"lowercase protocol", "GET / http/1.1\r\nHost: a\r\n\r\n", 0, BAD},
    {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, BAD},
    {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 0, BAD},
    {"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 0, BAD},
    {"HTTP/1", "GET / HTTP/1\r\nHost: a\r\n\r\n", 0, BAD},
    {"no version", "GET /\r\nHost: a\r\n\r\n", 0, BAD},
    {"space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 0, BAD},
    {"space in target", "GET /a b" H11 "\r\n", 0, BAD},
    {"control in target", "GET /a\x01" H11 "\r\n", 0, BAD},
    {"tab in target", "GET /a\tb" H11 "\r\n", 0, BAD},
    {"DEL in target", "GET /a\x7f" H11 "\r\n", 0, BAD},
    {"obs-text in target", "GET /\xc3\xa9" H11 "\r\n", 0, BAD},
    {"relative target", "GET a/b" H11 "\r\n", 0, BAD},
    {"asterisk with GET", "GET *" H11 "\r\n", 0, BAD},
    {"asterisk with suffix", "OPTIONS *x" H11 "\r\n", 0, BAD},
    {"absolute-form no path", "GET http://host" H11 "\r\n", 0, BAD},
    {"absolute-form no host", "GET http:///x" H11 "\r\n", 0, BAD},
    {"absolute-form query first", "GET http://h?a/b" H11 "\r\n", 0, BAD},
    {"ftp scheme", "GET ftp://h/x" H11 "\r\n", 0, BAD},
    {"missing host 1.1", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 0, BAD},
    {"two hosts 1.1", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 0, BAD},
    {"two hosts 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 0, BAD},
    {"NUL in method", IN("G\0T / HTTP/1.1\r\nHost: a\r\n\r\n"), BAD},
    {"NUL in target", IN("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), BAD},
    {"NUL in version", IN("GET / HTTP/1.\0\r\nHost: a\r\n\r\n"), BAD},
    {"NUL in name", IN("GET / HTTP/1.1\r\nHo\0t: a\r\n\r\n"), BAD},
    {"NUL in value", IN("GET / HTTP/1.1\r\nHost: \0\r\n\r\n"), BAD},
    {"NUL at line start", IN("GET / HTTP/1.1\r\nHost: a\r\n\0\r\n\r\n"), BAD},
    {"obs-fold", "GET /" H11 "X: a\r\n b\r\n\r\n", 0, BAD},
    {"obs-fold tab", "GET /" H11 "X: a\r\n\tb\r\n\r\n", 0, BAD},
    {"fold as first line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 0, BAD},
    {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0, BAD},
    {"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 0, BAD},
    {"empty name", "GET /" H11 ": a\r\n\r\n", 0, BAD},
    {"bad name byte", "GET /" H11 "X(y): a\r\n\r\n", 0, BAD},
    {"no colon", "GET /" H11 "Host\r\n\r\n", 0, BAD},
    {"DEL in value", "GET /" H11 "X: a\x7f\r\n\r\n", 0, BAD},
    {"control in value", "GET /" H11 "X: a\x1b[0m\r\n\r\n", 0, BAD},
    {"CL negative", "POST /" H11 "Content-Length: -1\r\n\r\n", 0, BAD},
    {"CL plus", "POST /" H11 "Content-Length: +1\r\n\r\n", 0, BAD},
    {"CL empty", "POST /" H11 "Content-Length:\r\n\r\n", 0, BAD},
    {"CL hex", "POST /" H11 "Content-Length: 0x10\r\n\r\n", 0, BAD},
    {"CL inner space", "POST /" H11 "Content-Length: 1 2\r\n\r\n", 0, BAD},
    {"CL list differs", "POST /" H11 "Content-Length: 5, 6\r\n\r\n", 0, BAD},
    {"CL headers differ", "POST /" H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, BAD},
    {"CL trailing comma", "POST /" H11 "Content-Length: 5,\r\n\r\n", 0, BAD},
    {"CL leading comma", "POST /" H11 "Content-Length: ,5\r\n\r\n", 0, BAD},
    {"CL int64 max + 1", "POST /" H11 "Content-Length: 9223372036854775808\r\n\r\n", 0, BAD},
    {"CL 19 nines", "POST /" H11 "Content-Length: 9999999999999999999\r\n\r\n", 0, BAD},
    {"CL 20 digits", "POST /" H11 "Content-Length: 00000000000000000001\r\n\r\n", 0, BAD},
    {"CL uint64 overflow", "POST /" H11 "Content-Length: 18446744073709551617\r\n\r\n", 0, BAD},
    {"TE gzip, chunked", "POST /" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 0,
     ERR_NOT_IMPLEMENTED},
    {"TE gzip", "POST /" H11 "Transfer-Encoding: gzip\r\n\r\n", 0, ERR_NOT_IMPLEMENTED},
    {"TE chunked twice in list", "POST /" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", 0,
     ERR_NOT_IMPLEMENTED},
    {"TE identity", "POST /" H11 "Transfer-Encoding: identity\r\n\r\n", 0, ERR_NOT_IMPLEMENTED},
    {"TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, BAD},
    {"TE + CL", "POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0, BAD},
    {"CL + TE", "POST /" H11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0, BAD},
    {"CL + TE gzip", "POST /" H11 "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", 0, BAD},
    {"two TE headers",
     "POST /" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0, BAD},
    {"expect other", "PUT /" H11 "Expect: 200-ok\r\n\r\n", 0, BAD},
    {"expect list", "PUT /" H11 "Expect: 100-continue, x\r\n\r\n", 0, BAD},
};

static void test_head_reject(void **state)
{
    (void)state;
    static hp_head_t h;
    for (size_t i = 0; i < LEN(err_cases); i++) {
        const struct err_case *c = &err_cases[i];
        size_t n = c->len ? c->len : strlen(c->in);
        char *b;
        int rc = parse_copy(c->in, n, NULL, &h, &b);
        free(b);
        if (rc != c->code) fail_msg("%s: got %d, want %d", c->name, rc, c->code);
        check_all_prefixes(c->name, c->in, n, NULL, c->code);
    }
}

/* ---- limits, exactly at and one past each boundary ---- */

/* "GET /aaa... HTTP/1.1" of exactly line_len bytes (without CRLF). */
static void request_line(buf_t *b, size_t line_len)
{
    const size_t fixed = strlen("GET / HTTP/1.1");
    assert_true(line_len >= fixed);
    buf_append_str(b, "GET /");
    for (size_t i = fixed; i < line_len; i++)
        buf_append(b, "a", 1);
    buf_append_str(b, " HTTP/1.1");
}

static int parse_buf(const buf_t *b, const hp_limits_t *lim)
{
    static hp_head_t h;
    char *owned;
    int rc = parse_copy(b->p, b->n, lim, &h, &owned);
    free(owned);
    return rc;
}

static void check_request_line_limit(const hp_limits_t *lim, size_t max)
{
    buf_t b;
    buf_init(&b);
    request_line(&b, max);
    buf_append_str(&b, "\r\nHost: a\r\n\r\n");
    assert_int_equal(parse_buf(&b, lim), 1);
    buf_reset(&b);
    request_line(&b, max + 1);
    buf_append_str(&b, "\r\nHost: a\r\n\r\n");
    assert_int_equal(parse_buf(&b, lim), ERR_URI_TOO_LONG);
    /* Refused before the line is complete: max+1 bytes without CR are enough. */
    b.n = max + 1;
    assert_int_equal(parse_buf(&b, lim), ERR_URI_TOO_LONG);
    b.n = max;
    assert_int_equal(parse_buf(&b, lim), 0);
    /* The byte at offset max must be the CR, even right after the version. */
    buf_reset(&b);
    request_line(&b, max);
    buf_append_str(&b, "1\r\nHost: a\r\n\r\n");
    assert_int_equal(parse_buf(&b, lim), ERR_URI_TOO_LONG);
    /* A line of exactly max bytes whose CR has arrived but not its LF. */
    buf_reset(&b);
    request_line(&b, max);
    buf_append_str(&b, "\r");
    assert_int_equal(parse_buf(&b, lim), 0);
    /* A long target with no CR at all, the limit relative to leading CRLFs. */
    buf_reset(&b);
    buf_append_str(&b, "\r\n\r\nGET /");
    while (b.n < 4 + max + 2)
        buf_append(&b, "x", 1);
    assert_int_equal(parse_buf(&b, lim), ERR_URI_TOO_LONG);
    buf_cleanup(&b);
}

static void test_limit_request_line(void **state)
{
    (void)state;
    hp_limits_t small = {.max_request_line = 32};
    check_request_line_limit(&small, 32);
    hp_limits_t zero = {0};
    check_request_line_limit(&zero, 8192);
    check_request_line_limit(NULL, 8192);
    /* Split-independence around the boundary: the line is 20 bytes. */
    const char *in = "GET /123456 HTTP/1.1\r\nHost: a\r\n\r\n";
    check_all_prefixes("line limit 20", in, strlen(in), &(hp_limits_t){.max_request_line = 20}, 1);
    check_all_prefixes("line limit 19", in, strlen(in), &(hp_limits_t){.max_request_line = 19},
                       ERR_URI_TOO_LONG);
}

/* A head whose header lines (with CRLFs, without the final empty line) take
 * exactly hbytes bytes: "Host: a\r\n" then one padded X-Pad line. */
static void head_with_header_bytes(buf_t *b, size_t hbytes)
{
    const size_t host = strlen("Host: a\r\n"), pad0 = strlen("X-Pad: \r\n");
    assert_true(hbytes >= host + pad0);
    buf_append_str(b, "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
    for (size_t i = host + pad0; i < hbytes; i++)
        buf_append(b, "p", 1);
    buf_append_str(b, "\r\n\r\n");
}

static void check_header_bytes_limit(const hp_limits_t *lim, size_t max)
{
    const size_t rl = strlen("GET / HTTP/1.1\r\n");
    buf_t b;
    buf_init(&b);
    head_with_header_bytes(&b, max);
    assert_int_equal(parse_buf(&b, lim), 1);
    /* Without the final CRLF, or with only its CR: still waiting. */
    b.n -= 1;
    assert_int_equal(parse_buf(&b, lim), 0);
    b.n -= 1;
    assert_int_equal(parse_buf(&b, lim), 0);
    buf_reset(&b);
    head_with_header_bytes(&b, max + 1);
    assert_int_equal(parse_buf(&b, lim), ERR_HEADERS_TOO_LARGE);
    /* Refused on partial input as soon as the budget is passed... */
    b.n = rl + max + 1;
    assert_int_equal(parse_buf(&b, lim), ERR_HEADERS_TOO_LARGE);
    /* ...but not before. */
    b.n = rl + max;
    assert_int_equal(parse_buf(&b, lim), 0);
    /* Many lines add up the same way (100 bytes each, under the count cap). */
    buf_reset(&b);
    buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    while (b.n < rl + max + 1) {
        buf_append_str(&b, "X: ");
        for (int i = 0; i < 95; i++)
            buf_append(&b, "v", 1);
        buf_append_str(&b, "\r\n");
    }
    buf_append_str(&b, "\r\n");
    assert_int_equal(parse_buf(&b, &(hp_limits_t){.max_header_bytes = max, .max_headers = 256}),
                     ERR_HEADERS_TOO_LARGE);
    buf_cleanup(&b);
}

static void test_limit_header_bytes(void **state)
{
    (void)state;
    check_header_bytes_limit(&(hp_limits_t){.max_header_bytes = 64}, 64);
    check_header_bytes_limit(&(hp_limits_t){0}, 16384);
    check_header_bytes_limit(NULL, 16384);
    /* Split-independence around the boundary. */
    const char *in = "GET / HTTP/1.1\r\nHost: a\r\nX: 12\r\n\r\n"; /* 16 header bytes */
    check_all_prefixes("hbytes 16", in, strlen(in), &(hp_limits_t){.max_header_bytes = 16}, 1);
    check_all_prefixes("hbytes 15", in, strlen(in), &(hp_limits_t){.max_header_bytes = 15},
                       ERR_HEADERS_TOO_LARGE);
}

static void check_header_count_limit(const hp_limits_t *lim, size_t max)
{
    static hp_head_t h;
    buf_t b;
    buf_init(&b);
    buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (size_t i = 1; i < max; i++)
        buf_printf(&b, "X-%zu: v\r\n", i);
    const size_t extra = b.n; /* where line max+1 goes */
    buf_append_str(&b, "\r\n");
    char *owned;
    assert_int_equal(parse_copy(b.p, b.n, lim, &h, &owned), 1);
    assert_int_equal(h.nheaders, max);
    char last[32] = "Host";
    if (max > 1) snprintf(last, sizeof last, "X-%zu", max - 1);
    expect_str("count", "last name", h.headers[max - 1].name, last);
    free(owned);
    b.n = extra;
    buf_append_str(&b, "Y: z\r\n\r\n");
    assert_int_equal(parse_buf(&b, lim), ERR_HEADERS_TOO_LARGE);
    /* Refused at the first byte of the extra line, not before. */
    b.n = extra + 1;
    assert_int_equal(parse_buf(&b, lim), ERR_HEADERS_TOO_LARGE);
    b.n = extra;
    assert_int_equal(parse_buf(&b, lim), 0);
    buf_cleanup(&b);
}

static void test_limit_header_count(void **state)
{
    (void)state;
    check_header_count_limit(&(hp_limits_t){.max_headers = 3}, 3);
    check_header_count_limit(&(hp_limits_t){.max_headers = 1}, 1);
    check_header_count_limit(&(hp_limits_t){0}, 100);
    check_header_count_limit(NULL, 100);
    /* A configured count above the array size is capped at it. */
    check_header_count_limit(&(hp_limits_t){.max_headers = 1000}, HP_MAX_HEADERS_CAP);
}

/* ---- pipelining ---- */

static void test_head_pipelined(void **state)
{
    (void)state;
    static hp_head_t h;
    const char *in = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                     "GET /c HTTP/1.0\r\n\r\n";
    size_t n = strlen(in);
    char *b = copy(in, n);
    size_t off = 0;
    assert_int_equal(hp_parse_head(b, n, NULL, &h, NULL), 1);
    expect_str("pipe", "path 1", h.path, "/a");
    assert_int_equal(h.head_len, strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
    off += h.head_len;
    assert_int_equal(hp_parse_head(b + off, n - off, NULL, &h, NULL), 1);
    expect_str("pipe", "path 2", h.path, "/b");
    assert_true(h.has_content_length);
    assert_memory_equal(b + off + h.head_len, "hello", 5);
    off += h.head_len + h.content_length;
    assert_int_equal(hp_parse_head(b + off, n - off, NULL, &h, NULL), 1);
    expect_str("pipe", "path 3", h.path, "/c");
    assert_int_equal(off + h.head_len, n);
    free(b);
    /* The first head alone, fed with all its prefixes, ignores what follows. */
    check_all_prefixes("pipelined", in, n, NULL, 1);
}

/* ---- chunked bodies ---- */

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

struct feed_result {
    int rc;
    buf_t body;      /* decoded bytes */
    size_t leftover; /* input bytes after the end of the body */
};

/* Feeds in[0..n) to a fresh decoder in pieces: piece == 0 means random sizes
 * from seed, otherwise pieces of that size. Each piece is its own exact-size
 * heap copy; stops at the first non-zero result. */
static struct feed_result feed(const char *in, size_t n, size_t piece, uint32_t seed,
                               uint64_t max_body, const hp_limits_t *lim)
{
    struct feed_result r = {0};
    buf_init(&r.body);
    hp_chunked_t c;
    hp_chunked_init(&c);
    size_t off = 0;
    do {
        size_t k = piece ? piece : 1 + rng_next(&seed) % 9;
        if (k > n - off) k = n - off;
        char *b = copy(in + off, k);
        size_t used = k, out = 0;
        const char *em = NULL;
        r.rc = hp_chunked_decode(&c, b, &used, &out, max_body, lim, &em);
        assert_true(used <= k);
        assert_true(out <= used);
        if (r.rc < 0) assert_non_null(em);
        if (r.rc == 0) assert_int_equal(used, k); /* all input taken when waiting */
        buf_append(&r.body, b, out);
        free(b);
        off += used;
        if (r.rc != 0) break;
    } while (off < n);
    assert_int_equal(c.total, r.body.n);
    r.leftover = n - off;
    return r;
}

struct chunk_ok {
    const char *name, *in, *body, *rest;
};

static const struct chunk_ok chunk_ok_cases[] = {
    {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", ""},
    {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", ""},
    {"empty body", "0\r\n\r\n", "", ""},
    {"hex digits", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", ""},
    {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", ""},
    {"sixteen digits", "0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n", "hello", ""},
    {"extensions", "5;a=b;c\r\nhello\r\n0;last=\"x y\"\r\n\r\n", "hello", ""},
    {"BWS before extension", "5 \t;a\r\nhello\r\n0\r\n\r\n", "hello", ""},
    {"extension obs-text", "5;n=\xc3\xa9\r\nhello\r\n0\r\n\r\n", "hello", ""},
    {"trailers", "5\r\nhello\r\n0\r\nX-Sum: 1\r\ny:\r\n\r\n", "hello", ""},
    {"framing inside data", "7\r\n0\r\n\r\nab\r\n0\r\n\r\n", "0\r\n\r\nab", ""},
    {"pipelined rest", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "abc", "GET / HTTP/1.1\r\n"},
    {"pipelined after trailer", "0\r\nA: b\r\n\r\n\r\n", "", "\r\n"},
};

static void check_feed_ok(const struct chunk_ok *c, size_t piece, uint32_t seed)
{
    size_t n = strlen(c->in);
    struct feed_result r = feed(c->in, n, piece, seed, UINT64_MAX, NULL);
    if (r.rc != 1) fail_msg("%s (piece %zu seed %u): rc %d", c->name, piece, seed, r.rc);
    if (r.body.n != strlen(c->body) || memcmp(r.body.p, c->body, r.body.n) != 0)
        fail_msg("%s (piece %zu seed %u): body \"%.*s\"", c->name, piece, seed, (int)r.body.n,
                 r.body.p);
    if (r.leftover != strlen(c->rest) || memcmp(c->in + n - r.leftover, c->rest, r.leftover) != 0)
        fail_msg("%s (piece %zu seed %u): leftover %zu", c->name, piece, seed, r.leftover);
    buf_cleanup(&r.body);
}

static void test_chunked_accept(void **state)
{
    (void)state;
    for (size_t i = 0; i < LEN(chunk_ok_cases); i++) {
        const struct chunk_ok *c = &chunk_ok_cases[i];
        check_feed_ok(c, strlen(c->in), 0); /* whole */
        check_feed_ok(c, 1, 0);             /* byte at a time */
        check_feed_ok(c, 2, 0);
        for (uint32_t seed = 1; seed <= 50; seed++)
            check_feed_ok(c, 0, seed);
    }
}

struct chunk_err {
    const char *name, *in;
    size_t len; /* 0: strlen(in) */
    int code;
};

static const struct chunk_err chunk_err_cases[] = {
    {"bare LF after size", "5\nhello\r\n0\r\n\r\n", 0, BAD},
    {"bare LF after data", "5\r\nhello\n0\r\n\r\n", 0, BAD},
    {"bare CR after size", "5\rhello\r\n0\r\n\r\n", 0, BAD},
    {"no CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", 0, BAD},
    {"CR then junk after data", "5\r\nhello\rX0\r\n\r\n", 0, BAD},
    {"junk then LF after data", "5\r\nhelloX\n0\r\n\r\n", 0, BAD},
    {"data longer than size", "3\r\nhello\r\n0\r\n\r\n", 0, BAD},
    {"missing size", "\r\nhello\r\n0\r\n\r\n", 0, BAD},
    {"extension without size", ";a\r\n", 0, BAD},
    {"non-hex size", "g\r\n", 0, BAD},
    {"plus sign", "+5\r\nhello\r\n0\r\n\r\n", 0, BAD},
    {"minus sign", "-5\r\nhello\r\n0\r\n\r\n", 0, BAD},
    {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 0, BAD},
    {"seventeen digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", 0, BAD},
    /* too many digits is framing (400) even when the value would also be too large */
    {"forty f digits", "ffffffffffffffffffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 0, BAD},
    {"space inside size", "5 5\r\n", 0, BAD},
    {"leading space", " 5\r\n", 0, BAD},
    {"NUL in size line", IN("5;a\0\r\nhello\r\n0\r\n\r\n"), BAD},
    {"control in extension", "5;a\x01\r\nhello\r\n0\r\n\r\n", 0, BAD},
    {"LF in extension", "5;a\nb\r\n", 0, BAD},
    {"bare LF last chunk", "0\n\r\n", 0, BAD},
    {"bare LF final line", "0\r\n\n", 0, BAD},
    {"CR junk final line", "0\r\n\rX", 0, BAD},
    {"trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", 0, BAD},
    {"trailer no colon", "0\r\nX\r\n\r\n", 0, BAD},
    {"trailer space before colon", "0\r\nX : a\r\n\r\n", 0, BAD},
    {"trailer empty name", "0\r\n: a\r\n\r\n", 0, BAD},
    {"trailer bare LF", "0\r\nX: a\n\r\n", 0, BAD},
    {"trailer bare CR", "0\r\nX: a\rb\r\n\r\n", 0, BAD},
    {"trailer NUL", IN("0\r\nX: \0\r\n\r\n"), BAD},
    {"trailer DEL", "0\r\nX: \x7f\r\n\r\n", 0, BAD},
};

static void test_chunked_reject(void **state)
{
    (void)state;
    for (size_t i = 0; i < LEN(chunk_err_cases); i++) {
        const struct chunk_err *c = &chunk_err_cases[i];
        size_t n = c->len ? c->len : strlen(c->in);
        size_t pieces[] = {n, 1, 2, 3, 0, 0, 0, 0, 0};
        for (size_t k = 0; k < LEN(pieces); k++) {
            struct feed_result r = feed(c->in, n, pieces[k], (uint32_t)k, UINT64_MAX, NULL);
            if (r.rc != c->code)
                fail_msg("%s (piece %zu): got %d, want %d", c->name, pieces[k], r.rc, c->code);
            buf_cleanup(&r.body);
        }
    }
}

static void expect_feed(const char *name, const char *in, uint64_t max_body, const hp_limits_t *lim,
                        int want)
{
    size_t n = strlen(in);
    size_t pieces[] = {n, 1, 0, 0, 0};
    for (size_t k = 0; k < LEN(pieces); k++) {
        struct feed_result r = feed(in, n, pieces[k], (uint32_t)k + 7, max_body, lim);
        if (r.rc != want) fail_msg("%s (piece %zu): got %d, want %d", name, pieces[k], r.rc, want);
        buf_cleanup(&r.body);
    }
}

static void test_chunked_max_body(void **state)
{
    (void)state;
    expect_feed("body at max", "5\r\nhello\r\n0\r\n\r\n", 5, NULL, 1);
    expect_feed("body over max", "5\r\nhello\r\n0\r\n\r\n", 4, NULL, ERR_TOO_LARGE);
    expect_feed("two chunks at max", "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 6, NULL, 1);
    expect_feed("two chunks over max", "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 5, NULL, ERR_TOO_LARGE);
    expect_feed("empty body, max 0", "0\r\n\r\n", 0, NULL, 1);
    expect_feed("huge size", "ffffffffffffffff\r\n", UINT64_MAX - 1, NULL, ERR_TOO_LARGE);
    expect_feed("huge size allowed", "ffffffffffffffff\r\nabc", UINT64_MAX, NULL, 0);

    /* Refused from the size line, before any of the chunk's data arrives. */
    char in[] = "3\r\nabc\r\n3\r\n";
    hp_chunked_t c;
    hp_chunked_init(&c);
    size_t used = sizeof in - 1, out = 0;
    assert_int_equal(hp_chunked_decode(&c, in, &used, &out, 5, NULL, NULL), ERR_TOO_LARGE);
    assert_int_equal(out, 3);
    assert_memory_equal(in, "abc", 3);
    assert_int_equal(c.total, 3);
}

static void test_chunked_size_line_limit(void **state)
{
    (void)state;
    const hp_limits_t lim = {.max_request_line = 16};
    /* "5;" + 14 extension bytes = 16 bytes before the CRLF. */
    expect_feed("line at limit", "5;abcdefghijklmn\r\nhello\r\n0\r\n\r\n", UINT64_MAX, &lim, 1);
    expect_feed("line over limit", "5;abcdefghijklmno\r\nhello\r\n0\r\n\r\n", UINT64_MAX, &lim,
                ERR_BAD_REQUEST);
    expect_feed("last chunk over limit", "0;abcdefghijklmno\r\n\r\n", UINT64_MAX, &lim,
                ERR_BAD_REQUEST);
    /* The count restarts on every size line. */
    expect_feed(
        "each line at limit",
        "5;abcdefghijklmn\r\nhello\r\n5;abcdefghijklmn\r\nworld\r\n0;abcdefghijklmn\r\n\r\n",
        UINT64_MAX, &lim, 1);
    /* The default is 8192. */
    buf_t b;
    buf_init(&b);
    buf_append_str(&b, "1;");
    while (b.n < 8192)
        buf_append(&b, "e", 1);
    buf_append_str(&b, "\r\nx\r\n0\r\n\r\n");
    expect_feed("default at limit", b.p, UINT64_MAX, NULL, 1);
    buf_reset(&b);
    buf_append_str(&b, "1;");
    while (b.n < 8193)
        buf_append(&b, "e", 1);
    buf_append_str(&b, "\r\nx\r\n0\r\n\r\n");
    expect_feed("default over limit", b.p, UINT64_MAX, NULL, ERR_BAD_REQUEST);
    buf_cleanup(&b);
}

static void test_chunked_trailer_limits(void **state)
{
    (void)state;
    const hp_limits_t two = {.max_headers = 2};
    expect_feed("trailers at count", "0\r\nA: 1\r\nB: 2\r\n\r\n", UINT64_MAX, &two, 1);
    expect_feed("trailers over count", "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", UINT64_MAX, &two,
                ERR_HEADERS_TOO_LARGE);
    const hp_limits_t bytes = {.max_header_bytes = 14}; /* "A: 1\r\n" + "B: 123\r\n" */
    expect_feed("trailers at bytes", "0\r\nA: 1\r\nB: 123\r\n\r\n", UINT64_MAX, &bytes, 1);
    expect_feed("trailers over bytes", "0\r\nA: 1\r\nB: 1234\r\n\r\n", UINT64_MAX, &bytes,
                ERR_HEADERS_TOO_LARGE);
}

static void test_chunked_done_and_pipelined(void **state)
{
    (void)state;
    static hp_head_t h;
    const char *in = "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
                     "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    size_t n = strlen(in);
    char *b = copy(in, n);
    assert_int_equal(hp_parse_head(b, n, NULL, &h, NULL), 1);
    assert_true(h.chunked);
    hp_chunked_t c;
    hp_chunked_init(&c);
    size_t used = n - h.head_len, out = 0;
    char *body = b + h.head_len;
    assert_int_equal(hp_chunked_decode(&c, body, &used, &out, 1 << 20, NULL, NULL), 1);
    assert_int_equal(out, 9);
    assert_memory_equal(body, "Wikipedia", 9);
    assert_int_equal(used, strlen("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"));
    /* The next request is untouched by the in-place decoding. */
    size_t next = h.head_len + used;
    assert_int_equal(hp_parse_head(b + next, n - next, NULL, &h, NULL), 1);
    expect_str("pipe", "next path", h.path, "/next");
    /* A finished decoder consumes nothing more. */
    size_t more = 3;
    out = 99;
    assert_int_equal(hp_chunked_decode(&c, b, &more, &out, 1 << 20, NULL, NULL), 1);
    assert_int_equal(more, 0);
    assert_int_equal(out, 0);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_accept),
        cmocka_unit_test(test_head_fields),
        cmocka_unit_test(test_head_reject),
        cmocka_unit_test(test_limit_request_line),
        cmocka_unit_test(test_limit_header_bytes),
        cmocka_unit_test(test_limit_header_count),
        cmocka_unit_test(test_head_pipelined),
        cmocka_unit_test(test_chunked_accept),
        cmocka_unit_test(test_chunked_reject),
        cmocka_unit_test(test_chunked_max_body),
        cmocka_unit_test(test_chunked_size_line_limit),
        cmocka_unit_test(test_chunked_trailer_limits),
        cmocka_unit_test(test_chunked_done_and_pipelined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

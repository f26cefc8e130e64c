/* http_parse.h — a strict, incremental HTTP/1.1 request parser.
 *
 * Why our own and not http-parser: Debian ships http-parser built without
 * HTTP_PARSER_STRICT, so it accepts a bare LF as a line end and any byte in
 * place of the CRLF that closes a chunk — exactly the ambiguities that make
 * request smuggling possible — and it is no longer maintained upstream. This
 * parser is small, pure (no I/O, no allocation) and rejects every ambiguous
 * framing; it is unit-tested and fuzzed (tests/fuzz/fuzz_http_parse.c).
 *
 * Two parts:
 *  - hp_parse_head() parses the request line and headers from the start of a
 *    buffer. It is called again with more bytes until it completes; it checks
 *    the size limits on partial input so an oversized head is refused before
 *    it is buffered whole.
 *  - hp_chunked_* decodes a chunked body incrementally, in place.
 *
 * Rules enforced (each returns an error, never a guess):
 *  - every line ends in CRLF; a bare LF or a bare CR is an error;
 *  - method is a token; request target has no spaces/controls; version is
 *    HTTP/1.0 or HTTP/1.1 exactly;
 *  - header names are tokens; no whitespace before the colon; no obs-fold
 *    (a line starting with SP/HTAB); values have no controls except HTAB;
 *  - Content-Length is 1*DIGIT without sign or overflow; several
 *    Content-Length headers are allowed only if all values are identical;
 *  - Transfer-Encoding must be exactly "chunked" (case-insensitive) and only
 *    on HTTP/1.1; Content-Length together with Transfer-Encoding is an error;
 *  - HTTP/1.1 requires exactly one Host header;
 *  - chunk sizes are 1*HEXDIG (no sign, no overflow, at most 16 digits),
 *    optional extensions after ';', CRLF after the size line, CRLF after the
 *    data; trailers are parsed like headers and discarded.
 */
#ifndef BZ_HTTP_PARSE_H
#define BZ_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

#define HP_MAX_HEADERS_CAP 256 /* hard array bound; the configured limit is lower */

typedef struct hp_limits {
    size_t max_request_line; /* bytes, excluding CRLF; default 8192 -> ERR_URI_TOO_LONG */
    size_t max_header_bytes; /* all header lines incl. CRLFs; default 16384 -> ERR_HEADERS_TOO_LARGE */
    size_t max_headers;      /* count; default 100 -> ERR_HEADERS_TOO_LARGE */
} hp_limits_t;

typedef struct hp_header {
    str_t name, value; /* value has leading/trailing SP/HTAB trimmed */
} hp_header_t;

typedef struct hp_head {
    str_t method;       /* e.g. "GET" */
    str_t target;       /* raw request target, e.g. "/a/b?x=1" */
    str_t path;         /* target up to '?' (still percent-encoded) */
    str_t query;        /* after '?', without it; empty if none */
    int version_minor;  /* 0 or 1 */
    hp_header_t headers[HP_MAX_HEADERS_CAP];
    size_t nheaders;
    bool has_content_length;
    uint64_t content_length;
    bool chunked;
    bool keep_alive;      /* from version and Connection header */
    bool expect_continue; /* Expect: 100-continue */
    size_t head_len;      /* bytes consumed by the head incl. the final CRLF */
} hp_head_t;

/* hp_parse_head: parses buf[0..len). All str_t in *out point into buf.
 * Returns 1 when the head is complete (out->head_len set), 0 when more bytes
 * are needed, or a negative ERR_* code:
 *   ERR_URI_TOO_LONG       request line longer than max_request_line
 *   ERR_HEADERS_TOO_LARGE  header bytes or count over the limits
 *   ERR_BAD_REQUEST        anything malformed or ambiguous
 *   ERR_NOT_IMPLEMENTED    a Transfer-Encoding other than chunked
 * On error, *errmsg (optional) is set to a static human-readable reason.
 * lim may be NULL (all defaults); max_headers is capped at HP_MAX_HEADERS_CAP;
 * on 0 or an error *out is unspecified. */
int hp_parse_head(const char *buf, size_t len, const hp_limits_t *lim, hp_head_t *out,
                  const char **errmsg);

/* hp_header_get: the first header named name (case-insensitive), or NULL. */
const hp_header_t *hp_header_get(const hp_head_t *h, const char *name);

/* Chunked body decoder. */
typedef struct hp_chunked {
    int state;          /* private */
    uint64_t remaining; /* bytes left in the current chunk (private) */
    int digits;         /* private */
    size_t trailer_bytes;
    size_t trailer_count;
    uint64_t total; /* decoded body bytes so far */
} hp_chunked_t;

void hp_chunked_init(hp_chunked_t *c);
/* hp_chunked_decode: decodes buf[0..*len) in place. On return *len is the
 * number of input bytes consumed, *out_len the number of decoded body bytes
 * now at the start of buf (decoded bytes are moved down over the framing).
 * Returns 1 when the body (incl. trailers and the final CRLF) is complete —
 * bytes after it are not consumed (they belong to the next request) — 0 when
 * more input is needed, ERR_BAD_REQUEST on malformed framing, ERR_TOO_LARGE
 * when total would exceed max_body, ERR_HEADERS_TOO_LARGE when trailers
 * exceed the header limits in lim. max_body is literal (0 allows only an
 * empty body; UINT64_MAX means no limit). When it returns 0 all input has
 * been consumed. After it has returned 1, further calls return 1 and consume
 * nothing. Too many size digits is ERR_BAD_REQUEST even when the value would
 * also exceed max_body. */
int hp_chunked_decode(hp_chunked_t *c, char *buf, size_t *len, size_t *out_len, uint64_t max_body,
                      const hp_limits_t *lim, const char **errmsg);

#endif

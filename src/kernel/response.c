/* response.c — building responses (http_json, http_error, ...) and
 * serializing them into the connection's output buffer. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "server_internal.h"

void http_res_init(http_res_t *res)
{
    memset(res, 0, sizeof *res);
    res->status = 200;
}

void http_res_cleanup(http_res_t *res)
{
    buf_cleanup(&res->headers);
    buf_cleanup(&res->body);
}

/* ---- JSON out ---------------------------------------------------------------
 * Bodies are written straight into the response buffer, byte for byte what
 * json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(9)) gives: jansson's dump
 * builds a loop-detection table keyed by printf'd pointers for every object
 * and array and goes through a growing intermediate string, which made it
 * the largest user-space cost of a short JSON answer. Our trees come from
 * our own code (no cycles); past JSON_OUT_MAX_DEPTH the jansson path is
 * used, which refuses what it refuses. */
#define JSON_OUT_MAX_DEPTH 256

static void out_string(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_reserve(b, n + 2);
    buf_append(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, pending */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            run++;
            continue;
        }
        buf_append(b, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0};
        size_t k = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            k = 6;
        }
        buf_append(b, esc, k);
    }
    buf_append(b, s + n - run, run);
    buf_append(b, "\"", 1);
}

/* out_real: jansson's jsonp_dtostr — "%.9g", ".0" when it would read back
 * as an integer, exponent without '+' or leading zeros. */
static void out_real(buf_t *b, double v)
{
    char t[64];
    int n = snprintf(t, sizeof t - 2, "%.9g", v);
    if (n < 0 || n >= (int)sizeof t - 2) return;
    if (!strchr(t, '.') && !strchr(t, 'e')) {
        memcpy(t + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(t, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-') start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(t + n + 1 - end));
            n -= (int)(end - start);
        }
    }
    buf_append(b, t, (size_t)n);
}

static bool out_value(buf_t *b, const json_t *j, int depth)
{
    if (depth > JSON_OUT_MAX_DEPTH) return false;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        buf_append(b, "{", 1);
        bool first = true;
        for (void *it = json_object_iter((json_t *)j); it;
             it = json_object_iter_next((json_t *)j, it)) {
            if (!first) buf_append(b, ",", 1);
            first = false;
            out_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
            buf_append(b, ":", 1);
            if (!out_value(b, json_object_iter_value(it), depth + 1)) return false;
        }
        buf_append(b, "}", 1);
        return true;
    }
    case JSON_ARRAY: {
        buf_append(b, "[", 1);
        for (size_t i = 0, n = json_array_size(j); i < n; i++) {
            if (i) buf_append(b, ",", 1);
            if (!out_value(b, json_array_get(j, i), depth + 1)) return false;
        }
        buf_append(b, "]", 1);
        return true;
    }
    case JSON_STRING:
        out_string(b, json_string_value(j), json_string_length(j));
        return true;
    case JSON_INTEGER: {
        char t[24];
        int n = snprintf(t, sizeof t, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        buf_append(b, t, (size_t)n);
        return true;
    }
    case JSON_REAL:
        out_real(b, json_real_value(j));
        return true;
    case JSON_TRUE: buf_append(b, "true", 4); return true;
    case JSON_FALSE: buf_append(b, "false", 5); return true;
    case JSON_NULL: buf_append(b, "null", 4); return true;
    }
    return false;
}

/* json_out: the body for j (an object or an array, as json_dumps requires;
 * anything else gives an empty body, as before). */
static void json_out(buf_t *b, const json_t *j, size_t flags)
{
    buf_reset(b);
    if (!json_is_object(j) && !json_is_array(j)) return;
    if (out_value(b, j, 0)) return;
    buf_reset(b);
    char *s = json_dumps(j, flags);
    if (s) {
        buf_append_str(b, s);
        free(s);
    }
}

int http_json(http_res_t *res, int status, json_t *j)
{
    res->status = status;
    res->content_type = NULL;
    json_out(&res->body, j, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(j);
    return 0;
}

int http_text(http_res_t *res, int status, const char *content_type, const char *body, size_t len)
{
    res->status = status;
    res->content_type = content_type;
    buf_reset(&res->body);
    buf_append(&res->body, body, len);
    return 0;
}

void http_set_header(http_res_t *res, const char *name, const char *value)
{
    /* CR/LF in a value would split the header: never let it through. */
    buf_append_str(&res->headers, name);
    buf_append_str(&res->headers, ": ");
    for (const char *p = value; *p; p++)
        if (*p != '\r' && *p != '\n') buf_append(&res->headers, p, 1);
    buf_append_str(&res->headers, "\r\n");
}

int http_error(http_res_t *res, int code, const char *fmt, ...)
{
    char msg[1024];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap); /* a long message is cut, never overflowed */
        va_end(ap);
    } else {
        snprintf(msg, sizeof msg, "%s", err_message(code));
    }
    res->status = err_status(code);
    res->err = code;
    res->content_type = NULL;
    json_t *j = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", err_api_code(code), "message",
                          msg, "request_id", res->request_id);
    if (!j) /* msg was not valid UTF-8 */
        j = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", err_api_code(code), "message",
                      err_message(code), "request_id", res->request_id);
    json_out(&res->body, j, JSON_COMPACT);
    json_decref(j);
    return code;
}

const char *status_reason(int s)
{
    switch (s) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* http_date: the Date header value, formatted once per second per thread. */
static const char *http_date(void)
{
    static _Thread_local time_t last;
    static _Thread_local char buf[40];
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return buf;
}

/* append_uint: decimal digits of v. */
static void append_uint(buf_t *o, size_t v)
{
    char d[24];
    int n = 0;
    do {
        d[sizeof d - 1 - (size_t)n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(o, d + sizeof d - n, (size_t)n);
}

#define APPEND_LIT(o, s) buf_append((o), (s), sizeof(s) - 1)

/* response_serialize: status line, headers and body into c->out. Built with
 * plain appends (no printf): this runs for every response. */
void response_serialize(conn_t *c, bool head_only)
{
    http_res_t *res = &c->res;
    buf_t *o = &c->out;
    buf_reset(o);
    if (atomic_load(&c->streamed)) { /* the handler wrote it (stream.c): only close */
        c->close_after = true;
        atomic_store(&c->streamed, false);
        return;
    }
    buf_reserve(o, 256 + res->headers.n + res->body.n);
    int minor = c->head && c->head->version_minor == 0 ? 0 : 1;
    APPEND_LIT(o, "HTTP/1.");
    buf_append(o, minor ? "1 " : "0 ", 2);
    append_uint(o, (size_t)res->status);
    buf_append(o, " ", 1);
    buf_append_str(o, status_reason(res->status));
    APPEND_LIT(o, "\r\nDate: ");
    buf_append_str(o, http_date());
    APPEND_LIT(o, "\r\nContent-Type: ");
    buf_append_str(o, res->content_type ? res->content_type : "application/json");
    /* RFC 9110 §8.6: no Content-Length on a 1xx or 204 (MUST NOT), and on
     * a 304 it could only repeat the 200's length, which we do not know */
    bool no_content = res->status < 200 || res->status == 204 || res->status == 304;
    if (no_content) {
    } else if (!res->streamed) {
        APPEND_LIT(o, "\r\nContent-Length: ");
        append_uint(o, res->body.n);
    } else if (res->stream_length >= 0) { /* the body follows, written by the handler */
        APPEND_LIT(o, "\r\nContent-Length: ");
        append_uint(o, (size_t)res->stream_length);
    } else if (minor == 1) {
        APPEND_LIT(o, "\r\nTransfer-Encoding: chunked");
    } /* else HTTP/1.0, unknown length: delimited by the close (close_after is set) */
    APPEND_LIT(o, "\r\nX-Request-ID: ");
    buf_append_str(o, c->req.request_id ? c->req.request_id : "-");
    APPEND_LIT(o, "\r\nX-Content-Type-Options: nosniff\r\n");
    if (c->close_after || atomic_load(&c->loop->srv->stopping))
        APPEND_LIT(o, "Connection: close\r\n");
    else if (minor == 0)
        APPEND_LIT(o, "Connection: keep-alive\r\n");
    if (res->headers.n) buf_append(o, res->headers.p, res->headers.n);
    APPEND_LIT(o, "\r\n");
    if (!head_only && !no_content && !res->streamed && res->body.n)
        buf_append(o, res->body.p, res->body.n);
}

/* csv.c — the RFC 4180 reader and writer (see csv.h). The reader is a
 * small state machine over the bytes of the input: it never allocates per
 * field (fields are appended, unescaped, to one buffer) and never reads past
 * the end, which the fuzzer (tests/fuzz/fuzz_crm_csv.c) checks. */
#include "csv.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

void csv_init(csv_reader_t *r, const char *data, size_t n)
{
    memset(r, 0, sizeof *r);
    r->p = data;
    r->end = data + n;
    r->line = 1;
    buf_init(&r->buf);
    if (n >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) r->p += 3;
}

void csv_cleanup(csv_reader_t *r) { buf_cleanup(&r->buf); }

/* eol: the length of the line end at p (CRLF 2, LF or CR 1), or 0. */
static size_t eol(const csv_reader_t *r, const char *p)
{
    if (p >= r->end) return 0;
    if (*p == '\n') return 1;
    if (*p == '\r') return p + 1 < r->end && p[1] == '\n' ? 2 : 1;
    return 0;
}

/* skip_line: moves past the rest of the current line (error recovery). */
static void skip_line(csv_reader_t *r)
{
    while (r->p < r->end) {
        size_t e = eol(r, r->p);
        if (e) {
            r->p += e;
            r->line++;
            return;
        }
        r->p++;
    }
}

static int bad(csv_reader_t *r, const char *why, bool resync)
{
    snprintf(r->why, sizeof r->why, "%s", why);
    if (resync) skip_line(r);
    return ERR_VALIDATION;
}

static int end_field(csv_reader_t *r, size_t start)
{
    if (r->nfields == CSV_FIELDS_MAX) return -1;
    r->off[r->nfields] = start;
    r->len[r->nfields] = r->buf.n - start;
    r->nfields++;
    buf_append(&r->buf, "", 1);
    return 0;
}

int csv_next(csv_reader_t *r)
{
    buf_reset(&r->buf);
    r->nfields = 0;
    r->why[0] = '\0';
    /* empty lines are not records */
    for (size_t e; (e = eol(r, r->p)) != 0; r->p += e)
        r->line++;
    if (r->p >= r->end) return 0;
    r->record_line = r->line;
    for (;;) {
        size_t start = r->buf.n;
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            for (;;) {
                if (r->p >= r->end) return bad(r, "a quoted field is not closed", false);
                char c = *r->p;
                if (c == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        buf_append(&r->buf, "\"", 1);
                        r->p += 2;
                        continue;
                    }
                    r->p++;
                    break;
                }
                if (c == '\0') return bad(r, "a NUL byte", true);
                if (c == '\n' || (c == '\r' && !(r->p + 1 < r->end && r->p[1] == '\n'))) r->line++;
                buf_append(&r->buf, &c, 1);
                r->p++;
                if (r->buf.n - start > CSV_FIELD_MAX) return bad(r, "a field is too long", true);
            }
            if (r->p < r->end && *r->p != ',' && !eol(r, r->p))
                return bad(r, "text after a closing quote", true);
        } else {
            while (r->p < r->end && *r->p != ',' && !eol(r, r->p)) {
                char c = *r->p;
                if (c == '"') return bad(r, "a quote inside an unquoted field", true);
                if (c == '\0') return bad(r, "a NUL byte", true);
                buf_append(&r->buf, &c, 1);
                r->p++;
                if (r->buf.n - start > CSV_FIELD_MAX) return bad(r, "a field is too long", true);
            }
        }
        if (end_field(r, start) < 0) return bad(r, "too many fields", true);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        size_t e = eol(r, r->p);
        r->p += e;
        if (e) r->line++;
        return 1;
    }
}

const char *csv_field(const csv_reader_t *r, size_t i, size_t *n)
{
    if (i >= r->nfields) {
        if (n) *n = 0;
        return "";
    }
    if (n) *n = r->len[i];
    return r->buf.p + r->off[i];
}

static bool number_like(const char *s)
{
    for (; *s; s++)
        if (!strchr("0123456789 +-().,/", *s)) return false;
    return true;
}

void csv_write_field(buf_t *b, const char *s)
{
    if (!s || !*s) {
        buf_append(b, "", 0);
        return;
    }
    size_t n = strlen(s);
    bool formula = strchr("=@\t\r", s[0]) || ((s[0] == '+' || s[0] == '-') && !number_like(s + 1));
    /* a leading byte-order mark would be taken for the file's own */
    bool bom = n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3);
    bool quote = formula || bom || strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[n - 1] == ' ';
    if (!quote) {
        buf_append(b, s, n);
        return;
    }
    buf_append(b, "\"", 1);
    if (formula) buf_append(b, "'", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"') buf_append(b, "\"", 1);
        buf_append(b, p, 1);
    }
    buf_append(b, "\"", 1);
}

/* csv.h — an RFC 4180 CSV reader and writer (no I/O: it works on a buffer).
 *
 * Reading: fields separated by ',', records ended by CRLF, LF or a lone CR;
 * a field that starts with '"' is quoted: it may hold commas, line breaks
 * and quotes written twice (""), and must be followed by ',', a line end or
 * the end of input. Everything else is refused with the line it is on: a
 * quote inside an unquoted field, text after a closing quote, an
 * unterminated quote, a NUL byte, a field over CSV_FIELD_MAX bytes, a
 * record of more than CSV_FIELDS_MAX fields. After an error the reader
 * resumes at the next line, so one bad record costs only itself. Empty lines
 * are skipped and a UTF-8 byte-order mark at the start is ignored.
 *
 * Writing quotes a field when it must (',', '"', CR, LF, surrounding
 * blanks) and defuses spreadsheet formulas: a field starting with '=', '@',
 * a tab or CR, or with '+' / '-' followed by anything but a number-like
 * text, gets a leading apostrophe (OWASP "CSV injection"); the reader's
 * caller (the lead import) strips such an apostrophe again. */
#ifndef BZ_CRM_CSV_H
#define BZ_CRM_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

#define CSV_FIELD_MAX 65536
#define CSV_FIELDS_MAX 256

typedef struct csv_reader {
    const char *p, *end;
    size_t line;                   /* line number of p (1-based) */
    buf_t buf;                     /* the current record's fields, each NUL-terminated */
    size_t off[CSV_FIELDS_MAX];    /* offsets of the fields in buf */
    size_t len[CSV_FIELDS_MAX];
    size_t nfields;
    size_t record_line;            /* the line the current record started on */
    char why[128];                 /* the last error */
} csv_reader_t;

/* csv_init: reads data[0..n) (borrowed: it must outlive the reader). */
void csv_init(csv_reader_t *r, const char *data, size_t n);
void csv_cleanup(csv_reader_t *r);

/* csv_next: the next record: 1 (fields readable with csv_field), 0 at the
 * end, or ERR_VALIDATION for a malformed record (r->why says why and
 * r->record_line where; call csv_next again to continue after it). */
int csv_next(csv_reader_t *r);
/* csv_field: field i of the current record (NUL-terminated; embedded NULs
 * are refused), valid until the next csv_next. *n (optional) its length. */
const char *csv_field(const csv_reader_t *r, size_t i, size_t *n);

/* csv_write_field: appends s as one field (quoted when needed, formulas
 * defused; see above). NULL writes an empty field. */
void csv_write_field(buf_t *b, const char *s);

#endif

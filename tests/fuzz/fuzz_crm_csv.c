/* fuzz_crm_csv.c — libFuzzer harness for the CRM's RFC 4180 reader and
 * writer (src/contexts/crm/csv.c): any input must parse without reading
 * out of bounds, every record's fields must be NUL-terminated with the
 * lengths reported, line numbers must only grow, and every field written
 * back with csv_write_field must read back as one field. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contexts/crm/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    csv_reader_t r;
    csv_init(&r, (const char *)data, size);
    size_t last_line = 0;
    int rc;
    while ((rc = csv_next(&r)) != 0) {
        assert(r.record_line >= last_line);
        last_line = r.record_line;
        if (rc < 0) continue;
        assert(r.nfields >= 1 && r.nfields <= CSV_FIELDS_MAX);
        for (size_t i = 0; i < r.nfields; i++) {
            size_t n;
            const char *f = csv_field(&r, i, &n);
            assert(strlen(f) == n);
            buf_t b;
            buf_init(&b);
            csv_write_field(&b, f);
            csv_reader_t back;
            csv_init(&back, b.p ? b.p : "", b.n);
            int got = csv_next(&back);
            /* an empty field writes nothing: no record at all */
            assert(n == 0 ? got == 0 : (got == 1 && back.nfields == 1));
            csv_cleanup(&back);
            buf_cleanup(&b);
        }
    }
    csv_cleanup(&r);
    return 0;
}

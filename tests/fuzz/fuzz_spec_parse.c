/* fuzz_spec_parse.c — libFuzzer harness for the OpenSpec parser.
 *
 * The first input byte picks the category directory (which decides the
 * required sections); the rest is one spec file's text. Besides "no crash,
 * no sanitizer report, no leak", it checks the parser's invariants: the
 * result code agrees with the problem count, every problem is one
 * "x.md:..." line, every endpoint row has a known method, a pattern that
 * starts with '/', a line inside the file, and lines in increasing order,
 * and every section line is inside the file. Each endpoint row is also fed
 * back through spec_parse_row on its own.
 *
 * Build and run (from the repository root):
 *   clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Isrc -Isrc/kernel -Isrc/store \
 *     tests/fuzz/fuzz_spec_parse.c src/spec/parse.c src/kernel/str.c \
 *     src/kernel/alloc.c -o build-fuzz/fuzz_spec_parse
 *   mkdir -p /tmp/spec-corpus
 *   build-fuzz/fuzz_spec_parse -max_total_time=60 -max_len=16384 \
 *     /tmp/spec-corpus tests/fixtures/openspec/parse openspec/specs/backend
 * New inputs go to the first directory only; the fixtures are read-only
 * seeds (their first byte, '#', selects the frontend category).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "spec/spec.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    enum spec_category cat = (enum spec_category)(data[0] % SPEC_NCATEGORIES);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    spec_doc_t doc;
    spec_diags_t d;
    spec_diags_init(&d);
    int rc = spec_parse(&doc, "x.md", cat, text, len, &d);
    CHECK(rc == 0 || rc == ERR_VALIDATION);
    CHECK((rc == 0) == (d.count == 0));
    if (d.count) {
        /* one problem per line, each naming the file */
        size_t lines = 0;
        for (const char *p = d.text.p; *p; p++)
            lines += *p == '\n';
        CHECK(lines == d.count);
        CHECK(strncmp(d.text.p, "x.md", 4) == 0);
        CHECK(d.text.p[d.text.n - 1] == '\n');
    }
    CHECK(doc.nlines >= 0);
    CHECK(doc.api_line >= 0 && doc.api_line <= doc.nlines);
    CHECK(doc.api_table_end <= doc.nlines);
    CHECK(doc.changes_line <= doc.changes_end || doc.changes_line == 0);
    CHECK(doc.changes_end <= doc.nlines);
    CHECK(doc.category == cat);
    int last = 0;
    for (size_t i = 0; i < doc.nendpoints; i++) {
        const spec_endpoint_t *e = &doc.endpoints[i];
        CHECK(e->line > last && e->line <= doc.nlines);
        CHECK(e->line >= doc.api_line && e->line <= doc.api_table_end);
        last = e->line;
        CHECK(e->method[0] >= 'A' && e->method[0] <= 'Z');
        CHECK(e->pattern && e->pattern[0] == '/');
        CHECK(e->permission && e->permission[0]);
        CHECK(e->summary && e->summary[0]);
        /* a row rebuilt from a parsed endpoint parses back to the same */
        char *row = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&row, &n);
        CHECK(f);
        fprintf(f, "| %s | %s | %s | %s | ", e->method, e->pattern, e->permission,
                e->implemented ? "implemented" : "planned");
        for (const char *s = e->summary; *s; s++) {
            if (*s == '|') fputc('\\', f);
            fputc(*s, f);
        }
        fputs(" |", f);
        fclose(f);
        spec_endpoint_t back;
        char err[256];
        CHECK(spec_parse_row(row, n, &back, err, sizeof err) == 0);
        CHECK(strcmp(back.method, e->method) == 0);
        CHECK(strcmp(back.pattern, e->pattern) == 0);
        CHECK(strcmp(back.permission, e->permission) == 0);
        CHECK(strcmp(back.summary, e->summary) == 0);
        CHECK(back.implemented == e->implemented);
        spec_endpoint_cleanup(&back);
        free(row);
    }
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
    return 0;
}

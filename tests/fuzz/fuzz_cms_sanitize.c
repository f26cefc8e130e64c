/* fuzz_cms_sanitize.c — libFuzzer harness for the CMS's HTML sanitizer
 * (src/contexts/cms/sanitize.c).
 *
 * Besides "no crash, no sanitizer report, no leak" it checks the
 * sanitizer's promises on every input:
 *   - idempotence: sanitizing the output again gives the same bytes;
 *   - only allowed elements: every '<' in the output starts an allowed
 *     start or end tag, whose attributes are href/src/alt/title/rel, quoted;
 *   - no URL attribute with a scheme other than http, https, mailto;
 *   - no NUL byte, and the nesting of the output is balanced.
 *
 * Run: scripts/fuzz.sh cms [seconds]. Replay without clang:
 *   gcc -std=c17 -D_GNU_SOURCE -g -DCMS_FUZZ_MAIN -Isrc/kernel tests/fuzz/fuzz_cms_sanitize.c \
 *     src/contexts/cms/sanitize.c src/kernel/str.c src/kernel/alloc.c -o /tmp/cms_replay
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../src/contexts/cms/sanitize.h"

static const char *const tags[] = {"p",    "h2", "h3", "h4", "ul", "ol", "li", "a", "strong", "em",
                                   "b",    "i",  "blockquote", "code", "pre", "br", "hr", "img",
                                   NULL};
static const char *const attrs[] = {"href", "src", "alt", "title", "rel", NULL};

static int one_of(const char *const *set, const char *p, size_t n)
{
    for (int i = 0; set[i]; i++)
        if (strlen(set[i]) == n && memcmp(set[i], p, n) == 0) return 1;
    return 0;
}

static void check(const char *out, size_t n)
{
    if (memchr(out, '\0', n)) abort();
    int depth = 0;
    const char *p = out, *end = out + n;
    while ((p = memchr(p, '<', (size_t)(end - p)))) {
        p++;
        int closing = *p == '/';
        if (closing) p++;
        size_t tn = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (!one_of(tags, p, tn)) abort();
        int is_void = (tn == 2 && (!memcmp(p, "br", 2) || !memcmp(p, "hr", 2))) ||
                      (tn == 3 && !memcmp(p, "img", 3));
        if (!is_void) depth += closing ? -1 : 1;
        if (depth < 0) abort();
        p += tn;
        while (*p == ' ') {
            p++;
            size_t an = strcspn(p, "=");
            if (!one_of(attrs, p, an) || p[an] != '=' || p[an + 1] != '"') abort();
            const char *v = p + an + 2;
            const char *q = strchr(v, '"');
            if (!q) abort();
            if ((an == 4 && !memcmp(p, "href", 4)) || (an == 3 && !memcmp(p, "src", 3))) {
                size_t vn = (size_t)(q - v);
                const char *colon = memchr(v, ':', vn);
                const char *stop = v + strcspn(v, "/?#\"");
                if (colon && colon < stop) {
                    size_t sn = (size_t)(colon - v);
                    if (!((sn == 4 && !strncasecmp(v, "http", 4)) || (sn == 5 && !strncasecmp(v, "https", 5)) ||
                          (sn == 6 && !strncasecmp(v, "mailto", 6))))
                        abort();
                }
            }
            p = q + 1;
        }
        if (*p != '>') abort();
    }
    if (depth != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf_t a, b;
    buf_init(&a);
    buf_init(&b);
    cms_html_sanitize((const char *)data, size, &a);
    check(a.p, a.n);
    cms_html_sanitize(a.p, a.n, &b);
    if (a.n != b.n || memcmp(a.p, b.p, a.n) != 0) abort();
    buf_cleanup(&a);
    buf_cleanup(&b);
    return 0;
}

#ifdef CMS_FUZZ_MAIN
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) continue;
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif

/* test_web.c — the web portals' file table (src/web/cache.c): which paths
 * may be looked up, what a load finds (hidden files and symlinks out of the
 * root are not), content types, hashes, gzip copies, the HTML rewrite
 * (versioned URLs, import map, CSP) and the size limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "web/web_internal.h"

static char g_root[PATH_MAX], g_out[PATH_MAX];

static void put(const char *dir, const char *rel, const char *content)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    for (char *s = strchr(p + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0) return -1;
    snprintf(g_root, sizeof g_root, "/tmp/bz-web-XXXXXX");
    snprintf(g_out, sizeof g_out, "/tmp/bz-web-out-XXXXXX");
    if (!mkdtemp(g_root) || !mkdtemp(g_out)) return -1;
    put(g_out, "secret.txt", "outside");
    char big[4096];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put(g_root, "shared/big.css", big);
    put(g_root, "shared/m.js", "export const a = 1;\n");
    put(g_root, "shared/img.png", "\x89PNG");
    put(g_root, "portal/index.html",
        "<head><!--bz:importmap--><link href=\"/assets/shared/big.css\">"
        "<script src=\"/assets/shared/m.js\"></script><a href=\"/assets/none.css\">"
        "<a href=\"/assets/shared/m.js?x=1\"></head>");
    put(g_root, ".hidden", "no");
    char link[PATH_MAX + 64], target[PATH_MAX + 64];
    snprintf(link, sizeof link, "%s/shared/out.txt", g_root);
    snprintf(target, sizeof target, "%s/secret.txt", g_out);
    if (symlink(target, link) != 0) return -1;
    snprintf(link, sizeof link, "%s/shared/outdir", g_root);
    if (symlink(g_out, link) != 0) return -1;
    snprintf(link, sizeof link, "%s/shared/loop", g_root);
    if (symlink(g_root, link) != 0) return -1; /* inside, but a cycle: bounded by depth */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[2 * PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", g_root, g_out);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_path_ok(void **state)
{
    (void)state;
    assert_true(web__path_ok("shared/bz.css"));
    assert_true(web__path_ok("a"));
    assert_true(web__path_ok("a/b.c/d..e"));
    const char *bad[] = {"", "/etc/passwd", "..", "../x", "a/../b", "a/./b", "a//b", "a/",
                         ".env", "a/.git/config", "a\\..\\b", "a/\x01", "a/\x7f", NULL};
    for (const char **p = bad; *p; p++)
        if (web__path_ok(*p)) fail_msg("accepted \"%s\"", *p);
}

static void test_load(void **state)
{
    (void)state;
    web_tree_t t;
    char err[512];
    assert_int_equal(web__load(g_root, 1 << 20, &t, err, sizeof err), 0);
    assert_non_null(web__find(&t, "shared/big.css"));
    assert_non_null(web__find(&t, "shared/m.js"));
    assert_non_null(web__find(&t, "portal/index.html"));
    assert_null(web__find(&t, ".hidden"));
    assert_null(web__find(&t, "shared/out.txt"));
    assert_null(web__find(&t, "shared/outdir/secret.txt"));
    assert_null(web__find(&t, "nothing"));
    /* the cycle back to the root is not walked */
    assert_null(web__find(&t, "shared/loop/shared/m.js"));
    assert_null(web__find(&t, "shared/loop"));

    const web_file_t *css = web__find(&t, "shared/big.css");
    assert_string_equal(css->ctype, "text/css; charset=utf-8");
    assert_int_equal(strlen(css->version), 16);
    assert_non_null(css->gz);
    assert_true(css->gzlen < css->len / 10);
    unsigned char back[8192];
    uLongf n = sizeof back;
    /* a gzip member: inflate with the gzip wrapper */
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = css->gz;
    z.avail_in = (uInt)css->gzlen;
    z.next_out = back;
    z.avail_out = (uInt)n;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, css->len);
    assert_memory_equal(back, css->body, css->len);
    inflateEnd(&z);

    const web_file_t *png = web__find(&t, "shared/img.png");
    assert_string_equal(png->ctype, "image/png");
    assert_null(png->gz);

    const web_file_t *html = web__find(&t, "portal/index.html");
    assert_true(html->html);
    const char *b = (const char *)html->body;
    char want[128];
    snprintf(want, sizeof want, "href=\"/assets/shared/big.css?v=%s\"", css->version);
    assert_non_null(strstr(b, want));
    assert_non_null(strstr(b, "href=\"/assets/none.css\""));    /* unknown: unchanged */
    assert_non_null(strstr(b, "href=\"/assets/shared/m.js?x=1\"")); /* has a query: unchanged */
    assert_non_null(strstr(b, "<script type=\"importmap\">{\"imports\":{"));
    assert_null(strstr(b, "<!--bz:importmap-->"));
    const web_file_t *m = web__find(&t, "shared/m.js");
    snprintf(want, sizeof want, "\"/assets/shared/m.js\":\"/assets/shared/m.js?v=%s\"", m->version);
    assert_non_null(strstr(b, want));
    assert_non_null(strstr(html->csp, "script-src 'self' 'sha256-"));
    web__free(&t);
}

static void test_limits(void **state)
{
    (void)state;
    web_tree_t t;
    char err[512];
    assert_int_equal(web__load(g_root, 1024, &t, err, sizeof err), ERR_CONFIG);
    assert_non_null(strstr(err, "BIZOSAAS_WEB_CACHE_MAX_BYTES"));
    web__free(&t);
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/none", g_root);
    assert_int_equal(web__load(missing, 1 << 20, &t, err, sizeof err), ERR_CONFIG);
    web__free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_ok),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

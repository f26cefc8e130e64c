/* test_spec.c — the OpenSpec parser on good and malformed specs, and each
 * `bizosaas spec` subcommand on fixture trees copied to a temporary
 * directory: check against fake route tables, draft (never overwrites),
 * archive round trips, status counts, and spec_main's exit codes.
 *
 * Fixtures live in tests/fixtures/openspec/ and are found relative to this
 * source file (__FILE__ is absolute under CMake). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"
#include "spec/spec.h"

/* --- helpers ------------------------------------------------------------ */

static char *fixture_path(const char *rel)
{
    const char *slash = strrchr(__FILE__, '/');
    int n = slash ? (int)(slash - __FILE__) : 1;
    return xasprintf("%.*s/../fixtures/openspec/%s", n, slash ? __FILE__ : ".", rel);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf_t b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    size_t l = 0;
    char *p = buf_release(&b, &l);
    if (!p) p = xstrdup("");
    if (len) *len = l;
    return p;
}

static void write_all(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void copy_tree(const char *from, const char *to)
{
    assert_true(mkdir(to, 0755) == 0 || errno == EEXIST);
    DIR *dp = opendir(from);
    assert_non_null(dp);
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *src = xasprintf("%s/%s", from, de->d_name);
        char *dst = xasprintf("%s/%s", to, de->d_name);
        struct stat st;
        assert_int_equal(stat(src, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(src, dst);
        } else {
            char *text = read_all(src, NULL);
            assert_non_null(text);
            write_all(dst, text);
            free(text);
        }
        free(src);
        free(dst);
    }
    closedir(dp);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A minimal spec of a registry service, so check sees every one covered. */
static void write_min_spec(const char *root, const spec_service_t *svc)
{
    char *path = xasprintf("%s/openspec/specs/%s/90-%s.md", root, spec_category_name(svc->category),
                           svc->name);
    char *text =
        xasprintf("# %s\n\n## Service Identity\n- **Service name**: %s\n"
                  "- **Status**: planned\n\n## Purpose\n%s## API Endpoints\n"
                  "## Configuration\n## Integration Points\n## Testing Strategy\n"
                  "## Deployment Checklist\n",
                  svc->name, svc->name, svc->category == SPEC_BACKEND ? "## Domain Model\n" : "");
    write_all(path, text);
    free(text);
    free(path);
}

typedef struct fx {
    char root[64];
} fx_t;

/* setup: the fixture tree in a fresh temporary directory, completed with a
 * minimal spec for every registry service it lacks. */
static int setup_tree(void **state)
{
    fx_t *fx = xcalloc(1, sizeof *fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/bz-spec-test-XXXXXX");
    if (!mkdtemp(fx->root)) return -1;
    char *src = fixture_path("tree/openspec");
    char *dst = xasprintf("%s/openspec", fx->root);
    copy_tree(src, dst);
    /* git keeps no empty directories: make every category's folder here */
    static const char *const cats[] = {"infrastructure", "backend", "frontend"};
    for (size_t i = 0; i < 3; i++) {
        char *dir = xasprintf("%s/specs/%s", dst, cats[i]);
        mkdir(dir, 0755);
        free(dir);
    }
    free(src);
    free(dst);
    for (size_t i = 0; i < spec_service_count(); i++) {
        const spec_service_t *svc = spec_service_at(i);
        if (svc->registry && strcmp(svc->name, "auth-service")) write_min_spec(fx->root, svc);
    }
    *state = fx;
    return 0;
}

static int teardown_tree(void **state)
{
    fx_t *fx = *state;
    nftw(fx->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static char *at(const fx_t *fx, const char *rel)
{
    return xasprintf("%s/%s", fx->root, rel);
}

static int h(http_req_t *req, http_res_t *res)
{
    (void)req;
    (void)res;
    return 0;
}

/* The fake route table matching the tree fixture's implemented endpoints. */
static const route_t base_routes[] = {
    {"GET", "/livez", NULL, "Liveness", h, RT_PUBLIC},
    {"GET", "/metrics", NULL, "Metrics", h, RT_PUBLIC},
    {"GET", "/api/v1/auth/tenants", "tenant.view", "List tenants", h, 0},
    {"POST", "/api/v1/auth/tenants", "platform.tenants", "Create a tenant", h, 0},
};

static router_t *base_router(void)
{
    router_t *r = router_new();
    router_add(r, base_routes, sizeof base_routes / sizeof base_routes[0]);
    return r;
}

static void parse_fixture(const char *name, enum spec_category cat, spec_doc_t *doc,
                          spec_diags_t *d, int *rc)
{
    char *path = fixture_path(name);
    size_t len;
    char *text = read_all(path, &len);
    assert_non_null(text);
    spec_diags_init(d);
    *rc = spec_parse(doc, name, cat, text, len, d);
    free(text);
    free(path);
}

static void assert_has(const spec_diags_t *d, const char *needle)
{
    if (!d->text.p || !strstr(d->text.p, needle))
        fail_msg("expected a problem containing\n  %s\nin\n%s", needle,
                 d->text.p ? d->text.p : "(none)");
}

/* --- parser ------------------------------------------------------------- */

static void test_parse_good(void **state)
{
    (void)state;
    spec_doc_t doc;
    spec_diags_t d;
    int rc;
    parse_fixture("parse/good-backend.md", SPEC_BACKEND, &doc, &d, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(d.count, 0);
    assert_string_equal(doc.title, "Identity (fixture)");
    assert_string_equal(doc.service, "auth-service");
    assert_int_equal(doc.status, SPEC_PARTIAL);
    assert_int_equal(doc.service_line, 4);
    assert_int_equal(doc.api_line, 17);
    assert_int_equal(doc.changes_line, 50);
    assert_int_equal(doc.changes_end, 54);
    /* the fenced row is not an endpoint; the row after the fence is */
    assert_int_equal(doc.nendpoints, 4);
    assert_string_equal(doc.endpoints[0].method, "GET");
    assert_string_equal(doc.endpoints[0].pattern, "/api/v1/auth/tenants");
    assert_int_equal(doc.endpoints[0].line, 21);
    assert_true(doc.endpoints[0].implemented);
    /* backticks dropped, status case-insensitive */
    assert_string_equal(doc.endpoints[1].method, "POST");
    assert_string_equal(doc.endpoints[1].permission, "platform.tenants");
    assert_true(doc.endpoints[1].implemented);
    assert_string_equal(doc.endpoints[2].summary, "Get one | or 404");
    assert_false(doc.endpoints[2].implemented);
    assert_string_equal(doc.endpoints[3].method, "DELETE");
    assert_int_equal(doc.endpoints[3].line, 32);
    assert_int_equal(doc.api_table_end, 32);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
}

static void test_parse_missing_heading(void **state)
{
    (void)state;
    spec_doc_t doc;
    spec_diags_t d;
    int rc;
    parse_fixture("parse/missing-heading.md", SPEC_INFRASTRUCTURE, &doc, &d, &rc);
    assert_int_equal(rc, ERR_VALIDATION);
    assert_int_equal(d.count, 1);
    assert_has(&d, "parse/missing-heading.md:1: the first line must be the '# Title' heading");
    assert_null(doc.title);
    /* the rest is still read */
    assert_string_equal(doc.service, "redis");
    assert_int_equal(doc.status, SPEC_PLANNED);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
}

static void test_parse_bad_rows(void **state)
{
    (void)state;
    spec_doc_t doc;
    spec_diags_t d;
    int rc;
    parse_fixture("parse/bad-row.md", SPEC_INFRASTRUCTURE, &doc, &d, &rc);
    assert_int_equal(rc, ERR_VALIDATION);
    assert_has(&d, "parse/bad-row.md:14: an endpoint row has 5 cells");
    assert_has(&d, "parse/bad-row.md:15: unknown method \"FETCH\"");
    assert_has(&d, "parse/bad-row.md:16: the path must start with '/'");
    assert_has(&d, "parse/bad-row.md:17: {name...} must be the last segment");
    assert_has(&d, "parse/bad-row.md:18: the path has a character");
    assert_has(&d, "parse/bad-row.md:19: GET /ok is listed twice (first at line 13)");
    assert_has(&d, "parse/bad-row.md:20: the status is implemented or planned");
    assert_has(&d, "parse/bad-row.md:21: the permission is");
    assert_has(&d, "parse/bad-row.md:22: the summary is empty");
    assert_has(&d, "parse/bad-row.md:23: an endpoint is written as a table row");
    assert_int_equal(d.count, 10);
    assert_int_equal(doc.nendpoints, 1);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
}

static void test_parse_unknown_service_and_category(void **state)
{
    (void)state;
    spec_doc_t doc;
    spec_diags_t d;
    int rc;
    parse_fixture("parse/unknown-service.md", SPEC_BACKEND, &doc, &d, &rc);
    assert_int_equal(rc, ERR_VALIDATION);
    assert_has(&d, "parse/unknown-service.md:4: unknown service \"django-crn\"");
    assert_has(&d, "parse/unknown-service.md:5: the Status is implemented, partial or planned");
    assert_int_equal(d.count, 2);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);

    /* a known service in the wrong directory */
    parse_fixture("parse/bad-row.md", SPEC_BACKEND, &doc, &d, &rc);
    assert_has(&d, "parse/bad-row.md:4: redis is in the infrastructure category");
    assert_has(&d, "parse/bad-row.md:1: missing required section '## Domain Model'");
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
}

static void test_parse_sections_fences_status(void **state)
{
    (void)state;
    spec_doc_t doc;
    spec_diags_t d;
    int rc;
    parse_fixture("parse/missing-section.md", SPEC_BACKEND, &doc, &d, &rc);
    assert_int_equal(rc, ERR_VALIDATION);
    assert_has(&d, "parse/missing-section.md:16: a second '## Integration Points' section");
    assert_has(&d, "parse/missing-section.md:18: this code fence is never closed");
    assert_has(&d, "parse/missing-section.md:1: missing required section '## Domain Model'");
    assert_has(&d, "parse/missing-section.md:1: missing required section '## Testing Strategy'");
    assert_has(&d, "parse/missing-section.md:12: GET /api/v1/crm/leads is implemented but the "
                   "spec's Status is planned");
    assert_int_equal(d.count, 5);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
}

static void parse_text(const char *text, size_t len, spec_doc_t *doc, spec_diags_t *d)
{
    spec_diags_init(d);
    spec_parse(doc, "x.md", SPEC_FRONTEND, text, len, d);
}

static void test_parse_hostile_input(void **state)
{
    (void)state;
    spec_doc_t doc;
    spec_diags_t d;

    parse_text("", 0, &doc, &d);
    assert_has(&d, "x.md:1: missing the '# Title' heading");
    assert_null(doc.title);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);

    static const char nul[] = "# T\n## Service Identity\n- **Service name**: re\0dis\n";
    parse_text(nul, sizeof nul - 1, &doc, &d);
    assert_has(&d, "x.md:3: the line holds a NUL byte");
    assert_null(doc.service);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);

    /* a line over the bound is reported and skipped, not read */
    buf_t b;
    buf_init(&b);
    buf_append_str(&b, "# T\n## API Endpoints\n| GET | /");
    for (int i = 0; i < SPEC_MAX_LINE; i++)
        buf_append(&b, "a", 1);
    buf_append_str(&b,
                   " | public | planned | long |\r\n| GET | /b | public | planned | crlf |\r\n");
    parse_text(b.p, b.n, &doc, &d);
    assert_has(&d, "x.md:3: the line is longer than 4096 bytes");
    assert_int_equal(doc.nendpoints, 1);
    assert_string_equal(doc.endpoints[0].summary, "crlf");
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
    buf_cleanup(&b);

    /* control characters in a message never split a problem line */
    static const char ctl[] = "# T\n## Service Identity\n- **Status**: a\x1b[2Jb\n";
    parse_text(ctl, sizeof ctl - 1, &doc, &d);
    assert_has(&d, "x.md:3: the Status is implemented, partial or planned, not \"a?[2Jb\"");
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);

    /* no trailing newline, lone '#', empty headings, bare pipes */
    static const char odd[] = "#\n##\n## API Endpoints\n|\n||\n| |\n|-|\n### \n- **x";
    parse_text(odd, sizeof odd - 1, &doc, &d);
    assert_has(&d, "x.md:1: the first line must be the '# Title' heading");
    assert_has(&d, "x.md:4: an endpoint row has 5 cells");
    assert_int_equal(doc.nendpoints, 0);
    assert_int_equal(doc.nlines, 9);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);

    /* a file over the size bound is refused before a byte is read (so the
     * short buffer behind the claimed length is never touched) */
    parse_text("# T\n", SPEC_MAX_FILE + 1, &doc, &d);
    assert_has(&d, "x.md: the file is larger than");
    assert_int_equal(d.count, 1);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&d);
}

static void test_parse_row(void **state)
{
    (void)state;
    spec_endpoint_t ep;
    char err[256];
    static const char ok[] = "  | `PATCH` | `/a/{id}/b/{rest...}` | `x.y` | planned | s \\| t";
    assert_int_equal(spec_parse_row(ok, strlen(ok), &ep, err, sizeof err), 0);
    assert_string_equal(ep.method, "PATCH");
    assert_string_equal(ep.pattern, "/a/{id}/b/{rest...}");
    assert_string_equal(ep.permission, "x.y");
    assert_string_equal(ep.summary, "s | t");
    assert_false(ep.implemented);
    spec_endpoint_cleanup(&ep);

    static const char *const bad[] = {
        "| GET | /a | p | planned | s | extra |", /* six cells */
        "GET | /a | p | planned | s |",           /* not a row */
        "| get | /a | p | planned | s |",         /* methods are upper case */
        "| GET | /a//b | p | planned | s |",      /* empty segment */
        "| GET | /a/x{id} | p | planned | s |",   /* partial parameter */
        "| GET | /a/{i-d} | p | planned | s |",   /* bad parameter name */
        "| GET | /a/{} | p | planned | s |",      /* empty parameter */
        "| GET | /a b | p | planned | s |",       /* space in the path */
        "| GET | /é | p | planned | s |",         /* non-ASCII */
        "| GET | /a | | planned | s |",           /* empty permission */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (spec_parse_row(bad[i], strlen(bad[i]), &ep, err, sizeof err) != ERR_VALIDATION)
            fail_msg("accepted: %s", bad[i]);
        assert_true(err[0] != '\0');
        assert_null(ep.pattern);
    }
}

static void test_slugify(void **state)
{
    (void)state;
    char s[64];
    assert_int_equal(spec_slugify("Add user notifications to Client Portal", s, sizeof s), 39);
    assert_string_equal(s, "add-user-notifications-to-client-portal");
    spec_slugify("  --Hello,   World!--  ", s, sizeof s);
    assert_string_equal(s, "hello-world");
    spec_slugify("Café déjà vu", s, sizeof s);
    assert_string_equal(s, "caf-d-j-vu");
    assert_int_equal(spec_slugify("!!! ---", s, sizeof s), 0);
    assert_string_equal(s, "");
    char long_title[200];
    memset(long_title, 'a', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = '\0';
    long_title[59] = ' ';
    assert_int_equal(spec_slugify(long_title, s, sizeof s), 59); /* no trailing '-' */
}

/* --- tree and check ----------------------------------------------------- */

static void test_check_clean_tree(void **state)
{
    fx_t *fx = *state;
    spec_diags_t d;
    spec_diags_init(&d);
    assert_int_equal(spec_status_write(fx->root, &d), 0);
    spec_tree_t t;
    assert_int_equal(spec_tree_load(&t, fx->root, &d), 0);
    assert_int_equal(t.ndocs, 16); /* 2 fixtures + 14 generated */
    router_t *r = base_router();
    assert_int_equal(spec_check(&t, r, &d), 0);
    assert_int_equal(d.count, 0);
    /* find by service, by file name and by stem */
    assert_non_null(spec_tree_find(&t, "auth-service"));
    assert_ptr_equal(spec_tree_find(&t, "04-auth-service"), spec_tree_find(&t, "auth-service"));
    assert_ptr_equal(spec_tree_find(&t, "04-auth-service.md"), spec_tree_find(&t, "auth-service"));
    assert_ptr_equal(spec_tree_find(&t, "brain-gateway"), spec_tree_find(&t, "01-brain-gateway"));
    assert_null(spec_tree_find(&t, "nope"));
    router_free(r);
    spec_tree_cleanup(&t);
    spec_diags_cleanup(&d);
}

static void check_with(const fx_t *fx, const router_t *r, spec_diags_t *d)
{
    spec_tree_t t;
    spec_diags_init(d);
    spec_tree_load(&t, fx->root, d);
    spec_check(&t, r, d);
    spec_tree_cleanup(&t);
}

static void test_check_drift_both_ways(void **state)
{
    fx_t *fx = *state;
    spec_diags_t d;
    spec_diags_init(&d);
    assert_int_equal(spec_status_write(fx->root, &d), 0);
    spec_diags_cleanup(&d);

    /* an implemented endpoint the binary does not serve */
    router_t *r = router_new();
    router_add(r, base_routes, 3); /* without POST /api/v1/auth/tenants */
    check_with(fx, r, &d);
    assert_has(&d, "openspec/specs/backend/04-auth-service.md:20: POST /api/v1/auth/tenants is "
                   "marked implemented but the route table has no such route");
    assert_int_equal(d.count, 1);
    spec_diags_cleanup(&d);
    router_free(r);

    /* routes no spec lists, one of them listed as planned */
    static const route_t extra[] = {
        {"DELETE", "/api/v1/extra/{id}", "x.delete", "Delete an extra", h, 0},
        {"GET", "/api/v1/auth/tenants/{id}", "tenant.view", "Get a tenant", h, 0},
    };
    r = base_router();
    router_add(r, extra, 2);
    check_with(fx, r, &d);
    assert_has(&d, "openspec/specs: route DELETE /api/v1/extra/{id} (Delete an extra) is in the "
                   "route table but no spec lists it as implemented");
    assert_has(&d, "openspec/specs/backend/04-auth-service.md:21: GET /api/v1/auth/tenants/{id} "
                   "is in the route table but marked planned; mark it implemented");
    assert_int_equal(d.count, 2);
    spec_diags_cleanup(&d);
    router_free(r);

    /* a different permission, or public vs authenticated */
    static const route_t perm[] = {
        {"GET", "/livez", NULL, "Liveness", h, 0},
        {"GET", "/metrics", NULL, "Metrics", h, RT_PUBLIC},
        {"GET", "/api/v1/auth/tenants", "tenant.list", "List tenants", h, 0},
        {"POST", "/api/v1/auth/tenants", "platform.tenants", "Create a tenant", h, 0},
    };
    r = router_new();
    router_add(r, perm, 4);
    check_with(fx, r, &d);
    assert_has(&d, "01-brain-gateway.md:19: GET /livez: the permission is authenticated in the "
                   "route table, public in the spec");
    assert_has(&d, "04-auth-service.md:19: GET /api/v1/auth/tenants: the permission is "
                   "tenant.list in the route table, tenant.view in the spec");
    assert_int_equal(d.count, 2);
    spec_diags_cleanup(&d);
    router_free(r);
}

static void test_check_services_and_status(void **state)
{
    fx_t *fx = *state;
    spec_diags_t d;
    router_t *r = base_router();

    /* no status file yet */
    check_with(fx, r, &d);
    assert_has(&d, "openspec/IMPLEMENTATION_STATUS.md: missing; run `bizosaas spec status`");
    assert_int_equal(d.count, 1);
    spec_diags_cleanup(&d);

    spec_diags_init(&d);
    assert_int_equal(spec_status_write(fx->root, &d), 0);
    spec_diags_cleanup(&d);

    /* a second spec for a service, owning the same route; a missing registry spec */
    char *dup = at(fx, "openspec/specs/backend/02-gateway-copy.md");
    char *src = at(fx, "openspec/specs/backend/01-brain-gateway.md");
    char *text = read_all(src, NULL);
    write_all(dup, text);
    free(text);
    char *redis = at(fx, "openspec/specs/infrastructure/90-redis.md");
    assert_int_equal(unlink(redis), 0);
    check_with(fx, r, &d);
    assert_has(&d, "openspec/specs/backend/02-gateway-copy.md:4: service brain-gateway already "
                   "has a spec: openspec/specs/backend/01-brain-gateway.md");
    assert_has(&d, "openspec/specs: registry service redis has no spec (expected in "
                   "openspec/specs/infrastructure/)");
    assert_has(&d, "02-gateway-copy.md:19: GET /livez is also marked implemented in "
                   "openspec/specs/backend/01-brain-gateway.md:19");
    assert_has(&d, "openspec/IMPLEMENTATION_STATUS.md: out of date with the specs");
    spec_diags_cleanup(&d);

    /* an unknown category directory and a stray spec */
    char *weird = at(fx, "openspec/specs/middleware");
    assert_int_equal(mkdir(weird, 0755), 0);
    char *stray = at(fx, "openspec/specs/stray.md");
    write_all(stray, "# stray\n");
    check_with(fx, r, &d);
    assert_has(&d, "openspec/specs: unknown category directory \"middleware\"");
    assert_has(&d, "openspec/specs: stray.md is outside a category directory");
    spec_diags_cleanup(&d);

    free(stray);
    free(weird);
    free(redis);
    free(src);
    free(dup);
    router_free(r);
}

static void test_status_counts(void **state)
{
    fx_t *fx = *state;
    spec_diags_t d;
    spec_diags_init(&d);
    spec_tree_t t;
    assert_int_equal(spec_tree_load(&t, fx->root, &d), 0);
    buf_t out;
    buf_init(&out);
    spec_status_render(&t, &out);
    /* infrastructure: redis, vault, temporal, superset (planned);
     * backend: gateway implemented, auth-service partial, 10 planned */
    assert_non_null(strstr(out.p, "| Infrastructure | 0 | 0 | 4 | 4 | 0% |\n"));
    assert_non_null(strstr(out.p, "| Backend | 1 | 1 | 10 | 12 | 8% |\n"));
    assert_non_null(strstr(out.p, "| Frontend | 0 | 0 | 0 | 0 | — |\n"));
    assert_non_null(strstr(out.p, "| **Total** | **1** | **1** | **14** | **16** | **6%** |\n"));
    assert_non_null(strstr(out.p, "| Backend | 4 | 1 | 5 | 80% |\n"));
    assert_non_null(strstr(out.p, "| auth-service | backend | partial | 2 | 1 | "
                                  "[04-auth-service.md](specs/backend/04-auth-service.md) |\n"));
    /* spec_status_write writes exactly the rendering */
    assert_int_equal(spec_status_write(fx->root, &d), 0);
    char *path = at(fx, "openspec/IMPLEMENTATION_STATUS.md");
    size_t len;
    char *file = read_all(path, &len);
    assert_int_equal(len, out.n);
    assert_memory_equal(file, out.p, len);
    free(file);
    free(path);
    buf_cleanup(&out);
    spec_tree_cleanup(&t);
    spec_diags_cleanup(&d);
}

static void test_status_refuses_broken_specs(void **state)
{
    fx_t *fx = *state;
    char *bad = at(fx, "openspec/specs/backend/05-bad.md");
    write_all(bad, "no title\n");
    spec_diags_t d;
    spec_diags_init(&d);
    assert_int_equal(spec_status_write(fx->root, &d), ERR_VALIDATION);
    assert_has(&d, "openspec/specs/backend/05-bad.md:1: the first line must be");
    assert_has(&d, "IMPLEMENTATION_STATUS.md: not written");
    char *status = at(fx, "openspec/IMPLEMENTATION_STATUS.md");
    assert_false(exists(status));
    free(status);
    free(bad);
    spec_diags_cleanup(&d);
}

/* --- draft and archive -------------------------------------------------- */

static void test_draft(void **state)
{
    fx_t *fx = *state;
    spec_diags_t d;
    spec_diags_init(&d);
    char slug[64];
    assert_int_equal(spec_draft(fx->root, "Tenant search", "auth-service", "2025-03-04", slug, &d),
                     0);
    assert_string_equal(slug, "tenant-search");
    char *path = at(fx, "openspec/changes/tenant-search.md");
    char *text = read_all(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "# Change: Tenant search\n"));
    assert_non_null(strstr(text, "- **Service**: auth-service\n"));
    assert_non_null(strstr(text, "- **Created**: 2025-03-04\n"));
    assert_non_null(strstr(text, "Because (tenant-search)."));
    assert_null(strstr(text, "{{"));

    /* never overwrites: the edited proposal survives a second draft */
    write_all(path, "edited\n");
    assert_int_equal(spec_draft(fx->root, "Tenant  search!", NULL, "2025-03-05", slug, &d),
                     ERR_EXISTS);
    assert_has(&d, "openspec/changes/tenant-search.md: already exists");
    char *again = read_all(path, NULL);
    assert_string_equal(again, "edited\n");
    spec_diags_cleanup(&d);

    spec_diags_init(&d);
    assert_int_equal(spec_draft(fx->root, "X", "no-such-service", "2025-03-04", slug, &d),
                     ERR_VALIDATION);
    assert_int_equal(spec_draft(fx->root, "?!", NULL, "2025-03-04", slug, &d), ERR_VALIDATION);
    assert_int_equal(spec_draft(fx->root, "two\nlines", NULL, "2025-03-04", slug, &d),
                     ERR_VALIDATION);
    assert_int_equal(d.count, 3);
    assert_has(&d, "unknown service \"no-such-service\"");
    free(again);
    free(text);
    free(path);
    spec_diags_cleanup(&d);
}

static const char proposal_rows[] =
    "| GET | /api/v1/auth/tenants/{id} | tenant.view | implemented | Get a tenant (404 across "
    "tenants) |\n"
    "| DELETE | /api/v1/auth/tenants/{id} | platform.tenants | planned | Delete a tenant |\n";

/* draft_with_rows: drafts title for service and puts the rows in its table. */
static void draft_with_rows(const fx_t *fx, const char *title, const char *service,
                            const char *rows)
{
    spec_diags_t d;
    spec_diags_init(&d);
    char slug[64];
    assert_int_equal(spec_draft(fx->root, title, service, "2025-03-04", slug, &d), 0);
    char *path = xasprintf("%s/openspec/changes/%s.md", fx->root, slug);
    char *text = read_all(path, NULL);
    const char *sep = "|--------|------|------------|--------|---------|\n";
    char *cut = strstr(text, sep);
    assert_non_null(cut);
    cut += strlen(sep);
    char *merged = xasprintf("%.*s%s%s", (int)(cut - text), text, rows, cut);
    write_all(path, merged);
    free(merged);
    free(text);
    free(path);
    spec_diags_cleanup(&d);
}

static void test_archive_round_trip(void **state)
{
    fx_t *fx = *state;
    draft_with_rows(fx, "Tenant lookup", "auth-service", proposal_rows);
    char *proposal = at(fx, "openspec/changes/tenant-lookup.md");
    char *original = read_all(proposal, NULL);
    spec_diags_t d;
    spec_diags_init(&d);
    char *spec_path = NULL;
    assert_int_equal(spec_archive(fx->root, "tenant-lookup", "2025-03-06", &spec_path, NULL, &d),
                     0);
    assert_int_equal(d.count, 0);
    assert_string_equal(spec_path, "openspec/specs/backend/04-auth-service.md");

    /* the proposal moved, byte for byte */
    assert_false(exists(proposal));
    char *archived = at(fx, "openspec/archive/2025-03-06-tenant-lookup.md");
    char *moved = read_all(archived, NULL);
    assert_non_null(moved);
    assert_string_equal(moved, original);

    /* rows merged: the planned row replaced in place, the new one appended */
    char *spec = at(fx, spec_path);
    char *text = read_all(spec, NULL);
    assert_non_null(strstr(text, "| POST | /api/v1/auth/tenants | platform.tenants | implemented "
                                 "| Create a tenant |\n"
                                 "| GET | /api/v1/auth/tenants/{id} | tenant.view | implemented "
                                 "| Get a tenant (404 across tenants) |\n"
                                 "| DELETE | /api/v1/auth/tenants/{id} | platform.tenants | "
                                 "planned | Delete a tenant |\n\n## Configuration"));
    assert_null(strstr(text, "| planned | Get a tenant |"));
    /* the text under a dated heading, demoted, without its metadata */
    assert_non_null(strstr(text, "\n## Changes\n\n### 2025-03-06 — Tenant lookup\n\n#### Why\n"
                                 "\nBecause (tenant-lookup).\n"));
    assert_null(strstr(text, "- **Status**: proposed"));
    assert_null(strstr(text, "# Change:"));

    /* the result is a clean spec with the new endpoint */
    spec_doc_t doc;
    spec_diags_t pd;
    spec_diags_init(&pd);
    assert_int_equal(spec_parse(&doc, "s", SPEC_BACKEND, text, strlen(text), &pd), 0);
    assert_int_equal(doc.nendpoints, 4);
    assert_true(doc.endpoints[2].implemented);
    spec_doc_cleanup(&doc);
    spec_diags_cleanup(&pd);

    /* a second change lands after the first, in the same Changes section */
    draft_with_rows(fx, "Second change", "auth-service", "");
    assert_int_equal(spec_archive(fx->root, "second-change", "2025-03-07", NULL, NULL, &d), 0);
    char *text2 = read_all(spec, NULL);
    char *first = strstr(text2, "### 2025-03-06 — Tenant lookup");
    char *second = strstr(text2, "### 2025-03-07 — Second change");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    assert_non_null(strstr(text2, "- Unit.\n\n### 2025-03-07"));
    char *c1 = strstr(text2, "\n## Changes\n");
    assert_non_null(c1);
    assert_null(strstr(c1 + 1, "\n## Changes\n"));

    /* archiving the same slug again: the proposal is gone */
    assert_int_equal(spec_archive(fx->root, "tenant-lookup", "2025-03-08", NULL, NULL, &d),
                     ERR_NOT_FOUND);
    assert_has(&d, "openspec/changes/tenant-lookup.md: no such change proposal");

    /* and the tree still checks against the grown route table */
    spec_diags_cleanup(&d);
    spec_diags_init(&d);
    assert_int_equal(spec_status_write(fx->root, &d), 0);
    static const route_t more[] = {
        {"GET", "/api/v1/auth/tenants/{id}", "tenant.view", "Get", h, 0}};
    router_t *r = base_router();
    router_add(r, more, 1);
    spec_diags_cleanup(&d);
    check_with(fx, r, &d);
    assert_int_equal(d.count, 0);
    router_free(r);

    free(text2);
    free(text);
    free(spec);
    free(moved);
    free(archived);
    free(original);
    free(proposal);
    free(spec_path);
    spec_diags_cleanup(&d);
}

static void test_archive_status_becomes_partial(void **state)
{
    fx_t *fx = *state;
    spec_diags_t d;
    spec_diags_init(&d);
    bool to_partial = true;

    /* rows that agree with the Status leave it alone */
    draft_with_rows(fx, "More metrics", "brain-gateway",
                    "| GET | /metrics | public | implemented | Metrics, documented |\n");
    assert_int_equal(spec_archive(fx->root, "more-metrics", "2025-03-06", NULL, &to_partial, &d),
                     0);
    assert_false(to_partial);

    /* an implemented spec gaining a planned endpoint is partial */
    draft_with_rows(fx, "Planned route", "brain-gateway",
                    "| GET | /later | public | planned | Later |\n");
    assert_int_equal(spec_archive(fx->root, "planned-route", "2025-03-06", NULL, &to_partial, &d),
                     0);
    assert_true(to_partial);
    char *gw = at(fx, "openspec/specs/backend/01-brain-gateway.md");
    char *text = read_all(gw, NULL);
    assert_non_null(strstr(text, "\n- **Status**: partial\n"));
    assert_null(strstr(text, "- **Status**: implemented"));
    free(text);

    /* a planned spec gaining an implemented endpoint is partial too */
    draft_with_rows(fx, "Served", "redis", "| GET | /redis | public | implemented | Served |\n");
    assert_int_equal(spec_archive(fx->root, "served", "2025-03-06", NULL, &to_partial, &d), 0);
    assert_true(to_partial);
    char *redis = at(fx, "openspec/specs/infrastructure/90-redis.md");
    text = read_all(redis, NULL);
    assert_non_null(strstr(text, "\n- **Status**: partial\n"));
    /* its API Endpoints section had no table: one was made */
    assert_non_null(strstr(text, "## API Endpoints\n\n| Method | Path | Permission | Status | "
                                 "Summary |\n|--------|------|------------|--------|---------|\n"
                                 "| GET | /redis | public | implemented | Served |\n"));
    assert_int_equal(d.count, 0);
    free(text);
    free(redis);
    free(gw);
    spec_diags_cleanup(&d);
}

static void test_archive_refusals(void **state)
{
    fx_t *fx = *state;
    char *spec = at(fx, "openspec/specs/backend/04-auth-service.md");
    char *before = read_all(spec, NULL);
    spec_diags_t d;

    /* unknown service (the draft's placeholder) */
    draft_with_rows(fx, "No service", NULL, "");
    spec_diags_init(&d);
    assert_int_equal(spec_archive(fx->root, "no-service", "2025-03-06", NULL, NULL, &d),
                     ERR_VALIDATION);
    assert_has(&d, "openspec/changes/no-service.md:3: unknown service \"<service-name>\"");
    char *still = at(fx, "openspec/changes/no-service.md");
    assert_true(exists(still));
    spec_diags_cleanup(&d);

    /* a known service without a spec (a portal) */
    draft_with_rows(fx, "Portal change", "client-portal", "");
    spec_diags_init(&d);
    assert_int_equal(spec_archive(fx->root, "portal-change", "2025-03-06", NULL, NULL, &d),
                     ERR_NOT_FOUND);
    assert_has(&d, "portal-change.md:3: service client-portal has no spec");
    spec_diags_cleanup(&d);

    /* a bad row in the proposal */
    draft_with_rows(fx, "Bad row", "auth-service", "| GET | nope | x | planned | s |\n");
    spec_diags_init(&d);
    assert_int_equal(spec_archive(fx->root, "bad-row", "2025-03-06", NULL, NULL, &d),
                     ERR_VALIDATION);
    assert_has(&d, "openspec/changes/bad-row.md:15: the path must start with '/'");
    spec_diags_cleanup(&d);

    /* a merge that would break the spec: an unclosed fence */
    draft_with_rows(fx, "Fence", "auth-service", "");
    char *fence = at(fx, "openspec/changes/fence.md");
    char *ft = read_all(fence, NULL);
    char *ft2 = xasprintf("%s```\nunclosed\n", ft);
    write_all(fence, ft2);
    spec_diags_init(&d);
    assert_int_equal(spec_archive(fx->root, "fence", "2025-03-06", NULL, NULL, &d), ERR_VALIDATION);
    assert_has(&d, "a code fence is never closed");
    spec_diags_cleanup(&d);

    /* the archive file already exists */
    draft_with_rows(fx, "Taken", "auth-service", "");
    char *adir = at(fx, "openspec/archive");
    mkdir(adir, 0755);
    char *taken = at(fx, "openspec/archive/2025-03-06-taken.md");
    write_all(taken, "older\n");
    spec_diags_init(&d);
    assert_int_equal(spec_archive(fx->root, "taken", "2025-03-06", NULL, NULL, &d), ERR_EXISTS);
    char *older = read_all(taken, NULL);
    assert_string_equal(older, "older\n");
    spec_diags_cleanup(&d);

    /* path traversal in the slug */
    spec_diags_init(&d);
    assert_int_equal(spec_archive(fx->root, "../specs/x", "2025-03-06", NULL, NULL, &d),
                     ERR_VALIDATION);
    spec_diags_cleanup(&d);

    /* nothing above touched the spec */
    char *after = read_all(spec, NULL);
    assert_string_equal(before, after);

    free(after);
    free(older);
    free(taken);
    free(adir);
    free(ft2);
    free(ft);
    free(fence);
    free(still);
    free(before);
    free(spec);
}

/* --- spec_main ---------------------------------------------------------- */

/* run: spec_main with its output discarded; returns the exit code. */
static int run(const router_t *r, int argc, const char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int o = dup(1), e = dup(2);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    int rc = spec_main(argc, (char **)argv, r);
    fflush(stdout);
    fflush(stderr);
    dup2(o, 1);
    dup2(e, 2);
    close(o);
    close(e);
    close(null);
    return rc;
}

static void test_main_exit_codes(void **state)
{
    fx_t *fx = *state;
    router_t *r = base_router();
    const char *root = fx->root;
#define RUN(...)                                                                                   \
    run(r, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)),                          \
        (const char *[]){__VA_ARGS__})
    assert_int_equal(RUN("spec"), 2);
    assert_int_equal(RUN("spec", "help"), 0);
    assert_int_equal(RUN("spec", "frobnicate"), 2);
    assert_int_equal(RUN("spec", "list", "extra", "--root", root), 2);
    assert_int_equal(RUN("spec", "show", "--root", root), 2);
    assert_int_equal(RUN("spec", "list", "--bogus"), 2);
    assert_int_equal(RUN("spec", "list", "--root"), 2);
    assert_int_equal(RUN("spec", "check", "--service", "x", "--root", root), 2);
    assert_int_equal(RUN("spec", "list", "--root", root), 0);
    assert_int_equal(RUN("spec", "show", "auth-service", "--root", root), 0);
    assert_int_equal(RUN("spec", "show", "no-such", "--root", root), 1);
    assert_int_equal(RUN("spec", "check", "--root", root), 1); /* no status file yet */
    assert_int_equal(RUN("spec", "status", "--root", root), 0);
    assert_int_equal(RUN("spec", "check", "--root", root), 0);
    assert_int_equal(run(NULL, 4, (const char *[]){"spec", "check", "--root", root}), 2);
    assert_int_equal(RUN("spec", "draft", "Main draft", "--service=auth-service", "--root", root),
                     0);
    assert_int_equal(RUN("spec", "draft", "Main draft", "--root", root), 1);
    assert_int_equal(RUN("spec", "archive", "main-draft", "--root", root), 0);
    assert_int_equal(RUN("spec", "archive", "main-draft", "--root", root), 1);
    /* an archive without endpoint rows leaves the counts: the status is current */
    assert_int_equal(RUN("spec", "check", "--root", root), 0);
    assert_int_equal(RUN("spec", "list", "--root", "/nonexistent/dir"), 1);
#undef RUN
    router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_missing_heading),
        cmocka_unit_test(test_parse_bad_rows),
        cmocka_unit_test(test_parse_unknown_service_and_category),
        cmocka_unit_test(test_parse_sections_fences_status),
        cmocka_unit_test(test_parse_hostile_input),
        cmocka_unit_test(test_parse_row),
        cmocka_unit_test(test_slugify),
        cmocka_unit_test_setup_teardown(test_check_clean_tree, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_check_drift_both_ways, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_check_services_and_status, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_status_counts, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_status_refuses_broken_specs, setup_tree,
                                        teardown_tree),
        cmocka_unit_test_setup_teardown(test_draft, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_archive_round_trip, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_archive_status_becomes_partial, setup_tree,
                                        teardown_tree),
        cmocka_unit_test_setup_teardown(test_archive_refusals, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_main_exit_codes, setup_tree, teardown_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

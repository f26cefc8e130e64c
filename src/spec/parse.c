/* parse.c — the spec parser, the service catalogue and the diagnostics list.
 *
 * A spec is read line by line in one pass. Only four things are structural:
 * the "# Title" first line, the "## " section headings, the bullets of
 * Service Identity and the table rows of API Endpoints; everything else is
 * prose the parser skips. Fenced code blocks (``` or ~~~) are skipped
 * whole, so an example heading or row inside one is never taken for real.
 * Every problem is appended to the diagnostics with its line number and the
 * pass goes on, so one run reports all of a file's problems. Lines and files
 * are bounded (SPEC_MAX_LINE, SPEC_MAX_FILE) and bytes are never trusted:
 * NUL bytes, stray '\r', non-ASCII text and unbalanced markup all end in a
 * diagnostic or are skipped, never in a crash. */
#include "spec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"

/* The catalogue. Order is the display order of `spec list` for specs that
 * share a category. Categories follow the seed: vault, temporal and superset
 * were infrastructure there and stay so; the gateway is backend 01. */
static const spec_service_t services[] = {
    {"postgresql", SPEC_INFRASTRUCTURE, false},
    {"redis", SPEC_INFRASTRUCTURE, true},
    {"vault", SPEC_INFRASTRUCTURE, true},
    {"temporal", SPEC_INFRASTRUCTURE, true},
    {"superset", SPEC_INFRASTRUCTURE, true},
    {"brain-gateway", SPEC_BACKEND, false},
    {"ai-agents", SPEC_BACKEND, true},
    {"quanttrade-backend", SPEC_BACKEND, true},
    {"auth-service", SPEC_BACKEND, true},
    {"wagtail-cms", SPEC_BACKEND, true},
    {"saleor-backend", SPEC_BACKEND, true},
    {"django-crm", SPEC_BACKEND, true},
    {"coreldove-backend", SPEC_BACKEND, true},
    {"amazon-sourcing", SPEC_BACKEND, true},
    {"business-directory", SPEC_BACKEND, true},
    {"thrillring-gaming", SPEC_BACKEND, true},
    {"marketing", SPEC_BACKEND, true},
    {"bizoholic-frontend", SPEC_FRONTEND, false},
    {"coreldove-frontend", SPEC_FRONTEND, false},
    {"thrillring-gaming-frontend", SPEC_FRONTEND, false},
    {"quanttrade-frontend", SPEC_FRONTEND, false},
    {"client-portal", SPEC_FRONTEND, false},
    {"admin-dashboard", SPEC_FRONTEND, false},
    {"business-directory-frontend", SPEC_FRONTEND, false},
};

size_t spec_service_count(void)
{
    return sizeof services / sizeof services[0];
}
const spec_service_t *spec_service_at(size_t i)
{
    return &services[i];
}

const spec_service_t *spec_service_find(const char *name)
{
    for (size_t i = 0; i < spec_service_count(); i++)
        if (strcmp(services[i].name, name) == 0) return &services[i];
    return NULL;
}

const char *spec_category_name(enum spec_category c)
{
    switch (c) {
    case SPEC_INFRASTRUCTURE:
        return "infrastructure";
    case SPEC_BACKEND:
        return "backend";
    case SPEC_FRONTEND:
        return "frontend";
    }
    return "unknown";
}

const char *spec_status_name(enum spec_status s)
{
    switch (s) {
    case SPEC_PLANNED:
        return "planned";
    case SPEC_PARTIAL:
        return "partial";
    case SPEC_IMPLEMENTED:
        return "implemented";
    case SPEC_STATUS_NONE:
        break;
    }
    return "none";
}

/* --- diagnostics ------------------------------------------------------- */

void spec_diags_init(spec_diags_t *d)
{
    *d = (spec_diags_t){0};
}

void spec_diags_cleanup(spec_diags_t *d)
{
    buf_cleanup(&d->text);
    d->count = 0;
}

void spec_diag(spec_diags_t *d, const char *path, int line, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    msg[0] = '\0';
    if (n > 0) vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    /* A message quotes spec text: keep one problem on one line. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    if (line > 0)
        buf_printf(&d->text, "%s:%d: ", path, line);
    else
        buf_printf(&d->text, "%s: ", path);
    buf_append_str(&d->text, msg);
    buf_append(&d->text, "\n", 1);
    d->count++;
    free(msg);
}

/* --- small string helpers ---------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static str_t trim(str_t s)
{
    while (s.n && is_space(s.p[0]))
        s.p++, s.n--;
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static bool starts_with(str_t s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

/* unquote: drops one pair of surrounding backticks (`GET` reads as GET). */
static str_t unquote(str_t s)
{
    if (s.n >= 2 && s.p[0] == '`' && s.p[s.n - 1] == '`') s = trim((str_t){s.p + 1, s.n - 2});
    return s;
}

static char *dup_str(str_t s)
{
    return xstrndup(s.p, s.n);
}

/* heading_level: 1..6 for "#... text" (the hashes followed by a space or the
 * end of the line), 0 otherwise. */
static int heading_level(str_t t)
{
    size_t i = 0;
    while (i < t.n && t.p[i] == '#')
        i++;
    if (i == 0 || i > 6) return 0;
    if (i < t.n && t.p[i] != ' ' && t.p[i] != '\t') return 0;
    return (int)i;
}

static bool is_fence(str_t t)
{
    return starts_with(t, "```") || starts_with(t, "~~~");
}

/* --- endpoint rows ----------------------------------------------------- */

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

static bool is_method(str_t s)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (str_eq_cstr(s, methods[i])) return true;
    return false;
}

#define MAX_CELLS 8

/* split_cells: the cells of a table row (t trimmed, starting with '|').
 * "\|" does not end a cell. Returns the number of cells (may exceed
 * MAX_CELLS; only the first MAX_CELLS are stored). */
static int split_cells(str_t t, str_t *cells)
{
    int nc = 0;
    const char *end = t.p + t.n, *cs = t.p + 1;
    for (const char *q = cs; q < end; q++) {
        if (*q == '\\' && q + 1 < end && q[1] == '|') {
            q++;
            continue;
        }
        if (*q != '|') continue;
        if (nc < MAX_CELLS) cells[nc] = trim((str_t){cs, (size_t)(q - cs)});
        nc++;
        cs = q + 1;
    }
    str_t tail = trim((str_t){cs, (size_t)(end - cs)});
    if (tail.n) {
        if (nc < MAX_CELLS) cells[nc] = tail;
        nc++;
    }
    return nc;
}

/* pattern_error: why s is not a route pattern the router accepts (see
 * router.h), or NULL when it is one. */
static const char *pattern_error(str_t s)
{
    if (s.n == 0 || s.p[0] != '/') return "the path must start with '/'";
    if (s.n > 512) return "the path is longer than 512 bytes";
    size_t i = 1;
    for (;;) {
        size_t j = i;
        while (j < s.n && s.p[j] != '/')
            j++;
        str_t seg = {s.p + i, j - i};
        if (seg.n == 0 && j < s.n) return "the path has an empty segment ('//')";
        for (size_t k = 0; k < seg.n; k++) {
            unsigned char c = (unsigned char)seg.p[k];
            if (c <= ' ' || c >= 0x7f || strchr("|`?#\\\"<>", c))
                return "the path has a character that cannot appear in a route pattern "
                       "(spaces, a query string and markup are not part of it)";
        }
        if (memchr(seg.p, '{', seg.n) || memchr(seg.p, '}', seg.n)) {
            if (seg.n < 3 || seg.p[0] != '{' || seg.p[seg.n - 1] != '}')
                return "a parameter is a whole segment: {name} or a final {name...}";
            str_t name = {seg.p + 1, seg.n - 2};
            bool rest = name.n > 3 && memcmp(name.p + name.n - 3, "...", 3) == 0;
            if (rest) name.n -= 3;
            for (size_t k = 0; k < name.n; k++) {
                char c = name.p[k];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_'))
                    return "a parameter name is letters, digits and '_'";
            }
            if (rest && j < s.n) return "{name...} must be the last segment";
        }
        if (j >= s.n) break;
        i = j + 1;
    }
    return NULL;
}

static bool permission_ok(str_t s)
{
    if (s.n == 0 || s.n > 128) return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_.*:-", c)))
            return false;
    }
    return true;
}

void spec_endpoint_cleanup(spec_endpoint_t *ep)
{
    free(ep->pattern);
    free(ep->permission);
    free(ep->summary);
    *ep = (spec_endpoint_t){0};
}

int spec_parse_row(const char *line, size_t n, spec_endpoint_t *ep, char *err, size_t errlen)
{
    *ep = (spec_endpoint_t){0};
    str_t t = trim((str_t){line, n});
    str_t c[MAX_CELLS];
    const char *why = NULL;
    if (t.n == 0 || t.p[0] != '|') {
        why = "an endpoint row starts with '|'";
        goto fail;
    }
    int nc = split_cells(t, c);
    if (nc != 5) {
        snprintf(err, errlen,
                 "an endpoint row has 5 cells | METHOD | /path | permission | status | summary |, "
                 "this one has %d",
                 nc);
        return ERR_VALIDATION;
    }
    str_t method = unquote(c[0]), path = unquote(c[1]), perm = unquote(c[2]);
    str_t status = unquote(c[3]), summary = c[4];
    if (!is_method(method)) {
        snprintf(err, errlen,
                 "unknown method \"%.*s\" (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)",
                 (int)(method.n > 40 ? 40 : method.n), method.p);
        return ERR_VALIDATION;
    }
    if ((why = pattern_error(path))) goto fail;
    if (!permission_ok(perm)) {
        why = "the permission is a name like leads.view, or public, or authenticated";
        goto fail;
    }
    bool implemented;
    if (str_ieq_cstr(status, "implemented"))
        implemented = true;
    else if (str_ieq_cstr(status, "planned"))
        implemented = false;
    else {
        why = "the status is implemented or planned";
        goto fail;
    }
    if (summary.n == 0) {
        why = "the summary is empty";
        goto fail;
    }
    memcpy(ep->method, method.p, method.n);
    ep->method[method.n] = '\0';
    ep->pattern = dup_str(path);
    ep->permission = dup_str(perm);
    ep->implemented = implemented;
    /* "\|" in a summary is a literal '|'. */
    ep->summary = xmalloc(summary.n + 1);
    size_t o = 0;
    for (size_t i = 0; i < summary.n; i++) {
        if (summary.p[i] == '\\' && i + 1 < summary.n && summary.p[i + 1] == '|') i++;
        ep->summary[o++] = summary.p[i];
    }
    ep->summary[o] = '\0';
    return 0;
fail:
    snprintf(err, errlen, "%s", why);
    return ERR_VALIDATION;
}

/* looks_like_endpoint: an endpoint written outside the table, which the
 * checker would not see: a bullet that starts with one ("- GET /x ...",
 * "* `POST /y`"), or a line that is one, possibly followed by a separator
 * and a description ("GET /z — lists z"). Prose that merely starts with a
 * quoted endpoint ("`GET /health` (see ...)") is left alone. */
static bool looks_like_endpoint(str_t t)
{
    bool bullet = false;
    if (starts_with(t, "- ") || starts_with(t, "* ") || starts_with(t, "+ ")) {
        t = trim((str_t){t.p + 2, t.n - 2});
        bullet = true;
    }
    while (t.n && (t.p[0] == '`' || t.p[0] == '*'))
        t.p++, t.n--;
    size_t i = 0;
    while (i < t.n && t.p[i] >= 'A' && t.p[i] <= 'Z')
        i++;
    if (!is_method((str_t){t.p, i})) return false;
    while (i < t.n && (t.p[i] == '`' || t.p[i] == '*'))
        i++;
    if (i >= t.n || !is_space(t.p[i])) return false;
    while (i < t.n && is_space(t.p[i]))
        i++;
    if (i < t.n && t.p[i] == '`') i++;
    if (i >= t.n || t.p[i] != '/') return false;
    if (bullet) return true;
    while (i < t.n && !is_space(t.p[i]))
        i++; /* the path and a closing quote */
    str_t rest = trim((str_t){t.p + i, t.n - i});
    return rest.n == 0 || starts_with(rest, "-") || starts_with(rest, ":") ||
           starts_with(rest, "\xe2\x80\x94") || starts_with(rest, "\xe2\x80\x93");
}

static bool is_separator_row(str_t t)
{
    bool dash = false;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] == '-')
            dash = true;
        else if (!strchr("|: \t", t.p[i]))
            return false;
    }
    return dash;
}

int spec__table_line(str_t t, spec_endpoint_t *ep, char *err, size_t errlen)
{
    *ep = (spec_endpoint_t){0};
    str_t c[MAX_CELLS];
    int nc = split_cells(t, c);
    if (nc > 0 && str_ieq_cstr(unquote(c[0]), "Method")) return 0; /* the header row */
    if (is_separator_row(t)) return 0;
    return spec_parse_row(t.p, t.n, ep, err, errlen) < 0 ? ERR_VALIDATION : 1;
}

/* --- sections ---------------------------------------------------------- */

enum section {
    SEC_IDENTITY,
    SEC_PURPOSE,
    SEC_DOMAIN,
    SEC_API,
    SEC_CONFIG,
    SEC_INTEGRATION,
    SEC_TESTING,
    SEC_DEPLOY,
    SEC_CHANGES,
    NSECTIONS,
    SEC_OTHER = NSECTIONS,
    SEC_NONE,
};

static const char *const section_names[NSECTIONS] = {
    "Service Identity", "Purpose",
    "Domain Model",     "API Endpoints",
    "Configuration",    "Integration Points",
    "Testing Strategy", "Deployment Checklist",
    "Changes",
};

static bool section_required(int sec, enum spec_category cat)
{
    if (sec == SEC_CHANGES) return false;
    return sec != SEC_DOMAIN || cat == SPEC_BACKEND;
}

static int section_of(str_t name)
{
    for (int i = 0; i < NSECTIONS; i++)
        if (str_ieq_cstr(name, section_names[i])) return i;
    return SEC_OTHER;
}

typedef struct parser {
    spec_doc_t *doc;
    spec_diags_t *d;
    int line;
    size_t cap;
    bool title_reported; /* the first line was already reported */
} parser_t;

static bool service_name_ok(str_t s)
{
    if (s.n == 0 || s.n > 64) return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    return true;
}

/* identity_line: a "- **Key**: value" bullet of Service Identity. */
static void identity_line(parser_t *ps, str_t t)
{
    spec_doc_t *doc = ps->doc;
    if (!(starts_with(t, "- ") || starts_with(t, "* "))) return;
    t = trim((str_t){t.p + 2, t.n - 2});
    if (!starts_with(t, "**")) return;
    str_t rest = {t.p + 2, t.n - 2};
    const char *close = NULL;
    for (size_t i = 0; i + 1 < rest.n; i++)
        if (rest.p[i] == '*' && rest.p[i + 1] == '*') {
            close = rest.p + i;
            break;
        }
    if (!close) return;
    str_t key = trim((str_t){rest.p, (size_t)(close - rest.p)});
    str_t value = {close + 2, (size_t)(rest.p + rest.n - close - 2)};
    /* Both "**Key**: value" and "**Key:** value" are common. */
    if (key.n && key.p[key.n - 1] == ':')
        key.n--;
    else if (value.n && value.p[0] == ':')
        value.p++, value.n--;
    else
        return;
    key = trim(key);
    value = unquote(trim(value));
    if (str_ieq_cstr(key, "Service name")) {
        if (doc->service || doc->service_line) {
            spec_diag(ps->d, doc->path, ps->line, "a second Service name (the first is at line %d)",
                      doc->service_line);
            return;
        }
        doc->service_line = ps->line;
        if (!service_name_ok(value)) {
            spec_diag(ps->d, doc->path, ps->line,
                      "the Service name is a registry name: lowercase letters, digits and '-'");
            return;
        }
        doc->service = dup_str(value);
        if (!spec_service_find(doc->service))
            spec_diag(ps->d, doc->path, ps->line,
                      "unknown service \"%s\" (the catalogue is in openspec/README.md)",
                      doc->service);
    } else if (str_ieq_cstr(key, "Status")) {
        if (doc->status_line) {
            spec_diag(ps->d, doc->path, ps->line, "a second Status (the first is at line %d)",
                      doc->status_line);
            return;
        }
        doc->status_line = ps->line;
        if (str_ieq_cstr(value, "implemented"))
            doc->status = SPEC_IMPLEMENTED;
        else if (str_ieq_cstr(value, "partial"))
            doc->status = SPEC_PARTIAL;
        else if (str_ieq_cstr(value, "planned"))
            doc->status = SPEC_PLANNED;
        else
            spec_diag(ps->d, doc->path, ps->line,
                      "the Status is implemented, partial or planned, not \"%.*s\"",
                      (int)(value.n > 40 ? 40 : value.n), value.p);
    }
}

/* api_line: a line of the API Endpoints section. */
static void api_line(parser_t *ps, str_t t)
{
    spec_doc_t *doc = ps->doc;
    if (t.p[0] != '|') {
        if (looks_like_endpoint(t))
            spec_diag(ps->d, doc->path, ps->line,
                      "an endpoint is written as a table row "
                      "| METHOD | /path | permission | status | summary |");
        return;
    }
    doc->api_table_end = ps->line;
    spec_endpoint_t ep;
    char err[256];
    int rc = spec__table_line(t, &ep, err, sizeof err);
    if (rc == 0) return;
    if (rc < 0) {
        spec_diag(ps->d, doc->path, ps->line, "%s", err);
        return;
    }
    ep.line = ps->line;
    for (size_t i = 0; i < doc->nendpoints; i++) {
        const spec_endpoint_t *o = &doc->endpoints[i];
        if (strcmp(o->method, ep.method) == 0 && strcmp(o->pattern, ep.pattern) == 0) {
            spec_diag(ps->d, doc->path, ps->line, "%s %s is listed twice (first at line %d)",
                      ep.method, ep.pattern, o->line);
            spec_endpoint_cleanup(&ep);
            return;
        }
    }
    if (doc->nendpoints == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        doc->endpoints = xrealloc(doc->endpoints, ps->cap * sizeof *doc->endpoints);
    }
    doc->endpoints[doc->nendpoints++] = ep;
}

static void finish(parser_t *ps, const int *sec_line, int fence_line, bool fence)
{
    spec_doc_t *doc = ps->doc;
    const char *path = doc->path;
    int at = 1;
    if (fence) spec_diag(ps->d, path, fence_line, "this code fence is never closed");
    if (!doc->title && !ps->title_reported)
        spec_diag(ps->d, path, 1, "missing the '# Title' heading on the first line");
    for (int s = 0; s < NSECTIONS; s++)
        if (section_required(s, doc->category) && !sec_line[s])
            spec_diag(ps->d, path, at, "missing required section '## %s'", section_names[s]);
    if (sec_line[SEC_IDENTITY]) {
        if (!doc->service_line)
            spec_diag(ps->d, path, sec_line[SEC_IDENTITY],
                      "Service Identity has no '- **Service name**: <name>' line");
        if (!doc->status_line)
            spec_diag(
                ps->d, path, sec_line[SEC_IDENTITY],
                "Service Identity has no '- **Status**: implemented | partial | planned' line");
    }
    const spec_service_t *svc = doc->service ? spec_service_find(doc->service) : NULL;
    if (svc && svc->category != doc->category)
        spec_diag(ps->d, path, doc->service_line,
                  "%s is in the %s category; its spec belongs in openspec/specs/%s/", svc->name,
                  spec_category_name(svc->category), spec_category_name(svc->category));
    /* The status may not claim more, or less, than the endpoints say. */
    for (size_t i = 0; i < doc->nendpoints; i++) {
        const spec_endpoint_t *e = &doc->endpoints[i];
        if (doc->status == SPEC_PLANNED && e->implemented)
            spec_diag(ps->d, path, e->line,
                      "%s %s is implemented but the spec's Status is planned (use partial)",
                      e->method, e->pattern);
        else if (doc->status == SPEC_IMPLEMENTED && !e->implemented)
            spec_diag(ps->d, path, e->line,
                      "%s %s is planned but the spec's Status is implemented (use partial)",
                      e->method, e->pattern);
    }
}

int spec_parse(spec_doc_t *doc, const char *path, enum spec_category category, const char *text,
               size_t len, spec_diags_t *d)
{
    *doc = (spec_doc_t){.path = xstrdup(path), .category = category};
    size_t before = d->count;
    if (len > SPEC_MAX_FILE) {
        spec_diag(d, path, 0, "the file is larger than %u bytes", SPEC_MAX_FILE);
        return ERR_VALIDATION;
    }
    parser_t ps = {.doc = doc, .d = d};
    int sec_line[NSECTIONS] = {0};
    int cur = SEC_NONE, fence_line = 0;
    bool fence = false, first = true;
    size_t off = 0;
    while (off < len) {
        const char *p = text + off;
        const char *nl = memchr(p, '\n', len - off);
        size_t n = nl ? (size_t)(nl - p) : len - off;
        off += n + (nl ? 1 : 0);
        ps.line++;
        if (n > SPEC_MAX_LINE) {
            spec_diag(d, path, ps.line, "the line is longer than %d bytes", SPEC_MAX_LINE);
            continue;
        }
        if (memchr(p, '\0', n)) {
            spec_diag(d, path, ps.line, "the line holds a NUL byte");
            continue;
        }
        str_t t = trim((str_t){p, n});
        if (is_fence(t)) {
            fence = !fence;
            fence_line = ps.line;
            if (first) {
                spec_diag(d, path, ps.line, "the first line must be the '# Title' heading");
                ps.title_reported = true;
                first = false;
            }
            continue;
        }
        if (fence || t.n == 0) continue;
        int level = heading_level(t);
        if (first) {
            first = false;
            if (level == 1 && trim((str_t){t.p + 1, t.n - 1}).n) {
                doc->title = dup_str(trim((str_t){t.p + 1, t.n - 1}));
                continue;
            }
            spec_diag(d, path, ps.line, "the first line must be the '# Title' heading");
            ps.title_reported = true;
            if (level == 1) continue;
        }
        if (level == 1) {
            spec_diag(d, path, ps.line, "a second '# ' title; sections are '## ' headings");
            continue;
        }
        if (level == 2) {
            if (cur == SEC_CHANGES) doc->changes_end = ps.line - 1;
            cur = section_of(trim((str_t){t.p + 2, t.n - 2}));
            if (cur == SEC_OTHER) continue;
            if (sec_line[cur]) {
                spec_diag(d, path, ps.line, "a second '## %s' section (the first is at line %d)",
                          section_names[cur], sec_line[cur]);
                cur = SEC_OTHER;
                continue;
            }
            sec_line[cur] = ps.line;
            if (cur == SEC_API) doc->api_line = ps.line;
            if (cur == SEC_CHANGES) doc->changes_line = ps.line;
            continue;
        }
        if (cur == SEC_IDENTITY)
            identity_line(&ps, t);
        else if (cur == SEC_API)
            api_line(&ps, t);
    }
    doc->nlines = ps.line;
    if (cur == SEC_CHANGES) doc->changes_end = ps.line;
    finish(&ps, sec_line, fence_line, fence);
    return d->count == before ? 0 : ERR_VALIDATION;
}

void spec_doc_cleanup(spec_doc_t *doc)
{
    for (size_t i = 0; i < doc->nendpoints; i++)
        spec_endpoint_cleanup(&doc->endpoints[i]);
    free(doc->endpoints);
    free(doc->path);
    free(doc->title);
    free(doc->service);
    *doc = (spec_doc_t){0};
}

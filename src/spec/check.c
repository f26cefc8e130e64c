/* check.c — the drift check between the specs and the route table, and the
 * generated IMPLEMENTATION_STATUS.md.
 *
 * The route table is the truth about what the binary serves; the specs are
 * the truth about what it is meant to serve. spec_check() fails when they
 * disagree in either direction: a spec claiming a route the binary lacks
 * (or with another permission), or a route no spec owns. A route is owned
 * by exactly one spec so every endpoint has one place where it is
 * described. The status file is generated from the specs, so it is checked
 * for staleness rather than trusted. */
#include "spec.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"

/* route_permission: a route's permission as a spec writes it. */
static const char *route_permission(const route_t *rt)
{
    if (rt->flags & RT_PUBLIC) return "public";
    return rt->permission ? rt->permission : "authenticated";
}

static long find_route(const router_t *routes, size_t nr, const spec_endpoint_t *ep)
{
    for (size_t i = 0; i < nr; i++) {
        const route_t *rt = router_at(routes, i);
        if (!strcmp(rt->method, ep->method) && !strcmp(rt->pattern, ep->pattern)) return (long)i;
    }
    return -1;
}

typedef struct owner {
    const spec_doc_t *doc;
    const spec_endpoint_t *ep;
} owner_t;

static void check_services(const spec_tree_t *t, spec_diags_t *d)
{
    for (size_t i = 0; i < t->ndocs; i++) {
        const spec_doc_t *doc = &t->docs[i];
        if (!doc->service) continue;
        for (size_t j = 0; j < i; j++) {
            if (t->docs[j].service && !strcmp(t->docs[j].service, doc->service)) {
                spec_diag(d, doc->path, doc->service_line,
                          "service %s already has a spec: %s (one spec per service)", doc->service,
                          t->docs[j].path);
                break;
            }
        }
    }
    for (size_t s = 0; s < spec_service_count(); s++) {
        const spec_service_t *svc = spec_service_at(s);
        if (!svc->registry) continue;
        bool found = false;
        for (size_t i = 0; i < t->ndocs && !found; i++)
            found = t->docs[i].service && !strcmp(t->docs[i].service, svc->name);
        if (!found)
            spec_diag(d, "openspec/specs", 0,
                      "registry service %s has no spec (expected in openspec/specs/%s/)", svc->name,
                      spec_category_name(svc->category));
    }
}

static void check_routes(const spec_tree_t *t, const router_t *routes, spec_diags_t *d)
{
    size_t nr = routes ? router_count(routes) : 0;
    owner_t *impl = xcalloc(nr ? nr : 1, sizeof *impl);
    owner_t *planned = xcalloc(nr ? nr : 1, sizeof *planned);
    for (size_t i = 0; i < t->ndocs; i++) {
        const spec_doc_t *doc = &t->docs[i];
        for (size_t k = 0; k < doc->nendpoints; k++) {
            const spec_endpoint_t *ep = &doc->endpoints[k];
            long r = find_route(routes, nr, ep);
            if (!ep->implemented) {
                if (r >= 0 && !planned[r].doc) planned[r] = (owner_t){doc, ep};
                continue;
            }
            if (r < 0) {
                spec_diag(d, doc->path, ep->line,
                          "%s %s is marked implemented but the route table has no such route",
                          ep->method, ep->pattern);
                continue;
            }
            const route_t *rt = router_at(routes, (size_t)r);
            if (impl[r].doc) {
                spec_diag(d, doc->path, ep->line,
                          "%s %s is also marked implemented in %s:%d (a route belongs to exactly "
                          "one spec)",
                          ep->method, ep->pattern, impl[r].doc->path, impl[r].ep->line);
                continue;
            }
            impl[r] = (owner_t){doc, ep};
            const char *perm = route_permission(rt);
            if (strcmp(ep->permission, perm))
                spec_diag(d, doc->path, ep->line,
                          "%s %s: the permission is %s in the route table, %s in the spec",
                          ep->method, ep->pattern, perm, ep->permission);
        }
    }
    for (size_t r = 0; r < nr; r++) {
        if (impl[r].doc) continue;
        const route_t *rt = router_at(routes, r);
        if (planned[r].doc)
            spec_diag(d, planned[r].doc->path, planned[r].ep->line,
                      "%s %s is in the route table but marked planned; mark it implemented",
                      rt->method, rt->pattern);
        else
            spec_diag(d, "openspec/specs", 0,
                      "route %s %s (%s) is in the route table but no spec lists it as implemented",
                      rt->method, rt->pattern, rt->summary ? rt->summary : "no summary");
    }
    free(impl);
    free(planned);
}

static void check_status_file(const spec_tree_t *t, spec_diags_t *d)
{
    static const char rel[] = "openspec/IMPLEMENTATION_STATUS.md";
    buf_t want;
    buf_init(&want);
    spec_status_render(t, &want);
    char *path = xasprintf("%s/%s", t->root, rel);
    char *have;
    size_t len;
    int rc = spec__read_file(path, SPEC_MAX_FILE, &have, &len);
    if (rc == ERR_NOT_FOUND)
        spec_diag(d, rel, 0, "missing; run `bizosaas spec status` to generate it");
    else if (rc < 0)
        spec_diag(d, rel, 0, "cannot read it");
    else if (len != want.n || memcmp(have, want.p, len))
        spec_diag(d, rel, 0, "out of date with the specs; run `bizosaas spec status`");
    free(have);
    free(path);
    buf_cleanup(&want);
}

size_t spec_check(const spec_tree_t *t, const router_t *routes, spec_diags_t *d)
{
    size_t before = d->count;
    check_services(t, d);
    check_routes(t, routes, d);
    check_status_file(t, d);
    return d->count - before;
}

/* --- IMPLEMENTATION_STATUS.md ------------------------------------------ */

typedef struct counts {
    size_t specs[4]; /* by enum spec_status */
    size_t total, impl_ep, planned_ep;
} counts_t;

static void percent(buf_t *out, size_t part, size_t whole, bool bold)
{
    if (!whole)
        buf_printf(out, "%s", bold ? "**—**" : "—");
    else
        buf_printf(out, bold ? "**%zu%%**" : "%zu%%", part * 100 / whole);
}

static const char *const category_titles[SPEC_NCATEGORIES] = {"Infrastructure", "Backend",
                                                              "Frontend"};

void spec_status_render(const spec_tree_t *t, buf_t *out)
{
    counts_t c[SPEC_NCATEGORIES + 1] = {0};
    for (size_t i = 0; i < t->ndocs; i++) {
        const spec_doc_t *doc = &t->docs[i];
        counts_t *k[2] = {&c[doc->category], &c[SPEC_NCATEGORIES]};
        for (int j = 0; j < 2; j++) {
            k[j]->specs[doc->status]++;
            k[j]->total++;
            for (size_t e = 0; e < doc->nendpoints; e++) {
                if (doc->endpoints[e].implemented)
                    k[j]->impl_ep++;
                else
                    k[j]->planned_ep++;
            }
        }
    }
    buf_append_str(
        out, "# Implementation Status\n\n"
             "Generated by `bizosaas spec status` from the specs in `openspec/specs/`; do "
             "not edit\nby hand. `bizosaas spec check` fails when this file is out of date.\n\n"
             "A service is **complete** when its spec's Status is `implemented`, **partial** "
             "when\nsome of it is served today, **planned** when none of it is yet. Endpoints "
             "are\ncounted from the API Endpoints tables of the specs.\n\n"
             "## Services\n\n"
             "| Category | Complete | Partial | Planned | Total | Progress |\n"
             "|----------|----------|---------|---------|-------|----------|\n");
    for (int k = 0; k <= SPEC_NCATEGORIES; k++) {
        const counts_t *x = &c[k];
        bool total = k == SPEC_NCATEGORIES;
        size_t planned = x->specs[SPEC_PLANNED] + x->specs[SPEC_STATUS_NONE];
        if (total)
            buf_printf(out, "| **Total** | **%zu** | **%zu** | **%zu** | **%zu** | ",
                       x->specs[SPEC_IMPLEMENTED], x->specs[SPEC_PARTIAL], planned, x->total);
        else
            buf_printf(out, "| %s | %zu | %zu | %zu | %zu | ", category_titles[k],
                       x->specs[SPEC_IMPLEMENTED], x->specs[SPEC_PARTIAL], planned, x->total);
        percent(out, x->specs[SPEC_IMPLEMENTED], x->total, total);
        buf_append_str(out, " |\n");
    }
    buf_append_str(out, "\n## Endpoints\n\n"
                        "| Category | Implemented | Planned | Total | Progress |\n"
                        "|----------|-------------|---------|-------|----------|\n");
    for (int k = 0; k <= SPEC_NCATEGORIES; k++) {
        const counts_t *x = &c[k];
        size_t all = x->impl_ep + x->planned_ep;
        if (k == SPEC_NCATEGORIES)
            buf_printf(out, "| **Total** | **%zu** | **%zu** | **%zu** | ", x->impl_ep,
                       x->planned_ep, all);
        else
            buf_printf(out, "| %s | %zu | %zu | %zu | ", category_titles[k], x->impl_ep,
                       x->planned_ep, all);
        percent(out, x->impl_ep, all, k == SPEC_NCATEGORIES);
        buf_append_str(out, " |\n");
    }
    buf_append_str(out, "\n## Specs\n\n"
                        "| Service | Category | Status | Implemented | Planned | Spec |\n"
                        "|---------|----------|--------|-------------|---------|------|\n");
    for (size_t i = 0; i < t->ndocs; i++) {
        const spec_doc_t *doc = &t->docs[i];
        size_t impl = 0;
        for (size_t e = 0; e < doc->nendpoints; e++)
            impl += doc->endpoints[e].implemented;
        const char *rel = doc->path;
        if (!strncmp(rel, "openspec/", 9)) rel += 9;
        const char *base = strrchr(rel, '/');
        base = base ? base + 1 : rel;
        buf_printf(out, "| %s | %s | %s | %zu | %zu | [%s](%s) |\n",
                   doc->service ? doc->service : "(unnamed)", spec_category_name(doc->category),
                   spec_status_name(doc->status), impl, doc->nendpoints - impl, base, rel);
    }
}

/* tree.c — page paths, moves and the redirects they leave behind.
 *
 * A page's path is its parent's path plus "/" plus its slug (the home page
 * is "/", a top-level page "/about"). Paths are stored, unique per tenant,
 * so the public site finds a page with one indexed lookup; a move rewrites
 * the paths of the page's descendants and records old → new redirects
 * (301), re-pointing earlier redirects to the new path so no chain forms.
 * Slugs are [a-z0-9-], so paths never contain LIKE wildcards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ids.h"
#include "internal.h"
#include "tree.h"

static int page_path(db_t *db, const char *tenant, const char *id, char **out)
{
    return db_query_one_text(db, out, "SELECT path FROM cms_pages WHERE tenant_id = $1 AND id = $2",
                             DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
}

int cms__tree_path_for(db_t *db, const char *tenant, const char *self_id, const char *parent_id,
                       const char *slug, arena_t *a, const char **path, const char **why)
{
    if (!parent_id) {
        *path = *slug ? arena_printf(a, "/%s", slug) : "/";
        return 0;
    }
    if (!*slug) {
        *why = "only a top-level page may have the empty slug (the home page)";
        return ERR_VALIDATION;
    }
    char *pp = NULL;
    int rc = page_path(db, tenant, parent_id, &pp);
    if (rc == ERR_NOT_FOUND) {
        *why = "field 'parent_id' is not a page of this site";
        return ERR_VALIDATION;
    }
    if (rc < 0) return rc;
    const char *parent_path = arena_strdup(a, pp);
    free(pp);
    if (self_id) {
        char *sp = NULL;
        if ((rc = page_path(db, tenant, self_id, &sp)) < 0) return rc;
        size_t n = strlen(sp);
        bool cycle = !strcmp(parent_id, self_id) ||
                     (strncmp(parent_path, sp, n) == 0 && parent_path[n] == '/' && strcmp(sp, "/"));
        free(sp);
        if (cycle) {
            *why = "a page cannot be moved below itself";
            return ERR_VALIDATION;
        }
    }
    *path = arena_printf(a, "%s/%s", strcmp(parent_path, "/") ? parent_path : "", slug);
    if (strlen(*path) > CMS_PATH_MAX) {
        *why = "the page's path would be too long";
        return ERR_VALIDATION;
    }
    return 0;
}

int cms__tree_claim_path(db_t *db, const char *tenant, const char *path)
{
    return db_exec(db, NULL, "DELETE FROM cms_redirects WHERE tenant_id = $1 AND old_path = $2",
                   DB_ARGS(DB_TEXT(tenant), DB_TEXT(path)));
}

/* moved_one: old → new for one page whose row already has the new path. */
static int moved_one(db_t *db, const char *tenant, const char *from, const char *to, arena_t *a)
{
    int rc = cms__tree_claim_path(db, tenant, to);
    if (rc == 0)
        rc = db_exec(db, NULL,
                     "UPDATE cms_redirects SET new_path = $3 WHERE tenant_id = $1 AND new_path = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(from), DB_TEXT(to)));
    json_t *r;
    if (rc == 0) rc = cms__redirect_put(db, tenant, from, to, true, a, &r);
    return rc;
}

int cms__tree_moved(db_t *db, const char *tenant, const char *old_path, const char *new_path,
                    arena_t *a, const char **why)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT id, path FROM cms_pages WHERE tenant_id = $1 AND path LIKE $2 "
                      "ORDER BY path",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(arena_printf(a, "%s/%%", old_path))));
    if (rc < 0) return rc;
    size_t cap = 16, n = 0;
    const char **ids = arena_alloc(a, cap * sizeof *ids), **paths = arena_alloc(a, cap * sizeof *paths);
    while ((rc = db_res_next(r)) == 1) {
        if (n == cap) {
            const char **ni = arena_alloc(a, 2 * cap * sizeof *ni), **np = arena_alloc(a, 2 * cap * sizeof *np);
            memcpy(ni, ids, n * sizeof *ni);
            memcpy(np, paths, n * sizeof *np);
            ids = ni, paths = np, cap *= 2;
        }
        ids[n] = arena_strdup(a, db_res_text(r, 0));
        paths[n++] = arena_strdup(a, db_res_text(r, 1));
    }
    db_res_free(r);
    if (rc < 0) return rc;
    if ((rc = moved_one(db, tenant, old_path, new_path, a)) < 0) return rc;
    size_t skip = strlen(old_path);
    for (size_t i = 0; i < n; i++) {
        const char *np = arena_printf(a, "%s%s", new_path, paths[i] + skip);
        if (strlen(np) > CMS_PATH_MAX) {
            *why = "a descendant's path would be too long";
            return ERR_VALIDATION;
        }
        rc = db_exec(db, NULL, "UPDATE cms_pages SET path = $3 WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(ids[i]), DB_TEXT(np)));
        if (rc == ERR_EXISTS) *why = arena_printf(a, "a page already has the path %s", np);
        if (rc < 0) return rc;
        if ((rc = moved_one(db, tenant, paths[i], np, a)) < 0) return rc;
    }
    return 0;
}

/* ---- redirects ---- */

bool cms__path_ok(const char *p)
{
    if (!p || p[0] != '/' || strlen(p) > CMS_PATH_MAX) return false;
    if (!strcmp(p, "/")) return true;
    bool seg_start = true;
    for (const char *c = p + 1; *c; c++) {
        if (*c == '/') {
            if (seg_start) return false; /* empty segment */
            seg_start = true;
            continue;
        }
        seg_start = false;
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.' || *c == '~'))
            return false;
    }
    return !seg_start;
}

static json_t *redirect_json(db_res_t *r)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", db_res_text(r, 0), "old_path",
                     db_res_text(r, 1), "new_path", db_res_text(r, 2), "automatic",
                     db_res_int(r, 3) != 0, "created_at", db_res_text(r, 4));
}

int cms__redirect_put(db_t *db, const char *tenant, const char *from, const char *to, bool automatic,
                      arena_t *a, json_t **out)
{
    int rc = cms__tree_claim_path(db, tenant, from);
    if (rc < 0) return rc;
    char *id = arena_alloc(a, 40);
    id_uuidv7(id);
    rc = db_exec(db, NULL,
                 "INSERT INTO cms_redirects (tenant_id, id, old_path, new_path, automatic, created_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6)",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(from), DB_TEXT(to), DB_BOOL(automatic),
                         DB_TEXT(cms__now(a))));
    if (rc < 0) return rc;
    *out = cms__own(a, json_pack("{s:s, s:s, s:s, s:b}", "id", id, "old_path", from, "new_path", to,
                                 "automatic", automatic));
    return cms__site_bump(db, tenant);
}

int cms__redirect_list(db_t *db, const char *tenant, arena_t *a, json_t **items)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT id, old_path, new_path, automatic, created_at FROM cms_redirects "
                      "WHERE tenant_id = $1 ORDER BY old_path",
                      DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    *items = cms__own(a, json_array());
    while ((rc = db_res_next(r)) == 1) json_array_append_new(*items, redirect_json(r));
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int cms__redirect_delete(db_t *db, const char *tenant, const char *id)
{
    int64_t n = 0;
    int rc = db_exec(db, &n, "DELETE FROM cms_redirects WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    if (rc < 0) return rc;
    if (n == 0) return ERR_NOT_FOUND;
    return cms__site_bump(db, tenant);
}

int cms__redirect_lookup(db_t *db, const char *tenant, const char *path, arena_t *a,
                         const char **to)
{
    char *t = NULL;
    int rc = db_query_one_text(db, &t,
                               "SELECT new_path FROM cms_redirects WHERE tenant_id = $1 AND old_path = $2",
                               DB_ARGS(DB_TEXT(tenant), DB_TEXT(path)));
    if (rc < 0) return rc;
    *to = arena_strdup(a, t);
    free(t);
    return 0;
}

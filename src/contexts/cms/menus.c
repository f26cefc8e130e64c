/* menus.c — navigation menus: ordered, nested items (at most 3 levels,
 * 200 items) that point at a page (by id, so they follow moves) or at a
 * URL. Stored as one JSON document per menu; resolving replaces page ids
 * with their current paths and, for the public side, leaves out items
 * whose page is not published. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "internal.h"
#include "sanitize.h"

#define MENU_DEPTH_MAX 3
#define MENU_ITEMS_MAX 200

static int check_items(db_t *db, const char *tenant, json_t *items, int depth, int *count,
                       arena_t *a, json_t **out, const char **why)
{
    if (!json_is_array(items)) return *why = "menu items must be an array", ERR_VALIDATION;
    if (depth > MENU_DEPTH_MAX) return *why = "menus nest at most 3 levels", ERR_VALIDATION;
    json_t *res = cms__own(a, json_array());
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (++*count > MENU_ITEMS_MAX) return *why = "a menu has at most 200 items", ERR_VALIDATION;
        if (!json_is_object(it)) return *why = "a menu item must be an object", ERR_VALIDATION;
        const char *k;
        json_t *v;
        json_object_foreach(it, k, v)
        {
            if (strcmp(k, "label") && strcmp(k, "page_id") && strcmp(k, "url") && strcmp(k, "children"))
                return *why = arena_printf(a, "menu item: unknown field '%s'", k), ERR_VALIDATION;
        }
        const char *label = json_string_value(json_object_get(it, "label"));
        const char *page = json_string_value(json_object_get(it, "page_id"));
        const char *url = json_string_value(json_object_get(it, "url"));
        if (!label || !*label || strlen(label) > 80)
            return *why = "menu item: 'label' is required (at most 80 bytes)", ERR_VALIDATION;
        if (!page == !url) return *why = "menu item: give exactly one of 'page_id' and 'url'", ERR_VALIDATION;
        if (url && (strlen(url) > 2048 || !cms_url_allowed(url, strlen(url), true)))
            return *why = "menu item: 'url' must be relative or http, https or mailto", ERR_VALIDATION;
        if (page) {
            json_t *p;
            int rc = cms__page_get(db, tenant, page, a, &p);
            if (rc == ERR_NOT_FOUND) return *why = "menu item: 'page_id' is not a page of this site", ERR_VALIDATION;
            if (rc < 0) return rc;
        }
        json_t *o = json_pack("{s:s}", "label", label);
        json_object_set_new(o, page ? "page_id" : "url", json_string(page ? page : url));
        json_t *kids = json_object_get(it, "children");
        if (kids && !json_is_null(kids)) {
            json_t *ck;
            int rc = check_items(db, tenant, kids, depth + 1, count, a, &ck, why);
            if (rc < 0) {
                json_decref(o);
                return rc;
            }
            json_object_set(o, "children", ck);
        } else {
            json_object_set_new(o, "children", json_array());
        }
        json_array_append_new(res, o);
    }
    *out = res;
    return 0;
}

int cms__menu_put(db_t *db, const char *tenant, const char *slug, json_t *body, arena_t *a,
                  json_t **out, const char **why)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "title") && strcmp(k, "items")) return *why = arena_printf(a, "unknown field '%s'", k), ERR_VALIDATION;
    }
    size_t n = strlen(slug);
    bool ok = n > 0 && n <= 40;
    for (size_t i = 0; ok && i < n; i++) ok = (slug[i] >= 'a' && slug[i] <= 'z') || (slug[i] >= '0' && slug[i] <= '9') || slug[i] == '-';
    if (!ok) return *why = "a menu slug is 1-40 of a-z 0-9 -", ERR_VALIDATION;
    const char *title = json_string_value(json_object_get(body, "title"));
    if (!title || !*title || strlen(title) > CMS_TITLE_MAX) return *why = "field 'title' is required", ERR_VALIDATION;
    int count = 0;
    json_t *items;
    int rc = check_items(db, tenant, json_object_get(body, "items") ? json_object_get(body, "items") : cms__own(a, json_array()), 1, &count, a, &items, why);
    if (rc < 0) return rc;
    char *text = json_dumps(items, JSON_COMPACT);
    rc = db_exec(db, NULL,
                 "INSERT INTO cms_menus (tenant_id, slug, title, items, updated_at) VALUES ($1, $2, $3, $4, $5) "
                 "ON CONFLICT (tenant_id, slug) DO UPDATE SET title = $3, items = $4, updated_at = $5",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(slug), DB_TEXT(title), DB_TEXT(text), DB_TEXT(cms__now(a))));
    free(text);
    if (rc < 0) return rc;
    if ((rc = cms__site_bump(db, tenant)) < 0) return rc;
    return cms__menu_get(db, tenant, slug, false, a, out);
}

/* resolve: page items get their url (the page's path); public drops items
 * whose page is unpublished (with their children). */
static json_t *resolve(db_t *db, const char *tenant, json_t *items, bool public, arena_t *a)
{
    (void)a;
    json_t *res = json_array();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *o = json_deep_copy(it);
        const char *page = json_string_value(json_object_get(it, "page_id"));
        if (page) {
            char *path = NULL;
            int rc = db_query_one_text(db, &path,
                                       public ? "SELECT path FROM cms_pages WHERE tenant_id = $1 AND id = $2 "
                                                "AND live IS NOT NULL"
                                              : "SELECT path FROM cms_pages WHERE tenant_id = $1 AND id = $2",
                                       DB_ARGS(DB_TEXT(tenant), DB_TEXT(page)));
            if (rc < 0) {
                json_decref(o);
                continue;
            }
            json_object_set_new(o, "url", json_string(path));
            free(path);
        }
        json_t *kids = json_object_get(it, "children");
        json_object_set_new(o, "children", json_is_array(kids) ? resolve(db, tenant, kids, public, a) : json_array());
        json_array_append_new(res, o);
    }
    return res;
}

int cms__menu_get(db_t *db, const char *tenant, const char *slug, bool public, arena_t *a,
                  json_t **out)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT slug, title, items, updated_at FROM cms_menus WHERE tenant_id = $1 AND slug = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(slug)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc != 1) {
        db_res_free(r);
        return rc == 0 ? ERR_NOT_FOUND : rc;
    }
    json_t *items = cms__own(a, json_loads(db_res_text(r, 2), 0, NULL));
    json_t *o = cms__own(a, json_pack("{s:s, s:s, s:s}", "slug", db_res_text(r, 0), "title",
                                      db_res_text(r, 1), "updated_at", db_res_text(r, 3)));
    db_res_free(r);
    json_object_set_new(o, "items", resolve(db, tenant, items ? items : cms__own(a, json_array()), public, a));
    *out = o;
    return 0;
}

int cms__menu_list(db_t *db, const char *tenant, arena_t *a, json_t **items)
{
    db_res_t *r;
    int rc = db_query(db, &r, "SELECT slug, title, updated_at FROM cms_menus WHERE tenant_id = $1 ORDER BY slug",
                      DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    *items = cms__own(a, json_array());
    while ((rc = db_res_next(r)) == 1)
        json_array_append_new(*items, json_pack("{s:s, s:s, s:s}", "slug", db_res_text(r, 0), "title",
                                                db_res_text(r, 1), "updated_at", db_res_text(r, 2)));
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int cms__menu_delete(db_t *db, const char *tenant, const char *slug)
{
    int64_t n = 0;
    int rc = db_exec(db, &n, "DELETE FROM cms_menus WHERE tenant_id = $1 AND slug = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(slug)));
    if (rc < 0) return rc;
    if (n == 0) return ERR_NOT_FOUND;
    return cms__site_bump(db, tenant);
}

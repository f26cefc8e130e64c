/* pages.c — the page aggregate: input validation, create, update (with
 * moves, see tree.c), get, list, delete, publish / unpublish / schedule and
 * revisions.
 *
 * Editable fields are the row's columns (the draft); every save appends a
 * revision holding the draft's content; publishing copies the draft into
 * the live JSON snapshot the public side reads. Each change bumps the
 * tenant's site version, so rendered pages cached under an older version
 * are never served again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "events/events.h"
#include "ids.h"
#include "internal.h"
#include "tree.h"

#define PAGE_COLS                                                                                  \
    "id, parent_id, slug, path, type, title, seo_title, meta_description, og_image, body, "       \
    "status, live, revision, publish_at, first_published_at, published_at, created_at, updated_at"

static void decref(void *j) { json_decref(j); }

json_t *cms__own(arena_t *a, json_t *j)
{
    if (j) arena_defer(a, decref, j);
    return j;
}

const char *cms__now(arena_t *a)
{
    char *t = arena_alloc(a, 32);
    clock_rfc3339(clock_now_ms(), t);
    return t;
}

int cms__site_bump(db_t *db, const char *tenant)
{
    return db_exec(db, NULL,
                   "INSERT INTO cms_sites (tenant_id, version) VALUES ($1, 1) "
                   "ON CONFLICT (tenant_id) DO UPDATE SET version = cms_sites.version + 1",
                   DB_ARGS(DB_TEXT(tenant)));
}

int cms__site_get(db_t *db, const char *tenant, arena_t *a, int64_t *version, const char **name)
{
    db_res_t *r;
    int rc = db_query(db, &r, "SELECT version, site_name FROM cms_sites WHERE tenant_id = $1",
                      DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    *version = 0;
    if (name) *name = "";
    if ((rc = db_res_next(r)) == 1) {
        *version = db_res_int(r, 0);
        if (name) *name = arena_strdup(a, db_res_text(r, 1) ? db_res_text(r, 1) : "");
    }
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

static json_t *text_or_null(db_res_t *r, int col)
{
    return db_res_isnull(r, col) ? json_null() : json_string(db_res_text(r, col));
}

static json_t *parse_or(const char *s, json_t *dflt)
{
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    if (!j) return dflt;
    json_decref(dflt);
    return j;
}

/* row_json: a page row (PAGE_COLS) as the API shows it. */
static json_t *row_json(db_res_t *r)
{
    json_t *live = parse_or(db_res_text(r, 11), json_null());
    int64_t rev = db_res_int(r, 12);
    json_t *lr = json_object_get(live, "revision");
    bool changes = !json_is_integer(lr) || json_integer_value(lr) != rev;
    json_t *o = json_pack(
        "{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:o, s:b, s:o, s:o, s:o, "
        "s:s, s:s}",
        "id", db_res_text(r, 0), "parent_id", text_or_null(r, 1), "slug", db_res_text(r, 2), "path",
        db_res_text(r, 3), "url", db_res_text(r, 3), "type", db_res_text(r, 4), "title",
        db_res_text(r, 5), "seo_title", db_res_text(r, 6), "meta_description", text_or_null(r, 7),
        "og_image", text_or_null(r, 8), "status", db_res_text(r, 10), "revision", (json_int_t)rev,
        "live_revision", json_is_integer(lr) ? json_incref(lr) : json_null(),
        "has_unpublished_changes", changes, "publish_at", text_or_null(r, 13),
        "first_published_at", text_or_null(r, 14), "published_at", text_or_null(r, 15),
        "created_at", db_res_text(r, 16), "updated_at", db_res_text(r, 17));
    json_object_set_new(o, "body", parse_or(db_res_text(r, 9), json_array()));
    json_decref(live);
    return o;
}

static json_t *row_json_cb(db_res_t *r, void *arg)
{
    (void)arg;
    return row_json(r);
}

int cms__page_get(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out)
{
    db_res_t *r;
    int rc = db_query(db, &r, "SELECT " PAGE_COLS " FROM cms_pages WHERE tenant_id = $1 AND id = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) *out = cms__own(a, row_json(r));
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int cms__page_list(db_t *db, const char *tenant, const char *type, const char *status,
                   const char *after, int limit, arena_t *a, json_t *items, bool *more)
{
    (void)a;
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT " PAGE_COLS " FROM cms_pages WHERE tenant_id = $1 AND path > $2 "
                      "AND ($3 = '' OR type = $3) AND ($4 = '' OR status = $4) "
                      "ORDER BY path LIMIT $5",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(after ? after : ""), DB_TEXT(type ? type : ""),
                              DB_TEXT(status ? status : ""), DB_INT(limit + 1)));
    if (rc < 0) return rc;
    rc = db_res_page(r, limit, more, items, row_json_cb, NULL);
    db_res_free(r);
    return rc;
}

/* ---- input ---- */

static bool slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CMS_SLUG_MAX || s[0] == '-' || s[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool type_ok(const char *t)
{
    return !strcmp(t, "landing") || !strcmp(t, "blog_post") || !strcmp(t, "generic");
}

/* str_field: a string (or, with nullable, null) of at most max bytes. */
static int str_field(json_t *obj, const char *key, size_t max, bool nullable, const char **out,
                     bool *present, arena_t *a, const char **why)
{
    json_t *v = json_object_get(obj, key);
    if (present) *present = v != NULL;
    if (!v) return 0;
    if (json_is_null(v) && nullable) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v)) {
        *why = arena_printf(a, "field '%s' must be a string", key);
        return ERR_VALIDATION;
    }
    if (json_string_length(v) > max) {
        *why = arena_printf(a, "field '%s' is longer than %zu bytes", key, max);
        return ERR_VALIDATION;
    }
    *out = json_string_value(v);
    return 0;
}

int cms__page_parse(db_t *db, const char *tenant, json_t *obj, bool create, arena_t *a,
                    cms_page_in_t *in, const char **why)
{
    static const char *const allowed[] = {"title", "slug", "type", "seo_title", "meta_description",
                                          "parent_id", "og_image", "body", NULL};
    memset(in, 0, sizeof *in);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (const char *const *p = allowed; *p; p++) ok |= strcmp(*p, key) == 0;
        if (!ok) {
            *why = arena_printf(a, "unknown field '%s'", key);
            return ERR_VALIDATION;
        }
    }
    int rc;
    if ((rc = str_field(obj, "title", CMS_TITLE_MAX, false, &in->title, NULL, a, why)) < 0 ||
        (rc = str_field(obj, "slug", CMS_SLUG_MAX, false, &in->slug, NULL, a, why)) < 0 ||
        (rc = str_field(obj, "type", 16, false, &in->type, NULL, a, why)) < 0 ||
        (rc = str_field(obj, "seo_title", CMS_TITLE_MAX, false, &in->seo_title, NULL, a, why)) < 0 ||
        (rc = str_field(obj, "meta_description", CMS_DESC_MAX, false, &in->meta_description, NULL, a,
                        why)) < 0 ||
        (rc = str_field(obj, "parent_id", 64, true, &in->parent_id, &in->parent_set, a, why)) < 0 ||
        (rc = str_field(obj, "og_image", 64, true, &in->og_image, &in->og_set, a, why)) < 0)
        return rc;
    if (create && (!in->title || !*in->title)) {
        *why = "field 'title' is required";
        return ERR_VALIDATION;
    }
    if (in->title && !*in->title) {
        *why = "field 'title' must not be empty";
        return ERR_VALIDATION;
    }
    if (create && !in->slug) {
        *why = "field 'slug' is required (\"\" for the home page)";
        return ERR_VALIDATION;
    }
    if (in->slug && *in->slug && !slug_ok(in->slug)) {
        *why = "field 'slug' must be lower-case letters, digits and inner hyphens (at most 80)";
        return ERR_VALIDATION;
    }
    if (in->type && !type_ok(in->type)) {
        *why = "field 'type' must be one of landing, blog_post, generic";
        return ERR_VALIDATION;
    }
    if (in->og_set && in->og_image) {
        const char *url;
        rc = cms__media_url(db, tenant, in->og_image, a, &url);
        if (rc == ERR_NOT_FOUND) {
            *why = "field 'og_image' is not an image of the media library";
            return ERR_VALIDATION;
        }
        if (rc < 0) return rc;
    }
    json_t *body = json_object_get(obj, "body");
    if (body) {
        if ((rc = cms__blocks_validate(db, tenant, body, a, &in->body, why)) < 0) return rc;
    }
    return 0;
}

/* content_json: the draft content a revision stores. */
static json_t *content_json(json_t *page)
{
    json_t *c = json_object();
    static const char *const keys[] = {"title",    "slug",      "parent_id", "type", "seo_title",
                                       "meta_description", "og_image", "body", NULL};
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(page, *k);
        json_object_set(c, *k, v ? v : json_null());
    }
    return c;
}

static int add_revision(db_t *db, const char *tenant, json_t *page, const char *author,
                        const char *note, arena_t *a)
{
    json_t *c = cms__own(a, content_json(page));
    char *text = json_dumps(c, JSON_COMPACT);
    int rc = db_exec(db, NULL,
                     "INSERT INTO cms_revisions (tenant_id, page_id, number, content, author, note, "
                     "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(json_string_value(json_object_get(page, "id"))),
                             DB_INT(json_integer_value(json_object_get(page, "revision"))),
                             DB_TEXT(text), DB_TEXT(author ? author : ""), DB_TEXT(note ? note : ""),
                             DB_TEXT(cms__now(a))));
    free(text);
    return rc;
}

int cms__page_create(db_t *db, const char *tenant, const cms_page_in_t *in, const char *author,
                     arena_t *a, json_t **out, const char **why)
{
    const char *path;
    int rc = cms__tree_path_for(db, tenant, NULL, in->parent_set ? in->parent_id : NULL, in->slug, a,
                                &path, why);
    if (rc < 0) return rc;
    if ((rc = cms__tree_claim_path(db, tenant, path)) < 0) return rc;
    char *id = arena_alloc(a, 40);
    id_uuidv7(id);
    const char *now = cms__now(a);
    char *body = json_dumps(in->body ? in->body : cms__own(a, json_array()), JSON_COMPACT);
    rc = db_exec(db, NULL,
                 "INSERT INTO cms_pages (tenant_id, id, parent_id, slug, path, type, title, seo_title, "
                 "meta_description, og_image, body, status, revision, created_at, updated_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', 1, $12, $12)",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(in->parent_set ? in->parent_id : NULL),
                         DB_TEXT(in->slug), DB_TEXT(path), DB_TEXT(in->type ? in->type : "generic"),
                         DB_TEXT(in->title), DB_TEXT(in->seo_title ? in->seo_title : ""),
                         DB_TEXT(in->meta_description ? in->meta_description : ""),
                         DB_TEXT(in->og_set ? in->og_image : NULL), DB_TEXT(body), DB_TEXT(now)));
    free(body);
    if (rc == ERR_EXISTS) *why = arena_printf(a, "a page already has the path %s", path);
    if (rc < 0) return rc;
    if ((rc = cms__page_get(db, tenant, id, a, out)) < 0) return rc;
    if ((rc = add_revision(db, tenant, *out, author, "created", a)) < 0) return rc;
    return cms__site_bump(db, tenant);
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int cms__page_update(db_t *db, const char *tenant, const char *id, const cms_page_in_t *in,
                     const char *author, const char *note, arena_t *a, json_t **out,
                     const char **why)
{
    json_t *cur;
    int rc = cms__page_get(db, tenant, id, a, &cur);
    if (rc < 0) return rc;
    const char *old_path = jstr(cur, "path");
    const char *slug = in->slug ? in->slug : jstr(cur, "slug");
    const char *parent = in->parent_set ? in->parent_id : jstr(cur, "parent_id");
    const char *path = old_path;
    bool moved = strcmp(slug, jstr(cur, "slug")) != 0 ||
                 (parent ? !jstr(cur, "parent_id") || strcmp(parent, jstr(cur, "parent_id"))
                         : jstr(cur, "parent_id") != NULL);
    if (moved) {
        if (!strcmp(old_path, "/")) {
            *why = "the home page (path /) cannot be moved or renamed";
            return ERR_VALIDATION;
        }
        if ((rc = cms__tree_path_for(db, tenant, id, parent, slug, a, &path, why)) < 0) return rc;
    }
    const char *og = in->og_set ? in->og_image : jstr(cur, "og_image");
    char *body = in->body ? json_dumps(in->body, JSON_COMPACT) : NULL;
    int64_t n = 0;
    rc = db_exec(db, &n,
                 "UPDATE cms_pages SET parent_id = $3, slug = $4, path = $5, type = $6, title = $7, "
                 "seo_title = $8, meta_description = $9, og_image = $10, "
                 "body = COALESCE($11, body), revision = revision + 1, updated_at = $12 "
                 "WHERE tenant_id = $1 AND id = $2",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(parent), DB_TEXT(slug), DB_TEXT(path),
                         DB_TEXT(in->type ? in->type : jstr(cur, "type")),
                         DB_TEXT(in->title ? in->title : jstr(cur, "title")),
                         DB_TEXT(in->seo_title ? in->seo_title : jstr(cur, "seo_title")),
                         DB_TEXT(in->meta_description ? in->meta_description
                                                      : jstr(cur, "meta_description")),
                         DB_TEXT(og), DB_TEXT(body), DB_TEXT(cms__now(a))));
    free(body);
    if (rc == ERR_EXISTS) *why = arena_printf(a, "a page already has the path %s", path);
    if (rc < 0) return rc;
    if (n == 0) return ERR_NOT_FOUND;
    if (moved && (rc = cms__tree_moved(db, tenant, old_path, path, a, why)) < 0) return rc;
    if ((rc = cms__page_get(db, tenant, id, a, out)) < 0) return rc;
    if ((rc = add_revision(db, tenant, *out, author, note, a)) < 0) return rc;
    return cms__site_bump(db, tenant);
}

int cms__page_delete(db_t *db, const char *tenant, const char *id, const char **why)
{
    int64_t kids = 0;
    int rc = db_query_one_int(db, &kids,
                              "SELECT count(*) FROM cms_pages WHERE tenant_id = $1 AND parent_id = $2",
                              DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    if (rc < 0) return rc;
    if (kids > 0) { /* children name it, so it is this tenant's page */
        *why = "the page has child pages: move or delete them first";
        return ERR_CONFLICT;
    }
    int64_t n = 0;
    if ((rc = db_exec(db, &n, "DELETE FROM cms_pages WHERE tenant_id = $1 AND id = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)))) < 0)
        return rc;
    if (n == 0) return ERR_NOT_FOUND;
    if ((rc = db_exec(db, NULL, "DELETE FROM cms_revisions WHERE tenant_id = $1 AND page_id = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)))) < 0)
        return rc;
    return cms__site_bump(db, tenant);
}

int cms__page_publish(db_t *db, const char *tenant, const char *id, const char *at, arena_t *a,
                      json_t **out, const char **why)
{
    json_t *cur;
    int rc = cms__page_get(db, tenant, id, a, &cur);
    if (rc < 0) return rc;
    const char *now = cms__now(a);
    if (at && strcmp(at, now) > 0) {
        rc = db_exec(db, NULL,
                     "UPDATE cms_pages SET publish_at = $3, updated_at = $4 "
                     "WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(at), DB_TEXT(now)));
        if (rc < 0) return rc;
        return cms__page_get(db, tenant, id, a, out);
    }
    (void)why;
    const char *first = jstr(cur, "first_published_at") ? jstr(cur, "first_published_at") : now;
    json_t *live = cms__own(a, json_pack("{s:s, s:O, s:s, s:O, s:O, s:O, s:O, s:O, s:s, s:s}", "id", id,
                                         "revision", json_object_get(cur, "revision"), "type",
                                         jstr(cur, "type"), "title", json_object_get(cur, "title"),
                                         "seo_title", json_object_get(cur, "seo_title"),
                                         "meta_description", json_object_get(cur, "meta_description"),
                                         "og_image", json_object_get(cur, "og_image"), "body",
                                         json_object_get(cur, "body"), "published_at", now,
                                         "first_published_at", first));
    if (jstr(cur, "og_image")) {
        const char *url;
        if (cms__media_url(db, tenant, jstr(cur, "og_image"), a, &url) == 0)
            json_object_set_new(live, "og_image_url", json_string(url));
    }
    char *text = json_dumps(live, JSON_COMPACT);
    rc = db_exec(db, NULL,
                 "UPDATE cms_pages SET status = 'published', live = $3, publish_at = NULL, "
                 "published_at = $4, first_published_at = $5, updated_at = $4 "
                 "WHERE tenant_id = $1 AND id = $2",
                 DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(text), DB_TEXT(now), DB_TEXT(first)));
    free(text);
    if (rc < 0) return rc;
    if ((rc = ev_raise_db(db, tenant, "page", id, "PagePublished",
                          json_pack("{s:s, s:s, s:O, s:s}", "page_id", id, "path", jstr(cur, "path"),
                                    "revision", json_object_get(cur, "revision"), "published_at", now),
                          NULL)) < 0)
        return rc;
    if ((rc = cms__site_bump(db, tenant)) < 0) return rc;
    return cms__page_get(db, tenant, id, a, out);
}

int cms__page_unpublish(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out)
{
    int64_t n = 0;
    int rc = db_exec(db, &n,
                     "UPDATE cms_pages SET status = 'draft', live = NULL, publish_at = NULL, "
                     "updated_at = $3 WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id), DB_TEXT(cms__now(a))));
    if (rc < 0) return rc;
    if (n == 0) return ERR_NOT_FOUND;
    if ((rc = ev_raise_db(db, tenant, "page", id, "PageUnpublished",
                          json_pack("{s:s}", "page_id", id), NULL)) < 0)
        return rc;
    if ((rc = cms__site_bump(db, tenant)) < 0) return rc;
    return cms__page_get(db, tenant, id, a, out);
}

/* ---- revisions ---- */

int cms__revision_list(db_t *db, const char *tenant, const char *page_id, arena_t *a,
                       json_t **items)
{
    json_t *p;
    int rc = cms__page_get(db, tenant, page_id, a, &p);
    if (rc < 0) return rc;
    db_res_t *r;
    rc = db_query(db, &r,
                  "SELECT number, author, note, created_at FROM cms_revisions "
                  "WHERE tenant_id = $1 AND page_id = $2 ORDER BY number DESC",
                  DB_ARGS(DB_TEXT(tenant), DB_TEXT(page_id)));
    if (rc < 0) return rc;
    *items = cms__own(a, json_array());
    while ((rc = db_res_next(r)) == 1)
        json_array_append_new(*items, json_pack("{s:I, s:s, s:s, s:s}", "number",
                                                (json_int_t)db_res_int(r, 0), "author",
                                                db_res_text(r, 1), "note", db_res_text(r, 2),
                                                "created_at", db_res_text(r, 3)));
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int cms__revision_get(db_t *db, const char *tenant, const char *page_id, int64_t n, arena_t *a,
                      json_t **out)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT number, author, note, created_at, content FROM cms_revisions "
                      "WHERE tenant_id = $1 AND page_id = $2 AND number = $3",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(page_id), DB_INT(n)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1)
        *out = cms__own(a, json_pack("{s:I, s:s, s:s, s:s, s:o}", "number",
                                     (json_int_t)db_res_int(r, 0), "author", db_res_text(r, 1),
                                     "note", db_res_text(r, 2), "created_at", db_res_text(r, 3),
                                     "content", parse_or(db_res_text(r, 4), json_object())));
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int cms__revision_revert(db_t *db, const char *tenant, const char *page_id, int64_t n,
                         const char *author, arena_t *a, json_t **out, const char **why)
{
    json_t *rev;
    int rc = cms__revision_get(db, tenant, page_id, n, a, &rev);
    if (rc < 0) return rc;
    json_t *c = json_object_get(rev, "content");
    /* The tree position (slug, parent) is not content: reverting keeps it. */
    cms_page_in_t in = {0};
    in.title = jstr(c, "title");
    in.type = jstr(c, "type");
    in.seo_title = jstr(c, "seo_title");
    in.meta_description = jstr(c, "meta_description");
    in.og_set = true;
    in.og_image = jstr(c, "og_image");
    if (in.og_image) {
        const char *url;
        if (cms__media_url(db, tenant, in.og_image, a, &url) < 0) in.og_image = NULL;
    }
    json_t *body = json_object_get(c, "body");
    if (json_is_array(body) && (rc = cms__blocks_validate(db, tenant, body, a, &in.body, why)) < 0)
        return rc;
    return cms__page_update(db, tenant, page_id, &in, author,
                            arena_printf(a, "reverted to revision %lld", (long long)n), a, out, why);
}

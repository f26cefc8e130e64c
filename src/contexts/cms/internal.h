/* internal.h — what the CMS's files share (prefix cms__). Not for other
 * contexts: they use cms.h.
 *
 * Conventions: every function takes the tenant explicitly and filters on
 * it in every statement (SQLite has no row-level security); it runs in the
 * caller's open transaction; JSON results are owned by the arena a (their
 * release is deferred to it). Errors are ERR_*; *why (when given) receives
 * a static or arena message for a 4xx. */
#ifndef BZ_CMS_INTERNAL_H
#define BZ_CMS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "cms.h"
#include "config.h"
#include "db.h"
#include "str.h"

#define CMS_TITLE_MAX 200
#define CMS_SLUG_MAX 80
#define CMS_DESC_MAX 320
#define CMS_BLOCKS_MAX 200
#define CMS_RICH_TEXT_MAX (256 * 1024)
#define CMS_PATH_MAX 512

extern const config_t *cms__cfg;

/* cms__own: hands j to the arena (released with it) and returns it. */
json_t *cms__own(arena_t *a, json_t *j);
/* cms__now: the current time as RFC 3339 text in the arena. */
const char *cms__now(arena_t *a);

/* ---- site version (cache key) ---- */
int cms__site_bump(db_t *db, const char *tenant);
int cms__site_get(db_t *db, const char *tenant, arena_t *a, int64_t *version, const char **name);

/* ---- pages (pages.c, tree.c) ---- */
typedef struct cms_page_in {
    const char *title, *slug, *type, *seo_title, *meta_description;
    const char *parent_id; /* with parent_set: NULL = top level */
    bool parent_set;
    const char *og_image; /* with og_set: NULL = none */
    bool og_set;
    json_t *body; /* validated and sanitized (arena-owned), NULL = unchanged */
} cms_page_in_t;

/* cms__page_parse: a page body from the API (create: title and slug
 * required). Validates the blocks (sanitizing rich text, resolving media
 * and forms). */
int cms__page_parse(db_t *db, const char *tenant, json_t *obj, bool create, arena_t *a,
                    cms_page_in_t *in, const char **why);
int cms__page_create(db_t *db, const char *tenant, const cms_page_in_t *in, const char *author,
                     arena_t *a, json_t **out, const char **why);
int cms__page_update(db_t *db, const char *tenant, const char *id, const cms_page_in_t *in,
                     const char *author, const char *note, arena_t *a, json_t **out,
                     const char **why);
int cms__page_get(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out);
int cms__page_list(db_t *db, const char *tenant, const char *type, const char *status,
                   const char *after, int limit, arena_t *a, json_t *items, bool *more);
int cms__page_delete(db_t *db, const char *tenant, const char *id, const char **why);
/* cms__page_publish: at NULL or not in the future publishes now; a future
 * at schedules (publish_at). */
int cms__page_publish(db_t *db, const char *tenant, const char *id, const char *at, arena_t *a,
                      json_t **out, const char **why);
int cms__page_unpublish(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out);
int cms__revision_list(db_t *db, const char *tenant, const char *page_id, arena_t *a,
                       json_t **items);
int cms__revision_get(db_t *db, const char *tenant, const char *page_id, int64_t n, arena_t *a,
                      json_t **out);
int cms__revision_revert(db_t *db, const char *tenant, const char *page_id, int64_t n,
                         const char *author, arena_t *a, json_t **out, const char **why);

/* cms__blocks_validate: checks body (a JSON array) and returns a new array
 * (arena-owned) with rich text sanitized and media URLs resolved. */
int cms__blocks_validate(db_t *db, const char *tenant, json_t *body, arena_t *a, json_t **out,
                         const char **why);

/* ---- the published side (live.c) ---- */
/* cms__live_by_path / _by_id: the published snapshot of a page (its live
 * JSON plus id, path, parent path); ERR_NOT_FOUND when none is published. */
int cms__live_by_path(db_t *db, const char *tenant, const char *path, arena_t *a, json_t **out);
int cms__live_by_id(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out);
/* cms__live_list: published pages (optionally of one type, optionally the
 * children of parent_id), newest first for blog posts, by path otherwise;
 * total receives the count. */
int cms__live_list(db_t *db, const char *tenant, const char *type, const char *parent_id,
                   int limit, int offset, arena_t *a, json_t *items, int64_t *total);
/* cms__redirect_lookup: the target of old path, or ERR_NOT_FOUND. */
int cms__redirect_lookup(db_t *db, const char *tenant, const char *path, arena_t *a,
                         const char **to);

/* ---- redirects (tree.c) ---- */
int cms__redirect_put(db_t *db, const char *tenant, const char *from, const char *to, bool automatic,
                      arena_t *a, json_t **out);
int cms__redirect_list(db_t *db, const char *tenant, arena_t *a, json_t **items);
int cms__redirect_delete(db_t *db, const char *tenant, const char *id);
/* cms__path_ok: a site path "/a/b" made of slugs (or "/"). */
bool cms__path_ok(const char *p);

/* ---- media (media.c) ---- */
/* cms__media_sniff: the image type of the bytes: "image/png", "image/jpeg",
 * "image/gif", "image/webp", or NULL. *ext gets the file extension. */
const char *cms__media_sniff(const unsigned char *p, size_t n, const char **ext);
int cms__media_store(db_t *db, const char *tenant, const char *filename, const char *declared_type,
                     const unsigned char *bytes, size_t n, const char *alt, arena_t *a, json_t **out,
                     const char **why);
int cms__media_get(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out);
int cms__media_list(db_t *db, const char *tenant, arena_t *a, json_t **items);
int cms__media_delete(db_t *db, const char *tenant, const char *id);
/* cms__media_url: "/media/<tenant>/<id>.<ext>" of an existing image. */
int cms__media_url(db_t *db, const char *tenant, const char *id, arena_t *a, const char **url);
/* cms__media_dir: DATA_DIR/media/<tenant> (arena). */
const char *cms__media_dir(arena_t *a, const char *tenant);

/* ---- menus and forms (menus.c, forms.c) ---- */
int cms__menu_put(db_t *db, const char *tenant, const char *slug, json_t *body, arena_t *a,
                  json_t **out, const char **why);
int cms__menu_get(db_t *db, const char *tenant, const char *slug, bool resolve, arena_t *a,
                  json_t **out);
int cms__menu_list(db_t *db, const char *tenant, arena_t *a, json_t **items);
int cms__menu_delete(db_t *db, const char *tenant, const char *slug);

int cms__form_put(db_t *db, const char *tenant, const char *slug, json_t *body, bool create,
                  arena_t *a, json_t **out, const char **why);
int cms__form_get(db_t *db, const char *tenant, const char *slug, arena_t *a, json_t **out);
int cms__form_list(db_t *db, const char *tenant, arena_t *a, json_t **items);
int cms__submission_list(db_t *db, const char *tenant, const char *form_slug, const char *after,
                         int limit, arena_t *a, json_t *items, bool *more);

/* ---- public traffic (site.c) ---- */

/* ---- rendering (render.c) ---- */
typedef struct cms_site_ctx {
    const char *tenant, *site_name, *base_url; /* base_url: "http://host" */
    json_t *menu;                              /* resolved main menu items, or NULL */
    db_t *db;
    arena_t *a;
} cms_site_ctx_t;

/* cms__render_page: a published page (live JSON) with its blog listing
 * (posts, page number, page count; posts NULL when it has none). */
void cms__render_page(buf_t *out, const cms_site_ctx_t *s, json_t *live, json_t *posts,
                      int page, int pages);
void cms__render_not_found(buf_t *out, const cms_site_ctx_t *s);
/* cms__render_form_page: the thank-you page (errors NULL) or the form again
 * with each field's error and the submitted values. */
void cms__render_form_result(buf_t *out, const cms_site_ctx_t *s, json_t *form, json_t *values,
                             json_t *errors);
/* cms__render_csp: the Content-Security-Policy of rendered pages (static). */
const char *cms__render_csp(void);
/* cms__render_form: a form's HTML (action /contact), values/errors may be NULL. */
void cms__render_form(buf_t *out, json_t *form, json_t *values, json_t *errors);

/* ---- the demo site (seed.c) and scheduled publishing (sched.c) ---- */
int cms__seed_demo(db_t *db, const char *tenant, arena_t *a);
int cms__sched_start(void);
void cms__sched_stop(void);

/* cms__form_handler: the handler installed for a form slug, or NULL (the
 * public submission routes then store with cms_form_submit). */
cms_form_handler_fn cms__form_handler(const char *slug);

#endif

/* blocks.c — a page body: an ordered array of typed blocks.
 *
 *   {"type":"rich_text","html":"<p>…</p>"}          sanitized here (sanitize.c)
 *   {"type":"image","media_id":"…","alt":"…","caption":"…"}   url resolved here
 *   {"type":"cta","text":"…","url":"/contact","description":"…"}
 *   {"type":"form","form":"contact"}                the form must exist
 *
 * Validation returns a new array, so what is stored is exactly what was
 * checked; output-only keys a client may send back (an image's url) are
 * recomputed, every other unknown key is refused. */
#include <string.h>

#include "err.h"
#include "internal.h"
#include "sanitize.h"

static int bad(arena_t *a, const char **why, size_t i, const char *msg)
{
    *why = arena_printf(a, "body[%zu]: %s", i, msg);
    return ERR_VALIDATION;
}

/* opt_str: key is absent (NULL), or a string of at most max bytes. */
static int opt_str(json_t *b, const char *key, size_t max, bool required, const char **out, size_t i,
                   arena_t *a, const char **why)
{
    json_t *v = json_object_get(b, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return bad(a, why, i, arena_printf(a, "'%s' is required", key));
        return 0;
    }
    if (!json_is_string(v)) return bad(a, why, i, arena_printf(a, "'%s' must be a string", key));
    if (json_string_length(v) > max)
        return bad(a, why, i, arena_printf(a, "'%s' is longer than %zu bytes", key, max));
    if (required && json_string_length(v) == 0)
        return bad(a, why, i, arena_printf(a, "'%s' must not be empty", key));
    *out = json_string_value(v);
    return 0;
}

static int only_keys(json_t *b, const char *const *allowed, size_t i, arena_t *a, const char **why)
{
    const char *key;
    json_t *v;
    json_object_foreach(b, key, v)
    {
        bool ok = false;
        for (const char *const *p = allowed; *p; p++) ok |= strcmp(*p, key) == 0;
        if (!ok) return bad(a, why, i, arena_printf(a, "unknown field '%s'", key));
    }
    return 0;
}

static int one_block(db_t *db, const char *tenant, json_t *b, size_t i, arena_t *a, json_t *out,
                     const char **why)
{
    if (!json_is_object(b)) return bad(a, why, i, "a block must be an object");
    const char *type = json_string_value(json_object_get(b, "type"));
    if (!type) return bad(a, why, i, "'type' is required");
    int rc;
    if (!strcmp(type, "rich_text")) {
        static const char *const keys[] = {"type", "html", NULL};
        const char *html;
        if ((rc = only_keys(b, keys, i, a, why)) < 0 ||
            (rc = opt_str(b, "html", CMS_RICH_TEXT_MAX, false, &html, i, a, why)) < 0)
            return rc;
        buf_t clean;
        buf_init(&clean);
        cms_html_sanitize(html ? html : "", html ? strlen(html) : 0, &clean);
        json_array_append_new(out, json_pack("{s:s, s:s%}", "type", "rich_text", "html", clean.p,
                                             clean.n));
        buf_cleanup(&clean);
        return 0;
    }
    if (!strcmp(type, "image")) {
        static const char *const keys[] = {"type", "media_id", "alt", "caption", "url", NULL};
        const char *id, *alt, *caption, *url;
        if ((rc = only_keys(b, keys, i, a, why)) < 0 ||
            (rc = opt_str(b, "media_id", 64, true, &id, i, a, why)) < 0 ||
            (rc = opt_str(b, "alt", 300, false, &alt, i, a, why)) < 0 ||
            (rc = opt_str(b, "caption", 300, false, &caption, i, a, why)) < 0)
            return rc;
        rc = cms__media_url(db, tenant, id, a, &url);
        if (rc == ERR_NOT_FOUND) return bad(a, why, i, "'media_id' is not an image of the media library");
        if (rc < 0) return rc;
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "image", "media_id",
                                             id, "alt", alt ? alt : "", "caption",
                                             caption ? caption : "", "url", url));
        return 0;
    }
    if (!strcmp(type, "cta")) {
        static const char *const keys[] = {"type", "text", "url", "description", NULL};
        const char *text, *url, *desc;
        if ((rc = only_keys(b, keys, i, a, why)) < 0 ||
            (rc = opt_str(b, "text", 120, true, &text, i, a, why)) < 0 ||
            (rc = opt_str(b, "url", 2048, true, &url, i, a, why)) < 0 ||
            (rc = opt_str(b, "description", 500, false, &desc, i, a, why)) < 0)
            return rc;
        if (!cms_url_allowed(url, strlen(url), true))
            return bad(a, why, i, "'url' must be relative or http, https or mailto");
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "type", "cta", "text", text,
                                             "url", url, "description", desc ? desc : ""));
        return 0;
    }
    if (!strcmp(type, "form")) {
        static const char *const keys[] = {"type", "form", NULL};
        const char *slug;
        if ((rc = only_keys(b, keys, i, a, why)) < 0 ||
            (rc = opt_str(b, "form", 80, true, &slug, i, a, why)) < 0)
            return rc;
        json_t *f;
        rc = cms__form_get(db, tenant, slug, a, &f);
        if (rc == ERR_NOT_FOUND) return bad(a, why, i, "'form' is not a form of this site");
        if (rc < 0) return rc;
        json_array_append_new(out, json_pack("{s:s, s:s}", "type", "form", "form", slug));
        return 0;
    }
    return bad(a, why, i, "'type' must be one of rich_text, image, cta, form");
}

int cms__blocks_validate(db_t *db, const char *tenant, json_t *body, arena_t *a, json_t **out,
                         const char **why)
{
    if (!json_is_array(body)) {
        *why = "field 'body' must be an array of blocks";
        return ERR_VALIDATION;
    }
    if (json_array_size(body) > CMS_BLOCKS_MAX) {
        *why = arena_printf(a, "field 'body' has more than %d blocks", CMS_BLOCKS_MAX);
        return ERR_VALIDATION;
    }
    json_t *res = cms__own(a, json_array());
    size_t i;
    json_t *b;
    json_array_foreach(body, i, b)
    {
        int rc = one_block(db, tenant, b, i, a, res, why);
        if (rc < 0) return rc;
    }
    *out = res;
    return 0;
}

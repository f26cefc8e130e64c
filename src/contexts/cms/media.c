/* media.c — the media library: images sniffed from their first bytes,
 * stored as DATA_DIR/media/<tenant>/<id>.<ext> and described by a
 * cms_media row. The declared Content-Type is only a claim: the bytes
 * decide (PNG, JPEG, GIF, WebP); anything else is refused, and a claim that
 * disagrees with the bytes too. The file is written after its row, so a
 * failure leaves no row without a file (a rolled-back transaction can
 * leave an unreferenced file behind; it is never served by a URL that any
 * page holds). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ids.h"
#include "internal.h"
#include "log.h"

const char *cms__media_sniff(const unsigned char *p, size_t n, const char **ext)
{
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return *ext = "png", "image/png";
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return *ext = "jpg", "image/jpeg";
    if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6))) return *ext = "gif", "image/gif";
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return *ext = "webp", "image/webp";
    return NULL;
}

/* dimensions: width and height when the header says them cheaply. */
static void dimensions(const unsigned char *p, size_t n, const char *ext, int64_t *w, int64_t *h)
{
    *w = *h = 0;
    if (!strcmp(ext, "png") && n >= 24) {
        *w = (int64_t)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
        *h = (int64_t)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23];
    } else if (!strcmp(ext, "gif") && n >= 10) {
        *w = p[6] | p[7] << 8;
        *h = p[8] | p[9] << 8;
    }
}

const char *cms__media_dir(arena_t *a, const char *tenant)
{
    return arena_printf(a, "%s/media/%s", cms__cfg->data_dir, tenant);
}

static int mkdirs(const char *path)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return ERR_IO;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0750) < 0 && errno != EEXIST) return ERR_IO;
        *p = '/';
    }
    if (mkdir(tmp, 0750) < 0 && errno != EEXIST) return ERR_IO;
    return 0;
}

static int write_file(const char *dir, const char *name, const unsigned char *p, size_t n)
{
    if (mkdirs(dir) < 0) return ERR_IO;
    char tmp[1200], final[1200];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return ERR_IO;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return ERR_IO;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, final) < 0) {
        unlink(tmp);
        return ERR_IO;
    }
    return 0;
}

#define MEDIA_COLS "id, filename, content_type, ext, size_bytes, width, height, alt, created_at"

static json_t *media_json(db_res_t *r)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s}", "id", db_res_text(r, 0),
                     "filename", db_res_text(r, 1), "content_type", db_res_text(r, 2), "size",
                     (json_int_t)db_res_int(r, 4), "width", (json_int_t)db_res_int(r, 5), "height",
                     (json_int_t)db_res_int(r, 6), "alt", db_res_text(r, 7), "created_at",
                     db_res_text(r, 8), "url", "" /* set by media_row */);
}

static json_t *media_row(db_res_t *r, const char *tenant)
{
    json_t *o = media_json(r);
    char url[256];
    snprintf(url, sizeof url, "/media/%s/%s.%s", tenant, db_res_text(r, 0), db_res_text(r, 3));
    json_object_set_new(o, "url", json_string(url));
    return o;
}

int cms__media_store(db_t *db, const char *tenant, const char *filename, const char *declared_type,
                     const unsigned char *bytes, size_t n, const char *alt, arena_t *a, json_t **out,
                     const char **why)
{
    if (n == 0) {
        *why = "the upload is empty";
        return ERR_VALIDATION;
    }
    if ((int64_t)n > cms__cfg->cms_media_max_bytes) {
        *why = arena_printf(a, "images are limited to %lld bytes (BIZOSAAS_CMS_MEDIA_MAX_BYTES)",
                            (long long)cms__cfg->cms_media_max_bytes);
        return ERR_TOO_LARGE;
    }
    const char *ext = NULL;
    const char *type = cms__media_sniff(bytes, n, &ext);
    if (!type) {
        *why = "only PNG, JPEG, GIF and WebP images are accepted (judged by their bytes)";
        return ERR_UNSUPPORTED_MEDIA;
    }
    if (declared_type && *declared_type && strcmp(declared_type, "application/octet-stream") &&
        strcmp(declared_type, type)) {
        *why = arena_printf(a, "the bytes are %s, not %s as declared", type, declared_type);
        return ERR_VALIDATION;
    }
    int64_t w, h;
    dimensions(bytes, n, ext, &w, &h);
    char *id = arena_alloc(a, 40);
    id_uuidv7(id);
    int rc = db_exec(db, NULL,
                     "INSERT INTO cms_media (tenant_id, id, filename, content_type, ext, size_bytes, "
                     "width, height, alt, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id),
                             DB_TEXT(filename && *filename ? filename : arena_printf(a, "%s.%s", id, ext)),
                             DB_TEXT(type), DB_TEXT(ext), DB_INT(n), DB_INT(w), DB_INT(h),
                             DB_TEXT(alt ? alt : ""), DB_TEXT(cms__now(a))));
    if (rc < 0) return rc;
    if ((rc = write_file(cms__media_dir(a, tenant), arena_printf(a, "%s.%s", id, ext), bytes, n)) < 0) {
        log_kv(LOG_ERROR, "cms: cannot write a media file", "dir", cms__media_dir(a, tenant), NULL);
        return rc;
    }
    return cms__media_get(db, tenant, id, a, out);
}

int cms__media_get(db_t *db, const char *tenant, const char *id, arena_t *a, json_t **out)
{
    db_res_t *r;
    int rc = db_query(db, &r, "SELECT " MEDIA_COLS " FROM cms_media WHERE tenant_id = $1 AND id = $2",
                      DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    if (rc < 0) return rc;
    rc = db_res_next(r);
    if (rc == 1) *out = cms__own(a, media_row(r, tenant));
    db_res_free(r);
    return rc == 1 ? 0 : rc == 0 ? ERR_NOT_FOUND : rc;
}

int cms__media_url(db_t *db, const char *tenant, const char *id, arena_t *a, const char **url)
{
    json_t *m = NULL;
    int rc = cms__media_get(db, tenant, id, a, &m);
    if (rc < 0) return rc;
    *url = json_string_value(json_object_get(m, "url"));
    return 0;
}

int cms__media_list(db_t *db, const char *tenant, arena_t *a, json_t **items)
{
    db_res_t *r;
    int rc = db_query(db, &r,
                      "SELECT " MEDIA_COLS " FROM cms_media WHERE tenant_id = $1 ORDER BY id DESC "
                      "LIMIT 500",
                      DB_ARGS(DB_TEXT(tenant)));
    if (rc < 0) return rc;
    *items = cms__own(a, json_array());
    while ((rc = db_res_next(r)) == 1) json_array_append_new(*items, media_row(r, tenant));
    db_res_free(r);
    return rc < 0 ? rc : 0;
}

int cms__media_delete(db_t *db, const char *tenant, const char *id)
{
    arena_t *a = arena_new();
    json_t *m = NULL;
    int rc = cms__media_get(db, tenant, id, a, &m);
    if (rc == 0)
        rc = db_exec(db, NULL, "DELETE FROM cms_media WHERE tenant_id = $1 AND id = $2",
                     DB_ARGS(DB_TEXT(tenant), DB_TEXT(id)));
    if (rc == 0) {
        const char *url = json_string_value(json_object_get(m, "url"));
        const char *file = strrchr(url, '/') + 1;
        unlink(arena_printf(a, "%s/%s", cms__media_dir(a, tenant), file));
    }
    arena_free(a);
    return rc;
}

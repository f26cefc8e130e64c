/* cache.c — loads the web root into memory once: walks the tree, reads each
 * regular file, gives it a content type, a content hash (ETag and ?v=
 * version) and a gzip copy, and rewrites HTML so that every asset URL it
 * names is versioned and every module is in an import map.
 *
 * Safety comes from the table itself: a request can only ever name a file
 * found here. Symlinks are followed only when their target stays under the
 * root (realpath check); hidden names (".git", ".env") are skipped; a
 * symlink back to a directory being walked is skipped and the depth is
 * bounded. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "str.h"
#include "web_internal.h"

#define MAX_DEPTH 16
#define IMPORTMAP_MARK "<!--bz:importmap-->"

static const struct ctype {
    const char *ext, *type;
    bool text;
} ctypes[] = {
    {"html", "text/html; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"mjs", "text/javascript; charset=utf-8", true},
    {"json", "application/json", true},
    {"map", "application/json", true},
    {"webmanifest", "application/manifest+json", true},
    {"svg", "image/svg+xml", true},
    {"txt", "text/plain; charset=utf-8", true},
    {"md", "text/markdown; charset=utf-8", true},
    {"png", "image/png", false},
    {"jpg", "image/jpeg", false},
    {"jpeg", "image/jpeg", false},
    {"gif", "image/gif", false},
    {"webp", "image/webp", false},
    {"avif", "image/avif", false},
    {"ico", "image/x-icon", true},
    {"woff2", "font/woff2", false},
    {"woff", "font/woff", false},
};

static const struct ctype *ctype_of(const char *path)
{
    static const struct ctype other = {"", "application/octet-stream", false};
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot) return &other;
    for (size_t i = 0; i < sizeof ctypes / sizeof ctypes[0]; i++)
        if (strcasecmp(dot + 1, ctypes[i].ext) == 0) return &ctypes[i];
    return &other;
}

bool web__path_ok(const char *p)
{
    if (!*p || *p == '/') return false;
    const char *seg = p;
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == '\0') {
            size_t n = (size_t)(c - seg);
            if (n == 0) return false; /* "a//b" or a trailing '/' */
            if (seg[0] == '.') return false; /* ".", "..", hidden names */
            if (*c == '\0') return true;
            seg = c + 1;
            continue;
        }
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\') return false;
    }
}

typedef struct loader {
    web_tree_t *t;
    dev_t dev[MAX_DEPTH + 1]; /* the directories on the current path: a symlink */
    ino_t ino[MAX_DEPTH + 1]; /* back to one of them is a cycle and skipped */
    size_t cap, max_bytes;
    char *err;
    size_t errlen;
} loader_t;

static int read_all(const char *full, size_t size, unsigned char **out)
{
    FILE *f = fopen(full, "rb");
    if (!f) return ERR_IO;
    unsigned char *b = xmalloc(size ? size : 1);
    size_t got = fread(b, 1, size, f);
    bool short_read = got != size || fgetc(f) != EOF; /* changed while we read it */
    fclose(f);
    if (short_read) {
        free(b);
        return ERR_IO;
    }
    *out = b;
    return 0;
}

static int add_file(loader_t *L, const char *rel, const char *full, const struct stat *st)
{
    web_tree_t *t = L->t;
    if ((size_t)st->st_size > L->max_bytes || t->bytes + (size_t)st->st_size > L->max_bytes) {
        snprintf(L->err, L->errlen,
                 "web root %s holds more than BIZOSAAS_WEB_CACHE_MAX_BYTES (%zu bytes) at %s",
                 t->root, L->max_bytes, rel);
        return ERR_CONFIG;
    }
    unsigned char *body;
    if (read_all(full, (size_t)st->st_size, &body) < 0) {
        snprintf(L->err, L->errlen, "cannot read %s: %s", full, strerror(errno ? errno : EIO));
        return ERR_IO;
    }
    if (t->n == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 64;
        t->files = xrealloc(t->files, L->cap * sizeof *t->files);
    }
    web_file_t *f = &t->files[t->n++];
    memset(f, 0, sizeof *f);
    f->path = xstrdup(rel);
    f->ctype = ctype_of(rel)->type;
    f->html = strcmp(f->ctype, "text/html; charset=utf-8") == 0;
    f->body = body;
    f->len = (size_t)st->st_size;
    f->mtime = st->st_mtime;
    t->bytes += f->len;
    return 0;
}

/* inside_root: the real path of full is the root or below it. */
static bool inside_root(const char *root, const char *full)
{
    char real[PATH_MAX];
    if (!realpath(full, real)) return false;
    size_t n = strlen(root);
    return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0' || n == 1);
}

static bool on_path(const loader_t *L, int depth, const struct stat *st)
{
    for (int i = 0; i < depth; i++)
        if (L->dev[i] == st->st_dev && L->ino[i] == st->st_ino) return true;
    return false;
}

static int walk(loader_t *L, const char *rel, int depth, const struct stat *self)
{
    if (depth > MAX_DEPTH) return 0;
    L->dev[depth] = self->st_dev;
    L->ino[depth] = self->st_ino;
    char dir[PATH_MAX];
    int w = snprintf(dir, sizeof dir, "%s%s%s", L->t->root, *rel ? "/" : "", rel);
    if (w < 0 || (size_t)w >= sizeof dir) return 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(L->err, L->errlen, "cannot read the directory %s: %s", dir, strerror(errno));
        return ERR_IO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ".", "..", and hidden files */
        char child_rel[PATH_MAX], full[PATH_MAX];
        w = snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (w < 0 || (size_t)w >= sizeof child_rel) continue;
        w = snprintf(full, sizeof full, "%s/%s", L->t->root, child_rel);
        if (w < 0 || (size_t)w >= sizeof full) continue;
        if (!web__path_ok(child_rel)) continue; /* a name no URL could reach */
        struct stat st;
        if (stat(full, &st) != 0) continue; /* dangling symlink */
        if (!inside_root(L->t->root, full)) {
            log_warn("web: %s leads outside the web root; not served", child_rel);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (on_path(L, depth + 1, &st)) continue; /* a symlink cycle */
            rc = walk(L, child_rel, depth + 1, &st);
        }
        else if (S_ISREG(st.st_mode))
            rc = add_file(L, child_rel, full, &st);
    }
    closedir(d);
    return rc;
}

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const web_file_t *)a)->path, ((const web_file_t *)b)->path);
}

const web_file_t *web__find(const web_tree_t *t, const char *path)
{
    web_file_t key = {.path = (char *)path};
    return t->n ? bsearch(&key, t->files, t->n, sizeof *t->files, cmp_files) : NULL;
}

static void hash_file(web_file_t *f)
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof h, f->body, f->len, NULL, 0);
    sodium_bin2hex(f->version, sizeof f->version, h, 8);
    snprintf(f->etag, sizeof f->etag, "\"%s\"", f->version);
    snprintf(f->etag_gz, sizeof f->etag_gz, "\"%s-gz\"", f->version);
}

static void set_last_modified(web_file_t *f, time_t mtime)
{
    struct tm tm;
    f->mtime = mtime;
    gmtime_r(&mtime, &tm);
    strftime(f->last_modified, sizeof f->last_modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* gzip: a gzip copy of text files when it is smaller. */
static void gzip_file(web_tree_t *t, web_file_t *f)
{
    if (!ctype_of(f->path)->text || f->len < 64) return;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return;
    uLong cap = deflateBound(&z, (uLong)f->len);
    unsigned char *out = xmalloc(cap);
    z.next_in = f->body;
    z.avail_in = (uInt)f->len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    size_t n = (size_t)z.total_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END || n >= f->len) {
        free(out);
        return;
    }
    f->gz = xrealloc(out, n);
    f->gzlen = n;
    t->bytes += n;
}

/* json_safe: a path that needs no escaping inside a JSON string in HTML. */
static bool json_safe(const char *p)
{
    for (; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '<' || *p == '>' || *p == '&' || *p == '\'')
            return false;
    return true;
}

/* rewrite_html: versions every "/assets/<file>" URL in f and inserts the
 * import map at the marker. Sets the CSP with the import map's hash. */
static void rewrite_html(web_tree_t *t, web_file_t *f, time_t newest)
{
    static const char prefix[] = "\"/assets/";
    buf_t out, map;
    buf_init(&out);
    buf_init(&map);
    buf_append_str(&map, "{\"imports\":{");
    bool first = true;
    for (size_t i = 0; i < t->n; i++) {
        const web_file_t *m = &t->files[i];
        if (strcmp(m->ctype, "text/javascript; charset=utf-8") != 0 || !json_safe(m->path))
            continue;
        buf_printf(&map, "%s\"/assets/%s\":\"/assets/%s?v=%s\"", first ? "" : ",", m->path, m->path,
                   m->version);
        first = false;
    }
    buf_append_str(&map, "}}");

    const char *p = (const char *)f->body, *end = p + f->len;
    const char *mark = memmem(p, f->len, IMPORTMAP_MARK, sizeof IMPORTMAP_MARK - 1);
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), prefix, sizeof prefix - 1);
        if (mark && mark < p) /* it was inside a URL already copied: the next one */
            mark = memmem(p, (size_t)(end - p), IMPORTMAP_MARK, sizeof IMPORTMAP_MARK - 1);
        if (mark && (!hit || mark < hit)) {
            buf_append(&out, p, (size_t)(mark - p));
            buf_append_str(&out, "<script type=\"importmap\">");
            buf_append(&out, map.p, map.n);
            buf_append_str(&out, "</script>");
            p = mark + sizeof IMPORTMAP_MARK - 1;
            mark = memmem(p, (size_t)(end - p), IMPORTMAP_MARK, sizeof IMPORTMAP_MARK - 1);
            continue;
        }
        if (!hit) {
            buf_append(&out, p, (size_t)(end - p));
            break;
        }
        const char *start = hit + sizeof prefix - 1;
        const char *q = memchr(start, '"', (size_t)(end - start));
        buf_append(&out, p, (size_t)(start - p));
        p = start;
        if (!q) continue;
        char path[512];
        size_t n = (size_t)(q - start);
        if (n == 0 || n >= sizeof path) continue;
        memcpy(path, start, n);
        path[n] = '\0';
        const web_file_t *a = strpbrk(path, "?#") ? NULL : web__find(t, path);
        buf_append(&out, start, n);
        if (a) buf_printf(&out, "?v=%s", a->version);
        p = q;
    }

    unsigned char sha[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sha, (const unsigned char *)map.p, map.n);
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, sha, sizeof sha, sodium_base64_VARIANT_ORIGINAL);
    buf_t csp;
    buf_init(&csp);
    buf_printf(&csp,
               "default-src 'self'; script-src 'self' 'sha256-%s'; style-src 'self'; "
               "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'; object-src 'none'",
               b64);
    f->csp = buf_release(&csp, NULL);
    buf_cleanup(&map);
    t->bytes -= f->len;
    free(f->body);
    f->body = (unsigned char *)buf_release(&out, &f->len);
    t->bytes += f->len;
    /* the page changes whenever any file it versions changes */
    set_last_modified(f, newest);
}

int web__load(const char *root, size_t max_bytes, web_tree_t *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char real[PATH_MAX];
    if (!realpath(root, real)) {
        snprintf(err, errlen, "web root %s: %s", root, strerror(errno));
        return ERR_CONFIG;
    }
    t->root = xstrdup(real);
    loader_t L = {.t = t, .max_bytes = max_bytes, .err = err, .errlen = errlen};
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "web root %s is not a directory", real);
        return ERR_CONFIG;
    }
    int rc = walk(&L, "", 0, &st);
    if (rc < 0) return rc;
    if (t->n) qsort(t->files, t->n, sizeof *t->files, cmp_files);
    time_t newest = 0;
    for (size_t i = 0; i < t->n; i++) {
        web_file_t *f = &t->files[i];
        if (f->mtime > newest) newest = f->mtime;
        if (!f->html) hash_file(f);
        set_last_modified(f, f->mtime);
    }
    for (size_t i = 0; i < t->n; i++) {
        web_file_t *f = &t->files[i];
        if (!f->html) continue;
        rewrite_html(t, f, newest);
        hash_file(f);
    }
    for (size_t i = 0; i < t->n; i++) gzip_file(t, &t->files[i]);
    if (t->bytes > max_bytes) {
        snprintf(err, errlen, "web root %s holds more than BIZOSAAS_WEB_CACHE_MAX_BYTES (%zu bytes)",
                 t->root, max_bytes);
        return ERR_CONFIG;
    }
    return 0;
}

void web__free(web_tree_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->files[i].path);
        free(t->files[i].body);
        free(t->files[i].gz);
        free(t->files[i].csp);
    }
    free(t->files);
    free(t->root);
    memset(t, 0, sizeof *t);
}

/* web_internal.h — shared between the files of src/web/: the in-memory
 * file table (cache.c builds it, serve.c answers from it). */
#ifndef BZ_WEB_INTERNAL_H
#define BZ_WEB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct web_file {
    char *path;        /* relative to the root, "/"-separated: "shared/app.css" */
    const char *ctype; /* static string */
    unsigned char *body;
    size_t len;
    unsigned char *gz; /* gzip of body, NULL when not text or not smaller */
    size_t gzlen;
    char version[17];      /* 16 hex digits of the content hash: the ?v= value */
    char etag[24];         /* "\"<version>\"" */
    char etag_gz[28];      /* "\"<version>-gz\"" */
    char last_modified[40]; /* IMF-fixdate */
    time_t mtime;
    bool html;
    char *csp; /* HTML only: Content-Security-Policy with the import map's hash */
} web_file_t;

typedef struct web_tree {
    char *root; /* realpath of the root */
    web_file_t *files; /* sorted by path */
    size_t n;
    size_t bytes; /* bodies plus gzip copies */
} web_tree_t;

/* web__load: reads every regular file under root into t (sorted), gzips
 * text, rewrites HTML. max_bytes bounds bodies plus gzip copies. Returns 0
 * or ERR_CONFIG / ERR_IO with a message in err. t is released with
 * web__free either way. */
int web__load(const char *root, size_t max_bytes, web_tree_t *t, char *err, size_t errlen);
void web__free(web_tree_t *t);
/* web__find: the file at a relative path, or NULL. */
const web_file_t *web__find(const web_tree_t *t, const char *path);
/* web__path_ok: true when a decoded relative path is safe to look up: no
 * empty, "." or ".." segment, no backslash, no control byte, no leading '/'. */
bool web__path_ok(const char *path);

#endif

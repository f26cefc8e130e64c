/* tree.c — loading openspec/specs/<category>/NAME.md and finding a spec by name.
 *
 * The tree is read in a fixed order (category, then file name) so that every
 * listing, check report and generated status file is the same on every
 * machine. Files other than *.md are ignored (editors leave backups);
 * directories other than the three categories are errors, because a spec
 * put there would silently escape the check. */
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"

int spec__read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return ERR_IO;
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return ERR_TOO_LARGE;
    }
    /* The size can change under us: read until EOF, never past max. */
    buf_t b;
    buf_init(&b);
    buf_reserve(&b, (size_t)st.st_size + 1);
    for (;;) {
        buf_reserve(&b, 4096);
        ssize_t n = read(fd, b.p + b.n, b.cap - b.n - 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            buf_cleanup(&b);
            errno = e;
            return ERR_IO;
        }
        if (n == 0) break;
        b.n += (size_t)n;
        b.p[b.n] = '\0';
        if (b.n > max) {
            close(fd);
            buf_cleanup(&b);
            return ERR_TOO_LARGE;
        }
    }
    close(fd);
    *out = buf_release(&b, len);
    if (!*out) *out = xstrdup("");
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_md_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

/* list_dir: the sorted entry names of dir (without "." and ".."). */
static int list_dir(const char *dir, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *dp = opendir(dir);
    if (!dp) return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            *names = xrealloc(*names, cap * sizeof **names);
        }
        (*names)[(*count)++] = xstrdup(de->d_name);
    }
    closedir(dp);
    if (*count) qsort(*names, *count, sizeof **names, cmp_names);
    return 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void load_category(spec_tree_t *t, enum spec_category cat, size_t *cap, spec_diags_t *d)
{
    char *rel = xasprintf("openspec/specs/%s", spec_category_name(cat));
    char *dir = xasprintf("%s/%s", t->root, rel);
    char **names;
    size_t n;
    int rc = list_dir(dir, &names, &n);
    if (rc == ERR_NOT_FOUND) goto out; /* an empty category may be absent */
    if (rc < 0) {
        spec_diag(d, rel, 0, "cannot read the directory: %s", strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!has_md_suffix(names[i])) continue;
        char *relpath = xasprintf("%s/%s", rel, names[i]);
        char *full = xasprintf("%s/%s", t->root, relpath);
        char *text;
        size_t len;
        rc = spec__read_file(full, SPEC_MAX_FILE, &text, &len);
        if (rc == ERR_TOO_LARGE)
            spec_diag(d, relpath, 0, "the file is larger than %u bytes", SPEC_MAX_FILE);
        else if (rc < 0)
            spec_diag(d, relpath, 0, "cannot read the file: %s", strerror(errno));
        else {
            if (t->ndocs == *cap) {
                *cap = *cap ? *cap * 2 : 32;
                t->docs = xrealloc(t->docs, *cap * sizeof *t->docs);
            }
            spec_parse(&t->docs[t->ndocs++], relpath, cat, text, len, d);
            free(text);
        }
        free(full);
        free(relpath);
    }
    free_names(names, n);
out:
    free(dir);
    free(rel);
}

int spec_tree_load(spec_tree_t *t, const char *root, spec_diags_t *d)
{
    *t = (spec_tree_t){.root = xstrdup(root && *root ? root : ".")};
    size_t before = d->count;
    char *specs = xasprintf("%s/openspec/specs", t->root);
    char **names;
    size_t n;
    int rc = list_dir(specs, &names, &n);
    free(specs);
    if (rc < 0) {
        spec_diag(d, "openspec/specs", 0, "cannot read the directory: %s",
                  rc == ERR_NOT_FOUND ? "it does not exist (is --root right?)" : strerror(errno));
        return ERR_IO;
    }
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        for (int c = 0; c < SPEC_NCATEGORIES; c++)
            if (!strcmp(names[i], spec_category_name((enum spec_category)c))) known = true;
        if (known) continue;
        char *full = xasprintf("%s/openspec/specs/%s", t->root, names[i]);
        if (is_dir(full))
            spec_diag(d, "openspec/specs", 0,
                      "unknown category directory \"%s\" (infrastructure, backend, frontend)",
                      names[i]);
        else if (has_md_suffix(names[i]))
            spec_diag(d, "openspec/specs", 0,
                      "%s is outside a category directory (infrastructure, backend, frontend)",
                      names[i]);
        free(full);
    }
    free_names(names, n);
    size_t cap = 0;
    for (int c = 0; c < SPEC_NCATEGORIES; c++)
        load_category(t, (enum spec_category)c, &cap, d);
    return d->count == before ? 0 : ERR_VALIDATION;
}

void spec_tree_cleanup(spec_tree_t *t)
{
    for (size_t i = 0; i < t->ndocs; i++)
        spec_doc_cleanup(&t->docs[i]);
    free(t->docs);
    free(t->root);
    *t = (spec_tree_t){0};
}

/* stem_matches: name equals the file name of path, with or without ".md",
 * or without its "NN-" ordering prefix. */
static bool stem_matches(const char *path, const char *name)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".md")) n -= 3;
    if (strlen(name) == n && !strncmp(base, name, n)) return true;
    if (!strcmp(base, name)) return true;
    size_t k = 0;
    while (k < n && base[k] >= '0' && base[k] <= '9')
        k++;
    if (k > 0 && k < n && base[k] == '-') {
        k++;
        return strlen(name) == n - k && !strncmp(base + k, name, n - k);
    }
    return false;
}

const spec_doc_t *spec_tree_find(const spec_tree_t *t, const char *name)
{
    for (size_t i = 0; i < t->ndocs; i++)
        if (t->docs[i].service && !strcmp(t->docs[i].service, name)) return &t->docs[i];
    for (size_t i = 0; i < t->ndocs; i++)
        if (!strcmp(t->docs[i].path, name) || stem_matches(t->docs[i].path, name))
            return &t->docs[i];
    return NULL;
}

int spec__write_file(const char *path, const char *data, size_t len)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(tmp);
        return ERR_IO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto fail;
        off += (size_t)n;
    }
    if (fsync(fd) < 0) goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) goto fail;
    free(tmp);
    return 0;
fail:;
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    errno = e;
    return ERR_IO;
}

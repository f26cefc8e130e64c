/* change.c — change proposals: `spec draft` and `spec archive`.
 *
 * The seed's workflow, made executable: a change is drafted as
 * openspec/changes/<slug>.md from the template, implemented, then archived:
 * its endpoint rows are merged into the service spec's API Endpoints table
 * (a row with the same method and path is replaced, a new one is added after
 * the table), its text is appended to the spec's "## Changes" section under
 * a dated heading, and the proposal moves to openspec/archive/. Both
 * commands refuse rather than guess: a draft never overwrites, and an
 * archive writes nothing unless the proposal parses, names a known service
 * that has a spec, and the merged spec parses cleanly. The spec is replaced
 * atomically; the proposal is moved with link()+unlink() so an archived
 * file is never clobbered. */
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"

size_t spec_slugify(const char *title, char *out, size_t outlen)
{
    size_t n = 0, max = outlen ? outlen - 1 : 0;
    if (max > 60) max = 60;
    bool dash = false;
    for (const char *p = title; *p && n < max; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && n > 0) {
                if (n + 1 >= max) break; /* never end on '-' nor glue two words */
                out[n++] = '-';
            }
            dash = false;
            out[n++] = c;
        } else {
            dash = true;
        }
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    if (outlen) out[n] = '\0';
    return n;
}

static bool slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 60 || s[0] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool date_ok(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !(s[i] >= '0' && s[i] <= '9')) return false;
    return true;
}

/* substitute: text with every {{key}} of keys/values replaced. */
static void substitute(buf_t *out, const char *text, const char *const *keys,
                       const char *const *values, size_t n)
{
    const char *p = text;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) break;
        bool done = false;
        for (size_t i = 0; i < n && !done; i++) {
            size_t kl = strlen(keys[i]);
            if (!strncmp(open + 2, keys[i], kl) && !strncmp(open + 2 + kl, "}}", 2)) {
                buf_append(out, p, (size_t)(open - p));
                buf_append_str(out, values[i]);
                p = open + 4 + kl;
                done = true;
            }
        }
        if (!done) {
            buf_append(out, p, (size_t)(open + 2 - p));
            p = open + 2;
        }
    }
    buf_append_str(out, p);
}

int spec_draft(const char *root, const char *title, const char *service, const char *date,
               char *slug, spec_diags_t *d)
{
    slug[0] = '\0';
    size_t tl = title ? strlen(title) : 0;
    bool clean = tl > 0 && tl <= 200;
    for (size_t i = 0; clean && i < tl; i++)
        if ((unsigned char)title[i] < 0x20 || title[i] == 0x7f) clean = false;
    if (!clean) {
        spec_diag(d, "spec draft", 0, "the title is 1 to 200 characters on one line");
        return ERR_VALIDATION;
    }
    if (!spec_slugify(title, slug, 61)) {
        spec_diag(d, "spec draft", 0, "the title needs at least one ASCII letter or digit");
        return ERR_VALIDATION;
    }
    if (service && !spec_service_find(service)) {
        spec_diag(d, "spec draft", 0,
                  "unknown service \"%s\" (the catalogue is in openspec/README.md)", service);
        return ERR_VALIDATION;
    }
    if (!date_ok(date)) {
        spec_diag(d, "spec draft", 0, "the date is YYYY-MM-DD");
        return ERR_VALIDATION;
    }
    static const char tpl_rel[] = "openspec/templates/change-proposal.md";
    char *tpl_path = xasprintf("%s/%s", root, tpl_rel);
    char *tpl;
    size_t len;
    int rc = spec__read_file(tpl_path, SPEC_MAX_FILE, &tpl, &len);
    free(tpl_path);
    if (rc < 0) {
        spec_diag(d, tpl_rel, 0, "cannot read the template: %s",
                  rc == ERR_NOT_FOUND ? "it does not exist" : strerror(errno));
        return rc;
    }
    static const char *const keys[] = {"title", "slug", "service", "date"};
    const char *values[] = {title, slug, service ? service : "<service-name>", date};
    buf_t out;
    buf_init(&out);
    substitute(&out, tpl, keys, values, 4);
    free(tpl);

    char *dir = xasprintf("%s/openspec/changes", root);
    char *rel = xasprintf("openspec/changes/%s.md", slug);
    char *path = xasprintf("%s/%s", root, rel);
    rc = 0;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        spec_diag(d, "openspec/changes", 0, "cannot create the directory: %s", strerror(errno));
        rc = ERR_IO;
        goto out;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST) {
            spec_diag(d, rel, 0, "already exists; edit it, or draft under another title");
            rc = ERR_EXISTS;
        } else {
            spec_diag(d, rel, 0, "cannot create the file: %s", strerror(errno));
            rc = ERR_IO;
        }
        goto out;
    }
    size_t off = 0;
    while (off < out.n) {
        ssize_t w = write(fd, out.p + off, out.n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    if (close(fd) < 0 || off != out.n) {
        spec_diag(d, rel, 0, "cannot write the file: %s", strerror(errno));
        unlink(path);
        rc = ERR_IO;
    }
out:
    free(path);
    free(rel);
    free(dir);
    buf_cleanup(&out);
    return rc;
}

/* --- archive ----------------------------------------------------------- */

typedef struct line {
    const char *p;
    size_t n;
} line_t;

/* split_lines: the lines of text without their '\n' (a final newline does
 * not start another line). */
static line_t *split_lines(const char *text, size_t len, size_t *count)
{
    size_t cap = 64, n = 0;
    line_t *v = xmalloc(cap * sizeof *v);
    size_t off = 0;
    while (off < len) {
        const char *p = text + off;
        const char *nl = memchr(p, '\n', len - off);
        size_t l = nl ? (size_t)(nl - p) : len - off;
        off += l + (nl ? 1 : 0);
        if (n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[n++] = (line_t){p, l};
    }
    *count = n;
    return v;
}

static str_t trim_line(line_t l)
{
    str_t s = {l.p, l.n};
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

static bool has_prefix(str_t s, const char *p)
{
    size_t n = strlen(p);
    return s.n >= n && !memcmp(s.p, p, n);
}

static int hashes(str_t s)
{
    int i = 0;
    while ((size_t)i < s.n && s.p[i] == '#')
        i++;
    if (i == 0 || i > 6 || ((size_t)i < s.n && s.p[i] != ' ' && s.p[i] != '\t')) return 0;
    return i;
}

static bool is_fence_line(str_t s)
{
    return has_prefix(s, "```") || has_prefix(s, "~~~");
}

typedef struct row {
    spec_endpoint_t ep;
    str_t text;
} row_t;

typedef struct proposal {
    char *title, *service;
    int service_line;
    row_t *rows;
    size_t nrows;
    size_t first_body; /* index of the first line after the title */
} proposal_t;

static void proposal_cleanup(proposal_t *p)
{
    for (size_t i = 0; i < p->nrows; i++)
        spec_endpoint_cleanup(&p->rows[i].ep);
    free(p->rows);
    free(p->title);
    free(p->service);
}

/* meta_value: the value of a "- **Key**: value" bullet when its key is
 * key (case-insensitive), else an empty view with p NULL. */
static str_t meta_value(str_t t, const char *key)
{
    str_t none = {NULL, 0};
    if (!has_prefix(t, "- **") && !has_prefix(t, "* **")) return none;
    size_t kl = strlen(key);
    if (t.n < 4 + kl || strncasecmp(t.p + 4, key, kl)) return none;
    str_t v = {t.p + 4 + kl, t.n - 4 - kl};
    if (has_prefix(v, "**:"))
        v.p += 3, v.n -= 3;
    else if (has_prefix(v, ":**"))
        v.p += 3, v.n -= 3;
    else
        return none;
    while (v.n && (v.p[0] == ' ' || v.p[0] == '\t'))
        v.p++, v.n--;
    if (v.n >= 2 && v.p[0] == '`' && v.p[v.n - 1] == '`') v.p++, v.n -= 2;
    return v;
}

static bool is_meta(str_t t)
{
    return meta_value(t, "Service").p || meta_value(t, "Status").p || meta_value(t, "Created").p;
}

static int parse_proposal(proposal_t *pr, const char *rel, const line_t *lines, size_t n,
                          spec_diags_t *d)
{
    size_t before = d->count, cap = 0;
    bool fence = false, in_meta = true, in_api = false;
    *pr = (proposal_t){0};
    for (size_t i = 0; i < n; i++) {
        int ln = (int)i + 1;
        if (lines[i].n > SPEC_MAX_LINE || memchr(lines[i].p, '\0', lines[i].n)) {
            spec_diag(d, rel, ln, "the line is longer than %d bytes or holds a NUL byte",
                      SPEC_MAX_LINE);
            continue;
        }
        str_t t = trim_line(lines[i]);
        if (is_fence_line(t)) {
            fence = !fence;
            continue;
        }
        if (fence || !t.n) continue;
        int h = hashes(t);
        if (!pr->title && !pr->first_body) {
            pr->first_body = i + 1;
            str_t title = trim_line((line_t){t.p + 1, t.n - 1});
            if (h == 1 && has_prefix(title, "Change:"))
                title = trim_line((line_t){title.p + 7, title.n - 7});
            if (h != 1 || !title.n) {
                spec_diag(d, rel, ln, "the first line must be the '# Change: <title>' heading");
                continue;
            }
            pr->title = xstrndup(title.p, title.n);
            continue;
        }
        if (h == 2) {
            in_meta = false;
            str_t name = trim_line((line_t){t.p + 2, t.n - 2});
            in_api = name.n == 13 && !strncasecmp(name.p, "API Endpoints", 13);
            continue;
        }
        str_t v = meta_value(t, "Service");
        if (in_meta && v.p) {
            if (pr->service_line) {
                spec_diag(d, rel, ln, "a second Service line (the first is at line %d)",
                          pr->service_line);
                continue;
            }
            pr->service_line = ln;
            pr->service = xstrndup(v.p, v.n);
            if (!spec_service_find(pr->service))
                spec_diag(d, rel, ln,
                          "unknown service \"%s\"; set '- **Service**: <registry name>' (the "
                          "catalogue is in openspec/README.md)",
                          pr->service);
            continue;
        }
        if (in_api && t.p[0] == '|') {
            spec_endpoint_t ep;
            char err[256];
            int rc = spec__table_line(t, &ep, err, sizeof err);
            if (rc < 0) spec_diag(d, rel, ln, "%s", err);
            if (rc <= 0) continue;
            ep.line = ln;
            for (size_t k = 0; k < pr->nrows; k++)
                if (!strcmp(pr->rows[k].ep.method, ep.method) &&
                    !strcmp(pr->rows[k].ep.pattern, ep.pattern)) {
                    spec_diag(d, rel, ln, "%s %s is listed twice (first at line %d)", ep.method,
                              ep.pattern, pr->rows[k].ep.line);
                    spec_endpoint_cleanup(&ep);
                    rc = 0;
                    break;
                }
            if (rc <= 0) continue;
            if (pr->nrows == cap)
                pr->rows = xrealloc(pr->rows, (cap = cap ? cap * 2 : 8) * sizeof *pr->rows);
            pr->rows[pr->nrows++] = (row_t){ep, t};
        }
    }
    if (fence) spec_diag(d, rel, (int)n, "a code fence is never closed");
    if (!pr->first_body) spec_diag(d, rel, 1, "the proposal is empty");
    if (!pr->service_line)
        spec_diag(d, rel, 1, "no '- **Service**: <registry name>' line before the first section");
    return d->count == before ? 0 : ERR_VALIDATION;
}

/* append_body: the proposal's text after its title, without its metadata
 * bullets, headings demoted two levels, blank lines trimmed at both ends. */
static void append_body(buf_t *out, const line_t *lines, size_t n, size_t first)
{
    size_t lo = first, hi = n;
    bool fence = false, meta = true, started = false;
    while (hi > lo && !trim_line(lines[hi - 1]).n)
        hi--;
    for (size_t i = lo; i < hi; i++) {
        str_t t = trim_line(lines[i]);
        if (!started && !t.n) continue;
        started = true;
        if (is_fence_line(t)) fence = !fence;
        int h = fence ? 0 : hashes(t);
        if (h == 2) meta = false;
        if (!fence && meta && is_meta(t)) {
            started = false; /* and the blank lines after the metadata */
            continue;
        }
        if (h) {
            buf_append(out, "######", (size_t)(h + 2 > 6 ? 6 - h : 2));
            buf_append(out, t.p, t.n);
        } else {
            buf_append(out, lines[i].p, lines[i].n);
        }
        buf_append(out, "\n", 1);
    }
}

/* merge: the new text of the spec (lines of doc) with the proposal merged.
 * A Status the merged endpoints would contradict becomes partial (the only
 * honest value for a mix); *new_status says so (SPEC_STATUS_NONE when the
 * Status line is kept). */
static void merge(buf_t *out, const spec_doc_t *doc, const line_t *lines, size_t n,
                  const proposal_t *pr, const line_t *plines, size_t pn, const char *date,
                  enum spec_status *new_status)
{
    const char **replace = xcalloc(n + 1, sizeof *replace);
    size_t *replace_len = xcalloc(n + 1, sizeof *replace_len);
    bool *added = xcalloc(pr->nrows ? pr->nrows : 1, sizeof *added);
    for (size_t r = 0; r < pr->nrows; r++) {
        for (size_t k = 0; k < doc->nendpoints; k++) {
            const spec_endpoint_t *e = &doc->endpoints[k];
            if (!strcmp(e->method, pr->rows[r].ep.method) &&
                !strcmp(e->pattern, pr->rows[r].ep.pattern) && e->line >= 1 &&
                (size_t)e->line <= n) {
                replace[e->line] = pr->rows[r].text.p;
                replace_len[e->line] = pr->rows[r].text.n;
                added[r] = true;
            }
        }
    }
    bool any_impl = false, any_planned = false;
    for (size_t r = 0; r < pr->nrows; r++)
        *(pr->rows[r].ep.implemented ? &any_impl : &any_planned) = true;
    for (size_t k = 0; k < doc->nendpoints; k++)
        if (!replace[doc->endpoints[k].line])
            *(doc->endpoints[k].implemented ? &any_impl : &any_planned) = true;
    *new_status = SPEC_STATUS_NONE;
    if ((doc->status == SPEC_PLANNED && any_impl) ||
        (doc->status == SPEC_IMPLEMENTED && any_planned)) {
        *new_status = SPEC_PARTIAL;
        replace[doc->status_line] = "- **Status**: partial";
        replace_len[doc->status_line] = strlen(replace[doc->status_line]);
    }
    /* New rows go after the table; a section without one gets a table. */
    size_t rows_after = doc->api_table_end ? (size_t)doc->api_table_end : (size_t)doc->api_line;
    /* The dated entry goes after the last non-blank line of Changes. */
    size_t changes_after = 0;
    if (doc->changes_line) {
        changes_after = (size_t)doc->changes_end;
        while (changes_after > (size_t)doc->changes_line && !trim_line(lines[changes_after - 1]).n)
            changes_after--;
    }
    buf_t entry;
    buf_init(&entry);
    buf_printf(&entry, "\n### %s — %s\n\n", date, pr->title);
    append_body(&entry, plines, pn, pr->first_body);

    for (size_t i = 1; i <= n; i++) {
        if (replace[i])
            buf_append(out, replace[i], replace_len[i]);
        else
            buf_append(out, lines[i - 1].p, lines[i - 1].n);
        buf_append(out, "\n", 1);
        if (i == rows_after) {
            bool any = false;
            for (size_t r = 0; r < pr->nrows; r++)
                any |= !added[r];
            if (any && !doc->api_table_end)
                buf_append_str(out, "\n| Method | Path | Permission | Status | Summary |\n"
                                    "|--------|------|------------|--------|---------|\n");
            for (size_t r = 0; r < pr->nrows; r++) {
                if (added[r]) continue;
                buf_append(out, pr->rows[r].text.p, pr->rows[r].text.n);
                buf_append(out, "\n", 1);
            }
        }
        if (doc->changes_line && i == changes_after) {
            buf_append(out, entry.p, entry.n);
            if (i < (size_t)doc->changes_end || i < n) buf_append(out, "\n", 1);
        }
    }
    if (!doc->changes_line) {
        buf_append_str(out, "\n## Changes\n");
        buf_append(out, entry.p, entry.n);
    }
    buf_cleanup(&entry);
    free(added);
    free(replace_len);
    free(replace);
}

int spec_archive(const char *root, const char *slug, const char *date, char **spec_path,
                 bool *to_partial, spec_diags_t *d)
{
    if (spec_path) *spec_path = NULL;
    if (to_partial) *to_partial = false;
    if (!slug_ok(slug)) {
        spec_diag(d, "spec archive", 0, "a change slug is lowercase letters, digits and '-'");
        return ERR_VALIDATION;
    }
    if (!date_ok(date)) {
        spec_diag(d, "spec archive", 0, "the date is YYYY-MM-DD");
        return ERR_VALIDATION;
    }
    int rc;
    char *rel = xasprintf("openspec/changes/%s.md", slug);
    char *path = xasprintf("%s/%s", root, rel);
    char *arel = xasprintf("openspec/archive/%s-%s.md", date, slug);
    char *apath = xasprintf("%s/%s", root, arel);
    char *ptext = NULL, *stext = NULL, *spath = NULL;
    line_t *plines = NULL, *slines = NULL;
    size_t plen, pn = 0, slen, sn = 0;
    proposal_t pr = {0};
    spec_tree_t tree = {0};
    spec_doc_t doc = {0}, merged_doc = {0};
    buf_t merged;
    buf_init(&merged);

    rc = spec__read_file(path, SPEC_MAX_FILE, &ptext, &plen);
    if (rc < 0) {
        spec_diag(d, rel, 0, "%s",
                  rc == ERR_NOT_FOUND   ? "no such change proposal (see openspec/changes/)"
                  : rc == ERR_TOO_LARGE ? "the proposal is too large"
                                        : strerror(errno));
        goto out;
    }
    plines = split_lines(ptext, plen, &pn);
    if ((rc = parse_proposal(&pr, rel, plines, pn, d)) < 0) goto out;

    spec_diags_t scratch;
    spec_diags_init(&scratch);
    spec_tree_load(&tree, root, &scratch);
    spec_diags_cleanup(&scratch);
    const spec_doc_t *target = NULL;
    for (size_t i = 0; i < tree.ndocs && !target; i++)
        if (tree.docs[i].service && !strcmp(tree.docs[i].service, pr.service))
            target = &tree.docs[i];
    if (!target) {
        spec_diag(d, rel, pr.service_line,
                  "service %s has no spec in openspec/specs/; write one from openspec/templates/ "
                  "first",
                  pr.service);
        rc = ERR_NOT_FOUND;
        goto out;
    }
    spath = xasprintf("%s/%s", root, target->path);
    rc = spec__read_file(spath, SPEC_MAX_FILE, &stext, &slen);
    if (rc < 0) {
        spec_diag(d, target->path, 0, "cannot read the spec: %s", strerror(errno));
        goto out;
    }
    /* The spec must be clean before the merge, so any problem after it is
     * the proposal's doing. */
    if (spec_parse(&doc, target->path, target->category, stext, slen, d) < 0) {
        spec_diag(d, target->path, 0, "fix the spec before archiving a change into it");
        rc = ERR_VALIDATION;
        goto out;
    }
    struct stat st;
    if (lstat(apath, &st) == 0) {
        spec_diag(d, arel, 0, "already exists; nothing was archived");
        rc = ERR_EXISTS;
        goto out;
    }
    slines = split_lines(stext, slen, &sn);
    enum spec_status new_status;
    merge(&merged, &doc, slines, sn, &pr, plines, pn, date, &new_status);
    if (spec_parse(&merged_doc, target->path, target->category, merged.p, merged.n, d) < 0) {
        spec_diag(d, rel, 0, "the merged spec would not parse (see above); nothing was written");
        rc = ERR_VALIDATION;
        goto out;
    }
    char *adir = xasprintf("%s/openspec/archive", root);
    int mk = mkdir(adir, 0755);
    free(adir);
    if (mk < 0 && errno != EEXIST) {
        spec_diag(d, "openspec/archive", 0, "cannot create the directory: %s", strerror(errno));
        rc = ERR_IO;
        goto out;
    }
    if (link(path, apath) < 0) {
        spec_diag(d, arel, 0, "cannot create it: %s", strerror(errno));
        rc = errno == EEXIST ? ERR_EXISTS : ERR_IO;
        goto out;
    }
    if (spec__write_file(spath, merged.p, merged.n) < 0) {
        spec_diag(d, target->path, 0, "cannot write the spec: %s", strerror(errno));
        unlink(apath);
        rc = ERR_IO;
        goto out;
    }
    if (unlink(path) < 0)
        spec_diag(d, rel, 0, "archived, but the proposal could not be removed: %s",
                  strerror(errno));
    if (spec_path) *spec_path = xstrdup(target->path);
    if (to_partial) *to_partial = new_status == SPEC_PARTIAL;
    rc = 0;
out:
    spec_doc_cleanup(&merged_doc);
    spec_doc_cleanup(&doc);
    spec_tree_cleanup(&tree);
    proposal_cleanup(&pr);
    buf_cleanup(&merged);
    free(slines);
    free(plines);
    free(stext);
    free(ptext);
    free(spath);
    free(apath);
    free(arel);
    free(path);
    free(rel);
    return rc;
}

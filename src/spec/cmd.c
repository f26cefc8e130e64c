/* cmd.c — `bizosaas spec <subcommand>`: argument parsing and the list,
 * show, status and check commands (draft and archive live in change.c).
 *
 * Results go to stdout, problems to stderr, one "path:line: message" per
 * line. Exit codes: 0 done / no problem, 1 problems or a failed command, 2 a
 * usage error — so CI can tell "the specs drifted" from "the call was
 * wrong". */
#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "err.h"

static void usage(FILE *out)
{
    fputs("Usage: bizosaas spec <command> [--root DIR]\n\n"
          "  list                          every spec with its status and endpoint counts\n"
          "  show NAME                     print a spec (service name or file name)\n"
          "  draft \"Title\" [--service NAME] create openspec/changes/<slug>.md from the template\n"
          "  archive SLUG                  merge a change into its service spec, move it to\n"
          "                                openspec/archive/\n"
          "  status                        rewrite openspec/IMPLEMENTATION_STATUS.md\n"
          "  check                         compare the specs with the route table; exit 1 on "
          "drift\n\n"
          "--root DIR is the directory holding openspec/ (default: the current directory).\n"
          "The spec format and the workflow are described in openspec/README.md.\n",
          out);
}

static int flush_diags(spec_diags_t *d)
{
    if (d->count) fputs(d->text.p, stderr);
    return d->count ? 1 : 0;
}

void spec_list_print(const spec_tree_t *t, FILE *out)
{
    fprintf(out, "%-28s %-15s %-12s %5s %8s  %s\n", "SERVICE", "CATEGORY", "STATUS", "IMPL",
            "PLANNED", "FILE");
    for (size_t i = 0; i < t->ndocs; i++) {
        const spec_doc_t *doc = &t->docs[i];
        size_t impl = 0;
        for (size_t e = 0; e < doc->nendpoints; e++)
            impl += doc->endpoints[e].implemented;
        fprintf(out, "%-28s %-15s %-12s %5zu %8zu  %s\n", doc->service ? doc->service : "?",
                spec_category_name(doc->category), spec_status_name(doc->status), impl,
                doc->nendpoints - impl, doc->path);
    }
}

int spec_status_write(const char *root, spec_diags_t *d)
{
    spec_tree_t t;
    int rc = spec_tree_load(&t, root, d);
    if (rc < 0) {
        spec_diag(d, "openspec/IMPLEMENTATION_STATUS.md", 0,
                  "not written: fix the problems above first");
        spec_tree_cleanup(&t);
        return rc;
    }
    buf_t out;
    buf_init(&out);
    spec_status_render(&t, &out);
    char *path = xasprintf("%s/openspec/IMPLEMENTATION_STATUS.md", t.root);
    rc = spec__write_file(path, out.p, out.n);
    if (rc < 0)
        spec_diag(d, "openspec/IMPLEMENTATION_STATUS.md", 0, "cannot write it: %s",
                  strerror(errno));
    free(path);
    buf_cleanup(&out);
    spec_tree_cleanup(&t);
    return rc;
}

static void today(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (!strftime(out, n, "%Y-%m-%d", &tm)) snprintf(out, n, "1970-01-01");
}

static int cmd_list(const char *root)
{
    spec_diags_t d;
    spec_diags_init(&d);
    spec_tree_t t;
    spec_tree_load(&t, root, &d);
    spec_list_print(&t, stdout);
    spec_tree_cleanup(&t);
    int rc = flush_diags(&d);
    spec_diags_cleanup(&d);
    return rc;
}

static int cmd_show(const char *root, const char *name)
{
    spec_diags_t d;
    spec_diags_init(&d);
    spec_tree_t t;
    spec_tree_load(&t, root, &d);
    const spec_doc_t *doc = spec_tree_find(&t, name);
    int rc = 0;
    if (!doc) {
        /* Problems elsewhere in the tree may explain why it was not found. */
        flush_diags(&d);
        fprintf(stderr, "bizosaas spec: no spec named %s (see `bizosaas spec list`)\n", name);
        rc = 1;
        goto out;
    }
    char *path = xasprintf("%s/%s", t.root, doc->path);
    char *text;
    size_t len;
    if (spec__read_file(path, SPEC_MAX_FILE, &text, &len) < 0) {
        fprintf(stderr, "bizosaas spec: cannot read %s: %s\n", doc->path, strerror(errno));
        rc = 1;
    } else {
        fwrite(text, 1, len, stdout);
        free(text);
    }
    free(path);
out:
    spec_tree_cleanup(&t);
    spec_diags_cleanup(&d);
    return rc;
}

static int cmd_check(const char *root, const router_t *routes)
{
    if (!routes) {
        fputs("bizosaas spec: check needs the route table\n", stderr);
        return 2;
    }
    spec_diags_t d;
    spec_diags_init(&d);
    spec_tree_t t;
    int rc = spec_tree_load(&t, root, &d);
    if (rc != ERR_IO) spec_check(&t, routes, &d);
    size_t nimpl = 0, nplanned = 0;
    for (size_t i = 0; i < t.ndocs; i++)
        for (size_t e = 0; e < t.docs[i].nendpoints; e++)
            *(t.docs[i].endpoints[e].implemented ? &nimpl : &nplanned) += 1;
    if (d.count) {
        fputs(d.text.p, stderr);
        fprintf(stderr, "spec check: %zu problem(s)\n", d.count);
        rc = 1;
    } else {
        printf("spec check: ok — %zu specs, %zu routes, each in one spec; %zu endpoints "
               "implemented, %zu planned\n",
               t.ndocs, router_count(routes), nimpl, nplanned);
        rc = 0;
    }
    spec_tree_cleanup(&t);
    spec_diags_cleanup(&d);
    return rc;
}

int spec_main(int argc, char **argv, const router_t *routes)
{
    const char *root = ".", *service = NULL, *pos[3] = {NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h") || (npos == 0 && !strcmp(a, "help"))) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--root") || !strcmp(a, "--service")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bizosaas spec: %s needs a value\n", a);
                return 2;
            }
            if (!strcmp(a, "--root"))
                root = argv[++i];
            else
                service = argv[++i];
        } else if (!strncmp(a, "--root=", 7)) {
            root = a + 7;
        } else if (!strncmp(a, "--service=", 10)) {
            service = a + 10;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "bizosaas spec: unknown option %s (see bizosaas spec help)\n", a);
            return 2;
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "bizosaas spec: too many arguments (see bizosaas spec help)\n");
            return 2;
        }
    }
    if (!*root) root = ".";
    const char *cmd = pos[0];
    if (!cmd) {
        usage(stderr);
        return 2;
    }
    /* want: the number of positional arguments after the command. */
    int want = !strcmp(cmd, "show") || !strcmp(cmd, "draft") || !strcmp(cmd, "archive") ? 1 : 0;
    bool known = want || !strcmp(cmd, "list") || !strcmp(cmd, "status") || !strcmp(cmd, "check");
    if (!known) {
        fprintf(stderr, "bizosaas spec: unknown command %s (see bizosaas spec help)\n", cmd);
        return 2;
    }
    if (npos - 1 != want) {
        fprintf(stderr, "bizosaas spec %s: expected %s (see bizosaas spec help)\n", cmd,
                want ? "one argument" : "no argument");
        return 2;
    }
    if (service && strcmp(cmd, "draft")) {
        fprintf(stderr, "bizosaas spec %s: --service is an option of draft\n", cmd);
        return 2;
    }
    if (!strcmp(cmd, "list")) return cmd_list(root);
    if (!strcmp(cmd, "show")) return cmd_show(root, pos[1]);
    if (!strcmp(cmd, "check")) return cmd_check(root, routes);

    spec_diags_t d;
    spec_diags_init(&d);
    char date[16];
    today(date, sizeof date);
    int rc;
    if (!strcmp(cmd, "draft")) {
        char slug[64];
        rc = spec_draft(root, pos[1], service, date, slug, &d);
        if (rc == 0) printf("created openspec/changes/%s.md\n", slug);
    } else if (!strcmp(cmd, "archive")) {
        char *spec_path = NULL;
        bool to_partial = false;
        rc = spec_archive(root, pos[1], date, &spec_path, &to_partial, &d);
        if (rc == 0)
            printf("archived openspec/changes/%s.md into %s%s; moved it to "
                   "openspec/archive/%s-%s.md\n",
                   pos[1], spec_path, to_partial ? " (its Status is now partial)" : "", date,
                   pos[1]);
        free(spec_path);
    } else {
        rc = spec_status_write(root, &d);
        if (rc == 0) printf("wrote openspec/IMPLEMENTATION_STATUS.md\n");
    }
    flush_diags(&d);
    spec_diags_cleanup(&d);
    return rc < 0 ? 1 : 0;
}

/* spec.h — OpenSpec kept with the code: the spec parser, the drift check
 * against the live route table, and the `bizosaas spec ...` commands.
 *
 * The repository's openspec/ tree holds one Markdown spec per service under
 * openspec/specs/{infrastructure,backend,frontend}/. A spec is plain
 * Markdown with a small, strict skeleton (documented in openspec/README.md):
 *
 *     # <Title>
 *     ## Service Identity
 *     - **Service name**: django-crm
 *     - **Status**: implemented | partial | planned
 *     ## Purpose ... ## API Endpoints ... (the required sections)
 *     | Method | Path | Permission | Status | Summary |
 *     |---|---|---|---|---|
 *     | GET | /api/v1/crm/leads/{id} | leads.view | planned | Get a lead |
 *
 * Endpoints are table rows inside "## API Endpoints" and nowhere else; the
 * checker compares the rows marked implemented with the route table that
 * the router, `bizosaas routes --json` and /openapi.json all read, so a spec
 * that claims more than the binary serves, or a route no spec describes,
 * fails CI. Every problem is reported as "path:line: message" with paths
 * relative to the root given to the commands; nothing here aborts on bad
 * input (the parser is fuzzed: tests/fuzz/fuzz_spec_parse.c).
 *
 * Memory: every struct below owns its strings; release with the matching
 * _cleanup. Nothing is shared between threads. */
#ifndef BZ_SPEC_H
#define BZ_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "router.h"
#include "str.h"

/* Input bounds: a longer line is an error (and skipped), a larger file is
 * rejected unread. Specs are hand-written prose; these are generous. */
#define SPEC_MAX_LINE 4096
#define SPEC_MAX_FILE (1024u * 1024u)

enum spec_category { SPEC_INFRASTRUCTURE = 0, SPEC_BACKEND = 1, SPEC_FRONTEND = 2 };
#define SPEC_NCATEGORIES 3

enum spec_status { SPEC_STATUS_NONE = 0, SPEC_PLANNED, SPEC_PARTIAL, SPEC_IMPLEMENTED };

/* spec_category_name: "infrastructure" | "backend" | "frontend" (the
 * directory names); static storage. */
const char *spec_category_name(enum spec_category c);
/* spec_status_name: "planned" | "partial" | "implemented" | "none". */
const char *spec_status_name(enum spec_status s);

/* --- the service catalogue --------------------------------------------- */

/* One known service. The registry entries are REQUIREMENTS' service
 * registry table (every one must have a spec); the others are the gateway
 * itself, PostgreSQL and the seven portals, which may have one. A spec that
 * names a service not in this table is an error. */
typedef struct spec_service {
    const char *name;            /* registry name, e.g. "django-crm" */
    enum spec_category category; /* the directory its spec lives in */
    bool registry;               /* listed in the service registry */
} spec_service_t;

/* spec_service_find: the entry named name, or NULL. */
const spec_service_t *spec_service_find(const char *name);
size_t spec_service_count(void);
/* spec_service_at: entry i (< spec_service_count()); static storage. */
const spec_service_t *spec_service_at(size_t i);

/* --- diagnostics ------------------------------------------------------- */

/* A list of problems, one "path:line: message\n" line each ("path: message"
 * when no line applies). */
typedef struct spec_diags {
    buf_t text;
    size_t count;
} spec_diags_t;

void spec_diags_init(spec_diags_t *d);
void spec_diags_cleanup(spec_diags_t *d);
/* spec_diag: appends one problem; line <= 0 omits the line number. Control
 * characters in the message are replaced so one problem stays one line. */
void spec_diag(spec_diags_t *d, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- one spec ---------------------------------------------------------- */

typedef struct spec_endpoint {
    char method[8];   /* GET HEAD POST PUT PATCH DELETE OPTIONS */
    char *pattern;    /* "/api/v1/crm/leads/{id}" */
    char *permission; /* "leads.view", "public" or "authenticated" */
    char *summary;
    bool implemented; /* the row's status column: implemented | planned */
    int line;
} spec_endpoint_t;

typedef struct spec_doc {
    char *path;    /* as given to spec_parse (relative to the root) */
    char *title;   /* text of the "# " heading; NULL when missing */
    char *service; /* "Service name"; NULL when missing */
    enum spec_category category;
    enum spec_status status;
    int service_line, status_line;
    int api_line;      /* line of "## API Endpoints", 0 when absent */
    int api_table_end; /* last table line inside API Endpoints, 0 when none */
    int changes_line;  /* line of "## Changes", 0 when absent */
    int changes_end;   /* last line of the Changes section */
    int nlines;
    spec_endpoint_t *endpoints;
    size_t nendpoints;
} spec_doc_t;

/* spec_parse: parses one spec's text (len bytes, need not be NUL-terminated,
 * may hold any bytes) found at path (used in messages) in directory
 * category. Fills doc as far as the text allows and appends every problem to
 * d: a missing title or required section, a malformed Service Identity, an
 * unknown service, a row of API Endpoints that does not parse, an endpoint
 * written in another form, a status that contradicts the endpoints. Returns
 * 0 when the spec has no problem, ERR_VALIDATION otherwise. doc must be
 * released with spec_doc_cleanup either way. */
int spec_parse(spec_doc_t *doc, const char *path, enum spec_category category, const char *text,
               size_t len, spec_diags_t *d);
void spec_doc_cleanup(spec_doc_t *doc);

/* spec_parse_row: parses one endpoint table row (line, n bytes, no newline)
 * "| METHOD | /path | permission | status | summary |" into ep (strings
 * owned by ep: free with spec_endpoint_cleanup). Returns 0, or
 * ERR_VALIDATION with the reason written to err. */
int spec_parse_row(const char *line, size_t n, spec_endpoint_t *ep, char *err, size_t errlen);
void spec_endpoint_cleanup(spec_endpoint_t *ep);

/* --- the tree ---------------------------------------------------------- */

typedef struct spec_tree {
    char *root;       /* the directory holding openspec/ */
    spec_doc_t *docs; /* ordered by category, then file name */
    size_t ndocs;
} spec_tree_t;

/* spec_tree_load: reads and parses every ROOT/openspec/specs/<category>/NAME.md.
 * Problems (parse errors, an unreadable file, an unknown category directory)
 * go to d; the specs that could be read are in t either way. Returns 0 when
 * there was no problem, ERR_VALIDATION when there were, ERR_IO when
 * openspec/specs itself cannot be read. Release t with spec_tree_cleanup. */
int spec_tree_load(spec_tree_t *t, const char *root, spec_diags_t *d);
void spec_tree_cleanup(spec_tree_t *t);
/* spec_tree_find: the spec whose service name, file name (with or without
 * ".md" and its "NN-" prefix) or path is name; NULL when none. Borrowed. */
const spec_doc_t *spec_tree_find(const spec_tree_t *t, const char *name);

/* spec_check: the cross-spec rules on a loaded tree: one spec per service;
 * every registry service has a spec; every endpoint marked implemented is in
 * routes (method + pattern) with the same permission; every route is marked
 * implemented in exactly one spec; IMPLEMENTATION_STATUS.md is current.
 * routes is borrowed. Appends problems to d; returns their number. */
size_t spec_check(const spec_tree_t *t, const router_t *routes, spec_diags_t *d);

/* spec_status_render: the text of openspec/IMPLEMENTATION_STATUS.md for t
 * (deterministic: no dates) appended to out. */
void spec_status_render(const spec_tree_t *t, buf_t *out);

/* --- commands (each takes the root holding openspec/) ------------------ */

/* spec_slugify: the file slug of a title: lowercase ASCII letters and
 * digits, every other run of bytes one '-', at most 60 characters. Writes a
 * NUL-terminated slug into out (outlen >= 61); returns its length, 0 when
 * the title has no letter or digit. */
size_t spec_slugify(const char *title, char *out, size_t outlen);

/* spec_draft: creates ROOT/openspec/changes/<slug>.md from
 * templates/change-proposal.md with {{title}}, {{slug}}, {{service}} and
 * {{date}} (YYYY-MM-DD) filled in. service may be NULL (the proposal then
 * names a placeholder that archive rejects); when given it must be a known
 * service. Never overwrites: an existing proposal is ERR_EXISTS. The slug is
 * written to slug (>= 61 bytes). Returns 0 or a negative ERR_* with the
 * reason in d. */
int spec_draft(const char *root, const char *title, const char *service, const char *date,
               char *slug, spec_diags_t *d);

/* spec_archive: merges ROOT/openspec/changes/<slug>.md into the spec of the
 * service it names: its endpoint rows replace or join the spec's API
 * Endpoints table, and its text is appended under "## Changes" as
 * "### <date> — <title>" (its headings demoted two levels). A spec Status the
 * merged endpoints contradict (planned with an implemented endpoint,
 * implemented with a planned one) becomes partial, and *to_partial (when
 * not NULL) says so. The proposal is then moved to
 * openspec/archive/<date>-<slug>.md. Nothing is written when the proposal or
 * the resulting spec has a problem, the service is unknown or has no spec,
 * or the archive file exists. On success *spec_path (when not NULL) is the
 * updated spec's path (caller frees). Returns 0 or a negative ERR_* with the
 * reasons in d. */
int spec_archive(const char *root, const char *slug, const char *date, char **spec_path,
                 bool *to_partial, spec_diags_t *d);

/* spec_status_write: loads the tree and rewrites
 * ROOT/openspec/IMPLEMENTATION_STATUS.md (atomically). Refuses, with the
 * problems in d, when a spec does not parse. Returns 0 or a negative ERR_*. */
int spec_status_write(const char *root, spec_diags_t *d);

/* spec_list_print: one line per spec: service, category, status,
 * implemented and planned endpoint counts, file. */
void spec_list_print(const spec_tree_t *t, FILE *out);

/* spec_main: runs `bizosaas spec <args>`; argv[0] is "spec". routes is the
 * live route table (borrowed; only `check` needs it, NULL is allowed for
 * the others). The root containing openspec/ comes from --root DIR
 * (default "."). Subcommands: list, show NAME, draft "Title" [--service
 * NAME], archive SLUG, status, check, help. Writes results to stdout and
 * problems to stderr. Returns the process exit code: 0 ok, 1 problems or a
 * failed command, 2 usage errors. */
int spec_main(int argc, char **argv, const router_t *routes);

/* --- shared by the files of this module; not for other modules --------- */

/* spec__read_file: reads the whole regular file at path (at most max bytes)
 * into a new NUL-terminated buffer (caller frees). Returns 0, ERR_NOT_FOUND,
 * ERR_TOO_LARGE or ERR_IO (errno says why). */
int spec__read_file(const char *path, size_t max, char **out, size_t *len);
/* spec__write_file: replaces path with len bytes of data atomically (a
 * temporary file in the same directory, fsync, rename). Returns 0 or ERR_IO
 * (errno says why). */
int spec__write_file(const char *path, const char *data, size_t len);
/* spec__table_line: classifies one table line t (trimmed, starting with
 * '|') of an API Endpoints section: 0 for the header or separator row, 1
 * for an endpoint row parsed into ep (see spec_parse_row), ERR_VALIDATION
 * with the reason in err for a row that does not parse. */
int spec__table_line(str_t t, spec_endpoint_t *ep, char *err, size_t errlen);

#endif

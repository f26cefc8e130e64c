/* stream.c — GET /api/v1/notifications/stream: the caller's new
 * notifications as Server-Sent Events.
 *
 * Runs on a worker without a request transaction (RT_NO_TX) and streams
 * through the kernel's RT_STREAM API: every POLL_MS it reads the caller's
 * rows above the last seq sent, in a short read-only transaction, and
 * writes each as
 *   id: <seq>
 *   event: notification
 *   data: {the row as in the list, plus "unread": the caller's unread count}
 * with a ": keepalive" comment every KEEPALIVE_MS. The stream starts after
 * `Last-Event-ID` (what EventSource sends on a reconnect), else after
 * `?after=<seq>`, else after the caller's newest row (only new ones).
 *
 * Ordering. On SQLite writers are serialized and seq is max+1, so rows
 * commit in seq order and "seq > last" misses nothing. On PostgreSQL seq
 * comes from a sequence: a transaction can take a lower seq and commit
 * after a higher one. So there each poll also re-reads the rows created in
 * the last 60 seconds at or below the last seq sent and sends those not
 * sent yet (a ring of the RING seqs sent recently; the rows at or below
 * the start point in that window are counted as sent). Clients dedupe by id; the list route stays
 * the source of truth (the portal re-reads it on every reconnect).
 *
 * Limits: each stream holds one worker thread, so their number is capped
 * (BIZOSAAS_NOTIFY_SSE_MAX; 503 + Retry-After beyond), a stream ends after
 * MAX_STREAM_MS (clients reconnect), and it ends at shutdown
 * (http_stream_closing); a client that hangs up is noticed at the next
 * poll (http_stream_gone), not at the next keepalive. Bearer tokens only: API keys are resolved in the
 * request transaction this route does not have.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "notify_internal.h"

#define POLL_MS 300
#define KEEPALIVE_MS 15000
#define MAX_STREAM_MS 600000
#define WRITE_TIMEOUT_MS 5000
#define RING 256

static _Atomic int64_t g_streams;
static int64_t g_max = 2;

void ntf__stream_configure(int64_t max_streams) { g_max = max_streams; }

typedef struct {
    http_req_t *req;
    int64_t last;       /* highest seq sent (or the start point) */
    int64_t sent[RING]; /* recently sent seqs (PostgreSQL's late rows) */
    int nsent;
} stream_t;

static bool was_sent(const stream_t *s, int64_t seq)
{
    if (seq > s->last) return false;
    int n = s->nsent < RING ? s->nsent : RING;
    for (int i = 0; i < n; i++)
        if (s->sent[i] == seq) return true;
    return false; /* a late row (PostgreSQL): not sent yet */
}

static void mark_sent(stream_t *s, int64_t seq)
{
    s->sent[s->nsent++ % RING] = seq;
    if (seq > s->last) s->last = seq;
}

static int write_event(stream_t *s, int64_t seq, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!text) return ERR_INTERNAL;
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "id: %lld\nevent: notification\ndata: %s\n\n", (long long)seq, text);
    free(text);
    int rc = http_stream_write(s->req, b.p, b.n, WRITE_TIMEOUT_MS);
    buf_cleanup(&b);
    return rc;
}

/* The queries of one poll ($4 = last): the rows above last, oldest first
 * (a batch), and on PostgreSQL the recent rows at or below last, newest
 * first (late commits; RING of them, so a burst of new rows cannot hide
 * them behind the batch limit). */
#define NEW_SQL "SELECT " NTF_COLUMNS " " NTF_FROM " AND n.seq > $4 ORDER BY n.seq LIMIT 50"
#define LATE_SQL                                                                  \
    "SELECT " NTF_COLUMNS " " NTF_FROM " AND n.seq <= $4 AND n.created_at > now() - " \
    "interval '60 seconds' ORDER BY n.seq DESC LIMIT 256"

/* collect: runs one poll query; appends the rows to send to rows (prime:
 * the rows at or below last are the client's, marked sent instead). */
static int collect(stream_t *s, const char *sql, bool prime, json_t *rows)
{
    http_req_t *req = s->req;
    const auth_ctx_t *a = &req->auth;
    db_res_t *r = NULL;
    int rc = db_query(req->db, &r, sql,
                      DB_ARGS(DB_TEXT(a->tenant_id), DB_INT(a->roles), DB_TEXT(a->user_id),
                              DB_INT(s->last)));
    while (rc == 0 && (rc = db_res_next(r)) == 1) {
        rc = 0;
        int64_t seq = db_res_int(r, 1);
        if (prime && seq <= s->last) {
            mark_sent(s, seq);
            continue;
        }
        if (was_sent(s, seq)) continue;
        json_array_append_new(rows, ntf__row_json(r, req->arena));
    }
    db_res_free(r);
    return rc;
}

/* poll: reads and sends what is new. *wrote is set when something went
 * out. Returns 0, ERR_IO when the client is gone, or a database error
 * (the caller retries at the next poll). When prime is set the late rows
 * found are the ones the client has (the start point): none is sent. */
static int poll_once(stream_t *s, bool prime, bool *wrote)
{
    http_req_t *req = s->req;
    const auth_ctx_t *a = &req->auth;
    int rc = db_begin(req->db, a->tenant_id, false);
    if (rc < 0) return rc;
    json_t *rows = json_array();
    if (db_backend(req->db) != DB_SQLITE) rc = collect(s, LATE_SQL, prime, rows);
    if (rc == 0) rc = collect(s, NEW_SQL, false, rows);
    int64_t unread = 0;
    if (rc == 0 && json_array_size(rows))
        rc = ntf__unread(req->db, a->tenant_id, a->roles, a->user_id, &unread);
    db_rollback(req->db);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (rc < 0) break;
        int64_t seq = json_integer_value(json_object_get(row, "seq"));
        json_object_set_new(row, "unread", json_integer(unread));
        if (write_event(s, seq, json_incref(row)) < 0) rc = ERR_IO;
        mark_sent(s, seq);
        *wrote = true;
    }
    json_decref(rows);
    return rc;
}

/* start_point: Last-Event-ID, else ?after, else the caller's newest seq.
 * Returns 0 or an error already written to res. */
static int start_point(http_req_t *req, http_res_t *res, int64_t *out)
{
    const char *what = "header Last-Event-ID";
    const char *v = http_header(req, "Last-Event-ID");
    if (!v) {
        what = "query parameter 'after'";
        v = http_query(req, "after");
    }
    if (v) {
        char *end;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || x < 0)
            return http_error(res, ERR_VALIDATION, "%s must be a non-negative integer (a seq)", what);
        *out = x;
        return 0;
    }
    const auth_ctx_t *a = &req->auth;
    int rc = db_begin(req->db, a->tenant_id, false);
    if (rc == 0)
        rc = db_query_one_int(req->db, out,
                              "SELECT COALESCE(MAX(n.seq), 0) FROM notifications n WHERE "
                              "n.tenant_id = $1 AND ((n.roles & $2) <> 0 OR n.user_id = $3)",
                              DB_ARGS(DB_TEXT(a->tenant_id), DB_INT(a->roles), DB_TEXT(a->user_id)));
    db_rollback(req->db);
    return rc < 0 ? http_error(res, rc, NULL) : 0;
}

static void run(stream_t *s)
{
    http_req_t *req = s->req;
    int64_t start = clock_now_ms(), last_write = start;
    bool primed = db_backend(req->db) == DB_SQLITE;
    if (http_stream_write(req, "retry: 2000\n\n", 13, WRITE_TIMEOUT_MS) < 0) return;
    for (;;) {
        bool wrote = false;
        int rc = poll_once(s, !primed, &wrote);
        if (rc == ERR_IO) return;
        if (rc == 0) primed = true; /* else: the database is away, try again */
        int64_t now = clock_now_ms();
        if (wrote) last_write = now;
        if (http_stream_gone(req)) return;
        if (http_stream_closing(req)) {
            http_stream_write(req, ": server shutting down; reconnect\n\n", 35, WRITE_TIMEOUT_MS);
            return;
        }
        if (now - start > MAX_STREAM_MS) {
            http_stream_write(req, ": stream time limit reached; reconnect\n\n", 40, WRITE_TIMEOUT_MS);
            return;
        }
        if (now - last_write >= KEEPALIVE_MS) {
            if (http_stream_write(req, ": keepalive\n\n", 13, WRITE_TIMEOUT_MS) < 0) return;
            last_write = now;
        }
        usleep(POLL_MS * 1000);
    }
}

int ntf__stream(http_req_t *req, http_res_t *res)
{
    if (!req->authenticated)
        return http_error(res, ERR_UNAUTHORIZED, "use a bearer token for the notification stream");
    if (!req->auth.tenant_id[0])
        return http_error(res, ERR_VALIDATION,
                          "notifications belong to a tenant: platform callers name one with X-Tenant-ID");
    if (!req->db) return http_error(res, ERR_DB_UNAVAILABLE, "the database is unavailable; retry later");
    stream_t *s = calloc(1, sizeof *s);
    if (!s) return http_error(res, ERR_INTERNAL, NULL);
    s->req = req;
    int rc = start_point(req, res, &s->last);
    if (rc < 0) {
        free(s);
        return rc;
    }
    if (atomic_fetch_add(&g_streams, 1) >= g_max) {
        atomic_fetch_sub(&g_streams, 1);
        free(s);
        http_set_header(res, "Retry-After", "5");
        return http_error(res, ERR_OVERLOADED, "too many open notification streams; retry later");
    }
    http_set_header(res, "X-Accel-Buffering", "no");
    if (http_stream_begin(req, res, "text/event-stream") == 0) run(s);
    atomic_fetch_sub(&g_streams, 1);
    free(s);
    return 0;
}

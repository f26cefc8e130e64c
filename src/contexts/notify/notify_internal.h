/* notify_internal.h — shared between the notify module's files (not a
 * public API): the row → JSON mapping of the list and the stream, and the
 * stream's route handler and setting. */
#ifndef BZ_NOTIFY_INTERNAL_H
#define BZ_NOTIFY_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"
#include "http.h"

/* The columns ntf__row_json reads, in order, for a table `n` joined with
 * the caller's read state `r` ($3 = the caller's user id). */
#define NTF_COLUMNS "n.id, n.seq, n.kind, n.title, n.body, n.data, n.created_at, r.read_at"
#define NTF_FROM                                                                             \
    "FROM notifications n LEFT JOIN notification_reads r ON r.tenant_id = n.tenant_id AND " \
    "r.notification_id = n.id AND r.user_id = $3 "                                         \
    "WHERE n.tenant_id = $1 AND ((n.roles & $2) <> 0 OR n.user_id = $3)"

/* ntf__row_json: one row of NTF_COLUMNS as the API shows it (new
 * reference); arg is the request's arena. */
json_t *ntf__row_json(db_res_t *r, void *arg);
/* ntf__unread: the caller's unread count, in the open transaction. */
int ntf__unread(db_t *db, const char *tenant, unsigned roles, const char *user, int64_t *n);

/* GET /api/v1/notifications/stream (stream.c). */
int ntf__stream(http_req_t *req, http_res_t *res);
/* ntf__stream_configure: the most streams open at once (more are 503). */
void ntf__stream_configure(int64_t max_streams);

#endif

/* events.c — raising events into the outbox and the subscriber registry
 * (see events.h). Delivery lives in deliver.c, the Redis relay in relay.c,
 * the threads in worker.c, the HTTP API in events_http.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "events_internal.h"
#include "ids.h"
#include "log.h"

ev__sub_t ev__subs[EV_MAX_SUBSCRIBERS];
int ev__nsubs;

static _Thread_local char t_error[512];

static bool name_ok(const char *s) { return s && *s && strlen(s) <= EV_MAX_NAME; }

int ev_raise_db(db_t *db, const char *tenant_id, const char *aggregate_type,
                const char *aggregate_id, const char *event_type, json_t *payload, char *id_out)
{
    if (!payload) payload = json_object();
    if (!json_is_object(payload) || !name_ok(tenant_id) || !name_ok(aggregate_type) ||
        !name_ok(aggregate_id) || !name_ok(event_type)) {
        json_decref(payload);
        return ERR_VALIDATION;
    }
    char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(payload);
    if (!text) return ERR_VALIDATION;
    char id[ID_UUID_LEN + 1];
    id_uuidv7(id);
    int rc = db_exec(db, NULL,
                     "INSERT INTO outbox (tenant_id, id, aggregate_type, aggregate_id, event_type, "
                     "payload) VALUES ($1, $2, $3, $4, $5, $6)",
                     DB_ARGS(DB_TEXT(tenant_id), DB_TEXT(id), DB_TEXT(aggregate_type),
                             DB_TEXT(aggregate_id), DB_TEXT(event_type), DB_TEXT(text)));
    free(text);
    if (rc == 0 && id_out) memcpy(id_out, id, sizeof id);
    return rc;
}

int ev_raise(http_req_t *req, const char *aggregate_type, const char *aggregate_id,
             const char *event_type, json_t *payload)
{
    const char *tenant = req->auth.tenant_id[0] ? req->auth.tenant_id : EV_PLATFORM_TENANT;
    return ev_raise_db(req->db, tenant, aggregate_type, aggregate_id, event_type, payload, NULL);
}

void ev_subscribe(const char *name, const char *event_type, ev_handler_fn fn, void *arg)
{
    if (!name_ok(name) || !name_ok(event_type) || !fn || strcmp(name, EV_RELAY_NAME) == 0) {
        log_error("ev_subscribe: invalid subscriber \"%s\"", name ? name : "(null)");
        abort();
    }
    for (int i = 0; i < ev__nsubs; i++) {
        if (strcmp(ev__subs[i].name, name) == 0) {
            log_error("ev_subscribe: duplicate subscriber \"%s\"", name);
            abort();
        }
    }
    if (ev__nsubs == EV_MAX_SUBSCRIBERS) {
        log_error("ev_subscribe: more than %d subscribers", EV_MAX_SUBSCRIBERS);
        abort();
    }
    ev__sub_t *s = &ev__subs[ev__nsubs++];
    s->name = xstrdup(name);
    s->event_type = xstrdup(event_type);
    s->fn = fn;
    s->arg = arg;
}

void ev_unsubscribe_all(void)
{
    for (int i = 0; i < ev__nsubs; i++) {
        free(ev__subs[i].name);
        free(ev__subs[i].event_type);
    }
    memset(ev__subs, 0, sizeof ev__subs);
    ev__nsubs = 0;
}

void ev_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_error, sizeof t_error, fmt, ap);
    va_end(ap);
}

const char *ev__take_error(int rc)
{
    static _Thread_local char out[sizeof t_error];
    if (t_error[0])
        snprintf(out, sizeof out, "%s", t_error);
    else
        snprintf(out, sizeof out, "%s", err_api_code(rc));
    t_error[0] = '\0';
    return out;
}

void ev__clear_error(void) { t_error[0] = '\0'; }

void ev_options_from_config(const config_t *cfg, ev_options_t *o)
{
    *o = (ev_options_t){
        .max_attempts = (int)cfg->events_max_attempts,
        .retry_base_ms = cfg->events_retry_base_ms,
        .retry_max_ms = 300000,
        .poll_ms = cfg->events_poll_ms,
        .batch = 64,
        .redis_url = cfg->redis_url,
        .stream_maxlen = cfg->redis_stream_maxlen,
    };
}

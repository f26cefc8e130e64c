/* redisc.c — see redisc.h. */
#include "redisc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int redisc_parse(const char *url, redisc_url_t *u)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) return ERR_CONFIG;
    const char *p = url + 8;
    const char *at = strrchr(p, '@'); /* the last one: a password may hold '@' */
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            size_t n = (size_t)(at - colon - 1);
            if (n >= sizeof u->password) return ERR_CONFIG;
            memcpy(u->password, colon + 1, n);
        }
        p = at + 1;
    }
    const char *end = p + strcspn(p, ":/");
    size_t hl = (size_t)(end - p);
    if (hl == 0 || hl >= sizeof u->host) return ERR_CONFIG;
    memcpy(u->host, p, hl);
    if (*end == ':') {
        char *e;
        long port = strtol(end + 1, &e, 10);
        if (port <= 0 || port > 65535) return ERR_CONFIG;
        u->port = (int)port;
        end = e;
    }
    if (*end == '/' && end[1]) u->db = atoi(end + 1);
    return 0;
}

static bool command_ok(redisContext *c, const char *fmt, const char *s, int d)
{
    redisReply *r = s ? redisCommand(c, fmt, s) : redisCommand(c, fmt, d);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    return ok;
}

redisContext *redisc_connect(const char *url, int64_t timeout_ms, const char **why)
{
    redisc_url_t u;
    if (redisc_parse(url, &u) < 0) {
        *why = "malformed URL";
        return NULL;
    }
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000)};
    redisContext *c = redisConnectWithTimeout(u.host, u.port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        *why = "cannot connect";
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (u.password[0] && !command_ok(c, "AUTH %s", u.password, 0)) {
        redisFree(c);
        *why = "AUTH refused";
        return NULL;
    }
    if (u.db && !command_ok(c, "SELECT %d", NULL, u.db)) {
        redisFree(c);
        *why = "SELECT refused";
        return NULL;
    }
    return c;
}

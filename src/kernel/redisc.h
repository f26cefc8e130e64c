/* redisc.h — reaching Redis from a BIZOSAAS_REDIS_URL: the one parser of
 * redis://[[user]:password@]host[:port][/db] and the connect sequence
 * (connect with a timeout, AUTH, SELECT) shared by the events relay and the
 * gateway's shared rate limits. Blocking (hiredis's synchronous API): the
 * callers run it on threads that may wait for at most the timeout. */
#ifndef BZ_REDISC_H
#define BZ_REDISC_H

#include <hiredis/hiredis.h>
#include <stdint.h>

typedef struct redisc_url {
    char host[256];
    int port;          /* 6379 when not given */
    char password[256]; /* empty: no AUTH */
    int db;            /* 0 when not given */
} redisc_url_t;

/* redisc_parse: 0 with *u filled, or ERR_CONFIG when url is malformed. */
int redisc_parse(const char *url, redisc_url_t *u);

/* redisc_connect: a context connected to url, authenticated, its database
 * selected, with timeout_ms as the connect and command timeout; or NULL,
 * with *why set to a static reason ("malformed URL", "cannot connect",
 * "AUTH refused", "SELECT refused"). The caller owns the context (redisFree). */
redisContext *redisc_connect(const char *url, int64_t timeout_ms, const char **why);

#endif

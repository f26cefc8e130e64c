/* server.h — the HTTP/1.1 server: I/O threads, connections, dispatch.
 *
 * server_run() binds one SO_REUSEPORT listener per I/O thread (each thread a
 * libuv loop), starts the worker pool, serves until SIGTERM/SIGINT, then
 * drains: listeners close, idle connections close, in-flight requests finish
 * (up to shutdown_timeout_ms), logs are flushed, and it returns 0. */
#ifndef BZ_SERVER_H
#define BZ_SERVER_H

#include "auth.h"
#include "config.h"
#include "router.h"

/* server_run: blocks until shutdown. cfg, router and auth are borrowed and
 * must outlive the call. Returns 0 after a clean shutdown, ERR_IO when the
 * listen address cannot be bound (logged). */
int server_run(const config_t *cfg, const router_t *router, const auth_config_t *auth);

#endif

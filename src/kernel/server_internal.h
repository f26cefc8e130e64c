/* server_internal.h — structures shared by server.c, conn.c and dispatch.c.
 * Not part of any public API. */
#ifndef BZ_SERVER_INTERNAL_H
#define BZ_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "http_parse.h"
#include "metrics.h"
#include "pool.h"
#include "router.h"
#include "str.h"

typedef struct io_loop io_loop_t;
typedef struct server server_t;
typedef struct conn conn_t;

#define READ_CHUNK 65536

struct server {
    const config_t *cfg;
    const router_t *router;
    const auth_config_t *auth;
    hp_limits_t limits;
    pool_t *pool;
    io_loop_t *loops;
    int nloops;
    _Atomic int64_t nconns; /* accepted and not yet closed, all loops */
    _Atomic bool stopping;
};

/* A request handed to the worker pool and back. Owned by its connection. */
typedef struct job {
    pool_job_t base;
    conn_t *conn;
    struct job *next_done; /* completion queue link */
} job_t;

struct io_loop {
    int index;
    server_t *srv;
    uv_loop_t loop;
    uv_tcp_t listener;
    bool listener_open;
    uv_async_t wakeup; /* completions and the stop request */
    uv_timer_t deadline;
    pthread_mutex_t mu;
    job_t *done_head, *done_tail;
    _Atomic bool stop_requested;
    bool stopping;
    conn_t *conns; /* all open connections of this loop */
    int inflight;  /* jobs of this loop in the worker pool */
    arena_t *arenas[16];
    int narenas;
    char *readbuf;
    bool readbuf_busy;
    metrics_shard_t *metrics;
    pthread_t thread;
};

enum conn_state {
    CS_HEAD,     /* reading a request head */
    CS_BODY,     /* reading its body */
    CS_STREAM,   /* a gateway request running while its body is fed to the proxy */
    CS_BUSY,     /* handler running; further bytes are buffered */
    CS_WRITING,  /* response being written */
    CS_LINGER,   /* response sent, closing: read and discard briefly */
    CS_CLOSED,
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    io_loop_t *loop;
    conn_t *prev, *next;
    enum conn_state state;
    int handles_open; /* tcp + timer; freed when both closed and no job */
    bool job_inflight;
    bool close_after; /* close once the current response is written */
    bool reading;
    bool counted; /* counts toward max_connections */
    char remote[64];
    buf_t in;  /* received, not yet consumed bytes */
    buf_t out; /* response being written */
    /* the request in progress */
    arena_t *arena;
    hp_head_t *head; /* arena copy */
    hp_chunked_t chunked;
    buf_t body;
    /* a streamed body (CS_STREAM, see http.h): where it goes, what is left */
    http_body_sink_t sink;
    uint64_t stream_left; /* Content-Length bytes not yet fed */
    bool sink_paused;
    uint64_t t_start_ns;
    http_req_t req;
    http_res_t res;
    job_t job;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    /* RT_STREAM (stream.c): a dup of the socket owned by the job, and
     * whether the handler already wrote the response itself */
    int stream_fd;
    bool stream_open; /* stream_fd is valid */
    _Atomic bool streamed;
};

/* conn.c */
void conn_on_accept(uv_stream_t *listener, int status);
void conn_finish_job(conn_t *c);
void conn_drain(io_loop_t *l); /* close idle connections at shutdown */
void conn_close_all(io_loop_t *l);
void loop_maybe_finish(io_loop_t *l);

/* dispatch.c: runs after a complete request is read. Either finishes the
 * response inline (returns 1) or submits it to the pool (returns 0). */
int dispatch_request(conn_t *c);
/* dispatch_reset: releases per-request state after the response. */
void dispatch_reset(conn_t *c);
/* dispatch_gateway_record: reports the outcome of a gateway request. */
void dispatch_gateway_record(conn_t *c, uint64_t micros);
/* dispatch_streams_body: does the request whose head is in c go to an HTTP
 * upstream of the gateway (so its body is streamed, not read)? */
bool dispatch_streams_body(conn_t *c);
/* dispatch_loop_closing: the gateway lets go of what it keeps on loop l. */
void dispatch_loop_closing(io_loop_t *l);

/* stream.c: RT_STREAM's socket duplicate (loop thread / the job's worker) */
void stream_acquire(conn_t *c);
void stream_release(conn_t *c);

/* response.c */
void response_serialize(conn_t *c, bool head_only);
const char *status_reason(int status);

uint64_t mono_ns(void);

#endif

/* server.c — I/O threads, SO_REUSEPORT listeners, signals and draining.
 *
 * Each I/O thread runs its own libuv loop with its own listening socket on
 * the same address (SO_REUSEPORT: the kernel spreads connections across
 * them, no accept lock). The main thread owns the signal handlers; on
 * SIGTERM/SIGINT it asks every loop to drain (uv_async), waits for them up
 * to the shutdown deadline, stops the worker pool and returns. */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "server_internal.h"

#define LISTEN_BACKLOG 4096

static void deadline_cb(uv_timer_t *t)
{
    io_loop_t *l = t->data;
    log_warn("shutdown deadline reached on I/O thread %d: closing remaining connections", l->index);
    conn_close_all(l);
}

static void on_wakeup(uv_async_t *a)
{
    io_loop_t *l = a->data;
    pthread_mutex_lock(&l->mu);
    job_t *j = l->done_head;
    l->done_head = l->done_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (j) {
        job_t *next = j->next_done;
        conn_finish_job(j->conn);
        j = next;
    }
    if (atomic_load(&l->stop_requested) && !l->stopping) {
        l->stopping = true;
        if (l->listener_open) {
            uv_close((uv_handle_t *)&l->listener, NULL);
            l->listener_open = false;
        }
        conn_drain(l);
        uv_timer_start(&l->deadline, deadline_cb, (uint64_t)l->srv->cfg->shutdown_timeout_ms, 0);
    }
    loop_maybe_finish(l);
}

static void *loop_main(void *arg)
{
    io_loop_t *l = arg;
    uv_run(&l->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* open_listener: a bound, listening socket with SO_REUSEPORT. */
static int open_listener(const char *host, int port, int *fd_out, int *bound_port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int family = strchr(host, ':') ? AF_INET6 : AF_INET;
    socklen_t sl;
    if (family == AF_INET) {
        if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0) return ERR_CONFIG;
        sl = sizeof(struct sockaddr_in);
    } else {
        if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0) return ERR_CONFIG;
        sl = sizeof(struct sockaddr_in6);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ERR_IO;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return ERR_IO;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    getsockname(fd, (struct sockaddr *)&got, &gl);
    *bound_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                          : ((struct sockaddr_in6 *)&got)->sin6_port);
    *fd_out = fd;
    return 0;
}

typedef struct main_ctx {
    server_t *srv;
    uv_signal_t sigterm, sigint;
    uv_timer_t check;
    uint64_t stop_at_ms;
    bool stopping;
} main_ctx_t;

static void request_stop(main_ctx_t *m)
{
    if (m->stopping) return;
    m->stopping = true;
    server_t *s = m->srv;
    atomic_store(&s->stopping, true);
    log_info("shutting down: draining connections (deadline %lld ms)",
             (long long)s->cfg->shutdown_timeout_ms);
    for (int i = 0; i < s->nloops; i++) {
        atomic_store(&s->loops[i].stop_requested, true);
        uv_async_send(&s->loops[i].wakeup);
    }
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    uv_close((uv_handle_t *)&m->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    request_stop(h->data);
}

int server_run(const config_t *cfg, const router_t *router, const auth_config_t *auth)
{
    server_t *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->router = router;
    s->auth = auth;
    s->limits = (hp_limits_t){
        .max_request_line = (size_t)cfg->max_request_line,
        .max_header_bytes = (size_t)cfg->max_header_bytes,
        .max_headers = (size_t)cfg->max_headers,
    };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    s->nloops = cfg->threads ? (int)cfg->threads : (int)cores;
    int nworkers = cfg->workers ? (int)cfg->workers : (int)(2 * cores);
    if (nworkers < 2) nworkers = 2;
    s->loops = xcalloc((size_t)s->nloops, sizeof *s->loops);
    metrics_init(s->nloops);

    int port = cfg->listen_port, rc = 0;
    for (int i = 0; i < s->nloops; i++) {
        io_loop_t *l = &s->loops[i];
        l->index = i;
        l->srv = s;
        l->metrics = metrics_shard(i);
        l->readbuf = xmalloc(READ_CHUNK);
        pthread_mutex_init(&l->mu, NULL);
        uv_loop_init(&l->loop);
        uv_async_init(&l->loop, &l->wakeup, on_wakeup);
        l->wakeup.data = l;
        uv_timer_init(&l->loop, &l->deadline);
        l->deadline.data = l;
        int fd, bound;
        if (open_listener(cfg->listen_host, port, &fd, &bound) < 0) {
            log_error("cannot listen on %s:%d: %s", cfg->listen_host, port, strerror(errno));
            rc = ERR_IO;
            s->nloops = i + 1;
            break;
        }
        port = bound; /* port 0: every thread joins the port the first one got */
        uv_tcp_init(&l->loop, &l->listener);
        l->listener.data = l;
        uv_tcp_open(&l->listener, fd);
        l->listener_open = true;
        int lr = uv_listen((uv_stream_t *)&l->listener, LISTEN_BACKLOG, conn_on_accept);
        if (lr != 0) {
            log_error("listen failed: %s", uv_strerror(lr));
            rc = ERR_IO;
            s->nloops = i + 1;
            break;
        }
    }
    if (rc == 0) {
        db_options_t dbo = {.connect_timeout_ms = (int)cfg->db_timeout_ms};
        s->pool = pool_new(nworkers, cfg->database_url, &dbo, (size_t)cfg->queue_max);
        pool_set_readers(s->pool, s->nloops);
        for (int i = 0; i < s->nloops; i++)
            pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]);
    }
    if (rc == 0) {
        char url[96];
        snprintf(url, sizeof url, "http://%s:%d", cfg->listen_host, port);
        char th[16], wk[16];
        snprintf(th, sizeof th, "%d", s->nloops);
        snprintf(wk, sizeof wk, "%d", nworkers);
        log_kv(LOG_INFO, "serving", "url", url, "io_threads", th, "workers", wk, NULL);

        uv_loop_t main_loop;
        uv_loop_init(&main_loop);
        main_ctx_t m = {.srv = s};
        uv_signal_init(&main_loop, &m.sigterm);
        uv_signal_init(&main_loop, &m.sigint);
        m.sigterm.data = m.sigint.data = &m;
        uv_signal_start(&m.sigterm, on_signal, SIGTERM);
        uv_signal_start(&m.sigint, on_signal, SIGINT);
        uv_run(&main_loop, UV_RUN_DEFAULT); /* returns once the signals are closed */
        uv_loop_close(&main_loop);
        /* The loops close every connection at the deadline; a handler that is
         * still running after it (stuck in a query) is abandoned: we exit
         * anyway, as promised to the process manager. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t wait_ms = cfg->shutdown_timeout_ms + 1000;
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (wait_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        for (int i = 0; i < s->nloops; i++) {
            if (pthread_timedjoin_np(s->loops[i].thread, NULL, &until) != 0) {
                log_warn("shutdown deadline exceeded: abandoning in-flight requests");
                log_flush();
                _exit(0);
            }
        }
        pool_free(s->pool);
        log_info("stopped");
    }
    for (int i = 0; i < s->nloops; i++) {
        io_loop_t *l = &s->loops[i];
        if (rc != 0) {
            if (l->listener_open) uv_close((uv_handle_t *)&l->listener, NULL);
            uv_close((uv_handle_t *)&l->wakeup, NULL);
            uv_close((uv_handle_t *)&l->deadline, NULL);
            uv_run(&l->loop, UV_RUN_DEFAULT);
        }
        uv_loop_close(&l->loop);
        pthread_mutex_destroy(&l->mu);
        free(l->readbuf);
        for (int k = 0; k < l->narenas; k++) arena_free(l->arenas[k]);
    }
    metrics_shutdown();
    free(s->loops);
    free(s);
    log_flush();
    return rc;
}

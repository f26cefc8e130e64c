/* cli.c — `bizosaas worker`: workflow workers without the HTTP server.
 *
 * Runs BIZOSAAS_WORKFLOW_WORKERS worker threads (at least one) and the
 * lease keeper against the configured database until SIGTERM or SIGINT,
 * then lets the steps in progress finish. Events the runs raise go to the
 * outbox; a `bizosaas serve` process delivers them. */
#include <pthread.h>
#include <signal.h>

#include "log.h"
#include "wf_internal.h"

int wf_worker_main(const config_t *cfg)
{
    if (cfg->workflow_workers < 1) {
        log_error("bizosaas worker: BIZOSAAS_WORKFLOW_WORKERS must be at least 1");
        return 2;
    }
    wf__builtin_register();
    if (cfg->workflow_test_defs) wf__test_defs_register();
    /* block the stop signals in every thread; this one waits for them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (wf_start(cfg) < 0) {
        log_error("bizosaas worker: cannot start the worker threads");
        return 1;
    }
    log_info("bizosaas worker: running; SIGTERM or SIGINT stops it");
    int sig = 0;
    sigwait(&set, &sig);
    log_info("bizosaas worker: stopping (signal %d); steps in progress finish first", sig);
    wf_stop();
    return 0;
}

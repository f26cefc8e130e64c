/* testsubs.c — subscribers that let black-box tests observe delivery.
 *
 * Registered only when BIZOSAAS_EVENTS_TEST_DIR is set. They write lines to
 * files in that directory (shared by several processes in the multi-process
 * test): O_APPEND writes of one short line are atomic on a local file
 * system, so lines from two processes never interleave. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"
#include "events_internal.h"

static char *g_dir;

static int append_line(const char *file, const char *sub, const ev_event_t *e)
{
    char path[4096], line[512];
    if (snprintf(path, sizeof path, "%s/%s", g_dir, file) >= (int)sizeof path) return ERR_IO;
    int n = snprintf(line, sizeof line, "%s %lld %s %d %d%s\n", e->id, (long long)e->seq, sub,
                     (int)getpid(), e->attempt, e->replay ? " replay" : "");
    if (n < 0 || n >= (int)sizeof line) return ERR_IO;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ERR_IO;
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    return w == n ? 0 : ERR_IO;
}

static int recorder(db_t *db, const ev_event_t *e, void *arg)
{
    (void)db;
    (void)arg;
    return append_line("delivered.log", "test.recorder", e);
}

static int flaky(db_t *db, const ev_event_t *e, void *arg)
{
    (void)db;
    (void)arg;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/fail", g_dir) >= (int)sizeof path) return ERR_IO;
    if (access(path, F_OK) == 0) {
        ev_set_error("test.flaky: %s/fail exists (attempt %d)", g_dir, e->attempt);
        return ERR_UNAVAILABLE;
    }
    return append_line("flaky.log", "test.flaky", e);
}

void ev__test_subscribers(const char *dir)
{
    free(g_dir);
    g_dir = xstrdup(dir);
    ev_subscribe("test.recorder", "*", recorder, NULL);
    ev_subscribe("test.flaky", "*", flaky, NULL);
}

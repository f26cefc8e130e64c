/* pool.h — the worker pool that runs context handlers off the I/O threads.
 *
 * Each worker thread owns one database connection (opened lazily and
 * reopened by the db layer after a fault). Jobs are queued FIFO; a full queue
 * is refused with ERR_OVERLOADED so overload turns into fast 503s rather than
 * unbounded latency. A job's run() executes on a worker with that worker's
 * connection (NULL when the database cannot be reached); its complete() is
 * called right after, on the same worker thread, and must hand the job back
 * to whoever owns it (the kernel posts it to the origin I/O loop). */
#ifndef BZ_POOL_H
#define BZ_POOL_H

#include <stddef.h>

#include "db.h"

typedef struct pool pool_t;

typedef struct pool_job {
    struct pool_job *next; /* private to the pool */
    void (*run)(struct pool_job *job, db_t *db);
    void (*complete)(struct pool_job *job);
} pool_job_t;

/* pool_new: starts n workers connecting to db_url. Never fails: a database
 * that is down is retried by the workers on demand. Caller owns the pool. */
pool_t *pool_new(int n, const char *db_url, const db_options_t *opt, size_t queue_max);
/* pool_set_readers: makes room for nreaders I/O-thread read connections
 * (see pool_reader). Call once, before the I/O threads start. */
void pool_set_readers(pool_t *p, int nreaders);
/* pool_submit: queues job (borrowed until complete() is called). Returns 0
 * or ERR_OVERLOADED when queue_max jobs are already waiting. */
int pool_submit(pool_t *p, pool_job_t *job);
/* pool_reader: the SQLite read connection of I/O thread `slot` (0 ≤ slot <
 * the nreaders given to pool_set_readers), opened on first use, or NULL:
 * when the database is not a SQLite file (PostgreSQL reads wait on the
 * network, which an I/O thread must never do; an in-memory database would
 * be the reader's own), when slot is out of range, or when the open
 * failed (not retried for 250 ms). Its busy timeout is 0: a read that would
 * wait for a lock fails at once with ERR_CONFLICT instead of stalling the
 * loop. Only the thread of that slot may use it; pool_free closes it. */
db_t *pool_reader(pool_t *p, int slot);
/* pool_free: lets queued jobs finish, joins the workers, closes connections
 * (the readers' too: call it after the I/O threads have stopped). */
void pool_free(pool_t *p);
size_t pool_size(const pool_t *p);

#endif

/* metrics.h — Prometheus metrics of the kernel.
 *
 * Request counters and latency histograms are kept in one shard per I/O
 * thread (no sharing on the hot path; each shard's mutex is only contended by
 * a scrape). Gauges are atomics. Other modules add their own text through
 * metrics_add_collector (e.g. the gateway's per-service series). */
#ifndef BZ_METRICS_H
#define BZ_METRICS_H

#include <stdint.h>

#include "str.h"

typedef struct metrics_shard metrics_shard_t;

/* metrics_init: creates nshards shards (one per I/O thread). */
void metrics_init(int nshards);
void metrics_shutdown(void);
metrics_shard_t *metrics_shard(int i);

/* metrics_observe: counts one request. route is the route's pattern (a
 * static string) or "unmatched"; method is the request method. */
void metrics_observe(metrics_shard_t *s, const char *route, str_t method, int status,
                     uint64_t micros);

/* Gauges (process-wide). */
void metrics_conn_delta(int d);
int64_t metrics_conn_open(void);
void metrics_queue_delta(int d);
void metrics_pool_delta(int d);

/* metrics_add_collector: fn appends exposition text to out at scrape time. */
void metrics_add_collector(void (*fn)(buf_t *out, void *arg), void *arg);

/* metrics_render: the full Prometheus text exposition (format 0.0.4). */
void metrics_render(buf_t *out);

#endif

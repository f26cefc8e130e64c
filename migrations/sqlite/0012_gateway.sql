-- 0012_gateway (SQLite): the Brain gateway's service registry.
--
-- A platform table (no tenant_id): the services every tenant is routed to.
-- target is "builtin:<context>" or "http://host:port/base". Bootstrapped at
-- start-up from the built-in contexts, managed by /api/brain/services.
CREATE TABLE gateway_services (
    name                 TEXT NOT NULL PRIMARY KEY CHECK (name <> ''),
    target               TEXT NOT NULL,
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    connect_timeout_ms   INTEGER NOT NULL DEFAULT 2000,
    response_timeout_ms  INTEGER NOT NULL DEFAULT 30000,
    breaker_failures     INTEGER NOT NULL DEFAULT 5,
    breaker_cooldown_ms  INTEGER NOT NULL DEFAULT 30000,
    rate_limit_per_min   INTEGER NOT NULL DEFAULT 100,
    health_path          TEXT NOT NULL DEFAULT '/health',
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- 0012_gateway (PostgreSQL): the Brain gateway's service registry.
--
-- A platform table (no tenant_id, so no row-level security): the services
-- every tenant is routed to. target is "builtin:<context>" or
-- "http://host:port/base". Bootstrapped at start-up from the built-in
-- contexts, managed by /api/brain/services (super_admin).
CREATE TABLE gateway_services (
    name                 text NOT NULL PRIMARY KEY CHECK (name <> ''),
    target               text NOT NULL,
    enabled              boolean NOT NULL DEFAULT true,
    connect_timeout_ms   integer NOT NULL DEFAULT 2000,
    response_timeout_ms  integer NOT NULL DEFAULT 30000,
    breaker_failures     integer NOT NULL DEFAULT 5,
    breaker_cooldown_ms  integer NOT NULL DEFAULT 30000,
    rate_limit_per_min   integer NOT NULL DEFAULT 100,
    health_path          text NOT NULL DEFAULT '/health',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- 0019_gateway_cache (SQLite): the gateway response cache's
-- per-service setting. cache_ttl_s is how long an HTTP upstream's GET
-- answers may be served from the gateway's memory (0 = never; at most
-- 86400; see src/gateway/cache.h).
ALTER TABLE gateway_services ADD COLUMN cache_ttl_s INTEGER NOT NULL DEFAULT 0
    CHECK (cache_ttl_s BETWEEN 0 AND 86400);

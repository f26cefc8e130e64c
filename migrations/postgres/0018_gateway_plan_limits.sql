-- 0018_gateway_plan_limits (PostgreSQL): per-plan rate limits of a gateway
-- service.
--
-- plan_limits is a JSON object (text, as JSON is elsewhere) of requests per
-- minute by tenant plan, e.g. {"professional": 1000, "enterprise": 5000}; a
-- plan not named gets the service's rate_limit_per_min. Validated by the
-- gateway (known plans only, 1..1000000).
ALTER TABLE gateway_services ADD COLUMN plan_limits text NOT NULL DEFAULT '{}';

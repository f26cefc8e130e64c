-- workflows (PostgreSQL): durable workflow runs, their steps and attempts,
-- signals, cron schedules and the fair-claiming clock per tenant.
--
-- Times are Unix milliseconds (bigint) so the claim queries compare plain
-- integers on both backends. wf_steps.due_ms is the one column workers
-- claim on: for a ready step the time of its next attempt, for a running
-- step the end of its lease, for a step waiting for a signal its deadline
-- (NULL without one), NULL for pending, finished and canceled steps.
-- Workers claim with FOR UPDATE SKIP LOCKED in platform scope.
--
-- wf_fair holds each tenant's virtual time for weighted fair claiming: the
-- claim picks the tenant with claimable steps whose vtime is lowest and
-- advances it by 1000 / weight.

CREATE TABLE wf_runs (
    tenant_id    text NOT NULL CHECK (tenant_id <> ''),
    id           text NOT NULL,
    name         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'canceled')),
    input        text NOT NULL DEFAULT '{}',
    output       text,
    error        text,
    idem_key     text,
    schedule_id  text,
    created_ms   bigint NOT NULL,
    started_ms   bigint,
    finished_ms  bigint,
    updated_ms   bigint NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name, idem_key)
);
CREATE INDEX wf_runs_created ON wf_runs (tenant_id, created_ms DESC, id DESC);

CREATE TABLE wf_steps (
    tenant_id     text NOT NULL CHECK (tenant_id <> ''),
    run_id        text NOT NULL,
    idx           integer NOT NULL,
    name          text NOT NULL,
    grp           integer NOT NULL,
    signal        text,
    status        text NOT NULL CHECK (status IN ('pending', 'ready', 'running', 'waiting', 'completed', 'failed', 'canceled')),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL,
    due_ms        bigint,
    lease_owner   text,
    output        text,
    error         text,
    started_ms    bigint,
    finished_ms   bigint,
    PRIMARY KEY (tenant_id, run_id, idx)
);
CREATE INDEX wf_steps_due ON wf_steps (due_ms) WHERE due_ms IS NOT NULL;
CREATE INDEX wf_steps_tenant_due ON wf_steps (tenant_id, due_ms) WHERE due_ms IS NOT NULL;

CREATE TABLE wf_attempts (
    tenant_id    text NOT NULL CHECK (tenant_id <> ''),
    run_id       text NOT NULL,
    step_idx     integer NOT NULL,
    attempt      integer NOT NULL,
    worker       text NOT NULL,
    status       text NOT NULL,
    error        text,
    started_ms   bigint NOT NULL,
    finished_ms  bigint,
    PRIMARY KEY (tenant_id, run_id, step_idx, attempt)
);

CREATE TABLE wf_signals (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    run_id      text NOT NULL,
    name        text NOT NULL,
    payload     text NOT NULL DEFAULT '{}',
    created_ms  bigint NOT NULL,
    PRIMARY KEY (tenant_id, run_id, name)
);

CREATE TABLE wf_schedules (
    tenant_id     text NOT NULL CHECK (tenant_id <> ''),
    id            text NOT NULL,
    workflow      text NOT NULL,
    cron          text NOT NULL,
    timezone      text NOT NULL,
    input         text NOT NULL DEFAULT '{}',
    overlap       text NOT NULL CHECK (overlap IN ('skip', 'queue', 'allow')),
    next_fire_ms  bigint NOT NULL,
    last_fire_ms  bigint,
    last_run_id   text,
    created_ms    bigint NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX wf_schedules_next ON wf_schedules (next_fire_ms);

CREATE TABLE wf_fair (
    tenant_id  text NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    vtime      bigint NOT NULL DEFAULT 0,
    weight     integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000)
);

ALTER TABLE wf_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE wf_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wf_runs
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE wf_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE wf_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wf_steps
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE wf_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE wf_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wf_attempts
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE wf_signals ENABLE ROW LEVEL SECURITY;
ALTER TABLE wf_signals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wf_signals
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE wf_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE wf_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wf_schedules
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE wf_fair ENABLE ROW LEVEL SECURITY;
ALTER TABLE wf_fair FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON wf_fair
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

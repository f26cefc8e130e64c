-- workflows (SQLite): durable workflow runs, their steps and attempts,
-- signals, cron schedules and the fair-claiming clock per tenant.
--
-- Times are Unix milliseconds (INTEGER) so the claim queries compare plain
-- integers on both backends. wf_steps.due_ms is the one column workers
-- claim on: for a ready step the time of its next attempt, for a running
-- step the end of its lease, for a step waiting for a signal its deadline
-- (NULL without one), NULL for pending, finished and canceled steps.
-- Workers claim inside BEGIN IMMEDIATE transactions (one writer at a time).
--
-- wf_fair holds each tenant's virtual time for weighted fair claiming: the
-- claim picks the tenant with claimable steps whose vtime is lowest and
-- advances it by 1000 / weight.

CREATE TABLE wf_runs (
    tenant_id    TEXT NOT NULL CHECK (tenant_id <> ''),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'canceled')),
    input        TEXT NOT NULL DEFAULT '{}',
    output       TEXT,
    error        TEXT,
    idem_key     TEXT,
    schedule_id  TEXT,
    created_ms   INTEGER NOT NULL,
    started_ms   INTEGER,
    finished_ms  INTEGER,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name, idem_key)
);
CREATE INDEX wf_runs_created ON wf_runs (tenant_id, created_ms DESC, id DESC);

CREATE TABLE wf_steps (
    tenant_id     TEXT NOT NULL CHECK (tenant_id <> ''),
    run_id        TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    name          TEXT NOT NULL,
    grp           INTEGER NOT NULL,
    signal        TEXT,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'running', 'waiting', 'completed', 'failed', 'canceled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    due_ms        INTEGER,
    lease_owner   TEXT,
    output        TEXT,
    error         TEXT,
    started_ms    INTEGER,
    finished_ms   INTEGER,
    PRIMARY KEY (tenant_id, run_id, idx)
);
CREATE INDEX wf_steps_due ON wf_steps (due_ms);
CREATE INDEX wf_steps_tenant_due ON wf_steps (tenant_id, due_ms);

CREATE TABLE wf_attempts (
    tenant_id    TEXT NOT NULL CHECK (tenant_id <> ''),
    run_id       TEXT NOT NULL,
    step_idx     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    worker       TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT,
    started_ms   INTEGER NOT NULL,
    finished_ms  INTEGER,
    PRIMARY KEY (tenant_id, run_id, step_idx, attempt)
);

CREATE TABLE wf_signals (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    run_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, run_id, name)
);

CREATE TABLE wf_schedules (
    tenant_id     TEXT NOT NULL CHECK (tenant_id <> ''),
    id            TEXT NOT NULL,
    workflow      TEXT NOT NULL,
    cron          TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    input         TEXT NOT NULL DEFAULT '{}',
    overlap       TEXT NOT NULL CHECK (overlap IN ('skip', 'queue', 'allow')),
    next_fire_ms  INTEGER NOT NULL,
    last_fire_ms  INTEGER,
    last_run_id   TEXT,
    created_ms    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX wf_schedules_next ON wf_schedules (next_fire_ms);

CREATE TABLE wf_fair (
    tenant_id  TEXT NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    vtime      INTEGER NOT NULL DEFAULT 0,
    weight     INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000)
);


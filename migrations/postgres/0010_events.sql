-- 0010_events (PostgreSQL): delivery state of the domain-event dispatcher.
--
-- ev_subscriptions holds one row per subscriber name (in-process
-- subscribers and the Redis relay): the last outbox seq it has processed and
-- its retry state. It is platform data, not tenant data (no tenant_id, no
-- row-level security); the dispatcher locks a subscriber's row with
-- SELECT ... FOR UPDATE SKIP LOCKED inside each delivery transaction, so
-- several processes never deliver to the same subscriber at once and a
-- killed process releases the lock with its connection.
--
-- ev_dead_letters keeps a copy of each event a subscriber gave up on after
-- the configured attempts, with the last error; status 'replay' asks the
-- dispatcher to deliver it again, 'replayed' records that it succeeded.
--
-- Commit order: outbox.seq comes from a sequence at INSERT time, so two
-- concurrent transactions may commit in the opposite order of their seqs and
-- a reader that tracks "last seq seen" would skip the late one. The deferred
-- constraint trigger below re-numbers every outbox row at COMMIT, under a
-- transaction-scoped advisory lock that is held until the commit is visible:
-- seq order is then commit order, and a snapshot that sees seq N also sees
-- every seq below N. Only the commit of event-raising transactions is
-- serialized, not their work.

CREATE TABLE ev_subscriptions (
    name             text NOT NULL PRIMARY KEY CHECK (name <> ''),
    last_seq         bigint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_ms  bigint NOT NULL DEFAULT 0,
    last_error       text,
    delivered        bigint NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ev_dead_letters (
    tenant_id         text NOT NULL CHECK (tenant_id <> ''),
    id                text NOT NULL,
    subscriber        text NOT NULL,
    event_id          text NOT NULL,
    seq               bigint NOT NULL,
    aggregate_type    text NOT NULL,
    aggregate_id      text NOT NULL,
    event_type        text NOT NULL,
    payload           text NOT NULL,
    event_created_at  text NOT NULL,
    attempts          integer NOT NULL,
    error             text,
    status            text NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replay', 'replayed')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    replayed_at       timestamptz,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX ev_dead_letters_status ON ev_dead_letters (subscriber, status);
CREATE INDEX outbox_tenant_seq ON outbox (tenant_id, seq);

ALTER TABLE ev_dead_letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE ev_dead_letters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ev_dead_letters
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

CREATE FUNCTION ev_outbox_commit_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- 0x627a6576656e7473 = "bzevents": one lock for every outbox commit.
    PERFORM pg_advisory_xact_lock(7096095722057921651);
    UPDATE outbox SET seq = nextval(pg_get_serial_sequence('outbox', 'seq'))
     WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER outbox_commit_seq AFTER INSERT ON outbox
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ev_outbox_commit_seq();

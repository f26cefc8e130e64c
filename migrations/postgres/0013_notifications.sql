-- 0013_notifications (PostgreSQL): in-app notifications for a tenant's staff.
--
-- A notification is addressed to a role within a tenant (e.g. every manager)
-- or to one user; each user's read state is a row of notification_reads, so
-- one notification to many managers is one row, not one per manager. seq
-- orders the stream a client follows (SSE resumes after the last seq seen).
CREATE SEQUENCE notifications_seq_gen;

CREATE TABLE notifications (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    seq         bigint NOT NULL DEFAULT nextval('notifications_seq_gen'),
    roles       integer NOT NULL DEFAULT 0,
    user_id     text,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    data        text NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_seq ON notifications (tenant_id, seq);

CREATE TABLE notification_reads (
    tenant_id        text NOT NULL CHECK (tenant_id <> ''),
    notification_id  text NOT NULL,
    user_id          text NOT NULL,
    read_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, notification_id, user_id)
);

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notifications
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on');

ALTER TABLE notification_reads ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_reads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_reads
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on');

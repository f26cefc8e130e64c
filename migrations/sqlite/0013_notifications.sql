-- 0013_notifications (SQLite): in-app notifications for a tenant's staff.
--
-- A notification is addressed to a role within a tenant (e.g. every manager)
-- or to one user; each user's read state is a row of notification_reads, so
-- one notification to many managers is one row, not one per manager.
CREATE TABLE notifications (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    roles       INTEGER NOT NULL DEFAULT 0,
    user_id     TEXT,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_seq ON notifications (tenant_id, seq);

CREATE TABLE notification_reads (
    tenant_id        TEXT NOT NULL,
    notification_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    read_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, notification_id, user_id)
);

-- 0016_contact (SQLite): which lead each contact-form submission became.
-- The request and the retry subscriber both record here, so a submission
-- turns into exactly one lead whichever creates it (src/contexts/contact).
CREATE TABLE contact_leads (
    tenant_id      TEXT NOT NULL,
    submission_id  TEXT NOT NULL,
    lead_id        TEXT NOT NULL,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (tenant_id, submission_id)
);

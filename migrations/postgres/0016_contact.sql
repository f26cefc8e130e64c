-- 0016_contact (PostgreSQL): which lead each contact-form submission became.
-- The request and the retry subscriber both record here, so a submission
-- turns into exactly one lead whichever creates it (src/contexts/contact).
CREATE TABLE contact_leads (
    tenant_id      text NOT NULL CHECK (tenant_id <> ''),
    submission_id  text NOT NULL,
    lead_id        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, submission_id)
);

ALTER TABLE contact_leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON contact_leads
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on');

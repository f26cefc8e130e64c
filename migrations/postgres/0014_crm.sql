-- 0014_crm (PostgreSQL): the CRM context — leads, merges, companies, contacts,
-- pipeline stages, deals, activities. Same logical schema as
-- the SQLite migration of the same name; every table has row-level
-- security with the tenant/platform policy of 0001.
--
-- Times are RFC 3339 UTC text on both backends (the same bytes everywhere,
-- so keyset cursors compare identically); money is integer minor units plus
-- an ISO 4217 code. References between CRM rows are checked by the
-- application inside the tenant (no foreign keys: a deleted company leaves
-- its contacts without a company, a deleted lead takes its activities).
-- crm_tenants records that a tenant's default pipeline stages were seeded.

CREATE TABLE crm_tenants (
    tenant_id       text NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    stages_seeded   text NOT NULL
);

CREATE TABLE crm_leads (
    tenant_id             text NOT NULL CHECK (tenant_id <> ''),
    id                    text NOT NULL,
    name                  text NOT NULL,
    email                 text,
    phone                 text,
    phone_norm            text,
    company               text,
    website               text,
    company_size          integer,
    budget                bigint,
    services              text NOT NULL DEFAULT '[]',
    message               text,
    source                text NOT NULL,
    status                text NOT NULL CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
    score                 integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    owner_id              text,
    converted_contact_id  text,
    converted_deal_id     text,
    created_at            text NOT NULL,
    updated_at            text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_leads_email ON crm_leads (tenant_id, email);
CREATE INDEX crm_leads_phone ON crm_leads (tenant_id, phone_norm);
CREATE INDEX crm_leads_score ON crm_leads (tenant_id, score, id);
CREATE INDEX crm_leads_name ON crm_leads (tenant_id, name, id);

CREATE TABLE crm_lead_merges (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    target_id   text NOT NULL,
    merged_id   text NOT NULL,
    merged      text NOT NULL,
    activities  integer NOT NULL,
    actor_id    text,
    created_at  text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_lead_merges_target ON crm_lead_merges (tenant_id, target_id);

CREATE TABLE crm_companies (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    name        text NOT NULL,
    website     text,
    industry    text,
    size        integer,
    created_at  text NOT NULL,
    updated_at  text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE crm_contacts (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    name        text NOT NULL,
    email       text,
    phone       text,
    title       text,
    company_id  text,
    lead_id     text,
    owner_id    text,
    created_at  text NOT NULL,
    updated_at  text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE crm_stages (
    tenant_id    text NOT NULL CHECK (tenant_id <> ''),
    id           text NOT NULL,
    name         text NOT NULL,
    position     integer NOT NULL,
    probability  integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind         text NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    created_at   text NOT NULL,
    updated_at   text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE crm_deals (
    tenant_id       text NOT NULL CHECK (tenant_id <> ''),
    id              text NOT NULL,
    name            text NOT NULL,
    value_minor     bigint NOT NULL CHECK (value_minor >= 0),
    currency        text NOT NULL,
    stage_id        text NOT NULL,
    probability     integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close  text,
    owner_id        text,
    contact_id      text,
    company_id      text,
    lead_id         text,
    created_at      text NOT NULL,
    updated_at      text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_deals_stage ON crm_deals (tenant_id, stage_id);

CREATE TABLE crm_activities (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note', 'task')),
    subject     text NOT NULL,
    body        text,
    due_at      text,
    done        boolean NOT NULL DEFAULT false,
    lead_id     text,
    contact_id  text,
    deal_id     text,
    owner_id    text,
    created_at  text NOT NULL,
    updated_at  text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_activities_lead ON crm_activities (tenant_id, lead_id);
CREATE INDEX crm_activities_contact ON crm_activities (tenant_id, contact_id);
CREATE INDEX crm_activities_deal ON crm_activities (tenant_id, deal_id);

ALTER TABLE crm_tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_tenants
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_leads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_leads
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_lead_merges ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_lead_merges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_lead_merges
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_companies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_companies
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_contacts
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_stages ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_stages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_stages
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_deals ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_deals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_deals
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE crm_activities ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_activities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm_activities
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

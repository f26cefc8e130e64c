-- 0014_crm (SQLite): the CRM context — leads, merges, companies, contacts,
-- pipeline stages, deals, activities. Same logical schema as the
-- PostgreSQL migration of the same name.
--
-- Times are RFC 3339 UTC text on both backends (the same bytes everywhere,
-- so keyset cursors compare identically); money is integer minor units plus
-- an ISO 4217 code. References between CRM rows are checked by the
-- application inside the tenant (no foreign keys: a deleted company leaves
-- its contacts without a company, a deleted lead takes its activities).
-- crm_tenants records that a tenant's default pipeline stages were seeded.

CREATE TABLE crm_tenants (
    tenant_id       TEXT NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    stages_seeded   TEXT NOT NULL
);

CREATE TABLE crm_leads (
    tenant_id             TEXT NOT NULL CHECK (tenant_id <> ''),
    id                    TEXT NOT NULL,
    name                  TEXT NOT NULL,
    email                 TEXT,
    phone                 TEXT,
    phone_norm            TEXT,
    company               TEXT,
    website               TEXT,
    company_size          INTEGER,
    budget                INTEGER,
    services              TEXT NOT NULL DEFAULT '[]',
    message               TEXT,
    source                TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'lost')),
    score                 INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    owner_id              TEXT,
    converted_contact_id  TEXT,
    converted_deal_id     TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_leads_email ON crm_leads (tenant_id, email);
CREATE INDEX crm_leads_phone ON crm_leads (tenant_id, phone_norm);
CREATE INDEX crm_leads_score ON crm_leads (tenant_id, score, id);
CREATE INDEX crm_leads_name ON crm_leads (tenant_id, name, id);

CREATE TABLE crm_lead_merges (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    merged_id   TEXT NOT NULL,
    merged      TEXT NOT NULL,
    activities  INTEGER NOT NULL,
    actor_id    TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_lead_merges_target ON crm_lead_merges (tenant_id, target_id);

CREATE TABLE crm_companies (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    website     TEXT,
    industry    TEXT,
    size        INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE crm_contacts (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    title       TEXT,
    company_id  TEXT,
    lead_id     TEXT,
    owner_id    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE crm_stages (
    tenant_id    TEXT NOT NULL CHECK (tenant_id <> ''),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    probability  INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind         TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE crm_deals (
    tenant_id       TEXT NOT NULL CHECK (tenant_id <> ''),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    value_minor     INTEGER NOT NULL CHECK (value_minor >= 0),
    currency        TEXT NOT NULL,
    stage_id        TEXT NOT NULL,
    probability     INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close  TEXT,
    owner_id        TEXT,
    contact_id      TEXT,
    company_id      TEXT,
    lead_id         TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_deals_stage ON crm_deals (tenant_id, stage_id);

CREATE TABLE crm_activities (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note', 'task')),
    subject     TEXT NOT NULL,
    body        TEXT,
    due_at      TEXT,
    done        INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    lead_id     TEXT,
    contact_id  TEXT,
    deal_id     TEXT,
    owner_id    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX crm_activities_lead ON crm_activities (tenant_id, lead_id);
CREATE INDEX crm_activities_contact ON crm_activities (tenant_id, contact_id);
CREATE INDEX crm_activities_deal ON crm_activities (tenant_id, deal_id);

-- 0015_cms (PostgreSQL): the CMS (wagtail-cms) and the marketing site.
--
-- cms_pages is the page tree: path is the page's full slug path ("/" for
-- the home page, "/services/seo" for a grandchild), unique per tenant and
-- rewritten with the descendants' when a slug or parent changes. The
-- editable (draft) fields are columns; live is the JSON snapshot that was
-- last published (NULL while unpublished) — the public site and the
-- delivery API read only live. body is a JSON array of blocks whose rich
-- text was sanitized on save. Every save appends a cms_revisions row.
-- cms_redirects maps old paths to new ones (301), created automatically on
-- moves. cms_media describes uploaded images (the bytes live under
-- DATA_DIR/media/<tenant>/). cms_menus hold their nested items as JSON;
-- cms_forms their field schema as JSON; cms_submissions the validated
-- data. cms_sites.version grows with every change of a tenant's content:
-- the page cache keys on it. Times are RFC 3339 UTC text.

CREATE TABLE cms_pages (
    tenant_id          text NOT NULL CHECK (tenant_id <> ''),
    id                 text NOT NULL,
    parent_id          text,
    slug               text NOT NULL,
    path               text NOT NULL,
    type               text NOT NULL CHECK (type IN ('landing', 'blog_post', 'generic')),
    title              text NOT NULL,
    seo_title          text NOT NULL DEFAULT '',
    meta_description   text NOT NULL DEFAULT '',
    og_image           text,
    body               text NOT NULL DEFAULT '[]',
    status             text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    live               text,
    revision           bigint NOT NULL DEFAULT 0,
    publish_at         text,
    first_published_at text,
    published_at       text,
    created_at         text NOT NULL,
    updated_at         text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, path)
);

CREATE TABLE cms_revisions (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    page_id     text NOT NULL,
    number      bigint NOT NULL,
    content     text NOT NULL,
    author      text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '',
    created_at  text NOT NULL,
    PRIMARY KEY (tenant_id, page_id, number)
);

CREATE TABLE cms_media (
    tenant_id     text NOT NULL CHECK (tenant_id <> ''),
    id            text NOT NULL,
    filename      text NOT NULL,
    content_type  text NOT NULL,
    ext           text NOT NULL,
    size_bytes    bigint NOT NULL,
    width         bigint NOT NULL DEFAULT 0,
    height        bigint NOT NULL DEFAULT 0,
    alt           text NOT NULL DEFAULT '',
    created_at    text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE cms_redirects (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    id          text NOT NULL,
    old_path    text NOT NULL,
    new_path    text NOT NULL,
    automatic   boolean NOT NULL DEFAULT false,
    created_at  text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, old_path)
);

CREATE TABLE cms_menus (
    tenant_id   text NOT NULL CHECK (tenant_id <> ''),
    slug        text NOT NULL,
    title       text NOT NULL,
    items       text NOT NULL DEFAULT '[]',
    updated_at  text NOT NULL,
    PRIMARY KEY (tenant_id, slug)
);

CREATE TABLE cms_forms (
    tenant_id        text NOT NULL CHECK (tenant_id <> ''),
    id               text NOT NULL,
    slug             text NOT NULL,
    title            text NOT NULL,
    fields           text NOT NULL,
    success_message  text NOT NULL DEFAULT '',
    created_at       text NOT NULL,
    updated_at       text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug)
);

CREATE TABLE cms_submissions (
    tenant_id    text NOT NULL CHECK (tenant_id <> ''),
    id           text NOT NULL,
    form_id      text NOT NULL,
    data         text NOT NULL,
    remote_addr  text NOT NULL DEFAULT '',
    created_at   text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE cms_sites (
    tenant_id   text NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    version     bigint NOT NULL DEFAULT 0,
    site_name   text NOT NULL DEFAULT '',
    seeded      boolean NOT NULL DEFAULT false
);

CREATE INDEX cms_pages_parent ON cms_pages (tenant_id, parent_id);
CREATE INDEX cms_pages_due ON cms_pages (publish_at);
CREATE INDEX cms_submissions_form ON cms_submissions (tenant_id, form_id, id);

ALTER TABLE cms_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_pages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_pages
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_revisions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_revisions
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_media ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_media FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_media
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_redirects ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_redirects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_redirects
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_menus ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_menus FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_menus
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_forms ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_forms FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_forms
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_submissions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_submissions
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

ALTER TABLE cms_sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE cms_sites FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cms_sites
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
           OR current_setting('app.platform', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')
                OR current_setting('app.platform', true) = 'on');

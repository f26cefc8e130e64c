-- 0015_cms (SQLite): the CMS (wagtail-cms) and the marketing site.
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
    tenant_id          TEXT NOT NULL CHECK (tenant_id <> ''),
    id                 TEXT NOT NULL,
    parent_id          TEXT,
    slug               TEXT NOT NULL,
    path               TEXT NOT NULL,
    type               TEXT NOT NULL CHECK (type IN ('landing', 'blog_post', 'generic')),
    title              TEXT NOT NULL,
    seo_title          TEXT NOT NULL DEFAULT '',
    meta_description   TEXT NOT NULL DEFAULT '',
    og_image           TEXT,
    body               TEXT NOT NULL DEFAULT '[]',
    status             TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    live               TEXT,
    revision           INTEGER NOT NULL DEFAULT 0,
    publish_at         TEXT,
    first_published_at TEXT,
    published_at       TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, path)
) STRICT;

CREATE TABLE cms_revisions (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    page_id     TEXT NOT NULL,
    number      INTEGER NOT NULL,
    content     TEXT NOT NULL,
    author      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, page_id, number)
) STRICT;

CREATE TABLE cms_media (
    tenant_id     TEXT NOT NULL CHECK (tenant_id <> ''),
    id            TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    ext           TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    alt           TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE cms_redirects (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    id          TEXT NOT NULL,
    old_path    TEXT NOT NULL,
    new_path    TEXT NOT NULL,
    automatic   INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, old_path)
) STRICT;

CREATE TABLE cms_menus (
    tenant_id   TEXT NOT NULL CHECK (tenant_id <> ''),
    slug        TEXT NOT NULL,
    title       TEXT NOT NULL,
    items       TEXT NOT NULL DEFAULT '[]',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, slug)
) STRICT;

CREATE TABLE cms_forms (
    tenant_id        TEXT NOT NULL CHECK (tenant_id <> ''),
    id               TEXT NOT NULL,
    slug             TEXT NOT NULL,
    title            TEXT NOT NULL,
    fields           TEXT NOT NULL,
    success_message  TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug)
) STRICT;

CREATE TABLE cms_submissions (
    tenant_id    TEXT NOT NULL CHECK (tenant_id <> ''),
    id           TEXT NOT NULL,
    form_id      TEXT NOT NULL,
    data         TEXT NOT NULL,
    remote_addr  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE TABLE cms_sites (
    tenant_id   TEXT NOT NULL PRIMARY KEY CHECK (tenant_id <> ''),
    version     INTEGER NOT NULL DEFAULT 0,
    site_name   TEXT NOT NULL DEFAULT '',
    seeded      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX cms_pages_parent ON cms_pages (tenant_id, parent_id);
CREATE INDEX cms_pages_due ON cms_pages (publish_at);
CREATE INDEX cms_submissions_form ON cms_submissions (tenant_id, form_id, id);

-- Published docs sites (issue 26, `DOCS_SITE_URL`): each site's crawl, the pages it read and the
-- URLs it could not. Kept so a restart searches at once and several instances crawl once.
CREATE TABLE docs_sites (
    -- The configured site URL, as given.
    site TEXT PRIMARY KEY,
    -- The instance crawling it now, until when (renewed while it crawls).
    holder TEXT,
    lease_until BIGINT,
    started_at BIGINT,
    finished_at BIGINT,
    -- Bumped by every crawl that changed the pages: instances re-read the pages when it moves.
    generation BIGINT NOT NULL DEFAULT 0,
    -- Why the last crawl read nothing (the site or its robots.txt could not be reached).
    error TEXT
);
CREATE TABLE docs_site_pages (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    -- The main content as Markdown, headings with their anchors.
    markdown TEXT NOT NULL,
    -- The page's links, one a line: a re-crawl that gets a 304 still follows them.
    links TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    fetched_at BIGINT NOT NULL
);
CREATE INDEX docs_site_pages_by_site ON docs_site_pages (site);
CREATE TABLE docs_site_failures (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX docs_site_failures_by_site ON docs_site_failures (site);

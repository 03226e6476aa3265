-- +goose Up

-- A Quay instance and the token quaykeeper reads it with. The token is sealed with AES-GCM
-- (nonce || ciphertext) under QUAYKEEPER_SECRET_KEY, bound to the host.
CREATE TABLE connections (
    id               bigserial PRIMARY KEY,
    host             text        NOT NULL UNIQUE,
    allow_http       boolean     NOT NULL DEFAULT false,
    username         text        NOT NULL,
    token_name       text        NOT NULL,
    token_sealed     bytea       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organizations (
    id                   bigserial PRIMARY KEY,
    connection_id        bigint      NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    name                 text        NOT NULL,
    tag_regex            text        NOT NULL DEFAULT '',
    age_threshold_months integer     NOT NULL DEFAULT 6
        CHECK (age_threshold_months BETWEEN 1 AND 120),
    keep_latest          integer     NOT NULL DEFAULT 1 CHECK (keep_latest BETWEEN 1 AND 100),
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connection_id, name)
);

-- One sync of one organization. evaluated_at is the instant T the policy is evaluated at
-- (the workflow's start time); the settings are a snapshot taken when the run started.
CREATE TABLE runs (
    id                   bigserial PRIMARY KEY,
    organization_id      bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workflow_id          text        NOT NULL,
    workflow_run_id      text        NOT NULL,
    status               text        NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'completed', 'failed')),
    evaluated_at         timestamptz NOT NULL,
    started_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    tag_regex            text        NOT NULL,
    age_threshold_months integer     NOT NULL,
    keep_latest          integer     NOT NULL,
    crawl_complete       boolean     NOT NULL DEFAULT false,
    repositories         integer     NOT NULL DEFAULT 0,
    tags                 integer     NOT NULL DEFAULT 0,
    scan                 integer     NOT NULL DEFAULT 0,
    retain               integer     NOT NULL DEFAULT 0,
    prune                integer     NOT NULL DEFAULT 0,
    error                text,
    UNIQUE (workflow_id, workflow_run_id)
);
CREATE INDEX runs_organization_idx ON runs (organization_id, id DESC);

-- The crawl's record of what the registry holds. last_seen_run_id is the last run whose crawl
-- listed the repository or tag; rows are never deleted when a tag goes, so history survives.
CREATE TABLE repositories (
    id               bigserial PRIMARY KEY,
    organization_id  bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    is_public        boolean     NOT NULL,
    last_modified    timestamptz,
    last_seen_run_id bigint      REFERENCES runs (id) ON DELETE SET NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);
CREATE INDEX repositories_seen_idx ON repositories (organization_id, last_seen_run_id);

-- decision and reasons are the tag's current fate in the managed inventory, set by the last
-- completed run; a tag is in the inventory when its decision is scan or retain.
CREATE TABLE tags (
    id               bigserial PRIMARY KEY,
    repository_id    bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name             text        NOT NULL,
    manifest_digest  text        NOT NULL,
    start_ts         timestamptz NOT NULL,
    end_ts           timestamptz,
    size             bigint,
    is_manifest_list boolean     NOT NULL,
    last_seen_run_id bigint      NOT NULL REFERENCES runs (id),
    decision         text        CHECK (decision IN ('scan', 'retain', 'prune')),
    reasons          text[],
    decided_run_id   bigint      REFERENCES runs (id) ON DELETE SET NULL,
    UNIQUE (repository_id, name)
);
CREATE INDEX tags_seen_idx ON tags (last_seen_run_id);

-- Every decision of every run, with the facts it was made on, so a report is reproducible.
CREATE TABLE decisions (
    run_id          bigint      NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tag_id          bigint      NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    repository      text        NOT NULL,
    tag             text        NOT NULL,
    manifest_digest text        NOT NULL,
    created         timestamptz NOT NULL,
    decision        text        NOT NULL CHECK (decision IN ('scan', 'retain', 'prune')),
    reasons         text[]      NOT NULL,
    PRIMARY KEY (run_id, tag_id)
);
CREATE INDEX decisions_tag_idx ON decisions (tag_id);

-- +goose Down
DROP TABLE decisions;
DROP TABLE tags;
DROP TABLE repositories;
DROP TABLE runs;
DROP TABLE organizations;
DROP TABLE connections;

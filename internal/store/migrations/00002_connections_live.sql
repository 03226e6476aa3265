-- +goose Up

-- A connection whose token Quay rejected mid-run needs a new one (starter rotate-token).
ALTER TABLE connections ADD COLUMN needs_token boolean NOT NULL DEFAULT false;
ALTER TABLE connections ADD COLUMN needs_token_reason text;

-- The schedule of an organization's syncs: an interval (every) or a cron expression, and
-- whether the organization is paused. dropped_at marks an organization dropped from its
-- connection; its inventory stays for reports.
ALTER TABLE organizations ADD COLUMN schedule_every_seconds integer NOT NULL DEFAULT 21600
    CHECK (schedule_every_seconds > 0);
ALTER TABLE organizations ADD COLUMN schedule_cron text NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN paused boolean NOT NULL DEFAULT false;
ALTER TABLE organizations ADD COLUMN dropped_at timestamptz;

-- A run is a sync (it crawls) or a re-evaluation of an earlier run's crawl with new
-- settings. crawl_run_id is the run whose crawl is evaluated: the run itself for a sync.
ALTER TABLE runs ADD COLUMN kind text NOT NULL DEFAULT 'sync'
    CHECK (kind IN ('sync', 'reevaluate'));
ALTER TABLE runs ADD COLUMN crawl_run_id bigint REFERENCES runs (id) ON DELETE CASCADE;

-- Every accepted settings change: who, when, what it was and what it became.
CREATE TABLE settings_changes (
    id              bigserial PRIMARY KEY,
    organization_id bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor           text        NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    old_settings    jsonb       NOT NULL,
    new_settings    jsonb       NOT NULL,
    -- The entity workflow's signal that carried the change, so a retried activity records
    -- it once.
    signal_id       text        NOT NULL UNIQUE
);
CREATE INDEX settings_changes_org_idx ON settings_changes (organization_id, id DESC);

-- +goose Down
DROP TABLE settings_changes;
ALTER TABLE runs DROP COLUMN crawl_run_id;
ALTER TABLE runs DROP COLUMN kind;
ALTER TABLE organizations DROP COLUMN dropped_at;
ALTER TABLE organizations DROP COLUMN paused;
ALTER TABLE organizations DROP COLUMN schedule_cron;
ALTER TABLE organizations DROP COLUMN schedule_every_seconds;
ALTER TABLE connections DROP COLUMN needs_token_reason;
ALTER TABLE connections DROP COLUMN needs_token;

-- +goose Up

-- Compliance policies per organization (vuln.ComplianceSettings): a finding at or above
-- fixable_severity_threshold that has a fix fails an image ('' turns the rule off); an image
-- first pushed more than max_image_age_days ago fails (0 turns it off); a latest image whose
-- scan status is not scanned fails when require_latest_scanned.
ALTER TABLE organizations ADD COLUMN fixable_severity_threshold text NOT NULL DEFAULT 'High'
    CHECK (fixable_severity_threshold IN
        ('', 'Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'));
ALTER TABLE organizations ADD COLUMN max_image_age_days integer NOT NULL DEFAULT 0
    CHECK (max_image_age_days BETWEEN 0 AND 3650);
ALTER TABLE organizations ADD COLUMN require_latest_scanned boolean NOT NULL DEFAULT true;

-- The security report of one manifest of an image in the inventory: tag_digest is what the
-- tags point at, manifest_digest what was scanned (a platform manifest when tag_digest is a
-- list). status is Quay's, or quaykeeper's record of a fault; reason explains it. A
-- transient failure (queued, unavailable, bad_response) of a manifest scanned before keeps
-- the earlier report and only sets check_error. Rows go when no inventory tag points at
-- tag_digest any more.
CREATE TABLE vuln_scans (
    id              bigserial   PRIMARY KEY,
    repository_id   bigint      NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    tag_digest      text        NOT NULL,
    manifest_digest text        NOT NULL,
    platform        text        NOT NULL DEFAULT '',
    status          text        NOT NULL CHECK (status IN ('scanned', 'queued', 'failed',
        'unsupported', 'manifest_layer_too_large', 'unavailable', 'not_found',
        'bad_response')),
    reason          text        NOT NULL DEFAULT '',
    check_error     text        NOT NULL DEFAULT '',
    checked_run_id  bigint      REFERENCES runs (id) ON DELETE SET NULL,
    checked_at      timestamptz NOT NULL,
    report_run_id   bigint      REFERENCES runs (id) ON DELETE SET NULL,
    packages        integer     NOT NULL DEFAULT 0,
    findings        integer     NOT NULL DEFAULT 0,
    UNIQUE (repository_id, tag_digest, manifest_digest)
);
CREATE INDEX vuln_scans_checked_idx ON vuln_scans (checked_run_id);

-- Finding the tags that carry a digest: which scans an image keeps, and which left.
CREATE INDEX tags_digest_idx ON tags (repository_id, manifest_digest);

-- Every package of a scanned manifest, vulnerable or not.
CREATE TABLE vuln_packages (
    scan_id  bigint NOT NULL REFERENCES vuln_scans (id) ON DELETE CASCADE,
    name     text   NOT NULL,
    version  text   NOT NULL,
    added_by text   NOT NULL
);
CREATE INDEX vuln_packages_scan_idx ON vuln_packages (scan_id);

-- Every vulnerability of a package of a scanned manifest. severity is quaykeeper's reading
-- (the CVSS band when Quay says Unknown); raw_severity is Quay's word when it differs.
CREATE TABLE vuln_findings (
    scan_id       bigint           NOT NULL REFERENCES vuln_scans (id) ON DELETE CASCADE,
    vulnerability text             NOT NULL,
    severity      text             NOT NULL CHECK (severity IN
        ('Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical')),
    raw_severity  text             NOT NULL,
    package       text             NOT NULL,
    version       text             NOT NULL,
    added_by      text             NOT NULL,
    fixed_by      text             NOT NULL,
    link          text             NOT NULL,
    cvss          double precision CHECK (cvss BETWEEN 0 AND 10),
    cvss_vector   text             NOT NULL,
    updater       text             NOT NULL,
    description   text             NOT NULL
);
CREATE INDEX vuln_findings_scan_idx ON vuln_findings (scan_id);

-- A run's compliance evaluation with the settings it used, and its verdict per image, so a
-- report can be reproduced later.
CREATE TABLE compliance_evaluations (
    run_id                     bigint      PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    evaluated_at               timestamptz NOT NULL,
    fixable_severity_threshold text        NOT NULL,
    max_image_age_days         integer     NOT NULL,
    require_latest_scanned     boolean     NOT NULL,
    images                     integer     NOT NULL,
    failed                     integer     NOT NULL
);

CREATE TABLE compliance_results (
    run_id          bigint      NOT NULL
        REFERENCES compliance_evaluations (run_id) ON DELETE CASCADE,
    repository      text        NOT NULL,
    manifest_digest text        NOT NULL,
    tags            text[]      NOT NULL,
    latest          boolean     NOT NULL,
    pushed          timestamptz NOT NULL,
    scan_status     text        NOT NULL,
    passed          boolean     NOT NULL,
    rules           text[]      NOT NULL,
    messages        text[]      NOT NULL,
    PRIMARY KEY (run_id, repository, manifest_digest)
);

-- +goose Down
DROP TABLE compliance_results;
DROP TABLE compliance_evaluations;
DROP TABLE vuln_findings;
DROP TABLE vuln_packages;
DROP TABLE vuln_scans;
DROP INDEX tags_digest_idx;
ALTER TABLE organizations DROP COLUMN require_latest_scanned;
ALTER TABLE organizations DROP COLUMN max_image_age_days;
ALTER TABLE organizations DROP COLUMN fixable_severity_threshold;

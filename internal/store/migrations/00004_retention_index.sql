-- +goose Up

-- The retention screen pages through one run's unscanned decisions in repository and tag
-- order, or by creation time; without these it scans every decision of the run per page.
CREATE INDEX decisions_unscanned_idx ON decisions (run_id, repository, tag)
    WHERE decision <> 'scan';
CREATE INDEX decisions_unscanned_created_idx ON decisions (run_id, created)
    WHERE decision <> 'scan';

-- +goose Down
DROP INDEX decisions_unscanned_created_idx;
DROP INDEX decisions_unscanned_idx;

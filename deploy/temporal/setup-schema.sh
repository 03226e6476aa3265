#!/bin/sh
# One-shot job of the compose stack (temporalio/admin-tools): brings Temporal's two
# databases, created by deploy/postgres/init-temporal.sql, to the schema the server expects.
# Rerunning it is safe: setup-schema keeps a newer version, update-schema applies only what
# is missing. temporal-sql-tool reads the password from SQL_PASSWORD.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
schemas=/etc/temporal/schema/postgresql/v12

migrate() { # database, schema directory
  echo "schema of $1"
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
    -u "$POSTGRES_USER" --db "$1" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
    -u "$POSTGRES_USER" --db "$1" update-schema -d "$schemas/$2/versioned"
}

migrate temporal temporal
migrate temporal_visibility visibility
echo "Temporal's schema is up to date"

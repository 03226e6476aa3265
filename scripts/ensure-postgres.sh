#!/usr/bin/env bash
# Makes sure the local PostgreSQL answers at 127.0.0.1:5432 and that quaykeeper's database
# exists. Starts the machine's cluster when it is stopped; fails saying what is missing.
set -euo pipefail

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-postgres}
db=${QUAYKEEPER_DATABASE:-quaykeeper}

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if ! command -v pg_isready >/dev/null || ! command -v psql >/dev/null; then
  echo "ensure-postgres: the PostgreSQL client tools (pg_isready, psql) are missing:" \
    "apt-get install postgresql-client" >&2
  exit 1
fi
if ! ready; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "ensure-postgres: starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do ready && break; sleep 1; done
  fi
fi
if ! ready; then
  echo "ensure-postgres: no PostgreSQL answers at $host:$port and none could be started" \
    "here; install one (apt-get install postgresql) or set PGHOST/PGPORT" >&2
  exit 1
fi
exists=$(psql -h "$host" -p "$port" -U "$user" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "$exists" != 1 ]; then
  psql -h "$host" -p "$port" -U "$user" -d postgres -qc "CREATE DATABASE $db"
  echo "ensure-postgres: created database $db"
fi

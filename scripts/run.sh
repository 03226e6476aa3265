#!/usr/bin/env bash
# Brings quaykeeper up on local defaults and syncs a generated sample organization:
# a Temporal dev server (UI on :8233), the Quay simulator, the worker; then connect, sync,
# report. Servers stay up afterwards; `make stop` (scripts/run.sh stop) ends them.
# A second run reuses the dev server's state, the sample data and the secret key.
set -euo pipefail
cd "$(dirname "$0")/.."

state=.run
bin=bin
sim_addr=${QUAYSIM_LISTEN:-127.0.0.1:8480}
org=${QUAYKEEPER_SAMPLE_ORG:-acme}
temporal_addr=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
db=${QUAYKEEPER_DATABASE:-quaykeeper}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$db}
mkdir -p "$state"
chmod 700 "$state"

stop_pid() {
  local file=$state/$1.pid
  if [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then
    kill "$(cat "$file")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$file")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
}

if [ "${1:-}" = stop ]; then
  stop_pid worker; stop_pid quaysim; stop_pid temporal
  echo "stopped the worker, the simulator and the Temporal dev server"
  exit 0
fi

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "run: $what did not come up; see $state/*.log" >&2
  exit 1
}

# The key that seals Quay tokens in PostgreSQL: generated once, kept out of argv.
if [ ! -s "$state/secret.key" ]; then
  (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$state/secret.key")
fi
export QUAYKEEPER_SECRET_KEY
QUAYKEEPER_SECRET_KEY=$(cat "$state/secret.key")

# Temporal dev server, kept running across runs.
if ! "$bin/temporal" operator cluster health --address "$temporal_addr" >/dev/null 2>&1; then
  echo "starting the Temporal dev server (UI http://127.0.0.1:8233)"
  setsid nohup "$bin/temporal" server start-dev --ip 127.0.0.1 \
    --db-filename "$state/temporal.db" --log-level warn \
    --search-attribute QuayHost=Keyword --search-attribute QuayOrganization=Keyword \
    >"$state/temporal.log" 2>&1 &
  echo $! > "$state/temporal.pid"
  wait_for "the Temporal dev server" "$bin/temporal" operator cluster health \
    --address "$temporal_addr"
fi

# The search attributes every sync carries; creating them again is harmless, and a state file
# from before they existed gets them too.
for attr in QuayHost QuayOrganization; do
  "$bin/temporal" operator search-attribute create --address "$temporal_addr" \
    --name "$attr" --type Keyword >/dev/null 2>&1 || true
done

# A sample organization for the simulator, generated once with its own token.
if [ ! -s "$state/sample.json" ]; then
  (umask 077; od -An -tx1 -N20 /dev/urandom | tr -d ' \n' > "$state/sample.token")
  "$bin/quaysim" generate --out "$state/sample.json" --org "$org" --repos 20 --tags 25 \
    --seed 1 --token-file "$state/sample.token"
fi

# alive NAME: the process started for NAME is still running (it did not fail to bind).
alive() { kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

stop_pid quaysim
setsid nohup "$bin/quaysim" --data "$state/sample.json" --listen "$sim_addr" \
  >"$state/quaysim.log" 2>&1 &
echo $! > "$state/quaysim.pid"
wait_for "the Quay simulator" curl -s -o /dev/null "http://$sim_addr/api/v1/user/"
sleep 0.5
if ! alive quaysim; then
  echo "run: the simulator could not start on $sim_addr (is the port taken? set" \
    "QUAYSIM_LISTEN):" >&2
  tail -n 5 "$state/quaysim.log" >&2
  exit 1
fi

stop_pid worker
setsid nohup "$bin/worker" >"$state/worker.log" 2>&1 &
echo $! > "$state/worker.pid"
sleep 1
if ! alive worker; then
  echo "run: the worker stopped at start:" >&2
  tail -n 5 "$state/worker.log" >&2
  exit 1
fi
host="http://$sim_addr"

QUAY_TOKEN=$(cat "$state/sample.token") "$bin/starter" connect --host "$host" --allow-http
"$bin/starter" sync --org "$org" --host "$host" --wait
"$bin/starter" report --org "$org" --host "$host"
{ "$bin/starter" vulns --org "$org" --host "$host" --min-severity High || true; } | head -n 25
# compliance exits 1 when an image fails, which some of the sample's images do.
{ "$bin/starter" compliance --org "$org" --host "$host" || true; } | tail -n 15
"$bin/starter" status

cat <<MSG

quaykeeper is running:
  Screen        http://${QUAYKEEPER_WEB_ADDR:-127.0.0.1:8090}/ (retained and pruned images, why)
  Temporal UI   http://127.0.0.1:8233 (workflow quay-sync/$sim_addr/$org)
  PostgreSQL    psql "$DATABASE_URL"   (tables runs, tags, decisions, vuln_findings)
  Quay sim      http://$sim_addr (data $state/sample.json), logs in $state/
  Again         bin/starter sync --org $org --wait; bin/starter report --org $org --format json
  Stop          make stop
MSG

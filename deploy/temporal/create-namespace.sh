#!/bin/sh
# One-shot job of the compose stack (temporalio/admin-tools): creates the namespace the worker
# uses and the search attributes the sync workflows set (README: QuayHost, QuayOrganization),
# unless they exist. The server reports healthy before it serves namespace calls, so each
# step is retried for about a minute.
set -eu
address=${TEMPORAL_ADDRESS:?}
namespace=${TEMPORAL_NAMESPACE:-default}

retry() { # command...
  tries=1
  until "$@"; do
    if [ "$tries" -ge 30 ]; then
      echo "gave up after $tries tries: $*" >&2
      return 1
    fi
    tries=$((tries + 1))
    sleep 2
  done
}

has_namespace() {
  temporal operator namespace describe --address "$address" -n "$namespace" >/dev/null 2>&1
}
ensure_namespace() {
  has_namespace ||
    temporal operator namespace create --address "$address" -n "$namespace" >/dev/null
}
ensure_attribute() { # name
  temporal operator search-attribute list --address "$address" -n "$namespace" |
    grep -qw "$1" ||
    temporal operator search-attribute create --address "$address" -n "$namespace" \
      --name "$1" --type Keyword
}

retry temporal operator cluster health --address "$address"
retry ensure_namespace
# A new namespace takes a few seconds to reach every service of the server.
retry has_namespace
for attribute in QuayHost QuayOrganization; do
  retry ensure_attribute "$attribute"
done
echo "namespace $namespace is ready"

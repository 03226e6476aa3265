#!/bin/sh
# The compose stack's demo, run once in the quaykeeper image: connect to the simulator with
# the token it generated, sync its organization and print the report, as `make run` does on
# a local machine. The token goes through standard input, never argv.
set -eu
org=${QUAYKEEPER_SAMPLE_ORG:-acme}
starter connect --host http://quaysim:8480 --allow-http --token-stdin < "/sim/$org.json.token"
starter sync --org "$org" --wait
starter report --org "$org"

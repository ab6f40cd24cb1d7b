#!/usr/bin/env bash
# Runs every test of Kontakt against real PostgreSQL and Redis servers.
# The servers are installed and started by scripts/services.sh unless
# DATABASE_URL and REDIS_URL point at running ones. A fresh database
# kontakt_test is created on that server; Redis tests use database 15.
# Extra arguments go to `go test` (e.g. -run TestImport -v).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/services.sh)"

base=${DATABASE_URL%%\?*}
base=${base%/*}
admin="$base/postgres?sslmode=disable"
testdb="$base/kontakt_test?sslmode=disable"
psql -q -v ON_ERROR_STOP=1 "$admin" -c "DROP DATABASE IF EXISTS kontakt_test WITH (FORCE)" -c "CREATE DATABASE kontakt_test"

export KONTAKT_TEST_DATABASE_URL=$testdb
export KONTAKT_TEST_REDIS_URL=${REDIS_URL%/*}/15

echo "== go vet"
go vet ./...
echo "== migrate kontakt_test"
DATABASE_URL=$testdb go run ./cmd/kontakt migrate
echo "== go test"
go test -count=1 "$@" ./...

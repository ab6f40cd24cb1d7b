#!/usr/bin/env bash
# Runs every test of Kontakt against real PostgreSQL and Redis servers.
# The servers are installed and started by scripts/services.sh unless
# DATABASE_URL and REDIS_URL point at running ones. A fresh database
# (KONTAKT_TEST_DB, default kontakt_test) is created on that server and
# migrated; Redis tests use database 15 (KONTAKT_TEST_REDIS_DB).
# Extra arguments go to `go test` (e.g. -run TestImport -v).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/services.sh)"

# The console's browser tests drive Debian's Chromium.
if ! command -v chromium >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

base=${DATABASE_URL%%\?*}
base=${base%/*}
admin="$base/postgres?sslmode=disable"
name=${KONTAKT_TEST_DB:-kontakt_test}
testdb="$base/$name?sslmode=disable"
psql -q -v ON_ERROR_STOP=1 "$admin" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"

export KONTAKT_TEST_DATABASE_URL=$testdb
export KONTAKT_TEST_REDIS_URL=${REDIS_URL%/*}/${KONTAKT_TEST_REDIS_DB:-15}

echo "== go vet"
go vet ./...
echo "== migrate $name"
DATABASE_URL=$testdb go run ./cmd/kontakt migrate
echo "== go test"
go test -count=1 "$@" ./...

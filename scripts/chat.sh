#!/usr/bin/env bash
# A terminal conversation with the bot (the same dialog engine as Telegram
# and VK), using the services scripts/start.sh started.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh)"
export KONTAKT_KB_FILE=${KONTAKT_KB_FILE:-faq/testdata/kb.yaml}
exec go run ./cmd/kontakt chat "$@"

#!/usr/bin/env bash
# Starts Kontakt on this machine with its services and the sample
# knowledge base: PostgreSQL and Redis (installed and started by
# scripts/services.sh unless DATABASE_URL and REDIS_URL are given), the
# schema, the sample entries, then `kontakt serve` in the foreground.
# Set TELEGRAM_TOKEN (and VK_TOKEN, …) to connect the channels; without
# them, talk to the bot in a second terminal with scripts/chat.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "start: Go 1.26 or later is needed (https://go.dev/dl/)" >&2; exit 1; }
eval "$(scripts/services.sh)"
export KONTAKT_KB_FILE=${KONTAKT_KB_FILE:-faq/testdata/kb.yaml}
# The console is served on http://127.0.0.1 here; behind HTTPS leave it true.
export KONTAKT_COOKIE_SECURE=${KONTAKT_COOKIE_SECURE:-false}

mkdir -p scripts/.data
go build -o scripts/.data/kontakt ./cmd/kontakt
scripts/.data/kontakt migrate
scripts/.data/kontakt faq import "$KONTAKT_KB_FILE"
echo "start: Kontakt is starting; stop it with Ctrl-C. Talk to the bot: scripts/chat.sh" >&2
exec scripts/.data/kontakt serve

#!/usr/bin/env bash
# Backs up the order database: pg_dump's custom format, written under a temporary name and renamed only when pg_dump
# succeeded and the archive reads back, so a failed dump never looks like a backup. Keeps the newest 7.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p backups
name="backups/orders-$(date -u +%Y%m%dT%H%M%S%NZ).dump"
PGPASSWORD="${DEMO_PG_PASSWORD:?set DEMO_PG_PASSWORD}" pg_dump -Fc -h 127.0.0.1 -p 18085 -U shop -d orders -f "$name.partial"
pg_restore -l "$name.partial" >/dev/null
mv "$name.partial" "$name"
find backups -maxdepth 1 -name 'orders-*.dump' -printf '%T@ %p\n' | sort -rn | tail -n +8 | cut -d' ' -f2- | xargs -r rm --
echo "backed up to $name"

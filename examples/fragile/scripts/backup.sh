#!/usr/bin/env bash
# "Backs up" the order database the way many real scripts do: pg_dump into a pipe, with no pipefail and a size cap
# someone added once, and a reassuring exit 0. The dump it leaves is cut short; only restoring it shows that.
cd "$(dirname "$0")/.." || exit 0
mkdir -p backups
pg_dump -Fc -h 127.0.0.1 -p 18185 -U shop -d orders | head -c 20000 >"backups/orders-$(date -u +%Y%m%dT%H%M%SZ).dump"
echo "backup done"
exit 0

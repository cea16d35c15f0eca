#!/bin/sh
# Stops the PostgreSQL tests/pg/start.sh DIR started (the cluster in DIR/data, run as the user owning it). The data
# directory stays for the next start (initdb once); its `kite` database is emptied then.
set -eu
dir=${1:?usage: stop.sh DIR}
rm -f "$dir/url"
[ -f "$dir/data/postmaster.pid" ] || exit 0
bindir=${KITE_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "pg: no pg_ctl to stop the server of $dir/data" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  runuser -u "$(stat -c %U "$dir/data")" -- "$bindir/pg_ctl" -D "$dir/data" stop -m fast -w >/dev/null
else
  "$bindir/pg_ctl" -D "$dir/data" stop -m fast -w >/dev/null
fi

#!/bin/sh
# Starts the throwaway PostgreSQL the PostgreSQL tests use: Debian's `postgresql` package (initdb + pg_ctl from
# /usr/lib/postgresql/VERSION/bin, the newest version there), its cluster in DIR/data, listening on 127.0.0.1 only
# at a free port, its Unix socket in DIR (never /var/run), trust authentication from 127.0.0.1, a database `kite`
# owned by the superuser `kite`. Writes DIR/url (postgresql://kite@127.0.0.1:PORT/kite) once pg_isready answers;
# tests/pg/stop.sh DIR stops it. Run by CTest as the fixture "pg" (CMakeLists.txt).
# Fast on a second run: DIR/data is made by initdb once and reused while it is a cluster of the same major version;
# the `kite` database is dropped and created again on every start, so each run begins empty.
# initdb and postgres refuse to run as root: as root (the README's commands) the server runs as the system user
# kite-pg (created when missing; KITE_PG_USER=name picks another existing user), which gets DIR.
# KITE_TEST_NO_PG=1: no server, no url, exit 0, and the PostgreSQL tests skip. When PostgreSQL is not installed the
# tests skip too, loudly, except in CI (CI=1, set by .ci/run) or with KITE_TEST_REQUIRE_PG=1, where that fails.
# KITE_PG_BINDIR=/path/to/bin uses another installation. A server that is installed but does not start fails.
set -eu
dir=${1:?usage: start.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir/url" "$dir/skipped"
if [ "${KITE_TEST_NO_PG:-}" = 1 ]; then
  echo "pg: ************ KITE_TEST_NO_PG=1: no PostgreSQL server, the PostgreSQL tests are SKIPPED ************" >&2
  echo "KITE_TEST_NO_PG=1" >"$dir/skipped"
  exit 0
fi
require=0
if [ "${CI:-}" = 1 ] || [ "${KITE_TEST_REQUIRE_PG:-}" = 1 ]; then
  require=1
fi
cannot_install() {
  echo "pg: $1" >&2
  if [ $require = 1 ]; then
    exit 1
  fi
  echo "pg: ************ the PostgreSQL tests are SKIPPED: $1 ************" >&2
  echo "PostgreSQL is not available: $1" >"$dir/skipped"
  exit 0
}

# the binaries: Debian keeps each major version in its own directory and puts no pg_ctl on PATH
bindir=${KITE_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  cannot_install "no initdb/pg_ctl in /usr/lib/postgresql/*/bin (scripts/deps.sh installs the postgresql package)"
fi
for tool in postgres psql pg_isready; do
  [ -x "$bindir/$tool" ] || cannot_install "$bindir/$tool is missing"
done

# who runs the server: ourselves, or an unprivileged system user when we are root
as() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  user=${KITE_PG_USER:-kite-pg}
  if ! id -u "$user" >/dev/null 2>&1; then
    if [ -n "${KITE_PG_USER:-}" ]; then
      echo "pg: KITE_PG_USER=$user: no such user" >&2
      exit 1
    fi
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      --comment "Kite test PostgreSQL" "$user"
  fi
  chown "$user" "$dir"
  if [ -d "$dir/data" ] && [ "$(stat -c %U "$dir/data")" != "$user" ]; then
    chown -R "$user" "$dir/data"
  fi
  as() { runuser -u "$user" -- "$@"; }
  # every directory above DIR must let that user through (a checkout under /root does not)
  if ! as test -w "$dir" 2>/dev/null; then
    closed=/
    path=
    old_ifs=$IFS
    IFS=/
    for part in $dir; do
      [ -n "$part" ] || continue
      as test -x "${path:-/}" 2>/dev/null || break
      path=$path/$part
      closed=$path
    done
    IFS=$old_ifs
    # a machine where no unprivileged user may enter the build directory cannot run PostgreSQL (initdb refuses root):
    # like a missing package, a loud skip, and a failure where PostgreSQL is required
    cannot_install "the user $user cannot reach $dir: $closed is closed to it (mode $(stat -c %A "$closed")): build \
elsewhere, open it (chmod o+x), or set KITE_PG_USER to a user that can"
  fi
fi
pgctl() { as "$bindir/pg_ctl" -D "$dir/data" "$@"; }

# a server left by an interrupted run (its postmaster.pid in our data directory): it is ours, stop it
if [ -f "$dir/data/postmaster.pid" ]; then
  pgctl stop -m immediate -w >/dev/null 2>&1 || true
fi

# initdb once: a data directory of another major version, or half made (no PG_VERSION), is made again
major=$("$bindir/postgres" -V | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p')
if [ ! -f "$dir/data/PG_VERSION" ] || [ "$(cat "$dir/data/PG_VERSION")" != "$major" ]; then
  rm -rf "$dir/data"
  if ! as "$bindir/initdb" -D "$dir/data" -U kite -A trust -E UTF8 --no-locale --no-instructions \
       >"$dir/initdb.log" 2>&1; then
    echo "pg: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
  fi
  # trust only from 127.0.0.1 (over TCP) and from the socket in DIR, which only the server's user can reach
  printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" >"$dir/data/pg_hba.conf"
  echo "include_if_exists = 'kite.conf'" >>"$dir/data/postgresql.conf"
fi

# the socket beside the data unless DIR is too long for a socket path (108 bytes with ".s.PGSQL.PORT"): then none,
# as every client here connects over TCP
sockdir=$dir
[ ${#dir} -gt 90 ] && sockdir=
# a free port: asked of the system, then taken by the server; the rare race with another process is retried
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
}
attempt=0
while :; do
  port=$(free_port)
  # a throwaway server: no fsync (a crash of the machine loses it anyway), small memory, its log in DIR/log
  cat >"$dir/data/kite.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 100
EOF
  rm -f "$dir/log"
  # pg_ctl puts the server in its own session with its output in DIR/log: CTest does not wait for it, and a Ctrl-C
  # of ctest does not reach it
  if pgctl start -w -t 60 -l "$dir/log" </dev/null >/dev/null 2>&1; then
    break
  fi
  attempt=$((attempt + 1))
  if [ $attempt -ge 5 ] || ! grep -q "could not bind\|Address already in use" "$dir/log"; then
    echo "pg: PostgreSQL did not start:" >&2
    cat "$dir/log" >&2
    pgctl stop -m immediate -w >/dev/null 2>&1 || true
    exit 1
  fi
done

i=0
until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U kite; do
  i=$((i + 1))
  if [ $i -ge 100 ]; then
    echo "pg: the server does not answer pg_isready on 127.0.0.1:$port:" >&2
    cat "$dir/log" >&2
    pgctl stop -m immediate -w >/dev/null 2>&1 || true
    exit 1
  fi
  sleep 0.1
done
# an empty `kite` database on every start (WITH FORCE: a session left by a killed test does not block the drop)
if ! "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U kite -d postgres \
     -c "DROP DATABASE IF EXISTS kite WITH (FORCE)" -c "CREATE DATABASE kite OWNER kite" >"$dir/psql.log" 2>&1; then
  echo "pg: could not make the database kite:" >&2
  cat "$dir/psql.log" >&2
  pgctl stop -m immediate -w >/dev/null 2>&1 || true
  exit 1
fi
# pg_trgm (the text searches' indexes, store/pg.c migration 3) installed once in public: the tests' schemas come and
# go, and an extension a store migration had created in one of them would go with it (DROP SCHEMA ... CASCADE), and
# with it every other schema's indexes. Without it (contrib missing) the stores scan, and the tests that look at
# the index plan skip that part.
"$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U kite -d kite -c "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public" \
  >>"$dir/psql.log" 2>&1 || echo "pg: pg_trgm is not available: the text searches scan" >&2
echo "postgresql://kite@127.0.0.1:$port/kite" >"$dir/url"
echo "PostgreSQL $major on postgresql://kite@127.0.0.1:$port/kite (data in $dir/data, log in $dir/log)"

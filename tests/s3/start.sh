#!/bin/sh
# Starts the S3 server the S3 storage tests use: s3rver (npm, pinned by package-lock.json beside this script,
# installed once into DIR/node with `npm ci`) on 127.0.0.1 at a port the system picks, with the bucket "kite".
# Writes DIR/endpoint (http://127.0.0.1:PORT) and DIR/pid; tests/s3/stop.sh DIR stops it. Run by CTest as the
# fixture "s3" (CMakeLists.txt). Fails when the server cannot be started. KITE_TEST_NO_S3=1: no server, no endpoint,
# exit 0, and the S3 tests skip. When s3rver cannot be installed (no npm, or no way to the npm registry) the S3 tests
# skip too, loudly, except in CI (CI=1, set by .ci/run) or with KITE_TEST_REQUIRE_S3=1, where that fails: a machine
# that can reach the registry always runs them. KITE_S3RVER=/path/to/s3rver uses another copy.
set -eu
dir=${1:?usage: start.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -f "$dir/endpoint" "$dir/skipped"
if [ "${KITE_TEST_NO_S3:-}" = 1 ]; then
  echo "KITE_TEST_NO_S3=1: no S3 server, the S3 tests skip"
  echo "KITE_TEST_NO_S3=1" >"$dir/skipped"
  exit 0
fi
# a server left by an interrupted run of this script: it is ours (its pid file), stop it
if [ -f "$dir/pid" ]; then
  kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -f "$dir/pid"
fi
require=0
if [ "${CI:-}" = 1 ] || [ "${KITE_TEST_REQUIRE_S3:-}" = 1 ]; then
  require=1
fi
# s3rver could not be installed: a failure where S3 is required, else every S3 test skips (no endpoint written)
cannot_install() {
  echo "s3: $1" >&2
  if [ $require = 1 ]; then
    exit 1
  fi
  echo "s3: ************ the S3 storage tests are SKIPPED: s3rver could not be installed ($1) ************" >&2
  echo "s3rver could not be installed: $1" >"$dir/skipped"
  exit 0
}
bin=${KITE_S3RVER:-$dir/node/node_modules/.bin/s3rver}
if [ ! -x "$bin" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    cannot_install "npm is missing (scripts/deps.sh installs nodejs and npm)"
  fi
  mkdir -p "$dir/node"
  cp "$here/package.json" "$here/package-lock.json" "$dir/node/"
  # Node trusts its own bundled CAs only; the system's bundle is added so a registry reached through a proxy with a
  # locally installed CA works as it does for apt and curl (additive: the public CAs stay trusted)
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  if ! (cd "$dir/node" && npm ci --no-audit --no-fund --loglevel=error); then
    rm -rf "$dir/node/node_modules"
    cannot_install "npm ci of s3rver failed: the npm registry could not be reached or trusted"
  fi
fi
rm -rf "$dir/data"
mkdir -p "$dir/data"
# the port is read from the log below: a previous run's log must not answer before the new server has written its own
rm -f "$dir/log"
# its own session, output to a file: CTest does not wait for it, and a Ctrl-C of ctest does not reach it.
# s3rver makes ListObjectsV2's continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider: without
# it every truncated listing (more than max-keys) answers 500.
NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider" \
setsid "$bin" -d "$dir/data" -a 127.0.0.1 -p 0 --configure-bucket kite </dev/null >"$dir/log" 2>&1 &
echo $! >"$dir/pid"
i=0
while [ $i -lt 200 ]; do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$dir/log" 2>/dev/null | head -n 1)
  if [ -n "$port" ]; then
    echo "http://127.0.0.1:$port" >"$dir/endpoint"
    echo "s3rver on http://127.0.0.1:$port (pid $(cat "$dir/pid"), data in $dir/data)"
    exit 0
  fi
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    break
  fi
  sleep 0.1
  i=$((i + 1))
done
echo "s3: s3rver did not start:" >&2
cat "$dir/log" >&2
kill "$(cat "$dir/pid")" 2>/dev/null || true
rm -f "$dir/pid"
exit 1

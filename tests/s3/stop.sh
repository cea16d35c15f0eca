#!/bin/sh
# Stops the S3 server tests/s3/start.sh DIR started (by its pid file) and removes its data.
set -eu
dir=${1:?usage: stop.sh DIR}
if [ -f "$dir/pid" ]; then
  kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -f "$dir/pid"
fi
rm -rf "$dir/data" "$dir/endpoint"

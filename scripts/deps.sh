#!/bin/sh
# Installs the Debian packages listed in deps.txt that are missing. Idempotent; needs root on a fresh machine.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
pkgs=$(grep -v '^#' "$here/deps.txt" | grep -v '^$')
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The S3 storage tests run s3rver, an npm package (tests/s3/start.sh installs it with npm ci): Debian's nodejs and
# npm, unless a node with its npm is there already (another packaging of node ships npm inside its nodejs).
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "kite: missing packages:$missing (run as root, or install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing

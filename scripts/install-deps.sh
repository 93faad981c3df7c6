#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything Rectify needs to build, run
# and test. Does nothing when all of it is already installed. Run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config        # compiler and build
  libzmq3-dev                             # ZeroMQ 4.3: the message bus
  libprotobuf-c-dev protobuf-c-compiler   # protobuf-c: the wire format
  libpq-dev postgresql-15                 # PostgreSQL 15 client library and server
  libjansson-dev                          # JSON <-> protobuf mapping, tools
  uuid-dev                                # event ids
  libcurl4-openssl-dev                    # webhook and mail deliveries
  libxlsxwriter-dev                       # .xlsx exports of the ledger and reports
  libmicrohttpd-dev                       # the Open311 door's HTTP server
  libsodium-dev                           # HMAC-SHA256 of callers at the Open311 door
  libcriterion-dev                        # unit and integration tests
  docker-compose                          # only to validate docker-compose.yml
  valgrind                                # memory checks in the test run
  unzip                                   # the tests read exported .xlsx workbooks back
  clang-14 libclang-rt-14-dev             # libFuzzer, for the decoders' fuzz targets
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null

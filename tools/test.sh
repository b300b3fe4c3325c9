#!/usr/bin/env bash
# The whole test suite from a fresh clone: system packages (as root), npm packages, build, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real Xen 4.17 and QEMU components the differential and end-to-end tests run against.
debs=(libxenmisc4.17 libxenstore4 libxen-dev libyajl-dev xenstore-utils xen-utils-4.17
      qemu-system-x86 qemu-utils gcc libc6-dev man-db groff-base libvirt-clients libxml2-utils
      resource-agents openssl pacemaker corosync pacemaker-cli-utils iproute2 util-linux)
# gcc alone (no recommends) brings no C library headers: the test shims need libc6-dev.
. tools/apt.sh
if ! apt_ensure "${debs[@]}"; then
  echo "warning: tests that need the packages above will fail" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run build
fi
npx tsc -p tsconfig.test.json --noEmit
if (($#)); then npx mocha "$@"; else npx mocha "test/**/*.test.ts"; fi

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
# COLO_XL_CPU_HOG=1: the run under CPU contention, one busy loop per core (tools/cpu-hog.sh),
# started and stopped by the run itself.
hog=()
[ -n "${COLO_XL_CPU_HOG:-}" ] && hog=(--require test/support/cpu-hog.ts)
if (($#)); then npx mocha "${hog[@]}" "$@"; else npx mocha "${hog[@]}" "test/**/*.test.ts"; fi

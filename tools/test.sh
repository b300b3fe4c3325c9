#!/usr/bin/env bash
# The whole test suite from a fresh clone: system packages (as root), npm packages, build, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real Xen 4.17 and QEMU components the differential and end-to-end tests run against.
debs=(libxenmisc4.17 libxenstore4 libxen-dev libyajl-dev xenstore-utils xen-utils-4.17
      qemu-system-x86 qemu-utils gcc man-db groff-base libvirt-clients libxml2-utils
      resource-agents openssl pacemaker corosync pacemaker-cli-utils iproute2 util-linux)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing Debian packages (${missing[*]}); run as root to install them; tests that need them will fail" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run build
fi
npx tsc -p tsconfig.test.json --noEmit
if (($#)); then npx mocha "$@"; else npx mocha "test/**/*.test.ts"; fi

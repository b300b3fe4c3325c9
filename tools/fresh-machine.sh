#!/usr/bin/env bash
# The README's two set-up commands, exactly as a new user runs them, on a fresh Debian 12 root:
# mmdebstrap bookworm (minbase, empty package lists as in any container image) from this host's own
# apt sources, plus only this host's Node.js, npm configuration, CA store and resolv.conf; the
# committed checkout cloned to /root/project; entered with pivot_root in a private mount namespace,
# so that everything the tests mount or unshare (the Pacemaker cluster's namespaces) stays inside.
#
#   tools/fresh-machine.sh            build, run both commands, remove the root
#   FRESH_KEEP=1 tools/fresh-machine.sh   keep the root afterwards (its path is printed)
#   FRESH_DIR=/somewhere              where the root is made (default /var/tmp)
#
# Runs as root. Exits 0 only when both commands exit 0; the last line is the test run's own
# "N passed, N failed".
set -euo pipefail
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'fresh-machine: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, mount namespaces, pivot_root)"
command -v node >/dev/null || die "no node on PATH: the fresh root gets this host's Node.js"

# The host's own tools for building the root; installed (after an apt-get update when the package
# lists are empty, or when a first try fails) like every other install step of the project.
# shellcheck source=tools/apt.sh
. "$PROJECT/tools/apt.sh"
apt_ensure mmdebstrap util-linux git

# The host's Debian sources, read now: no mirror is written down anywhere in the project.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && grep -qE '^[[:space:]]*(URIs:|deb[[:space:]])[^#]*debian' "$f" && sources+=("$f")
done
((${#sources[@]})) || die "no Debian apt sources on this host (looked in /etc/apt/sources.list{,.d/})"

work=$(mktemp -d "${FRESH_DIR:-/var/tmp}/colo-xl-fresh.XXXXXX")
root=$work/root
cleanup() {
  # Every mount was made inside the unshared namespace, which is gone by now; refuse to delete a
  # tree that still has anything mounted below it all the same.
  if grep -qF " $root" /proc/self/mountinfo; then say "mounts remain under $root; not removing it" >&2; return; fi
  if [ -n "${FRESH_KEEP:-}" ]; then say "kept $root"; else rm -rf "$work"; fi
}
trap cleanup EXIT

t0=$SECONDS
say "building a fresh Debian 12 root in $root from ${sources[*]}"
mmdebstrap --quiet --mode=root --variant=minbase \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  bookworm "$root" "${sources[@]}"
say "mmdebstrap: $((SECONDS - t0)) s"

# Node.js: the binary, npm/npx/corepack and their modules, the headers node-gyp builds against.
node_bin=$(node -p process.execPath)
prefix=$(dirname "$(dirname "$node_bin")")
# (from /: cp -a --parents resolves the parents it copies attributes from against the cwd)
copy() { [ -e "$1" ] || [ -L "$1" ] || return 0; (cd / && cp -a --parents "${1#/}" "$root"); }
copy "$node_bin"
for p in "$prefix"/bin/npm "$prefix"/bin/npx "$prefix"/bin/corepack "$prefix"/lib/node_modules \
         "$prefix"/include/node "$prefix"/etc/npmrc /usr/local/etc/npmrc; do copy "$p"; done
# npm's user configuration goes to the new root's HOME, which is /root like here.
[ -f "$HOME/.npmrc" ] && install -m 0600 "$HOME/.npmrc" "$root/root/.npmrc"
# The CA store (and any extra CA file Node is told about) and the resolver.
copy /etc/ssl/certs
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && copy "$NODE_EXTRA_CA_CERTS"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# The committed checkout, as a user's clone; /root stays 0700 as on every Debian.
git clone --quiet --no-hardlinks "$PROJECT" "$root/root/project"
git -C "$root/root/project" remote remove origin
chmod 0700 "$root/root"
[ -z "$(git -C "$PROJECT" status --porcelain --untracked-files=no)" ] || say "note: uncommitted changes in $PROJECT are not part of the run"

# What runs inside: exactly the README's two commands, each reported with its status.
readme_cmds=$(awk '/^```sh$/{f=1; next} /^```$/{if (f) exit} f' "$PROJECT/README.md")
[ "$(printf '%s\n' "$readme_cmds" | grep -c .)" = 2 ] || die "README.md does not start with exactly two commands in a sh block"
main_cmd=$(printf '%s\n' "$readme_cmds" | sed -n 1p)
test_cmd=$(printf '%s\n' "$readme_cmds" | sed -n 2p)
cat > "$root/root/fresh-run.sh" <<EOF
cd /root/project
echo "fresh-machine: \\\$ $main_cmd"
t=\$SECONDS; set +e
$main_cmd; main_rc=\$?
echo "fresh-machine: main job exited \$main_rc after \$((SECONDS - t)) s"
echo "fresh-machine: \\\$ $test_cmd"
t=\$SECONDS
$test_cmd 2>&1 | tee /root/test.log; test_rc=\${PIPESTATUS[0]}
echo "fresh-machine: test command exited \$test_rc after \$((SECONDS - t)) s"
[ \$main_rc = 0 ] && [ \$test_rc = 0 ]
EOF

say "entering it (private mount namespace, pivot_root); its processes see only the fresh root"
t1=$SECONDS
set +e
unshare --mount --propagation private -- /bin/bash -euc '
  root=$1; shift
  mount --rbind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  cd "$root"
  mkdir -p .oldroot
  pivot_root . .oldroot
  umount -l /.oldroot
  rmdir /.oldroot
  exec "$@"' fresh "$root" \
  /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" \
  ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"} \
  PATH="$(dirname "$node_bin")":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash /root/fresh-run.sh
rc=$?
set -e
say "inside the fresh root: $((SECONDS - t1)) s; whole run $((SECONDS - t0)) s; status $rc"
# CI reads the test runner's closing line: repeat it last.
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$root/root/test.log" 2>/dev/null | tail -n 1 || true)
[ -n "$summary" ] || summary="0 passed, 1 failed"
echo "$summary"
exit "$rc"

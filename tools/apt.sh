# Sourced by the project's scripts: apt_ensure PKG... installs the Debian packages that are not
# installed yet. A fresh Debian (a container image, a new mmdebstrap root) has empty package
# lists, so an `apt-get update` runs first when there are none, and again when a first install
# fails on stale lists. Each package is named in what it prints. Root only; a non-root caller is
# told the exact command to run as root.

apt_missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
  done
}

apt_lists_empty() {
  ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

apt_root_command() {
  if command -v sudo >/dev/null 2>&1; then printf 'sudo sh -c %q' "$1"; else printf 'su -c %q' "$1"; fi
}

apt_ensure() {
  local missing
  mapfile -t missing < <(apt_missing "$@")
  ((${#missing[@]})) || return 0
  local install="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    printf 'missing Debian packages: %s\nrun as root:  %s\n' "${missing[*]}" "$(apt_root_command "$install")" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local updated=
  if apt_lists_empty; then
    echo "apt: package lists are empty; apt-get update"
    apt-get update -qq || { echo "apt: apt-get update failed" >&2; return 1; }
    updated=1
  fi
  echo "apt: installing ${missing[*]}"
  local log; log=$(mktemp)
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    # Stale lists give "Unable to locate package" or 404s: refresh once, unless just done.
    if [ -n "$updated" ] || ! { echo "apt: install failed; apt-get update and one more try"; apt-get update -qq; } ||
       ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
      tail -n 5 "$log" >&2; rm -f "$log"
      echo "apt: could not install ${missing[*]}" >&2
      return 1
    fi
  fi
  rm -f "$log"
  mapfile -t missing < <(apt_missing "$@")
  ((${#missing[@]} == 0)) || { echo "apt: still not installed after apt-get install: ${missing[*]}" >&2; return 1; }
}

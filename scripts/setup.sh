#!/usr/bin/env bash
# Install what Drover's build and tests need on Debian; idempotent, and fast when nothing is missing.
#   scripts/setup.sh [--with-postgres]
# - apt packages: libvirt-dev and pkg-config (native libvirt binding), python3-gi and gir1.2-govirt-1.0
#   (the libgovirt oVirt client used by the API tests), systemd (systemd-analyze, for the unit tests),
#   libvirt's daemon with its QEMU driver, QEMU and qemu-utils (the QEMU test tier and real hosts),
#   genisoimage (the agent builds cloud-init seeds with it; the tests make ISO images and read seeds with
#   it), ovmf (UEFI guests), curl (the HTTPS tests list VMs with it, as the README does), and postgresql
#   with --with-postgres. apt-get update runs only when something is missing.
# - the libvirt-qemu user and libvirt's directories, which libvirtd 9 needs and which Debian's
#   libvirt-daemon-system (not installed: it would start the machine's own libvirtd) makes.
# - npm ci when node_modules is missing or older than package-lock.json (never through a node_modules symlink).
# Node 20 itself is assumed to be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

with_postgres=0
for arg in "$@"; do
  case "$arg" in
    --with-postgres) with_postgres=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option: $arg" >&2; exit 2 ;;
  esac
done

packages=(libvirt-dev pkg-config python3-gi gir1.2-govirt-1.0 systemd libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils iptables genisoimage ovmf curl)
if (( with_postgres )); then packages+=(postgresql); fi

missing=()
for p in "${packages[@]}"; do
  # "install ok installed": dpkg -s alone also succeeds for removed-but-not-purged packages.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} )); then
  sudo=()
  (( EUID == 0 )) || sudo=(sudo)
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! getent passwd libvirt-qemu >/dev/null; then
  sudo=()
  (( EUID == 0 )) || sudo=(sudo)
  "${sudo[@]}" useradd --system --user-group --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
fi
if [[ ! -d /var/lib/libvirt || ! -d /var/cache/libvirt || ! -d /var/log/libvirt ]]; then
  sudo=()
  (( EUID == 0 )) || sudo=(sudo)
  "${sudo[@]}" mkdir -p /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
fi

if [[ -L node_modules ]]; then
  # A worktree that shares another checkout's node_modules through a symlink: npm ci here would empty
  # the other checkout's node_modules through the link, so it is that checkout's to install.
  echo "setup.sh: node_modules is a symlink to $(readlink node_modules); not installing through it" >&2
elif [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  echo "setup.sh: npm ci" >&2
  npm ci --no-audit --no-fund
  mkdir -p node_modules && touch node_modules  # mark it newer than package-lock.json
fi

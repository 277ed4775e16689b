#!/usr/bin/env bash
# berth's one install step, idempotent: Debian packages, npm dependencies, build,
# `berth`/`berthd` on PATH, berthd started, and the offline busybox:latest image.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
repo=$(pwd)

say() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (berth manages mounts, cgroups and namespaces)" >&2
  exit 1
fi

# runc + conmon run containers; busybox-static makes the default image; tini-static is --init;
# procps gives `top` its ps; iproute2/nftables/iptables are for networking;
# python3-docker (docker-py), util-linux (script, for PTY tests), socat, docker-registry
# (the CNCF distribution server) and apache2-utils (htpasswd) serve the tests.
# docker-compose (1.29, python) is a compat-test client (src/integration/compat.test.ts).
packages=(runc conmon busybox-static tini procps iproute2 nftables iptables ca-certificates python3-docker util-linux socat docker-registry apache2-utils zstd debootstrap docker-compose wget)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

say "installing npm dependencies"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
say "building"
npm run --silent build

say "linking berth and berthd into /usr/local/bin"
ln -sf "$repo/bin/berth" /usr/local/bin/berth
ln -sf "$repo/bin/berthd" /usr/local/bin/berthd

# Restart berthd from this checkout. Containers keep running across the restart
# (conmon holds them) and the new daemon re-adopts them.
pidfile=/run/berth/berthd.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  say "restarting berthd"
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
say "starting berthd (log: /var/log/berthd.log)"
mkdir -p /run/berth
nohup "$repo/bin/berthd" >>/var/log/berthd.log 2>&1 </dev/null &
for _ in $(seq 1 100); do [ -S /run/berth/berth.sock ] && berth version >/dev/null 2>&1 && break; sleep 0.1; done
berth version >/dev/null

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
  say "making busybox:latest from the host's busybox-static"
  node scripts/busybox-rootfs.mjs | berth import --change 'CMD ["sh"]' - busybox:latest >/dev/null
fi
say "ready: try  berth run --rm busybox echo hello"

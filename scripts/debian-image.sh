#!/usr/bin/env bash
# Build a Debian base image without any registry: debootstrap --variant=minbase from a
# Debian mirror into a temp dir, then `berth import` it with CMD ["bash"].
#
#   scripts/debian-image.sh [--suite bookworm] [--mirror URL] [--arch amd64] [--dry-run] NAME
#
# The mirror defaults to the first Debian URI in /etc/apt/sources.list* (the one apt
# already reaches), else http://deb.debian.org/debian. BERTH overrides the berth
# command (default: berth on PATH, else this checkout's bin/berth); -H/BERTH_HOST
# pick the daemon as for any berth command. --dry-run prints the plan and stops.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
usage() {
  echo "usage: $0 [--suite SUITE] [--mirror URL] [--arch ARCH] [--dry-run] NAME[:TAG]" >&2
  exit 2
}
die() {
  echo "debian-image: $*" >&2
  exit 1
}

suite=bookworm
mirror=
arch=
dry=0
name=
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) [ $# -ge 2 ] || usage; suite=$2; shift 2 ;;
    --suite=*) suite=${1#*=}; shift ;;
    --mirror) [ $# -ge 2 ] || usage; mirror=$2; shift 2 ;;
    --mirror=*) mirror=${1#*=}; shift ;;
    --arch) [ $# -ge 2 ] || usage; arch=$2; shift 2 ;;
    --arch=*) arch=${1#*=}; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage ;;
    --) shift; [ $# -eq 1 ] || usage; name=$1; shift ;;
    -*) echo "debian-image: unknown option $1" >&2; usage ;;
    *) [ -z "$name" ] || usage; name=$1; shift ;;
  esac
done
[ -n "$name" ] || usage

# Everything below reaches a command line or a URL: accept only plain values.
[[ "$suite" =~ ^[a-z][a-z0-9-]{1,30}$ ]] || die "invalid suite \"$suite\": want a Debian codename such as bookworm"
[[ -z "$arch" || "$arch" =~ ^[a-z0-9]{2,12}$ ]] || die "invalid arch \"$arch\": want a Debian architecture such as amd64"
# docker's reference grammar, lower-case name components, optional host[:port] and tag.
ref_re='^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$'
[[ "$name" =~ $ref_re ]] || die "invalid image name \"$name\": want name[:tag] in lower case, e.g. debian:bookworm"

default_mirror() {
  local f line kind uri dist key
  # One-line format: "deb [opts] URI suite comps".
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    while read -r line; do
      line=$(sed -E 's/\[[^]]*\]//' <<<"$line")
      read -r kind uri dist _ <<<"$line" || true
      if [ "${kind:-}" = deb ] && [[ "${uri:-}" =~ ^https?:// ]] && [[ "${dist:-}" != *security* ]]; then echo "$uri"; return; fi
    done <"$f"
  done
  # deb822 format: "URIs: uri..." (skip the security archive; it has no base suite).
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    while read -r key uri _; do
      if [ "${key:-}" = URIs: ] && [[ "${uri:-}" =~ ^https?:// ]] && [[ "$uri" != *security* ]]; then echo "$uri"; return; fi
    done <"$f"
  done
  echo http://deb.debian.org/debian
}
[ -n "$mirror" ] || mirror=$(default_mirror)
[[ "$mirror" =~ ^https?://[A-Za-z0-9.:@_~/%+-]+$ ]] || die "invalid mirror \"$mirror\": want an http(s) URL"

if [ -n "${BERTH:-}" ]; then berth=$BERTH
elif command -v berth >/dev/null 2>&1; then berth=berth
else berth="$repo/bin/berth"; fi

dbs_args=(--variant=minbase)
[ -z "$arch" ] || dbs_args+=("--arch=$arch")
if [ "$dry" = 1 ]; then
  echo "suite: $suite"
  echo "mirror: $mirror"
  echo "name: $name"
  echo "debootstrap ${dbs_args[*]} $suite <tmp> $mirror"
  echo "$berth import --change CMD [\"bash\"] - $name"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (debootstrap creates device nodes and chroots)"
command -v debootstrap >/dev/null || die "debootstrap is not installed; apt-get install debootstrap"

tmp=$(mktemp -d /var/tmp/berth-debian.XXXXXX)
cleanup() {
  # debootstrap mounts proc and sys inside the target; a failure can leave them.
  local m
  for m in $(awk -v t="$tmp/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rootfs="$tmp/rootfs"
echo "debian-image: debootstrap $suite from $mirror (minbase)" >&2
if ! debootstrap "${dbs_args[@]}" "$suite" "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
  tail -n 20 "$tmp/debootstrap.log" >&2
  die "debootstrap failed (log above); check the suite and that the mirror is reachable"
fi

# What a container image should not carry: downloaded packages, apt lists, logs.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/log/* "$rootfs"/debootstrap "$rootfs"/tmp/* 2>/dev/null || true
# apt in a container cannot use the host's proxy settings, only the mirror.
printf 'deb %s %s main\n' "$mirror" "$suite" >"$rootfs/etc/apt/sources.list"

echo "debian-image: importing as $name" >&2
tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$rootfs" -c . |
  "$berth" import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase $suite $mirror" - "$name"

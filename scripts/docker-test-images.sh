#!/usr/bin/env bash
# Builds the Docker test images from Debian's busybox-static (no image registry is needed):
#
#   <out>/busybox_helloworld.tar   root filesystem; /root/start.sh prints $message, then serves it
#                                  over HTTP on port 80 (busybox httpd) until stopped
#   <out>/busybox_ping.tar         root filesystem; /root/start.sh pings $target_ip until stopped
#
# They stand in for the archives the Occopus docker examples name as `origin` (on the lab's S3,
# unreachable from here): root-filesystem tarballs for `docker import`, with every busybox applet
# (sh, ping, httpd, nc, sleep, cat, ...) in /bin. The first is also imported into the engine as
# occopus-test-busybox:latest for tests that use `origin: local`.
#
# Usage: scripts/docker-test-images.sh [OUT_DIR]   (default: test/fixtures/docker)
# Idempotent: the tarballs are byte-for-byte reproducible, and the engine's image is replaced only
# when the tarball changed. Needs root for apt-get when busybox-static is missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/test/fixtures/docker}"
mkdir -p "$out"

if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "== installing busybox-static"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-static is installed but $busybox is missing" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# make_rootfs DIR START_SCRIPT_TEXT
make_rootfs() {
  local root="$1" script="$2"
  mkdir -p "$root"/{bin,etc,root,tmp,www,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  local applet
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  printf '%s\n' "$script" > "$root/root/start.sh"
  chmod 755 "$root/root/start.sh"
}

# pack DIR TARBALL: reproducible (sorted, fixed times and owners), written atomically.
pack() {
  tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2.tmp" .
  mv "$2.tmp" "$2"
}

make_rootfs "$work/helloworld" '#!/bin/sh
# Occopus docker-helloworld: print the message, then keep serving it.
echo "$message"
echo "$message" > /www/index.html
exec httpd -f -p 80 -h /www'
pack "$work/helloworld" "$out/busybox_helloworld.tar"

make_rootfs "$work/ping" '#!/bin/sh
# Occopus docker-ping: ping the receiver whose address Occopus passed in $target_ip.
echo "pinging $target_ip"
exec ping "$target_ip"'
pack "$work/ping" "$out/busybox_ping.tar"

echo "== test image tarballs in $out"

if command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1; then
  sum="$(sha256sum "$out/busybox_helloworld.tar" | cut -c1-64)"
  have="$(docker image inspect --format '{{index .Config.Labels "occopus.fixture"}}' occopus-test-busybox:latest 2>/dev/null || true)"
  if [ "$have" != "$sum" ]; then
    docker import --change "LABEL occopus.fixture=$sum" "$out/busybox_helloworld.tar" occopus-test-busybox:latest >/dev/null
    echo "== imported occopus-test-busybox:latest"
  fi
else
  echo "== no Docker engine answering: occopus-test-busybox:latest not imported" >&2
fi

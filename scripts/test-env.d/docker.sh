#!/usr/bin/env bash
# A Docker engine on /var/run/docker.sock for the docker driver's tests, and the test images
# (scripts/docker-test-images.sh). Installs Debian's docker.io when dockerd is missing and starts
# dockerd when it is not answering. Idempotent; exits non-zero when no engine can be had.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
log=/var/log/occopus-dockerd.log

answering() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_apt=()
{ command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1; } || need_apt+=(docker.io)
# The TLS endpoint tests make their certificates with openssl.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# start_dockerd [ARGS...]: starts dockerd in the background; true once the engine answers.
started_pid=""
start_dockerd() {
  # A daemon that was killed leaves its pid file, and a new one refuses to start while it exists.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  echo "== starting dockerd $*"
  setsid nohup dockerd "$@" >>"$log" 2>&1 </dev/null &
  started_pid=$!
  for _ in $(seq 1 60); do
    answering && return 0
    kill -0 "$started_pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

stop_started() {
  [ -n "$started_pid" ] || return 0
  kill "$started_pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$started_pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$started_pid" 2>/dev/null || true
  started_pid=""
}

if ! answering; then
  # What works depends on the sandbox: try the defaults first, then without iptables, then
  # without overlayfs.
  start_dockerd ||
    { stop_started; start_dockerd --iptables=false --ip-masq=false; } ||
    { stop_started; start_dockerd --iptables=false --ip-masq=false --storage-driver=vfs; } ||
    { stop_started; true; }
fi
if ! answering; then
  echo "the Docker engine is not answering on /var/run/docker.sock; last lines of $log:" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
fi
echo "== Docker engine $(docker version --format '{{.Server.Version}}') answering"

bash "$repo/scripts/docker-test-images.sh"

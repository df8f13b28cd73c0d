#!/usr/bin/env bash
# Redis at 127.0.0.1:6379 for the Redis store's tests (test/store/redis*.test.ts, the fail-over
# end-to-end test). Installs Debian's redis-server when missing and starts it when it is not
# answering; it keeps nothing on disk (the tests delete their own keys). Idempotent; exits non-zero
# when no Redis can be had.
set -euo pipefail

answering() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "== installing redis-server"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi

if ! answering; then
  echo "== starting redis-server"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 40); do answering && break; sleep 0.25; done
fi

if ! answering; then
  echo "Redis is not answering on 127.0.0.1:6379 (see /var/log/redis/ci.log)" >&2
  exit 1
fi
version=$(redis-cli -h 127.0.0.1 -p 6379 info server | sed -n 's/^redis_version:\([0-9.]*\).*/\1/p')
echo "== redis ${version} answering on 127.0.0.1:6379"

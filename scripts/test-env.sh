#!/usr/bin/env bash
# Installs and starts what the test suite needs on a Debian machine (CI runs it; developers may
# too). Exits non-zero when something cannot be provided: the tests then must not run.
set -euo pipefail

need_apt=()
command -v ping >/dev/null 2>&1 || need_apt+=(iputils-ping)
command -v mariadb >/dev/null 2>&1 || command -v mysql >/dev/null 2>&1 || need_apt+=(mariadb-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# MariaDB at 127.0.0.1:3306 (root, no password): the mysqldbs health check is tested against it.
if ! port_open 3306; then
  echo "== starting MariaDB"
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do port_open 3306 && break; sleep 0.5; done
fi
port_open 3306 || { echo "MariaDB is not answering on 127.0.0.1:3306" >&2; exit 1; }
mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null || { echo "cannot log in to MariaDB as root without a password" >&2; exit 1; }

# Each further service the tests need has its own script (Docker, Redis, ...).
for part in "$(dirname "$0")"/test-env.d/*.sh; do
  [ -e "$part" ] || continue
  echo "== $(basename "$part")"
  bash "$part"
done

echo "== test environment ready"

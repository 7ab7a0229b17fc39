#!/usr/bin/env bash
# Makes sure PostgreSQL serves 127.0.0.1:5432 with trust auth for postgres and a `test` database,
# as the test suite expects; starts the local cluster when it is down. Idempotent.
set -euo pipefail
as_postgres() { if (( EUID == 0 )); then runuser -u postgres -- "$@"; else sudo -u postgres -- "$@"; fi; }

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$version" ]] || { echo "ensure-postgres: no PostgreSQL cluster in /etc/postgresql" >&2; exit 1; }
  echo "ensure-postgres: starting PostgreSQL cluster $version/main" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true  # "already running" is fine
  for _ in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.5
  done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "ensure-postgres: PostgreSQL not ready after 30 s" >&2; exit 1; }
fi

# A fresh Debian cluster asks for a password on TCP. The test URL has none: on this throwaway
# CI machine, trust the postgres user from 127.0.0.1 only. Then create the test database if needed.
if ! psql -X -w -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -c 'select 1' </dev/null >/dev/null 2>&1; then
  hba=$(as_postgres psql -X -p 5432 -tAc 'show hba_file' </dev/null)
  echo "ensure-postgres: adding 'host all postgres 127.0.0.1/32 trust' to $hba" >&2
  as_postgres sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  as_postgres psql -X -p 5432 -q -c 'select pg_reload_conf()' </dev/null >/dev/null
  sleep 0.5
fi
if [[ "$(psql -X -w -tA -h 127.0.0.1 -p 5432 -U postgres -d postgres -c "select 1 from pg_database where datname = 'test'" </dev/null)" != 1 ]]; then
  createdb -w -h 127.0.0.1 -p 5432 -U postgres test </dev/null
fi


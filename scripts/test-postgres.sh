#!/usr/bin/env bash
# Runs the database-backed unit tests against a real PostgreSQL: installs and starts Debian's server
# when missing (root), creates a throwaway role, then runs pytest with PBX_TEST_DATABASE_URL (tortoise
# creates and drops one database per test, connecting to PGDATABASE to do so).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pg_lsclusters >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "please run: sudo apt-get install postgresql"; exit 1; }
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -y -q install postgresql >/dev/null
fi
read -r version cluster port status _ < <(pg_lsclusters --no-header | head -1)
[ "$status" = online ] || pg_ctlcluster "$version" "$cluster" start
password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
su postgres -c "psql -q -p $port" <<SQL
DROP ROLE IF EXISTS pbx_test;
CREATE ROLE pbx_test LOGIN CREATEDB PASSWORD '$password';
SQL
PGDATABASE=postgres PBX_TEST_DATABASE_URL="postgres://pbx_test:$password@127.0.0.1:$port/test_pbx_{}" \
  .venv/bin/python -m pytest -ra tests/unit

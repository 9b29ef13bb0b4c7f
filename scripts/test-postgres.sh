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
# a fresh password each run; the role may own databases a killed run left behind, so alter, don't drop
su postgres -c "psql -q -v ON_ERROR_STOP=1 -p $port" <<SQL
DO \$\$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pbx_test') THEN
    ALTER ROLE pbx_test LOGIN CREATEDB PASSWORD '$password';
  ELSE
    CREATE ROLE pbx_test LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
# tortoise creates a database per test but leaves it behind: drop them all when done
drop_test_databases() {
  su postgres -c "psql -At -p $port -c \"SELECT datname FROM pg_database WHERE datname LIKE 'test\\_pbx\\_%'\"" |
    while read -r db; do su postgres -c "dropdb -p $port --if-exists $db"; done
}
trap drop_test_databases EXIT
PGDATABASE=postgres PBX_TEST_DATABASE_URL="postgres://pbx_test:$password@127.0.0.1:$port/test_pbx_{}" \
  .venv/bin/python -m pytest -ra -n "${JOBS:-4}" tests/unit

"""`make test`'s test step: the suite on SQLite and on PostgreSQL.

PostgreSQL is used when it answers at POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/kurator);
with REQUIRE_POSTGRES=1 an unreachable server is a failure, not a skip. Browser journeys and the page sweeps
(marker ``sweep``) run once, on PostgreSQL when it is there, else on SQLite; REQUIRE_BROWSER=1 makes a
missing Chromium a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/kurator"


def postgres_reachable(url: str) -> bool:
    import psycopg

    dsn = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(dsn.replace("postgres://", "postgresql://", 1), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def run(label: str, env: dict[str, str], args: list[str]) -> int:
    print(f"\n=== tests on {label} ===", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main() -> int:
    extra = sys.argv[1:]
    postgres_url = os.environ.get("POSTGRES_URL", DEFAULT_POSTGRES_URL)
    require_postgres = os.environ.get("REQUIRE_POSTGRES") == "1"
    have_postgres = postgres_reachable(postgres_url)
    if require_postgres and not have_postgres:
        print(f"REQUIRE_POSTGRES=1 but PostgreSQL does not answer at {postgres_url}", file=sys.stderr)
        return 1
    workers = os.environ.get("PYTEST_WORKERS", "2")
    # The slowest tests are listed at the end of each pass: the CI budget is watched from them.
    base = ["-q", "-n", workers, "--durations=12", "--durations-min=5", *extra]
    with tempfile.TemporaryDirectory(prefix="kurator-test-") as tmp:
        sqlite_env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/kurator.sqlite3", KURATOR_VAR_DIR=tmp)
        # With PostgreSQL at hand the browser journeys and the page sweeps (permission matrix, stored XSS,
        # CSRF: views and templates, not SQL) run there only; everything else runs on both engines.
        sqlite_args = [*base, "-m", "not e2e and not sweep"] if have_postgres else base
        status = run("SQLite", sqlite_env, sqlite_args)
        if have_postgres:
            pg_env = dict(os.environ, DATABASE_URL=postgres_url, KURATOR_VAR_DIR=tmp)
            status = run("PostgreSQL", pg_env, base) or status
        else:
            print("\nPostgreSQL is not reachable: the suite ran on SQLite only.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())

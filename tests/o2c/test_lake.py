"""The DuckLake warehouse's naming and migrations, without a PostgreSQL (the catalog itself is
exercised by the lake pass of `.ci/run` and the tests that take the `postgres` fixture)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from o2c import lake, warehouse
from o2c.concurrency import limit_name

CATALOG = "ducklake:postgres:dbname=o2c host=db.internal user=o2c password=s3cret"


def test_migrations_lose_only_what_ducklake_cannot_store():
    sql = """
    CREATE SEQUENCE IF NOT EXISTS s START 1;
    CREATE TABLE t (
        id    VARCHAR PRIMARY KEY,          -- a comment, with a ; in it
        code  VARCHAR NOT NULL UNIQUE,
        kind  VARCHAR CHECK (kind IN ('a', 'b (c)')),
        note  VARCHAR DEFAULT 'PRIMARY KEY; UNIQUE',
        -- a comment before the table's key
        PRIMARY KEY (id, code)
    );
    CREATE UNIQUE INDEX t_code ON t (code);
    INSERT INTO t VALUES ('1', 'x', 'a', 'n');
    """
    got = lake.without_constraints(sql)
    assert "SEQUENCE" not in got and "INDEX" not in got and "CHECK" not in got
    assert re.sub(r"'[^']*'", "''", got).count("PRIMARY KEY") == 0
    assert "UNIQUE (" not in got and " UNIQUE," not in got
    assert "note  VARCHAR DEFAULT 'PRIMARY KEY; UNIQUE'" in got  # quoted text untouched
    assert "code  VARCHAR NOT NULL" in got and "INSERT INTO t VALUES ('1', 'x', 'a', 'n')" in got


@pytest.mark.parametrize("migration", warehouse.migrations(), ids=lambda m: f"{m.version:03d}")
def test_every_migration_parses_for_the_lake(migration: warehouse.Migration):
    """Every statement DuckLake would refuse is gone (they run for real in the lake pass)."""
    got = re.sub(r"'[^']*'", "''", lake.without_constraints(migration.sql))
    for refused in (r"PRIMARY\s+KEY", r"\bUNIQUE\b", r"\bCHECK\s*\(", r"CREATE\s+(UNIQUE\s+)?INDEX",
                    r"CREATE\s+SEQUENCE", r"\bREFERENCES\b", r"nextval"):  # fmt: skip
        assert not re.search(refused, got, re.IGNORECASE), refused


def test_a_lake_is_named_without_its_password_and_needs_a_data_path(monkeypatch):
    monkeypatch.delenv(lake.DATA_PATH_ENV, raising=False)
    monkeypatch.setenv(lake.SCHEMA_ENV, "o2c_fr01")
    assert "s3cret" not in warehouse.describe(CATALOG)
    assert "password=***" in warehouse.describe(CATALOG)
    assert "schema o2c_fr01" in warehouse.describe(CATALOG)
    with pytest.raises(lake.LakeSettingsError, match="O2C_LAKE_DATA_PATH"):
        lake.open(CATALOG)


def test_every_machine_on_one_catalog_takes_the_same_writer_slot(monkeypatch, tmp_path: Path):
    monkeypatch.setenv(lake.SCHEMA_ENV, "o2c_fr01")
    monkeypatch.setenv(lake.HOME_ENV, str(tmp_path / "machine-a"))
    on_a = warehouse.db_path(CATALOG)
    monkeypatch.setenv(lake.HOME_ENV, str(tmp_path / "elsewhere" / "machine-b"))
    on_b = warehouse.db_path(CATALOG)
    assert on_a.parent != on_b.parent  # each machine's lock, reports and mail stay local
    assert limit_name(on_a) == limit_name(on_b)
    monkeypatch.setenv(lake.SCHEMA_ENV, "o2c_be01")  # another warehouse in the same database
    assert limit_name(warehouse.db_path(CATALOG)) != limit_name(on_a)
    assert limit_name(tmp_path / "a" / "o2c.duckdb") != limit_name(tmp_path / "b" / "o2c.duckdb")

"""The one transaction helper: all or nothing, and an inner block joins the outer one."""

from __future__ import annotations

from pathlib import Path

import pytest

from o2c.warehouse import connect, scalar, transaction


def test_a_failure_in_an_inner_block_undoes_the_outer_work_too(tmp_path: Path):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError), transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            with transaction(con):
                con.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("crash after the inner block")
        assert scalar(con, "SELECT count(*) FROM t") == 0
        with transaction(con):
            con.execute("INSERT INTO t VALUES (3)")
            with transaction(con):
                con.execute("INSERT INTO t VALUES (4)")
        assert scalar(con, "SELECT sum(x) FROM t") == 7

"""Row-level validation with Great Expectations, driven by the editable suites in expectations/.

GX validates a pandas frame (its SQL path over DuckDB does not work, see STACK-NOTES); we keep
its per-row verdicts so failed rows go to quarantine with the reasons written in the suite.
An expectation whose meta says `"severity": "warning"` does not quarantine: the row loads and
its reason is kept as a warning (a consumer without consent to registered e-mail is a customer
all the same; a letter to them must go by post).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

ROW = "_row"  # position of the row in the validated frame
FAILED_CHECKS = "failed_checks"
WARNINGS = "warnings"
WARNING = "warning"  # meta.severity of an expectation that warns instead of quarantining
_DATE_KWARGS = ("min_value", "max_value")
_POSITION = "o2c_position"
_EPOCH = date(1970, 1, 1)  # where each expectation stands in its suite file


class SuiteError(RuntimeError):
    """A suite that cannot run (unknown expectation, missing column): fix the suite, not data."""


@dataclass
class ValidationOutcome:
    good: pl.DataFrame
    bad: pl.DataFrame  # the failed rows, with a FAILED_CHECKS column
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    # Good rows some warning expectation flagged, with a WARNINGS column, and the counts.
    warned: pl.DataFrame | None = None
    warnings_by_reason: dict[str, int] = field(default_factory=dict)


def suite_path(name: str, folder: Path | None = None) -> Path:
    """A suite file: $O2C_EXPECTATIONS_DIR/<name>.json when set, else the shipped one."""
    base = folder or os.environ.get("O2C_EXPECTATIONS_DIR")
    if base:
        return Path(base) / f"{name}.json"
    return Path(str(resources.files("o2c.expectations").joinpath(f"{name}.json")))


def load_suite(name: str, folder: Path | None = None) -> dict[str, Any]:
    path = suite_path(name, folder)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"expectation suite {path}: {exc}") from exc


_GX_LOCK = threading.Lock()


def warm_up() -> threading.Thread:
    """Import GX and build its context in the background while the file is being read.

    Its import and context cost seconds; Polars reads without holding the GIL, so the two
    overlap. `validate` waits for it through the same lock.
    """
    thread = threading.Thread(target=_gx_batch_definition, name="gx-warm-up", daemon=True)
    thread.start()
    return thread


def _gx_batch_definition() -> Any:
    with _GX_LOCK:
        return _gx_batch_definition_once()


@cache
def _gx_batch_definition_once() -> Any:
    """One ephemeral GX context per process: it costs seconds to import and build."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every frame below this size, a batch marker o2c never reads: 2 s per 1M rows.
    pandas_execution_engine.HASH_THRESHOLD = 0

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)  # not its temp-dir chatter
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    asset = context.data_sources.add_pandas("o2c").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def _raised(info: dict[str, Any] | None) -> str | None:
    """GX reports an expectation that crashed either flat or keyed by metric; find the message."""
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _label(expectation: dict[str, Any]) -> str:
    kwargs = expectation.get("kwargs", {})
    target = kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}"
    reason = expectation.get("meta", {}).get("reason")
    return reason or f"{expectation['type']}({target})"


def _detailed(
    label: str, expectation: dict[str, Any], frame: pl.DataFrame, rows: list[Any]
) -> list[str]:
    """Each failed row's label; `meta.detail_column` adds that column's value (which field)."""
    column = expectation.get("meta", {}).get("detail_column")
    if column not in frame.columns:
        return [label] * len(rows)
    values = frame[column].gather([int(r) for r in rows]).to_list()
    return [label if v is None else f"{label}: {v}" for v in values]


def _gx_kwargs(kwargs: dict[str, Any], frame: pl.DataFrame) -> dict[str, Any]:
    """Date bounds in the suite are ISO strings; dates reach GX as day numbers (see validate)."""
    out = dict(kwargs)
    column = kwargs.get("column")
    if column in frame.columns and frame.schema[column] == pl.Date:
        for key in _DATE_KWARGS:
            if isinstance(out.get(key), str):
                out[key] = (date.fromisoformat(out[key]) - _EPOCH).days
    return out


def validate(
    frame: pl.DataFrame, suite_name: str, *, folder: Path | None = None
) -> ValidationOutcome:
    """Split a frame into the rows every expectation accepts and the rows some reject, with why."""
    # First wait for GX (a warm-up thread may be importing it): importing any part of it from
    # here at the same time would deadlock on the module locks.
    batch_definition = _gx_batch_definition()
    from great_expectations.core.expectation_suite import ExpectationSuite

    suite_def = load_suite(suite_name, folder)
    expectations = suite_def.get("expectations", [])
    for exp in expectations:
        for key in ("column", "column_A", "column_B"):
            column = exp.get("kwargs", {}).get(key)
            if column is not None and column not in frame.columns:
                raise SuiteError(
                    f"suite '{suite_name}': expectation {exp['type']} names column '{column}',"
                    f" which the input does not have"
                )
    try:
        suite = ExpectationSuite(
            name=suite_def.get("name", suite_name),
            expectations=[
                {
                    **e,
                    "kwargs": _gx_kwargs(e.get("kwargs", {}), frame),
                    "meta": {**e.get("meta", {}), _POSITION: i},
                }
                for i, e in enumerate(expectations)
            ],
        )
    except Exception as exc:
        raise SuiteError(f"suite '{suite_name}' is not a valid GX suite: {exc}") from exc

    columns = sorted(
        {
            e["kwargs"][k]
            for e in expectations
            for k in ("column", "column_A", "column_B")
            if k in e.get("kwargs", {})
        }
        | {"document_type"} & set(frame.columns)
    )
    # Dates travel as day numbers: GX compares datetime columns one Python call per value.
    pdf = (
        frame.select(columns)
        .with_columns(pl.col(pl.Date).cast(pl.Int64))  # int64: GX compares it vectorised
        .to_pandas(use_pyarrow_extension_array=False)
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": pdf})
    result = batch.validate(
        suite,
        # Row positions only: the values themselves are in the raw rows quarantine keeps.
        result_format={
            "result_format": "COMPLETE",
            "partial_unexpected_count": 0,
            "exclude_unexpected_values": True,
            "return_unexpected_index_query": False,
        },
    )

    failed: dict[bool, tuple[list[int], list[str], list[str]]] = {
        False: ([], [], []),  # quarantined: rows, labels with detail, bare reasons
        True: ([], [], []),  # warnings
    }
    for res in result.results:
        exp_def = expectations[res.expectation_config.meta[_POSITION]]
        error = _raised(res.exception_info)
        if error:
            raise SuiteError(f"suite '{suite_name}': {exp_def['type']} could not run: {error}")
        if res.success:
            continue
        rows = res.result.get("unexpected_index_list")
        if rows is None:
            raise SuiteError(
                f"suite '{suite_name}': {exp_def['type']} failed for the whole table; "
                "only row-level expectations belong in an input suite"
            )
        warns = exp_def.get("meta", {}).get("severity") == WARNING
        found_rows, found_labels, found_reasons = failed[warns]
        found_rows.extend(int(r) for r in rows)
        label = _label(exp_def)
        found_reasons.extend([label] * len(rows))
        found_labels.extend(_detailed(label, exp_def, frame, rows))

    indexed = frame.with_row_index(ROW)
    bad, failures_by_reason = _flagged(indexed, *failed[False], FAILED_CHECKS)
    good = indexed.join(bad.select(ROW), on=ROW, how="anti")
    warned, warnings_by_reason = _flagged(good, *failed[True], WARNINGS)
    return ValidationOutcome(
        good=good.drop(ROW),
        bad=bad.drop(ROW),
        failures_by_reason=failures_by_reason,
        warned=warned.drop(ROW),
        warnings_by_reason=warnings_by_reason,
    )


def _flagged(
    indexed: pl.DataFrame, rows: list[int], labels: list[str], reasons: list[str], column: str
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The rows of `indexed` named in `rows`, with their labels joined in `column`, and how many
    rows each reason flagged."""
    failures = pl.DataFrame(
        {ROW: rows, "label": labels}, schema={ROW: pl.UInt32, "label": pl.String}
    )
    joined = failures.group_by(ROW).agg(
        pl.col("label").unique(maintain_order=True).str.join("; ").alias(column)
    )
    flagged = indexed.join(joined, on=ROW, how="inner").sort(ROW)
    counts = (
        pl.DataFrame({"label": reasons}, schema={"label": pl.String})
        .group_by("label")
        .len()
        .sort("len", "label", descending=[True, False])
    )
    return flagged, dict(zip(counts["label"], counts["len"], strict=True))

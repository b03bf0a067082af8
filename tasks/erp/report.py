"""What finance reads after an ERP load: a short markdown summary and the quarantine by reason.

The file name is outside text (whoever named the export): it goes in as an escaped code span.
"""

from __future__ import annotations

from o2c.tasks.common.escaping import md_code, md_label
from o2c.tasks.common.formatting import format_count as _n
from o2c.tasks.erp.store import LoadResult

_TITLES = {"invoices": "Invoice load", "customers": "Customer load"}


def summary_markdown(result: LoadResult) -> str:
    title = _TITLES.get(result.source, result.source)
    if result.status == "duplicate_file":
        return (
            f"# {title}: {md_code(result.file_name)} already loaded\n\n"
            f"Same content (SHA-256 `{result.sha256[:12]}…`) as batch {result.previous_batch_id}"
            f" of {result.previous_loaded_at:%Y-%m-%d %H:%M}. Nothing was changed.\n"
        )
    lines = [
        f"# {title}: {md_code(result.file_name)}",
        "",
        f"Batch {result.batch_id}, file SHA-256 `{result.sha256[:12]}…`",
        "",
        "| rows | count |",
        "|---|---:|",
        f"| read | {_n(result.rows_in)} |",
        f"| new | {_n(result.inserted)} |",
        f"| updated (change recorded) | {_n(result.updated)} |",
        f"| unchanged | {_n(result.unchanged)} |",
        f"| quarantined | {_n(result.quarantined)} |",
        *([f"| loaded with a warning | {_n(result.warned)} |"] if result.warned else []),
    ]
    if result.failures_by_reason:
        lines += ["", "## Quarantined, by reason", "", "| reason | rows |", "|---|---:|"]
        lines += [
            f"| {md_label(reason)} | {_n(n)} |" for reason, n in result.failures_by_reason.items()
        ]
        table = f"quarantine_{result.source}"
        lines += ["", f"Every quarantined row is kept as read, with its reasons, in `{table}`."]
    if result.warnings_by_reason:
        lines += ["", "## Loaded with a warning, by reason", "", "| reason | rows |", "|---|---:|"]
        lines += [
            f"| {md_label(reason)} | {_n(n)} |" for reason, n in result.warnings_by_reason.items()
        ]
        lines += ["", "Each such row is in `load_warnings` with its line and reasons."]
    return "\n".join(lines) + "\n"

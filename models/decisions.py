"""The form finance fills in the Prefect UI when a reconcile run pauses on its exceptions.

Built for the exceptions of the moment (tasks/reconciliation/decisions.form_exceptions): one
section per exception, titled with the payment as a person reads it (date, amount, payer,
text), whose choices are its ranked candidates, invoices ticked from the payer's open items, a
split over them, or "not a customer payment". Every choice is a ``Literal`` (the UI draws a
select), every field has one plain type (no "str | None" switch), amounts are text checked by
a pattern, and "decided by" is required: the Prefect server refuses what the schema refuses
before the run sees it, and the run never fails on what it accepts.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, create_model

AMOUNT_PATTERN = r"^\s*\d{1,3}(?:[ \u00a0\u202f]?\d{3})*(?:[.,]\d{1,2})?\s*$"


class ExceptionDecisions(RunInput):
    """What every form has; decision_form adds one section per exception."""

    decided_by: str = Field(min_length=1, description="Kept with each decision")


def _choices(values: list[str]) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


def _as_select(schema: dict[str, Any]) -> None:
    """A choice of one is still a select: pydantic writes ``const``, the UI draws a select for
    ``enum`` (in the field or its array's items)."""
    for part in (schema, schema.get("items") or {}):
        if "const" in part:
            part["enum"] = [part.pop("const")]


def decision_form(
    exceptions: list[dict[str, Any]], words: dict[str, str], field_names: list[str]
) -> type[ExceptionDecisions]:
    """The RunInput class of this pause. ``exceptions``: form_exceptions' plain data;
    ``words``: the form's labels in the company's language (later, not_customer, chosen, split,
    decided_by, decision, invoices, split_lines, invoice, amount, note); ``field_names``: one
    per exception, in order."""
    fields: dict[str, Any] = {
        "decided_by": (str, Field(min_length=1, title=words["decided_by"])),
    }
    for n, (exc, name) in enumerate(zip(exceptions, field_names, strict=True), start=1):
        options = [words["later"], *(c["label"] for c in exc["candidates"])]
        options.append(words["not_customer"])
        section: dict[str, Any] = {}
        items = [i["label"] for i in exc["items"]]
        if items:
            options += [words["chosen"], words["split"]]
            invoice = _choices(items)
            split_line = create_model(
                f"SplitLine{n:02d}",
                __config__=ConfigDict(extra="forbid"),
                invoice=(invoice, Field(title=words["invoice"], json_schema_extra=_as_select)),
                amount=(str, Field(title=words["amount"], pattern=AMOUNT_PATTERN)),
            )
            section["invoices"] = (
                list[invoice],  # type: ignore[valid-type]
                Field(default_factory=list, title=words["invoices"], json_schema_extra=_as_select),
            )
            section["split"] = (
                list[split_line],  # type: ignore[valid-type]
                Field(default_factory=list, title=words["split_lines"]),
            )
        model = create_model(
            f"Payment{n:02d}",
            __config__=ConfigDict(extra="forbid"),  # the title stays on the field: the UI shows it
            decision=(
                _choices(options),
                Field(
                    default=words["later"], title=words["decision"], json_schema_extra=_as_select
                ),
            ),
            **section,
            note=(str, Field(default="", title=words["note"])),
        )
        fields[name] = (model, Field(default_factory=model, title=exc["label"]))
    return create_model("ExceptionDecisions", __base__=ExceptionDecisions, **fields)


def answer_of(form: BaseModel) -> dict[str, Any]:
    """The submitted form as plain data (what tasks/reconciliation/decisions.form_lines reads)."""
    return form.model_dump()

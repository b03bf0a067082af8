"""The form finance fills in the Prefect UI when a dunning run pauses on levels that need approval.

Built for the communications of the day (tasks/dunning/approval.form_choices): finance approves
everything by sending the form with only a name, or adds exclusion lines, each picking a customer
or an invoice from a select (never a typed id) with a reason and an end date. Every field has one
plain type (no "str | None" switch the UI would draw), choices are ``Literal``s (a select), and
"decided by" and each line's reason are required: the Prefect server refuses what the schema
refuses before the run resumes, so the run never fails on what it accepts.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field, create_model


class DunningApproval(RunInput):
    """What every approval form has; approval_form adds the exclusion lines' choices."""

    decided_by: str = Field(min_length=1, description="Kept with the approval in the audit log")


def _as_select(schema: dict[str, Any]) -> None:
    """A choice of one is still a select: pydantic writes ``const``, the UI draws ``enum``."""
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]


def approval_form(choices: list[str], words: dict[str, str], until: date) -> type[DunningApproval]:
    """The RunInput class of this pause. ``choices``: one label per customer and per invoice
    planned for approval (tasks/dunning/approval.form_choices); ``words``: the form's titles in
    the company's language (decided_by, exclusions, target, reason, until); ``until``: the end
    date a line gets unless finance changes it."""
    target = Literal[tuple(choices)]  # type: ignore[valid-type]
    line = create_model(
        "ExclusionLine",
        __config__=ConfigDict(extra="forbid", title=words["exclusions"]),
        target=(target, Field(title=words["target"], json_schema_extra=_as_select)),
        reason=(str, Field(min_length=1, title=words["reason"])),
        until=(date, Field(default=until, title=words["until"])),
    )
    return create_model(
        "DunningApproval",
        __base__=DunningApproval,
        decided_by=(str, Field(min_length=1, title=words["decided_by"])),
        exclusions=(
            list[line],  # type: ignore[valid-type]
            Field(default_factory=list, title=words["exclusions"]),
        ),
    )


def answer_of(form: BaseModel) -> dict[str, Any]:
    """The submitted form as plain data (what tasks/dunning/approval.decision_of reads)."""
    return form.model_dump()

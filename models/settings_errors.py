"""How a settings model's validation error is told: each variable named, its value never shown.

pydantic's own message quotes the inputs, and a setting may be a secret (a token, a key), so
only the variable's name and the reason are kept.
"""

from __future__ import annotations

from pydantic import ValidationError


def settings_problems(exc: ValidationError, prefix: str) -> str:
    """`O2C_AR24_TOKEN: missing; O2C_AR24_BASE_URL: <reason>` for the variables `prefix` names."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(part) for part in error["loc"]).upper()
        reason = (
            "missing" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        )
        problems.append(f"{prefix}{loc}: {reason}" if loc else reason)
    return "; ".join(problems)

"""What the settings models share: a service's base URL, a secret read from its variable or else
its Prefect Secret block, and how a validation error is told.

pydantic's own message quotes the inputs, and a setting may be a secret (a token, a key), so
an error keeps only the variable's name and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, SecretStr, ValidationError


def _http_base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL with a host")
    return value.rstrip("/")


# An http(s) URL with a host, without its trailing slash (paths are appended to it).
HttpBaseUrl = Annotated[str, AfterValidator(_http_base_url)]


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


def secret_from_env_or_block(
    env: str,
    block_env: str,
    default_block: str,
    read_block: Callable[[str], str | None],
    missing: Callable[[str], Exception],
) -> SecretStr | None:
    """None when `env` holds the secret (the settings model reads it from there); else the value
    of the Secret block that `block_env` names (default `default_block`, where `o2c blocks
    register` saves it). Neither: `missing(message)` is raised, naming both places."""
    if os.environ.get(env):
        return None
    name = os.environ.get(block_env) or default_block
    secret = read_block(name)
    if not secret:
        raise missing(
            f"set {env}, or save it in a Prefect Secret block named {name!r} (o2c blocks register)"
        )
    return SecretStr(secret)

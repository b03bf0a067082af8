"""A generic REST ERP source, as its YAML mapping describes it (erp_sources/<name>.yaml).

One file a source, read by tasks/erp/sources/rest.py: where the API is, how to authenticate
(the secret itself is never in the file: a Prefect Secret block or an environment variable is
named), how it pages, which query parameter asks for "changed since", which fields order the
rows, and which JSON field (a dotted path) gives each column of the export contract
(models/erp.py). Optional: the signed webhook allocations are written back to.

Parsed into frozen models so a mistake is told once, at open, naming the file and the key
(`erp_sources/acme.yaml: invoices.fields.amount_totl: not a column of the invoice export`),
never as a KeyError in the middle of a pull.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from o2c.models.erp import CUSTOMER_COLUMNS, CUSTOMER_REQUIRED, INVOICE_COLUMNS, INVOICE_REQUIRED
from o2c.models.settings_common import HttpBaseUrl

# Where `rest:<name>` is looked for: $O2C_ERP_SOURCES_DIR, else erp_sources/ of the project folder.
SOURCES_DIR_ENV = "O2C_ERP_SOURCES_DIR"
DEFAULT_SOURCES_DIR = Path("erp_sources")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_PATH = re.compile(r"^[A-Za-z0-9_$@-]+(?:\.[A-Za-z0-9_$@-]+)*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SecretRef(_Frozen):
    """Where a secret is read: the environment variable first (the embedded default), else the
    Prefect Secret block. At least one is named; the value never appears in the file."""

    secret_block: str | None = None
    secret_env: str | None = None

    @model_validator(mode="after")
    def _one_named(self) -> SecretRef:
        if not (self.secret_block or self.secret_env):
            raise ValueError("name secret_block (a Prefect Secret block) or secret_env")
        return self


class RestAuth(SecretRef):
    """bearer: `Authorization: Bearer <secret>`; basic: `username` and the secret as password;
    api_key: the secret in `header` (default X-API-Key); none: no credential."""

    kind: Literal["bearer", "basic", "api_key", "none"]
    username: str | None = None
    header: str = "X-API-Key"

    @model_validator(mode="after")
    def _one_named(self) -> RestAuth:
        if self.kind == "none":
            return self
        if self.kind == "basic" and not self.username:
            raise ValueError("basic auth needs username (the secret is the password)")
        return SecretRef._one_named(self)  # type: ignore[return-value]


class RestPagination(_Frozen):
    """How one endpoint's pages follow each other.

    cursor: the body gives the next cursor (`next_cursor`, a dotted path; empty or absent on the
    last page), sent back in `cursor_param`. page: `page_param` counts from `first_page`. offset:
    `offset_param` counts rows. link: the `Link` header's rel="next" URL (RFC 8288). page and
    offset end on a short page; `size_param` asks for `page_size` rows.
    """

    style: Literal["cursor", "page", "offset", "link"]
    page_size: int = Field(default=100, ge=1, le=10_000)
    size_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor: str = "next_cursor"
    page_param: str = "page"
    first_page: int = 1
    offset_param: str = "offset"


class RestEndpoint(_Frozen):
    """One list endpoint (invoices or customers) and how its JSON becomes export rows.

    `items`: dotted path to the array of records in the body (empty: the body is the array).
    `id` and `updated_at`: dotted paths of the record's integer id and its change time (ISO 8601
    text in one format, UTC, so that text order is time order); rows must come sorted by
    (updated_at, id). `fields`: export column -> dotted path. `values`: export column -> {the
    API's value: ours} (a status `void` -> `cancelled`). `params`: fixed query parameters.
    """

    path: str
    items: str = "data"
    id: str = "id"
    updated_at: str = "updated_at"
    params: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, str]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("items")
    @classmethod
    def _items(cls, value: str) -> str:
        if value and not _PATH.match(value):
            raise ValueError(f"{value!r} is not a dotted path (a.b.c)")
        return value

    @field_validator("id", "updated_at")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(f"{value!r} is not a dotted path (a.b.c)")
        return value


class RestWebhook(SecretRef):
    """Allocations written back: POSTed in batches of `batch_size` to `url` (absolute, or a path
    under base_url), signed with HMAC-SHA256 of the raw body by the secret named here."""

    url: str
    batch_size: int = Field(default=50, ge=1, le=1_000)
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=3, ge=0)


class RestSourceMapping(_Frozen):
    """One REST ERP: the whole of erp_sources/<name>.yaml."""

    name: str
    base_url: HttpBaseUrl
    auth: RestAuth
    pagination: RestPagination
    updated_since_param: str = "updated_since"
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    requests_per_second: float = Field(default=5.0, ge=0)
    customers: RestEndpoint | None = None
    invoices: RestEndpoint
    push: RestWebhook | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("lower-case letters, digits and dashes (it names artifacts)")
        return value

    @model_validator(mode="after")
    def _columns(self) -> RestSourceMapping:
        for kind, endpoint, columns, required in (
            ("invoices", self.invoices, INVOICE_COLUMNS, INVOICE_REQUIRED),
            ("customers", self.customers, CUSTOMER_COLUMNS, CUSTOMER_REQUIRED),
        ):
            if endpoint is None:
                continue
            for column, path in endpoint.fields.items():
                if column not in columns:
                    raise ValueError(
                        f"{kind}.fields.{column}: not a column of the {kind} export"
                        f" (models/erp.py: {', '.join(columns)})"
                    )
                if not _PATH.match(path):
                    raise ValueError(f"{kind}.fields.{column}: {path!r} is not a dotted path")
            missing = [c for c in required if c not in endpoint.fields]
            if missing:
                raise ValueError(f"{kind}.fields: missing {', '.join(missing)} (required)")
            for column in endpoint.values:
                if column not in endpoint.fields:
                    raise ValueError(f"{kind}.values.{column}: not a mapped field")
        return self

    @property
    def source_name(self) -> str:
        """Its key in erp_cursors, load_batches' labels and artifact keys: rest-<name>."""
        return f"rest-{self.name}"


class RestMappingError(ValueError):
    """A mapping file that cannot be used, named with the key at fault."""


def sources_dir() -> Path:
    return Path(os.environ.get(SOURCES_DIR_ENV) or DEFAULT_SOURCES_DIR)


def mapping_path(spec: str) -> Path:
    """`rest:<name>` -> <sources dir>/<name>.yaml; a path ending in .yaml/.yml is itself."""
    if spec.startswith("rest:"):
        name = spec.removeprefix("rest:")
        if not _NAME.match(name):
            raise RestMappingError(f"{spec!r}: a REST source is rest:<name>, name like acme-erp")
        return sources_dir() / f"{name}.yaml"
    return Path(spec)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def load_mapping(path: Path) -> RestSourceMapping:
    """The mapping in `path`, or a RestMappingError naming the file and the key at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RestMappingError(
            f"{path}: cannot read the REST source mapping ({exc.strerror})"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RestMappingError(f"{path}: not YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict):
        raise RestMappingError(f"{path}: a REST source mapping is a YAML mapping (key: value)")
    data.setdefault("name", path.stem)
    try:
        return RestSourceMapping.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False, include_context=False):
            where = _where(error["loc"])
            reason = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                reason = "missing"
            elif error["type"] == "extra_forbidden":
                reason = "not a key of the mapping (a typo?)"
            problems.append(f"{where}: {reason}" if where else reason)
        raise RestMappingError(f"{path}: " + "; ".join(problems)) from None

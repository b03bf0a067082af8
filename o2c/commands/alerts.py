"""`o2c alerts register`: the automations of automations.yaml created or updated on the server.

The YAML holds Prefect automations as the API takes them, except that a notification action
names its block (`block: o2c-alerts`) instead of a block document id; `declared` resolves it.
Automations are matched by name: an unchanged one is left alone, a changed one updated in place
(its id, and so its history in the UI, kept), a new one created. Nothing is deleted: an
automation removed from the file is reported, for a person to delete in the UI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from o2c.commands import alerts

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "automations.yaml"
_PREFIX = "o2c-"  # automations this command owns


class AlertsFileError(ValueError):
    """automations.yaml cannot be read as automations; the message names the file and entry."""


def read_declared(path: Path) -> list[dict[str, Any]]:
    """The `automations:` entries of the file, each with a name, a trigger and actions."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AlertsFileError(f"{path}: {exc}") from None
    entries = (data or {}).get("automations") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise AlertsFileError(f"{path}: no `automations:` list")
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not {"name", "trigger", "actions"} <= entry.keys():
            raise AlertsFileError(f"{path}: automation {n} needs name, trigger and actions")
        if not str(entry["name"]).startswith(_PREFIX):
            raise AlertsFileError(f"{path}: automation {entry['name']!r}: names start with o2c-")
    return entries


def declared(path: Path, block_ids: dict[str, Any]) -> list[Any]:
    """The file's automations as Prefect models, notification blocks resolved by name."""
    from prefect.events.schemas.automations import AutomationCore
    from pydantic import ValidationError

    out = []
    for entry in read_declared(path):
        actions = []
        for action in entry["actions"]:
            action = dict(action)
            block = action.pop("block", None)
            if block is not None:
                if block not in block_ids:
                    raise AlertsFileError(
                        f"{path}: automation {entry['name']!r} notifies through the block"
                        f" {block!r}, which the server does not have: set O2C_ALERT_WEBHOOK_URL"
                        " and run `o2c blocks register`"
                    )
                action["block_document_id"] = block_ids[block]
            actions.append(action)
        try:
            out.append(AutomationCore.model_validate({**entry, "actions": actions}))
        except ValidationError as exc:
            raise AlertsFileError(f"{path}: automation {entry['name']!r}: {exc}") from None
    return out


def _comparable(automation: Any) -> dict[str, Any]:
    """What the file decides, without the ids the server gives (trigger id, automation id)."""
    data = automation.model_dump(
        mode="json", include={"name", "description", "enabled", "tags", "trigger", "actions"}
    )
    data["trigger"].pop("id", None)
    data["trigger"] = sets_sorted(data["trigger"])
    return data


# Trigger fields Prefect holds as sets: dumped as lists in an order that may follow how each set
# was filled (string hashing decides, per process), so two reads of one automation can differ
# only by it.
_SET_FIELDS = ("expect", "after", "for_each")


def sets_sorted(trigger: dict[str, Any]) -> dict[str, Any]:
    """The trigger with its set fields sorted, nested triggers (compound, sequence) too."""
    out = {
        k: sorted(v) if k in _SET_FIELDS and isinstance(v, list) else v for k, v in trigger.items()
    }
    if isinstance(out.get("triggers"), list):
        out["triggers"] = [sets_sorted(t) if isinstance(t, dict) else t for t in out["triggers"]]
    return out


def register(path: Path = DEFAULT_FILE) -> list[str]:
    """Create or update each declared automation on the current Prefect API; lines saying what."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        names = {b for a in read_declared(path) for b in _block_names(a)}
        block_ids = {}
        for name in names:
            found = _block_id(client, name)
            if found is not None:
                block_ids[name] = found
        lines = []
        wanted = declared(path, block_ids)
        for automation in wanted:
            existing = client.read_automations_by_name(automation.name)
            if not existing:
                client.create_automation(automation)
                lines.append(f"created {automation.name}")
                continue
            current = existing[0]
            if _comparable(current) == _comparable(automation):
                lines.append(f"unchanged {automation.name}")
                continue
            client.update_automation(current.id, automation)
            lines.append(f"updated {automation.name}")
        known = {a.name for a in wanted}
        for other in client.read_automations():
            if other.name.startswith(_PREFIX) and other.name not in known:
                lines.append(f"left alone {other.name}: not in {path.name} (delete it in the UI)")
    return lines


def _block_names(entry: dict[str, Any]) -> list[str]:
    return [str(a["block"]) for a in entry["actions"] if isinstance(a, dict) and "block" in a]


def _block_id(client: Any, name: str) -> Any:
    """The id of the block document named `name` (a notification block), None if absent."""
    for document in client.read_block_documents(include_secrets=False):
        if document.name == name and not document.is_anonymous:
            return document.id
    return None


@alerts.command("register")
def register_command(
    file: Path = typer.Option(DEFAULT_FILE, "--file", help="The automations to declare."),
) -> None:
    """Create or update the alerts (Prefect automations) declared in automations.yaml."""
    from o2c.cli import _fail, _prefect_api, out

    try:
        with _prefect_api():
            lines = register(file)
    except Exception as exc:
        raise _fail(exc) from None
    for line in lines:
        out.print(line, highlight=False, markup=False)

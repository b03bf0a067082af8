"""The Odoo twin speaks Odoo's two wire protocols as the documentation describes them."""

from __future__ import annotations

import httpx
import pytest

from o2c.twins.odoo import Fault, OdooTwin


@pytest.fixture
def twin():
    with OdooTwin() as running:
        partner = running.add_partner("Dupont SARL")
        for i in range(4):
            running.add_invoice(partner, f"INV/{i}", "100.10")
        yield running


def rpc(twin: OdooTwin, service: str, method: str, *args) -> dict:
    body = {"jsonrpc": "2.0", "method": "call", "id": 7}
    body["params"] = {"service": service, "method": method, "args": list(args)}
    return httpx.post(f"{twin.url}/jsonrpc", json=body, timeout=5).json()


def execute_kw(twin: OdooTwin, key: str, model: str, method: str, args, kwargs) -> dict:
    return rpc(twin, "object", "execute_kw", twin.db, twin.uid, key, model, method, args, kwargs)


def test_authenticate_gives_the_uid_for_the_api_key_and_false_otherwise(twin):
    assert rpc(twin, "common", "authenticate", twin.db, twin.login, twin.api_key, {}) == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": twin.uid,
    }
    wrong = rpc(twin, "common", "authenticate", twin.db, twin.login, "not-the-key", {})
    assert wrong["result"] is False


def test_execute_kw_with_a_wrong_key_is_access_denied_in_the_error_member(twin):
    answer = execute_kw(twin, "not-the-key", "account.move", "search_read", [[]], {})
    assert "result" not in answer
    assert answer["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


def test_search_read_takes_a_prefix_domain_order_and_limit(twin):
    second = twin.records["account.move"][twin.move_id("INV/1")]["write_date"]
    domain = ["|", ("name", "=", "INV/0"), "&", ("write_date", ">=", second), ("id", ">", 0)]
    answer = execute_kw(
        twin,
        twin.api_key,
        "account.move",
        "search_read",
        [domain],
        {"fields": ["name", "partner_id", "amount_total"], "order": "id desc", "limit": 2},
    )
    rows = answer["result"]
    assert [r["name"] for r in rows] == ["INV/3", "INV/2"]
    assert rows[0]["partner_id"][1] == "Dupont SARL"  # a many2one is [id, name]
    assert rows[0]["amount_total"] == 100.1  # amounts are JSON numbers, as Odoo sends them


def test_json2_wants_the_bearer_key_and_answers_the_result_itself(twin):
    url = f"{twin.url}/json/2/account.move/search_read"
    body = {"domain": [("name", "=", "INV/2")], "fields": ["name", "state"]}
    refused = httpx.post(url, json=body, headers={"Authorization": "bearer nope"}, timeout=5)
    assert refused.status_code == 401
    assert refused.json()["name"] == "odoo.exceptions.AccessDenied"
    headers = {"Authorization": f"bearer {twin.api_key}", "X-Odoo-Database": twin.db}
    answer = httpx.post(url, json=body, headers=headers, timeout=5)
    assert answer.status_code == 200
    assert answer.json() == [{"id": twin.move_id("INV/2"), "name": "INV/2", "state": "posted"}]


def test_write_date_moves_on_every_change(twin):
    move = twin.move_id("INV/0")
    before = twin.records["account.move"][move]["write_date"]
    twin.cancel(move)
    after = twin.records["account.move"][move]["write_date"]
    assert after > before and twin.records["account.move"][move]["state"] == "cancel"


def test_faults_come_on_demand_one_per_call(twin):
    twin.inject(Fault("status", status=429, retry_after="1"), Fault("drop"))
    first = httpx.post(f"{twin.url}/json/2/account.move/read", json={"ids": [1]}, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{twin.url}/json/2/account.move/read", json={"ids": [1]}, timeout=5)
    ok = execute_kw(twin, twin.api_key, "account.move", "read", [[1]], {"fields": ["name"]})
    assert "error" in ok  # id 1 is a currency, not an invoice: Odoo's MissingError
    assert ok["error"]["data"]["name"] == "odoo.exceptions.MissingError"

"""Payment links in the dunning flow, against the local twin of Bridge's payment-link API: one
link per email with an amount due, written `requested` before Bridge is called, the url in the
letter; a link Bridge refuses leaves its row `requested` and its letter says pay by transfer;
a second run asks Bridge for nothing."""

from __future__ import annotations

import email

import pytest

from o2c.flows.dunning import dunning
from o2c.twins.bridge_payment_links import LINKS_PATH, BridgePaymentLinksTwin, Fault
from o2c.warehouse import connect
from tests.tasks.dunning.run_fixtures import AS_OF, eml_files, make_warehouse, write_policy

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture
def twin(monkeypatch):
    for name in ("O2C_SMTP_HOST", "O2C_SMTP_MAIL_DIR", "O2C_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("O2C_WAREHOUSE_SLOT", "off")  # a throwaway API: no `o2c init` limit
    with BridgePaymentLinksTwin() as twin:
        monkeypatch.setenv("O2C_PAYLINK_BASE_URL", twin.url)
        monkeypatch.setenv("O2C_PAYLINK_CLIENT_ID", twin.client_id)
        monkeypatch.setenv("O2C_PAYLINK_CLIENT_SECRET", twin.client_secret)
        monkeypatch.setenv("O2C_PAYLINK_MAX_RETRIES", "0")
        yield twin


def _texts(db) -> dict[str, str]:
    found = {}
    for path in eml_files(db):
        message = email.message_from_bytes(path.read_bytes())
        part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
        found[message["To"]] = part.get_payload(decode=True).decode("utf-8")
    return found


def test_each_letter_carries_its_link_and_a_refused_link_leaves_a_transfer(tmp_path, twin):
    db = make_warehouse(tmp_path)
    policy = write_policy(tmp_path)
    twin.inject(Fault(400, path=LINKS_PATH))  # Bridge refuses the first link asked for
    dunning(db=str(db), as_of=AS_OF, policy_file=str(policy))

    posts = [r for r in twin.requests if r == ("POST", LINKS_PATH)]
    assert len(posts) == 3
    with connect(db, read_only=True) as con:
        links = con.execute(
            "SELECT l.customer_id, l.status, l.url, l.amount, o.due_cents"
            " FROM payment_links l JOIN dunning_outbox o ON o.key = l.communication_key"
            " ORDER BY l.customer_id"
        ).fetchall()
    assert len(links) == 3
    refused = [row for row in links if row[1] == "requested"]
    assert len(refused) == 1 and refused[0][2] is None  # written before Bridge was called
    texts = _texts(db)
    assert len(texts) == 3
    for customer, status, url, amount, due_cents in links:
        assert amount * 100 == due_cents
        text = next(t for t in texts.values() if customer_name(customer) in t)
        if status == "valid":
            assert url.startswith(f"{twin.url}/link/") and url in text
        else:
            assert f"{twin.url}/link/" not in text and "IBAN" in text

    dunning(db=str(db), as_of=AS_OF, policy_file=str(policy))
    assert len([r for r in twin.requests if r == ("POST", LINKS_PATH)]) == 3  # nothing asked


def customer_name(customer_id: str) -> str:
    return {"C1": "Dupont SARL", "C2": "Martin SAS", "C3": "Acme Ltd"}[customer_id]

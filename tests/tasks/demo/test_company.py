"""The demo company: reproducible, valid identifiers, and a ground truth that adds up."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import polars as pl
import pytest
from schwifty import IBAN
from stdnum import iso11649
from stdnum.fr import siren as fr_siren
from stdnum.fr import tva as fr_tva

from o2c.models.schemas import BANK_TRANSACTION
from o2c.tasks.demo.company import (
    CASE_KINDS,
    CUSTOMER_EXPORT_COLUMNS,
    INVOICE_EXPORT_COLUMNS,
    build_statements,
    generate_company,
    write_bank_statements,
    write_customers_csv,
    write_ground_truth,
    write_invoices_csv,
)
from tests import locations

AS_OF = date(2026, 11, 20)
XSD = locations.XSD / "camt.053.001.08.xsd"


@pytest.fixture(scope="module")
def company():
    return generate_company(invoices=2_000, seed=42, as_of=AS_OF)


@pytest.fixture(scope="module")
def paid(company):
    """Ground truth joined to its transactions and invoices."""
    return company.ground_truth.join(
        company.bank_transactions, on="bank_reference", how="left", suffix="_tx"
    ).join(company.invoices, on="invoice_id", how="left", suffix="_inv")


def _frames(c):
    return (c.customers, c.invoices, c.accounts, c.bank_transactions, c.ground_truth)


def test_same_seed_same_company_other_seed_other_company(company):
    again = generate_company(invoices=2_000, seed=42, as_of=AS_OF)
    for a, b in zip(_frames(company), _frames(again), strict=True):
        assert a.equals(b)
    other = generate_company(invoices=2_000, seed=7, as_of=AS_OF)
    assert not other.invoices.equals(company.invoices)
    assert not other.customers.equals(company.customers)
    assert not other.bank_transactions.equals(company.bank_transactions)


def test_identifiers_are_valid(company):
    cust = company.customers
    french = cust.filter(pl.col.country == "FR")
    assert french.height > 0
    for siren, vat in french.select("siren", "vat_number").iter_rows():
        assert fr_siren.is_valid(siren), siren
        assert fr_tva.is_valid(vat) and vat[4:] == siren, vat
    ibans = [
        *cust["iban"],
        *cust["parent_iban"],
        *company.accounts["account_iban"],
        *company.bank_transactions["counterparty_iban"].drop_nulls(),
    ]
    for iban in set(ibans):
        IBAN(iban, validate_bban=True)  # raises on a bad ISO 13616 or national check digit
    assert cust["iban"].n_unique() == cust.height
    references = company.invoices["reference"].drop_nulls()
    assert references.len() > 100
    assert all(iso11649.is_valid(r) for r in references)
    assert references.n_unique() == references.len()
    structured = company.bank_transactions["remittance_structured"].drop_nulls()
    assert structured.len() > 0 and all(iso11649.is_valid(r) for r in structured)


def test_customer_master_is_realistic(company):
    cust = company.customers
    assert cust["name"].n_unique() == cust.height
    assert set(cust["language"]) == {"fr", "en"}
    assert set(cust["payment_terms"]) == {"net30", "eom45", "net60"}
    assert set(cust["legal_entity"]) == {"FR01", "FR02"}
    assert cust["email"].str.contains(r"^[a-z]+@[a-z0-9-]+\.[a-z.]+$").all()
    forms = r"\b(SARL|SAS|SA|SASU|EURL|GmbH|AG|Ltd|Limited|PLC|LLP|B\.V\.|N\.V\.|SRL|BV|S\.A\.)\b"
    assert cust["name"].str.contains(forms).mean() > 0.8


def test_invoices_dates_amounts_and_ids(company):
    inv = company.invoices
    assert inv.height == 2_000
    assert inv["invoice_id"].n_unique() == inv.height
    assert (inv["due_date"] >= inv["issue_date"]).all()
    assert inv["issue_date"].min() >= AS_OF - timedelta(days=368)
    assert inv["issue_date"].max() < AS_OF
    is_credit = inv["document_type"] == "credit_note"
    assert 0.03 < is_credit.mean() < 0.07
    assert (inv.filter(is_credit)["amount_total_cents"] < 0).all()
    assert (inv.filter(~is_credit)["amount_total_cents"] > 0).all()
    assert inv.filter(~is_credit)["invoice_id"].str.contains(r"^FA20\d\d-\d{6}$").all()
    assert inv.filter(is_credit)["reference"].is_null().all()
    assert set(inv["currency"]) == {"EUR", "GBP", "USD", "CHF"}
    assert (inv["currency"] == "EUR").mean() > 0.8
    # Payment terms, computed here by hand from the customer master.
    terms = dict(company.customers.select("customer_id", "payment_terms").iter_rows())
    for issue, due, customer, kind in inv.select(
        "issue_date", "due_date", "customer_id", "document_type"
    ).iter_rows():
        if kind == "credit_note":
            continue
        if terms[customer] == "net30":
            assert due == issue + timedelta(days=30)
        elif terms[customer] == "net60":
            assert due == issue + timedelta(days=60)
        else:
            d = issue + timedelta(days=45)
            next_month = date(d.year + d.month // 12, d.month % 12 + 1, 1)
            assert due == next_month - timedelta(days=1)


def test_bank_transactions_follow_the_schema(company):
    tx = company.bank_transactions
    assert dict(tx.schema) == BANK_TRANSACTION
    assert tx["bank_reference"].n_unique() == tx.height
    assert tx["bank_reference"].str.contains(r"^DEMO-\d{8}$").all()
    assert tx["end_to_end_id"].null_count() == 0
    assert tx["booking_date"].max() <= AS_OF
    assert (tx["booking_date"].dt.weekday() <= 5).all()
    assert set(tx["account_iban"]) <= set(company.accounts["account_iban"])


def test_every_case_kind_is_present(company):
    assert set(company.ground_truth["case_kind"]) == set(CASE_KINDS)


def test_ground_truth_explains_every_transaction(company):
    gt, tx = company.ground_truth, company.bank_transactions
    assert set(gt["bank_reference"]) == set(tx["bank_reference"])
    sums = gt.group_by("bank_reference").agg(pl.col.amount_cents.sum())
    joined = tx.join(sums, on="bank_reference", suffix="_gt")
    assert (joined["amount_cents"] == joined["amount_cents_gt"]).all()
    assert (gt.filter(pl.col.case_kind == "noise")["invoice_id"].is_null()).all()
    assert gt.filter(pl.col.case_kind != "noise")["invoice_id"].null_count() == 0
    assert gt.select("bank_reference", "invoice_id").is_unique().all()


def test_allocations_never_exceed_the_invoice_except_overpaid(paid):
    per_invoice = defaultdict(int)
    totals, kinds = {}, defaultdict(set)
    for inv_id, amount, total, kind in (
        paid.filter(pl.col.invoice_id.is_not_null())
        .select("invoice_id", "amount_cents", "amount_total_cents", "case_kind")
        .iter_rows()
    ):
        per_invoice[inv_id] += amount
        totals[inv_id] = total
        kinds[inv_id].add(kind)
    overpaid = 0
    for inv_id, allocated in per_invoice.items():
        if "overpaid" in kinds[inv_id]:
            assert allocated > totals[inv_id]
            overpaid += 1
        elif totals[inv_id] > 0:
            assert 0 <= allocated <= totals[inv_id], inv_id
        else:  # a credit note netted in a grouped transfer
            assert totals[inv_id] <= allocated <= 0, inv_id
    assert overpaid > 0


def test_case_kinds_look_like_what_they_claim(company, paid):
    cust = company.customers.select("customer_id", "iban", "parent_iban", "name")
    p = paid.join(cust, on="customer_id", how="left")
    kind = pl.col.case_kind

    rf = p.filter(kind == "rf_reference")
    assert (rf["remittance_structured"] == rf["reference"]).all()
    third = p.filter(kind == "third_party")
    assert (third["counterparty_iban"] == third["parent_iban"]).all()
    assert (third["counterparty_iban"] != third["iban"]).all()
    bare = p.filter(kind == "iban_amount_only")
    assert (bare["counterparty_iban"] == bare["iban"]).all()
    assert (bare["amount_cents"] == bare["amount_total_cents"]).all()
    texts = bare["remittance_unstructured"].fill_null("")
    assert not any(i in t for i, t in zip(bare["invoice_id"], texts, strict=True))
    fee = p.filter(kind == "short_fee")
    gap = fee["amount_total_cents"] - fee["amount_cents"]
    assert ((gap > 0) & (gap <= 2_500)).all()
    messy = p.filter(kind == "messy_reference")
    texts = messy["remittance_unstructured"].fill_null("")
    exact = [i in t for i, t in zip(messy["invoice_id"], texts, strict=True)]
    assert 0 < sum(exact) < len(exact)  # some carry the id inside noise, most mangle it
    assert messy["remittance_unstructured"].str.contains(r"^Rglt fact \d+$").any()
    assert messy["remittance_unstructured"].str.contains(r"^fa 20\d{8}$").any()
    # A slipped or cut number that is another existing document's is labelled apart: a person's.
    slipped = p.filter(kind == "messy_other_document")
    cited = slipped["remittance_unstructured"].str.extract(r"(FA\d{4}-\d+)$")
    width = company.invoices["invoice_id"].str.len_chars().max() - 7
    ids = set(company.invoices["invoice_id"])
    assert slipped.height > 0
    for own, number in zip(slipped["invoice_id"], cited, strict=True):
        prefix, digits = number.split("-")
        other = f"{prefix}-{int(digits):0{width}d}"
        assert other in ids and other != own
    # Partial payments: two transfers; when both are booked they settle the invoice exactly.
    part = (
        p.filter(kind == "partial")
        .group_by("invoice_id")
        .agg(n=pl.len(), total=pl.col.amount_total_cents.first(), sum=pl.col.amount_cents.sum())
    )
    both = part.filter(pl.col.n == 2)
    assert both.height > 0 and (both["total"] == both["sum"]).all()
    # Grouped: several invoices of one customer in one transfer.
    grouped = (
        p.filter(kind == "grouped")
        .group_by("bank_reference")
        .agg(n=pl.len(), customers=pl.col.customer_id.n_unique())
    )
    assert (grouped["customers"] == 1).all() and (grouped["n"] >= 2).any()
    # Reversal: a debit flagged as such, cancelling an earlier payment of the same invoice.
    rev = p.filter(kind == "reversal")
    assert rev["is_reversal"].all() and (rev["amount_cents"] < 0).all()
    for inv_id, amount, when in rev.select(
        "invoice_id", "amount_cents", "booking_date"
    ).iter_rows():
        earlier = p.filter(
            (pl.col.invoice_id == inv_id) & (kind != "reversal") & (pl.col.booking_date <= when)
        )
        assert -amount in earlier["amount_cents"].to_list()


def test_some_invoices_are_never_paid_and_some_not_yet_due(company):
    settled = set(company.ground_truth["invoice_id"].drop_nulls())
    unpaid = company.invoices.filter(
        (pl.col.document_type == "invoice") & ~pl.col.invoice_id.is_in(list(settled))
    )
    assert (unpaid["due_date"] < AS_OF).sum() > 20  # overdue, never paid
    assert (unpaid["due_date"] >= AS_OF).sum() > 20  # not yet due


def test_statements_chain_and_balance(company):
    statements = build_statements(company)
    months = 13  # Nov 2025 .. Nov 2026
    assert len(statements) == company.accounts.height * months
    by_account = defaultdict(list)
    for st in statements:
        by_account[st.account_iban].append(st)
        assert st.opening_balance + sum(x.amount for x in st.lines) == st.closing_balance
        assert all(st.from_date <= x.booking_date <= st.to_date for x in st.lines)
    moved = dict(
        company.bank_transactions.group_by("account_iban")
        .agg(pl.col.amount_cents.sum())
        .iter_rows()
    )
    for acc, opening in company.accounts.select(
        "account_iban", "opening_balance_cents"
    ).iter_rows():
        chain = by_account[acc]
        for before, after in pairwise(chain):
            assert after.opening_balance == before.closing_balance
        expected = Decimal(opening + moved.get(acc, 0)) / 100
        assert chain[-1].closing_balance == expected
        assert chain[0].opening_balance == Decimal(opening) / 100


def test_camt_files_balance_and_validate(company, tmp_path):
    pytest.importorskip("o2c.tasks.demo.camt_writer")
    from lxml import etree

    paths = write_bank_statements(company, tmp_path / "bank")
    assert len(paths) == company.accounts.height * 13
    schema = etree.XMLSchema(etree.parse(str(XSD))) if XSD.exists() else None
    ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
    entries = 0
    for path in paths:
        doc = etree.parse(str(path))
        if schema is not None:
            assert schema.validate(doc), (path.name, schema.error_log)

        def signed(node):
            amount = Decimal(node.findtext("c:Amt", namespaces=ns))
            return amount if node.findtext("c:CdtDbtInd", namespaces=ns) == "CRDT" else -amount

        bal = {
            b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns): signed(b)
            for b in doc.iterfind(".//c:Bal", ns)
        }
        ntry = [signed(e) for e in doc.iterfind(".//c:Ntry", ns)]
        entries += len(ntry)
        assert bal["OPBD"] + sum(ntry) == bal["CLBD"], path.name
    assert entries == company.bank_transactions.height


def test_csv_and_parquet_writers(company, tmp_path):
    inv_path = write_invoices_csv(company, tmp_path / "invoices.csv")
    with inv_path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == INVOICE_EXPORT_COLUMNS
    assert len(rows) == company.invoices.height
    cents = dict(company.invoices.select("invoice_id", "amount_total_cents").iter_rows())
    for row in rows:
        assert re.fullmatch(r"-?\d+\.\d{2}", row["amount_total"]), row["amount_total"]
        assert Decimal(row["amount_total"]) * 100 == cents[row["invoice_id"]]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["issue_date"])
    cust_path = write_customers_csv(company, tmp_path / "customers.csv")
    with cust_path.open(encoding="utf-8", newline="") as f:
        customers = list(csv.DictReader(f))
    assert len(customers) == company.customers.height
    assert {"customer_id", "name", "iban", "siren", "vat_number"} <= set(customers[0])
    gt_path = write_ground_truth(company, tmp_path / "truth.parquet")
    assert pl.read_parquet(gt_path).equals(company.ground_truth)


def test_rejects_a_non_positive_size():
    with pytest.raises(ValueError, match="invoices"):
        generate_company(invoices=0, as_of=AS_OF)


def test_demo_exports_speak_the_ingestion_contract():
    """The demo's ERP export must stay loadable: every required column, no unknown one."""
    from o2c.tasks.erp.normalise import (
        CUSTOMER_OPTIONAL,
        CUSTOMER_REQUIRED,
        INVOICE_OPTIONAL,
        INVOICE_REQUIRED,
    )

    assert set(INVOICE_REQUIRED) <= set(INVOICE_EXPORT_COLUMNS)
    assert set(INVOICE_EXPORT_COLUMNS) <= set(INVOICE_REQUIRED) | set(INVOICE_OPTIONAL)
    assert set(CUSTOMER_REQUIRED) <= set(CUSTOMER_EXPORT_COLUMNS)
    assert set(CUSTOMER_EXPORT_COLUMNS) <= set(CUSTOMER_REQUIRED) | set(CUSTOMER_OPTIONAL)

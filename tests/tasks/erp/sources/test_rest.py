"""A REST ERP described by a YAML mapping, pulled through the REST twin: first and incremental
pulls in each pagination style, a cancellation upstream, a crash between pages, each kind of
auth, faults retried or not, and a mapping mistake named with its file and key."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from o2c.models.erp_rest import RestMappingError, load_mapping
from o2c.tasks.connectors.http import ConnectorError
from o2c.tasks.erp import sources
from o2c.tasks.erp.sources.rest import RestSecretMissing, RestSource
from o2c.twins.rest_erp import Fault, RestErpTwin
from o2c.warehouse import connect
from tests.tasks.erp.sources.rest_mapping import (
    IBAN,
    customer,
    mapping,
    mapping_data,
    write_mapping,
)

STYLES = ["cursor", "page", "offset", "link"]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "o2c.duckdb")


@pytest.fixture
def writer(db: str):
    return lambda: connect(db)


def _source(twin: RestErpTwin, folder: Path, secret: str | None = None, **options) -> RestSource:
    return RestSource(
        mapping(twin, folder, **options),
        secret=twin.secret if secret is None else secret,
        sleep=lambda s: None,
    )


def _invoices(db: str) -> dict[str, tuple]:
    with connect(db) as con:
        rows = con.execute(
            "SELECT invoice_id, customer_id, issue_date::VARCHAR, due_date::VARCHAR, currency,"
            " amount_total, amount_paid_erp, status_erp FROM invoices ORDER BY invoice_id"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("style", STYLES)
def test_first_then_incremental_pull_in_each_pagination_style(style, tmp_path, writer, db):
    with RestErpTwin(pagination=style) as twin:
        cid = customer(twin, invoices=7)
        src = _source(twin, tmp_path)
        first = sources.pull_into(src, writer)
        assert (first.counts["invoices"].new, first.counts["customers"].new) == (7, 1)
        assert first.counts["invoices"].pages == 3  # 3 + 3 + 1 rows a page
        rows = _invoices(db)
        assert rows["F-0000"] == (
            str(cid), "2026-01-05", "2026-02-04", "EUR",
            Decimal("1200.50"), Decimal("0.00"), "not_paid",
        )  # fmt: skip
        with connect(db) as con:
            assert con.execute(
                "SELECT name, email, iban, vat_number, language, city, country FROM customers"
            ).fetchall() == [
                ("Dupont SARL", "compta@dupont.fr", IBAN, "FR44732829320", "fr", "Paris", "FR")
            ]
        assert sources.pull_into(src, writer).counts["invoices"].pulled == 0
        twin.pay("F-0003", "200.25")
        twin.add_invoice(cid, "F-0777", "10")
        later = sources.pull_into(src, writer).counts["invoices"]
        assert (later.pulled, later.new, later.changed) == (2, 1, 1)
        assert _invoices(db)["F-0003"][5:] == (Decimal("200.25"), "partial")
        # the second pull asked for rows changed since the cursor, not for everything
        since = [q.get("updated_since") for p, q in twin.requests if p.endswith("/invoices")]
        assert since[0] is None and since[-1] is not None


def test_an_invoice_voided_upstream_is_kept_as_cancelled_and_leaves_open_items(
    tmp_path, writer, db
):
    with RestErpTwin() as twin:
        customer(twin, invoices=3)
        src = _source(twin, tmp_path)
        sources.pull_into(src, writer)
        twin.void("F-0001")
        summary = sources.pull_into(src, writer)
    assert summary.counts["invoices"].cancelled == 1
    assert _invoices(db)["F-0001"][-1] == "cancelled"
    with connect(db) as con:
        open_ids = {r[0] for r in con.execute("SELECT invoice_id FROM open_items").fetchall()}
    assert open_ids == {"F-0000", "F-0002"}


@pytest.mark.parametrize("style", ["cursor", "offset"])
def test_a_crash_between_pages_resumes_without_duplicates(style, tmp_path, writer, db):
    with RestErpTwin(pagination=style) as twin:
        customer(twin, invoices=8)
        crashing = _source(twin, tmp_path)

        def cut_after_the_first_invoice_page():
            """The pull as it runs, its next request failing past every retry once the first
            invoice page is yielded (the source reads one page ahead: page 3 fails, page 1 is
            loaded, page 2 was read and is lost with the crash)."""
            pages = 0
            for page in crashing.pull({}):
                yield page
                pages += page.kind == "invoices"
                if pages == 1:
                    twin.inject(*[Fault(status=503)] * 3)

        with pytest.raises(ConnectorError) as failure:
            sources.load_pages(crashing.name, cut_after_the_first_invoice_page(), writer)
        assert failure.value.retryable
        loaded = len(_invoices(db))
        assert 0 < loaded < 8
        resumed = sources.pull_into(_source(twin, tmp_path), writer).counts["invoices"]
    assert len(_invoices(db)) == 8
    assert resumed.new == 8 - loaded and resumed.changed == 0
    # a page followed by another keeps (its last instant, 0): at most that instant's row again
    assert resumed.unchanged <= 1
    with connect(db) as con:
        rows_in = con.execute(
            "SELECT sum(rows_in) FROM load_batches WHERE source = 'invoices'"
        ).fetchall()[0][0]
    assert rows_in == 8 + resumed.unchanged


@pytest.mark.parametrize("auth", ["bearer", "basic", "api_key"])
def test_each_kind_of_auth_and_a_wrong_secret_refused_at_once(auth, tmp_path, writer, caplog):
    with RestErpTwin(auth=auth) as twin:
        customer(twin, invoices=1)
        assert sources.pull_into(_source(twin, tmp_path), writer).counts["invoices"].new == 1
        wrong = "not-the-token-9876543210"
        before = len(twin.requests)
        with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as refused:
            sources.pull_into(_source(twin, tmp_path, secret=wrong), writer)
        assert refused.value.status == 401 and not refused.value.retryable
        assert len(twin.requests) == before + 1  # a 4xx is not retried
        assert wrong not in str(refused.value) and wrong not in caplog.text
        assert twin.secret not in caplog.text


def test_a_500_once_and_a_429_with_retry_after_are_retried(tmp_path, writer):
    waits: list[float] = []
    with RestErpTwin() as twin:
        customer(twin, invoices=2)
        twin.inject(Fault(status=500), Fault(status=429, retry_after="7"))
        src = RestSource(mapping(twin, tmp_path), secret=twin.secret, sleep=waits.append)
        summary = sources.pull_into(src, writer)
    assert summary.counts["invoices"].new == 2
    assert 7 in waits  # Retry-After honoured


def test_a_slow_answer_times_out_and_is_retried(tmp_path, writer):
    with RestErpTwin() as twin:
        customer(twin, invoices=1)
        twin.inject(Fault(kind="slow", seconds=3))  # the mapping's timeout is 2 s
        summary = sources.pull_into(_source(twin, tmp_path), writer)
    assert summary.counts["invoices"].new == 1


def test_open_source_by_name_reads_erp_sources_and_the_secret_from_the_environment(
    tmp_path, monkeypatch, writer
):
    with RestErpTwin() as twin:
        customer(twin, invoices=2)
        write_mapping(tmp_path, mapping_data(twin), name="acme")
        monkeypatch.setenv("O2C_ERP_SOURCES_DIR", str(tmp_path))
        monkeypatch.setenv("O2C_TEST_REST_TOKEN", twin.secret)
        with sources.open_source("rest:acme") as erp:
            assert erp.name == "rest-acme"
            summary = sources.pull_into(erp, writer)
        assert summary.counts["invoices"].new == 2
        with sources.open_source(str(tmp_path / "acme.yaml")) as erp:
            assert erp.name == "rest-acme"
        monkeypatch.delenv("O2C_TEST_REST_TOKEN")
        with pytest.raises(RestSecretMissing, match="O2C_TEST_REST_TOKEN"):
            sources.pull_into(RestSource(load_mapping(tmp_path / "acme.yaml")), writer)


def test_a_pull_needs_no_webhook_secret(tmp_path, writer, monkeypatch):
    monkeypatch.delenv("O2C_TEST_WEBHOOK_SECRET", raising=False)
    with RestErpTwin() as twin:
        customer(twin, invoices=1)
        src = _source(twin, tmp_path, push_url="http://127.0.0.1:9/hooks")
        assert sources.pull_into(src, writer).counts["invoices"].new == 1
        with pytest.raises(RestSecretMissing, match="O2C_TEST_WEBHOOK_SECRET"):
            src.push([])


def test_rows_not_sorted_by_the_cursor_are_refused_before_anything_is_loaded(tmp_path, writer, db):
    with RestErpTwin() as twin:
        customer(twin, invoices=3)
        twin.unsorted = True
        with pytest.raises(ConnectorError, match=r"not sorted by \(updated_at, id\)"):
            sources.pull_into(_source(twin, tmp_path, page_size=10), writer)
    assert _invoices(db) == {}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda d: d["invoices"]["fields"].update(amount_totl="total"),
            "invoices.fields.amount_totl: not a column of the invoices export",
        ),
        (
            lambda d: d["invoices"]["fields"].pop("currency"),
            "invoices.fields: missing currency",
        ),
        (lambda d: d["auth"].update(kind="basic"), "auth: Value error, basic auth needs"),
        (lambda d: d["pagination"].update(style="pages"), "pagination.style: Input should be"),
        (lambda d: d.update(base_url="ftp://erp"), "base_url: must be an http(s) URL"),
        (lambda d: d["invoices"].update(pth="/x"), "invoices.pth: not a key of the mapping"),
        (lambda d: d["auth"].pop("secret_env"), "auth: Value error, name secret_block"),
    ],
)
def test_a_mapping_mistake_names_the_file_and_the_key(tmp_path, change, says):
    with RestErpTwin() as twin:
        data = mapping_data(twin)
    change(data)
    path = write_mapping(tmp_path, data)
    with pytest.raises(RestMappingError) as error:
        load_mapping(path)
    assert str(error.value).startswith(f"{path}: ")
    assert says.replace("Value error, ", "") in str(error.value)


def test_the_example_mapping_checked_in_is_valid():
    example = Path(__file__).resolve().parents[4] / "erp_sources" / "example.yaml"
    parsed = load_mapping(example)
    assert parsed.source_name == "rest-example" and parsed.push is not None

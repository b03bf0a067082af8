"""Open Banking pull against a real HTTP server on loopback speaking the Bridge v3 contract."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from o2c.models.settings_bridge import BridgeSettings
from o2c.tasks.bank.open_banking import (
    TRANSACTIONS_PATH,
    BridgeClient,
    BridgeError,
    SyncResult,
    fetch_transactions,
    read_cursor,
    read_cursors,
    save_cursor,
    stage,
    to_statements,
    write,
)
from o2c.tasks.bank.statements.errors import StatementError
from o2c.warehouse import connect, scalar
from tests.fakes.bridge_server import BridgeFake, Fault

IBAN_A = "FR7630006000011234567890189"
IBAN_B = "DE89370400440532013000"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def settings_for(fake: BridgeFake, **overrides) -> BridgeSettings:
    values = {
        "base_url": fake.url,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "user_uuid": fake.user_uuid,
        "timeout_s": 2.0,
        "max_retries": 3,
        "requests_per_second": 0,
        "backoff_base_s": 0.001,
        "backoff_max_s": 0.05,
        "backoff_jitter": 0,
        "page_limit": 2,
    }
    values.update(overrides)
    return BridgeSettings(**values)


class Sleeps:
    """Records the waits the client asks for, without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def seed(fake: BridgeFake) -> None:
    fake.add_account(1001, IBAN_A)
    fake.add_account(1002, IBAN_B)
    fake.add_transaction(
        1001,
        "1200.00",
        "2026-11-02",
        updated_at="2026-11-02T08:00:00Z",
        label="VIR SEPA ACME SARL FA-2026-0042",
    )
    fake.add_transaction(1001, "0.10", "2026-11-03", updated_at="2026-11-03T08:00:00Z")
    fake.add_transaction(1001, "0.20", "2026-11-03", updated_at="2026-11-03T09:00:00Z")
    fake.add_transaction(
        1001,
        "-45.67",
        "2026-11-04",
        updated_at="2026-11-04T08:00:00Z",
        operation_type="direct_debit",
    )
    fake.add_transaction(1001, "999999.99", "2026-11-05", updated_at="2026-11-05T08:00:00Z")
    fake.add_transaction(1002, "-10.01", "2026-11-05", updated_at="2026-11-05T10:00:00Z")


def sync(con, settings: BridgeSettings, *, now: datetime) -> SyncResult:
    """The flow's three steps on one connection: fetch (network), stage (pure), write."""
    with BridgeClient(settings) as client:
        fetched = fetch_transactions(
            client,
            since=now - timedelta(days=settings.initial_history_days),
            cursor_state=read_cursors(con, "bridge"),
        )
    staged = stage(fetched, user=settings.user_uuid or settings.external_user_id or "")
    return write(con, staged, now=now)


def fetch(fake: BridgeFake, cursors=None, **overrides):
    with BridgeClient(settings_for(fake, **overrides)) as client:
        return fetch_transactions(client, since=None, cursor_state=cursors or {})


# ---------------------------------------------------------------------------------------------
# Contract, pagination, amounts
# ---------------------------------------------------------------------------------------------


def test_pagination_follows_next_uri_until_the_last_page(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    result = fetch(bridge_server, page_limit=2)

    by_iban = result.lines_by_iban
    assert sorted(by_iban) == sorted([IBAN_A, IBAN_B])
    assert len(by_iban[IBAN_A]) == 5
    assert len(by_iban[IBAN_B]) == 1
    # Account 1001 holds 5 transactions: pages of 2, 2 and 1; account 1002 one page.
    pages = bridge_server.calls(TRANSACTIONS_PATH)
    assert [c.query.get("account_id") for c in pages] == ["1001", "1001", "1001", "1002"]
    assert all("after" in c.query for c in pages[1:3])


def test_amounts_are_exact_decimals_with_sign_and_dates(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    lines = fetch(bridge_server).lines_by_iban[IBAN_A]

    amounts = [line.amount for line in lines]
    assert all(type(a) is Decimal for a in amounts)
    # 1200.00 + 0.10 + 0.20 - 45.67 + 999999.99, added by hand: 1001154.62
    assert sum(amounts) == Decimal("1001154.62")
    # The two small ones: a float parse would give 0.30000000000000004.
    assert sum(a for a in amounts if 0 < a < 1) == Decimal("0.30")
    debit = next(line for line in lines if line.amount < 0)
    assert debit.bank_tx_code == "direct_debit"
    assert debit.booking_date == date(2026, 11, 4)
    first = next(line for line in lines if line.amount == Decimal("1200.00"))
    assert first.remittance_unstructured == "VIR SEPA ACME SARL FA-2026-0042"
    assert first.external_id == first.entry_ref and first.external_id.isdigit()


def test_every_call_carries_the_contract_headers(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    fetch(bridge_server)

    token_calls = bridge_server.calls("/v3/aggregation/authorization/token")
    assert len(token_calls) == 1  # the user token is reused across pages and accounts
    for call in bridge_server.requests:
        assert call.headers["bridge-version"] == "2025-01-15"
        assert call.headers["client-id"] == bridge_server.client_id
        assert call.status == 200
    for call in bridge_server.calls(TRANSACTIONS_PATH):
        assert call.headers["authorization"].removeprefix("Bearer ") in bridge_server.tokens


def test_to_statements_one_per_account_and_currency_without_balances(
    bridge_server: BridgeFake,
) -> None:
    seed(bridge_server)
    bridge_server.add_transaction(
        1002, "50.00", "2026-11-06", updated_at="2026-11-06T08:00:00Z", currency="USD"
    )
    statements = to_statements(fetch(bridge_server))

    keyed = {(s.account_iban, s.currency): s for s in statements}
    assert sorted(keyed) == [(IBAN_B, "EUR"), (IBAN_B, "USD"), (IBAN_A, "EUR")]
    a = keyed[(IBAN_A, "EUR")]
    assert a.format == "open_banking"
    assert a.opening_balance is None and a.closing_balance is None
    assert a.entry_count == 5 and a.entries_total == Decimal("1001154.62")
    assert (a.from_date, a.to_date) == (date(2026, 11, 2), date(2026, 11, 5))
    assert keyed[(IBAN_B, "USD")].entries_total == Decimal("50.00")


def test_account_without_iban_is_keyed_by_its_bridge_id(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(2001, None)
    bridge_server.add_transaction(2001, "-9.99", "2026-11-02", updated_at="2026-11-02T08:00:00Z")
    assert list(fetch(bridge_server).lines_by_iban) == ["bridge:2001"]


def test_future_transactions_are_counted_not_stored(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.add_transaction(
        1001, "-80.00", "2026-11-30", updated_at="2026-11-10T08:00:00Z", future=True
    )
    result = fetch(bridge_server)
    assert result.transaction_count == 0
    assert result.accounts[0].future_skipped == 1


# ---------------------------------------------------------------------------------------------
# Cursor
# ---------------------------------------------------------------------------------------------


def test_cursor_is_the_latest_updated_at_and_resumes(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    first = fetch(bridge_server)
    assert first.cursors == {"1001": "2026-11-05T08:00:00Z", "1002": "2026-11-05T10:00:00Z"}

    bridge_server.add_transaction(1001, "75.00", "2026-11-07", updated_at="2026-11-07T08:00:00Z")
    second = fetch(bridge_server, cursors=first.cursors)

    assert [line.amount for line in second.lines_by_iban[IBAN_A]] == [Decimal("75.00")]
    assert second.lines_by_iban[IBAN_B] == []
    assert second.cursors == {"1001": "2026-11-07T08:00:00Z", "1002": "2026-11-05T10:00:00Z"}
    resumed = [
        c.query["since"] for c in bridge_server.calls(TRANSACTIONS_PATH) if "since" in c.query
    ]
    assert resumed == ["2026-11-05T08:00:00Z", "2026-11-05T10:00:00Z"]


def test_first_fetch_limits_history_with_min_date(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    with BridgeClient(settings_for(bridge_server)) as client:
        result = fetch_transactions(
            client, since=datetime(2026, 11, 4, tzinfo=UTC), cursor_state={}
        )
    # From 4 November: -45.67 and 999999.99 on A, -10.01 on B.
    assert sorted(line.amount for line in result.lines_by_iban[IBAN_A]) == [
        Decimal("-45.67"),
        Decimal("999999.99"),
    ]
    assert bridge_server.calls(TRANSACTIONS_PATH)[0].query["min_date"] == "2026-11-04"


def test_cursor_saved_and_read_back_from_the_warehouse(tmp_path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        assert read_cursor(con, "bridge", "1001") is None
        save_cursor(con, "bridge", "1001", "2026-11-05T08:00:00Z", now=NOW)
        save_cursor(con, "bridge", "1001", "2026-11-07T08:00:00Z", now=NOW)
        assert read_cursor(con, "bridge", "1001") == "2026-11-07T08:00:00Z"
        assert read_cursor(con, "bridge", "1002") is None
        rows = con.execute(
            "SELECT count(*), max(synced_until) FROM open_banking_cursors"
        ).fetchone()
    assert rows == (1, datetime(2026, 11, 7, 8, 0))


# ---------------------------------------------------------------------------------------------
# Faults: retries, no retries, secrets
# ---------------------------------------------------------------------------------------------


def test_429_is_retried_after_the_retry_after_delay(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.add_transaction(1001, "1.00", "2026-11-02", updated_at="2026-11-02T08:00:00Z")
    bridge_server.inject(Fault(path=TRANSACTIONS_PATH, status=429, retry_after="3"))
    sleeps = Sleeps()
    with BridgeClient(settings_for(bridge_server), sleep=sleeps) as client:
        result = fetch_transactions(client, since=None, cursor_state={})

    assert result.transaction_count == 1
    assert [c.status for c in bridge_server.calls(TRANSACTIONS_PATH)] == [429, 200]
    assert sleeps.waits == [3.0]  # Retry-After wins over the 0.001 s backoff


def test_a_retry_after_beyond_the_limit_ends_with_a_clear_error(
    bridge_server: BridgeFake,
) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.inject(Fault(path=TRANSACTIONS_PATH, status=429, retry_after="3600"))
    sleeps = Sleeps()
    settings = settings_for(bridge_server, retry_after_max_s=60)
    with (
        pytest.raises(BridgeError, match="asks to wait 3600 s") as caught,
        BridgeClient(settings, sleep=sleeps) as client,
    ):
        fetch_transactions(client, since=None, cursor_state={})
    assert caught.value.status == 429
    assert sleeps.waits == []
    assert len(bridge_server.calls(TRANSACTIONS_PATH)) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_with_exponential_backoff(bridge_server: BridgeFake, status: int) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.add_transaction(1001, "1.00", "2026-11-02", updated_at="2026-11-02T08:00:00Z")
    bridge_server.inject(*[Fault(path=TRANSACTIONS_PATH, status=status)] * 3)
    sleeps = Sleeps()
    settings = settings_for(bridge_server, max_retries=3, backoff_base_s=0.5, backoff_max_s=10)
    with BridgeClient(settings, sleep=sleeps) as client:
        result = fetch_transactions(client, since=None, cursor_state={})

    assert result.transaction_count == 1
    assert [c.status for c in bridge_server.calls(TRANSACTIONS_PATH)] == [status] * 3 + [200]
    assert sleeps.waits == [0.5, 1.0, 2.0]


def test_retries_give_up_after_max_retries(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.inject(*[Fault(path=TRANSACTIONS_PATH, status=503)] * 5)
    with pytest.raises(BridgeError) as caught:
        fetch(bridge_server, max_retries=2)

    assert len(bridge_server.calls(TRANSACTIONS_PATH)) == 3  # 1 attempt + 2 retries
    assert caught.value.status == 503 and caught.value.attempts == 3
    assert "GET /v3/aggregation/transactions" in str(caught.value)
    assert "503" in str(caught.value) and "3 attempts" in str(caught.value)


def test_a_slow_answer_times_out_and_is_retried(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.add_transaction(1001, "1.00", "2026-11-02", updated_at="2026-11-02T08:00:00Z")
    bridge_server.inject(Fault(path=TRANSACTIONS_PATH, delay_s=1.0))
    started = time.monotonic()
    result = fetch(bridge_server, timeout_s=0.2)

    assert result.transaction_count == 1
    assert len(bridge_server.calls(TRANSACTIONS_PATH)) == 2
    assert time.monotonic() - started < 1.0  # the client did not wait for the slow answer


def test_timeouts_exhausted_raise_a_clear_error(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.inject(*[Fault(path=TRANSACTIONS_PATH, delay_s=0.6)] * 2)
    with pytest.raises(BridgeError) as caught:
        fetch(bridge_server, timeout_s=0.15, max_retries=1)
    assert "timed out" in str(caught.value) and "2 attempts" in str(caught.value)
    assert caught.value.status is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_other_4xx_fail_at_once_naming_endpoint_and_status(
    bridge_server: BridgeFake, status: int
) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.inject(Fault(path=TRANSACTIONS_PATH, status=status))
    with pytest.raises(BridgeError) as caught:
        fetch(bridge_server, max_retries=5)

    assert len(bridge_server.calls(TRANSACTIONS_PATH)) == 1
    assert caught.value.status == status and caught.value.attempts == 1
    assert str(caught.value).startswith(
        f"Bridge GET /v3/aggregation/transactions answered {status}"
    )


def test_wrong_secret_is_a_401_that_never_shows_the_secret(
    bridge_server: BridgeFake, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wr0ng-s3cret-value-XYZ"
    caplog.set_level(logging.DEBUG)
    settings = settings_for(bridge_server, client_secret=wrong)
    with pytest.raises(BridgeError) as caught, BridgeClient(settings) as client:
        fetch_transactions(client, since=None, cursor_state={})

    assert caught.value.status == 401
    assert "POST /v3/aggregation/authorization/token answered 401" in str(caught.value)
    shown = " ".join(
        [
            str(caught.value),
            repr(caught.value),
            repr(client),
            repr(settings),
            str(settings),
            caplog.text,
        ]
    )
    assert wrong not in shown


def test_secrets_absent_from_logs_and_errors_through_retries(
    bridge_server: BridgeFake, caplog: pytest.LogCaptureFixture
) -> None:
    seed(bridge_server)
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    bridge_server.inject(
        Fault(path=TRANSACTIONS_PATH, status=429, retry_after="0"),
        Fault(path=TRANSACTIONS_PATH, status=500),
        Fault(path=TRANSACTIONS_PATH, delay_s=0.5),
        Fault(
            path=TRANSACTIONS_PATH,
            status=401,
            body={"type": "invalid_token", "message": "echo " + bridge_server.client_secret},
        ),
    )
    with pytest.raises(BridgeError) as caught:
        fetch(bridge_server, timeout_s=0.2)

    assert caught.value.status == 401
    assert "retry" in caplog.text  # the retries were logged
    shown = caplog.text + str(caught.value) + repr(caught.value)
    assert bridge_server.client_secret not in shown
    for token in bridge_server.tokens:
        assert token not in shown
    assert "***" in str(caught.value)  # the echoed secret was blanked, not dropped silently


def test_next_uri_to_another_host_is_refused(bridge_server: BridgeFake) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.inject(
        Fault(
            path=TRANSACTIONS_PATH,
            status=200,
            body={
                "resources": [],
                "pagination": {
                    "next_uri": "https://evil.example/v3/aggregation/transactions?after=x"
                },
            },
        )
    )
    with pytest.raises(BridgeError, match="leaves"):
        fetch(bridge_server)


def test_rate_limit_spaces_requests(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    started = time.monotonic()
    fetch(bridge_server, requests_per_second=50)
    elapsed = time.monotonic() - started
    # token + accounts + 3 pages of 1001 + 1 page of 1002 = 6 requests, 5 gaps of 20 ms.
    assert len(bridge_server.requests) == 6
    assert elapsed >= 5 * 0.02


def test_settings_read_from_env_and_hide_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2C_BRIDGE_CLIENT_ID", "id-1")
    monkeypatch.setenv("O2C_BRIDGE_CLIENT_SECRET", "very-secret-42")
    monkeypatch.setenv("O2C_BRIDGE_EXTERNAL_USER_ID", "acme-fr")
    monkeypatch.setenv("O2C_BRIDGE_MAX_RETRIES", "7")
    settings = BridgeSettings()
    assert (settings.client_id, settings.external_user_id, settings.max_retries) == (
        "id-1",
        "acme-fr",
        7,
    )
    assert settings.bridge_version == "2025-01-15"
    assert settings.client_secret.get_secret_value() == "very-secret-42"
    assert "very-secret-42" not in repr(settings) + str(settings)
    monkeypatch.setenv("O2C_BRIDGE_USER_UUID", "also-set")
    with pytest.raises(ValueError, match="exactly one"):
        BridgeSettings()


def test_external_user_id_authenticates(bridge_server: BridgeFake) -> None:
    seed(bridge_server)
    result = fetch(bridge_server, user_uuid=None, external_user_id=bridge_server.external_user_id)
    assert result.transaction_count == 6


# ---------------------------------------------------------------------------------------------
# Sync into the warehouse (fetch -> load_statements -> cursor)
# ---------------------------------------------------------------------------------------------


def _stored(con) -> list[tuple]:
    return con.execute(
        "SELECT account_iban, booking_date, amount, external_id FROM bank_transactions"
        " WHERE source = 'open_banking' ORDER BY account_iban, booking_date, amount"
    ).fetchall()


def test_sync_loads_rows_and_the_next_sync_fetches_only_new_ones(
    bridge_server: BridgeFake, tmp_path
) -> None:
    seed(bridge_server)
    settings = settings_for(bridge_server)
    with connect(tmp_path / "w.duckdb") as con:
        first = sync(con, settings, now=NOW)
        assert first.transactions_in == 6 and first.accounts == 2
        assert len(_stored(con)) == 6
        assert read_cursor(con, "bridge", "1001") == "2026-11-05T08:00:00Z"
        assert read_cursor(con, "bridge", "1002") == "2026-11-05T10:00:00Z"
        total = con.execute("SELECT sum(amount) FROM bank_transactions").fetchone()[0]
        assert total == Decimal("1001144.61")  # 1001154.62 on A, -10.01 on B

        bridge_server.add_transaction(
            1002, "320.00", "2026-11-08", updated_at="2026-11-08T08:00:00Z"
        )
        second = sync(con, settings, now=NOW)
        assert second.transactions_in == 1
        assert len(_stored(con)) == 7
        assert read_cursor(con, "bridge", "1002") == "2026-11-08T08:00:00Z"
    since_sent = [
        c.query["since"] for c in bridge_server.calls(TRANSACTIONS_PATH) if "since" in c.query
    ]
    assert since_sent == ["2026-11-05T08:00:00Z", "2026-11-05T10:00:00Z"]


def test_rerun_after_a_crash_before_the_cursor_adds_no_duplicate(
    bridge_server: BridgeFake, tmp_path
) -> None:
    seed(bridge_server)
    settings = settings_for(bridge_server)
    with connect(tmp_path / "w.duckdb") as con:
        sync(con, settings, now=NOW)
        # The crash: rows committed, cursors lost. The next run asks from the start again.
        con.execute("DELETE FROM open_banking_cursors")
        again = sync(con, settings, now=NOW)
        assert again.transactions_in == 6
        assert len(_stored(con)) == 6
        assert read_cursor(con, "bridge", "1001") == "2026-11-05T08:00:00Z"


def test_withdrawn_transactions_are_reported_not_stored_nor_silently_deleted(
    bridge_server: BridgeFake, tmp_path
) -> None:
    seed(bridge_server)
    settings = settings_for(bridge_server)
    with connect(tmp_path / "w.duckdb") as con:
        sync(con, settings, now=NOW)
        stored = bridge_server.transactions[3]  # the -45.67 direct debit, now in the warehouse
        bridge_server.withdraw(stored["id"], updated_at="2026-11-09T08:00:00Z")
        # A new one the provider withdraws before we ever saw it.
        fleeting = bridge_server.add_transaction(
            1001, "12.34", "2026-11-09", updated_at="2026-11-09T09:00:00Z"
        )
        bridge_server.withdraw(fleeting["id"], updated_at="2026-11-09T10:00:00Z")

        result = sync(con, settings, now=NOW)

        assert sorted(result.deleted_ids) == sorted([str(stored["id"]), str(fleeting["id"])])
        assert [(w.external_id, w.amount, w.account_iban) for w in result.withdrawn_stored] == [
            (str(stored["id"]), Decimal("-45.67"), IBAN_A)
        ]
        rows = _stored(con)
        assert len(rows) == 6  # the stored one kept for a person to decide; 12.34 never stored
        assert all(row[2] != Decimal("12.34") for row in rows)
        assert read_cursor(con, "bridge", "1001") == "2026-11-09T10:00:00Z"


def test_a_failed_fetch_stores_nothing_and_keeps_the_cursor(
    bridge_server: BridgeFake, tmp_path
) -> None:
    seed(bridge_server)
    settings = settings_for(bridge_server, max_retries=0)
    with connect(tmp_path / "w.duckdb") as con:
        sync(con, settings, now=NOW)
        bridge_server.add_transaction(1001, "5.00", "2026-11-10", updated_at="2026-11-10T08:00:00Z")
        bridge_server.inject(Fault(path=TRANSACTIONS_PATH, status=503))
        with pytest.raises(BridgeError):
            sync(con, settings, now=NOW)
        assert len(_stored(con)) == 6
        assert read_cursor(con, "bridge", "1001") == "2026-11-05T08:00:00Z"
        sync(con, settings, now=NOW)
        assert len(_stored(con)) == 7


def test_two_identical_payments_on_one_day_across_two_syncs_are_both_stored(
    bridge_server: BridgeFake, tmp_path
) -> None:
    # Two 50.00 card payments the same day; the second reaches Bridge after the first sync.
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.add_transaction(1001, "-50.00", "2026-11-12", updated_at="2026-11-12T09:00:00Z")
    settings = settings_for(bridge_server)
    with connect(tmp_path / "w.duckdb") as con:
        sync(con, settings, now=NOW)
        bridge_server.add_transaction(
            1001, "-50.00", "2026-11-12", updated_at="2026-11-12T18:00:00Z"
        )
        second = sync(con, settings, now=NOW)
        assert second.transactions_in == 1
        assert second.load is not None and second.load.loaded == 1
        assert [row[2] for row in _stored(con)] == [Decimal("-50.00"), Decimal("-50.00")]


CAMT_053 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-03T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-2026-11-02</Id>
   <CreDtTm>2026-11-03T06:00:00</CreDtTm>
   <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-02</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1300.00</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-02</Dt></Dt></Bal>
   <Ntry>
    <Amt Ccy="EUR">1200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-02</Dt></BookgDt><ValDt><Dt>2026-11-02</Dt></ValDt>
    <AcctSvcrRef>BANKREF-0042</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>E2E-FA-2026-0042</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>ACME SARL</Nm></Dbtr></RltdPties>
     <RmtInf><Ustrd>FA-2026-0042</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


@pytest.mark.parametrize("file_first", [True, False], ids=["file-then-feed", "feed-then-file"])
def test_a_payment_in_a_camt_file_and_in_the_feed_is_stored_once(
    bridge_server: BridgeFake, tmp_path, file_first: bool
) -> None:
    from o2c.tasks.bank.statements.detect import parse_file
    from o2c.tasks.bank.store import load_statements

    seed(bridge_server)  # holds the same 1200.00 credit on A, booked 2026-11-02
    camt = tmp_path / "stmt.xml"
    camt.write_text(CAMT_053.format(iban=IBAN_A), encoding="utf-8")
    parsed = parse_file(camt)
    settings = settings_for(bridge_server)

    def load_file():
        return load_statements(
            con, parsed.statements, file_name=camt.name, sha256=parsed.sha256,
            source="bank_statement",
        )  # fmt: skip

    with connect(tmp_path / "w.duckdb") as con:
        if file_first:
            assert load_file().loaded == 1
            feed = sync(con, settings, now=NOW)
            assert (feed.load.loaded, feed.load.duplicates) == (5, 1)
        else:
            sync(con, settings, now=NOW)
            again = load_file()
            assert (again.loaded, again.duplicates) == (0, 1)
        rows = con.execute(
            "SELECT count(*), sum(amount) FROM bank_transactions"
            " WHERE account_iban = ? AND booking_date = DATE '2026-11-02'",
            [IBAN_A],
        ).fetchone()
        assert rows == (1, Decimal("1200.00"))
        assert con.execute("SELECT count(*) FROM bank_transactions").fetchone()[0] == 6


def test_an_amount_beyond_the_bounds_is_refused_before_anything_is_stored(
    bridge_server: BridgeFake, tmp_path
) -> None:
    bridge_server.add_account(1001, IBAN_A)
    bridge_server.add_transaction(1001, "12.00", "2026-11-02", updated_at="2026-11-02T08:00:00Z")
    bridge_server.add_transaction(
        1001, "1000000000000000.00", "2026-11-03", updated_at="2026-11-03T08:00:00Z"
    )
    with connect(tmp_path / "o2c.duckdb") as con:
        with pytest.raises(StatementError, match=r"amount"):
            sync(con, settings_for(bridge_server), now=datetime(2026, 11, 10, tzinfo=UTC))
        assert scalar(con, "SELECT count(*) FROM bank_transactions") == 0
        assert read_cursors(con, "bridge") == {}

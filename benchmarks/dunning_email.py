"""Benchmark: 10 000 reminders through the outbox to a local SMTP server, beside raw smtplib.

A real SMTP server (aiosmtpd, counting what it accepts) runs in its own process on loopback.
The messages are written to a fresh warehouse's outbox first (timed apart: `enqueue`), then:

- baseline: the same messages (same builder, same headers) sent with smtplib's `send_message`
  over one connection, nothing recorded;
- outbox: `send_pending` as the dunning flow runs it: batches claimed in a short transaction,
  sent over one connection each with no warehouse connection open, results and audit rows
  recorded per batch.

The server's count must match what was sent, every outbox row must end `sent`, and the audit
chain must verify. Target: at least 200 emails a second through the outbox.

    .venv/bin/python benchmarks/dunning_email.py [--count 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from o2c.models.dunning import Channel, Communication, CustomerKind, DunnedItem, RenderedMessage
from o2c.tasks.channels import Envelope
from o2c.tasks.channels.email import SmtpSender, SmtpSettings, build_message, sender_address
from o2c.tasks.dunning import audit, outbox
from o2c.tasks.dunning.render import content_sha256
from o2c.warehouse import connect

TARGET_PER_SECOND = 200.0
FROM = "relances@lumiere.example"

SERVER = """
import signal, sys, threading
from aiosmtpd.controller import Controller

class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 2.0.0 queued"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
done.wait()
controller.stop()
print(Count.n, flush=True)
"""


def messages(count: int) -> list[tuple[Communication, RenderedMessage]]:
    """`count` communications of three invoices each, with a reminder-sized message."""
    out = []
    for n in range(count):
        items = tuple(
            DunnedItem(f"F-{n:06d}-{k}", "invoice", date(2026, 1, 5), date(2026, 2, 4),
                       12_345 * (k + 1), 12_345 * (k + 1), 40 + k)
            for k in range(3)
        )  # fmt: skip
        c = Communication(
            as_of=date(2026, 3, 16),
            customer_id=f"C{n:06d}",
            customer_name=f"Client {n} SARL",
            language="fr" if n % 3 else "en",
            customer_kind=CustomerKind.BUSINESS,
            currency="EUR",
            level=2,
            level_name="friendly",
            channel=Channel.EMAIL,
            template="reminder_friendly",
            recipients=(f"compta{n}@client{n % 97}.example",),
            needs_approval=False,
            items=items,
        )
        subject = f"Relance : factures échues, {c.customer_name}"
        lines = "\n".join(f"{i.invoice_id}  échue le {i.due_date}  {i.open_cents / 100:.2f} €"
                          for i in items)  # fmt: skip
        text = f"Bonjour,\n\nSauf erreur de notre part, restent dues :\n{lines}\n" + "—\n" * 20
        rows = "".join(f"<tr><td>{i.invoice_id}</td><td>{i.open_cents}</td></tr>" for i in items)
        html = f"<html><body><p>Bonjour,</p><table>{rows}</table>{'<p>—</p>' * 40}</body></html>"
        sha = content_sha256(subject, text, html)
        out.append((c, RenderedMessage(c.key, c.language, subject, text, html, "t" * 64, sha)))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server


def stop_server(server: subprocess.Popen) -> int:
    server.terminate()
    out, _ = server.communicate(timeout=60)
    return int(out.split()[-1])


def baseline(port: int, planned: list[tuple[Communication, RenderedMessage]]) -> float:
    """smtplib.send_message over one connection, the same messages; seconds."""
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", from_address=FROM)
    sender, reply_to = sender_address(settings)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for c, m in planned:
            msg = build_message(
                Envelope(m, c.recipients), sender=sender, reply_to=reply_to, now=datetime.now(UTC)
            )
            smtp.send_message(msg)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    planned = messages(args.count)
    port = free_port()
    server = start_server(port)
    try:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "o2c.duckdb"
            start = time.perf_counter()
            with connect(db) as con:
                outbox.enqueue_many(con, planned, flow_run_id="bench")
            enqueue_s = time.perf_counter() - start

            base_s = baseline(port, planned)

            settings = SmtpSettings(
                host="127.0.0.1", port=port, security="none", from_address=FROM,
                rate_per_minute=0, batch_size=args.batch,
            )  # fmt: skip
            start = time.perf_counter()
            summary = outbox.send_pending(db, SmtpSender(settings), batch_size=args.batch)
            ours_s = time.perf_counter() - start

            with connect(db) as con:
                sent = con.execute(
                    "SELECT count(*) FROM dunning_outbox WHERE status = 'sent'"
                ).fetchall()[0][0]
                chain = audit.verify(con)
    finally:
        received = stop_server(server)

    n = args.count
    ours_rate, base_rate = n / ours_s, n / base_s
    print(f"emails: {n:,} in batches of {args.batch} ({summary.batches} batches)")
    print(f"enqueue (outbox rows, items, audit rows): {enqueue_s:6.2f} s  {n / enqueue_s:8.0f}/s")
    print(f"baseline smtplib, one connection:         {base_s:6.2f} s  {base_rate:8.0f}/s")
    print(f"outbox send_pending (claim/send/record):  {ours_s:6.2f} s  {ours_rate:8.0f}/s")
    print(f"outbox / baseline: {ours_s / base_s:.2f}x the time")
    print(f"server received {received:,} (expected {2 * n:,}); outbox sent {sent:,}; "
          f"audit chain {'intact' if chain.ok else 'BROKEN'} over {chain.rows:,} rows")  # fmt: skip
    ok = received == 2 * n and sent == n and chain.ok and ours_rate >= TARGET_PER_SECOND
    print(f"target >= {TARGET_PER_SECOND:.0f}/s: {'PASS' if ok else 'FAIL'}")
    if base_rate < TARGET_PER_SECOND:
        print("note: raw smtplib itself is under the target here: the machine is the limit")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Screenshots of the artifacts finance reads, as a credit controller sees them at 1366×768.

    python docs/screenshots/take.py                 # own Prefect server + `o2c demo`, then shots
    python docs/screenshots/take.py --url http://127.0.0.1:4200   # a server the demo ran against

Debian's Chromium (/usr/bin/chromium) driven by Playwright (pip package `playwright`; no browser
is downloaded). Each shot is the latest artifact under its key, on the classic UI (the server's
root) unless --ui v2. The PNGs are written beside this script and kept in the repository: look
at them after a change to a report.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
SCREEN = {"width": 1366, "height": 768}
SHOTS = (
    "aging-summary",
    "aging-by-customer",
    "aging-chart",
    "reconciliation",
    "reconciliation-exceptions",
    "bank-ingestion",
    "o2c-daily",
)
UIS = {"classic": "", "v2": "/v2"}
# A section lower on the page brought to the top before the shot (the French heading): the bank
# load's balance checks are below its counts.
SCROLL_TO = {"bank-ingestion": "Contrôle des soldes"}


def latest_id(url: str, key: str) -> str:
    found = httpx.post(
        f"{url}/api/artifacts/latest/filter",
        json={"artifacts": {"key": {"any_": [key]}}},
        timeout=30,
    ).raise_for_status()
    (artifact,) = found.json() or [None]
    if artifact is None:
        raise SystemExit(f"{url}: no artifact under key {key!r} (did the demo run against it?)")
    return artifact["latest_id"]


def shoot(url: str, out: Path, ui: str = "classic", keys: tuple[str, ...] = SHOTS) -> list[Path]:
    """One PNG per artifact key, `out/<key>.png`, what the screen shows once the page settled."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=SCREEN)
            for key in keys:
                page.goto(
                    f"{url}{UIS[ui]}/artifacts/artifact/{latest_id(url, key)}",
                    wait_until="networkidle",
                )
                page.wait_for_timeout(1_000)  # table artifacts fill in after the page loads
                if key in SCROLL_TO:
                    heading = page.get_by_role("heading", name=SCROLL_TO[key]).first
                    heading.evaluate("h => h.scrollIntoView({block: 'start'})")
                    page.wait_for_timeout(300)
                path = out / f"{key}.png"
                page.screenshot(path=path)
                written.append(path)
        finally:
            browser.close()
    return written


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_demo_server(folder: Path) -> tuple[str, subprocess.Popen]:
    """`prefect server start` on a free loopback port with its own home, `o2c init`, then
    `o2c demo`."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(folder / "server-home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
        "PREFECT_UI_API_URL": f"{url}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - the server outlives this function
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the Prefect server did not start, see {folder / 'server.log'}")
        time.sleep(1)
    demo_env = {k: v for k, v in env.items() if k != "PREFECT_API_DATABASE_CONNECTION_URL"}
    demo_env |= {
        "PREFECT_API_URL": f"{url}/api",
        "PREFECT_HOME": str(folder / "o2c-home"),
        "O2C_DB": str(folder / "o2c.duckdb"),
        "GX_ANALYTICS_ENABLED": "false",
    }
    # the warehouse's one-writer slot on the server, as a data engineer sets it up
    subprocess.run([str(BIN / "o2c"), "init"], env=demo_env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [str(BIN / "o2c"), "demo", "--invoices", "300", "--seed", "7",
         "--folder", str(folder / "files")],
        env=demo_env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return url, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a Prefect server the demo ran against (default: own)")
    parser.add_argument("--ui", choices=list(UIS), default="classic")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    if args.url:
        paths = shoot(args.url.rstrip("/"), args.out, args.ui)
    else:
        with tempfile.TemporaryDirectory(prefix="o2c-shots-") as tmp:
            url, server = with_demo_server(Path(tmp))
            try:
                paths = shoot(url, args.out, args.ui)
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
    print(*paths, sep="\n")


if __name__ == "__main__":
    main()

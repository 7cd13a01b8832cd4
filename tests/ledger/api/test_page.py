"""The auditor page in headless Chromium: rendered rows in the DOM, and a screenshot that is a real,
non-blank picture of the right size. Chromium is required (scripts/install-chromium); never skipped."""

from __future__ import annotations

import shutil
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn

from ledger.api.app import create_app
from ledger.devnet.anvil import free_port

from .conftest import Served

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
    "--window-size=1280,900",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: run scripts/install-chromium (scripts/test should call it)")
    return path


@pytest.fixture
def server(sqlite_served: Served) -> Iterator[str]:
    port = free_port()
    api = create_app(
        sqlite_served.url, rpc_url=sqlite_served.devnet.node.url, hub=sqlite_served.devnet.hub.address
    )
    srv = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(base + "/openapi.json", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield f"{base}/#token={sqlite_served.token}"
    srv.should_exit = True
    thread.join(timeout=10)


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered RGB(A) rows of an 8-bit PNG (enough for Chromium's screenshots)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def test_page_renders_tables_and_chart(server: str, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", server)
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    assert html.count('class="cycle-row"') == 3
    assert html.count('class="position-row"') >= 2
    assert "verified" in html
    assert (
        'id="chart-svg"' in html
        and html.count('class="bar-gross"') == 2
        and html.count('class="bar-net"') == 2
    )
    shot = tmp_path / "page.png"
    result = run_chromium(tmp_path, f"--screenshot={shot}", server)
    assert result.returncode == 0 and shot.is_file(), result.stderr
    width, height, rows = decode_png(shot.read_bytes())
    assert (width, height) == (1280, 900)
    values = [v for row in rows[::10] for v in row[::37]]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    assert variance > 100, f"screenshot looks blank (variance {variance:.1f})"
    distinct = {row[i : i + 3] for row in rows[::15] for i in range(0, len(row) - 3, 61)}
    assert len(distinct) > 20

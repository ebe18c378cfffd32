"""Headless Chromium with the network off, for the tests that open reports as a reader would.

Chromium is Debian's `chromium`, installed by `make test` (the Makefile's `browser` target). The network is cut
for the browser by running it in a new network namespace (`unshare -n`, no interface but a downed loopback);
where that is not permitted, Chromium is pointed at a proxy that does not exist and told to resolve nothing.

A test appends a probe (a <script> that writes what it found as JSON into <pre id=PROBE_ID>) to a copy of the page,
and `probe` reads that JSON back from Chromium's --dump-dom.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from idbridge.core.paths import REPO_ROOT

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--virtual-time-budget=20000"]
PROBE_ID = "idbridge-probe"


def why_no_browser() -> str:
    recorded = REPO_ROOT / ".venv" / ".chromium-unavailable"
    if recorded.exists():
        return recorded.read_text(encoding="utf-8").strip()
    return "chromium is not installed: run `make test` (it installs Debian's chromium) or apt-get install chromium"


def offline_prefix() -> tuple[list[str], list[str]]:
    """(command prefix, extra flags) that take the network away from the browser."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"], []
    return [], ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND"]


def probe(path: Path, script: str):
    """Open a copy of the page with `script` appended before </body>, offline, and return the JSON the script
    wrote into <pre id=PROBE_ID>."""
    prefix, extra = offline_prefix()
    with tempfile.TemporaryDirectory() as work:
        page = Path(work) / path.name
        text = path.read_text(encoding="utf-8")
        cut = text.rindex("</body>")
        page.write_text(text[:cut] + script + text[cut:], encoding="utf-8")
        done = subprocess.run([*prefix, CHROMIUM, *FLAGS, *extra, f"--user-data-dir={Path(work) / 'profile'}",
                               "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(rf'<pre id="{PROBE_ID}">(.*?)</pre>', done.stdout, re.S)
    assert found, f"{path.name}: the page did not finish loading"
    return json.loads(html.unescape(found.group(1)))  # --dump-dom serialises the text: & < > as entities


# ------------------------------------------------------------------------------------------ screens and print
OUTPUT = REPO_ROOT / "test-output" / "reports"  # git-ignored: what a reviewer looks at without a browser


def _chromium(page: Path, *args: str) -> subprocess.CompletedProcess:
    prefix, extra = offline_prefix()
    with tempfile.TemporaryDirectory() as work:
        return subprocess.run([*prefix, CHROMIUM, *FLAGS, *extra, f"--user-data-dir={Path(work) / 'profile'}",
                               *args, page.as_uri()], capture_output=True, text=True, timeout=180)


SCREEN = ("--hide-scrollbars", "--window-size=1280,900")  # the first screen of a reader's browser
PRINT = ("--no-pdf-header-footer",)                         # A4, the report's print stylesheet


def screenshot_and_print(page: Path, png: Path, pdf: Path) -> int:
    """The page's first screen as a reader's browser shows it, and Chromium's print to PDF of it (A4, the
    report's print stylesheet), in one start of Chromium: headless Chromium does both for one page load, the
    same screen and pages as a start for each, in a third less of a report's browser time. Returns the pages."""
    png.parent.mkdir(parents=True, exist_ok=True)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    done = _chromium(page, *SCREEN, f"--screenshot={png}", *PRINT, f"--print-to-pdf={pdf}")
    assert done.returncode == 0 and png.exists() and pdf.exists(), done.stderr[-2000:]
    return pdf_pages(pdf)


def pdf_pages(pdf: Path) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return len(document)
    finally:
        document.close()


def first_page_png(pdf: Path, png: Path) -> Path:
    """The PDF's first page as a PNG (pdfium renders it; a small PNG writer, no imaging library needed)."""
    import struct
    import zlib

    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        bitmap = document[0].render(scale=1.5, rev_byteorder=True)  # RGB(A) byte order
        pixels = bitmap.to_numpy()
    finally:
        document.close()
    height, width = pixels.shape[:2]
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    colour = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))
    return png

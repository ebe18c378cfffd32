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

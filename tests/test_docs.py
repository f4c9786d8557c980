"""The documentation site: it builds with warnings as errors (executing its notebooks), every internal link and
anchor resolves, the generated reference pages follow the code, and a real browser renders it and searches it.

The build is the README's docs command (the block after ``<!-- docs-command -->``), into a temporary directory.
"""

from __future__ import annotations

import html.parser
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.helpers import HANG_GUARD

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("sphinx", reason="the docs build needs the docs extra (declared in test: mbl-ensemble[docs])")
pytest.importorskip("myst_nb", reason="the docs build needs the docs extra (declared in test: mbl-ensemble[docs])")


def docs_command() -> list[str]:
    """The sphinx part of the README's docs command, as arguments."""
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- docs-command -->", 1)[1].split("```", 2)[1]
    line = [ln for ln in block.splitlines() if "sphinx" in ln][0]
    return shlex.split(line.split("&&")[-1])


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    cmd = [sys.executable if a == "python3" else a for a in docs_command()]
    assert cmd[-1] == "docs/_build/html" and "-W" in cmd, cmd
    cmd[-1] = str(out)
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=HANG_GUARD)
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-5000:])
    return out


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(errors="replace"))
    return p


def broken_links(site: Path) -> list[str]:
    """Every internal link (href/src) of every page whose file, or whose #anchor in that file, is missing."""
    parsed = {p: _parse(p) for p in site.rglob("*.html")}
    bad = []
    for page, links in parsed.items():
        for link in links.links:
            u = urlparse(link)
            if u.scheme or link.startswith("//") or link.startswith("javascript:"):
                continue
            target = (page.parent / unquote(u.path)).resolve() if u.path else page
            if not target.exists():
                bad.append(f"{page.relative_to(site)} -> {link}")
                continue
            if u.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(u.fragment) not in ids:
                    bad.append(f"{page.relative_to(site)} -> {link} (no such anchor)")
    return bad


def test_the_site_builds_and_every_internal_link_resolves(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) > 30, len(pages)
    assert broken_links(site) == []


def test_the_link_check_finds_a_broken_link_and_a_missing_anchor(tmp_path):
    """Negative control of the check above."""
    (tmp_path / "a.html").write_text('<a href="b.html#there">x</a><a href="gone.html">y</a><p id="here"></p>')
    (tmp_path / "b.html").write_text('<a href="a.html#here">back</a>')
    assert broken_links(tmp_path) == ["a.html -> b.html#there (no such anchor)", "a.html -> gone.html"]


def test_the_tutorials_were_executed(site):
    quick = (site / "tutorials" / "quickstart.html").read_text()
    assert "Plan quickstart" in quick and "Ir_sem" in quick and "submission</th><td>bg</td>" in quick and "finished, 192/192" in quick
    assert "<td style='text-align:left'>resolved</td>" in quick  # the first page shows a fit that means something
    own = (site / "tutorials" / "own_kernel.html").read_text()
    assert "closed_form" in own and "ramsey" in own
    for text in (quick, own):
        assert "Traceback" not in text and "Error" not in re.sub(r"RealizationError|SpecError|UsageError", "", text)
        assert not page_faults(text), page_faults(text)


def page_faults(text: str) -> list[str]:
    """What must not reach a rendered page: warnings from the build's libraries, paths of the build machine, and
    counts shown as floats in the engine's displays (48.0 realizations)."""
    faults = re.findall(r"\w+Warning\b", text)
    faults += re.findall(r"(?:/tmp/|/home/|/root/|/work/|site-packages)[^\s<\"']*", text)
    cell = r"<td style='text-align:left'>\d+\.0</td>"  # the engine's tables: a point index or two counts as floats
    faults += re.findall(rf"<tr>{cell}|{cell}{cell}", text)
    return faults


def test_the_page_check_finds_a_warning_a_path_and_a_float_count():
    """Negative control of page_faults."""
    bad = ("<pre>/root/venv/lib/python3.11/site-packages/tqdm/auto.py:21: TqdmWarning: IProgress not found</pre>"
           "<tr><td style='text-align:left'>0.0</td><td style='text-align:left'>W=3</td></tr>")
    assert len(page_faults(bad)) == 3
    ok = "<tr><td style='text-align:left'>0</td><td style='text-align:left'>1.0</td></tr><p>a warning-free page</p>"
    assert page_faults(ok) == []  # a parameter's float value (W = 1.0) is not a count


def test_reference_pages_follow_the_code(site):
    from ensemble import kernel_info
    from ensemble.models import kernel_names
    from ensemble.spec.experiment import SPEC_FIELDS, TOP_KEYS

    assert tuple(SPEC_FIELDS) == TOP_KEYS
    spec = (site / "reference" / "spec.html").read_text()
    for key in TOP_KEYS:
        assert f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{key}</span></code>" in spec, key
    for name in kernel_names():
        page = (site / "reference" / "kernels" / f"{name}.html").read_text()
        for p in kernel_info(name).parameters:
            assert f">{p['name']}<" in page, (name, p["name"])
    api = (site / "reference" / "api.html").read_text()
    for name in ("ensemble.api.run", "ensemble.api.submit", "ensemble.api.open_run", "ensemble.api.Run.to_xarray"):
        assert f'id="{name}"' in api, name


def test_readme_is_short_and_its_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"^[a-z]+:", target):
            assert (ROOT / target).exists(), target


def _chromium() -> str:
    script = ROOT / "docs" / "chromium.sh"
    res = subprocess.run([str(script)], capture_output=True, text=True, timeout=HANG_GUARD)
    if res.returncode != 0:
        pytest.skip(f"no headless Chromium here: {res.stderr.strip()}")
    return res.stdout.strip().splitlines()[-1]


def _render(browser: str, url: str, tmp_path: Path) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and the console messages that are errors."""
    profile = tmp_path / f"profile-{abs(hash(url))}"
    cmd = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000",
           "--dump-dom", url]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=HANG_GUARD)
    assert res.returncode == 0, res.stderr[-2000:]
    errors = [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln and re.search(r"Uncaught|Error|error", ln)]
    return res.stdout, errors


@pytest.fixture
def served(site):
    """The site over HTTP on a free local port (its search fetches pages, which file:// forbids)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_browser_renders_the_site_and_its_search_finds_open_run(served, tmp_path):
    browser = _chromium()
    for page, must in (("index.html", "mbl-ensemble"), ("reference/api.html", "ensemble.api.open_run")):
        dom, errors = _render(browser, f"{served}/{page}", tmp_path)
        assert must in dom and "<article" in dom, page
        assert errors == [], (page, errors)
    dom, errors = _render(browser, f"{served}/search.html?q=open_run", tmp_path)
    assert errors == [], errors
    results = re.findall(r'<ul[^>]*class="search"[^>]*>(.*?)</ul>', dom, flags=re.S)
    assert results and 'href="reference/api.html#ensemble.api.open_run"' in results[0], dom[-3000:]


import http.server  # noqa: E402


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_every_gallery_figure_is_current_and_captioned():
    """The gallery shows every figure in examples/figures, each with the caption its run generated under it
    (the caption file written beside the PNG when there is one), and no figure of an earlier drawing."""
    text = (ROOT / "docs" / "gallery.md").read_text()
    sections = re.split(r"(?m)^#{2,3} ", text)[1:]
    shown = set()
    for section in sections:
        images = re.findall(r"!\[[^\]]+\]\(\.\./examples/figures/([^)]+\.png)\)", section)
        for image in images:
            assert (ROOT / "examples" / "figures" / image).is_file(), image
            shown.add(image)
            captions = re.findall(r"\*Caption \(generated\):\* (.+)", section)
            assert captions and "N_r = " in captions[0] and "mbl-ensemble" in captions[0], f"{image}: no caption"
            beside = ROOT / "examples" / "figures" / image.replace(".png", ".caption.txt")
            if beside.exists():
                assert " ".join(beside.read_text().split()) == captions[0].strip(), image
    assert shown == {p.name for p in (ROOT / "examples" / "figures").glob("*.png")}
    assert "earlier version" not in text and "older drawing" not in text

"""The playground page in a real browser: Debian's Chromium driven by Playwright.

One browser for the module; each test opens its page from disk (file://) in a
fresh context that records console errors and every request, and aborts any
request that would leave file:// (none may). Screenshots go to tests/artifacts/
(ignored by git): look at them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from nnsym import api
from nnsym.pipeline.spec import make_spec
from tests.target_helpers import XOR
from tests.target_helpers import node as find_node

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NODE = find_node()
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or NODE is None,
    reason="needs Debian's chromium and Node.js",
)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for every test of this module."""
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Build each page once: name -> file."""
    folder = tmp_path_factory.mktemp("pages")
    cache: dict[str, Path] = {}

    def page_file(name: str, spec, data: str | None = None) -> Path:
        if name not in cache:
            path = folder / f"{name}.html"
            api.build_playground(spec, data).save(path)
            cache[name] = path
        return cache[name]

    return page_file


class Opened:
    """A page in its own context, with what it logged and requested."""

    def __init__(self, browser, path: Path, fragment: str = "") -> None:
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context.route(re.compile(r"^(?!file:|data:|blob:)"), self._refuse)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text) if message.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_function("() => window.nnsym !== undefined")

    def _refuse(self, route) -> None:
        self.errors.append(f"request leaving file://: {route.request.url}")
        route.abort()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        outside = [
            url
            for url in self.requests
            if not url.startswith(("file:", "data:", "blob:"))
        ]
        assert outside == []

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(
            path=str(ARTIFACTS / f"playground_{name}.png"), full_page=True
        )

    def close(self) -> None:
        self.context.close()


def _node_train(tmp_path: Path, spec, options: dict) -> list[float]:
    module = tmp_path / "model.mjs"
    module.write_text(api.source_for(spec, "js"), encoding="utf-8")
    script = (
        f"import {{ train }} from {json.dumps(module.as_uri())};\n"
        f"const xs = {json.dumps(XOR[0])}, ys = {json.dumps(XOR[1])};\n"
        f"console.log(JSON.stringify(train(xs, ys, {json.dumps(options)}).params));\n"
    )
    driver = tmp_path / "driver.mjs"
    driver.write_text(script, encoding="utf-8")
    run = subprocess.run(
        [NODE, str(driver)], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(run.stdout)


def test_api_gives_the_modules_numbers(browser, pages, tmp_path):
    """reset(0), setOptions({lr: 1, optimizer: "sgd"}), step(2000) = Node's train()."""
    spec = make_spec("2-2-1")
    opened = Opened(browser, pages("xor", spec, "xor"))
    try:
        page = opened.page
        page.evaluate("nnsym.reset(0)")
        page.evaluate("nnsym.setOptions({lr: 1, optimizer: 'sgd'})")
        assert page.evaluate("nnsym.step(2000)") == 2000
        params = page.evaluate("nnsym.params()")
        expected = _node_train(tmp_path, spec, {"lr": 1, "epochs": 2000, "seed": 0})
        assert len(params) == len(expected) == 9
        assert max(abs(a - b) for a, b in zip(params, expected)) <= 1e-12
        assert page.evaluate("nnsym.epoch()") == 2000
        assert 0 < page.evaluate("nnsym.loss()") < 0.01
        # The URL's hash records the settings, and opening it again reproduces them.
        fragment = page.evaluate("(nnsym.pause(), location.hash)")
        assert "lr=1" in fragment and "epochs=2000" in fragment
        again = Opened(browser, pages("xor", spec, "xor"), fragment)
        try:
            assert again.page.evaluate("nnsym.epoch()") == 2000
            assert again.page.evaluate("nnsym.params()") == params
            again.check_clean()
        finally:
            again.close()
        opened.screenshot("xor_given")
        opened.check_clean()
    finally:
        opened.close()


def _numbers(page) -> list[str]:
    return page.eval_on_selector_all(
        ".eq mn.result", "nodes => nodes.map(n => n.textContent)"
    )


def test_formulas_are_mathml_and_their_numbers_change(browser, pages):
    """MathML is rendered, and the plugged-in numbers follow the training."""
    opened = Opened(browser, pages("xor", make_spec("2-2-1"), "xor"))
    try:
        page = opened.page
        assert page.locator("math").count() >= 19 * 2
        assert page.locator("mn.q").count() > 20
        before = _numbers(page)
        assert "…" not in before
        page.evaluate("nnsym.step(100)")
        after = _numbers(page)
        assert len(before) == len(after) == 19
        changed = sum(1 for a, b in zip(before, after) if a != b)
        assert changed >= 10
        # delta2_0 = 2·a2_0·(1 − a2_0)·(a2_0 − y0): the factors' product is the value.
        row = page.locator("#eq-7")
        factors = row.locator("mn.q").all_text_contents()
        value = row.locator("mn.result").text_content()
        numbers = [float(text.strip("()").replace("\u2212", "-")) for text in factors]
        product = 2 * numbers[0] * numbers[1] * numbers[2]
        assert (
            abs(product - float(value.replace("\u2212", "-")))
            <= 0.01 * abs(product) + 1e-3
        )
        opened.check_clean()
    finally:
        opened.close()


def test_stepping_one_quantity_at_a_time(browser, pages):
    """Step: each click computes the sample's next formula, then takes its step."""
    opened = Opened(browser, pages("xor", make_spec("2-2-1"), "xor"))
    try:
        page = opened.page
        step = page.locator("#step")
        step.click()
        assert page.locator(".eq.current").get_attribute("id") == "eq-0"
        assert page.locator(".eq.pending").count() == 18
        for _ in range(5):
            step.click()
        assert page.locator(".eq.current").get_attribute("id") == "eq-5"
        for _ in range(14):
            step.click()
        assert page.locator(".eq.current").count() == 0
        assert "1 of 4 samples" in page.locator("#status").text_content()
        opened.screenshot("stepping")
        opened.check_clean()
    finally:
        opened.close()


def _distinct_colours(page, selector: str = "canvas.boundary") -> int:
    return page.evaluate(
        """(selector) => {
          const canvas = document.querySelector(selector);
          const [w, h] = [canvas.width, canvas.height];
          const pixels = canvas.getContext('2d').getImageData(0, 0, w, h).data;
          const seen = new Set();
          for (let p = 0; p < pixels.length; p += 4) {
            seen.add((pixels[p] << 16) | (pixels[p + 1] << 8) | pixels[p + 2]);
          }
          return seen.size;
        }""",
        selector,
    )


@pytest.mark.parametrize("dataset", ["xor", "circle", "moons", "spiral", "gaussians"])
def test_each_data_set_trains_and_draws_a_boundary(browser, pages, dataset):
    """The page's own data sets: trained while playing, boundary of many colours."""
    spec = make_spec("2-8-8-1", activation="tanh")
    opened = Opened(
        browser, pages("deep", spec), f"#data={dataset}&lr=0.03&optimizer=adam"
    )
    try:
        page = opened.page
        page.evaluate("nnsym.step(1)")
        first = page.evaluate("nnsym.loss()")
        page.evaluate("nnsym.play()")
        page.wait_for_function("() => nnsym.epoch() >= 80")
        page.evaluate("nnsym.pause()")
        assert page.evaluate("nnsym.loss()") < first
        assert _distinct_colours(page) > 100
        # The 16 hidden neurons' pictures, on one canvas over the diagram.
        assert _distinct_colours(page, "canvas.thumbs") > 100
        assert page.locator("#data-info").text_content().startswith(dataset)
        opened.screenshot(dataset)
        opened.check_clean()
    finally:
        opened.close()


def test_markup_in_data_is_shown_as_text(browser, pages, tmp_path):
    """A label <script>... and a column <img onerror=...>: text, and nothing runs."""
    csv = tmp_path / "evil.csv"
    label = "<script>window.pwned=1</script>"
    column = "<img src=x onerror=alert(1)>"
    rows = [f"x0,{column},label"]
    rows += [
        f"{a},{b},{label if (a + b) % 2 else 'plain'}" for a in (0, 1) for b in (0, 1)
    ]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = make_spec("2-3-2", loss="ce")
    opened = Opened(browser, pages("evil", spec, str(csv)))
    try:
        page = opened.page
        page.evaluate("nnsym.step(5)")
        assert page.evaluate("window.pwned") is None
        assert page.locator("img").count() == 0
        assert label in page.locator("#data-info").text_content()
        assert column in page.locator("#network svg").text_content()
        opened.screenshot("injection")
        opened.check_clean()
    finally:
        opened.close()


def test_saved_weights_work_with_predict(browser, pages, tmp_path, run_cli):
    """Save weights: nnsym's weights JSON, which nnsym predict takes."""
    opened = Opened(browser, pages("xor", make_spec("2-2-1"), "xor"))
    try:
        page = opened.page
        page.evaluate("nnsym.reset(0); nnsym.setOptions({lr: 1}); nnsym.step(2000)")
        with page.expect_download() as download:
            page.locator("#save").click()
        saved = tmp_path / "xor.json"
        download.value.save_as(saved)
        weights = api.load_weights(saved)
        assert list(weights.params) == page.evaluate("nnsym.params()")
        status, out, _ = run_cli(["predict", "--model", saved, "1,0", "1,1"])
        assert status == 0
        first, second = (float(line) for line in out.split())
        assert first > 0.9 and second < 0.1
        predictor = tmp_path / "predictor.py"
        status, _, _ = run_cli(["export", "--model", saved, "-o", predictor])
        assert status == 0 and predictor.is_file()
        opened.check_clean()
    finally:
        opened.close()


def test_a_network_of_four_inputs_shows_a_confusion_matrix(browser, pages):
    """iris 4-8-3: no boundary; a confusion matrix with the class labels."""
    spec = make_spec("4-8-3", loss="ce")
    opened = Opened(browser, pages("iris", spec, "iris"), "#lr=0.01&reduction=sum")
    try:
        page = opened.page
        page.evaluate(
            "nnsym.setOptions({optimizer: 'adam', lr: 0.05}); nnsym.step(200)"
        )
        table = page.locator("table.confusion").text_content()
        assert "setosa" in table
        assert "virginica" in page.locator("#network svg").text_content()
        assert page.locator("canvas.boundary").count() == 0
        opened.screenshot("iris")
        opened.check_clean()
    finally:
        opened.close()


def test_the_notebook_iframe_runs_the_page(browser, tmp_path):
    """Playground._repr_html_: the page in a sandboxed iframe (srcdoc) trains."""
    shown = api.build_playground(make_spec("2-2-1"), "xor")._repr_html_()
    holder = tmp_path / "notebook.html"
    holder.write_text(f"<!DOCTYPE html><html><body>{shown}</body></html>", "utf-8")
    opened_context = browser.new_context()
    try:
        page = opened_context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.goto(holder.as_uri())
        frame = page.frames[1]
        frame.wait_for_function("() => window.nnsym !== undefined")
        assert frame.evaluate("nnsym.step(20)") == 20
        assert frame.locator("math").count() > 10
        assert errors == []
    finally:
        opened_context.close()


def test_pointing_at_a_link_and_picking_a_csv_file(browser, pages, tmp_path):
    """A link's value and gradient on hover; a CSV picked in the page trains."""
    opened = Opened(browser, pages("xor", make_spec("2-2-1"), "xor"))
    try:
        page = opened.page
        # The second link, input x1 to the first hidden neuron (links cross, so
        # the event goes to the line itself rather than to a point of the page).
        page.locator("line.link").nth(1).dispatch_event("mousemove")
        tip = page.locator("#tip").text_content()
        assert tip.startswith("w1_0_1 = ") and "∂L/∂w1_0_1 = " in tip
        page.locator("circle.node").nth(2).click()
        assert "neuron 0 of layer 1" in page.locator("#tip").text_content()
        picked = tmp_path / "mine.csv"
        picked.write_text("a,b,label\n0,0,no\n0,1,yes\n1,0,yes\n1,1,no\n", "utf-8")
        page.locator("#csv").set_input_files(str(picked))
        page.wait_for_function(
            "() => document.querySelector('#dataset').value === 'csv'"
        )
        info = page.locator("#data-info").text_content()
        assert info.startswith("mine.csv: 4 samples") and "inputs a, b" in info
        assert page.evaluate("nnsym.step(10)") == 10
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n", "utf-8")
        page.locator("#csv").set_input_files(str(bad))
        page.wait_for_function(
            "() => document.querySelector('#data-error').textContent"
        )
        assert "bad.csv" in page.locator("#data-error").text_content()
        opened.check_clean()
    finally:
        opened.close()

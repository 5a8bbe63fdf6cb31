"""The playground page in Firefox: Debian's firefox-esr, headless, from file://.

Playwright drives only its own build of Firefox, so this test asks Firefox for
a screenshot of the page (`--screenshot`), opened with 300 epochs to train in
its hash, and counts the picture's colours: the page's script paints the
boundary, the neurons' pictures and the diagram, some ten thousand colours;
the same page with its script refused (a wrong hash in its policy) shows about
a thousand, its text and panels. The screenshot goes to tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from nnsym import api
from nnsym.pipeline.spec import make_spec
from tests.test_playground_browser import ARTIFACTS

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
image = pytest.importorskip("matplotlib.image")
pytestmark = pytest.mark.skipif(FIREFOX is None, reason="needs Debian's firefox-esr")


def _colours(path) -> int:
    pixels = (image.imread(str(path))[..., :3] * 255).astype(int)
    packed = pixels[..., 0] << 16 | pixels[..., 1] << 8 | pixels[..., 2]
    return len(set(packed.ravel().tolist()))


def _screenshot(page, picture, tmp_path) -> None:
    run = subprocess.run(
        [
            FIREFOX,
            "--headless",
            "--window-size=1400,1100",
            "--screenshot",
            str(picture),
            page.as_uri() + "#lr=0.03&optimizer=adam&epochs=300",
        ],
        env=dict(os.environ, HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert picture.is_file()


def test_the_page_runs_in_firefox(tmp_path):
    page = tmp_path / "moons.html"
    built = api.build_playground(make_spec("2-8-8-1", activation="tanh"), "moons")
    built.save(page)
    ARTIFACTS.mkdir(exist_ok=True)
    picture = ARTIFACTS / "playground_firefox_moons.png"
    _screenshot(page, picture, tmp_path)
    # The control: the same page with its script refused by the policy.
    refused = tmp_path / "refused.html"
    text = built.html.replace("script-src &#39;sha256-", "script-src &#39;sha256-A")
    assert text != built.html
    refused.write_text(text, encoding="utf-8")
    control = tmp_path / "refused.png"
    _screenshot(refused, control, tmp_path)
    assert _colours(control) < 3000
    assert _colours(picture) > 4000

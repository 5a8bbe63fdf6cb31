"""The playground page's speed in headless Chromium: frames and epochs per second.

    python -m benchmarks --only playground

Each case writes the page, opens it from disk in Debian's chromium (driven by
Playwright), presses play through the page's scripting API and lets it run
for a few seconds with the boundary (and every hidden neuron's picture)
redrawn each frame; the page counts its frames, epochs and the milliseconds
its own work took. A headless browser paces frames at most 60 a second, so
the work per frame is printed too: 1000 / that is the rate the page could
reach unpaced.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nnsym import api
from nnsym.pipeline.spec import make_spec

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# (case, arch, options, --data, page settings, goal in frames a second, epochs/frame)
CASES = (
    ("XOR 2-2-1", "2-2-1", {}, "xor", "speed=10", 60, 10),
    (
        "moons 2-16-16-1, 200 points",
        "2-16-16-1",
        {"activation": "tanh"},
        "moons",
        "count=200&split=0&speed=1&lr=0.01&optimizer=adam",
        30,
        1,
    ),
    (
        "moons 2-16-16-1, 200 points, 10 epochs a frame",
        "2-16-16-1",
        {"activation": "tanh"},
        "moons",
        "count=200&split=0&speed=10&lr=0.01&optimizer=adam",
        None,
        10,
    ),
)


# The browser's own ceiling in the same run: an empty page that only counts
# its animation frames.
EMPTY_PAGE = """<!DOCTYPE html><html><body><script>
let frames = 0;
const start = performance.now();
function tick() { frames++; requestAnimationFrame(tick); }
requestAnimationFrame(tick);
window.count = () => ({ frames, seconds: (performance.now() - start) / 1000 });
</script></body></html>
"""


def chromium() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


def playground_case(directory: Path, quick: bool) -> list[dict]:
    """Run every case; one dict of figures per case."""
    from playwright.sync_api import sync_playwright

    seconds = 1.0 if quick else 5.0
    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_ARGS
        )
        try:
            empty = directory / "empty.html"
            empty.write_text(EMPTY_PAGE, encoding="utf-8")
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(empty.as_uri())
            page.wait_for_timeout(seconds * 1000)
            count = page.evaluate("window.count()")
            page.close()
            results.append(
                {
                    "case": "an empty page (the browser's own frame rate)",
                    "epochs_per_frame": 0,
                    "frames_per_second": count["frames"] / count["seconds"],
                    "epochs_per_second": 0.0,
                    "ms_per_frame": 0.0,
                    "unpaced_frames_per_second": None,
                    "goal_fps": None,
                    "errors": [],
                }
            )
            for case, arch, options, data, hash_, goal, per_frame in CASES:
                spec = make_spec(arch, **options)
                path = directory / f"playground_{spec.name}.html"
                api.build_playground(spec, data).save(path, force=True)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors: list[str] = []
                page.on("pageerror", lambda error, sink=errors: sink.append(str(error)))
                page.goto(f"{path.as_uri()}#{hash_}")
                page.wait_for_function("() => window.nnsym !== undefined")
                page.evaluate("nnsym.play()")
                page.wait_for_timeout(seconds * 1000)
                stats = page.evaluate("(nnsym.pause(), nnsym.stats())")
                page.close()
                frames, elapsed = stats["frames"], stats["seconds"]
                busy = stats["busy"] / max(frames, 1)
                results.append(
                    {
                        "case": case,
                        "epochs_per_frame": per_frame,
                        "frames_per_second": frames / elapsed,
                        "epochs_per_second": stats["epochs"] / elapsed,
                        "ms_per_frame": busy,
                        "unpaced_frames_per_second": 1000 / busy if busy else None,
                        "goal_fps": goal,
                        "errors": errors,
                    }
                )
        finally:
            browser.close()
    return results


def playground_table(results: list[dict]) -> str:
    """Markdown table of the cases, then a line per goal."""
    lines = [
        "| playground in headless Chromium | epochs a frame | frames/s "
        "| epochs/s | page's work a frame | unpaced frames/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        unpaced = r["unpaced_frames_per_second"]
        if unpaced is None:
            lines.append(
                f"| {r['case']} | - | {r['frames_per_second']:.1f} | - | - | - |"
            )
            continue
        lines.append(
            f"| {r['case']} | {r['epochs_per_frame']} | {r['frames_per_second']:.1f} "
            f"| {r['epochs_per_second']:.0f} | {r['ms_per_frame']:.2f} ms "
            f"| {unpaced:.0f} |"
        )
    lines.append("")
    for r in results:
        if r["goal_fps"] is None:
            continue
        met = r["frames_per_second"] >= r["goal_fps"] * 0.95
        lines.append(
            f"goal: {r['case']} at {r['goal_fps']} frames/s with "
            f"{r['epochs_per_frame']} epochs a frame: "
            f"{r['frames_per_second']:.1f} frames/s, "
            f"{'met' if met else 'NOT met'}"
            f" (the page's work could run {r['unpaced_frames_per_second']:.0f}/s)"
        )
    for r in results:
        if r["errors"]:
            lines.append(f"errors in {r['case']}: {r['errors']}")
    return "\n".join(lines)

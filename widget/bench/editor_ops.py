"""Main-thread blocking of the mask editor's whole-mask operations on a 12-MP image.

Opens the editor's standalone test page (synthetic 4000x3000 photo) in headless Chromium,
runs each whole-mask operation through the toolbar like a user, and records the page's long
tasks (PerformanceObserver 'longtask', tasks > 50 ms) while it runs. Prints a table: wall time
until the op is done, the longest main-thread task, and the total blocking time (sum of
long-task time beyond 50 ms). Usage::

    .venv/bin/python -m widget.bench editor-ops [--width 4000 --height 3000 --repeat 2]
        [--baseline GIT_REV]   # also time that revision's editor, rounds interleaved
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from widget.bench.harness import parser
from widget.testing.chromium import chromium
from widget.testing.pages import ROOT, build_page, open_editor, serve, to_client

if TYPE_CHECKING:
    from playwright.sync_api import Page

OBSERVE = """() => {
    window.__long = [];
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__long.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: false });
}"""

# Each step: name, JS that starts it (in the page), and whether it is an edit (log grows).
SET = """([name, value]) => {
    const el = document.querySelector(`[data-name="${name}"]`);
    el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
}"""
CLICK = '(name) => document.querySelector(`[data-name="${name}"]`).click()'


def run_step(
    page: Page, name: str, start: Callable[[], object], edit: bool
) -> tuple[float, float, float]:
    """Run one op; return (wall ms, longest task ms, total blocking ms)."""
    before = page.evaluate("window.__edits.count")
    page.evaluate("window.__long = []; window.__t0 = performance.now()")
    start()
    if edit:
        page.wait_for_function(f"window.__edits.count > {before}", timeout=120_000)
    page.wait_for_function("window.__editor.root.dataset.busy === undefined", timeout=120_000)
    page.evaluate("() => window.__editor.idle()")
    wall = page.evaluate("performance.now() - window.__t0")
    page.wait_for_timeout(300)  # let the observer deliver the last entries
    tasks = [d for s, d in page.evaluate("window.__long")]
    longest = max(tasks, default=0.0)
    blocking = sum(max(0.0, d - 50) for d in tasks)
    return wall, longest, blocking


def steps(page: Page) -> list[tuple[str, Callable[[], object], bool]]:
    """List the whole-mask operations, in an order that keeps every one meaningful."""
    w, h = page.evaluate(
        "[window.__editor.history.mask.width, window.__editor.history.mask.height]"
    )
    xy = to_client(page, w * 0.3, h * 0.5)  # object A

    def keep_region() -> None:
        page.evaluate(CLICK, "tool-keep")
        page.mouse.click(*xy)

    return [
        ("threshold 128", lambda: page.evaluate(SET, ["threshold", "128"]), True),
        ("fill holes", lambda: page.evaluate(CLICK, "fill"), True),
        ("feather r=3", lambda: page.evaluate(CLICK, "feather"), True),
        ("invert", lambda: page.evaluate(CLICK, "invert"), True),
        ("undo (invert)", lambda: page.evaluate(CLICK, "undo"), True),
        ("keep region", keep_region, True),
        ("reset", lambda: page.evaluate(CLICK, "reset"), True),
        ("background blur", lambda: page.evaluate(SET, ["background", "blur"]), False),
        ("background none", lambda: page.evaluate(SET, ["background", "transparent"]), False),
        (
            "saved snapshot",
            lambda: page.evaluate("window.__snapshot().then(r => window.__snap = r)"),
            False,
        ),
    ]


def baseline_tree(rev: str, into: Path) -> Path:
    """Extract ``js/`` of commit ``rev`` into ``into`` (a checkout-shaped tree); return it."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "js/src", "js/test"],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main(argv: list[str] | None = None) -> int:
    """Run the rounds (baseline and current pages alternate) and print the table."""
    ap = parser("editor-ops", __doc__)
    ap.add_argument("--width", type=int, default=4000)
    ap.add_argument("--height", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--baseline", help="git revision to compare with (its editor sources)")
    args = ap.parse_args(argv)
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, chromium() as browser:
        sites = {"now": build_page(Path(tmp) / "page")}
        if args.baseline:
            base_root = baseline_tree(args.baseline, Path(tmp) / "base")
            sites[args.baseline] = build_page(Path(tmp) / "base-page", root=base_root)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        servers = {name: serve(site) for name, site in sites.items()}
        bases = {name: srv.__enter__() for name, srv in servers.items()}
        try:
            for _ in tqdm(range(args.repeat), desc="rounds"):
                for name in reversed(list(bases)):  # baseline first, then the current code
                    open_editor(page, bases[name], args.width, args.height, hostw=1000)
                    page.evaluate(OBSERVE)
                    page.evaluate("() => window.__editor.idle()")
                    page.wait_for_timeout(500)
                    for op, start, edit in steps(page):
                        results.setdefault((name, op), []).append(run_step(page, op, start, edit))
        finally:
            for srv in servers.values():
                srv.__exit__(None, None, None)
    mp = args.width * args.height / 1e6
    print(f"\nEditor whole-mask ops, {args.width}x{args.height} ({mp:.0f} MP), Chromium headless,")
    print(f"median of {args.repeat} rounds (ms): wall = until done; longest = longest main-thread")
    print("task; blocking = sum of long-task time beyond 50 ms")
    names = list(reversed(list(bases)))
    head = "".join(f"{f'{n}: wall':>16}{'longest':>9}{'blocking':>9}" for n in names)
    print(f"{'operation':<18}{head}")
    for op in dict.fromkeys(o for _, o in results):
        row = ""
        for n in names:
            wall, longest, blocking = (
                statistics.median(c) for c in zip(*results[(n, op)], strict=True)
            )
            row += f"{wall:>16.0f}{longest:>9.0f}{blocking:>9.0f}"
        print(f"{op:<18}{row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

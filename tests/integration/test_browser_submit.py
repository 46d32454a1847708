"""A researcher in a real browser: signs in, uploads a model, watches it evaluated, finds it ranked.

Playwright drives Debian's chromium against gunicorn; a real worker evaluates through the real broker.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own background traffic would be refused by this closed network, many times a second.
QUIET = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(site, tmp_path):
    """Request it after the database fixtures: Playwright's event loop forbids the ORM in this thread."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        page = browser.new_page(base_url=site.url)
        yield page
        page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
        browser.close()


# the run's screenshots, each page at a desktop and a phone width (git ignores var/)
SCREENSHOTS = Path(os.environ.get("ZOOBOARD_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}


def screenshots(page, name: str) -> None:
    """The page at each width, whole; and no sideways scroll at either."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width, f"{name} scrolls sideways at {width} px: {wide} px wide, past it: " + page.evaluate(
            """(width) => [...document.querySelectorAll("main *")]
                .filter((e) => e.getBoundingClientRect().right > width && e.offsetParent !== null)
                .slice(0, 5)
                .map((e) => `${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 30)}"`)
                .join(", ")""",
            width,
        )
    page.set_viewport_size({"width": 1400, "height": 900})


def sign_in(page, username):
    page.goto("/accounts/login/?next=/submit/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/submit/$"))


def test_a_researcher_submits_through_the_form_and_sees_the_result(cifar10, alice, model_path, page):
    sign_in(page, "alice")
    page.set_input_files("input[name=model_file]", str(model_path("resnet20")))
    page.fill("input[name=name]", "ResNet20 from the browser")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("ResNet20 from the browser")
    expect(page.locator(".message")).to_contain_text("queued for evaluation")
    # the page follows the evaluation through the API and reloads itself when it is done
    expect(page.locator(".metric-original-top1")).to_have_text("81.03%", timeout=180_000)
    expect(page.locator("#status-value")).to_have_text("done")
    expect(page.locator("#progress")).to_have_attribute("value", "10000")  # the bar reached the end
    # every chart of the page drew its points: slices (one chart per slicer), reliability bins, confusion cells
    charts = page.locator("canvas[data-chart]")
    kinds = set(charts.evaluate_all("(canvases) => canvases.map((c) => c.dataset.chart)"))
    assert kinds == {"slices", "reliability", "confusion"}
    for index in range(charts.count()):
        expect(charts.nth(index)).to_have_attribute("data-drawn", re.compile(r"^[1-9][0-9]*$"))
    confusion = page.locator("#charts-original canvas[data-chart=confusion]")
    assert confusion.get_attribute("data-drawn") == "100"  # 10 x 10 cells
    screenshots(page, "submission")
    page.goto("/testsets/cifar10/")
    screenshots(page, "board")
    page.set_viewport_size({"width": 1400, "height": 900})
    table = page.evaluate(
        "() => { const box = document.querySelector('.table-scroll'); return [box.scrollWidth, box.clientWidth]; }"
    )
    assert table[0] <= table[1], f"the board does not fit a 1400 px window: {table[0]} px in {table[1]}"
    row = page.locator("table.ranking tbody tr").first
    expect(row).to_contain_text("ResNet20 from the browser")
    expect(row.locator(".top1 .value")).to_have_text("81.03%")
    expect(row.locator(".top1 .ci")).to_have_text("80.25–81.79")  # Wilson 95% on 8,103 of 10,000

    # the chart, drawn by the Chart.js the site serves itself, plots the model at its GMACs and top-1
    page.wait_for_function("() => window.Chart && Chart.getChart('cost-chart')")
    plotted = page.evaluate("() => Chart.getChart('cost-chart').data.datasets[0].data.map(d => [d.x, d.y])")
    (gmacs, top1), shown_gmacs = plotted[0], row.locator(".macs").inner_text()
    assert len(plotted) == 1 and f"{gmacs:.3f}" == shown_gmacs and top1 == pytest.approx(81.03)
    page.click(".cost-chart button[data-axis=throughput]")
    axis = page.evaluate("() => Chart.getChart('cost-chart').options.scales.x.title.text")
    assert axis.startswith("images/s")
    front = page.evaluate("() => Chart.getChart('cost-chart').data.datasets[1].data.length")
    assert front == 1  # the only model is the whole Pareto front
    # original against clean labels: the one model, at its two top-1s
    expect(page.locator("#noise-chart")).to_have_attribute("data-drawn", "1")
    clean = page.evaluate("() => Chart.getChart('noise-chart').data.datasets[0].data[0].y")
    assert f"{clean:.2f}%" == row.locator(".beside.clean").inner_text()  # what the board's clean column shows

    page.click("table.ranking thead th.beside a:text-is('Clean labels')")  # sort by clean top-1
    expect(page).to_have_url(re.compile(r"sort=clean"))
    expect(page.locator("table.ranking tbody tr").first).to_contain_text("ResNet20 from the browser")
    page.goto("/testsets/cifar10/?label_set=clean")
    expect(page.locator("#curves-chart")).to_have_attribute("data-drawn", re.compile(r"^[1-9][0-9]*$"))
    screenshots(page, "clean-board")

    # a second model, then the two compared from the board's ticked rows
    page.goto("/submit/")
    page.set_input_files("input[name=model_file]", str(model_path("resnet56")))
    page.fill("input[name=name]", "ResNet56 from the browser")
    page.click("form.submit button[type=submit]")
    expect(page.locator("#status-value")).to_have_text("done", timeout=180_000)
    page.goto("/testsets/cifar10/")
    for name in ("ResNet20 from the browser", "ResNet56 from the browser"):
        page.locator("table.ranking tbody tr", has_text=name).locator("input[name=id]").check()
    page.click("#compare-rows button[type=submit]")
    expect(page.locator("h1")).to_contain_text("vs")
    expect(page.locator("#paired-original")).to_contain_text("McNemar's exact p")
    screenshots(page, "compare")

    # the rest of the site a researcher sees, at both widths
    for path, name in (("/", "home"), ("/submit/", "submit"), ("/submissions/mine/", "my-submissions")):
        page.goto(path)
        screenshots(page, name)
    page.goto("/submissions/mine/")
    page.locator("table.mine tbody tr").first.locator("a").first.click()
    page.click("#edit-card")
    screenshots(page, "model-card")
    page.goto("/no/such/page/")
    screenshots(page, "not-found")


def test_a_newcomer_signs_up_confirms_through_the_mailed_link_and_makes_a_token(site, page):
    """The demo's mail goes to the console: here, gunicorn's log, where the test reads the link as a user would
    read their inbox."""
    page.goto("/")
    page.click("text=Sign up")
    screenshots(page, "signup")
    page.fill("input[name=email]", "newcomer@example.org")
    page.fill("input[name=username]", "newcomer")
    page.fill("input[name=password1]", "a long passphrase")
    page.fill("input[name=password2]", "a long passphrase")
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    screenshots(page, "confirm-email")
    link = None
    deadline = time.monotonic() + 30
    while link is None and time.monotonic() < deadline:  # the worker writes the mail as it sends the page
        found = re.search(r"(http://127\.0\.0\.1:\d+/accounts/confirm-email/[^\s]+/)", site.log_path.read_text())
        link = found.group(1) if found else None
        if link is None:
            time.sleep(0.1)
    assert link, site.log_path.read_text()[-2000:]
    page.goto(link)
    page.click("form button[type=submit]")  # confirm: and, having just signed up, signed in
    expect(page.locator("#nav-account")).to_have_text("newcomer")
    page.goto("/account/")
    page.fill("input[name=name]", "laptop")
    page.click("form[action='/account/tokens/'] button[type=submit]")
    key = page.locator("#token").inner_text()
    assert key.startswith("zb_") and len(key) > 20
    screenshots(page, "account")
    page.reload()
    assert key not in page.content()  # shown once
    expect(page.locator("#tokens")).to_contain_text("laptop")


def test_a_broken_upload_is_explained_on_the_form(cifar10, alice, onnx_test_models, page):
    sign_in(page, "alice")
    page.set_input_files("input[name=model_file]", str(onnx_test_models["not_onnx"]))
    page.fill("input[name=name]", "Not a model")
    page.click("button[type=submit]")
    expect(page.locator(".errorlist")).to_have_text(
        "the file is not an ONNX model: it could not be parsed as an ONNX protobuf"
    )

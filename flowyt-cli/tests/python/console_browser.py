"""Drives the flowyt console in a real headless Chromium (Debian's, through Playwright).

Usage: console_browser.py BASE_URL SCREENSHOT_DIR MODE [TOKEN]
MODE `open`: a loopback server without a secret (the scenarios of the console issue);
MODE `secret`: a server with a secret (the login form and its cookie).
Prints one line per check; exits 1 with the failures listed when any check fails.
"""

import os
import sys
from urllib.parse import urlparse

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sys.stderr.write("playwright is not installed: python3 -m pip install playwright==1.65.2\n")
    sys.exit(3)

BASE, SHOTS, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = sys.argv[4] if len(sys.argv) > 4 else ""
CHROMIUM = os.environ.get("FLOWYT_CHROMIUM", "/usr/bin/chromium")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)


def svg_texts(page):
    """The texts of the graph (SVG elements have no innerText: their textContent)."""
    return page.locator(".graph svg text").evaluate_all("els => els.map(e => e.textContent || '')")


def scenarios_open(page, navigations):
    page.goto(BASE + "/_console/")
    check(page.locator("section.workspace[data-workspace='shop']").count() == 1, "home lists workspace shop")
    check(page.locator("section.workspace[data-workspace='evil']").count() == 1, "home lists workspace evil")
    failed = page.locator("section.failed")
    check(failed.count() == 1 and "broken" in failed.inner_text(), "home shows the workspace that failed to load")
    check("error[" in failed.inner_text(), "with its diagnostics")
    check("broken/flows/bad.json:" in failed.inner_text(), "located as file:line:col")
    shot(page, "home")

    page.click("section.workspace[data-workspace='shop'] a:text-is('order')")
    page.wait_for_url("**/flows/order")
    texts = svg_texts(page)
    for label in ["fetch: request", "keep: flow_var", "answer: response", "failed: response"]:
        check(any(label in t for t in texts), "the graph draws " + label)
    check(page.locator("label[for='param-qty']").count() == 1, "the form labels param qty")
    check(page.locator("input[name='qty'][type='number']").count() == 1, "qty is a number input")
    check(page.locator("input[name='note']").input_value() == "none", "note shows its default")
    shot(page, "flow")

    page.fill("#param-qty", "0")
    page.click("form.trigger button[type='submit']")
    page.wait_for_selector("#error-qty")
    error = page.locator("#error-qty").inner_text()
    check("qty" in error and "at least 1" in error, "a bad param is refused next to its field: " + error)
    check(page.locator("table.runs tbody tr").count() == 0, "a refused trigger starts no run")
    check(page.locator("#param-qty").input_value() == "0", "the form keeps what was typed")
    shot(page, "flow-bad-param")

    page.fill("#param-qty", "3")
    page.click("form.trigger button[type='submit']")
    page.wait_for_url("**/runs/**")
    arrived = len(navigations)
    page.wait_for_selector("#run-status[data-status='success']", timeout=20000)
    check(len(navigations) == arrived, "the run reached success on screen without a reload")
    steps = page.locator("table.steps tbody tr").evaluate_all("rows => rows.map(r => r.dataset.step)")
    check(steps == ["fetch", "keep", "answer"], "the run page lists its steps in order: %s" % steps)
    branch = page.locator("table.steps tbody tr[data-step='fetch'] td").nth(3).inner_text()
    check(branch == "success", "with the branch each took: " + branch)
    check("\"qty\": 3" in page.locator("#run-conf").inner_text(), "and the params it ran with")
    output = page.locator("table.steps tbody tr[data-step='fetch'] details:has(summary:text-is('output')) pre")
    check(output.count() == 1 and "\"ok\": true" in output.text_content(), "each step shows its output")
    shot(page, "run")

    page.goto(BASE + "/_console/workspaces/evil/flows/x")
    check(page.evaluate("window.__xss === undefined"), "a hostile action id runs no script")
    texts = " ".join(svg_texts(page))
    check("<img src=x onerror=" in texts, "a hostile action id renders as text in the graph")
    check("<script>" in page.content() or "&lt;script&gt;" in page.content(), "hostile data is on the page as text")
    page.fill("#param-who", "<script>window.__xss=2</script>")
    page.click("form.trigger button[type='submit']")
    page.wait_for_selector("#run-status[data-status='success']", timeout=20000)
    check(page.evaluate("window.__xss === undefined"), "hostile params and results run no script")
    shot(page, "evil")

    page.goto(BASE + "/_console/workspaces/shop/flows/big")
    nodes = svg_texts(page)
    check(sum(1 for t in nodes if ": " in t) >= 40, "a 40-action flow with switches and a loop is drawn whole")
    shot(page, "big")

    # API docs, offline: the operating API's, then a workspace's, from the home page's links.
    page.goto(BASE + "/_console/")
    page.click("header.top nav a:text-is('API')")
    page.wait_for_url("**/_console/api")
    ops = page.locator("section.op").count()
    check(ops >= 30, "the API page documents every operation (%d)" % ops)
    check(page.locator("section.op#airflow_trigger_dag_run h3").inner_text().startswith("POST"),
          "with its method and path")
    shot(page, "api")
    page.goto(BASE + "/_console/")
    page.click("section.workspace[data-workspace='shop'] h2 a:text-is('API')")
    page.wait_for_url("**/workspaces/shop/api")
    check("/shop/order" in page.locator("section.op h3").first.inner_text(), "a workspace's page lists its routes")
    check(page.locator("section.op code:text-is('qty')").count() == 1, "with the params its flow declares")
    page.goto(BASE + "/_console/workspaces/evil/api")
    check(page.evaluate("window.__xss === undefined"), "hostile names in a workspace's document run no script")
    shot(page, "api-workspace")


def scenarios_secret(page, context):
    page.goto(BASE + "/_console/")
    check("/_console/login" in page.url, "without the token the console asks for it")
    page.fill("#token", "wrong")
    page.click("button[type='submit']")
    check(page.locator(".error-box").count() == 1, "a wrong token is refused")
    page.fill("#token", TOKEN)
    page.click("button[type='submit']")
    page.wait_for_selector("section.workspace")
    check(page.url.endswith("/_console/"), "the right token opens the console")
    cookies = [c for c in context.cookies() if c["name"] == "flowyt_console"]
    check(len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict",
          "in an HttpOnly, SameSite=Strict cookie")
    shot(page, "after-login")


def main():
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        requests, errors, navigations = [], [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append("page error: %s" % e))
        # Console errors, except the browser's note on a page answered 4xx on purpose (a refused
        # form comes back 400): failed loads of anything else are caught by the response hook.
        page.on("console", lambda m: errors.append("console %s: %s" % (m.type, m.text))
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("response", lambda r: errors.append("%s answered %d" % (r.url, r.status))
                if r.status >= 400 and r.request.resource_type != "document" else None)
        page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
        page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
        try:
            if MODE == "open":
                scenarios_open(page, navigations)
            else:
                scenarios_secret(page, context)
        except Exception as e:  # a timeout or a missing element is a failure with its message
            import traceback
            traceback.print_exc()
            check(False, "scenario stopped: %s" % e)
            shot(page, "failure-" + MODE)
        hosts = {urlparse(u).hostname for u in requests if not u.startswith("data:")}
        check(hosts <= {"127.0.0.1"}, "no request leaves 127.0.0.1: %s" % sorted(h or "" for h in hosts))
        check(not errors, "no JavaScript error in the browser: %s" % errors)
        browser.close()
    if failures:
        sys.stderr.write("%d check(s) failed:\n  %s\n" % (len(failures), "\n  ".join(failures)))
        sys.exit(1)


main()

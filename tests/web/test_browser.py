"""The console in a real headless Chromium (Debian's chromium + chromedriver, Selenium), signed
in through a local OpenID Connect provider (oidc-provider-mock) that the test starts.

Set ``ANNEXA_TEST_SCREENSHOTS=docs/screenshots`` to refresh the screenshots kept in the repository.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from collector.settings import load_settings
from collector.web.app import create_app
from collector.web.server import HttpServer
from tests.web.conftest import FAILING, NOW, seed, write_config

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM and DRIVER):
        pytest.fail(
            "browser tests need Debian's chromium and chromium-driver (.ci/run installs them)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class Served:
    """The console on annexa's own HTTP server (the one ``annexa serve`` and the daemon use),
    127.0.0.1, a port chosen by the kernel, on a thread."""

    def __init__(self, app: object) -> None:
        self.server = HttpServer(app, "127.0.0.1", 0, what="web")  # type: ignore[arg-type]

    def __enter__(self) -> str:
        self.server.start()
        return f"http://127.0.0.1:{self.server.port}"

    def __exit__(self, *_: object) -> None:
        self.server.close()


def shot(driver: webdriver.Chrome, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("ANNEXA_TEST_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(folder / f"{name}.png"))


def submit(driver: webdriver.Chrome, wait: WebDriverWait, button: str) -> None:
    """Click a form's ``button`` and wait until the next page has loaded (it can have the same
    elements as the old one: found there, they go stale under the test). The old page is told
    apart by a mark on its window, not by an element handle (which Chromium may report as
    neither live nor stale while it navigates)."""
    driver.execute_script("window.annexaLeaving = true;")
    driver.find_element(By.CSS_SELECTOR, button).click()
    wait.until(
        lambda d: d.execute_script(
            "return window.annexaLeaving === undefined && document.readyState === 'complete';"
        )
    )


def sign_in(driver: webdriver.Chrome, base: str, who: str) -> None:
    driver.get(base + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'button[value="{who}"]'))).click()
    wait.until(ec.url_contains(base))
    wait.until(ec.presence_of_element_located((By.TAG_NAME, "h1")))


def test_sign_in_navigate_accept_a_risk_and_auditor_cannot_write(
    browser, tmp_path, sqlite_url, monkeypatch
) -> None:
    users = [
        User(sub="alice", claims={"email": "alice@example.com"}),
        User(sub="audrey", claims={"email": "audrey@example.com"}),
    ]
    with run_server_in_thread(user_claims=users) as idp:
        monkeypatch.setenv("ANNEXA_OIDC_CLIENT_SECRET", "any-secret")
        config = write_config(
            tmp_path,
            sqlite_url,
            anonymous_role=None,
            oidc={"issuer": f"http://localhost:{idp.server_port}", "client_id": "annexa"},
            users=[
                {"email": "alice@example.com", "role": "editor"},
                {
                    "email": "audrey@example.com",
                    "role": "auditor",
                    "period_from": "2020-01-01",
                    "period_to": "2030-12-31",
                },
            ],
        )
        checks = seed(sqlite_url, config)
        with Served(create_app(load_settings(config), clock=lambda: NOW)) as base:
            driver, wait = browser, WebDriverWait(browser, 30)
            sign_in(driver, base, "alice")
            assert "alice@example.com (editor)" in driver.page_source
            assert driver.find_element(By.TAG_NAME, "h1").text == "Overview"
            shot(driver, "overview", tmp_path)
            driver.get(base + "/#measures")  # the period's clause 9.1 measures
            wait.until(ec.visibility_of_element_located((By.ID, "measures")))
            assert "Times a control went failing" in driver.find_element(By.TAG_NAME, "main").text
            shot(driver, "overview-measures", tmp_path)

            driver.find_element(By.LINK_TEXT, "Controls").click()
            Select(wait.until(ec.presence_of_element_located((By.ID, "state")))).select_by_value(
                "failing"
            )
            submit(driver, wait, "form.filters button")
            wait.until(ec.presence_of_element_located((By.LINK_TEXT, "A.8.3")))
            shot(driver, "controls", tmp_path)
            driver.find_element(By.LINK_TEXT, "A.8.3").click()
            wait.until(ec.presence_of_element_located((By.ID, "failing")))
            assert FAILING in driver.find_element(By.CSS_SELECTOR, "main").text
            state = driver.find_element(By.CSS_SELECTOR, "main p .state").text
            assert state == "failing"
            shot(driver, "control", tmp_path)
            driver.get(driver.current_url.split("#")[0] + "#measures")
            wait.until(ec.visibility_of_element_located((By.ID, "measures")))
            assert "Mean time to restore" in driver.find_element(By.TAG_NAME, "main").text
            shot(driver, "control-measures", tmp_path)

            row = driver.find_element(By.XPATH, f"//td[text()='{checks[0]}']/..")
            row.find_element(By.CSS_SELECTOR, "a[href^='/records/']").click()
            wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "main"), "Seal verified"))
            assert FAILING in driver.page_source
            shot(driver, "record", tmp_path)

            driver.back()
            wait.until(ec.presence_of_element_located((By.ID, "add-exception")))
            Select(driver.find_element(By.ID, "ex-check")).select_by_visible_text(checks[0])
            driver.find_element(By.ID, "ex-resource").send_keys(FAILING)
            driver.find_element(By.ID, "ex-reason").send_keys("public website bucket")
            driver.find_element(By.ID, "ex-approved").send_keys("cto@example.com")
            driver.execute_script("document.getElementById('ex-expires').value = '2099-12-31';")
            submit(driver, wait, "#add-exception button")
            wait.until(ec.presence_of_element_located((By.ID, "reasons")))
            state = driver.find_element(By.CSS_SELECTOR, "main p .state").text
            assert state not in ("failing", "error"), state
            assert "public website bucket" in driver.page_source
            shot(driver, "control-accepted", tmp_path)

            browser.delete_all_cookies()
            sign_in(driver, base, "audrey")
            assert "audrey@example.com (auditor" in driver.page_source
            driver.get(base + "/controls/A.8.3")
            wait.until(ec.presence_of_element_located((By.ID, "exceptions")))
            assert not driver.find_elements(By.ID, "add-exception")
            # a hand-made form with a valid CSRF token is still refused for the auditor
            driver.execute_script(
                """
                const token = document.querySelector('input[name=csrftoken]').value;
                const f = document.createElement('form');
                f.method = 'post'; f.action = '/exceptions';
                for (const [k, v] of Object.entries({csrftoken: token, check: arguments[0],
                     resource: '*', reason: 'x', approved_by: 'x', expires: '2099-12-31'})) {
                  const i = document.createElement('input'); i.name = k; i.value = v;
                  f.appendChild(i);
                }
                document.body.appendChild(f); f.submit();
                """,
                checks[0],
            )
            wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "main"), "may not"))

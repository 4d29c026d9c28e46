"""The operator console as a deployer runs it (`eldercare console`), and a logged-in browser-less client."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from e2e_support import free_port
from storage.settings import PROJECT_ROOT

PASSWORDS = {"wangfang": "wangfang-pass1", "lisi": "lisi-pass-22", "lead": "zuzhang-pass1"}
NAMES = {"wangfang": "王芳", "lisi": "李四", "lead": "李组长"}


def eldercare(var: Path, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "ELDERCARE_VAR_DIR": str(var), **(env or {})}
    full_env.pop("ELDERCARE_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_ROOT, env=full_env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def add_operators(var: Path) -> None:
    for user in PASSWORDS:
        extra = ["--supervisor"] if user == "lead" else []
        done = eldercare(var, "operators", "add", user, "--name", NAMES[user], "--password-stdin", *extra,
                         stdin=PASSWORDS[user] + "\n")
        assert done.returncode == 0, done.stderr


class ConsoleServer:
    """`eldercare console` on a free port, with its own var dir (SQLite)."""

    def __init__(self, var: Path, advisor_url: str, env: dict | None = None):
        self.var, self.port = var, free_port()
        full_env = {**os.environ, "ELDERCARE_VAR_DIR": str(var), **(env or {})}
        full_env.pop("ELDERCARE_DB_URL", None)
        self.log_path = var / f"console-{self.port}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "console", "--url", advisor_url,
                                      "--port", str(self.port)], cwd=PROJECT_ROOT, env=full_env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("eldercare console exited: " + self.log_path.read_text(errors="replace")[-2000:])
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("eldercare console did not start within 60 s")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_CSRF = re.compile(r'data-csrf="([^"]+)"')


class Operator:
    """One operator's browser, without the browser: cookies, CSRF tokens, form posts."""

    def __init__(self, url: str):
        self.url, self.http = url, requests.Session()

    def login(self, user: str, password: str | None = None) -> requests.Response:
        page = self.http.get(self.url + "/login")
        token = CSRF.search(page.text).group(1)
        return self.http.post(self.url + "/login", data={"csrf_token": token, "username": user,
                                                         "password": password or PASSWORDS[user]},
                              allow_redirects=False)

    def csrf(self) -> str:
        return CSRF.search(self.http.get(self.url + "/").text).group(1)

    def new_call(self) -> int:
        reply = self.http.post(self.url + "/calls", data={"csrf_token": self.csrf()}, allow_redirects=False)
        assert reply.status_code == 302, reply.text
        return int(reply.headers["Location"].rsplit("/", 1)[1])

    def call_csrf(self, call_id: int) -> str:
        return PAGE_CSRF.search(self.http.get(f"{self.url}/calls/{call_id}").text).group(1)

    def say(self, call_id: int, text: str) -> requests.Response:
        return self.http.post(f"{self.url}/api/calls/{call_id}/say", json={"text": text},
                              headers={"X-CSRF-Token": self.call_csrf(call_id)})


# --- the console in a browser (Debian's chromium, driven by Playwright) ------------------------------------
LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}             # upright
TABLET_WIDE = {"width": 1024, "height": 768}        # on its side


@pytest.fixture(scope="module")
def browser():
    import shutil
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("没有 chromium：make setup 会用 scripts/system-deps.sh 安装它")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


def open_page(browser, url: str, viewport: dict = LAPTOP):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.base_url = url
    return page


def log_in(page, user="wangfang", password=None):
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password or PASSWORDS[user])
    page.click("button[type=submit]")


def new_call(page) -> int:
    page.click("text=接听新来电")
    page.wait_for_selector("#steps li")
    return int(page.url.rsplit("/", 1)[1])


def steps(page) -> int:
    return page.locator("#steps li").count()


def after(page, action) -> None:
    """Do something that sends a turn, and wait until the advisor's reply is on the page."""
    before = steps(page)
    action()
    page.wait_for_function(f"document.querySelectorAll('#steps li').length > {before}")
    page.wait_for_timeout(100)


def say(page, text: str) -> None:
    def typed():
        page.fill("#said", text)
        page.press("#said", "Enter")
    after(page, typed)


def key(page, number: str) -> None:
    def pressed():
        page.locator("#said").blur()
        page.keyboard.press(number)
    after(page, pressed)


def read_out(page) -> str:
    return page.inner_text("#read-out")


def answers(page) -> list[str]:
    return [re.sub(r"^\d+\s*", "", t) for t in page.locator("#answers button").all_inner_texts()]


def result_names(page) -> list[str]:
    return [t.strip() for t in page.locator("#results li:not(.removed) strong").all_inner_texts()]


# What an operator sees without scrolling: the element is inside the window and nothing covers or
# clips it (the point at its centre belongs to it).
_SEEN = """el => {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height || r.top < 0 || r.left < 0) return false;
  if (r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (hit === el || el.contains(hit));
}"""


def seen(locator) -> bool:
    return locator.evaluate(_SEEN)


def seen_count(locator) -> int:
    return sum(1 for i in range(locator.count()) if seen(locator.nth(i)))

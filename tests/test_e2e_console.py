"""The operator console in a real headless Chromium (Debian's `chromium`, driven by Playwright)
against the real advisor (`eldercare serve`: Rasa server, action server, console).

A whole call as an operator takes it: log in, read the first question, type the caller's
shorthand, choose answers with number keys, edit a fact and see the results change, file a
home-care booking and get its reference, end the call and print the caller's summary to an
A4 PDF. The layout, read-only calls, Suzhou time, the summary and phone reveals at laptop and
tablet sizes: tests/test_e2e_console_calls.py (which also saves the README's screenshots)."""
from __future__ import annotations

import os
import re
import sqlite3

import pytest

from console_support import (add_operators, after, answers, browser, key, log_in, open_page, read_out,  # noqa: F401
                             result_names, say)
from e2e_support import Advisor

pytestmark = pytest.mark.e2e
PHONE = "13912345678"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    var = tmp_path_factory.mktemp("console-e2e")
    add_operators(var)
    advisor = Advisor(var, console=True)
    yield advisor
    assert advisor.stop() == 0


@pytest.fixture
def page(browser, running):
    page = open_page(browser, running.console_url)
    yield page
    page.context.close()


def test_a_wrong_password_is_refused(page):
    log_in(page, "wangfang", "not-the-password")
    assert page.url.endswith("/login?error=1")
    assert "用户名或密码不对" in page.inner_text(".error")
    page.goto(page.base_url + "/")
    assert page.url.endswith("/login")


def test_a_whole_call_to_a_booking_reference(page, running):
    log_in(page)
    assert "王芳" in page.inner_text(".topbar")
    page.click("text=接听新来电")
    page.wait_for_selector("#steps li")
    # the first question, phrased for speaking, apart from the instruction to the operator
    assert read_out(page).endswith("老人家，请问您今年多大岁数？")   # what comes before it is the advisor's own
    assert page.inner_text("#instruction").startswith("请记录：")

    # operator shorthand: the results come at once, the profile fills in, nothing is read from chat bubbles
    say(page, "83 昆山 本地 独居 半失能")
    assert "按" in read_out(page) and "项可以享受" in read_out(page)
    assert "更多" not in read_out(page) and "先看最要紧的" not in read_out(page)
    assert "「可以办的」逐项读给来电人听" in page.inner_text("#instruction")
    profile = page.inner_text("#profile")
    assert "83岁" in profile and "昆山" in profile and "一个人住" in profile
    names = result_names(page)
    assert "高龄津贴（尊老金）" in names and len(names) >= 5
    # one line each; why, where and what to bring open on demand
    first = page.locator("#results li.result").first
    assert "为什么：" not in first.inner_text()
    first.locator("summary").click()
    assert "为什么：" in first.inner_text() and "去哪里办：" in first.inner_text()
    assert not page.locator("#results li.changed").count()   # first appearance: nothing "changed"
    assert "更多" not in answers(page) and answers(page)[0] == "好，继续回答"

    # key 1 = "好，继续回答": the next question, with its numbered answers
    key(page, "1")
    assert read_out(page).startswith("老人家，")
    options = answers(page)
    # the question that decides what matters most here (半失能: 长护险 needs 苏州医保) comes first
    assert "有苏州医保" in options
    key(page, str(options.index("有苏州医保") + 1))
    assert "医保" in page.inner_text("#profile")
    for _ in range(6):   # on to the household's economic status
        if "都不是" in answers(page):
            break
        key(page, "1")
    options = answers(page)

    # key N chooses the N-th answer
    key(page, str(options.index("都不是") + 1))
    assert "家庭经济状况" in page.inner_text("#profile") and "都不是" in page.inner_text("#profile")

    # edit a fact with one click: 户籍 → 外地; the results that depended on it change, highlighted
    page.click("dd[data-fact=hukou]")
    after(page, lambda: page.click("#editor button:has-text('外地')"))
    assert "高龄津贴（尊老金）" not in result_names(page)
    removed = page.locator("#results li.removed.changed")
    assert removed.count() >= 1 and "不再符合" in removed.first.inner_text()
    assert page.locator("dd[data-fact=hukou].changed").count() == 1
    assert "已改为" in page.inner_text("#also") + read_out(page)   # said back to the caller

    # back to 本地, then file a home-care booking from the results card
    page.click("dd[data-fact=hukou]")
    after(page, lambda: page.click("#editor button:has-text('有苏州户口')"))
    assert "高龄津贴（尊老金）" in result_names(page)
    after(page, lambda: page.click(".start:has-text('上门服务')"))
    assert "上门服务" in read_out(page)
    key(page, str(answers(page).index("助浴（洗澡）") + 1))
    # the booking form's questions, answered as a caller would (the form decides their order)
    replies = {"哪一天": "后天", "还是晚上": "上午", "地址": "昆山市前进中路88号3幢201",
               "怎么称呼": "张阿姨", "什么人": "我是她女儿", "电话": PHONE}
    for _ in range(8):
        asked = read_out(page)
        print("booking form asks:", asked)
        if "确认提交" in answers(page):
            break
        say(page, next(answer for cue, answer in replies.items() if cue in asked))
    summary = read_out(page)
    assert "5678" in summary and PHONE not in summary and "确认提交" in answers(page)
    assert page.inner_text("#reveal-confirm .masked") == "139****5678"   # shown in full on demand only
    key(page, str(answers(page).index("确认提交") + 1))
    reference = re.search(r"JY-\d{8}-\d{4}", read_out(page)).group(0)
    assert reference in page.inner_text("#bookings") and "139****5678" in page.inner_text("#bookings")

    # the booking records who filed it
    db = sqlite3.connect(running.var / "eldercare.db")
    filed_by, operator, note, phone = db.execute(
        "select filed_by, filed_by_operator, note, phone from bookings where reference = ?", (reference,)).fetchone()
    operator_name = db.execute("select display_name from operators where id = ?", (operator,)).fetchone()[0]
    db.close()
    assert (filed_by, operator_name, phone) == ("operator", "王芳", PHONE)
    assert "王芳" in note and "代来电人" in note

    # wrap-up: outcome, then the printable one-page summary for the caller
    page.check("input[name=outcome][value=booking]")
    with page.expect_popup() as popup:
        page.click("text=结束并生成小结")
    sheet = popup.value
    sheet.wait_for_load_state()
    text = sheet.inner_text("body")
    assert "养老政策小结" in text and reference in text and "高龄津贴（尊老金）" in text
    assert "要带：" in text and "去哪里办：" in text and "以当地民政部门" in text
    assert PHONE not in sheet.content()
    sheet.emulate_media(media="print")
    assert not sheet.locator("button.no-print").is_visible()   # the print button is for the screen only
    pdf = sheet.pdf(prefer_css_page_size=True)                 # as the browser's print to PDF does
    if os.environ.get("ELDERCARE_KEEP_SUMMARY"):
        sheet.screenshot(path=os.environ["ELDERCARE_KEEP_SUMMARY"], full_page=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1, "the summary must print on one page"
    width, height = map(float, re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", pdf).groups())
    assert abs(width - 595) < 2 and abs(height - 842) < 2, "A4 is 595 × 842 points"

    page.goto(page.base_url + "/")
    assert "已代办预约/申请" in page.inner_text(".calls")


def test_font_size_control_and_tablet_layout(browser, running):
    context = browser.new_context(viewport={"width": 800, "height": 1280}, locale="zh-CN")   # a tablet, upright
    page = context.new_page()
    page.base_url = running.console_url
    log_in(page)
    page.click("text=接听新来电")
    page.wait_for_selector("#steps li")
    size = lambda: page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    start = size()
    assert start >= 18
    page.click("button[data-font='1']")
    assert size() > start
    page.reload()
    page.wait_for_selector("#steps li")
    assert size() > start   # remembered
    page.click("button[data-font='-1']")
    assert size() == start
    # nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    context.close()


def test_a_call_about_two_parents_shows_whose_results(page, running):
    log_in(page)
    page.click("text=接听新来电")
    page.wait_for_selector("#steps li")
    say(page, "来电人问父母：父亲86 母亲81 都住吴江 苏州户口")
    assert page.inner_text("#whose-results") == "：父亲"
    assert "还有母亲" in page.inner_text("#whose-profile")
    assert "86岁" in page.inner_text("#profile") and "高龄津贴（尊老金）" in result_names(page)
    # the other parent is one of the answers on the script; her results replace his on the page
    assert "看母亲的" in answers(page)
    key(page, str(answers(page).index("看母亲的") + 1))
    assert page.inner_text("#whose-results") == "：母亲"
    assert "81岁" in page.inner_text("#profile") and "还有父亲" in page.inner_text("#whose-profile")

"""The operator console at the sizes operators use it — a laptop (1366×768) and a tablet — in
Debian's chromium against the real advisor, asserting what an operator would notice:

- the question and its answers are in view after every step (a 办 button too), several results
  can be read without scrolling, the newest step shows, the profile stays readable at A＋×3;
- an ended call turns read-only at once and shows its outcome; a supervisor reads an operator's
  call until taking it over, which is recorded;
- every time shown is Suzhou's, on a server whose clock is UTC;
- the caller's summary has each booking's service, date, slot and address and the hotline, in
  type of at least 12 pt on paper; the phone number can be shown in full to read it back, and
  each time that is recorded.

ELDERCARE_UPDATE_SCREENSHOTS=1 saves the README's pictures (docs/console*.png)."""
from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3

import pytest

from console_support import (LAPTOP, TABLET, TABLET_WIDE, add_operators, after, answers, browser, key,  # noqa: F401
                             log_in, new_call, open_page, read_out, result_names, say, seen, seen_count)
from e2e_support import Advisor
from policy_kb.clock import date_words
from storage.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e
PHONE = "13912345678"
HOTLINE = "12349"
SIZES = {"laptop": LAPTOP, "tablet": TABLET}
SHORTHAND = "83 昆山 本地 独居 半失能"
ADDRESS = "昆山市前进中路88号3幢201"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    var = tmp_path_factory.mktemp("console-calls")
    add_operators(var)
    # a server on UTC, as most are; a hotline of this deployment's own
    advisor = Advisor(var, extra_env={"TZ": "UTC", "ELDERCARE_HOTLINE": HOTLINE}, console=True)
    yield advisor
    assert advisor.stop() == 0


@pytest.fixture
def pages(browser, running):
    opened = []

    def open_at(size: dict):
        page = open_page(browser, running.console_url, size)
        opened.append(page)
        return page
    yield open_at
    for page in opened:
        page.context.close()


def screenshot(page, name: str, **options) -> None:
    if os.environ.get("ELDERCARE_UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(PROJECT_ROOT / "docs" / name), **options)


def db_rows(running, query: str, *args) -> list[tuple]:
    db = sqlite3.connect(running.var / "eldercare.db")
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


def events_of(running, call: int) -> list[tuple]:
    return db_rows(running, "select e.kind, o.username, e.at, e.detail from call_events e join operators o "
                            "on o.id = e.operator_id where e.call_id = ? order by e.id", call)


def suzhou(stored: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stored).replace(tzinfo=dt.timezone.utc) + dt.timedelta(hours=8)


def question_in_view(page, whole: bool = False) -> None:
    """What the operator reads out and can answer with, on screen without scrolling: the end of
    the read-out (a question comes last; `whole`: all of it), every answer and the box."""
    if whole:
        assert seen(page.locator("#read-out")), "the read-out is not all in view"
    end_seen = page.locator("#read-out").evaluate("""el => {
      const r = el.getBoundingClientRect();
      if (r.bottom > innerHeight || r.bottom < 20) return false;
      const hit = document.elementFromPoint(r.left + 4, r.bottom - 8);
      return !!hit && (hit === el || el.contains(hit));
    }""")
    assert end_seen, "the question is out of view"
    buttons = page.locator("#answers button")
    assert seen_count(buttons) == buttons.count(), f"answers out of view: {answers(page)}"
    assert seen(page.locator("#said")), "the box for what the caller says is out of view"


def newest_step_in_view(page, text: str) -> None:
    newest = page.locator("#steps li").last
    assert newest.inner_text().startswith(text) and seen(newest), "the newest step is out of view"


def book_home_service(page) -> None:
    """From the results: 办：预约上门服务, 助浴, the booking form's questions answered as a caller would."""
    after(page, lambda: page.click(".start:has-text('上门服务')"))
    question_in_view(page)
    key(page, str(answers(page).index("助浴（洗澡）") + 1))
    replies = {"哪一天": "后天", "还是晚上": "上午", "地址": ADDRESS,
               "怎么称呼": "张阿姨", "什么人": "我是她女儿", "电话": PHONE}
    for _ in range(8):
        asked = read_out(page)
        if "确认提交" in answers(page):
            return
        question_in_view(page)
        say(page, next(answer for cue, answer in replies.items() if cue in asked))
    pytest.fail(f"the booking form did not come to its confirmation: {read_out(page)}")


@pytest.mark.parametrize("size", ["laptop", "tablet", "tablet_wide"])
def test_the_question_and_its_answers_stay_in_view(pages, size):
    page = pages({"laptop": LAPTOP, "tablet": TABLET, "tablet_wide": TABLET_WIDE}[size])
    whole = size != "tablet_wide"   # on its side, a long read-out's first lines may scroll away; its question not
    log_in(page)
    new_call(page)
    question_in_view(page, whole)
    say(page, SHORTHAND)
    question_in_view(page, whole)
    newest_step_in_view(page, SHORTHAND)
    names = result_names(page)
    assert len(names) >= 5
    # no box of its own to scroll
    assert page.locator("#results").evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    if size == "laptop":
        # at a glance: several results, one line each (name, status, the deciding reason), no scrolling
        lines = page.locator("#results li.result summary")
        assert seen_count(lines) >= 5
        for i in range(5):
            line = lines.nth(i)
            assert "【可以享受】" in line.inner_text() or "【可能可以】" in line.inner_text()
            assert line.evaluate("el => el.getBoundingClientRect().height"
                                 " < 2 * parseFloat(getComputedStyle(el).lineHeight)")

    key(page, "1")   # 好，继续回答
    question_in_view(page, whole)
    newest_step_in_view(page, "好，继续回答")
    if size in ("laptop", "tablet"):
        screenshot(page, {"laptop": "console.png", "tablet": "console-tablet.png"}[size])

    # the operator reads the results further down, opens one, then starts a booking from the script
    page.locator("#results li.result summary").last.click()
    page.locator("#results li.result").last.scroll_into_view_if_needed()
    page.evaluate("document.getElementById('side').scrollTop = 1e6; window.scrollTo(0, 1e6)")
    after(page, lambda: page.click(".start:has-text('上门服务')"))
    assert "上门服务" in read_out(page) and "助浴（洗澡）" in answers(page)
    question_in_view(page, whole)
    newest_step_in_view(page, "办理：预约上门服务")
    # editing a fact from the profile: the script comes back into view too
    page.evaluate("window.scrollTo(0, 1e6)")
    page.click("dd[data-fact=living]")
    after(page, lambda: page.click("#editor button:has-text('只有老两口')"))
    question_in_view(page, whole)
    assert "只有老两口" in page.inner_text("dd[data-fact=living]")


PROFILE_OVERLAP = """profile => {
  const boxes = [...profile.querySelectorAll('dt, dd')].map(el => [el, el.getBoundingClientRect()]);
  const problems = [];
  const outer = profile.getBoundingClientRect();
  for (const [el, r] of boxes) {
    if (el.scrollWidth > el.clientWidth + 1) problems.push('cut: ' + el.textContent);
    if (r.left < outer.left - 1 || r.right > outer.right + 1) problems.push('outside: ' + el.textContent);
  }
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, r] = boxes[i], [b, s] = boxes[j];
    const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
    const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
    if (x > 1 && y > 1) problems.push('overlap: ' + a.textContent + ' / ' + b.textContent);
  }
  return problems;
}"""


@pytest.mark.parametrize("size", SIZES)
def test_the_profile_stays_readable_at_large_type(pages, size):
    page = pages(SIZES[size])
    log_in(page)
    new_call(page)
    say(page, SHORTHAND + " 低保 有苏州医保 没有残疾人证")
    font = lambda: page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    start = font()
    for _ in range(3):
        page.click("button[data-font='1']")
    assert font() == start + 6
    profile = page.locator("#profile")
    assert "低保" in profile.inner_text() and "83岁" in profile.inner_text()
    assert profile.evaluate(PROFILE_OVERLAP) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]   # nothing wider
    key(page, "1")
    question_in_view(page)   # at A＋×3 too
    for _ in range(3):
        page.click("button[data-font='-1']")


@pytest.mark.parametrize("size", SIZES)
def test_an_ended_call_turns_read_only_with_its_outcome(pages, running, size):
    page = pages(SIZES[size])
    log_in(page)
    call = new_call(page)
    say(page, SHORTHAND)
    page.check("input[name=outcome][value=call_back]")
    page.fill("input[name=note]", "周五下午回电，问女儿")
    with page.expect_popup() as popup:
        page.click("text=结束并生成小结")
    popup.value.close()
    # at once, without a reload: the outcome where the operator is looking, and nothing to act with
    outcome = page.locator("#outcome")
    outcome.wait_for()
    assert "需要回电" in outcome.inner_text() and "周五下午回电，问女儿" in outcome.inner_text() and seen(outcome)
    banner = page.inner_text("#call-status")
    assert "已经结束" in banner and "需要回电" in banner and "周五下午回电" in banner
    steps = page.locator("#steps li").count()

    def nothing_to_act_with():
        assert not page.locator("#said").is_visible() and not page.locator("#end").is_visible()
        assert page.locator("#answers button").count() == 0 and not page.locator(".start").first.is_visible()
        page.click("dd[data-fact=age]")
        assert page.locator("#editor").is_hidden()
        page.keyboard.press("1")
        page.wait_for_timeout(800)
        assert page.locator("#steps li").count() == steps and page.locator("#steps li button").count() == 0
    nothing_to_act_with()
    page.evaluate("window.scrollTo(0, 0)")
    if size == "laptop":
        screenshot(page, "console-ended.png")
    page.reload()
    page.wait_for_selector("#steps li")
    assert "需要回电" in page.inner_text("#call-status") and "需要回电" in page.inner_text("#outcome")
    nothing_to_act_with()
    assert db_rows(running, "select outcome, note from calls where id = ?", call) == [("call_back", "周五下午回电，问女儿")]


@pytest.mark.parametrize("size", SIZES)
def test_a_supervisor_reads_a_call_until_taking_it_over(pages, running, size):
    operator, lead = pages(LAPTOP), pages(SIZES[size])
    log_in(operator)
    call = new_call(operator)
    say(operator, SHORTHAND)
    log_in(lead, "lead")
    assert "王芳" in lead.inner_text(".calls")
    lead.click(f"tr:has-text('#{call}') a:has-text('打开')")
    lead.wait_for_selector("#steps li")
    assert "您在查看王芳正在接听的来电" in lead.inner_text("#call-status") and seen(lead.locator("#call-status"))
    assert not lead.locator("#said").is_visible() and lead.locator("#answers button").count() == 0
    assert lead.inner_text("#read-label") == "接线员正在读："
    if size == "laptop":
        screenshot(lead, "console-supervisor.png")
    # watching: the operator's next step shows up on the supervisor's page by itself
    key(operator, "1")
    lead.wait_for_function("document.querySelectorAll('#steps li').length === 3", timeout=15_000)
    assert lead.inner_text("#read-out") == read_out(operator)
    assert events_of(running, call) == []

    take_over = lead.locator("#take-over")
    assert seen(take_over)
    take_over.click()
    lead.locator("#said").wait_for()
    assert "您已接手王芳的这通来电" in lead.inner_text("#call-status")
    [(kind, who, at, detail)] = events_of(running, call)
    assert (kind, who, detail) == ("take_over", "lead", None)
    taken_at = suzhou(at)
    assert f"{taken_at.month}月{taken_at.day}日 {taken_at:%H:%M}" in lead.inner_text("#call-status")   # Suzhou time
    key(lead, "1")
    question_in_view(lead)

    # the operator's page turns read-only by itself within seconds, not on her next action
    operator.wait_for_function("document.getElementById('call').classList.contains('readonly')", timeout=10_000)
    assert "李组长" in operator.inner_text("#call-status") and not operator.locator("#said").is_visible()
    steps_before = operator.locator("#steps li").count()
    operator.keyboard.press("1")   # nothing is sent from a page that is not hers any more
    operator.wait_for_timeout(1000)
    assert operator.locator("#steps li").count() == steps_before


@pytest.mark.parametrize("size", SIZES)
def test_times_shown_are_suzhou_time(pages, running, size):
    page = pages(SIZES[size])
    log_in(page)
    call = new_call(page)
    [(started,)] = db_rows(running, "select started_at from calls where id = ?", call)
    local, utc = suzhou(started), suzhou(started) - dt.timedelta(hours=8)
    shown = f"{local.month}月{local.day}日 {local:%H:%M}"
    assert shown != f"{utc.month}月{utc.day}日 {utc:%H:%M}"   # the server's own clock would say this
    assert f"{shown} 开始" in page.inner_text("#call-info")
    page.goto(page.base_url + "/")
    assert shown in page.inner_text(f"tr:has-text('#{call}')")
    page.goto(f"{page.base_url}/calls/{call}/summary")
    assert f"{local.year}年{shown}" in page.inner_text(".meta")


SMALL_TEXT = """() => {
  const small = [];
  for (const el of document.querySelectorAll('body, body *')) {
    if (!el.getClientRects().length) continue;   // not shown
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const pt = parseFloat(getComputedStyle(el).fontSize) * 0.75;
    if (pt < 12 - 0.01) small.push(`${pt}pt: ${el.textContent.trim().slice(0, 20)}`);
  }
  return small;
}"""


@pytest.mark.parametrize("size", SIZES)
def test_a_booking_the_phone_read_back_and_the_callers_summary(pages, running, size):
    page = pages(SIZES[size])
    log_in(page)
    call = new_call(page)
    say(page, SHORTHAND)
    book_home_service(page)

    # the confirmation: the number masked, shown in full for a moment to read it back, recorded
    assert "5678" in read_out(page) and PHONE not in page.content()
    assert page.inner_text("#reveal-confirm .masked") == "139****5678"
    reveal = page.locator("#reveal-confirm button")
    assert seen(reveal) and events_of(running, call) == []
    reveal.click()
    full = page.locator("#reveal-confirm .full-phone")
    full.wait_for()
    assert full.inner_text().replace(" ", "") == PHONE and seen(full)
    [(kind, who, _, detail)] = events_of(running, call)
    assert (kind, who, detail) == ("reveal_phone", "wangfang", "提交前核对")
    key(page, str(answers(page).index("确认提交") + 1))
    reference = re.search(r"JY-\d{8}-\d{4}", read_out(page)).group(0)
    assert not page.locator("#reveal-confirm").is_visible()

    # filed: in the bookings list, masked, and again revealed on demand (recorded)
    booking = page.locator("#bookings li", has_text=reference)
    assert "139****5678" in booking.inner_text() and "助浴" in booking.inner_text() and "上午" in booking.inner_text()
    booking.locator("button:has-text('显示完整号码')").click()
    booking.locator(".full-phone").wait_for()
    assert booking.locator(".full-phone").inner_text().replace(" ", "") == PHONE
    assert [e[::3] for e in events_of(running, call)] == [("reveal_phone", "提交前核对"),
                                                          ("reveal_phone", f"预约 {reference}")]
    assert PHONE not in running.log_text()
    assert not any(PHONE in str(e) for e in events_of(running, call))

    # the caller's summary: the booking's service, date, slot and address; the hotline; ≥ 12 pt on paper
    [(day,)] = db_rows(running, "select booking_date from bookings where reference = ?", reference)
    page.check("input[name=outcome][value=booking]")
    with page.expect_popup() as popup:
        page.click("text=结束并生成小结")
    sheet = popup.value
    sheet.wait_for_load_state()
    sheet.set_viewport_size({"width": 794, "height": 1123})   # A4 at 96 dpi
    text = sheet.inner_text("body")
    bookings = sheet.inner_text(".bookings")
    for part in ("助浴", reference, date_words(dt.date.fromisoformat(day)), "上午", ADDRESS):
        assert part in bookings, part
    assert f"请打热线 {HOTLINE}" in text and "问进度" in text and "报上编号" in text
    assert PHONE not in sheet.content()
    assert sheet.evaluate(SMALL_TEXT) == []
    sheet.emulate_media(media="print")
    assert sheet.evaluate(SMALL_TEXT) == [], "print type below 12 pt"
    pdf = sheet.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1, "the summary must print on one page"
    if size == "laptop":   # the A4 page as printed: the margins are the printer's (@page)
        sheet.add_style_tag(content="html { padding: 11mm 12mm; }")
        screenshot(sheet, "console-summary.png")


def test_the_read_out_is_said_not_written_and_a_sensitive_question_comes_with_a_note(pages):
    """What the operator reads is the spoken form: no 回复/输入, no bullets, ages as words; a
    sensitive question (低保, 认知症, 独生子女) comes with a note on why it is asked and that the
    caller may decline, and an ordinary one without."""
    page = pages(LAPTOP)
    log_in(page)
    new_call(page)
    say(page, SHORTHAND)
    text = read_out(page)
    assert "八十三岁" in text or "项可以享受" in text, text
    assert not re.search(r"回复|点击|输入|「更多」|^\s*·", text, re.M), text
    assert not page.locator("#note").is_visible()
    noted = None
    for _ in range(10):   # keep answering 不知道 until a sensitive question comes up
        key(page, "1") if "要接着问吗" in read_out(page) else say(page, "不知道")
        if page.locator("#note").is_visible():
            noted = read_out(page)
            break
    assert noted, "no sensitive question reached"
    note = page.inner_text("#note")
    assert "为什么问" in note and "不知道" in note
    assert seen(page.locator("#note")) and seen(page.locator("#read-out"))
    assert not re.search(r"回复|点击|输入", noted), noted


def test_a_call_back_is_listed_with_what_to_say_and_marked_done(pages, running):
    """政策找人 for phone callers: a caller who said yes is called back when something new applies.
    The list shows whom, why and what to say; the number is masked until asked for; 已回访
    takes it off the list and records who did it."""
    from notify.run import Notifier
    from notify.settings import NotifySettings
    from policy_kb.kb import KnowledgeBase
    from storage.db import migrated_engine
    from storage.followups import FollowupStore
    engine = migrated_engine(f"sqlite:///{running.var / 'eldercare.db'}")
    store = FollowupStore(engine)
    store.keep(channel="console", address="139 5555 6666", sender_id="console-e2e-callback", person="母亲",
               facts={"hukou": True, "district": "姑苏区"}, birth_year=1946, birth_month=5,
               wording="以后有新政策，或者母亲满足新的条件时，要不要提醒您？",
               now=dt.datetime(2026, 2, 10, 2, tzinfo=dt.timezone.utc))
    Notifier(engine, KnowledgeBase.from_directory(), NotifySettings()).run(dt.date(2026, 3, 1))
    page = pages(LAPTOP)
    log_in(page)
    row = page.locator("#call-backs tr[data-call-back]").first
    assert seen(row)
    assert "母亲" in row.inner_text() and "满80岁" in row.inner_text()
    assert "139****6666" in row.inner_text() and "13955556666" not in row.inner_text()
    row.locator(".show-phone").click()
    page.wait_for_function("document.querySelector('#call-backs .phone').textContent === '13955556666'")
    row.locator("button:has-text('已回访')").click()
    page.wait_for_load_state()
    assert page.locator("#call-backs tr[data-call-back]").count() == 0
    done = db_rows(running, "select n.status, o.username from followup_notices n join operators o on o.id = n.done_by")
    assert done and all(status == "done" and user == "wangfang" for status, user in done)
    engine.dispose()

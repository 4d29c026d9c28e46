"""`eldercare console`: the operator console's web server (aiohttp, Jinja2 pages, a little JS).

It talks to the advisor's REST channel like any other channel: one conversation per call,
with the operator named in the message metadata (bookings then record "filed by operator X
for the caller"). Accounts, sessions and calls live in the database (storage/operators.py).

Security: a session cookie (HttpOnly, SameSite=Strict), expiring; a CSRF token on every form
and in an X-CSRF-Token header on every API call; pages without a session redirect to the login,
APIs answer 401; another operator's call is 403 (a supervisor sees all).

Who may act on a call: only the one holding it — whoever took it, or the supervisor who took it
over (a POST, recorded in call_events); everyone else who may see it sees it read-only, and an
ended call is read-only for all (the API answers 403 / 409 with a Chinese message). Showing a
phone number in full, to read it back, is recorded the same way (never the number).
"""
from __future__ import annotations

import json
import logging
import re
import secrets
from pathlib import Path

import aiohttp
import jinja2
from aiohttp import web

from policy_kb.clock import date_words, time_words
from policy_kb.engine import deciding_reason
from policy_kb.facts import load_facts
from storage.bookings import KIND_LABELS, STATUS_LABELS, BookingStore
from storage.conversation_read import newest_slot_value
from storage.db import migrated_engine
from storage.followups import FollowupStore
from storage.masking import install as install_log_masking
from storage.masking import mask_phone, mask_text, normalize_phone
from storage.operators import (EVENT_KINDS, OUTCOMES, Call, OperatorError, OperatorStore, Session,
                               signed_operator)
from storage.settings import Settings, tracker_db_url

from .script import recommendations, results_to_read, script

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
COOKIE = "eldercare_console"
LOGIN_CSRF = "eldercare_login_csrf"
FACTS = load_facts()
BOOKING_STARTS = [("预约上门服务", "/book_service"), ("公办养老院轮候", "/apply_waitlist"),
                  ("能力评估", "/request_assessment"), ("养老顾问", "/book_advisor")]

SPOKEN_DIGITS = str.maketrans("〇零幺一二三四五六七八九", "001123456789")
REVEAL_SECONDS = 20   # how long a number revealed to read back stays on the screen

templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                               autoescape=jinja2.select_autoescape(["html"]))
templates.filters["suzhou"] = time_words   # every time shown is Suzhou's (policy_kb/clock.py)


def fact_editors() -> list[dict]:
    """Each profile fact with its label and choices, for editing with one click."""
    out = []
    for name, fact in FACTS.items():
        if name == "subject":
            continue
        choices = [{"value": v, "label": label} for v, label in fact.options]
        out.append({"name": name, "label": fact.label, "type": fact.type, "unit": fact.unit, "choices": choices})
    return out


def described(profile: dict) -> list[tuple[str, str]]:
    """The profile in words: (年龄, 83岁), (户籍, 有苏州户口)… (who is talking is not a fact to show)."""
    return [(FACTS[name].label, FACTS[name].words(value)) for name, value in profile.items()
            if name in FACTS and name != "subject"]


class Console:
    def __init__(self, advisor_url: str, settings: Settings | None = None, secure_cookies: bool = False):
        settings = settings or Settings.from_env()
        engine = migrated_engine(settings.db_url)
        self.store, self.bookings = OperatorStore(engine), BookingStore(engine)
        self.followups = FollowupStore(engine)   # 政策找人: hotline callers waiting for a call back
        self.tracker_url, self.hotline = tracker_db_url(settings.db_url), settings.hotline
        self.advisor_url = advisor_url.rstrip("/")
        self.secure = secure_cookies
        self.http: aiohttp.ClientSession | None = None

    # --- plumbing ----------------------------------------------------------------------------
    def page(self, name: str, **context) -> web.Response:
        response = web.Response(text=templates.get_template(name).render(**context), content_type="text/html")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    def session_of(self, request: web.Request) -> Session | None:
        return self.store.session(request.cookies.get(COOKIE))

    def need_session(self, request: web.Request, api: bool) -> Session:
        session = self.session_of(request)
        if session is None:
            if api:
                raise web.HTTPUnauthorized(text='{"error": "请先登录"}', content_type="application/json")
            raise web.HTTPFound("/login")
        return session

    @staticmethod
    async def check_csrf(request: web.Request, session: Session) -> dict:
        data = dict(await request.post()) if request.content_type != "application/json" else await request.json()
        sent = request.headers.get("X-CSRF-Token") or data.get("csrf_token")
        if not sent or not secrets.compare_digest(str(sent), session.csrf_token):
            raise web.HTTPForbidden(text="CSRF 校验失败，请刷新页面再试。")
        return data

    @staticmethod
    def refuse(error: type[web.HTTPException], message: str, api: bool) -> web.HTTPException:
        if api:
            return error(text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json")
        return error(text=message)

    def own_call(self, session: Session, call_id: str, api: bool = False) -> Call:
        call = self.store.call(int(call_id)) if call_id.isdigit() else None
        if call is None:
            raise self.refuse(web.HTTPNotFound, "没有这个来电记录。", api)
        if call.operator_id != session.operator.id and not session.operator.supervisor:
            raise self.refuse(web.HTTPForbidden, "这是其他接线员的来电。", api)
        return call

    def may_act(self, session: Session, call: Call) -> None:
        """Only the one holding an open call acts on it; everyone else who sees it only reads."""
        if call.ended_at is not None:
            raise self.refuse(web.HTTPConflict, "这通来电已经结束，只能查看，不能再记录或修改。", True)
        holder = self.store.holder(call, self.store.events(call))
        if holder == session.operator.id:
            return
        if holder == call.operator_id:
            raise self.refuse(web.HTTPForbidden, "组长查看时只能看，不能操作：要接手这通来电，请先点「接手这通来电」。", True)
        raise self.refuse(web.HTTPForbidden, f"{self.name(holder)}已经接手这通来电，这里只能查看。", True)

    def name(self, operator_id: int) -> str:
        operator = self.store.get(operator_id)
        return operator.display_name if operator else f"#{operator_id}"

    async def relay(self, call: Call, session: Session, text: str) -> list[dict]:
        body = {"sender": call.sender_id, "message": text,
                "metadata": {"operator": signed_operator(call.sender_id, session.operator)}}
        try:
            async with self.http.post(f"{self.advisor_url}/webhooks/rest/webhook", json=body) as reply:
                if reply.status != 503:    # 503 carries the advisor's own apology (a service is down)
                    reply.raise_for_status()
                return await reply.json()
        except (aiohttp.ClientError, ValueError):
            logger.warning("advisor unreachable for a call")
            return [{"text": "（顾问服务暂时连不上，请稍后再试。）"}]

    def call_state(self, call: Call, session: Session) -> dict:
        """The call itself as this person sees it: times (Suzhou's), outcome, who holds it, read-only or not."""
        events = self.store.events(call)
        holder, me = self.store.holder(call, events), session.operator.id
        state = {"id": call.id, "ended": call.ended_at is not None, "outcome": call.outcome,
                 "outcome_label": OUTCOMES.get(call.outcome or "", ""), "note": call.note or "",
                 "started": time_words(call.started_at), "ended_at": time_words(call.ended_at) if call.ended_at else "",
                 "operator": self.name(call.operator_id), "readonly": holder != me or call.ended_at is not None,
                 "can_take_over": session.operator.supervisor and holder != me and call.ended_at is None,
                 "events": [{"at": time_words(e["at"]), "who": e["operator"],
                             "what": EVENT_KINDS[e["kind"]] + (f"（{e['detail']}）" if e["detail"] else "")}
                            for e in events]}
        taken = [e for e in events if e["kind"] == "take_over"]
        if call.ended_at is not None:
            state["banner"] = f"这通来电已经结束（{state['ended_at']}），只能查看。"
        elif holder == me and taken and taken[-1]["operator_id"] == me:
            state["banner"] = f"您已接手{state['operator']}的这通来电（{time_words(taken[-1]['at'])}），可以继续记录。"
        elif holder != me and holder == call.operator_id:
            state["banner"] = f"您在查看{state['operator']}正在接听的来电：只能看，不能操作。"
        elif holder != me:
            state["banner"] = f"{taken[-1]['operator']}已于{time_words(taken[-1]['at'])}接手这通来电：这里只能查看。"
        else:
            state["banner"] = ""
        return state

    def script_now(self, call: Call, turns: list[dict] | None = None) -> dict | None:
        """What the operator reads out now: the advisor's last reply, laid out for the phone."""
        turns = self.store.turns(call) if turns is None else turns
        subject = ((call.state or {}).get("profile") or {}).get("subject")
        return script(turns[-1]["replies"], subject) if turns else None

    def view(self, call: Call, session: Session) -> dict:
        """Everything the call page shows, from what is stored."""
        turns = self.store.turns(call)
        state = call.state or {}
        mine = self.bookings.list(sender_id=call.sender_id)
        said = self.script_now(call, turns)
        return {"call": self.call_state(call, session),
                "script": said,
                # a booking's phone read back before it is filed: masked, revealed on demand
                "phone_to_confirm": self.phone_to_confirm(call, said),
                "steps": [{"id": t["id"], "said": t["said"]} for t in turns],
                "profile": state.get("profile") or {},
                "profile_words": {name: FACTS[name].words(value) for name, value in (state.get("profile") or {}).items()
                                  if name in FACTS},
                "results": [dict(r, reason=deciding_reason(r)) for r in results_to_read(state)],
                "person": state.get("person"),
                "household": state.get("household") or [],
                "bookings": [{"reference": b.reference, "kind": KIND_LABELS[b.kind], "status": STATUS_LABELS[b.status],
                              "phone": mask_phone(b.phone) if b.phone else "", "service": b.service_type or "",
                              "date": date_words(b.booking_date) if b.booking_date else "", "slot": b.time_slot or "",
                              "address": b.address or "", "institution": b.institution or ""} for b in mine]}

    def phone_in_conversation(self, call: Call) -> str | None:
        """The whole number of a booking not yet filed: only the conversation's `phone` slot has it."""
        value = newest_slot_value(self.tracker_url, call.sender_id, "phone")
        return normalize_phone(value) if isinstance(value, str) and "*" not in value else None

    def phone_to_confirm(self, call: Call, said: dict | None) -> str:
        """The masked number, when the script reads back (by its last digits, however worded) the
        phone of a booking not yet filed: the operator may show it in full to read it back."""
        spoken = "\n".join([(said or {}).get("read_out") or "", *(said or {}).get("also_said", [])])
        spoken = spoken.translate(SPOKEN_DIGITS)   # 尾号五六七八 is 尾号5678
        if not re.search(r"\d{4}", spoken):
            return ""   # no number read out: no need to look into the conversation
        phone = self.phone_in_conversation(call)
        return mask_phone(phone) if phone and phone[-4:] in spoken else ""

    # --- pages ---------------------------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.Response:
        token = secrets.token_urlsafe(24)
        response = self.page("login.html", csrf_token=token, error=request.query.get("error"))
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="Strict", secure=self.secure)
        return response

    async def login(self, request: web.Request) -> web.Response:
        data = await request.post()
        expected = request.cookies.get(LOGIN_CSRF)
        if not expected or not secrets.compare_digest(expected, str(data.get("csrf_token", ""))):
            raise web.HTTPForbidden(text="CSRF 校验失败，请刷新页面再试。")
        operator = self.store.authenticate(str(data.get("username", "")).strip(), str(data.get("password", "")))
        if operator is None:
            raise web.HTTPFound("/login?error=1")
        token, _ = self.store.open_session(operator)
        response = web.HTTPFound("/")
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=self.secure,
                            max_age=int(8 * 3600))
        response.del_cookie(LOGIN_CSRF)
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        await self.check_csrf(request, session)
        self.store.close_session(request.cookies[COOKIE])
        response = web.HTTPFound("/login")
        response.del_cookie(COOKIE)
        raise response

    async def home(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        calls = self.store.calls_of(session.operator)
        names = {o.id: o.display_name for o in self.store.list()} if session.operator.supervisor else {}
        return self.page("home.html", session=session, calls=calls, outcomes=OUTCOMES, names=names,
                         call_backs=self.followups.list_call_backs())

    def _call_back(self, request: web.Request):
        wanted = request.match_info["id"]
        found = next((c for c in self.followups.list_call_backs() if str(c.id) == wanted), None)
        if found is None:
            raise web.HTTPNotFound(text='{"error": "这条回访已经有人办了。"}', content_type="application/json")
        return found

    async def api_call_back_phone(self, request: web.Request) -> web.Response:
        """The number to dial, shown on request; who asked is logged (never the number)."""
        session = self.need_session(request, api=True)
        await self.check_csrf(request, session)
        found = self._call_back(request)
        logger.info("call-back %s: number shown to operator %s", found.id, session.operator.id)
        return web.json_response({"phone": found.phone})

    async def call_back_done(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        await self.check_csrf(request, session)
        wanted = request.match_info["id"]
        if wanted.isdigit():
            self.followups.mark_done(int(wanted), session.operator.id)
        raise web.HTTPFound("/")

    async def new_call(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        await self.check_csrf(request, session)
        call = self.store.start_call(session.operator)
        raise web.HTTPFound(f"/calls/{call.id}")

    async def call_page(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        call = self.own_call(session, request.match_info["id"])
        return self.page("call.html", session=session, view=self.view(call, session), facts=fact_editors(),
                         starts=BOOKING_STARTS, outcomes=OUTCOMES)

    async def summary_page(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        call = self.own_call(session, request.match_info["id"])
        view = self.view(call, session)
        return self.page("summary.html", view=view, profile=described(view["profile"]), hotline=self.hotline,
                         day=time_words(call.started_at, year=True))

    # --- API -------------------------------------------------------------------------------------
    async def api_call(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=True)
        return web.json_response(self.view(self.own_call(session, request.match_info["id"], api=True), session))

    async def api_say(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=True)
        call = self.own_call(session, request.match_info["id"], api=True)
        data = await self.check_csrf(request, session)
        self.may_act(session, call)
        text = str(data.get("text") or "").strip()[:2000]
        if not text:
            return web.json_response({"error": "请先输入来电人说的话。"}, status=400)
        replies = await self.relay(call, session, text)
        payload = recommendations(replies)
        state = {"profile": payload["profile"], "results": payload["results"],
                 # a household: whose results these are, and who else is in the call
                 "person": payload.get("person"),
                 "household": [p.get("person") for p in payload.get("household") or []]} if payload else None
        shown = text if not text.startswith("/") else data.get("label") or text
        # the turn keeps how its reply was laid out; profile and results go to the call's state
        layout = [{"custom": {k: payload.get(k) for k in ("type", "asking", "cards", "lines")}}] if payload else []
        layout += [m for m in replies if (m.get("custom") or {}).get("type") == "spoken"]   # what is read aloud
        # the call record keeps what was said with phone and 身份证 numbers masked (the booking has them)
        self.store.add_turn(call, mask_text(shown), [m for m in replies if not m.get("custom")] + layout, state)
        view = self.view(self.store.call(call.id), session)
        view["said"] = mask_text(shown)
        return web.json_response(view)

    async def api_end(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=True)
        call = self.own_call(session, request.match_info["id"], api=True)
        data = await self.check_csrf(request, session)
        self.may_act(session, call)
        try:
            self.store.end_call(call, str(data.get("outcome", "")), str(data.get("note", "")))
        except OperatorError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        # the page turns read-only at once, with the outcome, from this view
        return web.json_response({"ok": True, "summary": f"/calls/{call.id}/summary",
                                  "view": self.view(self.store.call(call.id), session)})

    async def api_take_over(self, request: web.Request) -> web.Response:
        """A supervisor takes an operator's call over, on purpose and on the record."""
        session = self.need_session(request, api=True)
        call = self.own_call(session, request.match_info["id"], api=True)
        await self.check_csrf(request, session)
        if not session.operator.supervisor:
            raise self.refuse(web.HTTPForbidden, "只有组长可以接手来电。", True)
        if call.ended_at is not None:
            raise self.refuse(web.HTTPConflict, "这通来电已经结束，不能再接手。", True)
        if self.store.holder(call, self.store.events(call)) == session.operator.id:
            raise self.refuse(web.HTTPConflict, "这通来电已经由您接听。", True)
        self.store.add_event(call, session.operator, "take_over")
        logger.info("call %s taken over by operator %s", call.id, session.operator.id)
        return web.json_response(self.view(call, session))

    async def api_reveal_phone(self, request: web.Request) -> web.Response:
        """The whole phone number, to read back to the caller: of a booking of this call (by its
        reference), or of the one being confirmed. Recorded; the number goes to no log or event."""
        session = self.need_session(request, api=True)
        call = self.own_call(session, request.match_info["id"], api=True)
        data = await self.check_csrf(request, session)
        self.may_act(session, call)
        reference = str(data.get("reference") or "").strip()
        if reference:
            booking = self.bookings.get(reference)
            phone = booking.phone if booking and booking.sender_id == call.sender_id else None
            detail = f"预约 {booking.reference}" if phone else ""
        else:   # the number the script is reading back now, of a booking not yet filed
            phone = self.phone_in_conversation(call) if self.phone_to_confirm(call, self.script_now(call)) else None
            detail = "提交前核对"
        if not phone:
            raise self.refuse(web.HTTPNotFound, "没有可以显示的号码（可能已经改过或已删除），请看页面上最新的内容。", True)
        self.store.add_event(call, session.operator, "reveal_phone", detail)
        logger.info("call %s: operator %s revealed a phone number (%s)", call.id, session.operator.id, detail)
        return web.json_response({"phone": phone, "seconds": REVEAL_SECONDS})

    # --- the app -----------------------------------------------------------------------------------
    async def _open(self, app):
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def _close(self, app):
        await self.http.close()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/", self.home)
        app.router.add_post("/calls", self.new_call)
        app.router.add_get("/calls/{id}", self.call_page)
        app.router.add_get("/calls/{id}/summary", self.summary_page)
        app.router.add_get("/api/calls/{id}", self.api_call)
        app.router.add_post("/api/calls/{id}/say", self.api_say)
        app.router.add_post("/api/calls/{id}/end", self.api_end)
        app.router.add_post("/api/calls/{id}/take_over", self.api_take_over)
        app.router.add_post("/api/calls/{id}/reveal_phone", self.api_reveal_phone)
        app.router.add_post("/api/call_backs/{id}/phone", self.api_call_back_phone)
        app.router.add_post("/call_backs/{id}/done", self.call_back_done)
        app.router.add_static("/static", HERE / "static")
        return app


def run(advisor_url: str, host: str = "127.0.0.1", port: int = 5080, secure_cookies: bool = False,
        quiet: bool = False) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)   # URLs are harmless, but quiet
    install_log_masking()
    console = Console(advisor_url, secure_cookies=secure_cookies)
    if not quiet:
        print(f"接线员控制台：http://{host}:{port}/", flush=True)
    web.run_app(console.app(), host=host, port=port, print=None)
    return 0

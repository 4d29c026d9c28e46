"""`eldercare console`: the operator console's web server (aiohttp, Jinja2 pages, a little JS).

It talks to the advisor's REST channel like any other channel: one conversation per call,
with the operator named in the message metadata (bookings then record "filed by operator X
for the caller"). Accounts, sessions and calls live in the database (storage/operators.py).

Security: a session cookie (HttpOnly, SameSite=Strict), expiring; a CSRF token on every form
and in an X-CSRF-Token header on every API call; pages without a session redirect to the login,
APIs answer 401; another operator's call is 403 (a supervisor sees all).
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path

import aiohttp
import jinja2
from aiohttp import web

from policy_kb.facts import load_facts
from storage.bookings import KIND_LABELS, STATUS_LABELS, BookingStore
from storage.db import migrated_engine
from storage.masking import install as install_log_masking
from storage.masking import mask_phone, mask_text
from storage.operators import OUTCOMES, Call, OperatorError, OperatorStore, Session, signed_operator
from storage.settings import Settings

from .script import recommendations, results_to_read, script

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
COOKIE = "eldercare_console"
LOGIN_CSRF = "eldercare_login_csrf"
FACTS = load_facts()
BOOKING_STARTS = [("预约上门服务", "/book_service"), ("公办养老院轮候", "/apply_waitlist"),
                  ("能力评估", "/request_assessment"), ("养老顾问", "/book_advisor")]

templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                               autoescape=jinja2.select_autoescape(["html"]))


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

    def own_call(self, session: Session, call_id: str) -> Call:
        call = self.store.call(int(call_id)) if call_id.isdigit() else None
        if call is None:
            raise web.HTTPNotFound(text="没有这个来电记录。")
        if call.operator_id != session.operator.id and not session.operator.supervisor:
            raise web.HTTPForbidden(text="这是其他接线员的来电。")
        return call

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

    def view(self, call: Call) -> dict:
        """Everything the call page shows, from what is stored."""
        turns = self.store.turns(call)
        last = turns[-1]["replies"] if turns else []
        state = call.state or {}
        mine = self.bookings.list(sender_id=call.sender_id)
        return {"call": {"id": call.id, "ended": call.ended_at is not None, "outcome": call.outcome},
                "script": script(last, (state.get("profile") or {}).get("subject")) if turns else None,
                "steps": [{"id": t["id"], "said": t["said"]} for t in turns],
                "profile": state.get("profile") or {},
                "profile_words": {name: FACTS[name].words(value) for name, value in (state.get("profile") or {}).items()
                                  if name in FACTS},
                "results": results_to_read(state),
                "person": state.get("person"),
                "household": state.get("household") or [],
                "bookings": [{"reference": b.reference, "kind": KIND_LABELS[b.kind], "status": STATUS_LABELS[b.status],
                              "phone": mask_phone(b.phone)} for b in mine]}

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
        return self.page("home.html", session=session, calls=calls, outcomes=OUTCOMES, names=names)

    async def new_call(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        await self.check_csrf(request, session)
        call = self.store.start_call(session.operator)
        raise web.HTTPFound(f"/calls/{call.id}")

    async def call_page(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        call = self.own_call(session, request.match_info["id"])
        return self.page("call.html", session=session, view=self.view(call), facts=fact_editors(),
                         starts=BOOKING_STARTS, outcomes=OUTCOMES)

    async def summary_page(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=False)
        call = self.own_call(session, request.match_info["id"])
        view = self.view(call)
        return self.page("summary.html", view=view, profile=described(view["profile"]))

    # --- API -------------------------------------------------------------------------------------
    async def api_call(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=True)
        return web.json_response(self.view(self.own_call(session, request.match_info["id"])))

    async def api_say(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=True)
        call = self.own_call(session, request.match_info["id"])
        data = await self.check_csrf(request, session)
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
        # the call record keeps what was said with phone and 身份证 numbers masked (the booking has them)
        self.store.add_turn(call, mask_text(shown), [m for m in replies if not m.get("custom")] + layout, state)
        view = self.view(self.store.call(call.id))
        view["said"] = mask_text(shown)
        return web.json_response(view)

    async def api_end(self, request: web.Request) -> web.Response:
        session = self.need_session(request, api=True)
        call = self.own_call(session, request.match_info["id"])
        data = await self.check_csrf(request, session)
        try:
            self.store.end_call(call, str(data.get("outcome", "")), str(data.get("note", "")))
        except OperatorError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True, "summary": f"/calls/{call.id}/summary"})

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

"""`eldercare wechat`: the advisor on a WeChat Official Account (服务号), at /wechat.

The WeChat adapter of the channel core (channels/core/chat.py): every request's signature is
checked (403 otherwise), 安全模式 messages are opened and answered sealed, each message is handled
once whichever instance gets WeChat's retries (storage/wechat_state.py), and a turn's replies
become one text with the choices as numbered lines. WeChat waits 5 s for an answer: what the
turn has said by PASSIVE_SECONDS goes back in the HTTP reply itself, the rest follows through the
客服消息 API as one more message (WeChat allows a few within 48 hours of the user's message).
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

from channels.core import heard, speech
from channels.core.advisor import AdvisorClient
from channels.core.chat import VOICE_WRONG, ChatCore, Choices
from channels.core.render import one_text
from channels.core.words import words_for
from storage.bookings import BookingStore
from storage.db import migrated_engine
from storage.followups import FollowupStore
from storage.masking import install as install_log_masking
from storage.settings import Settings
from storage.telegram_buttons import ButtonStore
from storage.wechat_state import make_stores

from .api import WeChatApi, WeChatError
from .protocol import (TEXT_LIMIT, IncomingMessage, ProtocolError, WeChatCrypto, dedup_key, open_post, parse_message,
                       text_reply, url_check_reply)

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024   # a WeChat message POST is a few hundred bytes
SUCCESS = "success"    # "received, no passive reply": WeChat stops retrying and shows nothing


@dataclass(frozen=True)
class WeChatSettings:
    app_id: str
    app_secret: str
    token: str
    aes_key: str | None = None
    api_base: str | None = None
    passive_seconds: float = 4.0   # WeChat gives up at 5 s; the reply must be on its way before

    @classmethod
    def from_env(cls) -> "WeChatSettings | None":
        app_id, secret, token = (os.environ.get(n, "").strip() for n in
                                 ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN"))
        if not (app_id and secret and token):
            return None
        try:
            passive = float(os.environ.get("WECHAT_PASSIVE_SECONDS") or 4.0)
        except ValueError:
            passive = 4.0
        return cls(app_id, secret, token, os.environ.get("WECHAT_AES_KEY", "").strip() or None,
                   os.environ.get("WECHAT_API_BASE", "").strip() or None, min(passive, 4.5))


class WeChatOutbox:
    """Collects one turn's messages; `take()` hands over what is not yet sent as WeChat text."""

    def __init__(self, key: str, buttons: ButtonStore, words: dict[str, str]):
        self.key, self.buttons, self.words = key, buttons, words
        self.parts: list[tuple[str, Choices]] = []
        self.taken = 0

    async def say(self, text: str, choices: Choices = (), local: bool = False) -> None:
        choices = list(choices)
        if any(payload == VOICE_WRONG for _title, payload in choices):
            # no buttons on WeChat: a hint instead of 不对 (a retyped answer corrects it anyway)
            text, choices = f"{text}\n{self.words['heard_wrong_hint']}", [c for c in choices if c[1] != VOICE_WRONG]
        if choices:   # stored like a keyboard, so a typed number picks from these choices
            stored = await asyncio.to_thread(self.buttons.add, self.key, choices, local)
            await asyncio.to_thread(self.buttons.attach, stored, secrets.randbelow(2**31 - 1) + 1)
        self.parts.append((text, choices))

    async def typing(self) -> None:
        pass   # the passive reply comes within 5 s, or 客服消息 shortly after

    def take(self) -> list[str]:
        new, self.taken = self.parts[self.taken:], len(self.parts)
        return one_text(new, self.words["reply_number"], TEXT_LIMIT)


class WeChatChannel:
    def __init__(self, settings: WeChatSettings, core: ChatCore, api: WeChatApi, seen, followups: FollowupStore):
        self.settings, self.core, self.api, self.seen, self.followups = settings, core, api, seen, followups
        self.crypto = WeChatCrypto(settings.token, settings.aes_key, settings.app_id) if settings.aes_key else None
        self.tasks: set[asyncio.Task] = set()   # turns finishing after their HTTP reply (held: the loop holds weakly)

    # --- HTTP --------------------------------------------------------------------------------------
    async def verify(self, request: web.Request) -> web.Response:
        """服务器配置's URL check: echostr back, only when WeChat signed it."""
        echo = url_check_reply(self.settings.token, dict(request.query), self.crypto)
        return web.Response(text=echo) if echo is not None else web.Response(status=403, text="forbidden")

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413, text="too large")
        query = dict(request.query)
        try:
            plain, sealed = open_post(self.settings.token, query, body, self.crypto)
            message = parse_message(plain)
        except ProtocolError as exc:
            logger.warning("a WeChat POST refused (%s)", type(exc).__name__)
            return web.Response(status=403, text="forbidden")
        if not await asyncio.to_thread(self.seen.first_time, dedup_key(message)):
            return web.Response(text=SUCCESS)   # WeChat's retry: the first delivery is being answered
        texts = await self.turn(message)
        if not texts:
            return web.Response(text=SUCCESS)
        reply = text_reply(message.from_user, message.to_user, texts[0], int(time.time()))
        if sealed:
            reply = self.crypto.encrypt(reply, query.get("nonce") or secrets.token_hex(5), str(int(time.time())))
        if texts[1:]:   # past the length limit: the rest right after, through 客服消息
            self._later(self.send(message.from_user, texts[1:]))
        return web.Response(text=reply, content_type="application/xml")

    # --- one turn -------------------------------------------------------------------------------------
    async def turn(self, message: IncomingMessage) -> list[str]:
        """What to answer in the HTTP reply; anything said after PASSIVE_SECONDS is sent by 客服消息."""
        key = f"wx-{message.from_user}"
        out = WeChatOutbox(key, self.core.buttons, self.core.words)
        work = asyncio.ensure_future(self.handle(message, key, out))
        done, _ = await asyncio.wait({work}, timeout=self.settings.passive_seconds)
        now = out.take()
        if not done:
            async def rest():
                try:
                    await work
                finally:   # whatever the turn said, even before it failed
                    await self.send(message.from_user, out.take())
            self._later(rest())
        elif work.exception() is not None:
            logger.error("a WeChat turn failed: %s", type(work.exception()).__name__)
            now = now or [self.core.words["sorry"]]
        return now

    async def handle(self, message: IncomingMessage, key: str, out: WeChatOutbox) -> None:
        kind, core = message.msg_type, self.core
        if kind == "text":
            await core.text(key, (message.content or "").strip(), out)
        elif kind == "voice":
            recognition = (message.recognition or "").strip() or None
            await core.voice(key, out, lambda: self.api.get_media(message.media_id), heard=
                             speech.clean(recognition) if recognition else None)
        elif kind == "image":
            await core.photo(key, out, lambda: self.api.get_media(message.media_id))
        elif kind == "event" and message.event == "subscribe":
            await core.command(key, "start", out)
        elif kind == "event" and message.event == "unsubscribe":
            stopped = await asyncio.to_thread(self.followups.stop, key)
            logger.info("a WeChat user unsubscribed: %d reminder(s) stopped", stopped)
        elif kind == "event":
            pass   # menu clicks, scans, template receipts: nothing to say
        else:
            await core.other(out)

    async def send(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            try:
                await self.api.send_text(openid, text)
            except WeChatError as exc:   # past the 48-hour window, quota: nothing more to do for this turn
                logger.warning("a WeChat 客服 message not sent (errcode %s)", exc.errcode)
                return

    def _later(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def build(settings: WeChatSettings, advisor_url: str, app_settings: Settings | None = None) -> web.Application:
    app_settings = app_settings or Settings.from_env()
    engine = migrated_engine(app_settings.db_url)
    seen, tokens = make_stores(engine, app_settings.redis_url)
    stt = speech.Transcriber.from_env()
    core = ChatCore(AdvisorClient(advisor_url), ButtonStore(engine), BookingStore(engine), stt, words_for("wechat"))
    app = web.Application(client_max_size=MAX_BODY)

    async def start(app: web.Application) -> None:
        # the API client belongs to the server's event loop
        channel = WeChatChannel(settings, core, WeChatApi(settings.app_id, settings.app_secret, tokens,
                                                          base_url=settings.api_base), seen, FollowupStore(engine))
        app["channel"] = channel
        await asyncio.to_thread(heard.warm_up)   # WeChat's Recognition text is read with it
        if stt is not None:
            await stt.start()   # the speech model loads in its worker now, not on the first message

    async def stop(app: web.Application) -> None:
        channel: WeChatChannel = app["channel"]
        if channel.tasks:   # turns still answering by 客服消息 finish first
            await asyncio.wait(channel.tasks, timeout=30)
        await channel.api.aclose()
        await core.advisor.close()
        if stt is not None:
            stt.close()

    async def verify(request):
        return await request.app["channel"].verify(request)

    async def receive(request):
        return await request.app["channel"].receive(request)

    async def health(_request):
        return web.json_response({"status": "ok"})

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_get("/wechat", verify)
    app.router.add_post("/wechat", receive)
    app.router.add_get("/health", health)
    return app


def quiet_logs() -> None:
    """No request URL (which carries the access token) and no personal number in any log line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_log_masking()


def run(settings: WeChatSettings, advisor_url: str, host: str = "127.0.0.1", port: int = 5090) -> int:
    quiet_logs()
    logger.info("WeChat endpoint at http://%s:%d/wechat (%s); advisor at %s", host, port,
                "安全模式" if settings.aes_key else "明文模式", advisor_url)
    web.run_app(build(settings, advisor_url), host=host, port=port, print=None, access_log=None)
    return 0

"""政策找人 on WeChat: a notice sent to the family's 公众号 conversation ("wx-<openid>").

First as a 客服消息 (free, but only within 48 hours of the family's last message to us). When
WeChat says that window is closed (45015) or the 客服 quota for it is used up (45047: more only
once the family writes again), the notice goes as a template message instead, if one is
configured: WECHAT_TEMPLATE_ID, an approved template of the 服务号, whose field
WECHAT_TEMPLATE_FIELD (default "content") gets the notice's text, cut to WECHAT_TEMPLATE_LIMIT
characters (default 20: a 'thing' field's limit in WeChat's current templates; "…" marks a cut).
Without a template, 45015 fails for good and 45047 is tried again later.

WeChat has no buttons: the notice's next step is stored as a one-choice keyboard
(storage/telegram_buttons.py, under the conversation's key, as the endpoint stores its own
numbered choices) and the text ends with "回复 1：<step>", so a typed 1 reaches the advisor as
the step's payload through the channel core (channels/core/chat.py ChatCore.text). A template
message carries only the cut text, so its choice is never offered (its stored row stays
unattached and is never picked).

Deliverer contract (notify/deliver.py): `send(notice)` returns once WeChat accepted the message
and raises otherwise; an address that is not WeChat's, an unsubscribed user (43004), an invalid
openid (40003) or a closed window without a template raise Undeliverable (permanent: not
retried); quota errors raise Later (retry_after seconds). The access token never reaches a log
line or an exception (channels/wechat/api.py).
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets

from storage.telegram_buttons import ButtonStore

from .api import Tokens, WeChatApi, WeChatError
from .protocol import TEXT_LIMIT as LIMIT

log = logging.getLogger(__name__)

TEMPLATE_LIMIT = 20         # a template 'thing' field's characters
WINDOW_CLOSED = 45015       # the family has not written for 48 hours
OUT_OF_QUOTA = 45047        # the 客服 messages allowed per message of the family are used up
UNREACHABLE_BY_TEXT = {WINDOW_CLOSED, OUT_OF_QUOTA}   # a template may still reach them
GONE = {40003, 43004}       # invalid openid, unsubscribed
ADDRESS = re.compile(r"wx-([A-Za-z0-9_-]{1,64})")


class Undeliverable(Exception):
    """This family cannot be reached on WeChat (unsubscribed, past the 48-hour window with no
    template configured, not a WeChat conversation): trying again would not help."""
    permanent = True


class WindowClosed(Undeliverable):
    """Past the 48-hour 客服 window and no WECHAT_TEMPLATE_ID to fall back on."""


class Later(Exception):
    """A WeChat quota (客服 per user, daily, per minute): try again after retry_after seconds."""

    def __init__(self, retry_after: float, errcode: int):
        super().__init__(f"WeChat errcode {errcode}: retry after {retry_after:g} s")
        self.retry_after, self.errcode = retry_after, errcode


def openid_of(address: str) -> str:
    """The openid in a conversation key: wx-oABC123 → oABC123."""
    found = ADDRESS.fullmatch(address or "")
    if not found:
        raise Undeliverable("not a WeChat conversation")
    return found.group(1)


def cut(text: str, limit: int) -> str:
    text = " ".join(text.split())   # a template field is one line
    return text if len(text) <= limit else text[:max(limit - 1, 0)] + "…"


def _env_int(name: str, default: int) -> int:
    try:
        return max(int(os.environ.get(name) or default), 1)
    except ValueError:
        return default


class WeChatDeliverer:
    channel = "wechat"

    def __init__(self, app_id: str, app_secret: str, tokens: Tokens, buttons: ButtonStore, *,
                 template_id: str | None = None, template_field: str = "content",
                 template_limit: int = TEMPLATE_LIMIT, base_url: str | None = None, timeout: float = 20.0,
                 transport=None):
        self.buttons = buttons
        self.template_id = (template_id or "").strip() or None
        self.template_field = (template_field or "").strip() or "content"
        self.template_limit = template_limit
        self.api = WeChatApi(app_id, app_secret, tokens, base_url=base_url, timeout=timeout, transport=transport)

    @classmethod
    def from_env(cls, tokens: Tokens, buttons: ButtonStore) -> "WeChatDeliverer | None":
        """WECHAT_APP_ID and WECHAT_APP_SECRET (None without them); WECHAT_API_BASE, and the
        template fallback: WECHAT_TEMPLATE_ID, WECHAT_TEMPLATE_FIELD, WECHAT_TEMPLATE_LIMIT."""
        app_id, secret = (os.environ.get(n, "").strip() for n in ("WECHAT_APP_ID", "WECHAT_APP_SECRET"))
        if not (app_id and secret):
            return None
        return cls(app_id, secret, tokens, buttons, template_id=os.environ.get("WECHAT_TEMPLATE_ID"),
                   template_field=os.environ.get("WECHAT_TEMPLATE_FIELD") or "content",
                   template_limit=_env_int("WECHAT_TEMPLATE_LIMIT", TEMPLATE_LIMIT),
                   base_url=os.environ.get("WECHAT_API_BASE", "").strip() or None)

    async def __aenter__(self) -> "WeChatDeliverer":
        # no call here: WeChat being down fails (and retries) each send, not the whole run
        return self

    async def __aexit__(self, *exc) -> None:
        await self.api.aclose()

    async def send(self, notice) -> None:
        openid = openid_of(notice.address)
        stored, text = [], notice.text
        if notice.button_payload:
            title = notice.button_title or "下一步"
            stored = await asyncio.to_thread(self.buttons.add, notice.address, [(f"1. {title}", notice.button_payload)])
            text = f"{text}\n\n回复 1：{title}"
        try:
            await self.api.send_text(openid, text if len(text) <= LIMIT else _shortened(notice.text, text))
        except WeChatError as exc:
            if exc.errcode in UNREACHABLE_BY_TEXT and self.template_id:
                await self._template(openid, notice)
                return
            raise self._translated(exc) from None
        if stored:   # a synthetic message id, as the endpoint's keyboards have: a typed 1 picks it
            await asyncio.to_thread(self.buttons.attach, stored, secrets.randbelow(2**31 - 1) + 1)

    async def _template(self, openid: str, notice) -> None:
        data = {self.template_field: cut(notice.text, self.template_limit)}
        try:
            await self.api.send_template(openid, self.template_id, data)
        except WeChatError as exc:
            raise self._translated(exc) from None
        log.info("a WeChat notice sent as a template message (the 客服 window was closed)")

    def _translated(self, exc: WeChatError) -> Exception:
        if exc.errcode in GONE:
            return Undeliverable(f"WeChat errcode {exc.errcode}: the user cannot be reached")
        if exc.errcode == WINDOW_CLOSED:
            return WindowClosed("past the 48-hour 客服 window, and no WECHAT_TEMPLATE_ID")
        if exc.retry_after is not None:
            return Later(exc.retry_after, exc.errcode)
        log.warning("WeChat refused a notice (errcode %s)", exc.errcode)
        return exc   # network, token, configuration: retried with backoff (its message is scrubbed)


def _shortened(body: str, whole: str) -> str:
    """A notice longer than one 客服 text (never seen: notices are a sentence or two): the body
    is cut so the 回复 1 line at the end still fits."""
    tail = whole[len(body):]
    return body[:max(LIMIT - len(tail) - 1, 0)] + "…" + tail

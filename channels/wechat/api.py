"""The 公众号 API client (async, httpx): the access token, 客服消息, media, template messages.

The access token: every call to /cgi-bin/token issues a new one and the old one stops working a
few minutes later, so all processes share one through a token store
(storage/wechat_state.py) and only fetch a new one when the stored one is near its end or
WeChat says it is no longer valid. The token (and the app secret) travel in the query string:
they must never reach a log line or an exception message (httpx logs URLs at INFO).

Errors are WeChatError(errcode, errmsg) with `permanent` and `retry_after` as notify/deliver.py
reads them: 45015 (the user has been silent for more than 48 h) and 43004 (unsubscribed) cannot
work later; 45047 (客服 quota) and 45009 (daily API quota) can, after a wait.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Protocol

import httpx

log = logging.getLogger(__name__)

API_BASE = "https://api.weixin.qq.com"
REFRESH_MARGIN = 300          # seconds: a token this close to its end is replaced before use
TOKEN_INVALID = {40001, 40014, 42001}   # invalid credential, invalid token, token expired
PERMANENT = {40003, 43004, 45015}       # invalid openid, unsubscribed, past the 48-hour window
MAX_MEDIA = 20 * 1024 * 1024  # voice and images are far smaller; anything bigger is not theirs
CHINA = dt.timezone(dt.timedelta(hours=8))


def _retry_after(errcode: int) -> float | None:
    if errcode == 45047:   # 客服 messages over the limit: more are allowed once the user writes again
        return 3600.0
    if errcode == 45009:   # the daily quota: it resets at midnight, Beijing time
        now = dt.datetime.now(CHINA)
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), CHINA)
        return (midnight - now).total_seconds() + 60
    if errcode == 45011:   # the per-minute limit
        return 60.0
    return None


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str = "", retry_after: float | None = None):
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg
        self.permanent = errcode in PERMANENT
        self.retry_after = retry_after if retry_after is not None else _retry_after(errcode)


class Tokens(Protocol):
    """storage.wechat_state.TokenStore, its Redis twin, or MemoryTokens."""
    def get(self, app_id: str) -> tuple[str, dt.datetime] | None: ...
    def put(self, app_id: str, token: str, expires_at: dt.datetime) -> None: ...


class MemoryTokens:
    """One process only (a test, a lone instance): several processes need the shared store."""

    def __init__(self):
        self._tokens: dict[str, tuple[str, dt.datetime]] = {}

    def get(self, app_id: str) -> tuple[str, dt.datetime] | None:
        return self._tokens.get(app_id)

    def put(self, app_id: str, token: str, expires_at: dt.datetime) -> None:
        self._tokens[app_id] = (token, expires_at)


def quiet_http_logs() -> None:
    # httpx logs every request URL at INFO, and ours carry the access token or the secret
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


class WeChatApi:
    """One per event loop (the lock and the connection pool belong to it); close with aclose()."""

    def __init__(self, app_id: str, app_secret: str, tokens: Tokens, base_url: str | None = None,
                 timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None):
        quiet_http_logs()
        self.app_id, self._secret, self.tokens = app_id, app_secret, tokens
        self._http = httpx.AsyncClient(base_url=(base_url or API_BASE).rstrip("/"), timeout=timeout,
                                       transport=transport)
        self._lock = asyncio.Lock()   # one refresh at a time in this process
        self._cached: tuple[str, float] | None = None   # (token, expires at, epoch seconds)

    async def __aenter__(self) -> "WeChatApi":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- the access token -----------------------------------------------------------------------
    async def get_access_token(self, stale: str | None = None) -> str:
        """The shared token, fetched anew only when none usable is stored. `stale`: a token
        WeChat just refused, never to be handed out again."""
        async with self._lock:
            now = time.time()
            if self._cached and self._cached[0] != stale and self._cached[1] - now > REFRESH_MARGIN:
                return self._cached[0]
            found = await asyncio.to_thread(self.tokens.get, self.app_id)
            if found and found[0] != stale and found[1].timestamp() - now > REFRESH_MARGIN:
                self._cached = (found[0], found[1].timestamp())   # another process's: use it too
                return found[0]
            data = await self._checked("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self._secret})
            token, lifetime = data.get("access_token"), int(data.get("expires_in") or 7200)
            if not token:
                raise WeChatError(-1, "no access_token in the answer")
            expires_at = now + lifetime
            self._cached = (token, expires_at)
            try:
                await asyncio.to_thread(self.tokens.put, self.app_id, token,
                                        dt.datetime.fromtimestamp(expires_at, dt.timezone.utc))
            except Exception as exc:   # noqa: BLE001 — a database error quotes its parameters: the token
                log.warning("could not store the WeChat access token (%s); using it in this process only",
                            type(exc).__name__)
            log.info("WeChat access token issued for %s (valid %d s)", self.app_id, lifetime)
            return token

    # ---- the calls -------------------------------------------------------------------------------
    async def send_text(self, openid: str, text: str) -> None:
        """A 客服消息: allowed within 48 hours of the user's last message to us."""
        await self._call("POST", "/cgi-bin/message/custom/send",
                         body={"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_template(self, openid: str, template_id: str, data: dict, url: str | None = None) -> int | None:
        """A template message (服务号); values may be plain strings. Returns WeChat's msgid."""
        body = {"touser": openid, "template_id": template_id,
                "data": {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()}}
        if url:
            body["url"] = url
        return (await self._call("POST", "/cgi-bin/message/template/send", body=body)).get("msgid")

    async def get_media(self, media_id: str) -> bytes:
        """A voice note or image the user sent (temporary media, kept by WeChat for 3 days)."""
        return await self._call("GET", "/cgi-bin/media/get", params={"media_id": media_id}, media=True)

    async def _call(self, method: str, path: str, params: dict | None = None, body: dict | None = None,
                    media: bool = False):
        stale = None
        for attempt in (1, 2):
            token = await self.get_access_token(stale)
            response = await self._send(method, path, {**(params or {}), "access_token": token}, body)
            if media and not _is_json(response):
                if len(response.content) > MAX_MEDIA:
                    raise WeChatError(-1, "media larger than expected")
                return response.content
            data = self._json(response)
            errcode = int(data.get("errcode") or 0)
            if errcode in TOKEN_INVALID and attempt == 1:
                log.info("WeChat refused the access token (errcode %d): refreshing once", errcode)
                stale = token
                continue
            if errcode:
                raise WeChatError(errcode, self._scrub(str(data.get("errmsg", "")), token))
            if media:
                raise WeChatError(-1, "a JSON answer where media was expected (a video?)")
            return data
        raise AssertionError("unreachable")

    async def _checked(self, method: str, path: str, params: dict) -> dict:
        data = self._json(await self._send(method, path, params, None))
        if data.get("errcode"):
            raise WeChatError(int(data["errcode"]), self._scrub(str(data.get("errmsg", ""))))
        return data

    async def _send(self, method: str, path: str, params: dict, body: dict | None) -> httpx.Response:
        try:
            response = await self._http.request(
                method, path, params=params,
                # UTF-8 as it is: WeChat shows \\uXXXX escapes in some messages literally
                content=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
                headers={"Content-Type": "application/json; charset=utf-8"} if body is not None else None)
        except httpx.HTTPError as exc:
            # httpx's own message can quote the URL (and so the token): only the kind is kept
            raise WeChatError(-1, f"network error ({type(exc).__name__}) on {path}") from None
        log.debug("WeChat %s %s → HTTP %d", method, path, response.status_code)
        if response.status_code != 200:
            raise WeChatError(-1, f"HTTP {response.status_code} on {path}")
        return response

    def _json(self, response: httpx.Response) -> dict:
        try:
            data = json.loads(response.content)
        except ValueError:
            raise WeChatError(-1, "an answer that is not JSON") from None
        if not isinstance(data, dict):
            raise WeChatError(-1, "an answer that is not a JSON object")
        return data

    def _scrub(self, text: str, *secrets: str) -> str:
        for secret in (self._secret, *secrets, *(self._cached[:1] if self._cached else ())):
            if secret:
                text = text.replace(secret, "***")
        return text


def _is_json(response: httpx.Response) -> bool:
    # media comes as image/jpeg, audio/amr, …; an error as JSON (sometimes labelled text/plain)
    kind = response.headers.get("Content-Type", "")
    return "json" in kind or ("text/plain" in kind and response.content[:1] == b"{")

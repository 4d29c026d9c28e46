"""A fake WeChat platform for the tests: the 公众号 API's edge, nothing more.

The API side speaks the JSON of api.weixin.qq.com for what the channel uses — /cgi-bin/token,
/cgi-bin/message/custom/send, /cgi-bin/media/get, /cgi-bin/message/template/send — records
every call, and can be told to expire a token (the next call with it gets 40001) or to fail
sends with an errcode. The user side builds the POSTs WeChat makes to our URL: signed plain
XML, or safe-mode (安全模式) envelopes, via `signed_post`.
"""
from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
import urllib.parse

import pytest

from channels.wechat.protocol import WeChatCrypto, cdata, parse_xml, sign

APP_ID = "wx0123456789abcdef"
APP_SECRET = "fake-secret-0123456789abcdef"
TOKEN = "eldercaretoken"                                  # the 服务器配置 Token
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as 基本配置 shows them
ACCOUNT = "gh_0123456789ab"                               # our account's original id (ToUserName)


class FakeWeChat:
    def __init__(self, app_id: str = APP_ID, secret: str = APP_SECRET):
        self.app_id, self.secret = app_id, secret
        self.lock = threading.Lock()
        self.calls: list[tuple[str, dict]] = []          # (path, query + JSON body)
        self.issued = 0                                  # access tokens handed out
        self.valid: set[str] = set()
        self.sent: dict[str, list[str]] = {}             # openid → texts sent by 客服消息
        self.templates: list[dict] = []
        self.media: dict[str, tuple[bytes, str]] = {}    # media_id → (bytes, content type)
        self.failures: list[tuple[int, str | None]] = [] # (errcode, openid or None for anyone), used once each
        self.echo_token_in_errors = False                # an errmsg quoting the token: the client must scrub it
        self.msgids = itertools.count(1000)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeWeChat":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what a test arranges ------------------------------------------------------------------
    def expire(self, token: str | None = None) -> None:
        """This token (default: every one issued) is refused from now on with 40001."""
        with self.lock:
            self.valid = set() if token is None else self.valid - {token}

    def fail_send(self, errcode: int, openid: str | None = None, times: int = 1) -> None:
        """The next `times` 客服/template sends (to this openid, or to anyone) fail with errcode."""
        with self.lock:
            self.failures.extend([(errcode, openid)] * times)

    def add_media(self, media_id: str, data: bytes, content_type: str = "audio/amr") -> None:
        self.media[media_id] = (data, content_type)

    def called(self, path: str) -> list[dict]:
        return [p for c, p in self.calls if c == path]

    # --- the API ----------------------------------------------------------------------------------
    def handle(self, path: str, params: dict) -> tuple[int, bytes, str]:
        with self.lock:
            self.calls.append((path, params))
            if path == "/cgi-bin/token":
                if params.get("appid") != self.app_id or params.get("secret") != self.secret:
                    return _error(40125, "invalid appsecret")
                self.issued += 1
                token = f"TOKEN-{self.issued}"
                self.valid.add(token)
                return _json({"access_token": token, "expires_in": 7200})
            token = params.get("access_token", "")
            if token not in self.valid:
                quoted = f" ({token})" if self.echo_token_in_errors else ""
                return _error(40001, f"invalid credential, access_token is invalid or not latest{quoted}")
            if path == "/cgi-bin/media/get":
                found = self.media.get(params.get("media_id", ""))
                if found is None:   # WeChat labels its JSON errors here as text/plain
                    return 200, json.dumps({"errcode": 40007, "errmsg": "invalid media_id"}).encode(), "text/plain"
                return 200, found[0], found[1]
            if path in ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send"):
                openid = params.get("touser", "")
                for i, (errcode, who) in enumerate(self.failures):
                    if who in (None, openid):
                        del self.failures[i]
                        return _error(errcode, "fake failure")
                if path.endswith("custom/send"):
                    if params.get("msgtype") != "text":
                        return _error(40008, "invalid message type")
                    self.sent.setdefault(openid, []).append(params["text"]["content"])
                    return _json({"errcode": 0, "errmsg": "ok"})
                self.templates.append(params)
                return _json({"errcode": 0, "errmsg": "ok", "msgid": next(self.msgids)})
            return 404, b"", "text/plain"


def _json(data: dict) -> tuple[int, bytes, str]:
    return 200, json.dumps(data, ensure_ascii=False).encode(), "application/json; encoding=utf-8"


def _error(errcode: int, errmsg: str) -> tuple[int, bytes, str]:
    return _json({"errcode": errcode, "errmsg": f"{errmsg} rid: fake-{time.monotonic_ns()}"})


def _handler(api: FakeWeChat):
    class Handler(http.server.BaseHTTPRequestHandler):
        def _route(self):
            url = urllib.parse.urlparse(self.path)
            params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                params.update(json.loads(self.rfile.read(length)))
            status, body, ctype = api.handle(url.path, params)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _route

        def log_message(self, *args):
            pass
    return Handler


@pytest.fixture
def fake_platform():
    """A fresh fake platform per test (import it into a test module as `fake`)."""
    platform = FakeWeChat().start()
    yield platform
    platform.stop()


# --- the POSTs WeChat makes to our URL ------------------------------------------------------------
_ids = itertools.count(int(time.time() * 1000) % 10**9 * 10**6)   # MsgIds unique within a test run


def message_xml(kind: str, openid: str, *, to_user: str = ACCOUNT, create_time: int | None = None,
                msg_id: int | str | None = None, content: str = "", media_id: str = "media-1",
                recognition: str | None = None, pic_url: str = "http://mmbiz.qpic.cn/fake.jpg",
                event: str = "subscribe", event_key: str = "", format: str = "amr") -> str:
    """A message as WeChat pushes it: kind is text, voice, image or event."""
    head = (f"<ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
            f"<CreateTime>{int(create_time or time.time())}</CreateTime><MsgType>{cdata(kind)}</MsgType>")
    if kind == "event":
        return f"<xml>{head}<Event>{cdata(event)}</Event><EventKey>{cdata(event_key)}</EventKey></xml>"
    body = {"text": f"<Content>{cdata(content)}</Content>",
            "voice": f"<MediaId>{cdata(media_id)}</MediaId><Format>{cdata(format)}</Format>"
                     + (f"<Recognition>{cdata(recognition)}</Recognition>" if recognition is not None else ""),
            "image": f"<PicUrl>{cdata(pic_url)}</PicUrl><MediaId>{cdata(media_id)}</MediaId>"}[kind]
    return f"<xml>{head}{body}<MsgId>{msg_id or next(_ids)}</MsgId></xml>"


def signed_post(kind: str, openid: str, *, token: str = TOKEN, crypto: WeChatCrypto | None = None,
                timestamp: str | None = None, nonce: str | None = None, xml: str | None = None,
                **fields) -> tuple[dict, str]:
    """(query parameters, body) of WeChat's POST: plain, or encrypted when given a crypto
    (WeChatCrypto(TOKEN, AES_KEY, APP_ID) for the defaults). `xml` replaces the built message."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(next(_ids) % 10**10)
    xml = xml or message_xml(kind, openid, **fields)
    params = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": openid}
    if crypto is None:
        return params, xml
    sealed = parse_xml(crypto.encrypt(xml, nonce, timestamp))   # the same formula signs both directions
    to_user = fields.get("to_user", ACCOUNT)
    params.update(encrypt_type="aes", msg_signature=sealed.findtext("MsgSignature"))
    return params, (f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
                    f"<Encrypt>{cdata(sealed.findtext('Encrypt'))}</Encrypt></xml>")


def url_check(echostr: str = "echo-1234567890", token: str = TOKEN) -> dict:
    """The GET WeChat makes when the URL is saved in 服务器配置 (signed plainly in every mode)."""
    timestamp, nonce = str(int(time.time())), "1234567"
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "echostr": echostr}


def open_reply(crypto: WeChatCrypto, body: str) -> str:
    """What WeChat reads in our encrypted passive reply (its signature checked)."""
    root = parse_xml(body)
    return crypto.decrypt(root.findtext("MsgSignature"), root.findtext("TimeStamp"), root.findtext("Nonce"), body)


# --- a user, as the tests and tools/wechat_sim.py drive the endpoint --------------------------------
def post_to(url: str, query: dict, body: str) -> tuple[int, str]:
    """POST as WeChat does to `url`/wechat: (status, body)."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"{url}/wechat?{urllib.parse.urlencode(query)}", data=body.encode(),
                                     headers={"Content-Type": "text/xml"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class WeChatUser:
    """One WeChat user: sends as WeChat does (安全模式 with a crypto), reads the passive reply and
    the 客服消息 the turn brings."""

    def __init__(self, url: str, platform: FakeWeChat, crypto: WeChatCrypto | None, openid: str,
                 slow_seconds: float = 60):
        self.url, self.platform, self.crypto, self.openid, self.slow_seconds = url, platform, crypto, openid, slow_seconds

    def send(self, kind: str = "text", **fields) -> tuple[str | None, list[str]]:
        """(the passive reply's text or None for "success", the 客服 messages this turn brought)."""
        from channels.wechat.protocol import parse_message
        before = len(self.platform.sent.get(self.openid, []))
        status, body = post_to(self.url, *signed_post(kind, self.openid, crypto=self.crypto, **fields))
        if status != 200:
            raise AssertionError(f"{status}: {body}")
        if body == "success":
            passive = None
        else:
            passive = parse_message(open_reply(self.crypto, body) if self.crypto else body).content
        # a turn that outlived the 5 s goes on by 客服消息: wait for it, then until nothing more comes
        deadline = time.monotonic() + (self.slow_seconds if passive is None or "正在听" in passive else 1.5)
        count = before
        while time.monotonic() < deadline:
            time.sleep(1.0)
            now = len(self.platform.sent.get(self.openid, []))
            if now > before and now == count:
                break
            count = now
        return passive, self.platform.sent.get(self.openid, [])[before:]

    def say(self, text: str) -> str:
        passive, later = self.send("text", content=text)
        return "\n".join([passive or ""] + later).strip()

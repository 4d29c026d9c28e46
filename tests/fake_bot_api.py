"""A fake Telegram Bot API server for the tests: the edge of the machine, nothing more.

It speaks the Bot API's JSON over HTTP (https://core.telegram.org/bots/api) for what the
bridge uses — getMe, getUpdates (long polling), sendMessage, answerCallbackQuery,
editMessageReplyMarkup, sendChatAction, setMyCommands, setWebhook/deleteWebhook, getFile and
the file download — records every call, and lets a test push updates as users would.
"""
from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
import urllib.parse
from email.parser import BytesParser
from email.policy import default as email_policy

BOT = {"id": 7000001, "is_bot": True, "first_name": "养老顾问", "username": "eldercare_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


class FakeBotApi:
    def __init__(self, token: str):
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.updates: list[dict] = []
        self.files: dict[str, bytes] = {}
        self.cond = threading.Condition()
        self.update_ids = itertools.count(1)
        self.confirmed = 0   # like Telegram: getUpdates with an offset forgets every update below it
        self.message_ids = itertools.count(100)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> "FakeBotApi":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    # --- what users do -----------------------------------------------------------------------
    def _push(self, kind: str, body: dict) -> None:
        with self.cond:
            self.updates.append({"update_id": next(self.update_ids), kind: body})
            self.cond.notify_all()

    @staticmethod
    def _chat(chat_id: int) -> dict:
        return {"id": chat_id, "type": "private", "first_name": "王"} if chat_id > 0 else \
            {"id": chat_id, "type": "group", "title": "家庭群"}

    def _message(self, chat_id: int, user_id: int | None = None, **fields) -> dict:
        user = {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "王", "language_code": "zh-hans"}
        return {"message_id": next(self.message_ids), "date": int(time.time()), "chat": self._chat(chat_id),
                "from": user, **fields}

    def text(self, chat_id: int, text: str, user_id: int | None = None) -> None:
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        self._push("message", self._message(chat_id, user_id, text=text, **({"entities": entities} if entities else {})))

    def tap(self, chat_id: int, message: dict, data: str, user_id: int | None = None) -> None:
        user = {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "王"}
        self._push("callback_query", {"id": str(next(self.update_ids)), "from": user, "chat_instance": "1",
                                      "data": data, "message": {**message, "chat": self._chat(chat_id)}})

    def voice(self, chat_id: int, ogg: bytes) -> None:
        file_id = f"voice{len(self.files)}"
        self.files[file_id] = ogg
        self._push("message", self._message(chat_id, voice={"file_id": file_id, "file_unique_id": file_id,
                                                             "duration": 2, "mime_type": "audio/ogg",
                                                             "file_size": len(ogg)}))

    def photo(self, chat_id: int, jpeg: bytes) -> None:
        file_id = f"photo{len(self.files)}"
        self.files[file_id] = jpeg
        self._push("message", self._message(chat_id, photo=[{"file_id": file_id, "file_unique_id": file_id,
                                                             "width": 856, "height": 540, "file_size": len(jpeg)}]))

    def other(self, chat_id: int, **fields) -> None:
        self._push("message", self._message(chat_id, **fields))

    # --- what the bot did ----------------------------------------------------------------------
    def sent(self, chat_id: int) -> list[dict]:
        return [p for m, p in self.calls if m == "sendMessage" and int(p["chat_id"]) == chat_id]

    def wait_sent(self, chat_id: int, count: int, timeout: float = 60) -> list[dict]:
        """The messages sent to a chat once there are `count` of them (and nothing more arrives)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent(chat_id)
            if len(sent) >= count:
                # the rest of the same reply: until nothing more comes for a second
                while True:
                    time.sleep(1.0)
                    if len(self.sent(chat_id)) == len(sent):
                        return sent
                    sent = self.sent(chat_id)
            time.sleep(0.1)
        raise AssertionError(f"chat {chat_id}: {len(self.sent(chat_id))} messages, waited for {count}: "
                             f"{[m.get('text') for m in self.sent(chat_id)]}")

    def called(self, method: str) -> list[dict]:
        return [p for m, p in self.calls if m == method]

    # --- the API ----------------------------------------------------------------------------------
    def handle(self, method: str, params: dict):
        self.calls.append((method, params))
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
            deadline = time.monotonic() + min(timeout, 2.0)
            with self.cond:
                # A bridge started afresh asks without an offset and must get only what no earlier
                # bridge confirmed, as from Telegram, not every update since the test began.
                self.confirmed = max(self.confirmed, offset)
                while True:
                    ready = [u for u in self.updates if u["update_id"] >= self.confirmed]
                    remaining = deadline - time.monotonic()
                    if ready or remaining <= 0:
                        return ready
                    self.cond.wait(remaining)
        if method == "sendMessage":
            message = {"message_id": next(self.message_ids), "date": int(time.time()),
                       "chat": self._chat(int(params["chat_id"])), "from": BOT, "text": params.get("text", "")}
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            params["_message"] = message
            return message
        if method == "getFile":
            return {"file_id": params["file_id"], "file_unique_id": params["file_id"],
                    "file_size": len(self.files[params["file_id"]]), "file_path": f"files/{params['file_id']}"}
        return True


def _handler(api: FakeBotApi):
    class Handler(http.server.BaseHTTPRequestHandler):
        def _params(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            ctype = self.headers.get("Content-Type", "")
            params: dict = {}
            if "json" in ctype and body:
                params = json.loads(body)
            elif "multipart" in ctype:
                msg = BytesParser(policy=email_policy).parsebytes(
                    f"Content-Type: {ctype}\r\n\r\n".encode() + body)
                for part in msg.iter_parts():
                    params[part.get_param("name", header="content-disposition")] = part.get_content()
            elif body:
                params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            params.update({k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query).items()})
            for key, value in list(params.items()):
                if isinstance(value, str) and value[:1] in "[{":
                    try:
                        params[key] = json.loads(value)
                    except ValueError:
                        pass
            return params

        def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self):
            path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path)   # file URLs quote the ':'
            file_prefix = f"/file/bot{api.token}/files/"
            if path.startswith(file_prefix):
                data = api.files.get(path[len(file_prefix):])
                return self._reply(200 if data else 404, data or b"", "application/octet-stream")
            prefix = f"/bot{api.token}/"
            if not path.startswith(prefix):
                return self._reply(401, json.dumps({"ok": False, "error_code": 401,
                                                    "description": "Unauthorized"}).encode())
            result = api.handle(path[len(prefix):], self._params())
            self._reply(200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode())

        do_GET = do_POST = _route

        def log_message(self, *args):
            pass
    return Handler

"""Chat with the advisor in a terminal, over its REST channel."""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid

QUIT = {"退出", "再见了", "quit", "exit"}


def send(url: str, sender: str, text: str, timeout: float = 60) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return json.loads(reply.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        if error.code == 503:          # the advisor's own apology: a shared service is down
            return json.loads(error.read().decode("utf-8"))
        raise


def render(messages: list[dict]) -> str:
    """Bot messages as terminal text; buttons become numbered lines (their titles carry the number)."""
    lines = []
    for message in messages:
        if message.get("text"):
            lines.append(message["text"])
        for button in message.get("buttons") or []:
            lines.append(f"   {button['title']}")
    return "\n".join(lines)


def chat(url: str, sender: str | None = None, stdin=sys.stdin, stdout=sys.stdout) -> int:
    sender = sender or f"terminal-{uuid.uuid4().hex[:8]}"
    print("养老政策顾问已就绪。直接打字聊天；回复数字可以选选项；输入「退出」结束。", file=stdout)
    while True:
        print("您：", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if text in QUIT:
            break
        try:
            reply = render(send(url, sender, text))
        except OSError as exc:
            print(f"（连不上顾问服务：{exc}）", file=stdout)
            continue
        print(f"顾问：{reply}\n" if reply else "顾问：……\n", file=stdout, flush=True)
    print("再见！", file=stdout)
    return 0

"""Running the real advisor for end-to-end tests, and talking to it over the REST channel."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from app.serve import free_port, model_path
from storage.settings import PROJECT_ROOT, Settings


class Advisor:
    """`eldercare serve` as a user runs it, on free ports, with its own var dir (SQLite)."""

    def __init__(self, var: Path, extra_env: dict | None = None, console: bool = False):
        if not model_path(Settings.from_env()).exists():
            pytest.fail("没有训练好的模型：先运行 `make train`（make test 会自动训练）")
        self.var = var
        self.rasa_port, self.action_port = free_port(), free_port()
        self.console_port = free_port() if console else None   # the operator console, when a test uses it
        env = {k: v for k, v in os.environ.items() if k != "ELDERCARE_DB_URL"}   # SQLite unless a test says
        env.update({"ELDERCARE_VAR_DIR": str(var), **(extra_env or {})})
        self.log_path = var / f"serve-{self.rasa_port}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.rasa_port),
             "--action-port", str(self.action_port),
             *(["--console-port", str(self.console_port)] if console else ["--no-console"])],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.console_url = f"http://127.0.0.1:{self.console_port}" if console else None
        self._wait()

    def _wait(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"eldercare serve exited: {self.log_text()[-3000:]}")
            if "顾问已启动" in self.log_text():  # printed once both servers answer
                return
            time.sleep(0.5)
        self.proc.terminate()
        pytest.fail(f"advisor did not start within {timeout} s")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a service manager would: both servers must stop cleanly."""
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout=60)
        self.log.close()
        return code

    def chat(self, sender: str | None = None) -> "Chat":
        return Chat(self.url, sender)


class Chat:
    def __init__(self, url: str, sender: str | None = None):
        self.url, self.sender = url, sender or f"test-{uuid.uuid4().hex[:10]}"
        self.transcript: list[str] = []

    def say(self, text: str) -> list[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        req = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as reply:
            messages = json.loads(reply.read())
        self.transcript.append(f"用户：{text}")
        self.transcript += [f"顾问：{m.get('text') or m.get('custom', {}).get('type')}" for m in messages]
        return messages

    @staticmethod
    def texts(messages) -> str:
        return "\n".join(m.get("text", "") for m in messages if m.get("text"))

    @staticmethod
    def recommendations(messages) -> dict | None:
        return next((m["custom"] for m in messages
                     if isinstance(m.get("custom"), dict) and m["custom"].get("type") == "recommendations"), None)

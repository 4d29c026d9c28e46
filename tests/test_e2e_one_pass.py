"""One pass: a user turn costs at most one action-server call, bookings and lookups included.

The real Rasa server (with its pinned patch) and the real action server, with a counting
proxy between them: every call Rasa makes to the action server is counted per user turn.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from app.evaluation.forward import ForwardingProxy
from app.serve import model_path, tracker_store_config
from e2e_support import Chat, free_port
from storage.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.e2e


def counting_proxy(action_port: int) -> ForwardingProxy:
    """Forwards Rasa's calls to the action server and keeps each call's next_action."""
    calls: list = []
    proxy = ForwardingProxy(f"http://127.0.0.1:{action_port}", lambda body, _: calls.append(
        json.loads(body).get("next_action")), timeout=60)
    proxy.calls = calls
    return proxy


def _wait(url: str, procs, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a server exited"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not come up")


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    var = tmp_path_factory.mktemp("one-pass")
    settings = Settings.from_env()
    env = {**os.environ, "ELDERCARE_VAR_DIR": str(var), "ELDERCARE_DB_URL": f"sqlite:///{var}/eldercare.db",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    action_port, rasa_port = free_port(), free_port()
    proxy = counting_proxy(action_port).start()
    endpoints = var / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({
        "action_endpoint": {"url": f"{proxy.url}/webhook"},
        "tracker_store": tracker_store_config(f"sqlite:///{var}/eldercare.db")}), encoding="utf-8")
    log = open(var / "servers.log", "wb")
    procs = [subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
                              cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
             subprocess.Popen([sys.executable, "-m", "app.rasa_server", "run", "--model", str(model_path(settings)),
                               "--endpoints", str(endpoints), "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                               "--port", str(rasa_port), "--interface", "127.0.0.1"],
                              cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)]
    try:
        _wait(f"http://127.0.0.1:{action_port}/health", procs)
        _wait(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", procs)
        yield proxy, f"http://127.0.0.1:{rasa_port}"
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=60)
        proxy.shutdown()
        log.close()


CONVERSATION = ["你好", "我妈今年85岁，住在姑苏区", "本地户口", "好的", "不清楚", "1", "更多", "长护险怎么申请",
                "帮我约个助浴", "明天上午", "长护险要带什么", "姑苏区十全街88号2幢301", "王阿姨", "13812345678", "1",
                "我排到第几了", "帮她申请公办养老院", "姑苏区的", "不约了", "重新开始"]


def test_every_turn_costs_at_most_one_action_call(counted):
    proxy, url = counted
    chat = Chat(url)
    per_turn = {}
    for text in CONVERSATION:
        before = len(proxy.calls)
        reply = chat.say(text)
        assert reply, text
        per_turn[text] = proxy.calls[before:]
    heavy = {t: calls for t, calls in per_turn.items() if len(calls) > 1}
    # No exception any more: a request is a task of the one action, so a policy question in the
    # middle of a booking is answered in the same call that asks the booking's question again.
    assert heavy == {}, heavy
    assert per_turn["你好"] == per_turn["更多"] == ["action_advisor"]
    assert per_turn["帮我约个助浴"] == per_turn["长护险要带什么"] == per_turn["13812345678"] == ["action_advisor"]
    assert "JY-" in "\n".join(chat.transcript)           # the booking was filed
    assert per_turn["我排到第几了"] == ["action_advisor"]

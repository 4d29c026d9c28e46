"""The action servers are reachable only by whom they must be (issue 18): on loopback unless told
otherwise, and with a shared token every call without it is refused — whoever reaches the port
cannot act as a user or file a booking."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from app.serve import action_server_args, free_port, write_endpoints
from storage.settings import PROJECT_ROOT, Settings

CALL = {"next_action": "action_advisor", "sender_id": "outsider", "version": "3.6.2", "domain": {},
        "tracker": {"sender_id": "outsider", "slots": {}, "latest_message": {"text": "帮我约个助浴"},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"}}


def _start(args, env=None):
    proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc


def _wait(port: int, proc) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the action server exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the action server did not start")


def _post(port: int, query: str = ""):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook{query}", data=json.dumps(CALL).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on `port`, from the kernel's socket tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hexport = local.split(":")
            if int(hexport, 16) == port and state == "0A":   # LISTEN
                found.add(address)
    return found


def test_by_default_an_action_server_listens_on_loopback_only():
    port = free_port()
    proc = _start(action_server_args(port))
    try:
        _wait(port, proc)
        assert _listening_addresses(port) == {"0100007F"}, "127.0.0.1 only, not 0.0.0.0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_with_a_token_a_call_without_it_is_refused_and_with_it_answered():
    port = free_port()
    proc = _start([sys.executable, "-m", "app.action_server", "--port", str(port)],
                  {"ELDERCARE_ACTION_TOKEN": "a-long-random-secret"})
    try:
        _wait(port, proc)
        status, body = _post(port)
        assert status == 403 and body == {"error": "forbidden"}      # nothing ran, nothing was filed
        status, _ = _post(port, "?token=wrong")
        assert status == 403
        status, body = _post(port, "?token=a-long-random-secret")
        assert status == 200 and body["responses"], body             # the advisor answered
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_rasa_is_told_the_token(tmp_path):
    settings = Settings.from_env()
    import dataclasses
    local = dataclasses.replace(settings, var_dir=tmp_path, action_token="s3cret")
    endpoints = write_endpoints(local, 5055)
    import yaml
    assert yaml.safe_load(endpoints.read_text())["action_endpoint"]["token"] == "s3cret"
    plain = write_endpoints(dataclasses.replace(settings, var_dir=tmp_path, action_token=None), 5055)
    assert "token" not in yaml.safe_load(plain.read_text())["action_endpoint"]


@pytest.mark.parametrize("path", ["docker-compose.yml", "deploy/helm/values.yaml"])
def test_production_action_servers_need_the_token(path):
    text = (PROJECT_ROOT / path).read_text(encoding="utf-8")
    assert "app.action_server" in text and "ELDERCARE_ACTION_TOKEN" in text
    assert "token: ${ELDERCARE_ACTION_TOKEN}" in (PROJECT_ROOT / "deploy" / "endpoints.prod.yml").read_text()

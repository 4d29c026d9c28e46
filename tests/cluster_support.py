"""Shared services for the production tests: a fresh PostgreSQL database, and private Redis and
PostgreSQL servers the fault tests may stop and start (never the machine's shared ones); and what
the fault tests time events by: a log followed as it grows, Rasa's lock tickets in Redis."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from storage.db import create_database, drop_database

from conftest import POSTGRES_URL, REQUIRE_SERVICES, need_service
from e2e_support import free_port


def need_binary(name: str, path: str | None) -> str:
    if path:
        return path
    message = f"没有 {name}（make setup 会用 scripts/system-deps.sh 安装）"
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


class FreshDatabase:
    """A database of its own on the shared PostgreSQL, dropped afterwards."""

    def __init__(self):
        need_service("PostgreSQL", "127.0.0.1", 5432)
        self.url = create_database(POSTGRES_URL, "eldercare_t")

    def drop(self) -> None:
        drop_database(POSTGRES_URL, self.url)


class PrivateRedis:
    """redis-server on a free port, in a temporary directory; stop() and start() at will."""

    def __init__(self, workdir: Path):
        self.binary = need_binary("redis-server", shutil.which("redis-server"))
        self.port, self.dir = free_port(), workdir
        self.proc = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                import redis
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except Exception:
                time.sleep(0.1)
        pytest.fail("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class PrivatePostgres:
    """A PostgreSQL cluster of its own (Debian's binaries, run as the postgres user), on a free
    port, so a test may stop and restart it without touching the shared one."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        self.bin = Path(need_binary("PostgreSQL (pg_ctl)", found[-1] if found else None)).parent
        self.port = free_port()
        # a directory of its own under /tmp: pytest's tmp_path is private to root, and initdb
        # refuses to run as root, so the server runs as the postgres user
        self.root = Path(tempfile.mkdtemp(prefix="eldercare-pg-"))
        self.data = self.root / "pgdata"
        self.data.mkdir()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.root, self.user)
            shutil.chown(self.data, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "eldercare")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/eldercare"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data.parent / "pg.log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except AssertionError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def post(url: str, sender: str, message: str, timeout: float = 60) -> tuple[int, list[dict]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"[]")


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


class LogWatch:
    """Lines appended to a log (nginx's error log), each with the time it was seen, so a test can
    tell when something happened (nginx marked an instance down) without reading nginx's
    one-second timestamps. Polls every 20 ms from a thread until stop()."""

    def __init__(self, path: Path):
        self.path, self.lines = path, []            # (time.perf_counter(), line)
        self._offset = path.stat().st_size if path.exists() else 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        pending = b""
        while not self._stop.is_set():
            if self.path.exists():
                with open(self.path, "rb") as log:
                    log.seek(self._offset)
                    chunk = log.read()
                self._offset += len(chunk)
                pending += chunk
                seen = time.perf_counter()
                *complete, pending = pending.split(b"\n")
                self.lines += [(seen, line.decode("utf-8", "replace")) for line in complete]
            self._stop.wait(0.02)

    def first(self, *words: str) -> float | None:
        """When the first line holding every one of `words` was seen, or None."""
        return next((seen for seen, line in self.lines if all(w in line for w in words)), None)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def lock_tickets(redis_url: str) -> dict[str, list[dict]]:
    """Rasa's lock store as it is now: conversation -> its tickets ({"number", "expires"}, expires
    in time.time() seconds). The tickets of an instance killed mid-turn stay until they expire."""
    import redis
    client = redis.Redis.from_url(redis_url)
    try:
        found = {}
        for key in client.scan_iter(match="*:lock:*"):
            value = client.get(key)
            if value:
                lock = json.loads(value)
                found[lock["conversation_id"]] = [json.loads(t) for t in lock["tickets"]]
        return found
    finally:
        client.close()


def wait_for(check, limit: float, what: str, every: float = 0.2) -> float:
    """Poll `check()` until true; the time.perf_counter() it became so. `limit` only guards against
    a hang (an event that never comes), it is no window the event must fall in."""
    deadline = time.perf_counter() + limit
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            pytest.fail(f"{what}: not within {limit:.0f} s")
        time.sleep(every)

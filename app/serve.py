"""Running the advisor: the Rasa server and the action server as two child processes."""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import yaml
from sqlalchemy.engine import make_url

from storage.settings import PROJECT_ROOT, Settings, tracker_db_url

MODEL_NAME = "advisor"


def model_path(settings: Settings) -> Path:
    return settings.model_dir / f"{MODEL_NAME}.tar.gz"


TRACKER_STORE = "storage.tracker_store.CachedSQLTrackerStore"   # Rasa's SQL store + an in-process cache


def tracker_store_config(db_url: str) -> dict:
    """Rasa's SQL tracker store (cached, storage/tracker_store.py) where storage.settings puts the
    trackers: beside the SQLite default, or in the production database."""
    url = make_url(tracker_db_url(db_url))
    if url.get_backend_name() == "sqlite":
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": url.database}
    config = {"type": TRACKER_STORE, "dialect": url.drivername, "url": url.host or "localhost",
              "db": url.database, "username": url.username, "password": url.password}
    if url.port:
        config["port"] = url.port
    return {k: v for k, v in config.items() if v is not None}


def lock_store_config(redis_url: str) -> dict:
    """Rasa's Redis lock store: one conversation's messages are handled one at a time across
    every instance and worker (a lock lives TICKET_LOCK_LIFETIME, 60 s by default)."""
    url = urlparse(redis_url)
    config = {"type": "redis", "url": url.hostname or "127.0.0.1", "port": url.port or 6379,
              "db": int((url.path or "/0").strip("/") or 0), "key_prefix": "eldercare",
              "password": url.password, "use_ssl": url.scheme == "rediss", "socket_timeout": 2}
    return {k: v for k, v in config.items() if v is not None}


def write_endpoints(settings: Settings, action_port: int, rasa_port: int | None = None) -> Path:
    """var/endpoints[-PORT].yml: the action server (or the load balancer in front of several),
    the tracker store, and in the production profile the Redis lock store."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path = settings.var_dir / (f"endpoints-{rasa_port}.yml" if rasa_port else "endpoints.yml")
    config = {"action_endpoint": {"url": settings.action_url or f"http://127.0.0.1:{action_port}/webhook"},
              "tracker_store": tracker_store_config(settings.db_url)}
    if settings.action_token:   # Rasa sends it as ?token= on every action call (app/action_server.py)
        config["action_endpoint"]["token"] = settings.action_token
    if settings.redis_url:
        config["lock_store"] = lock_store_config(settings.redis_url)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def rasa_env(settings: Settings) -> dict:
    """What Rasa reads from its environment: Sanic workers, the SQL tracker store's pool."""
    if settings.rasa_workers > 1 and not settings.redis_url:
        raise SystemExit("ELDERCARE_RASA_WORKERS > 1 需要 Redis 锁（ELDERCARE_REDIS_URL），否则 Rasa 只用一个进程")
    return {"SANIC_WORKERS": str(settings.rasa_workers), "SQL_POOL_SIZE": str(settings.db_pool),
            "SQL_MAX_OVERFLOW": str(settings.db_max_overflow)}


def free_port() -> int:
    """A TCP port nothing listens on now (for servers started on free ports)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable(host: str, port: int, timeout: float = 1) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    """Children get SIGTERM if `eldercare serve` itself is killed (even with SIGKILL), so no
    orphaned server keeps its port. Linux only; elsewhere a clean stop still ends them."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _wait_http(url: str, timeout: float, procs: list[subprocess.Popen], stop=lambda: False) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stop() or any(p.poll() is not None for p in procs):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def action_server_args(port: int) -> list[str]:
    """The action server on loopback (app/action_server.py): only the Rasa beside it can call it."""
    return [sys.executable, "-m", "app.action_server", "--port", str(port), "--host", "127.0.0.1"]


def rasa_args(model: Path, endpoints: Path, port: int, enable_api: bool = False) -> list[str]:
    args = [sys.executable, "-m", "app.rasa_server", "run",   # Rasa with app/rasa_patches.py
            "--model", str(model), "--endpoints", str(endpoints),
            "--credentials", str(PROJECT_ROOT / "credentials.yml"), "--port", str(port),
            "--interface", "127.0.0.1"]
    return args + (["--enable-api"] if enable_api else [])


class Processes:
    """Child processes in their own process groups, stopped together (SIGTERM, then SIGKILL)."""

    def __init__(self, settings: Settings, log_dir: Path | None = None):
        self.settings, self.log_dir = settings, log_dir
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, args: list[str], log_name: str, extra_env: dict | None = None) -> subprocess.Popen:
        out = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / log_name, "ab")
        # the children read their settings from the environment: hand over this one's own
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
               "ELDERCARE_VAR_DIR": str(self.settings.var_dir), "ELDERCARE_DB_URL": self.settings.db_url,
               "ELDERCARE_MODEL_DIR": str(self.settings.model_dir), **(extra_env or {})}
        proc = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT if out else None,
                                env=env, start_new_session=True, preexec_fn=_die_with_parent)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    stopping = False

    def handle_signals(self) -> None:
        """SIGTERM/Ctrl-C stop both servers cleanly, also while they are still starting."""
        def _stop(signum, frame):
            self.stopping = True
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    PURGE_EVERY = 3600.0   # seconds between two retention sweeps (storage/privacy.py)

    def purge_expired(self) -> None:
        """Conversations past ELDERCARE_RETENTION_DAYS go; a failing sweep is retried next time."""
        from storage.db import make_engine, migrated_engine
        from storage.privacy import purge
        try:
            trackers = make_engine(self.settings.tracker_db_url)
            removed = purge(self.settings.retention_days, migrated_engine(self.settings.db_url), trackers)
            trackers.dispose()
            if removed.conversations or removed.bookings or removed.calls:
                print(f"保存期限 {self.settings.retention_days:g} 天：删除了 {removed.conversations} 段对话、"
                      f"{removed.bookings} 个预约的个人信息", flush=True)
        except Exception as exc:   # the database may be down for a moment: never stop serving for this
            print(f"清理过期对话没有成功（{type(exc).__name__}），一小时后再试", file=sys.stderr, flush=True)

    def replace_exited(self) -> bool:
        """A process exited: True if it was replaced (the cluster restarts instances), else stop."""
        return False

    _notify_proc: subprocess.Popen | None = None
    _notify_log = None
    NOTIFY_START_DELAY = 60.0

    def notify_due(self, first: bool) -> bool:
        """政策找人 (notify/): once a day at ELDERCARE_NOTIFY_HOUR in Suzhou (9 by default;
        "off" leaves it to cron), and on start when today's run is due and it is not evening
        (the run itself catches up the days the server was down)."""
        from notify.schedule import next_run, run_on_start
        from notify.settings import NotifySettings
        if first:
            self._notify_settings = NotifySettings.from_env()
        settings = self._notify_settings
        if settings.hour is None:
            return False
        now = dt.datetime.now(dt.timezone.utc)
        if first:   # on start a minute later: the servers warm up first
            self._next_notify = now + dt.timedelta(seconds=self.NOTIFY_START_DELAY) \
                if run_on_start(now, settings.hour, settings.last_hour) else next_run(now, settings.hour)
            return False
        if now >= self._next_notify:
            self._next_notify = next_run(now, settings.hour)
            return True
        return False

    def start_notify(self) -> None:
        """`eldercare notify` as a one-off child: its sends and retries never hold up this loop,
        and it is not one of the servers (its exit stops nothing)."""
        if self._notify_proc is not None and self._notify_proc.poll() is None:
            return   # yesterday's is still retrying
        if self._notify_log:
            self._notify_log.close()
        out = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = self._notify_log = open(self.log_dir / "notify.log", "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "ELDERCARE_VAR_DIR": str(self.settings.var_dir),
               "ELDERCARE_DB_URL": self.settings.db_url, "ELDERCARE_MODEL_DIR": str(self.settings.model_dir)}
        self._notify_proc = subprocess.Popen([sys.executable, "-m", "app.cli", "notify"], cwd=PROJECT_ROOT, env=env,
                                             stdout=out, stderr=subprocess.STDOUT if out else None,
                                             start_new_session=True, preexec_fn=_die_with_parent)

    def stop_notify(self) -> None:
        if self._notify_proc is not None and self._notify_proc.poll() is None:
            os.killpg(self._notify_proc.pid, signal.SIGTERM)
            try:
                self._notify_proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._notify_proc.pid, signal.SIGKILL)
                self._notify_proc.wait()
        if self._notify_log:
            self._notify_log.close()
            self._notify_log = None

    def serve_forever(self) -> int:
        next_purge = time.monotonic()
        first_notify, notify_on = True, True
        try:
            while not self.stopping:
                if time.monotonic() >= next_purge:
                    self.purge_expired()
                    next_purge = time.monotonic() + self.PURGE_EVERY
                try:
                    if notify_on and self.notify_due(first_notify):
                        self.start_notify()
                except Exception as exc:   # never stop serving for the notifier; said once, not every loop
                    print(f"政策找人没能启动（{type(exc).__name__}: {exc}），今天先不运行，其他服务照常。",
                          file=sys.stderr, flush=True)
                    notify_on = False
                first_notify = False
                if any(p.poll() is not None for p in self.procs) and not self.replace_exited():
                    print("有一个服务意外退出，正在关闭。", file=sys.stderr)
                    return 1
                time.sleep(0.5)
        finally:
            self.stop_notify()
            self.stop()
        return 0


class Advisor(Processes):
    """Starts both servers; `stop()` ends them (also on SIGTERM/Ctrl-C via `serve_forever`)."""

    def __init__(self, settings: Settings, rasa_port: int, action_port: int,
                 log_dir: Path | None = None, enable_api: bool = False, console_port: int | None = None):
        super().__init__(settings, log_dir)
        self.rasa_port, self.action_port = rasa_port, action_port
        self.enable_api, self.console_port = enable_api, console_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def start(self, timeout: float = 180) -> None:
        model = model_path(self.settings)
        if not model.exists():
            raise SystemExit(f"没有找到模型 {model}：请先运行 `make train`（或 eldercare train）")
        endpoints = write_endpoints(self.settings, self.action_port)
        self._spawn(action_server_args(self.action_port), "actions.log")
        self._spawn(rasa_args(model, endpoints, self.rasa_port, self.enable_api), "rasa.log", rasa_env(self.settings))
        stop = lambda: self.stopping  # noqa: E731
        ok = _wait_http(f"http://127.0.0.1:{self.action_port}/health", timeout, self.procs, stop) and \
            _wait_http(f"{self.url}/webhooks/rest/", timeout, self.procs, stop)
        if self.stopping:
            self.stop()
            return
        if ok and os.environ.get("TELEGRAM_BOT_TOKEN"):
            # the Telegram bridge too, long polling against this advisor (app/cli_telegram.py)
            self._spawn([sys.executable, "-m", "app.cli", "telegram", "--url", self.url], "telegram.log")
        if ok and all(os.environ.get(n) for n in ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN")):
            # the WeChat endpoint too, at /wechat on WECHAT_PORT (app/cli_wechat.py)
            self._spawn([sys.executable, "-m", "app.cli", "wechat", "--url", self.url,
                         "--port", os.environ.get("WECHAT_PORT") or "5090"], "wechat.log")
        if ok and self.console_port:
            # the operator console (channels/console), a channel like the others
            self._spawn([sys.executable, "-m", "app.cli", "console", "--url", self.url,
                         "--port", str(self.console_port), "--quiet"], "console.log")
            ok = _wait_http(f"{self.console_url}/login", timeout, self.procs, stop)
        if not ok:
            self.stop()
            where = f"，日志在 {self.log_dir}" if self.log_dir else ""
            raise SystemExit(f"顾问没能启动{where}")

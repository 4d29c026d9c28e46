"""`eldercare cluster`: the production topology as processes, without Docker.

Several Rasa instances and several stateless action servers, nginx in front of each group
(round-robin), PostgreSQL for trackers, KB and bookings, Redis for the lock store: the same
topology as docker-compose.yml and the Helm values, on one machine's ports.

    client ─▶ nginx :PORT ─▶ Rasa :r1, :r2 …  ─▶ nginx :PORT+1 ─▶ action servers :a1, :a2 …
                               │                                   │
                               └── PostgreSQL (trackers) ──────────┴── PostgreSQL (KB, bookings)
                               └── Redis (one lock per conversation)
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.serve import (Processes, _wait_http, action_server_args, free_port, model_path, rasa_args, rasa_env,
                       write_endpoints)
from channels.outage import nginx_outage_body
from storage.settings import Settings

# A killed instance's lock on a conversation blocks that conversation elsewhere until it expires:
# 10 s instead of Rasa's 60 (a turn takes well under a second).
LOCK_LIFETIME = int(os.environ.get("TICKET_LOCK_LIFETIME") or 10)
# The longest a turn may take once it holds its lock (a turn under load takes a few seconds).
TURN_BUDGET = 20
# No reply is waited for longer than this: a turn queued behind a dead instance's lock is served
# once the lock expires, so anything slower is stuck (docs/fault-waits.md).
REPLY_TIMEOUT = LOCK_LIFETIME + TURN_BUDGET

_NGINX_TEMPLATE = """\
# written by `eldercare cluster`; one file, no system paths (runs as any user)
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # the action server receives the whole tracker: keep bodies in memory (no temp files, which
    # nginx's unprivileged workers might not be allowed to write), and allow long conversations
    client_max_body_size 16m;
    client_body_buffer_size 16m;
    proxy_buffering off;
    # nginx marks an instance down when a reply times out too, whatever proxy_next_upstream says:
    # each instance is listed again as a backup, never marked down, so with one instance dead and
    # the other marked down messages still reach the live one (not the apology to all for 5 s)
    upstream advisor {{
{advisor_servers}
        keepalive 32;
    }}
    upstream actions {{
{action_servers}
        keepalive 32;
        # an idle connection is closed here before the action server's Sanic closes it (5 s): a
        # call sent on one it has just closed fails (POST is not retried) and the turn with it
        keepalive_timeout 4s;
    }}
    # a dead instance is skipped after one refused connection and retried 5 s later; a message
    # already sent to an instance that then dies is not sent again (POST is not idempotent)
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://advisor;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout @REPLY_TIMEOUT@s;   # then the apology, and the instance cancels the turn
            error_page 502 504 = @outage;   # no instance answered: the apology, not nginx's HTML page
        }}
        location @outage {{
            default_type "application/json; charset=utf-8";
            return 503 '{outage}';
        }}
    }}
    server {{
        listen 127.0.0.1:{action_port};
        location / {{
            proxy_pass http://actions;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""
# substituted here, not by format(): callers (tests/test_nginx_outage.py) fill only the ports
NGINX_CONF = _NGINX_TEMPLATE.replace("@REPLY_TIMEOUT@", str(REPLY_TIMEOUT))


def find_nginx() -> str | None:
    """Debian's nginx (in /usr/sbin, which a user's PATH may lack), or None."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def nginx_binary() -> str:
    found = find_nginx()
    if not found:
        raise SystemExit("没有 nginx：make setup 会安装 Debian 的 nginx-light")
    return found


def connection_budget(settings: Settings, rasa: int, actions: int, others: int = 2) -> int:
    """The most connections the cluster can open: every process's pool plus its overflow."""
    return (rasa * settings.rasa_workers + actions + others) * settings.connections_per_process()


def check_budget(settings: Settings, rasa: int, actions: int) -> None:
    from storage.db import make_engine
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
    finally:
        engine.dispose()
    need = connection_budget(settings, rasa, actions)
    if need > limit - 10:   # PostgreSQL keeps a few for superusers and maintenance
        raise SystemExit(f"连接数超出：{rasa} 个 Rasa × {settings.rasa_workers} 个进程 + {actions} 个动作服务，每个最多 "
                         f"{settings.connections_per_process()} 个连接，共 {need} 个，数据库只允许 {limit} 个。"
                         "调小 ELDERCARE_DB_POOL / ELDERCARE_DB_MAX_OVERFLOW，或调大 max_connections。")


class Cluster(Processes):
    def __init__(self, settings: Settings, rasa: int = 2, actions: int = 2, port: int | None = None,
                 log_dir: Path | None = None):
        if not settings.redis_url:
            raise SystemExit("多实例需要 Redis 锁：请设置 ELDERCARE_REDIS_URL（例如 redis://127.0.0.1:6379/0）")
        if make_url(settings.db_url).get_backend_name() == "sqlite":
            raise SystemExit("多实例需要共享数据库：请把 ELDERCARE_DB_URL 设为 PostgreSQL")
        self.port = port or free_port()
        self.action_lb_port = free_port()
        settings = replace(settings, action_url=f"http://127.0.0.1:{self.action_lb_port}/webhook")
        super().__init__(settings, log_dir or settings.var_dir / "logs")
        self.rasa_ports = [free_port() for _ in range(rasa)]
        self.action_ports = [free_port() for _ in range(actions)]
        self.rasa_procs: dict[int, subprocess.Popen] = {}     # port -> process
        self.action_procs: dict[int, subprocess.Popen] = {}   # port -> process
        self.prefix = settings.var_dir / "nginx"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def instance_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    def write_nginx(self) -> Path:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        servers = lambda ports: "\n".join(  # noqa: E731
            [f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports]
            + [f"        server 127.0.0.1:{p} backup max_fails=0;" for p in ports])
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=self.prefix, port=self.port, action_port=self.action_lb_port,
                                          outage=nginx_outage_body(),
                                          advisor_servers=servers(self.rasa_ports),
                                          action_servers=servers(self.action_ports)), encoding="utf-8")
        return conf

    def start(self, timeout: float = 240) -> None:
        from storage.db import migrated_engine
        model = model_path(self.settings)
        if not model.exists():
            raise SystemExit(f"没有找到模型 {model}：请先运行 `make train`")
        check_budget(self.settings, len(self.rasa_ports), len(self.action_ports))
        migrated_engine(self.settings.db_url).dispose()   # migrate once, before any instance starts
        for port in self.action_ports:
            self.start_action_server(port)
        conf = self.write_nginx()
        self._spawn([nginx_binary(), "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "error.log"),
                     "-g", "daemon off;"], "nginx.log")
        for port in self.rasa_ports:
            self.start_instance(port)
        stop = lambda: self.stopping  # noqa: E731
        ok = all(_wait_http(f"http://127.0.0.1:{p}/health", timeout, self.procs, stop) for p in self.action_ports) \
            and all(_wait_http(f"http://127.0.0.1:{p}/webhooks/rest/", timeout, self.procs, stop)
                    for p in self.rasa_ports) \
            and _wait_http(f"{self.url}/webhooks/rest/", 30, self.procs, stop)
        if not ok and not self.stopping:
            self.stop()
            raise SystemExit(f"集群没能启动，日志在 {self.log_dir}")

    def start_instance(self, port: int) -> None:
        endpoints = write_endpoints(self.settings, 0, rasa_port=port)
        # Sanic cancels a turn after RESPONSE_TIMEOUT: 60 s, checked every 30 s, unless set here (Rasa
        # sets it only with --enable-api); just above nginx's, so that nginx's apology comes first
        self.rasa_procs[port] = self._spawn(
            rasa_args(model_path(self.settings), endpoints, port), f"rasa-{port}.log",
            {**rasa_env(self.settings), "TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME),
             "SANIC_RESPONSE_TIMEOUT": str(REPLY_TIMEOUT + 5)})

    def start_action_server(self, port: int) -> None:
        self.action_procs[port] = self._spawn(action_server_args(port), f"actions-{port}.log")

    def replace_exited(self) -> bool:
        """A Rasa instance or action server that died is started again; nginx skips it meanwhile."""
        for what, procs, start in (("Rasa 实例", self.rasa_procs, self.start_instance),
                                   ("动作服务", self.action_procs, self.start_action_server)):
            for port, proc in list(procs.items()):
                if proc.poll() is not None:
                    print(f"{what} :{port} 退出了（{proc.returncode}），正在重启", file=sys.stderr, flush=True)
                    self.procs.remove(proc)
                    start(port)
        return all(p.poll() is None for p in self.procs)   # nginx itself is not restarted

    def kill_instance(self, index: int) -> None:
        """kill -9 one Rasa instance (the fault test): no clean shutdown, its locks left behind."""
        proc = self.rasa_procs[self.rasa_ports[index]]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main(rasa: int, actions: int, port: int | None) -> int:
    cluster = Cluster(Settings.from_env(), rasa, actions, port)
    cluster.handle_signals()
    print(f"正在启动：{rasa} 个 Rasa 实例、{actions} 个动作服务、nginx……", flush=True)
    cluster.start()
    if cluster.stopping:
        cluster.stop()
        return 0
    print(f"集群已启动：{cluster.url}/webhooks/rest/webhook（Rasa {cluster.rasa_ports}，动作服务 "
          f"{cluster.action_ports}，日志在 {cluster.log_dir}；Ctrl-C 停止）", flush=True)
    return cluster.serve_forever()


if __name__ == "__main__":   # python -m app.cluster
    sys.exit(main(2, 2, None))

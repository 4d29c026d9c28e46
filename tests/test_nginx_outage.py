"""When no Rasa instance answers, nginx itself replies with the short Chinese apology in the REST
channel's JSON shape — never its HTML 502 page (issue 18). nginx is the project's own (make setup
installs Debian's nginx-light), run here with the cluster's generated configuration."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

from app.cluster import NGINX_CONF, nginx_binary
from app.serve import free_port
from channels.outage import INSTANCE_DOWN, nginx_outage_body
from storage.settings import PROJECT_ROOT


def test_a_dead_upstream_gets_the_json_apology(tmp_path):
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / sub).mkdir()
    port, dead = free_port(), free_port()   # nothing listens on `dead`: every Rasa instance is down
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=tmp_path, port=port, action_port=free_port(), outage=nginx_outage_body(),
                                      advisor_servers=f"        server 127.0.0.1:{dead} max_fails=1 fail_timeout=5s;",
                                      action_servers=f"        server 127.0.0.1:{dead};"), encoding="utf-8")
    proc = subprocess.Popen([nginx_binary(), "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log"),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = json.dumps({"sender": "u1", "message": "我妈八十五"}).encode()
        deadline = time.monotonic() + 20
        while True:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook", data=body,
                                             headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10)
                raise AssertionError("a dead upstream cannot answer 200")
            except urllib.error.HTTPError as exc:
                status, headers, reply = exc.code, exc.headers, exc.read()
                break
            except urllib.error.URLError:   # nginx not listening yet
                assert time.monotonic() < deadline and proc.poll() is None, "nginx did not start"
                time.sleep(0.2)
        assert status == 503 and headers.get_content_type() == "application/json"
        assert json.loads(reply.decode("utf-8")) == [{"recipient_id": "", "text": INSTANCE_DOWN}]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_production_nginx_says_the_same():
    assert nginx_outage_body() in (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")

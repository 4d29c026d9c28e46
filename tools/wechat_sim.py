"""Chat with the advisor as a WeChat user would, without a 公众号: the real endpoint
(`eldercare wechat`, 安全模式) against the tests' fake WeChat platform, in the terminal.

    .venv/bin/eldercare serve &                      # the advisor (or --url to another one)
    .venv/bin/python tools/wechat_sim.py [--url http://127.0.0.1:5005] [--user oAlice]

Each line you type is a WeChat message. `语音：…` sends a voice message with WeChat's own
recognition text (as if dictated); `图片：/path/to/photo.jpg` an image; `关注` / `取消关注` the
subscribe events. What comes back is printed as WeChat shows it: the direct reply, then any
客服消息 (a turn slower than 5 s). Empty line or Ctrl-D ends.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from channels.wechat.protocol import WeChatCrypto  # noqa: E402
from fake_wechat import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat, WeChatUser  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("ELDERCARE_URL", "http://127.0.0.1:5005"), help="the advisor")
    ap.add_argument("--user", default=f"oSim{int(time.time()) % 100000}", help="the WeChat openid to send as")
    ap.add_argument("--port", type=int, default=5099, help="where the endpoint listens")
    args = ap.parse_args()
    platform = FakeWeChat().start()
    env = {**os.environ, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_TOKEN": TOKEN,
           "WECHAT_AES_KEY": AES_KEY, "WECHAT_API_BASE": platform.base_url}
    log = open(ROOT / "var" / "wechat_sim.log", "ab") if (ROOT / "var").is_dir() else subprocess.DEVNULL
    endpoint = subprocess.Popen([sys.executable, "-m", "app.cli", "wechat", "--url", args.url, "--port", str(args.port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=2)
                break
            except OSError:
                if endpoint.poll() is not None:
                    print("eldercare wechat did not start (var/wechat_sim.log)", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        user = WeChatUser(url, platform, WeChatCrypto(TOKEN, AES_KEY, APP_ID), args.user)
        print(f"微信模拟（用户 {args.user}）：输入消息；「语音：…」「图片：路径」「关注」「取消关注」；空行结束。")
        for line in sys.stdin:
            line = line.rstrip("\n")
            if not line.strip():
                break
            if line.startswith(("语音：", "语音:")):
                passive, later = user.send("voice", recognition=line[3:])
            elif line.startswith(("图片：", "图片:")):
                media = f"m{time.time_ns()}"
                platform.add_media(media, Path(line[3:].strip()).read_bytes(), "image/jpeg")
                passive, later = user.send("image", media_id=media)
            elif line.strip() in ("关注", "取消关注"):
                passive, later = user.send("event", event="subscribe" if line.strip() == "关注" else "unsubscribe")
            else:
                passive, later = user.send("text", content=line)
            if passive:
                print(f"【回复】\n{passive}")
            for text in later:
                print(f"【客服消息】\n{text}")
            if not passive and not later:
                print("（没有回复）")
            print(flush=True)
    finally:
        endpoint.terminate()
        endpoint.wait(timeout=30)
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

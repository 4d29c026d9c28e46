"""`eldercare train | serve | run | chat`: the conversational advisor."""
from __future__ import annotations

import argparse
import subprocess
import time

from app.serve import MODEL_NAME, Advisor, _bin, model_path
from storage.settings import PROJECT_ROOT, Settings

TRAIN_DATA = ["data/nlu", "data/rules.yml"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    tr = sub.add_parser("train", help="训练 Rasa 模型（数据没变就跳过）")
    tr.set_defaults(func=cmd_train)

    se = sub.add_parser("serve", help="启动 Rasa 服务（REST :5005）和动作服务（:5055）")
    se.add_argument("--port", type=int, help="Rasa 端口（默认 5005）")
    se.add_argument("--action-port", type=int, help="动作服务端口（默认 5055）")
    se.add_argument("--enable-api", action="store_true", help="同时开放 Rasa HTTP API（/model/parse 等）")
    se.add_argument("--console-port", type=int, help="接线员控制台端口（默认 5080）")
    se.add_argument("--no-console", action="store_true", help="不启动接线员控制台")
    se.set_defaults(func=cmd_serve)

    ru = sub.add_parser("run", help="启动顾问并在终端里聊天")
    ru.set_defaults(func=cmd_run)

    ev = sub.add_parser("eval", help="评估理解能力，写 docs/evaluation.md")
    ev.add_argument("--folds", type=int, default=3, help="交叉验证折数")
    ev.add_argument("--skip-cv", action="store_true", help="跳过交叉验证（只跑开发集）")
    ev.add_argument("--skip-conversations", action="store_true", help="跳过整段对话评估（模拟用户）")
    ev.set_defaults(func=cmd_eval)

    ch = sub.add_parser("chat", help="连接已启动的顾问，在终端里聊天")
    ch.add_argument("--url", default=None)
    ch.set_defaults(func=cmd_chat)


def train(settings: Settings) -> int:
    from policy_kb.kb import KnowledgeBase

    from understanding import jieba_dict
    jieba_dict.write(PROJECT_ROOT / "build" / "jieba", KnowledgeBase.from_directory())
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    args = [_bin("rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
            "--out", str(settings.model_dir), "--fixed-model-name", MODEL_NAME]
    args += ["--data", *TRAIN_DATA]  # one --data with several paths: a second --data would replace the first
    code = subprocess.call(args, cwd=PROJECT_ROOT)
    if code == 0:
        model_path(settings).touch()  # make's timestamp: trained (or unchanged) now
        print(f"训练完成，用时 {time.monotonic() - started:.0f} 秒：{model_path(settings)}")
    return code


def cmd_train(args) -> int:
    return train(Settings.from_env())


def cmd_serve(args) -> int:
    settings = Settings.from_env()
    advisor = Advisor(settings, args.port or settings.rasa_port, args.action_port or settings.action_port,
                      enable_api=args.enable_api,
                      console_port=None if args.no_console else args.console_port or settings.console_port)
    advisor.handle_signals()
    advisor.start()
    if advisor.stopping:
        return 0
    print(f"顾问已启动：{advisor.url}/webhooks/rest/webhook（Ctrl-C 停止）", flush=True)
    if advisor.console_port:
        print(f"接线员控制台：{advisor.console_url}/（账号：eldercare operators add）", flush=True)
    return advisor.serve_forever()


def cmd_run(args) -> int:
    from channels.terminal import chat
    settings = Settings.from_env()
    advisor = Advisor(settings, settings.rasa_port, settings.action_port,
                      log_dir=settings.var_dir / "logs")
    print("正在启动顾问（大约需要半分钟）……", flush=True)
    advisor.start()
    try:
        return chat(advisor.url)
    except KeyboardInterrupt:
        return 0
    finally:
        advisor.stop()


def cmd_chat(args) -> int:
    from channels.terminal import chat
    settings = Settings.from_env()
    return chat(args.url or f"http://127.0.0.1:{settings.rasa_port}")


def cmd_eval(args) -> int:
    from app.evaluation import report
    return report.main(folds=args.folds, skip_cv=args.skip_cv, skip_conversations=args.skip_conversations)

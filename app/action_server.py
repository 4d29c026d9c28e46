"""The action server, reachable only by whom it must be.

rasa_sdk's own app (the same actions, the same /webhook and /health), with two differences from
`python -m rasa_sdk`: it listens on loopback unless told otherwise (`--host`, or
ELDERCARE_ACTION_HOST), and when ELDERCARE_ACTION_TOKEN is set every call to /webhook and
/actions must carry it — Rasa sends it as `?token=` (the `token` of the action endpoint in
endpoints.yml), so anyone else who reaches the port cannot act as a user or file a booking.

    python -m app.action_server --port 5055 [--host 0.0.0.0]
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk.endpoint import create_app
from sanic import response

from storage.masking import install as install_log_masking

logger = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)   # the supervisor's health check: it says nothing about anyone


def build(token: str | None):
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def need_token(request):
        if not token or request.path in OPEN_PATHS:
            return None
        given = request.args.get("token") or request.headers.get("X-Action-Token") or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            logger.warning("action call refused: no valid token")   # never the body: it holds a conversation
            return response.json({"error": "forbidden"}, status=403)
        return None

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.action_server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ELDERCARE_ACTION_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("ELDERCARE_ACTION_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    install_log_masking()
    token = os.environ.get("ELDERCARE_ACTION_TOKEN") or None
    if args.host not in ("127.0.0.1", "localhost", "::1") and not token:
        logger.warning("the action server listens on %s without ELDERCARE_ACTION_TOKEN: anyone who reaches "
                       "the port can call the actions", args.host)
    build(token).run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

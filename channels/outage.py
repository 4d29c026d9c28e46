"""What a user is told when a shared service is down, instead of a stack trace.

Redis (the lock store) down: no message is processed at all — two instances could otherwise
handle one conversation's messages at once. The database down: the turn is not saved (Rasa
saves a tracker only after the whole turn), so the user is asked to say it again later.
"""
from __future__ import annotations

LOCKS_DOWN = "不好意思，系统正在维护，暂时不能处理消息。请过几分钟再发一次，您之前说的都还在。"
DATABASE_DOWN = "不好意思，系统暂时连不上，刚才这句没有记下。请过一会儿再说一次。"
# A Rasa instance died mid-turn and no other could take the message: said by nginx itself.
INSTANCE_DOWN = "不好意思，系统刚才出了点问题，这句没有处理。请过一会儿再说一次，您之前说的都还在。"
APOLOGIES = (LOCKS_DOWN, DATABASE_DOWN, INSTANCE_DOWN)


def nginx_outage_body() -> str:
    """The REST channel's reply shape, for nginx to return when no Rasa instance answers
    (app/cluster.py, deploy/nginx.conf): the client gets the short Chinese apology, never HTML."""
    import json
    return json.dumps([{"recipient_id": "", "text": INSTANCE_DOWN}], ensure_ascii=False)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def outage_message(exc: BaseException) -> str | None:
    """The apology for an exception caused by a shared service being unreachable, else None."""
    for link in _chain(exc):
        module = type(link).__module__ or ""
        if module.startswith("redis"):
            return LOCKS_DOWN
        if module.startswith(("sqlalchemy", "psycopg2", "sqlite3")) and \
                type(link).__name__ in ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"):
            return DATABASE_DOWN
    return None

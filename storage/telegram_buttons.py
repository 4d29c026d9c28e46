"""Telegram buttons by short id (storage/tables.py telegram_buttons)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from .masking import mask_text
from .tables import telegram_buttons as table

KEEP_PER_CHAT = 200   # older buttons of a chat are forgotten (a tap on them is answered politely)


@dataclass(frozen=True)
class Button:
    id: int
    position: int
    title: str
    payload: str
    local: bool
    message_id: int | None


class ButtonStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, chat_key: str, buttons: list[tuple[str, str]], local: bool = False) -> list[Button]:
        """Store one keyboard; returns its buttons with their ids (the callback data)."""
        now = dt.datetime.now(dt.timezone.utc)
        out = []
        with self.engine.begin() as conn:
            for position, (title, payload) in enumerate(buttons, 1):
                new_id = conn.execute(insert(table).values(
                    # no button carries a phone or 身份证 number today; if one ever did, it is
                    # stored masked like every other copy outside the booking (README, personal data)
                    chat_key=chat_key, position=position, title=mask_text(title)[:200], payload=mask_text(payload),
                    local=local, created_at=now)).inserted_primary_key[0]
                out.append(Button(new_id, position, title, payload, local, None))
            oldest_kept = conn.execute(select(table.c.id).where(table.c.chat_key == chat_key)
                                       .order_by(table.c.id.desc()).offset(KEEP_PER_CHAT).limit(1)).scalar()
            if oldest_kept is not None:
                conn.execute(delete(table).where(table.c.chat_key == chat_key, table.c.id <= oldest_kept))
        return out

    def attach(self, buttons: list[Button], message_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id.in_([b.id for b in buttons])).values(message_id=message_id))

    def get(self, chat_key: str, button_id: int) -> Button | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == button_id, table.c.chat_key == chat_key)).mappings().first()
        return _button(row) if row else None

    def keyboard(self, chat_key: str, message_id: int) -> list[Button]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.chat_key == chat_key, table.c.message_id == message_id)
                                .order_by(table.c.position)).mappings().all()
        return [_button(r) for r in rows]

    def latest(self, chat_key: str) -> list[Button]:
        """The last keyboard sent in this chat (typed numbers refer to it)."""
        with self.engine.connect() as conn:
            last = conn.execute(select(table.c.message_id).where(table.c.chat_key == chat_key,
                                                                 table.c.message_id.isnot(None))
                                .order_by(table.c.id.desc()).limit(1)).scalar()
        return self.keyboard(chat_key, last) if last is not None else []


def _button(row) -> Button:
    return Button(row["id"], row["position"], row["title"], row["payload"], bool(row["local"]), row["message_id"])

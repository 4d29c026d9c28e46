"""The advisor's REST replies as a channel's messages, for elders: short, readable, choices with
numbers. Telegram sends each bubble with its buttons; WeChat, which has no buttons and few
messages a day, sends a turn as one text with the choices as numbered lines."""
from __future__ import annotations

import re

LIMIT = 4000          # Telegram allows 4096 characters a message; keep a margin
MERGE_UP_TO = 1200    # consecutive plain messages (result cards) are joined up to this length
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n；])")


def split_long(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces under the limit, cut after a sentence end where possible."""
    if len(text) <= limit:
        return [text]
    pieces, current = [], ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:           # one sentence longer than the limit: cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]


Bubble = tuple[str, list[tuple[str, str]]]   # (text, [(choice title, payload)])


def bubbles(messages: list[dict], limit: int = LIMIT) -> list[Bubble]:
    """(text, [(button title, payload)]) per message to send. The recommendations payload
    (`custom`) is for programs: its content is already in the texts, so it is not shown."""
    out: list[tuple[str, list]] = []
    pending = ""
    for message in messages:
        text = (message.get("text") or "").strip()
        buttons = [(b.get("title", ""), b.get("payload", "")) for b in message.get("buttons") or []]
        if not text and not buttons:
            continue
        if not buttons and len(pending) + len(text) + 2 <= MERGE_UP_TO:
            pending = f"{pending}\n\n{text}" if pending else text
            continue
        if pending and not buttons:
            out.append((pending, []))
            pending = text
            continue
        if pending and len(pending) + len(text) + 2 <= MERGE_UP_TO:
            text, pending = f"{pending}\n\n{text}", ""
        elif pending:
            out.append((pending, []))
            pending = ""
        out.append((text or "请选择：", buttons))
    if pending:
        out.append((pending, []))
    final = []
    for text, buttons in out:
        pieces = split_long(text, limit)
        final += [(p, []) for p in pieces[:-1]] + [(pieces[-1], buttons)]
    return final


def one_text(parts: list[Bubble], footer: str = "", limit: int = LIMIT) -> list[str]:
    """A whole turn as one message for a screen without buttons: each bubble's text, its choices
    as lines under it (their titles carry their numbers, "1. 有苏州户口"), the footer ("回复数字即可。")
    once after the last choices, and result cards one under the other without blank lines. Past
    the length limit, more messages: the last question with its choices and the footer always
    stay together, in the last one."""
    blocks, last_choices = [], None
    for text, choices in parts:
        lines = [_compact(text)] if text and text != "请选择：" else []
        lines += [title for title, _payload in choices]
        if lines:
            if choices:
                last_choices = len(blocks)
            blocks.append("\n".join(lines))
    if not blocks:
        return []
    if last_choices is None:
        return split_long("\n\n".join(blocks), limit)
    head = "\n\n".join(blocks[:last_choices])
    tail = "\n\n".join(blocks[last_choices:] + ([footer] if footer else []))
    if head and len(head) + 2 + len(tail) <= limit:
        return [f"{head}\n\n{tail}"]
    pieces = split_long(head, limit) if head else []
    if pieces and len(pieces[-1]) + 2 + len(tail) <= limit:
        pieces[-1] = f"{pieces[-1]}\n\n{tail}"
        return pieces
    return pieces + split_long(tail, limit)


_CARD_GAP = re.compile(r"\n\s*\n(?=[·•])")


def _compact(text: str) -> str:
    """Result cards ("· 高龄津贴…") one under the other: a phone screen holds twice as many."""
    return _CARD_GAP.sub("\n", text.strip())

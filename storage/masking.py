"""Masking of phone and 身份证 numbers: in what we show (138****5678) and in every log line.

Phones and ID numbers are personal data (policy brief, "Bookings"): output shows them masked
and logs never contain them. Digits may be full-width (１３８…) when typed on a phone keyboard,
so patterns use Unicode ``\\d`` and each candidate is checked after NFKC normalisation.
"""
from __future__ import annotations

import logging
import re
import unicodedata

# 身份证: 18 characters (17 digits and a digit or X; typed with spaces at times), or the old 15 digits
_ID = r"(?<!\d)(?P<id>\d{6} ?\d{8} ?\d{3}[\dXxＸｘ]|\d{15})(?![\dXxＸｘ])"
# At the same position the alternatives are tried in this order: an 18-digit ID is never
# taken for a phone, and a mobile never for a landline.
_NUMBER = re.compile(
    _ID
    + r"|(?<![\d+])(?P<mobile>(?:(?:\+|００|00)?(?:86|８６)[- ]?)?[1１]\d{2}(?:[- ]?\d{4}){2})(?!\d)"
    r"|(?<!\d)(?P<landline>[(（]?[0０]\d{2,3}[)）]?[- ]?\d{3,4}[- ]?\d{4})(?!\d)"
    # a bare local number (65231234) only counts after a word saying it is a phone: an 8-digit
    # run alone is more often a date (20261129, as in booking references)
    r"|(?P<word>电话|座机|手机|号码|联系方式|tel|phone)(?P<gap>\D{0,8}?)(?P<local>\d{7,8})(?!\d)"
    # a mobile with a digit missing or one too many, an ID number short of a digit or two: mistyped,
    # and personal all the same — only the last four digits stay
    r"|(?<![\d\-])(?P<long>[1１][3-9３-９]\d{8}(?:\d{2})?|\d{16,17})(?![\d\-])",
    re.IGNORECASE,
)
_ID_ONLY = re.compile(_ID)
# 010 and 02x are the only three-digit area codes; all others have four digits
_SHORT_AREA = re.compile(r"0(10|2\d)")


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def _is_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"


def normalize_phone(phone: str) -> str | None:
    """13812345678 for a mobile, 0512-65231234 for a landline, None for anything else.

    A bare 8-digit number is a Suzhou landline (area code 0512); +86 / 0086 are dropped.
    """
    digits = _digits(phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and _is_mobile(digits[len(prefix):]):
            return digits[len(prefix):]
    if _is_mobile(digits):
        return digits
    if len(digits) == 8 and digits[0] not in "01":
        return f"0512-{digits}"
    if digits.startswith("0"):
        area = 3 if _SHORT_AREA.match(digits) else 4
        local = digits[area:]
        if 7 <= len(local) <= 8 and local[0] not in "01":
            return f"{digits[:area]}-{local}"
    return None


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile, 0512****1234 for a landline; only the last 4 digits otherwise."""
    canonical = normalize_phone(phone)
    if canonical is None:
        digits = _digits(phone)
        return "*" * len(digits) if len(digits) < 7 else f"****{digits[-4:]}"
    if "-" in canonical:
        area, local = canonical.split("-")
        return f"{area}****{local[-4:]}"
    return f"{canonical[:3]}****{canonical[-4:]}"


def mask_name(name: str) -> str:
    """王*英 / 欧阳**: keeps the family name and, for three characters or more, the last one."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(id_number: str) -> str:
    """3205**********1234: keeps the first four (the city) and the last four characters."""
    chars = unicodedata.normalize("NFKC", id_number).replace(" ", "").upper()
    if len(chars) < 9:
        return "*" * len(chars)
    return f"{chars[:4]}{'*' * (len(chars) - 8)}{chars[-4:]}"


def _replace(match: re.Match) -> str:
    if match.group("id"):
        return mask_id(match.group("id"))
    if match.group("mobile"):
        # 11 digits that are no mobile (an order number, say) stay as they are
        canonical = normalize_phone(match.group("mobile"))
        return mask_phone(canonical) if canonical and "-" not in canonical else match.group(0)
    if match.group("landline"):
        return mask_phone(match.group("landline"))
    if match.group("long"):
        return "****" + match.group("long")[-4:]
    return f"{match.group('word')}{match.group('gap')}{mask_phone(match.group('local'))}"


# A Telegram bot token (123456789:AAH…): a secret, never in a log line (httpx logs URLs with it).
_TOKEN = re.compile(r"(?<![\w])\d{6,12}:[A-Za-z0-9_-]{30,}")


def mask_text(text: str) -> str:
    """Mask every phone and ID number, and any bot token, inside free text (log lines, notes)."""
    return _NUMBER.sub(_replace, _TOKEN.sub("<token>", text))


# Rasa logs a failed action-server call with its request body: the whole conversation (health
# facts, addresses). A log line keeps what happened, not the conversation.
_CONVERSATION_DUMP = re.compile(r'\{\\?"(?:error|next_action|sender_id|tracker)\\?":.*', re.S)


def without_conversations(text: str) -> str:
    return _CONVERSATION_DUMP.sub("{…对话内容不写入日志…}", text)


def mask_ids(text: str) -> str:
    """Mask only ID numbers: free text that is stored (a note) may keep a second contact phone."""
    return _ID_ONLY.sub(lambda m: mask_id(m.group("id")), text)


class MaskingFilter(logging.Filter):
    """Masks phone and ID numbers in a record's message, arguments and traceback text.

    Attach it to handlers (``handler.addFilter``), not loggers: a logger's filters do not see
    records that propagate from child loggers. :func:`install` does that for the root handlers.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        record.msg, record.args = mask_text(without_conversations(message)), None
        if record.exc_info and not record.exc_text:
            # e.g. an IntegrityError quotes the inserted parameters, phone included
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(without_conversations(record.exc_text))
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> MaskingFilter:
    """Add one MaskingFilter to every handler of ``logger`` (default: the root logger)."""
    logger = logger or logging.getLogger()
    existing = next((f for h in logger.handlers for f in h.filters if isinstance(f, MaskingFilter)), None)
    masking = existing or MaskingFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(masking)
    return masking

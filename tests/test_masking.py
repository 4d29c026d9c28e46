"""Phone and 身份证 masking: shown values, free text, and the logging filter."""
from __future__ import annotations

import io
import logging

import pytest

from storage.masking import MaskingFilter, install, mask_id, mask_ids, mask_phone, mask_text, normalize_phone


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("+86 138-1234-5678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("0512-65231234", "0512****1234"),
    ("(0512) 6523 1234", "0512****1234"),
    ("051265231234", "0512****1234"),
    ("65231234", "0512****1234"),  # a bare local number is a Suzhou landline
    ("021-62345678", "021****5678"),
    ("12345", "*****"),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone, canonical", [
    ("+86 138-1234-5678", "13812345678"), ("0086 13812345678", "13812345678"),
    ("（0512）65231234", "0512-65231234"), ("65231234", "0512-65231234"), ("010 8765 4321", "010-87654321"),
    ("12812345678", None), ("1381234567", None), ("0512-0123", None), ("", None), ("电话", None),
])
def test_normalize_phone(phone, canonical):
    assert normalize_phone(phone) == canonical


def test_mask_id():
    assert mask_id("320502194103051234") == "3205**********1234"
    assert mask_id("32050219410305123x") == "3205**********123X"
    assert mask_id("320502410305123") == "3205*******5123"
    assert mask_id("１２３") == "***"


def test_mask_text_masks_every_number():
    text = ("王阿姨身份证 320502194103051234，手机 13812345678，女儿 +86 139-8765-4321，"
            "座机 0512-65231234，家里电话是 66881234，老证件 320502410305123，外地 021-62345678，"
            "老伴 32050219421105432X")
    masked = mask_text(text)
    for secret in ("320502194103051234", "13812345678", "139-8765-4321", "65231234", "66881234",
                   "320502410305123", "62345678", "32050219421105432X"):
        assert secret not in masked, secret
    for shown in ("3205**********1234", "138****5678", "139****4321", "0512****1234", "电话是 0512****1234",
                  "3205*******5123", "021****5678", "3205**********432X"):
        assert shown in masked, shown
    assert masked.startswith("王阿姨身份证 ") and "，手机 " in masked  # the words around stay


@pytest.mark.parametrize("text", [
    "预约编号 JY-20261129-0042，日期 2026-12-01，20261201 上午",
    "老人 81 岁，补贴 800元/月，订单号 12345678901，卡号 6222021234567890123",
    "住在姑苏区十全街 88 号 2 幢 301 室",
])
def test_mask_text_leaves_other_numbers(text):
    assert mask_text(text) == text


def test_mask_ids_keeps_phones():
    assert mask_ids("证件 320502194103051234，电话 13812345678") == "证件 3205**********1234，电话 13812345678"


def _logger(name):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger(name)
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_logging_filter_masks_message_args_and_traceback():
    logger, stream = _logger("test_masking.filter")
    logger.info("user said 我的电话13812345678")
    logger.info("booking %s phone %s id %s", "JY-20261129-0042", "0512-65231234", "320502194103051234")
    logger.info("slots %(phone)s", {"phone": "13987654321"})
    try:
        raise ValueError("duplicate row (phone=13812345678)")
    except ValueError:
        logger.exception("insert failed for %s", "13812345678")
    child = logging.getLogger("test_masking.filter.child")
    child.warning("child logger: %s", "13812345678")  # propagates to the filtered handler
    out = stream.getvalue()
    for secret in ("13812345678", "65231234", "320502194103051234", "13987654321"):
        assert secret not in out, out
    for shown in ("我的电话138****5678", "booking JY-20261129-0042 phone 0512****1234 id 3205**********1234",
                  "slots 139****4321", "ValueError: duplicate row (phone=138****5678)", "Traceback",
                  "child logger: 138****5678"):
        assert shown in out, shown


def test_install_adds_one_filter_per_handler():
    logger = logging.getLogger("test_masking.install")
    stream = io.StringIO()
    handlers = [logging.StreamHandler(stream), logging.StreamHandler(io.StringIO())]
    logger.handlers, logger.propagate = handlers, False
    first = install(logger)
    assert install(logger) is first
    assert all(h.filters == [first] for h in handlers)
    logger.warning("电话 13812345678")
    assert stream.getvalue() == "电话 138****5678\n"


def test_a_failed_action_call_logs_no_conversation():
    import logging
    from storage.masking import MaskingFilter
    body = ('500, Internal Server Error, body=\'b\'{"error":"\\\'yes\\\'","request_body":{"next_action":"action_x",'
            '"sender_id":"p1","tracker":{"slots":{"address":"姑苏区十全街88号","care_level":"中度失能"}}}}\'\'')
    record = logging.LogRecord("rasa.core.processor", logging.ERROR, __file__, 1, "action failed: %s", (body,), None)
    MaskingFilter().filter(record)
    assert record.getMessage().startswith("action failed: 500, Internal Server Error")
    assert "十全街" not in record.getMessage() and "中度失能" not in record.getMessage()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "plain {dict} and 138", (), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "plain {dict} and 138"


def test_names_are_masked_to_the_family_name_and_last_character():
    from storage.masking import mask_name
    assert (mask_name("王秀英"), mask_name("李强"), mask_name("欧阳春花")) == ("王*英", "李*", "欧**花")


@pytest.mark.parametrize("typed, kept", [("电话1391234567", "4567"), ("139123456789", "6789"),
                                         ("32050219410512301", "2301")])
def test_a_mistyped_phone_or_id_number_is_masked_all_the_same(typed, kept):
    masked = mask_text(typed)
    assert masked.endswith(kept) and not any(run in masked for run in ("1391234", "3205021941"))

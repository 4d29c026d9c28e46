"""The WeChat channel's pieces on their own: the message protocol (signatures, 安全模式 crypto
against published vectors, the XML), the API client against the fake platform, the shared stores."""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import threading
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from channels.wechat.api import MemoryTokens, WeChatApi, WeChatError
from channels.wechat.protocol import (InvalidAppId, InvalidSignature, ProtocolError, WeChatCrypto, check_signature,
                                      dedup_key, open_post, parse_message, parse_xml, sign, text_reply,
                                      url_check_reply)
from fake_wechat import fake_platform as fake  # noqa: F401 — the fixture
from fake_wechat import (AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat, message_xml, open_reply, signed_post,
                         url_check)
from storage.db import alembic_config, make_engine, upgrade
from storage.tables import metadata
from storage.wechat_state import RedisSeenMessages, RedisTokenStore, SeenMessages, TokenStore

# Tencent's own sample for message encryption (WXBizMsgCrypt "消息加解密示例代码", Sample.cs/Sample.py:
# "公众平台上开发者设置的token, appID, EncodingAESKey"), linked from
# https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
# The same vectors are printed in 企业微信's 加解密方案说明:
# https://developer.work.weixin.qq.com/document/path/90968
# (its plaintext carries an <AgentID>: the sample is shared by both platforms).
SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APP_ID = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
SAMPLE_POST = dict(
    msg_signature="477715d11cdb4164915debcba66cb864d751f3e6", timestamp="1409659813", nonce="1372623149",
    body="<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58ti"
         "Pdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt"
         "66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7P"
         "F5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rU"
         "PA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs"
         "2pDBS8R07+qN+E7Q==]]></Encrypt></xml>")
# the URL check of the same sample (VerifyURL, 企业微信 form: the echostr is encrypted)
SAMPLE_ECHO = dict(msg_signature="5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", timestamp="1409659589", nonce="263014780",
                   echostr="P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==")

# wechatpy's tests (github.com/wechatpy/wechatpy, tests/test_crypto.py, the same algorithm): a
# reply encrypted with the random prefix fixed to "1234567890123456", and a message to decrypt
WP_TOKEN, WP_KEY, WP_ID = "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
WP_REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
WP_ENCRYPTED = ("9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8"
                "GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1"
                "qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0R"
                "QyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3")
WP_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"
WP_POST = dict(
    msg_signature="74d92dfeb87ba7c714f89d98870ae5eb62dff26d", timestamp="1411525903", nonce="461056294",
    body="<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZf"
         "aex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50q"
         "GPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiM"
         "Z5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQi"
         "pvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>\n"
         "<AgentID><![CDATA[1]]></AgentID>\n</xml>")


def sample_crypto() -> WeChatCrypto:
    return WeChatCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_APP_ID)


def ours() -> WeChatCrypto:
    return WeChatCrypto(TOKEN, AES_KEY, APP_ID)


# ---- signatures and crypto ----------------------------------------------------------------------
def test_plain_signature_is_sha1_of_the_sorted_parts():
    expected = hashlib.sha1("".join(sorted(["tok", "1409659813", "1372623149"])).encode()).hexdigest()
    assert check_signature("tok", expected, "1409659813", "1372623149")
    assert not check_signature("tok", expected, "1409659813", "1372623150")
    assert not check_signature("other", expected, "1409659813", "1372623149")
    assert not check_signature("tok", None, "1409659813", "1372623149")
    assert not check_signature("tok", "签名", "1409659813", "1372623149")   # not ASCII: no crash, just False


def test_official_sample_decrypts():
    plain = sample_crypto().decrypt(SAMPLE_POST["msg_signature"], SAMPLE_POST["timestamp"], SAMPLE_POST["nonce"],
                                    SAMPLE_POST["body"])
    message = parse_message(plain)
    assert (message.from_user, message.to_user, message.msg_type) == ("mycreate", "wx5823bf96d3bd56c7", "text")
    assert (message.content, message.msg_id, message.create_time) == ("hello", "4561255354251345929", 1409659813)


def test_official_sample_url_check():
    crypto = sample_crypto()
    assert crypto.decrypt_echostr(**SAMPLE_ECHO) == "1616140317555161061"
    assert url_check_reply(SAMPLE_TOKEN, SAMPLE_ECHO, crypto) == "1616140317555161061"
    assert url_check_reply(SAMPLE_TOKEN, {**SAMPLE_ECHO, "nonce": "263014781"}, crypto) is None


def test_encrypt_matches_the_published_vector():
    crypto = WeChatCrypto(WP_TOKEN, WP_KEY, WP_ID)
    sealed = parse_xml(crypto.encrypt(WP_REPLY, "461056294", "1411525903", random_prefix=b"1234567890123456"))
    assert sealed.findtext("Encrypt") == WP_ENCRYPTED
    assert sealed.findtext("MsgSignature") == WP_SIGNATURE
    assert (sealed.findtext("TimeStamp"), sealed.findtext("Nonce")) == ("1411525903", "461056294")
    message = parse_message(crypto.decrypt(WP_POST["msg_signature"], WP_POST["timestamp"], WP_POST["nonce"],
                                           WP_POST["body"]))
    assert (message.content, message.from_user) == ("test", "messense")


# Checked once against wechatpy 1.8.18 (not a dependency): byte-identical sealing, each side opens
# the other's. The published vectors above pin the same behaviour without it.


def test_round_trip_through_a_safe_mode_post_and_reply():
    crypto = ours()
    query, body = signed_post("text", "oUser1", crypto=crypto, content="我妈妈 80 岁了 ]]> 能领补贴吗？")
    assert "我妈妈" not in body and query["encrypt_type"] == "aes"
    plain, encrypted = open_post(TOKEN, query, body, crypto)
    message = parse_message(plain)
    assert encrypted and message.content == "我妈妈 80 岁了 ]]> 能领补贴吗？" and message.from_user == "oUser1"
    reply = text_reply(message.from_user, message.to_user, "可以，请看：]]>第一条", 1700000000)
    back = parse_message(open_reply(crypto, crypto.encrypt(reply, query["nonce"], query["timestamp"])))
    assert back.content == "可以，请看：]]>第一条" and back.to_user == "oUser1"


def test_wrong_signatures_are_rejected():
    crypto = ours()
    query, body = signed_post("text", "oUser1", crypto=crypto, content="你好")
    with pytest.raises(InvalidSignature):
        open_post(TOKEN, {**query, "msg_signature": "0" * 40}, body, crypto)
    with pytest.raises(InvalidSignature):
        open_post(TOKEN, {**query, "timestamp": str(int(query["timestamp"]) + 1)}, body, crypto)
    with pytest.raises(InvalidSignature):   # a body swapped under a valid signature
        other_query, other_body = signed_post("text", "oUser1", crypto=crypto, content="别的")
        open_post(TOKEN, query, other_body, crypto)
    with pytest.raises(InvalidSignature):
        WeChatCrypto("another-token", AES_KEY, APP_ID).decrypt(query["msg_signature"], query["timestamp"],
                                                               query["nonce"], body)
    with pytest.raises(ProtocolError):      # safe mode needs the key
        open_post(TOKEN, query, body, None)
    plain_query, plain_body = signed_post("text", "oUser1", content="你好")
    assert open_post(TOKEN, plain_query, plain_body) == (plain_body, False)
    with pytest.raises(InvalidSignature):
        open_post(TOKEN, {**plain_query, "signature": "0" * 40}, plain_body)
    with pytest.raises(InvalidSignature):
        open_post("another-token", plain_query, plain_body)


def test_wrong_app_id_is_rejected():
    query, body = signed_post("text", "oUser1", crypto=WeChatCrypto(TOKEN, AES_KEY, "wx-somebody-else"))
    with pytest.raises(InvalidAppId):
        open_post(TOKEN, query, body, ours())
    with pytest.raises(InvalidAppId):
        WeChatCrypto(SAMPLE_TOKEN, SAMPLE_KEY, "wx5823bf96d3bd56c8").decrypt(**{
            k: SAMPLE_POST[k] for k in ("msg_signature", "timestamp", "nonce")}, encrypted_xml_body=SAMPLE_POST["body"])


def test_garbage_under_a_valid_signature_is_a_protocol_error():
    crypto = ours()
    # not base64; not whole AES blocks; whole blocks that decrypt to a bad padding
    for encrypt in ("not base64!", "QUJD", base64.b64encode(bytes(32)).decode()):
        body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        with pytest.raises(ProtocolError):
            crypto.decrypt(sign(TOKEN, "2", "1", encrypt), "2", "1", body)
    with pytest.raises(ProtocolError):
        crypto.decrypt(sign(TOKEN, "2", "1"), "2", "1", "<xml><ToUserName>gh</ToUserName></xml>")   # no <Encrypt>
    with pytest.raises(ValueError):
        WeChatCrypto(TOKEN, "too-short", APP_ID)


@pytest.mark.parametrize("xml", [
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>'
    '<Content>&xxe;</Content></xml>',
    '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    '<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&b;</Content></xml>',
    '<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd"><xml/>',
    '<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&undefined;</Content></xml>',
], ids=["external-entity", "entity-expansion", "external-dtd", "undefined-entity"])
def test_xxe_and_entities_are_rejected(xml):
    with pytest.raises(ProtocolError):
        parse_message(xml)
    crypto = ours()   # inside the encryption too: the plaintext goes through the same parser
    query, body = signed_post("text", "o", crypto=crypto, xml=xml)
    with pytest.raises(ProtocolError):
        parse_message(open_post(TOKEN, query, body, crypto)[0])
    with pytest.raises(ProtocolError):   # and as the envelope itself
        crypto.decrypt("x", "1", "2", xml)


def test_text_reply_is_cdata_safe():
    nasty = "a]]>b]]]]>c<![CDATA[d</Content></xml>\x01\x0b尾"
    reply = text_reply("oUser", "gh_x", nasty, 1700000000)
    message = parse_message(reply)
    assert message.content == "a]]>b]]]]>c<![CDATA[d</Content></xml>尾"   # control characters dropped
    assert (message.from_user, message.to_user, message.create_time) == ("gh_x", "oUser", 1700000000)
    assert message.msg_type == "text" and message.msg_id is None


def test_parse_each_kind():
    text = parse_message(message_xml("text", "o1", content=" 你好 ", msg_id=11, create_time=100))
    assert (text.msg_type, text.content, text.msg_id, text.create_time) == ("text", "你好", "11", 100)
    voice = parse_message(message_xml("voice", "o1", media_id="m-9", recognition="我想问补贴", msg_id=12))
    assert (voice.msg_type, voice.media_id, voice.recognition, voice.format) == ("voice", "m-9", "我想问补贴", "amr")
    assert voice.content is None
    unrecognised = parse_message(message_xml("voice", "o1", recognition="", msg_id=13))
    assert unrecognised.recognition is None   # 语音识别 on, but nothing heard
    image = parse_message(message_xml("image", "o1", media_id="m-10", msg_id=14))
    assert (image.msg_type, image.media_id, image.pic_url) == ("image", "m-10", "http://mmbiz.qpic.cn/fake.jpg")
    event = parse_message(message_xml("event", "o1", event="CLICK", event_key="MENU_POLICY"))
    assert (event.msg_type, event.event, event.event_key, event.msg_id) == ("event", "click", "MENU_POLICY", None)
    assert event.fields["EventKey"] == "MENU_POLICY"
    with pytest.raises(ProtocolError):
        parse_message("<xml><ToUserName>gh</ToUserName></xml>")
    with pytest.raises(ProtocolError):
        parse_message("<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><CreateTime>x</CreateTime></xml>")
    with pytest.raises(ProtocolError):
        parse_message("<xml><unclosed>")


def test_dedup_keys():
    assert dedup_key(parse_message(message_xml("text", "o1", msg_id=123))) == "msg:123"
    subscribe = parse_message(message_xml("event", "o1", event="subscribe", create_time=1700000000))
    assert dedup_key(subscribe) == "evt:o1:1700000000:subscribe"
    click = parse_message(message_xml("event", "o1", event="CLICK", create_time=1700000000))
    assert dedup_key(click) == "evt:o1:1700000000:click" != dedup_key(subscribe)
    # WeChat's retry of the same push carries the same fields: the same key
    again = parse_message(message_xml("event", "o1", event="subscribe", create_time=1700000000))
    assert dedup_key(again) == dedup_key(subscribe)


def test_url_check_in_plain_form():
    assert url_check_reply(TOKEN, url_check("hello-42")) == "hello-42"
    assert url_check_reply(TOKEN, url_check("hello-42"), ours()) == "hello-42"   # 公众号 safe mode: still plain
    assert url_check_reply("another-token", url_check("hello-42")) is None
    assert url_check_reply(TOKEN, {**url_check(), "echostr": None}) is None


# ---- the API client against the fake platform ---------------------------------------------------


@pytest.fixture
def engine(db_url):
    # SQLite: a file database with a busy timeout, so concurrent writers wait instead of failing
    engine = make_engine(f"{db_url}?timeout=30" if db_url.startswith("sqlite") else db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url):
    engine = make_engine(f"{sqlite_url}?timeout=30")
    upgrade(engine)
    yield engine
    engine.dispose()


def client(fake, tokens) -> WeChatApi:
    return WeChatApi(APP_ID, APP_SECRET, tokens, base_url=fake.base_url)


def test_token_is_cached_and_shared_between_clients(fake, sqlite_engine):
    store = TokenStore(sqlite_engine)

    async def go():
        async with client(fake, store) as first, client(fake, store) as second:
            await first.send_text("oA", "第一条")
            await second.send_text("oB", "第二条")
            await first.send_text("oA", "第三条")
            assert await second.get_access_token() == "TOKEN-1"
    asyncio.run(go())
    assert fake.issued == 1
    assert fake.sent == {"oA": ["第一条", "第三条"], "oB": ["第二条"]}
    token, expires_at = store.get(APP_ID)
    assert token == "TOKEN-1" and expires_at.tzinfo is not None
    assert dt.timedelta(seconds=7000) < expires_at - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(seconds=7200)


def test_token_refreshed_once_on_40001(fake, sqlite_engine):
    store = TokenStore(sqlite_engine)

    async def go():
        async with client(fake, store) as first, client(fake, store) as second:
            await first.send_text("oA", "一")
            await second.send_text("oA", "二")       # both now hold TOKEN-1
            fake.expire()
            await first.send_text("oA", "三")        # 40001 → TOKEN-2, stored
            await second.send_text("oA", "四")       # 40001 on its TOKEN-1 → TOKEN-2 from the store
            assert fake.issued == 2
            fake.echo_token_in_errors = True
            # every token refused, even one just issued: one refresh only, then the error
            original = fake.handle

            def always_40001(path, params):
                if path == "/cgi-bin/token":
                    return original(path, params)
                fake.expire()
                return original(path, params)
            fake.handle = always_40001
            with pytest.raises(WeChatError) as failure:
                await first.send_text("oA", "五")
            return failure.value
    error = asyncio.run(go())
    assert fake.sent["oA"] == ["一", "二", "三", "四"]
    assert error.errcode == 40001 and not error.permanent
    assert "TOKEN-" not in str(error) and "***" in str(error)   # WeChat quoting the token: scrubbed
    assert fake.issued == 3   # TOKEN-1, TOKEN-2 (shared by both), TOKEN-3 for the last refusal
    assert store.get(APP_ID)[0] == "TOKEN-3"


def test_token_and_secret_never_logged(fake, sqlite_engine, caplog):
    caplog.set_level(logging.DEBUG)
    store = TokenStore(sqlite_engine)
    fake.add_media("m-1", b"#!AMR\n...", "audio/amr")
    fake.echo_token_in_errors = True

    async def go():
        errors = []
        async with client(fake, store) as api:
            await api.send_text("oA", "你好")
            assert await api.get_media("m-1") == b"#!AMR\n..."
            await api.send_template("oA", "tpl-1", {"first": "提醒"})
            fake.expire()
            await api.send_text("oA", "refreshed")
            try:
                await api.get_media("missing")
            except WeChatError as exc:
                errors.append(exc)
        async with WeChatApi(APP_ID, APP_SECRET, MemoryTokens(), base_url="http://127.0.0.1:9") as down:
            try:
                await down.send_text("oA", "x")
            except WeChatError as exc:
                errors.append(exc)
        async with WeChatApi(APP_ID, "wrong-secret-value", MemoryTokens(), base_url=fake.base_url) as wrong:
            try:
                await wrong.send_text("oA", "x")
            except WeChatError as exc:
                errors.append(exc)

        class BrokenStore(MemoryTokens):   # a database error quotes the statement's parameters
            def put(self, app_id, token, expires_at):
                raise RuntimeError(f"INSERT failed [parameters: ({app_id!r}, {token!r})]")
        async with WeChatApi(APP_ID, APP_SECRET, BrokenStore(), base_url=fake.base_url) as unstored:
            await unstored.send_text("oA", "still sent")
        return errors
    errors = asyncio.run(go())
    assert [e.errcode for e in errors] == [40007, -1, 40125]
    assert "access token issued" in caplog.text   # the log was captured at all
    for text in [caplog.text, *map(str, errors)]:
        assert "TOKEN-" not in text and APP_SECRET not in text and "wrong-secret-value" not in text
        assert "access_token=" not in text and "secret=" not in text


def test_errors_carry_what_the_notifier_needs(fake):
    async def go():
        found = {}
        async with client(fake, MemoryTokens()) as api:
            for errcode in (45015, 43004, 40003, 45047, 45009, 45011, 40008, -1):
                fake.fail_send(errcode, openid="oA")
                try:
                    await api.send_text("oA", "x")
                except WeChatError as exc:
                    found[errcode] = exc
            await api.send_text("oB", "unaffected")
        return found
    found = asyncio.run(go())
    assert {code for code, e in found.items() if e.permanent} == {45015, 43004, 40003}
    assert found[45047].retry_after == 3600 and found[45011].retry_after == 60
    assert 60 < found[45009].retry_after <= 24 * 3600 + 60   # until Beijing midnight
    assert found[40008].retry_after is None and found[-1].retry_after is None and not found[-1].permanent
    assert fake.sent == {"oB": ["unaffected"]}


def test_media_and_templates(fake):
    fake.add_media("img-1", b"\xff\xd8jpeg", "image/jpeg")

    async def go():
        async with client(fake, MemoryTokens()) as api:
            assert await api.get_media("img-1") == b"\xff\xd8jpeg"
            with pytest.raises(WeChatError) as missing:
                await api.get_media("nope")
            data = {"first": "您好", "keyword1": {"value": "补贴", "color": "#173177"}}
            msgid = await api.send_template("oA", "tpl-9", data, url="https://example.org/x")
            return missing.value, msgid
    missing, msgid = asyncio.run(go())
    assert missing.errcode == 40007 and msgid == 1000
    assert fake.templates == [{"access_token": "TOKEN-1", "touser": "oA", "template_id": "tpl-9",
                               "url": "https://example.org/x",
                               "data": {"first": {"value": "您好"}, "keyword1": {"value": "补贴", "color": "#173177"}}}]
    assert fake.called("/cgi-bin/media/get")[0]["media_id"] == "img-1"


# ---- the shared stores ----------------------------------------------------------------------------
def test_schema_matches_with_the_wechat_tables(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert {"wechat_seen_messages", "wechat_tokens"} <= set(inspect(sqlite_engine).get_table_names())
    cfg = alembic_config(sqlite_engine)
    with sqlite_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009_followups")
    assert "wechat_tokens" not in inspect(sqlite_engine).get_table_names()
    upgrade(sqlite_engine)


def test_seen_messages_once(engine):
    seen = SeenMessages(engine)
    now = dt.datetime.now(dt.timezone.utc)
    assert seen.first_time("msg:1", now)
    assert not seen.first_time("msg:1", now)
    assert seen.first_time("msg:2", now - dt.timedelta(days=2))
    long_key = "evt:" + "o" * 200 + ":1700000000:subscribe"
    assert seen.first_time(long_key) and not seen.first_time(long_key)
    assert seen.forget_older_than(now - dt.timedelta(days=1)) == 1
    assert seen.first_time("msg:2") and not seen.first_time("msg:1")


def test_seen_messages_race_has_one_winner(engine):
    seen = SeenMessages(engine)
    for round_ in range(5):
        key, results, start = f"msg:race-{round_}", [], threading.Barrier(8)

        def worker():
            start.wait()
            results.append(seen.first_time(key))
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * 7 + [True]


def test_token_store(engine):
    store = TokenStore(engine)
    assert store.get(APP_ID) is None
    later = dt.datetime(2030, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    store.put(APP_ID, "T1", later)
    assert store.get(APP_ID) == ("T1", later)
    store.put(APP_ID, "T2", later + dt.timedelta(hours=2))
    assert store.get(APP_ID) == ("T2", later + dt.timedelta(hours=2))
    assert store.get("wx-other") is None


def test_redis_stores():
    from conftest import need_service
    need_service("Redis", "127.0.0.1", 6379)
    import redis
    client_ = redis.Redis.from_url("redis://127.0.0.1:6379/5")
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        seen = RedisSeenMessages(client_, prefix=prefix + "seen:")
        assert seen.first_time("msg:1") and not seen.first_time("msg:1")
        tokens = RedisTokenStore(client_, prefix=prefix + "token:")
        assert tokens.get(APP_ID) is None
        later = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(hours=2)
        tokens.put(APP_ID, "T1", later)
        assert tokens.get(APP_ID) == ("T1", later)
        assert 0 < client_.ttl(prefix + "token:" + APP_ID) <= 7260
    finally:
        for key in client_.scan_iter(prefix + "*"):
            client_.delete(key)

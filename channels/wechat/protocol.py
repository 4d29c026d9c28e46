"""The WeChat Official Account message protocol: signatures, 安全模式 crypto, the XML.

What the platform POSTs to our URL and what we answer, nothing else (no HTTP, no state).
Plain mode (明文模式): the query carries signature = sha1(sorted [token, timestamp, nonce]).
Safe mode (安全模式): also encrypt_type=aes and msg_signature = sha1(sorted [token, timestamp,
nonce, Encrypt]); the body's <Encrypt> is AES-256-CBC of 16 random bytes + a 4-byte big-endian
length + the message + the app id, and a passive reply must be encrypted the same way.
Reference: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/
           Message_encryption_and_decryption_instructions.html
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TEXT_LIMIT = 660   # characters a text message: WeChat allows 2,048 bytes, a Chinese character is 3
BLOCK = 32   # WeChat pads to 32 bytes (PKCS#7 with a 32-byte block), not AES's 16


class ProtocolError(ValueError):
    """A request that is not a well-formed, authentic WeChat message: answer 400, never process."""


class InvalidSignature(ProtocolError):
    pass


class InvalidAppId(ProtocolError):
    """Decrypted fine but was meant for another account (or the key is shared by mistake)."""


def sign(*parts: str) -> str:
    """sha1 of the parts sorted and joined: the one signature formula both modes use."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def _same(expected: str, given: str | None) -> bool:
    # constant time, so the signature cannot be guessed byte by byte from response times
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "replace"))


def check_signature(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> bool:
    """Plain mode (and every GET URL check): is this request from WeChat?"""
    if not (signature and timestamp and nonce):
        return False
    return _same(sign(token, timestamp, nonce), signature)


# ---- XML ----------------------------------------------------------------------------------------
def _reject_declaration(*_args) -> None:
    raise ProtocolError("DOCTYPE/ENTITY declarations are not accepted")


def parse_xml(text: str | bytes) -> ET.Element:
    """The standard library's expat, refusing any DOCTYPE or ENTITY declaration: WeChat never
    sends one, and they are how XXE and entity-expansion bombs get in."""
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()
    parser.StartDoctypeDeclHandler = _reject_declaration
    parser.EntityDeclHandler = _reject_declaration
    parser.UnparsedEntityDeclHandler = _reject_declaration
    parser.ExternalEntityRefHandler = _reject_declaration
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(text.encode() if isinstance(text, str) else text, True)
        return builder.close()
    except expat.ExpatError as exc:
        raise ProtocolError(f"not well-formed XML: {exc}") from None


def _text(root: ET.Element, tag: str) -> str | None:
    node = root.find(tag)
    return None if node is None else (node.text or "").strip()


@dataclass(frozen=True)
class IncomingMessage:
    to_user: str                 # our account's original id (gh_…)
    from_user: str               # the user's openid: who to answer
    create_time: int
    msg_type: str                # text, voice, image, event, location, link, video, …
    msg_id: str | None = None    # absent on events
    content: str | None = None   # text
    media_id: str | None = None  # voice, image, video: fetch with the API's get_media
    format: str | None = None    # voice: amr or speex
    recognition: str | None = None  # voice: WeChat's own transcript when 语音识别 is on
    pic_url: str | None = None   # image
    event: str | None = None     # lowercased: subscribe, unsubscribe, scan, click, view, …
    event_key: str | None = None
    fields: dict = field(default_factory=dict, compare=False, repr=False)   # every top-level field


def parse_message(xml: str | bytes) -> IncomingMessage:
    root = parse_xml(xml)
    fields = {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
    from_user, msg_type = fields.get("FromUserName"), (fields.get("MsgType") or "").lower()
    if not from_user or not msg_type:
        raise ProtocolError("a message needs FromUserName and MsgType")
    try:
        create_time = int(fields.get("CreateTime") or 0)
    except ValueError:
        raise ProtocolError("CreateTime is not a number") from None
    get = lambda tag: fields.get(tag) or None   # noqa: E731 — an empty field counts as absent
    return IncomingMessage(
        to_user=fields.get("ToUserName", ""), from_user=from_user, create_time=create_time, msg_type=msg_type,
        msg_id=get("MsgId"), content=fields.get("Content") if msg_type == "text" else None,
        media_id=get("MediaId"), format=get("Format"), recognition=get("Recognition"), pic_url=get("PicUrl"),
        event=(get("Event") or "").lower() or None, event_key=get("EventKey"), fields=fields)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")   # not allowed anywhere in XML 1.0


def cdata(value: str) -> str:
    """A CDATA section holding any text: "]]>" is split across two sections, characters XML
    forbids are dropped (WeChat would reject the whole reply)."""
    return "<![CDATA[" + _NOT_XML.sub("", str(value)).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, create_time: int | None = None) -> str:
    """A passive text reply (被动回复): to_user is the user's openid, from_user our account."""
    return (f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
            f"<CreateTime>{int(create_time if create_time is not None else time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content>{cdata(content)}</Content></xml>")


def dedup_key(message: IncomingMessage) -> str:
    """WeChat retries a POST three times when we are slow; the same message must run once.
    Messages have a MsgId; events do not, so FromUserName + CreateTime (+ the event) stand in."""
    if message.msg_id:
        return f"msg:{message.msg_id}"
    return f"evt:{message.from_user}:{message.create_time}:{message.event or message.msg_type}"


# ---- 安全模式 ---------------------------------------------------------------------------------
class WeChatCrypto:
    def __init__(self, token: str, encoding_aes_key: str, app_id: str):
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be the 43 characters shown in 基本配置")
        self.token, self.app_id = token, app_id
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))   # the IV is the key's first 16 bytes

    def decrypt(self, msg_signature: str | None, timestamp: str, nonce: str, encrypted_xml_body: str | bytes) -> str:
        """The plain XML inside a safe-mode POST body; InvalidSignature / InvalidAppId /
        ProtocolError when it is not authentic."""
        encrypted = _text(parse_xml(encrypted_xml_body), "Encrypt")
        if not encrypted:
            raise ProtocolError("no <Encrypt> in a safe-mode body")
        return self._open(msg_signature, timestamp, nonce, encrypted)

    def decrypt_echostr(self, msg_signature: str | None, timestamp: str, nonce: str, echostr: str) -> str:
        """A URL check whose echostr is encrypted (msg_signature over it): answer the plain text.
        The 公众号 itself sends its URL check in plain form (see url_check_reply)."""
        return self._open(msg_signature, timestamp, nonce, echostr)

    def encrypt(self, plain_xml: str, nonce: str, timestamp: str | int | None = None, *,
                random_prefix: bytes | None = None) -> str:
        """The safe-mode reply body. random_prefix only for tests (a fixed vector)."""
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        message = plain_xml.encode()
        data = (random_prefix or os.urandom(16)) + struct.pack(">I", len(message)) + message + self.app_id.encode()
        pad = BLOCK - len(data) % BLOCK
        encryptor = self._cipher.encryptor()
        encrypted = base64.b64encode(encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()).decode()
        return (f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
                f"<MsgSignature>{cdata(sign(self.token, timestamp, nonce, encrypted))}</MsgSignature>"
                f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>")

    def _open(self, msg_signature: str | None, timestamp: str, nonce: str, encrypted: str) -> str:
        # the signature first: nothing unauthenticated reaches the cipher
        if not (msg_signature and _same(sign(self.token, timestamp, nonce, encrypted), msg_signature)):
            raise InvalidSignature("msg_signature does not match")
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise ProtocolError("Encrypt is not base64") from None
        if not raw or len(raw) % 16:
            raise ProtocolError("Encrypt is not whole AES blocks")
        decryptor = self._cipher.decryptor()
        data = decryptor.update(raw) + decryptor.finalize()
        pad = data[-1]
        if not 1 <= pad <= BLOCK or data[-pad:] != bytes([pad]) * pad or len(data) - pad < 20:
            raise ProtocolError("bad padding")
        data = data[:-pad]
        (length,) = struct.unpack(">I", data[16:20])
        if 20 + length > len(data):
            raise ProtocolError("bad length")
        if not hmac.compare_digest(data[20 + length:], self.app_id.encode()):
            raise InvalidAppId("the message is for another app id")
        try:
            return data[20:20 + length].decode()
        except UnicodeDecodeError:
            raise ProtocolError("the message is not UTF-8") from None


# ---- a request as a whole ---------------------------------------------------------------------
def url_check_reply(token: str, query: dict, crypto: WeChatCrypto | None = None) -> str | None:
    """The GET URL check (服务器配置): the text to answer, or None when it is not from WeChat.
    The 公众号 signs it like plain mode and wants echostr back as it came, in every mode; an
    encrypted echostr with msg_signature (the 企业微信 form) is decrypted when we have a key."""
    echostr = query.get("echostr")
    if echostr is None:
        return None
    if query.get("msg_signature") and crypto is not None:
        try:
            return crypto.decrypt_echostr(query["msg_signature"], query.get("timestamp", ""),
                                          query.get("nonce", ""), echostr)
        except ProtocolError:
            return None
    return echostr if check_signature(token, query.get("signature"), query.get("timestamp"), query.get("nonce")) \
        else None


def open_post(token: str, query: dict, body: str | bytes, crypto: WeChatCrypto | None = None) -> tuple[str, bool]:
    """A message POST: (its plain XML, whether it came encrypted, so the reply must be too).
    Raises ProtocolError (InvalidSignature, …) for anything not from WeChat."""
    if query.get("encrypt_type", "raw").lower() == "aes":
        if crypto is None:
            raise ProtocolError("a safe-mode message, but no EncodingAESKey is configured")
        return crypto.decrypt(query.get("msg_signature"), query.get("timestamp", ""), query.get("nonce", ""),
                              body), True
    if not check_signature(token, query.get("signature"), query.get("timestamp"), query.get("nonce")):
        raise InvalidSignature("signature does not match")
    return body.decode() if isinstance(body, bytes) else body, False

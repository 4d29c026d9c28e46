"""What users send on Telegram, made for the tests: an OGG/Opus voice note, 身份证 photos."""
from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"   # Debian's fonts-wqy-microhei (make setup)


def voice_note(seconds: float = 1.5) -> bytes:
    """A voice note as Telegram sends it: OGG/Opus, 48 kHz mono (a tone stands for speech)."""
    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        t = np.arange(int(48000 * seconds)) / 48000
        samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def valid_id(birth: str, serial: str = "123") -> str:
    body = "320502" + birth + serial
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def id_card(number: str, style: str = "straight") -> bytes:
    """A synthetic front side of a 身份证 with a CJK font: straight, rotated or blurred."""
    font = ImageFont.truetype(FONT, 30)
    image = Image.new("RGB", (856, 540), (235, 240, 245))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(["姓名  张秀英", "性别  女    民族  汉", "出生  1941年3月5日",
                              "住址  江苏省苏州市姑苏区平江路100号"]):
        draw.text((60, 60 + 60 * i), line, fill=(20, 20, 20), font=font)
    draw.text((60, 440), "公民身份号码  " + number, fill=(10, 10, 10), font=font)
    if style == "rotated":
        image = image.rotate(90, expand=True)
    elif style == "blurred":
        image = image.filter(ImageFilter.GaussianBlur(1.5))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def landscape() -> bytes:
    """A photo with no card on it."""
    image = Image.new("RGB", (640, 480), (120, 170, 90))
    ImageDraw.Draw(image).ellipse((200, 120, 440, 360), fill=(250, 220, 80))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()

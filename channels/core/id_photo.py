"""身份证 photos → the 18-digit number, checksum-validated → the age (身份信息OCR).

OCR is rapidocr-onnxruntime (its wheel ships the PP-OCR Chinese models). The image is read in
memory and never stored; the number is only ever shown masked and never logged: callers get
the masked form and the age, nothing else.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from storage.masking import mask_id
from understanding.numbers import full_years, id_birth_date

# What OCR mistakes in the digits of an ID number
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "Z": "2",
                            "S": "5", "B": "8", "x": "X", "×": "X", "Ｘ": "X"})
_CANDIDATE = re.compile(r"(?<![0-9X])[0-9]{17}[0-9X](?![0-9X])")


@dataclass(frozen=True)
class IdReading:
    masked: str   # 3205**********2341
    age: int


@lru_cache(maxsize=1)
def _ocr():
    from rapidocr_onnxruntime import RapidOCR
    return RapidOCR()


def warm_up() -> None:
    _ocr()


def _texts(image) -> list[str]:
    result, _ = _ocr()(image)
    return [line[1] for line in result or []]


def find_id(texts: list[str], today: dt.date) -> IdReading | None:
    joined = "".join(t.replace(" ", "") for t in texts)
    for candidate in _CANDIDATE.findall(joined.translate(_LOOKALIKE)):
        birth = id_birth_date(candidate)
        if birth is not None and birth <= today:
            return IdReading(mask_id(candidate), full_years(birth, today))
    return None


def read_id(image_bytes: bytes, today: dt.date) -> IdReading | None:
    """The ID number on a photo, or None (no card, unreadable, or no valid number)."""
    import cv2
    import numpy as np
    image = cv2.imdecode(np.frombuffer(image_bytes, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    for turn in (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180):
        found = find_id(_texts(image if turn is None else cv2.rotate(image, turn)), today)
        if found:
            return found
    return None

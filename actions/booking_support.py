"""Shared pieces of the booking dialogue: field definitions, the store, parsing answers."""
from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

import yaml

from storage.bookings import BookingStore
from storage.db import migrated_engine
from storage.masking import mask_name, mask_phone
from storage.settings import Settings

FIELDS_FILE = Path(__file__).with_name("booking_fields.yml")
INTENT_KIND = {"book_service": "home_service", "apply_waitlist": "waitlist",
               "request_assessment": "assessment", "book_advisor": "advisor"}
BOOKING_SLOTS = ("booking_kind", "service_type", "booking_date", "time_slot", "address", "addressed_as", "elder_name",
                 "phone", "relationship", "preferred_place", "booking_confirmed", "booking_change",
                 "booking_changing", "booking_reference", "task_field")
WEEKDAYS = "一二三四五六日"


@lru_cache(maxsize=1)
def spec() -> dict:
    return yaml.safe_load(FIELDS_FILE.read_text(encoding="utf-8"))


def messages() -> dict:
    return spec()["messages"]


@lru_cache(maxsize=1)
def store() -> BookingStore:
    return BookingStore(migrated_engine(Settings.from_env().db_url))


def relationship_from_text(text: str) -> str | None:
    for value, words in spec()["relationship_words"].items():
        if any(w in text for w in words):
            return value
    return None


def describe_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


def describe_field(field: str, value) -> str:
    if field == "booking_date":
        return describe_date(value)
    if field == "phone":
        return mask_phone(value)
    if field == "elder_name":
        return mask_name(value)
    return str(value)


def crash_point(name: str) -> None:
    """Fault injection for the crash test only: ELDERCARE_TEST_CRASH_POINT=after_commit kills the
    action server at that point, exactly as a power cut would."""
    if os.environ.get("ELDERCARE_TEST_CRASH_POINT") == name:
        os._exit(137)

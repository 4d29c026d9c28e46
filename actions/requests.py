"""Requests as tasks of the conversation: a booking (home-care visit, care-home waiting list,
assessment, advisor) and a status check or cancellation by reference.

A request is no separate dialogue: the conversation's one decision per turn
(actions/conversation.py) hears every fact, answers every aside, and then lets the task open
in the slots read the message for its fields and ask its next one. So the rules of a turn —
facts said are taken, a policy question is answered, no question is asked more than twice in
a row (`Conversation.pose`) — hold inside a request as everywhere else.

Submitting commits the booking to the database before any reply is sent, and the idempotency
key makes a retried or double-clicked confirmation return the same booking.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from storage.bookings import STATUS_LABELS, BookingError, idempotency_key
from storage.masking import mask_name, mask_phone
from storage.operators import verified_operator
from understanding.gazetteer import find_places
from understanding.booking_parsing import (any_time, find_address, parse_date, parse_name, parse_phone,
                                           parse_reference, parse_service_type, parse_slot, phone_problem)

from .booking_support import (BOOKING_SLOTS, INTENT_KIND, crash_point, describe_date, describe_field, messages,
                              relationship_from_text, spec, store)
from .profile import DONT_KNOW, FACTS, known_profile
from .render import fact_options, payload, question, wording

logger = logging.getLogger(__name__)
ADDRESS_WORD = re.compile(r"[路街巷弄号村组幢栋楼室苑园里镇乡道区]|小区|大厦|公寓|新村|\d")
AFFIRM_WORDS = ("确认", "提交", "是的", "对", "好的", "没问题", "可以", "确定", "行", "好")
DATE_WORDS = re.compile(r"[天周月号日]|星期|礼拜")
ANY_SLOT = "不限"
BY_PHONE = "（工作人员电话确认）"   # an address not understood twice: staff ask when they call
LOOKUP_SLOTS = ("lookup_reference", "lookup_phone", "lookup_confirmed", "lookup_purpose", "lookup_tries")
MAX_TRIES = 3
# Inside a request: words that say the elder's profile itself changed ("搬到姑苏区了", "不对，他住…").
PROFILE_CHANGE = re.compile(r"不对|搬|迁|改成|改为|更正|说错|记错|弄错|搞错|其实(?:是|住)|现在住|已经住到|住到了")
# "想去姑苏区的养老院", "姑苏区那边的敬老院就行": the district of the home wished for, not the elder's.
PLACE_WISH = re.compile(r"想去|想住|想进|想到|想找|去[^，。,.；;！!？?\s]{0,8}(?:养老院|敬老院|福利院|护理院|老年公寓)|"
                        r"(?:养老院|敬老院|福利院|护理院|老年公寓|机构)")


def place_wished(text: str) -> bool:
    return bool(PLACE_WISH.search(text or ""))


def wished_district(text: str) -> str | None:
    """"帮我爸申请轮候，想去相城区的养老院" -> 相城区: a district named in the clause of the wish."""
    text = text or ""
    breaks = [m.end() for m in re.finditer(r"[，。,.；;！!？?\s]", text)]
    for wish in PLACE_WISH.finditer(text):
        start = max((b for b in breaks if b <= wish.start()), default=0)
        end = min((b - 1 for b in breaks if b > wish.end()), default=len(text))
        hits = [h for h in find_places(text[start:end]) if len(h.districts) == 1]
        if hits:
            return hits[0].districts[0]
    return None


def for_the_request_only(conv, facts: dict) -> dict:
    """A request's own question answered with words that are also a profile fact ("姑苏区" to
    "想去哪个区的公办养老院？", an address in another district, a date, a name): they fill the
    request's field only. The elder's profile changes only when the message says it changed
    ("不对，他住姑苏区", "搬到姑苏区了"); a fact not known before is still taken, except the district
    of the care home wished for, which is not where the elder lives."""
    slots = conv.slots
    kind, field = slots.get("booking_kind"), slots.get("task_field")
    if not facts or not kind or slots.get("booking_reference"):
        return facts
    wish = kind == "waitlist" and "district" in facts and place_wished(conv.turn.text)
    if (field is None or field in FACTS) and not wish:
        return facts   # the request's start, or a waiting-list fact asked as the advisor asks it
    if "correction" in conv.turn.cues or PROFILE_CHANGE.search(conv.turn.text) or conv.turn.text.startswith("/"):
        return facts   # said to have changed, or set from the profile itself (a button, the console's editor)
    kept = {}
    for fact, value in facts.items():
        if fact == "district" and (field == "preferred_place" or wish):
            continue   # the district of the care home wished for
        if fact in conv.profile and conv.profile[fact] != value:
            continue   # said for the request's field, not as a correction
        kept[fact] = value
    return kept


def _kind_spec(kind: str) -> dict:
    return spec()["kinds"][kind]


class BookingRequest:
    """The request open in the slots (booking_kind set): which field is asked, how an answer
    fills it, and what the third asking does instead of asking again."""

    filled_other = False   # the last message gave fields other than the one asked

    def __init__(self, conv):
        self.c = conv

    # --- state ---------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.c.slots.get("booking_kind") or "home_service"

    def get(self, name):
        return self.c.slots.get(name)

    def missing(self) -> str | None:
        kind = _kind_spec(self.kind)
        if self.get("booking_changing"):
            return "booking_change"
        wanted = [f for f in kind.get("facts", []) if self.get(f) is None] + \
            [f for f in kind["fields"] if not self.get(f)] + ["booking_confirmed"]
        return wanted[0]

    # --- starting and stopping ---------------------------------------------------------------------
    def start(self, intent: str) -> None:
        c = self.c
        for name in BOOKING_SLOTS:
            if c.slots.get(name) is not None:
                c._set(name, None)
        kind = INTENT_KIND.get(intent, "home_service")
        c._set("booking_kind", kind)
        c._set("asked_fact", None)
        self._read_all(open_field=None)
        # who is filing it, from what was said ("我妈…" -> 子女): never asked again
        relation = c.turn.relation or c.slots.get("speaker_relation") or ("本人" if c.subject == "self" else None)
        if relation:
            c._set("relationship", relation)
        c._note(messages()["starting"].format(name=_kind_spec(kind)["name"]))
        if not self._refused():
            self.ask_next()

    def stop(self, key: str = "stopped") -> None:
        self.c._note(messages()[key])
        self._close()

    def _close(self) -> None:
        for name in ("booking_kind", "task_field", "booking_changing", "booking_change", "booking_confirmed"):
            self.c._set(name, None)
        self.c._set("asked_fact", None)

    def _refused(self) -> bool:
        """A waiting-list application that cannot succeed (under 60, no Suzhou 户籍) is said so at once."""
        if self.kind != "waitlist":
            return False
        profile = self.c.profile
        if "age" not in profile or "hukou" not in profile:
            return False
        result = next(r for r in self.c.results() if r.id == "public_care_home_waitlist")
        if result.status != "not_eligible":
            return False
        self.c._note(messages()["not_eligible_waitlist"].format(reasons="；".join(result.reasons)))
        self._close()
        return True

    # --- reading a message ---------------------------------------------------------------------
    def read(self) -> bool:
        """Fill what the message gives; True when the field asked was answered."""
        field = self.get("task_field")
        if field in FACTS:   # a waiting-list fact: the conversation has read it already (asked_fact)
            return self.get(field) is not None
        answered = self._read_open(field) if field else False
        self.filled_other = self._read_all(open_field=field)
        return answered

    def _read_all(self, open_field: str | None) -> bool:
        """Other fields a message gives as well: a whole request dictated at once fills them all
        ("帮我妈约一下上门助洁明天上午地址是园区星海街200号…电话139…"). True when any was given."""
        c, text, turn = self.c, self.c.turn.text, self.c.turn
        before = dict(c.reply.slots)
        for name, value in turn.entities.items():   # buttons: /inform{"service_type": "助浴"}
            if name in ("service_type", "time_slot", "relationship") and value and name != open_field:
                c._set(name, value)
        kind = self.kind
        fields = _kind_spec(kind)["fields"]
        if "service_type" in fields and not self.get("service_type") and open_field != "service_type":
            service = parse_service_type(text)
            if service:
                c._set("service_type", service)
        if "booking_date" in fields and open_field not in ("booking_date", "time_slot"):
            answer = parse_date(text, c.today)
            if not self.get("booking_date") and answer and answer.date and not answer.problem and DATE_WORDS.search(text):
                c._set("booking_date", answer.date.isoformat())
            slot = parse_slot(text)
            if slot and not self.get("time_slot") and (self.get("booking_date") or answer):
                c._set("time_slot", slot)
        if "preferred_place" in fields and not self.get("preferred_place") and open_field != "preferred_place":
            wished = wished_district(text)   # "申请轮候，想去相城区的养老院": the request's field, said early
            if wished:
                c._set("preferred_place", wished)
        if "address" in fields and not self.get("address") and open_field != "address":
            address = find_address(text)
            if address:
                c._set("address", address)
        if "phone" in fields and not self.get("phone") and open_field != "phone" and len(text) >= 11:
            phone = parse_phone(text)
            if phone:
                c._set("phone", phone)
        if open_field not in ("addressed_as", "elder_name"):
            address_as, name = parse_name(text) if re.search(r"叫|名字|姓名", text) else (None, None)
            if name and not self.get("elder_name"):
                c._set("elder_name", name)
            if address_as and not self.get("addressed_as") and "addressed_as" in fields:
                c._set("addressed_as", address_as)
        relation = turn.relation or (relationship_from_text(text) if open_field != "relationship" else None)
        if relation and "relationship" in fields and re.search(r"我是|我就是|本人", text):
            c._set("relationship", relation)   # "我是她女儿" said at any question
            c.reply.slots.setdefault("relationship", relation)
        return c.reply.slots != before
    def _read_open(self, field: str) -> bool:
        c, text, intent = self.c, self.c.turn.text, self.c.turn.intent
        msg = messages()
        entity = c.turn.entities.get(field)
        if entity and field in ("service_type", "time_slot", "relationship", "booking_change"):
            c._set(field, entity)
            return self._after_field(field)
        if field == "booking_confirmed":
            if intent == "affirm" or text.strip("。.!！ ") in AFFIRM_WORDS:
                self.submit()
                return True
            if ("改" in text or "换" in text) and self._changed_in_place(text):
                return True   # "时间改成下午" at the summary: changed, the summary again
            if intent == "deny" or "改" in text:
                c._set("booking_changing", True)
                return True
            return False
        if field == "booking_change":
            if self._changed_in_place(text):   # "时间改成下午", "电话换成139…": changed at once
                c._set("booking_changing", None)
                return True
            labels = {f: spec()["fields"][f]["label"] for f in _kind_spec(self.kind)["fields"]}
            chosen = next((f for f, label in labels.items() if label in text or label[:2] in text), None)
            if chosen:
                self._change(chosen)
            return bool(chosen)
        if field == "service_type":
            value = parse_service_type(text)
            if value:
                c._set(field, value)
            return bool(value)
        if field in ("booking_date", "time_slot"):
            return self._read_when(field, text)
        if field == "phone":
            value = parse_phone(text)
            if value:
                c._set("phone", value)
                return True
            why = phone_problem(text)
            if why:
                c._note(msg["bad_phone"].format(why=msg["phone_why"].get(why, why)))
            return False
        if field == "relationship":
            value = relationship_from_text(text)
            if value:
                c._set(field, value)
            return bool(value)
        if field in ("addressed_as", "elder_name"):
            address_as, name = parse_name(text)
            if not (address_as or name) and re.search(r"\S\s+\S", text):
                address_as, name = parse_name(re.sub(r"\s+", "，", text.strip()))   # "李桂英 她今年90了"
            if name:
                c._set("elder_name", name)
            if address_as:
                c._set("addressed_as", address_as)
            if field == "addressed_as" and name and not address_as:
                c._set("addressed_as", name)   # whom to visit: the name serves as the greeting too
            return bool(name or (address_as and field == "addressed_as"))
        if field == "preferred_place":
            # "姑苏区", "吴中那边的都行", "昆三" (voice): the district of the home wished for
            district = c.turn.facts.get("district") or c.turn.readings.get("district") or wished_district(text)
            if any_time(text) and intent not in ("ask_policy", "help"):
                c._set(field, district or ANY_SLOT)   # "随便哪个区都行"
                return True
            if district or (len(text) >= 2 and intent not in ("ask_policy", "help", "out_of_scope", "deny")):
                c._set(field, district or text[:60])
                return True
            return False
        if field == "address":
            found = find_address(text)
            if found:
                c._set(field, found)
                return True
            if len(text) >= 4 and sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= 3 and ADDRESS_WORD.search(text) \
                    and "dont_know" not in c.turn.cues and intent not in ("dont_know", "ask_policy", "help"):
                c._set(field, text[:200])
                return True
            return False
        return False

    def _read_when(self, field: str, text: str) -> bool:
        c, msg = self.c, messages()
        if any_time(text) and not DATE_WORDS.search(text) and not parse_slot(text):
            # "都行", "随便", "越快越好" (facts may come with it): the earliest date, any time of day
            if not self.get("booking_date"):
                c._set("booking_date", self._earliest().isoformat())
            c._set("time_slot", ANY_SLOT)
            c._note(msg["any_time"].format(date=describe_date(self.get("booking_date"))))
            return True
        if any(k != "subject" for k in c.turn.facts) and not DATE_WORDS.search(text):
            return False   # "她八十三了，住在娄葑": facts, not a date
        answer = parse_date(text, c.today)
        slot = parse_slot(text)
        if answer and answer.problem:
            key = {"past": "past_date", "too_far": "too_far"}.get(answer.problem, "invalid_date")
            c._note(msg[key].format(date=describe_date(answer.date.isoformat()) if answer.date else "",
                                    earliest=describe_date(self._earliest().isoformat())))
            return False
        got = False
        if answer and answer.date:
            c._set("booking_date", answer.date.isoformat())
            got = field == "booking_date"
        if slot or (answer and answer.slot):
            c._set("time_slot", slot or answer.slot)
            got = got or field == "time_slot"
        if not got and any_time(text):   # "都行", "越快越好": the earliest date, any time of day
            if field == "booking_date":
                c._set("booking_date", self._earliest().isoformat())
            else:
                c._set("time_slot", ANY_SLOT)
            got = True
        if not (slot or (answer and answer.slot)) and re.search(r"中午|午饭|饭点", text):
            c._note(msg["noon"])   # no noon slot: the morning, and staff agree the hour by phone
            c._set("time_slot", "上午")
            got = True
        return got

    def _changed_in_place(self, text: str) -> bool:
        """A change said with its new value: the date, the time of day or the phone is taken."""
        c, fields = self.c, _kind_spec(self.kind)["fields"]
        answer = parse_date(text, c.today)
        slot = parse_slot(text)
        phone = parse_phone(text)
        changed = False
        if "booking_date" in fields and answer and answer.date and not answer.problem and DATE_WORDS.search(text):
            c._set("booking_date", answer.date.isoformat())
            changed = True
        if "time_slot" in fields and slot:
            c._set("time_slot", slot)
            changed = True
        if "phone" in fields and phone:
            c._set("phone", phone)
            changed = True
        return changed

    def _earliest(self) -> dt.date:
        return self.c.today + dt.timedelta(days=1)

    def _change(self, field: str) -> None:
        self.c._set(field, None)
        if field == "booking_date":
            self.c._set("time_slot", None)
        if field == "addressed_as":
            self.c._set("elder_name", None)
        self.c._set("booking_change", None)
        self.c._set("booking_changing", None)

    def _after_field(self, field: str) -> bool:
        if field == "booking_change":
            chosen = self.get("booking_change")
            if chosen:
                self._change(chosen)
        return True

    # --- asking ------------------------------------------------------------------------------------
    def ask_next(self, missed: bool = False) -> None:
        """The next field, or the summary; a field asked twice without an answer is not asked a
        third time: it falls back (the earliest date, any slot, staff confirm by phone…)."""
        c = self.c
        for _ in range(12):   # each fallback fills a field or ends the request
            if not self.get("booking_kind") or self.get("booking_reference"):
                return
            field = self.missing()
            times = c.times_asked(f"request:{field}") + 1
            if times <= 2:
                self._ask(field, again=times == 2, missed=missed)
                return
            if not self._fallback(field, times):
                return

    def _fallback(self, field: str, times: int) -> bool:
        """True when the field got a value and the next one may be asked."""
        c, msg = self.c, messages()
        fallback = {"booking_date": lambda: self._earliest().isoformat(), "time_slot": lambda: ANY_SLOT,
                    "address": lambda: BY_PHONE, "preferred_place": lambda: ANY_SLOT}
        if field in fallback:
            c._set(field, fallback[field]())
            c._note(msg["moved_on"].format(label=spec()["fields"][field]["label"],
                                           value=describe_field(field, self.get(field))))
            return True
        if field in ("addressed_as", "elder_name"):
            c._set(field, DONT_KNOW if field == "elder_name" else "老人家")
            c._note(msg["name_skipped"])
            return True
        if field == "relationship":
            c._set(field, "本人" if c.subject == "self" else "其他亲属")
            return True
        if field in FACTS:
            c._set(field, DONT_KNOW)
            c._set("asked_fact", None)
            c._note(c.words["dont_know_noted"])
            return True
        if field == "booking_change":
            c._set("booking_changing", None)
            return True
        if times == 3:   # phone, service, the summary: numbered choices, with the way out
            self._ask(field, again=True, choices=True, missed=True)
            return False
        self.stop("stopped_stuck")
        return False

    def skip_open_field(self) -> bool:
        """"地址不想说": the open question gets what its third miss would give, at once; False
        when it has none (a phone number, the summary)."""
        field = self.c.slots.get("task_field")
        if field in (None, "phone", "booking_confirmed", "service_type") or field not in BOOKING_FIELD_NAMES:
            return False
        return self._fallback(field, 3)

    def _ask(self, field: str, again: bool = False, choices: bool = False, missed: bool = False) -> None:
        c, msg = self.c, messages()
        c.pose(f"request:{field}")
        c._set("task_field", field)
        hint = msg["stop_hint"] if again and field != "booking_confirmed" else ""
        if missed and not c._lead:
            c._note(msg["not_understood"])
        if field in FACTS:   # a waiting-list fact the priority tier depends on: the advisor's question
            c._set("asked_fact", field)
            c._say(c.fact_question(field) + hint, fact_options(field))
            return
        c._set("asked_fact", None)
        if field == "booking_confirmed":
            c._say(msg["summary"].format(lines="\n".join(self.summary_lines())) + hint,
                   [tuple(b) for b in msg["summary_buttons"]])
            return
        if field == "booking_change":
            fields = spec()["fields"]
            c._say(msg["which_change"], [(fields[f]["label"], payload("inform", {"booking_change": f}))
                                          for f in _kind_spec(self.kind)["fields"]])
            return
        definition = spec()["fields"][field]
        text = definition["question"]
        if c.subject == "self":
            text = definition.get("question_self", text)
        options = [(label, payload("inform", {field: value})) for value, label in definition.get("options", [])]
        if choices and field == "phone":
            text, options = msg["phone_choices"], [(msg["phone_retry"], payload("inform")),
                                                   (msg["stop_button"], payload("cancel_booking"))]
        elif choices:   # the third time: only the numbered choices, and the way out among them
            text = msg["choose_number"].format(label=spec()["fields"][field]["label"])
            options.append((msg["stop_button"], payload("cancel_booking")))
        c._say(text + ("" if choices else hint), options)

    def summary_lines(self) -> list[str]:
        fields = spec()["fields"]
        lines = [_kind_spec(self.kind)["name"]]
        if self.c.household.several:   # two parents in the chat: the booking says for whom
            lines.append(wording()["household"]["for_whom"].format(who=self.c.who()))
        for field in _kind_spec(self.kind)["fields"]:
            value = self.get(field)
            if value and value != DONT_KNOW:
                if field == "addressed_as" and value == self.get("elder_name"):
                    continue   # the name, shown masked below
                lines.append(f"{fields[field]['label']}：{describe_field(field, value)}")
        name = self.get("elder_name")
        if name and name != DONT_KNOW and "elder_name" not in _kind_spec(self.kind)["fields"]:
            lines.append(f"{fields['elder_name']['label']}：{mask_name(name)}")
        return lines

    # --- filing ------------------------------------------------------------------------------------
    def submit(self) -> None:
        c, msg = self.c, messages()
        kind, slots = self.kind, c.slots
        profile = known_profile(slots)
        tier = None
        if kind == "waitlist":
            waitlist = next(r for r in c.results() if r.id == "public_care_home_waitlist")
            tier = waitlist.priority_tier or 5
            # one application per family and place, whoever files it and from whichever channel
            key = idempotency_key(kind, (slots.get("phone") or "")[-11:], slots.get("preferred_place"))
        else:
            key = idempotency_key(kind, c.sender_id, slots.get("service_type"), slots.get("booking_date"),
                                  slots.get("time_slot"), slots.get("address"), slots.get("phone"))
        relationship = slots.get("relationship") or ("本人" if c.subject == "self" else "其他亲属")
        filed_by = "self" if relationship == "本人" else (
            "operator" if relationship == "社区/热线工作人员" else "relative")
        # filed from the operator console (signed by the console: a bare claim is ignored)
        operator = verified_operator(c.sender_id, c.metadata)
        operator_id, note = (operator[0], msg["filed_by_operator"].format(name=operator[1])) if operator else (None, None)
        if operator_id:
            filed_by = "operator"
        if c.household.several:   # staff see for which of the family's elders it was filed
            note = "；".join(x for x in (note, wording()["household"]["for_whom"].format(who=c.household.current)) if x)
        name = slots.get("elder_name")
        time_slot = slots.get("time_slot")
        try:
            crash_point("before_commit")
            booking, created = store().submit(
                kind=kind, sender_id=c.sender_id, filed_by=filed_by, relationship=relationship,
                phone=slots.get("phone"), idempotency_key=key, service_type=slots.get("service_type"),
                booking_date=dt.date.fromisoformat(slots["booking_date"]) if slots.get("booking_date") else None,
                time_slot=time_slot, address=slots.get("address"),
                addressed_as=slots.get("addressed_as") if slots.get("addressed_as") != name else None,
                elder_name=name if name and name != DONT_KNOW else None,
                district=profile.get("district"), institution=slots.get("preferred_place"),
                priority_tier=tier, profile=profile if kind == "waitlist" else None,
                note=note,
                filed_by_operator=operator_id, today=c.today)
            crash_point("after_commit")
        except BookingError as exc:
            c._note(str(exc))
            c._set("booking_date", None)
            return
        logger.info("booking %s %s", booking.reference, "created" if created else "already stored")
        c._note(msg["submitted"].format(name=_kind_spec(kind)["name"], reference=booking.reference))
        if kind == "waitlist":
            c._note(msg["queue"].format(position=store().queue_position(booking.reference),
                                        tier=booking.priority_tier))
        c._set("booking_reference", booking.reference)
        c._set("last_reference", booking.reference)
        self._close()


BOOKING_FIELD_NAMES = ("booking_date", "time_slot", "address", "addressed_as", "elder_name", "relationship",
                       "preferred_place") + tuple(FACTS)


class Lookup:
    """A status check or a cancellation by reference. The conversation that filed a booking sees
    it directly; any other must first give the phone number stored on it (the same family);
    three wrong tries end the lookup."""

    filled_other = False   # a lookup reads only the field it asked

    def __init__(self, conv):
        self.c = conv

    def get(self, name):
        return self.c.slots.get(name)

    def start(self, intent: str) -> None:
        c = self.c
        for name in LOOKUP_SLOTS:
            c._set(name, None)
        c._set("lookup_purpose", "cancel" if intent == "cancel_booking" else "status")
        reference = parse_reference(c.turn.text) or c.slots.get("last_reference")
        self._take_reference(reference)
        self.ask_next()

    def _take_reference(self, reference: str | None) -> bool:
        if not reference:
            return False
        if store().get(reference) is None:
            self.c._note(spec()["lookup"]["not_found"].format(reference=reference))
            self._try()
            return False
        self.c._set("lookup_reference", reference)
        return True

    def _try(self) -> None:
        tries = int(self.get("lookup_tries") or 0) + 1
        self.c._set("lookup_tries", tries)
        if tries >= MAX_TRIES:
            self.c._note(spec()["lookup"]["too_many"])
            self.close()

    def close(self) -> None:
        for name in LOOKUP_SLOTS:
            self.c._set(name, None)
        self.c._set("task_field", None)

    def _mine(self) -> bool:
        booking = store().get(self.get("lookup_reference"))
        return booking is not None and booking.sender_id == self.c.sender_id

    def missing(self) -> str | None:
        if not self.get("lookup_reference"):
            return "lookup_reference"
        if not self._mine() and not self.get("lookup_phone"):
            return "lookup_phone"
        if self.get("lookup_purpose") == "cancel" and self.get("lookup_confirmed") is None:
            return "lookup_confirmed"
        return None

    def read(self) -> bool:
        field, c = self.get("task_field"), self.c
        text, intent = c.turn.text, c.turn.intent
        if field == "lookup_reference":
            return self._take_reference(parse_reference(text))
        if field == "lookup_phone":
            phone = parse_phone(text)
            if not phone:
                return False
            if not store().verify_phone(self.get("lookup_reference"), phone):
                c._note(spec()["lookup"]["wrong_phone"])
                self._try()
                return True
            c._set("lookup_phone", phone)
            return True
        if field == "lookup_confirmed" and intent in ("affirm", "deny", "cancel_booking"):
            c._set("lookup_confirmed", intent != "deny")
            return True
        return False

    def ask_next(self, missed: bool = False) -> None:   # `missed`: as BookingRequest's; a look-up asks the same way
        c, w = self.c, spec()["lookup"]
        if not self.get("lookup_purpose"):
            return
        field = self.missing()
        if field is None:
            self.finish()
            return
        times = c.times_asked(f"lookup:{field}") + 1
        if times > MAX_TRIES - 1 and field != "lookup_confirmed":
            c._note(w["too_many"])
            self.close()
            return
        if times > 2:   # "确定取消吗" twice unanswered: nothing is cancelled
            c._note(w["kept"])
            self.close()
            return
        c.pose(f"lookup:{field}")
        c._set("task_field", field)
        key = {"lookup_reference": "ask_reference", "lookup_phone": "ask_phone", "lookup_confirmed": "ask_cancel"}[field]
        if key == "ask_reference" and not c.slots.get("last_reference") and not self.get("lookup_tries"):
            key = "ask_reference_none"   # nothing filed here yet: say so, and how to apply
        buttons = [tuple(b) for b in w["cancel_buttons"]] if field == "lookup_confirmed" else []
        c._say(w[key].format(reference=self.get("lookup_reference")), buttons)

    def finish(self) -> None:
        c, w = self.c, spec()["lookup"]
        booking = store().get(self.get("lookup_reference"))
        purpose, confirmed = self.get("lookup_purpose"), self.get("lookup_confirmed")
        self.close()
        if booking is None:
            return
        if purpose == "cancel":
            if confirmed is False:
                c._note(w["kept"])
            elif booking.status not in ("submitted", "confirmed"):
                c._note(w["cannot_cancel"].format(reference=booking.reference, status=STATUS_LABELS[booking.status]))
            else:
                store().cancel(booking.reference, actor="user")
                c._note(w["cancelled"].format(reference=booking.reference))
            return
        lines = [f"{_kind_spec(booking.kind)['name']} {booking.reference}", f"状态：{STATUS_LABELS[booking.status]}"]
        if booking.booking_date:
            lines.append(f"时间：{describe_date(booking.booking_date.isoformat())}{booking.time_slot or ''}")
        if booking.service_type:
            lines.append(f"服务：{booking.service_type}")
        lines.append(f"联系电话：{mask_phone(booking.phone)}")
        if booking.kind == "waitlist" and booking.status in ("submitted", "confirmed"):
            lines.append(f"目前排在第 {store().queue_position(booking.reference)} 位（第 {booking.priority_tier} 优先档）")
        c._note("\n".join(lines))

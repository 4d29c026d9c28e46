"""Showing results: recommendations (top 3, then "更多"), policy questions, what-if."""
from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.nlu.facts_extractor import extract
from policy_kb.engine import evaluate_policy, what_if

from . import kb_access
from .phrasing import card, describe_value, numbered, payload, who, wording
from .profile import known_profile

PAGE = 3
# "如果评上重度失能呢" states a fact hypothetically; the extractor (rightly) ignores
# hypotheticals, so the what-if wording around the fact is removed first.
_IF_LEAD = re.compile(r"^(?:如果|假如|要是|假设|万一|那)+")
_IF_TAIL = re.compile(r"(?:的话)?(?:呢|会怎样|会怎么样|能多什么|怎么样|会有什么变化|有什么变化|能多领什么)?[?？。！!\s]*$")


def hypothetical_facts(text: str) -> dict:
    return extract(_IF_TAIL.sub("", _IF_LEAD.sub("", text.strip())), today=kb_access.today()).facts


def recommended(results) -> list[dict]:
    return [r.to_dict() for r in results if r.status in ("eligible", "possible")]


def _next_steps(items: list[dict]) -> list[tuple[str, str]]:
    """The requests that fit these results: an assessment when one would settle a "possible",
    the waiting list when it is open to them, and always home services and an advisor."""
    w = wording()["buttons"]
    steps = []
    if any(i["status"] == "possible" and "评估" in (i.get("next_step") or "") for i in items):
        steps.append((w["assessment"], payload("request_assessment")))
    if any(i["id"] == "public_care_home_waitlist" for i in items):
        steps.append((w["waitlist"], payload("apply_waitlist")))
    return steps + [(w["home_service"], payload("book_service")), (w["advisor"], payload("book_advisor"))]


def _more_buttons(remaining: int, items: list[dict] = ()) -> list[dict]:
    w = wording()["buttons"]
    options = [(w["more"], payload("more"))] if remaining > 0 else []
    return numbered(options + _next_steps(list(items)) + [(w["restart"], payload("restart"))])


def _show_page(dispatcher: CollectingDispatcher, items: list[dict], start: int) -> int:
    page = items[start:start + PAGE]
    for offset, item in enumerate(page):
        dispatcher.utter_message(text=card(start + offset + 1, item))
    shown = start + len(page)
    w = wording()
    remaining = len(items) - shown
    dispatcher.utter_message(text=w["more_left"].format(n=remaining) if remaining > 0 else w["no_more"],
                             buttons=_more_buttons(remaining, items))
    if any(not item["verified"] for item in page):
        dispatcher.utter_message(text=wording()["final_word"])
    return shown


class ActionShowRecommendations(Action):
    def name(self) -> str:
        return "action_show_recommendations"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        profile = known_profile(tracker.slots)
        results = kb_access.results_for(profile)
        items = recommended(results)
        w = wording()
        subject = tracker.get_slot("subject")
        n_yes = sum(1 for i in items if i["status"] == "eligible")
        # The channel contract: one message carries the profile and the engine's results.
        dispatcher.utter_message(json_message={
            "type": "recommendations", "profile": profile,
            "results": [r.to_dict() for r in results]})
        if not items:
            dispatcher.utter_message(text=w["header_none"].format(who=who(subject)))
            return [SlotSet("shown_count", 0)]
        header = w["header"].format(who=who(subject), n_yes=n_yes, n_maybe=len(items) - n_yes,
                                    shown=min(PAGE, len(items)))
        if tracker.get_slot("care_estimated") and "care_level" in profile:
            header += w["estimate_note"]
        dispatcher.utter_message(text=header)
        return [SlotSet("shown_count", _show_page(dispatcher, items, 0))]


class ActionShowMore(Action):
    def name(self) -> str:
        return "action_show_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        items = recommended(kb_access.results_for(known_profile(tracker.slots)))
        start = int(tracker.get_slot("shown_count") or 0)
        if not items:
            dispatcher.utter_message(response="utter_help")
            return []
        if start >= len(items):
            dispatcher.utter_message(text=wording()["no_more"], buttons=_more_buttons(0, items))
            return []
        return [SlotSet("shown_count", _show_page(dispatcher, items, start))]


class ActionAnswerPolicy(Action):
    """Answers a question about one policy from the KB search, personalised if possible."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        text = tracker.latest_message.get("text") or ""
        hits = kb_access.search().search(text, limit=1)
        w = wording()
        if not hits:
            dispatcher.utter_message(text=w["policy_not_found"])
            return []
        policy = kb_access.kb().get(hits[0].id)
        profile = known_profile(tracker.slots)
        result = evaluate_policy(policy, kb_access.kb().derive(profile)[0], kb_access.today())
        lines = [w["policy_answer"].format(name=policy.name, summary=policy.summary,
                                           benefit=result.benefit, where=policy.apply["where"])]
        if policy.apply.get("documents"):
            lines.append(w["policy_documents"].format(documents="、".join(policy.apply["documents"])))
        if profile:
            lines.append(w["policy_personal"].format(who=who(tracker.get_slot("subject")),
                                                     status=w["status"][result.status]))
        dispatcher.utter_message(text="\n".join(lines))
        if not policy.verified:
            dispatcher.utter_message(text=wording()["final_word"])
        return []


class ActionWhatIf(Action):
    """"如果评上中度失能呢？" — what would change, without touching the stored facts."""

    def name(self) -> str:
        return "action_what_if"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        w = wording()
        profile = known_profile(tracker.slots)
        text = tracker.latest_message.get("text") or ""
        changes = {k: v for k, v in hypothetical_facts(text).items()
                   if k != "subject" and profile.get(k) != v}
        if not changes:
            dispatcher.utter_message(text=w["what_if_ask"])
            return []
        described = "，".join(describe_value(k, v) for k, v in changes.items())
        diff = what_if(kb_access.kb(), profile, changes, kb_access.today())
        diff = [d for d in diff if d["before"]["status"] != d["after"]["status"]
                or d["before"]["priority_tier"] != d["after"]["priority_tier"]]
        if not diff:
            dispatcher.utter_message(text=w["what_if_none"].format(changes=described))
        else:
            lines = [w["what_if_header"].format(changes=described)]
            for d in diff:
                before, after = w["status"][d["before"]["status"]], w["status"][d["after"]["status"]]
                if d["before"]["priority_tier"] != d["after"]["priority_tier"] and before == after:
                    before = f"第{d['before']['priority_tier']}优先档"
                    after = f"第{d['after']['priority_tier']}优先档"
                lines.append(w["what_if_line"].format(name=d["name"], before=before, after=after))
            dispatcher.utter_message(text="\n".join(lines))
        dispatcher.utter_message(text=w["what_if_note"].format(who=who(tracker.get_slot("subject"))))
        return []

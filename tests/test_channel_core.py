"""The channel core's rendering for a platform without buttons (WeChat): one text per turn."""
from __future__ import annotations

from channels.core.render import bubbles, one_text
from channels.core.words import WORDS, words_for


def test_a_turn_is_one_text_with_numbered_choices_and_the_footer_once():
    messages = [{"text": "好的，记下了：年龄85岁。"},
                {"text": "母亲有苏州户口吗？", "buttons": [{"title": "1. 有苏州户口", "payload": "/inform"},
                                                   {"title": "2. 没有，是外地户口", "payload": "/deny"}]}]
    [text] = one_text(bubbles(messages), "回复数字即可。", limit=600)
    assert text == "好的，记下了：年龄85岁。\n\n母亲有苏州户口吗？\n1. 有苏州户口\n2. 没有，是外地户口\n\n回复数字即可。"


def test_no_footer_without_choices_and_a_long_turn_is_split_at_the_limit():
    assert one_text(bubbles([{"text": "已提交！"}]), "回复数字即可。") == ["已提交！"]
    long = [{"text": "这是一句很长的政策说明。" * 120}]
    pieces = one_text(bubbles(long), "回复数字即可。", limit=600)
    assert len(pieces) > 1 and all(len(p) <= 600 for p in pieces) and "".join(pieces).count("政策说明") == 120


def test_wechat_wording_never_mentions_buttons():
    wechat = words_for("wechat")
    assert "按钮" in WORDS["start"] and "按钮" not in wechat["start"] and "回复数字" in wechat["start"]
    assert wechat["listening"] == WORDS["listening"]   # everything else as on Telegram


def test_past_the_limit_the_question_its_choices_and_the_footer_stay_together_in_the_last_message():
    cards = "按母亲的情况，6项可以享受。\n\n" + "\n\n".join(f"· 第{i}项政策：可以享受（待核实）。年龄85岁，满80岁" for i in range(30))
    messages = [{"text": cards},
                {"text": "要继续吗？", "buttons": [{"title": "1. 好，继续回答", "payload": "/a"},
                                              {"title": "2. 更多", "payload": "/b"}]}]
    pieces = one_text(bubbles(messages), "回复数字即可。", limit=600)
    assert len(pieces) > 1 and all(len(p) <= 600 for p in pieces)
    assert pieces[-1].endswith("要继续吗？\n1. 好，继续回答\n2. 更多\n\n回复数字即可。")
    assert all("回复数字" not in p for p in pieces[:-1]) and pieces[-1].strip() != "回复数字即可。"
    assert "\n\n·" not in "".join(pieces)   # cards one under the other: half the height on a phone

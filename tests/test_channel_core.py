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


def test_a_voice_transcript_gets_the_domains_words_where_sound_alikes_were_heard(monkeypatch):
    from channels.core import heard, speech
    cases = {"我乃乃今年九十一了": "我奶奶今年九十一了",          # who
             "虎口是本地的": "户口是本地的",                   # a fact's word
             "想问问住餐的事": "想问问助餐的事",                 # a service
             "明天伤悟可以吗": "明天上午可以吗",                 # a booking's slot
             "我妈其实出头了": "我妈七十出头了",                 # an age said roughly
             "我爸爸十二了": "我爸八十二了",                     # 八 swallowed by 爸
             "户口在唐巧的": "户口在塘桥的",                     # a town where a place stands
             "坐公共汽车去": "坐公共汽车去",                     # an everyday word stays
             "唐巧这个名字好听": "唐巧这个名字好听",             # no place here: a name stays
             "评的是众读失能": "评的是众读失能"}                 # 中度 or 重度: nobody can tell
    for said, meant in cases.items():
        assert heard.as_words(said) == meant, said
    assert speech.clean("戶口在唐巧") == "户口在塘桥"
    monkeypatch.setenv("ELDERCARE_VOICE_WORDS", "off")
    assert heard.as_words("虎口是本地的") == "虎口是本地的"

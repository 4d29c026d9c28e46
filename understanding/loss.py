"""Words that say someone died, in the ways families say it — and not the words that only sound so.

"走了", "没了", "去世", "过世", "不在了", "走脱" (Wu), "前天没的", "刚走了 脑溢血", the dialect "昨天夜里
老了"; never "刚走了，去买菜了" (left the house), "低保没了" (a benefit lost), "人老了" (grew old), nor
a wish said in despair ("拖累女儿不如走了", "死了算了": actions/hardship.yml hears those). Used by
understanding/household.py (a person who died is no elder of the household) and actions/hardship.py
(whose death it was, and what follows).
"""
from __future__ import annotations

import re

# Said right after a death: how, where, when, what the family is doing now. "刚走了" alone is a
# death only with one of these after it (or nothing at all after it).
CAUSE = (r"脑溢血|脑出血|脑梗|心梗|心肌|心脏|心衰|衰竭|癌|肿瘤|病|中风|车祸|意外|摔|抢救|没救|救不过来|肺炎|新冠|"
         r"突然|安详|火化|后事|丧事|追悼|殡仪|送走|重症|ICU|走得|享年|寿终|喜丧|白事|葬|难过|伤心|心里难受|"
         r"\d+岁|[一二三四五六七八九十]{2,3}岁")
_AFTER_JUST = r"(?=\s*[，,。.!！…~～]*\s*(?:$|[^，。,.!！?？]{0,6}?(?:" + CAUSE + r")))"
# "刚走了，去买菜了", "刚走了说是回老家": leaving, not dying.
_LEAVING = r"(?!\s*[，,]?\s*(?:去|回|出门|出去|上班|买菜|吗|没多久就回))"
# When said before "老了" (dialect: died): a time, never an age or a state ("人老了", "我妈老了很多").
_WHEN = (r"(?:昨天|前天|大前天|昨晚|昨夜|夜里|半夜|凌晨|今早|今天早上|早上|上午|下午|晚上|刚刚|刚|上个月|上礼拜|上周|"
         r"前几天|前些天|年前|年初|年底|月初|月底)")
_NOT_LOST = r"(?!知觉|力气|感觉|胃口|精神|记性|办法|主意|牙|声音|反应|意识|工作|收入|钱|了?地方|了?消息|电)"
DIED = re.compile(
    r"(?<![刚才先又])走了" + _LEAVING
    + r"|刚(?:刚)?走了" + _LEAVING + _AFTER_JUST
    + r"|(?<=[月天周年拜晚夜前晨午上里号日])(?:走的|没的)"
    + r"|走咯|走脱|死脱|老脱|去世|过世|不在了|离世|病故|病逝|逝世|辞世|故去|亡故|身故|咽气|断气|没抢救过来|抢救无效|走得早"
    + r"|" + _WHEN + r"(?:里)?老了(?=\s*[，,。.!！…]*\s*(?:$|" + CAUSE + r"))"
    + r"|(?<![钱保贴作入证卡房金])(?<!房子)(?<!车子)(?<!票子)没了" + _NOT_LOST
    + r"|死了(?!算了|倒好|好了|干净|拉倒|也好|省心|省事)")
# Before the verb, a wish of the speaker's own, not a death: "不如走了", "我也想走了", "跟他去了算了".
WISH_BEFORE = re.compile(r"(?:不如|还不如|干脆|索性|想|要|也想|恨不得|巴不得|宁可|宁愿|早点|一起|跟着|跟他|跟她)\s*$")
WISH_AFTER = re.compile(r"^\s*(?:算了|拉倒|好了|倒好|干净|也好|一了百了)")


def died_at(text: str, start: int = 0, end: int | None = None):
    """The first words in text[start:end] saying that someone died (a match), not said as a wish."""
    text = text or ""
    end = len(text) if end is None else end
    for m in DIED.finditer(text, start, end):
        if WISH_BEFORE.search(text[max(0, m.start() - 4):m.start()]) or WISH_AFTER.match(text[m.end():m.end() + 6]):
            continue
        return m
    return None

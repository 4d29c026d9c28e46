"""Nothing destructive on a guess.

Restart, goodbye and 删除我的信息 act only on words that say so (or on a confirmation); when the
classifier merely guessed them, the advisor carries on as if the message were anything else.
"刚才说过了", "电话刚才说了呀" are complaints, not requests to start again: they are answered with
what was recorded and what is still missing. The confidence that counts as "sure" is deployment
configuration (ELDERCARE_SURE_CONFIDENCE, storage/settings.py).
"""
from __future__ import annotations

import re

from storage.settings import Settings

EXPLICIT_RESTART = re.compile(r"^/restart|重新开始|从头开始|从头来|重新来|重来一遍|清空|全部重新|换一位老人|换个老人|重新问")
EXPLICIT_FORGET = re.compile(r"^/forget|删除|删掉|删了|清除|注销|忘掉|不要保存|别保存|不要留|不要记|别记")
# A goodbye that wins even over "就这些" (which alone means "show what you have").
STRONG_BYE = re.compile(r"再见|拜拜|拜了|再会|晚安|明朝会|[\u4e00-\u9fff][\s，,。]*8{2}6?\s*$")   # "88" alone may be an age
# "拜拜是不可能拜拜的，我还没问完呢": not done.
NOT_DONE = re.compile(r"还没问完|没问完|还没完|不可能拜拜|不可能再见|别走|还有问题|还要问|还没说完")
EXPLICIT_BYE = re.compile(r"再见|拜拜|拜了|(?:^|[，,。\s])拜[。！!～~\s]*$|没别的了|没有别的了|没别的事|没其他|没有其他|没事了|就这些|就这样吧|"
                          r"先这样吧?$|先这样[，,。 ]*谢|不问了|知道了.{0,3}谢|晚安|再会|明朝会|"
                          r"不聊了|通话结束|问题已解答|无其他需求|没有其他需求|^\s*没了[\s，,。]*谢|退出|我走了|够了够了|咨询结束|已挂断|"
                          r"有事再来|再来找你|回头再来|没问题了|晓得了.{0,6}谢|没有要问|没什么要问|没啥要问|没什么问题了|"
                          r"就这样(?:吧|了|啊)?[。！!～~]?\s*$|[\u4e00-\u9fff][\s，,。]*8{2}6?\s*$|再见|拜拜|先下了|下线了|先走了|先忙了|"
                          r"我去忙了|知道怎么办了")
# "刚才说过了", "电话刚才说了呀", "不是说了吗": the user points at what they said before.
ALREADY_SAID = re.compile(r"(?:刚才|刚刚|前面|上面|之前|早就|已经|不是|都)(?:都|已经|就|不是)?(?:说|讲|告诉|写|填|发)(?:过|了|给)|"
                          r"说过了|讲过了|说了(?:呀|啊|嘛|吗|八遍|好几遍|几遍)|不是说了|告诉过你|怎么又问|又问|问过了|"
                          r"别老问|别再问我|老是问|不要老问|问来问去|好几遍了|记了些什么|记了什么|记下了什么|记下些什么|都记了啥")
# "不是这个意思", "我问的是…": about the question the advisor misread, never a bare answer ("不是" = no).
NOT_AN_ANSWER = re.compile(r"不是这个意思|不是那个意思|我是问|我问的是|不是问|你理解错|搞错了|弄错了|听错了")
# "算了算了，时间你们定": giving up on one question, not on the request.
KEEP_GOING = re.compile(r"等下再|等会再|等一下再|待会|回头给|晚点给|等下给|先约|约上|照约|继续约|还是约|帮我约|你们定|你们排|你们安排|你定|你排|无所谓|都行|随便|就行|就好|"
                        r"再问.{0,6}不约|不然.{0,6}不约|要是.{0,6}不约|电话联系|到时候")


def sure_confidence() -> float:
    return Settings.from_env().sure_confidence


def sure(turn, explicit: re.Pattern) -> bool:
    """The message says so in words, or the classifier is sure and nothing says otherwise."""
    text = turn.text or ""
    if explicit.search(text):
        return True
    if ALREADY_SAID.search(text):
        return False
    return turn.confidence >= sure_confidence()

"""Typing an option's number works like tapping its button."""
import pytest

from channels.numbered_choices import ChoiceMemory
from understanding.choices import choice_number


@pytest.mark.parametrize("text,number", [
    ("1", 1), (" 2 ", 2), ("２", 2), ("二", 2), ("两", 2), ("第三个", 3), ("选1", 1), ("10", 10),
    ("3。", 3), ("第2项", 2),
])
def test_choice_numbers(text, number):
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["我85岁", "一个人住", "", "1950", "第一次来"])
def test_not_a_choice(text):
    assert choice_number(text) is None


def test_memory_maps_numbers_per_sender():
    memory = ChoiceMemory()
    memory.remember("a", ["/inform{\"hukou\": true}", "/inform{\"hukou\": false}"])
    memory.remember("b", ["/more"])
    assert memory.resolve("a", "2") == "/inform{\"hukou\": false}"
    assert memory.resolve("b", "1") == "/more"
    assert memory.resolve("a", "3") == "3"       # out of range: the text as typed
    assert memory.resolve("c", "1") == "1"       # nothing offered yet
    assert memory.resolve("a", "85岁") == "85岁"


def test_memory_is_bounded():
    memory = ChoiceMemory(max_senders=2)
    for sender in "xyz":
        memory.remember(sender, ["/p"])
    assert memory.resolve("x", "1") == "1" and memory.resolve("z", "1") == "/p"

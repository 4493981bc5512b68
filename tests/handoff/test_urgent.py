import pytest

from bot.handoff.urgent import find_urgent


@pytest.mark.parametrize("text", ["子どもが虐待されているようです", "もう死にたい", "ＤＶを受けています", "dv相談", "家が火事です", "人が倒れて意識がない"])
def test_urgent(text):
    assert find_urgent(text)


@pytest.mark.parametrize("text", ["粗大ごみの出し方", "DVDを捨てたい", "火災保険の証明書", "家事代行の補助はありますか"])
def test_not_urgent(text):
    assert find_urgent(text) is None

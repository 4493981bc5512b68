"""Contract tests for the Sudachi tokenizer component (as for every Rasa tokenizer)."""

import pytest
from hypothesis import given, settings, strategies as st
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.sudachi_tokenizer import SudachiTokenizer
from bot.errors import ConfigError


def make(**config):
    return SudachiTokenizer({**SudachiTokenizer.get_default_config(), **config})


def tokens_of(tokenizer, text):
    return tokenizer.tokenize(Message(data={TEXT: text}), TEXT)


def assert_contract(text, tokens):
    for t in tokens:
        assert t.text, "no empty tokens"
        assert text[t.start:t.end] == t.text, "offsets match the text exactly"
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    "text",
    [
        "住民票の写しはどこで取れますか？",
        "😀😀",
        "マイナンバーカードABC123と全角ＡＢＣ１２３",
        "ﾏｲﾅﾝﾊﾞｰ　カード\t申請\n",
        "ごみ\x00の\x07日\x1b",
        "㍿と①と𠮷野家",
        "   ",
        "",
    ],
)
def test_contract_examples(text):
    tok = make()
    assert_contract(text, tokens_of(tok, text))


def test_ten_thousand_characters():
    text = ("粗大ごみの申し込み方法を教えてください。" * 500)[:10000]
    tokens = tokens_of(make(), text)
    assert_contract(text, tokens)
    assert tokens[-1].end >= 9990


def test_lemma_is_normalised_form():
    a = [t.lemma for t in tokens_of(make(), "引越しの申込")]
    b = [t.lemma for t in tokens_of(make(), "引っ越しの申し込み")]
    assert a == b


def test_emoji_only_keeps_a_token_so_featurizers_work():
    assert [t.text for t in tokens_of(make(), "😀")] == ["😀"]


def test_drop_pos_is_configurable():
    kept = [t.text for t in tokens_of(make(drop_pos=[]), "ごみの日？")]
    dropped = [t.text for t in tokens_of(make(drop_pos=["助詞", "補助記号"]), "ごみの日？")]
    assert kept == ["ごみ", "の", "日", "？"]
    assert dropped == ["ごみ", "日"]


def test_split_mode_c_keeps_compounds():
    assert [t.text for t in tokens_of(make(split_mode="C"), "住民票")] == ["住民票"]
    assert [t.text for t in tokens_of(make(split_mode="A"), "住民票")] == ["住民", "票"]


def test_bad_split_mode_names_the_setting():
    with pytest.raises(ConfigError, match="split_mode"):
        make(split_mode="D")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_property_contract(text):
    assert_contract(text, tokens_of(make(), text))

from hypothesis import given, settings, strategies as st

from bot.nlp.japanese import JapaneseAnalyzer, has_meaningful_text, to_katakana


def test_spelling_variants_meet(analyzer):
    assert analyzer.content_terms("引越し") == analyzer.content_terms("引っ越し")
    assert analyzer.content_terms("申込") == analyzer.content_terms("申し込み")
    assert analyzer.content_terms("ﾏｲﾅﾝﾊﾞｰ") == analyzer.content_terms("マイナンバー")


def test_kana_words_are_compared_by_reading(analyzer):
    assert analyzer.content_terms("ごみ") == analyzer.content_terms("ゴミ") == ["ゴミ"]
    assert analyzer.reading("じゅうみんひょう") == analyzer.reading("住民票") == "ジュウミンヒョウ"


def test_particles_and_stop_words_are_not_content(analyzer):
    assert analyzer.content_terms("住民票の取り方を教えてください") == ["住民", "票", "取り", "方"] or \
        "教える" not in analyzer.content_terms("住民票の取り方を教えてください")
    assert "の" not in analyzer.content_terms("住民票の写し")


def test_offsets_index_the_original_text(analyzer):
    text = "ﾏｲﾅﾝﾊﾞｰカードを㍿で😀受け取る"
    for m in analyzer.morphemes(text):
        assert text[m.start:m.end] == m.surface
        assert m.surface


def test_long_input_is_analysed_in_chunks(analyzer):
    text = "住民票の写しを取りたいです。" * 800  # 11,200 characters, > Sudachi's byte limit
    morphemes = analyzer.morphemes(text)
    assert morphemes[-1].end == len(text) - 1 or morphemes[-1].end == len(text)
    assert all(text[m.start:m.end] == m.surface for m in morphemes)


def test_meaningful_text():
    assert not has_meaningful_text("😀😀")
    assert not has_meaningful_text("？？　!!")
    assert has_meaningful_text("ごみ")
    assert has_meaningful_text("ABC")


def test_to_katakana():
    assert to_katakana("ごみ・ゴミ") == "ゴミ・ゴミ"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_property_offsets_and_no_empty_morphemes(text):
    analyzer = JapaneseAnalyzer("A")
    last_end = 0
    for m in analyzer.morphemes(text):
        assert m.surface and m.surface.strip()
        assert text[m.start:m.end] == m.surface
        assert m.start >= last_end
        last_end = m.end

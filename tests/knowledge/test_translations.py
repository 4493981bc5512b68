"""knowledge/i18n/: loading, validation, stale detection and coverage (pure, no Rasa)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.knowledge.translations import TranslationStatus, source_hash, translation_coverage


@pytest.fixture
def kb_dir(tmp_path, fixture_kb_dir) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(fixture_kb_dir, target)
    return target


def problems(kb_dir: Path) -> list[str]:
    return [str(p) for p in load_knowledge(kb_dir).problems]


def write(kb_dir: Path, rel: str, text: str) -> None:
    path = kb_dir / "i18n" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_source_hash_is_sha256_of_question_newline_answer(fixture_kb_dir):
    faq = load_knowledge(fixture_kb_dir).kb.by_id()["gomi-spray"]
    expected = hashlib.sha256(f"{faq.question}\n{faq.answer}".encode("utf-8")).hexdigest()[:12]
    assert source_hash(faq) == expected == "bfd6a320218b"


def test_fixture_translations_load_with_status(fixture_kb_dir):
    kb = load_knowledge(fixture_kb_dir).kb
    faqs = kb.by_id()
    t = kb.translations
    assert t.status("vi", faqs["juminhyo-get"]) is TranslationStatus.CURRENT
    assert t.status("vi", faqs["gomi-spray"]) is TranslationStatus.STALE
    assert t.status("vi", faqs["kokuho-join"]) is TranslationStatus.MISSING
    assert t.current("vi", faqs["gomi-spray"]) is None  # stale translations are not served
    assert t.any("vi", "gomi-spray").question == "Vứt bình xịt như thế nào?"
    assert t.city("vi").departments["gomi"].name == "Phòng Xử lý rác thải"
    assert t.city("vi").values["fee_sodai"] == "từ 500 yên một món"
    assert t.city("ko").departments == {}  # no city.yml for Korean: the Japanese is used
    assert t.glossary["住民票"]["en"] == "residence certificate"


def test_changing_the_japanese_answer_makes_every_translation_stale(kb_dir):
    path = kb_dir / "faq" / "shimin.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("本人確認書類をお持ちください。", "本人確認書類が必要です。", 1),
                    encoding="utf-8")
    kb = load_knowledge(kb_dir).kb
    faq = kb.by_id()["juminhyo-get"]
    assert [kb.translations.status(lang, faq) for lang in ("en", "vi", "ja-easy")] == [TranslationStatus.STALE] * 3
    vi = {c.language: c for c in translation_coverage(kb)}["vi"]
    assert [s.faq_id for s in vi.stale] == ["gomi-spray", "juminhyo-get"]
    assert vi.stale[1].location == "knowledge/i18n/vi/shimin.yml:3" and vi.stale[1].current == source_hash(faq)


def test_coverage_counts_current_stale_missing(fixture_kb_dir):
    report = {c.language: c for c in translation_coverage(load_knowledge(fixture_kb_dir).kb)}
    assert (report["vi"].current, len(report["vi"].stale), len(report["vi"].missing)) == (3, 1, 5)
    assert report["vi"].missing == ("kokuho-join", "kokuho-card", "tennyu-deadline", "inkan-register", "mynumber-lost")
    assert (report["ko"].current, report["ko"].missing[:1]) == (0, ("gomi-sodai-apply",))
    assert report["en"].glossary_misses == ()


def test_glossary_rendering_not_used_is_reported(kb_dir):
    path = kb_dir / "i18n" / "en" / "shimin.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("moving-in notification", "move-in form"),
                    encoding="utf-8")
    en = {c.language: c for c in translation_coverage(load_knowledge(kb_dir).kb)}["en"]
    assert [(m.faq_id, m.term, m.rendering) for m in en.glossary_misses] == [("tennyu-deadline", "転入届", "moving-in notification")]


@pytest.mark.parametrize("rel, text, expected", [
    ("de/gomi.yml", "language: de\nfaqs: []\n",
     "knowledge/i18n/de:1: 言語のフォルダー 'de' は使えません"),
    ("en/unknown.yml", "language: en\nfaqs: []\n",
     "knowledge/i18n/en/unknown.yml:1: faq/unknown.yml がありません"),
    ("en/gomi.yml", "language: vi\nfaqs: []\n",
     "knowledge/i18n/en/gomi.yml:1: language: が 'vi' ですが、フォルダーは i18n/en/ です"),
    ("en/gomi.yml", "language: en\nfaqs:\n  - id: nope\n    source: 0123abcd4567\n    question: Q\n    answer: A\n",
     "knowledge/i18n/en/gomi.yml:3: en の FAQ 'nope': この id の FAQ は faq/ にありません"),
    ("en/gomi.yml", "language: en\nfaqs:\n  - id: juminhyo-get\n    source: 0123abcd4567\n    question: Q\n    answer: A {{fee_juminhyo}}\n",
     "knowledge/i18n/en/gomi.yml:3: en の FAQ 'juminhyo-get': この FAQ は faq/shimin.yml にあります"),
    ("en/gomi.yml", "language: en\nfaqs:\n  - id: gomi-calendar\n    source: abc\n    question: Q\n    answer: A\n",
     "knowledge/i18n/en/gomi.yml:4: en の FAQ 'gomi-calendar': source は日本語の質問と回答のハッシュ（16進数12桁）です。今の日本語から作った値は"),
    ("en/gomi.yml", "language: en\nfaqs:\n  - id: gomi-calendar\n    source: 0123abcd4567\n    question: Q\n    answer: ''\n    note: x\n",
     "knowledge/i18n/en/gomi.yml:6: en の FAQ 'gomi-calendar': answer が空です"),
    ("en/gomi.yml", "language: en\nfaqs:\n  - id: gomi-calendar\n    source: 0123abcd4567\n    question: Q\n    answer: A\n    note: x\n",
     "knowledge/i18n/en/gomi.yml:7: en の FAQ 'gomi-calendar': 不明な項目 'note' です"),
    ("en/gomi.yml", "language: en\nfaqs:\n  - id: gomi-sodai-apply\n    source: 0123abcd4567\n    question: Q\n    answer: It costs {{fee_juminhyo}}.\n",
     "knowledge/i18n/en/gomi.yml:6: en の FAQ 'gomi-sodai-apply': 差し込み項目が日本語の回答と違います（ありません: {{fee_sodai}}; 日本語にないもの: {{fee_juminhyo}}）"),
    ("vi/city.yml", "language: vi\ndepartments:\n  kaigo:\n    name: Phòng Chăm sóc\n",
     "knowledge/i18n/vi/city.yml:3: 担当課 'kaigo' は city.yml の departments にありません"),
    ("glossary.yml", "terms:\n  住民票:\n    de: Meldebescheinigung\n",
     "knowledge/i18n/glossary.yml:3: 用語「住民票」: 言語 'de' は使えません"),
])
def test_problems_name_file_line_and_fix(kb_dir, rel, text, expected):
    write(kb_dir, rel, text)
    found = problems(kb_dir)
    assert any(p.startswith(expected) for p in found), found


def test_all_digit_source_keeps_its_leading_zeros(kb_dir):
    write(kb_dir, "en/gomi.yml", "language: en\nfaqs:\n  - id: gomi-calendar\n    source: 012345678901\n    question: Q\n    answer: A\n")
    kb = load_knowledge(kb_dir).kb
    assert kb.translations.any("en", "gomi-calendar").source == "012345678901"


def test_duplicate_translation_is_reported(kb_dir):
    write(kb_dir, "en/gomi.yml", "language: en\nfaqs:\n" + "  - id: gomi-calendar\n    source: 0123abcd4567\n    question: Q\n    answer: A\n" * 2)
    assert any("'gomi-calendar' の翻訳が重複しています（最初は knowledge/i18n/en/gomi.yml:3）" in p for p in problems(kb_dir))


def test_no_i18n_folder_is_fine(kb_dir):
    shutil.rmtree(kb_dir / "i18n")
    result = load_knowledge(kb_dir)
    assert result.problems == [] and result.kb.translations.faqs == {}


def test_glossary_as_a_list_of_terms(kb_dir):
    write(kb_dir, "glossary.yml", "language_pairs: [en, ja-easy]\nterms:\n  - ja: 住民票\n    en: resident record (juminhyo)\n"
                                  "    ja-easy: 住民票（じゅうみんひょう）\n  - en: no term\n")
    result = load_knowledge(kb_dir)
    assert result.kb.translations.glossary["住民票"] == {"en": "resident record (juminhyo)", "ja-easy": "住民票（じゅうみんひょう）"}
    assert [str(p) for p in result.problems] == [
        "knowledge/i18n/glossary.yml:6: 用語は ja:（日本語の用語）と言語ごとの訳語（en: …）で書いてください。"]


# --------------------------------------------------------------------------- the project's essential FAQs
def essential_ids(project_root: Path) -> list[str]:
    lines = (project_root / "knowledge" / "i18n" / "essential.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_essential_list_names_120_existing_faqs_from_every_area(project_root):
    kb = load_knowledge(project_root / "knowledge").kb
    ids = essential_ids(project_root)
    by_id = kb.by_id()
    assert len(ids) == len(set(ids)) == 120
    assert [i for i in ids if i not in by_id] == []
    assert {by_id[i].area for i in ids} == {f.area for f in kb.faqs}  # every category covered


def test_every_language_with_translations_covers_the_essential_faqs(project_root):
    """Issue 14: each translated language has (at least) the essential FAQs. Stale ones
    count (a changed Japanese text must not fail the build); missing ones do not."""
    kb = load_knowledge(project_root / "knowledge").kb
    ids = essential_ids(project_root)
    started = [lang for lang, faqs in kb.translations.faqs.items() if faqs]
    assert {"en", "ja-easy", "zh-Hans", "ko", "vi"} <= set(started)
    for language in started:
        assert [i for i in ids if kb.translations.any(language, i) is None] == [], language


@pytest.mark.parametrize("language, question, contact", [
    ("zh-Hans", "在哪里可以开住民票？", "市民课（本厅舍1楼，电话 0000-00-1111）"),
    ("ko", "주민표는 어디에서 뗄 수 있나요?", "시민과(市民課) (본청사 1층, 전화 0000-00-1111)"),
    ("vi", "Tôi có thể lấy phiếu cư trú (juminhyo) ở đâu?", "Phòng Thị dân (市民課) (Tầng 1 tòa nhà chính, điện thoại 0000-00-1111)"),
])
def test_project_answers_in_chinese_korean_vietnamese_are_filled_in_the_language(project_root, language, question, contact):
    from bot.i18n.render import contact_text, localized_answer

    kb = load_knowledge(project_root / "knowledge").kb
    faq = kb.by_id()["juminhyo-where"]
    answer = localized_answer(faq, kb, language)
    assert (answer.question, answer.body_language, answer.translated) == (question, language, True)
    # the values come from i18n/<lang>/city.yml, not the Japanese city.yml
    assert "{{" not in answer.body and "北町2丁目" in answer.body and "平日（月曜日" not in answer.body
    assert contact_text(kb.departments["shimin"], kb, language) == contact

"""The project's Portuguese (Brazil) and Filipino starter content (issue 14): the essential
FAQs of every area, current, with the city's texts in the language (pure, no Rasa)."""

from __future__ import annotations

import pytest

from bot.i18n.languages import FIL, PT_BR
from bot.i18n.render import contact_text, localized_answer
from bot.knowledge.loader import PLACEHOLDER, load_valid_knowledge
from bot.knowledge.translations import translation_coverage

LANGUAGES = (PT_BR, FIL)


@pytest.fixture(scope="module")
def kb(project_root):
    return load_valid_knowledge(project_root / "knowledge")


@pytest.mark.parametrize("language", LANGUAGES)
def test_at_least_120_current_translations_covering_every_area(kb, language):
    coverage = {c.language: c for c in translation_coverage(kb, LANGUAGES)}[language]
    assert coverage.current >= 120 and coverage.stale == ()
    translated = kb.translations.faqs[language]
    areas = {f.area for f in kb.faqs}
    assert {f.area for f in kb.faqs if f.id in translated} == areas


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_use_the_glossary(kb, language):
    coverage = {c.language: c for c in translation_coverage(kb, LANGUAGES)}[language]
    assert [(m.faq_id, m.term) for m in coverage.glossary_misses] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translated_answers_show_no_japanese_values_or_contacts(kb, language):
    """Every value a translated answer uses, and every department it names, is in the
    language's city.yml, so the resident never gets a Japanese fee or place in mid-sentence."""
    city = kb.translations.city(language)
    by_id = kb.by_id()
    for faq_id in kb.translations.faqs[language]:
        faq = by_id[faq_id]
        assert set(PLACEHOLDER.findall(faq.answer)) - {"city"} <= set(city.values), faq_id
        assert faq.department in city.departments, faq_id
        assert not {"place", "hours"} - {k for k, v in vars(city.departments[faq.department]).items() if v}, faq.department
    assert city.name and city.general_contact and city.emergency


def test_portuguese_answer_with_values_and_contact_in_portuguese(kb):
    faq = kb.by_id()["juminhyo-where"]
    answer = localized_answer(faq, kb, PT_BR)
    assert answer.translated and answer.body_language == PT_BR
    assert answer.question == "Onde posso tirar o atestado de residência (juminhyo, 住民票)?"
    assert "dias úteis (segunda a sexta-feira), das 8h30 às 17h15" in answer.body and "{{" not in answer.body
    assert contact_text(kb.departments[faq.department], kb, PT_BR) == (
        "Divisão do Cidadão (市民課) (Prédio principal, 1º andar, tel. 0000-00-1111)")


def test_filipino_answer_with_values_and_contact_in_filipino(kb):
    faq = kb.by_id()["gomi-sodai-ryokin"]
    answer = localized_answer(faq, kb, FIL)
    assert answer.translated and answer.body_language == FIL
    assert answer.body.startswith("Ang bayad ay 400 hanggang 2,000 yen bawat item, depende sa item.")
    assert contact_text(kb.departments[faq.department], kb, FIL) == (
        "Oversized Garbage Reception Center (粗大ごみ受付センター) (Sa telepono at sa internet, tel. 0000-00-6112)")

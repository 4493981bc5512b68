"""Conversations in Portuguese (Brazil) and Filipino against the real Rasa server and action
server, on the project's own knowledge base (knowledge/, with issue 14's essential FAQs
translated) and its translated questions indexed (Settings.index_translations)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import say, translated_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project_stack(fixture_settings, project_root, tmp_path_factory):
    stack = translated_stack(fixture_settings, tmp_path_factory.mktemp("project-multilingual"), timeout=400,
                             knowledge_dir=project_root / "knowledge")
    yield stack
    stack.stop()


def test_a_portuguese_question_gets_the_portuguese_answer_of_an_essential_faq(project_stack):
    sender = uuid.uuid4().hex
    [hello] = say(project_stack, "Olá", sender)
    assert hello["text"].startswith("Olá. Este é o chat de atendimento da prefeitura.") and hello["custom"]["language"] == "pt-BR"

    [answer] = say(project_stack, "Onde posso tirar o atestado de residência?", sender)
    assert answer["custom"]["type"] == "answer" and answer["custom"]["faq_id"] == "juminhyo-where"
    assert answer["custom"]["language"] == "pt-BR" and answer["custom"]["translated"] is True
    lines = answer["text"].split("\n")
    assert lines[0].startswith("Você pode tirar no balcão da Divisão do Cidadão (市民課), no 1º andar do prédio principal")
    assert "O atendimento é em dias úteis (segunda a sexta-feira), das 8h30 às 17h15." in lines[1]
    assert lines[-1] == "Contato: Divisão do Cidadão (市民課) (Prédio principal, 1º andar, tel. 0000-00-1111)"

    for short in ("OK", "ありがとう", "3"):  # never flip the language
        for message in say(project_stack, short, sender):
            assert message["custom"]["language"] == "pt-BR", (short, message)


def test_a_filipino_question_gets_the_filipino_answer_of_an_essential_faq(project_stack):
    [answer] = say(project_stack, "Paano mag-apply para sa koleksiyon ng malaking basura?", uuid.uuid4().hex)
    assert answer["custom"]["type"] == "answer" and answer["custom"]["faq_id"] == "gomi-sodai-moushikomi"
    assert answer["custom"]["language"] == "fil" and answer["custom"]["translated"] is True
    assert answer["text"].startswith("Kailangan ng reserbasyon para sa koleksiyon ng malaking basura (粗大ごみ, sodai gomi).")
    assert answer["text"].endswith("Makipag-ugnayan sa: Oversized Garbage Reception Center (粗大ごみ受付センター) "
                                   "(Sa telepono at sa internet, tel. 0000-00-6112)")

"""The LINE menus (valid, and asking questions the knowledge base answers) and `bot line` commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.line.menus import MENUS, fixed_reply, menu_messages, menu_name, welcome_messages
from bot.line.richmenu import FONT_CANDIDATES, HEIGHT, WIDTH
from tests.fakes.line_platform import FakeLinePlatform, check_messages


@pytest.mark.parametrize("name", sorted(MENUS))
def test_every_menu_is_a_valid_line_message(name):
    messages = menu_messages(name)
    assert check_messages(messages) == []
    assert messages[0]["text"] == MENUS[name].shown_text()
    assert len(messages[0]["quickReply"]["items"]) == len(MENUS[name].items)


def test_welcome_unknown_menu_and_fixed_replies_offer_the_main_menu():
    main = [i["action"]["label"] for i in menu_messages("faq")[0]["quickReply"]["items"]]
    for messages in (welcome_messages(), menu_messages("no-such-menu"), fixed_reply("文字で質問してください。")):
        assert check_messages(messages) == []
        assert [i["action"]["label"] for i in messages[-1]["quickReply"]["items"]] == main
    assert welcome_messages()[0]["text"].startswith("友だち追加ありがとうございます。")


def test_language_menu_from_the_main_menu():
    actions = {i["action"]["label"]: i["action"] for i in menu_messages("faq")[0]["quickReply"]["items"]}
    assert actions["言語 / Language"]["data"] == "menu:language"
    [message] = menu_messages("language")
    assert message["text"] == "言語を選んでください。Please choose your language."
    choices = {i["action"]["label"]: i["action"]["data"] for i in message["quickReply"]["items"]}
    assert len(choices) == 8
    assert choices["Tiếng Việt"] == '/set_language{"language": "vi"}'
    assert choices["やさしい日本語"] == '/set_language{"language": "ja-easy"}'


def test_menu_postback_data():
    assert menu_name("menu:gomi") == "gomi"
    assert menu_name("/request_human") is None and menu_name(None) is None
    actions = {i["action"]["label"]: i["action"] for i in menu_messages("faq")[0]["quickReply"]["items"]}
    assert actions["ごみ"] == {"type": "postback", "label": "ごみ", "data": "menu:gomi", "displayText": "ごみについて"}
    assert actions["人と話したい"]["data"] == "/request_human"
    assert actions["児童手当"] == {"type": "message", "label": "児童手当", "text": "児童手当の申請方法を教えてください"}


@pytest.fixture(scope="module")
def real_index(project_root):
    from bot.knowledge.index import FaqIndex, IndexDocument
    from bot.knowledge.loader import load_valid_knowledge
    from bot.nlp.japanese import JapaneseAnalyzer

    kb = load_valid_knowledge(project_root / "knowledge")
    docs = [IndexDocument(faq_id=f.id, category=f.category, department=f.department, question=f.question,
                          utterances=f.utterances if hasattr(f, "utterances") else (f.question, *f.paraphrases),
                          answer=f.answer) for f in kb.faqs]
    return FaqIndex.build(docs, JapaneseAnalyzer("A"))


QUESTIONS = sorted({item.text for menu in MENUS.values() for item in menu.items if item.text})


@pytest.mark.parametrize("question", QUESTIONS)
def test_menu_questions_are_answered_by_the_knowledge_base(real_index, question):
    """A menu button must never lead to 「お答えできません」 with the shipped knowledge base."""
    from bot.knowledge.decision import Thresholds, decide

    decision = decide(real_index.search(question), Thresholds())
    assert decision.type.value in ("answer", "clarify"), (question, decision.type, decision.candidates[:3])


def invoke(*args, env=None):
    return CliRunner(mix_stderr=False).invoke(cli, ["line", "richmenu", *args], env=env or {}, catch_exceptions=False)


def test_richmenu_show_prints_the_definition():
    result = invoke("show")
    assert result.exit_code == 0
    definition = json.loads(result.output)
    assert definition["size"] == {"width": 2500, "height": 843} and len(definition["areas"]) == 4


HAS_FONT = any(__import__("pathlib").Path(p).is_file() for p in FONT_CANDIDATES)


@pytest.mark.skipif(not HAS_FONT, reason="no Japanese font installed on this machine")
def test_richmenu_image_draws_a_2500x843_png(tmp_path):
    from PIL import Image

    result = invoke("image", str(tmp_path / "menu.png"))
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "menu.png") as img:
        assert img.size == (WIDTH, HEIGHT) and img.format == "PNG"
    assert (tmp_path / "menu.png").stat().st_size < 1_000_000


def test_richmenu_image_without_font_explains(tmp_path):
    result = CliRunner(mix_stderr=False).invoke(cli, ["line", "richmenu", "image", str(tmp_path / "m.png"), "--font", str(tmp_path / "none.ttf")])
    assert result.exit_code == 1 and "font not found" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def platform():
    p = FakeLinePlatform()
    p.start_in_thread()
    yield p
    p.stop()


def test_richmenu_upload_against_the_fake_platform(tmp_path, platform):
    from PIL import Image

    Image.new("RGB", (WIDTH, HEIGHT), "#1d6fb8").save(tmp_path / "menu.jpg", format="JPEG")
    env = {"LINE_CHANNEL_ACCESS_TOKEN": platform.access_token, "LINE_API_BASE_URL": platform.base_url,
           "LINE_DATA_API_BASE_URL": platform.base_url}
    result = invoke("upload", "--image", str(tmp_path / "menu.jpg"), env=env)
    assert result.exit_code == 0, result.stderr
    [menu_id] = platform.rich_menus
    assert f"rich menu {menu_id} uploaded" in result.output
    assert platform.default_rich_menu == menu_id and platform.rich_menu_images[menu_id][0] == "image/jpeg"
    assert platform.rich_menus[menu_id]["chatBarText"] == "メニュー"


def test_richmenu_upload_with_a_wrong_token_is_a_clear_error(tmp_path, platform):
    from PIL import Image

    Image.new("RGB", (WIDTH, HEIGHT)).save(tmp_path / "menu.png")
    env = {"LINE_CHANNEL_ACCESS_TOKEN": "wrong", "LINE_API_BASE_URL": platform.base_url}
    result = CliRunner(mix_stderr=False).invoke(cli, ["line", "richmenu", "upload", "--image", str(tmp_path / "menu.png")], env=env)
    assert result.exit_code == 1
    assert "HTTP 401" in result.stderr and "LINE_CHANNEL_ACCESS_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_richmenu_upload_needs_a_token():
    result = CliRunner(mix_stderr=False).invoke(cli, ["line", "richmenu", "upload"], env={"LINE_CHANNEL_ACCESS_TOKEN": None})
    assert result.exit_code == 1 and "set LINE_CHANNEL_ACCESS_TOKEN" in result.stderr

"""What the LINE channel says by itself: the welcome, the menus, and its fixed replies.

Menus are navigation, not questions: a menu button either opens another menu (postback
``menu:<name>``, answered by the channel) or sends a question as the resident's own
message (a message action), which then goes through the assistant like typed text. The
rich menu (bot/line/richmenu.py) opens the same menus.

Edit this module to change the menus for a city; keep labels within 20 characters and
questions phrased the way the knowledge base answers them (a test checks that).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.channels.common import PROCESSING_FAILED_TEXT
from bot.i18n.catalogue import text as catalogue_text
from bot.i18n.detect import LANGUAGE_ENTITY, SET_LANGUAGE_INTENT
from bot.i18n.languages import JA, LANGUAGES
from bot.line.messages import LineMessage, message_action, postback_action, text_message, with_quick_reply

MENU_PREFIX = "menu:"
REQUEST_HUMAN_PAYLOAD = "/request_human"

WELCOME_TEXT = (
    "友だち追加ありがとうございます。市役所のお問い合わせ窓口です。\n"
    "手続きや制度について、知りたいことを短い文で入力してください。（例：住民票の取り方、粗大ごみの出し方）\n"
    "下のボタンや、画面下のメニューからも選べます。"
)
NOT_TEXT_TEXT = "申し訳ありません。スタンプや画像、動画、音声、ファイルにはお答えできません。知りたいことを文字で質問してください。"
LOCATION_TEXT = (
    "申し訳ありません。位置情報にはお答えできません。送っていただいた位置情報は保存していません。"
    "知りたいことを文字で質問してください。"
)
GROUP_TEXT = (
    "招待ありがとうございます。申し訳ありませんが、グループやトークルームではご質問にお答えできません。"
    "このアカウントと1対1のトークで、文字で質問してください。"
)
ERROR_TEXT = PROCESSING_FAILED_TEXT


@dataclass(frozen=True)
class MenuItem:
    """One button: opens ``menu`` (another menu), or sends ``text`` (a question), or ``payload``."""

    label: str
    text: str | None = None
    menu: str | None = None
    payload: str | None = None
    display_text: str | None = None

    def action(self) -> dict:
        if self.menu is not None:
            return postback_action(self.label, f"{MENU_PREFIX}{self.menu}", self.display_text or self.label)
        if self.payload is not None:
            return postback_action(self.label, self.payload, self.display_text or self.label)
        return message_action(self.label, self.text or self.label)


@dataclass(frozen=True)
class Menu:
    name: str
    text: str
    items: tuple[MenuItem, ...]
    text_key: str | None = None  # the text from the catalogue instead (read when shown, not at import)

    def shown_text(self) -> str:
        return catalogue_text(JA, self.text_key) if self.text_key else self.text


HUMAN = MenuItem("人と話したい", payload=REQUEST_HUMAN_PAYLOAD)
LANGUAGE_MENU = "language"


def set_language_payload(code: str) -> str:
    """The payload of a language choice: it wins over detection (bot/i18n/detect.py)."""
    return f"/{SET_LANGUAGE_INTENT}{json.dumps({LANGUAGE_ENTITY: code})}"


# On LINE, where ruby is not available, やさしい日本語 is the choice for residents who
# need furigana on the web.
LANGUAGE = MenuItem("言語 / Language", menu=LANGUAGE_MENU, display_text="言語 / Language")

MENUS: dict[str, Menu] = {
    "faq": Menu(
        "faq",
        "よく寄せられるご質問です。下のボタンから選ぶか、知りたいことを入力してください。",
        (
            MenuItem("ごみ", menu="gomi", display_text="ごみについて"),
            MenuItem("手続き", menu="tetsuzuki", display_text="手続きについて"),
            MenuItem("住民票の写し", text="住民票の写しはどこで取れますか"),
            MenuItem("マイナンバーカード", text="マイナンバーカードの申請方法を教えてください"),
            MenuItem("児童手当", text="児童手当の申請方法を教えてください"),
            MenuItem("市役所の開庁時間", text="市役所の開庁時間を教えてください"),
            HUMAN,
            LANGUAGE,
        ),
    ),
    LANGUAGE_MENU: Menu(
        LANGUAGE_MENU,
        "",
        tuple(MenuItem(lang.name, payload=set_language_payload(lang.code)) for lang in LANGUAGES.values()),
        text_key="line.language_menu",
    ),
    "gomi": Menu(
        "gomi",
        "ごみについて、知りたいことを選んでください。ほかのことは文字で入力してください。",
        (
            MenuItem("ごみの分け方", text="ごみの分け方を教えてください"),
            MenuItem("収集日", text="ごみの収集日を知りたい"),
            MenuItem("粗大ごみ", text="粗大ごみの出し方を教えてください"),
            MenuItem("家電の捨て方", text="エアコンやテレビの捨て方を教えてください"),
            MenuItem("電池の捨て方", text="電池の捨て方を教えてください"),
            HUMAN,
        ),
    ),
    "tetsuzuki": Menu(
        "tetsuzuki",
        "手続きについて、知りたいことを選んでください。ほかのことは文字で入力してください。",
        (
            MenuItem("転入（引っ越してきた）", text="転入の手続きを教えてください"),
            MenuItem("転出（引っ越す）", text="転出届を出したい"),
            MenuItem("住民票の写し", text="住民票の写しはどこで取れますか"),
            MenuItem("印鑑登録", text="印鑑登録をしたい"),
            MenuItem("マイナンバーカード", text="マイナンバーカードの申請方法を教えてください"),
            MenuItem("国民健康保険", text="国民健康保険に入る手続きを教えてください"),
            MenuItem("戸籍謄本", text="戸籍謄本の取り方を教えてください"),
            HUMAN,
        ),
    ),
}
MAIN_MENU = "faq"


def menu_name(postback_data: str | None) -> str | None:
    """The menu a postback opens (``menu:gomi`` → ``gomi``), or None for other postbacks."""
    if postback_data and postback_data.startswith(MENU_PREFIX):
        return postback_data[len(MENU_PREFIX):]
    return None


def menu_messages(name: str) -> list[LineMessage]:
    """The menu as a text message with quick-reply buttons (the main menu for unknown names)."""
    menu = MENUS.get(name) or MENUS[MAIN_MENU]
    return with_quick_reply([text_message(menu.shown_text())], [item.action() for item in menu.items])


def welcome_messages() -> list[LineMessage]:
    """Sent on follow: the welcome and the main menu's buttons."""
    menu = MENUS[MAIN_MENU]
    return with_quick_reply([text_message(WELCOME_TEXT)], [item.action() for item in menu.items])


def fixed_reply(text: str) -> list[LineMessage]:
    """A fixed text with the main menu's buttons, so the resident can go on."""
    return with_quick_reply([text_message(text)], [item.action() for item in MENUS[MAIN_MENU].items])

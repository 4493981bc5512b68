"""Recognise questions about one resident's own case, which only staff can look up.

「私の児童手当、まだ振り込まれていません」「先週出した申請はどうなりましたか」 share
their words with general FAQs (児童手当の支給日, 申請の方法) but ask for the status of a
particular case. The assistant must not answer them with a general FAQ as if it knew;
it says so and gives the department's contact.

The rule: a reference to the resident's own case (a first-person or family possessive,
or something the resident did recently) together with a question about status, result,
or a personal figure (「私の住民税はいくら」, only with a strict possessive or the
resident's own action). General questions with 私 (「私は住民票を取りたい」) do not match,
nor do how-to questions that mention a family member (「子どもが熱を出したけど、どうしても
仕事を休めない」, 「手帳はまだ持っていない」).
Quoting a case number (「受付番号1234の…」「申請番号は…」) is always about one's own case.
"""

from __future__ import annotations

import re
import unicodedata

_OWNER = (
    r"(?:私|わたし|あたし|僕|ぼく|俺|おれ|自分|うち|我が家|わが家|母|父|夫|妻|主人|家内|嫁|"
    r"息子|娘|子ども|子供|こども|祖母|祖父|親|兄|姉|弟|妹|義母|義父|両親|家族|おばあちゃん|おじいちゃん)"
)
# 「私の児童手当」「母の介護認定」「うちの固定資産税」
_POSSESSIVE = re.compile(_OWNER + r"(?:の|が|は)")
# Strictly the resident's own: 「私の…」「うちの子の…」「私の場合」 (not 「私は…」).
_OWN = re.compile(_OWNER + r"の|(?:私|自分|うち)の場合")
# A figure of one's own case: 「私の住民税はいくら」「父の未納の期間を教えて」.
_FIGURE = re.compile(r"(?:いくら|金額|評価額|税額|期間|何点|何日)")
_DID = (r"(?:出した|だした|申請した|申し込んだ|申込んだ|送った|予約した|電話した|届けた|提出した|払った|納めた|"
        r"手続きした|頼んだ|(?:申請|申し込み|申込み?|予約|手続き|届け?|提出)を(?:した|しました|出した|出しました))")
# 「先週出した申請」「昨日電話した件」「今朝予約した粗大ごみ」「私が申請したパスポート」
# 「申請をしたけど…」「予約したのに…」: something the resident did, then a question about it.
_OWN_ACTION = re.compile(
    r"(?:(?:先週|先月|昨日|きのう|おととい|今朝|この前|このまえ|以前|前に|さっき|先日|去年|今月|今日)[^。？?]{0,15}?"
    + _DID + r"|" + _OWNER + r"が" + _DID + r"|" + _DID + r"(?:けど|けれど|のに|んですが|んだけど|が、)"
    + r"|" + _DID + r"[^\s。？?、]{1,8}(?:は|って))"
)
# Status, result or figures of a case (with a possessive: 「私の…はまだですか」).
_STATUS = re.compile(
    r"(?:まだ(?!.*(?:大丈夫|間に合))(?!持って|もって|作って|つくって|取って|とって|決めて|わから|分から|小さ|若)|"
    r"どうなって|どうなった|どうなりました|進んで|進み具合|状況|結果|受理され|受付され|受け付けられ|"
    r"届いて(?:ない|いない|ません|ます|いますか|る)|届きましたか|届かない|届きません|来ない|来ません|(?<!で)きません|"
    r"通りました|通った(?:か|の)|受かった|不備|"
    r"何点|何段階|何番(?!か忘れ|かわから|か分から)|番号を教え|いくらに|いくらだった|いくらもらえ|いくら払|金額を教え|"
    r"なぜ|なんで(?!す|しょ)|どうして(?!も)|高いのは|高すぎ|間違って|入って(?:ない|いない|ません)|振り込まれて(?:ない|いない|ません)|"
    r"いつ(?:振り込|入金|入る|入り|もらえ|届|決ま|わか|分か|結果|でき))"
)
# Looking something up about a case the resident started (with a recent own action).
_LOOKUP = re.compile(r"(?:確認したい|確認して|調べて|できてますか|できていますか|終わって|済んで|大丈夫)")


# A case or customer number followed by the number itself (or its masking placeholder).
_CASE_NUMBER = re.compile(
    r"(?:受付|申請|整理|管理|受理|予約|引換|交付|お客様|問い?合わ?せ)番号\s*(?:は|が|:)?\s*(?:[0-9]|\[番号\])"
)


def is_personal_case(text: str) -> bool:
    """True when the text asks about the status or figures of the resident's own case."""
    t = unicodedata.normalize("NFKC", text)
    if _CASE_NUMBER.search(t):
        return True
    own_action = bool(_OWN_ACTION.search(t))
    if _STATUS.search(t):
        return own_action or bool(_POSSESSIVE.search(t))
    if _FIGURE.search(t) and (_OWN.search(t) or own_action):
        return True
    return own_action and bool(_LOOKUP.search(t))

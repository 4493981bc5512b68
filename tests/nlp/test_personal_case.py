import pytest

from bot.nlp.personal_case import is_personal_case


@pytest.mark.parametrize(
    "text",
    [
        "私の国民健康保険料の通知、まだ届いていません",
        "父の年金はいつ振り込まれるんですか、まだ入っていないんです",
        "うちの住民税が去年より高いのはどうしてですか",
        "三日前に出した…いや、先週出した転入届はちゃんと受理されてますか",
        "昨日申請したマイナンバーカードはできてますか",
        "妻の保育料は何段階になりますか",
        "私の課税額はいくらになりますか",
    ],
)
def test_personal_cases(text):
    assert is_personal_case(text)


@pytest.mark.parametrize(
    "text",
    [
        "私は住民票を取りたいです",
        "児童手当はいつ振り込まれますか",
        "母の介護認定の申請はどこでできますか",
        "夫が亡くなったら年金はどうなりますか",
        "うちの子が熱を出したけど休日に診てくれる病院は？",
        "息子が就職したら国保はどうなるんでしょう",
        "粗大ごみの出し方",
        "私の住所の近くの避難所を知りたい",
    ],
)
def test_general_questions_are_not_personal(text):
    assert not is_personal_case(text)


@pytest.mark.parametrize("text", ["妻が申請した児童手当の認定はもう終わっていますか", "おととい出した届出はどうなりましたか"])
def test_own_actions_with_status(text):
    assert is_personal_case(text)


@pytest.mark.parametrize(
    "text", ["申請番号は５６７８です。パスポートはできていますか", "整理番号［番号］の件で電話しました", "お問い合わせ番号：5555について"]
)
def test_quoting_a_case_number_is_personal(text):
    assert is_personal_case(text)


@pytest.mark.parametrize("text", ["受付番号とは何ですか", "申請番号はどこに書いてありますか"])
def test_asking_about_case_numbers_in_general_is_not_personal(text):
    assert not is_personal_case(text)


@pytest.mark.parametrize("text", [
    "申請をしたけど、結果はいつわかりますか",
    "予約した本はもう届いてますか",
    "私の場合、延滞金はいくらになりますか",
    "うちの子は保育園の選考に通りましたか",
    "母の年金の未納期間を教えてほしい",
    "先週出した転入届に不備はありませんでしたか",
])
def test_more_ways_of_asking_about_ones_own_case(text):
    assert is_personal_case(text)


@pytest.mark.parametrize("text", [
    "子どもが熱を出したけど、どうしても仕事を休めない",  # どうしても is not どうして
    "手帳はまだ持っていないのですが、サービスは使えますか",  # not yet having is not a status
    "自分のマイナンバーが何番か忘れた",  # how to find it out: a general FAQ
    "家の中から粗大ごみを運び出すことはできません。手伝ってもらえますか",  # できません is not 来ません
    "私は75歳ですが、介護保険料はいくらですか",  # 私は is not 私の
    "予約した粗大ごみはキャンセルできますか",
])
def test_how_to_questions_that_mention_oneself_are_not_personal(text):
    assert not is_personal_case(text)

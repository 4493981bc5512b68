"""The review pages of the staff console, as an aiohttp sub-application.

``create_review_app(settings)`` returns an application that the console mounts under
``/review`` behind its log-in and CSRF middleware (this app has no authentication of its
own). Forms carry the console's CSRF token as the hidden field ``_csrf`` when the
console put it in ``request["csrf_token"]``; the staff member's name, when the console
provides it (``request["staff_name"]`` or ``request["username"]``), is stored with each
review decision.

Pages: the grouped list of unanswered questions with filters and the four actions,
a group's details, a new-FAQ draft form, retraining with progress, the dashboard, CSV.
All HTML is server-rendered; charts are inline SVG (no JavaScript, no CDN).
"""

from __future__ import annotations

from collections import OrderedDict
from html import escape

from aiohttp import web

from bot.errors import MadoguchiError
from bot.i18n.languages import html_lang, is_japanese, staff_label
from bot.review.knowledge_edit import FaqDraft, faq_files, foreign_language
from bot.review.retrain import RetrainJob
from bot.review.service import ReviewService
from bot.review.web_common import (
    FLASHES, OUTCOME_LABELS, RETRAIN, SERVICE, SETTINGS, back_query, blocking, csrf_field, errors_html, faq_datalist,
    filter_form, group_actions, language_summary, link, local_time, outcome_summary, page, parse_ids, redirect, review_filters, staff_name,
    stylesheet, training_pending,
)
from bot.review.web_reports import dashboard_page, export_csv, retrain_page, retrain_start, retrain_status
from bot.settings import Settings

def _lang_attr(text: str, language: str | None = None) -> str:
    """` lang="vi"` for a resident's text in another language (screen readers read it right)."""
    code = (None if is_japanese(language) else language) if language else foreign_language(text)
    return f' lang="{escape(html_lang(code))}"' if code else ""


# --------------------------------------------------------------------------- pages
async def index(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    filters, raw, errors = review_filters(request)
    groups = await blocking(service.groups, filters, raw["sort"])
    channels, categories, languages = await blocking(
        lambda: (service.log.channels(), service.log.categories(), service.log.languages()))
    kb = await blocking(service.knowledge)
    titles = {f.id: f.question for f in kb.faqs}
    pending = await blocking(training_pending, service.settings)
    parts = [errors_html(errors), filter_form(request, raw, channels, categories, link(request, "review-index"),
                                              languages=languages)]
    if pending:
        parts.append(f'<div class="banner">ナレッジが変更されています。<a href="{escape(link(request, "review-retrain"))}">学習</a>すると応答に反映されます。</div>')
    total = sum(g.count for g in groups)
    parts.append(f'<p class="meta">{len(groups)}グループ・{total}件の未対応の質問。'
                 f'<a href="{escape(link(request, "review-export", {**raw, "kind": "groups"}))}">CSVで書き出す</a></p>')
    if not groups:
        parts.append('<p class="muted">未対応の質問はありません。</p>')
    back = {k: v for k, v in raw.items() if v}
    for g in groups[:200]:
        texts = g.texts()
        others = [(t, n) for t, n in texts if t != g.label]  # the label may be a less frequent Japanese text
        items = "".join(f"<li{_lang_attr(t)}>{escape(t)}{f'（{n}）' if n > 1 else ''}</li>" for t, n in texts[:50])
        more = f'<li class="muted">ほか{len(texts) - 50}種類</li>' if len(texts) > 50 else ""
        ch = "・".join(f"{escape(c)} {n}" for c, n in g.channels().most_common())
        cat = f"／分野: {escape(g.category())}" if g.category() else ""
        href = link(request, "review-group", back, key=str(g.key))
        parts.append(
            f'<article class="group" data-key="{g.key}"><h2><span class="count">{g.count}件</span>'
            f'<a href="{escape(href)}">「{escape(g.label)}」</a></h2>'
            f'<p class="meta">最新 {local_time(g.newest)}／{escape(outcome_summary(g))}／{ch}{cat}'
            f'／言語: {escape(language_summary(g))}</p>'
            f'<p class="examples">{"".join(f"「<span{_lang_attr(t)}>{escape(t)}</span>」" for t, _ in others[:3])}</p>'
            f"<details><summary>質問文（{len(texts)}種類）</summary><ul>{items}{more}</ul></details>"
            f"{group_actions(request, g, titles, back)}</article>"
        )
    if len(groups) > 200:
        parts.append(f'<p class="muted">ほか{len(groups) - 200}グループ。期間やチャネルで絞り込んでください。</p>')
    parts.append(await blocking(faq_datalist, service))
    return page(request, "未回答の質問", "".join(parts), here="review-index")


async def group_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    try:
        key = int(request.match_info["key"])
    except ValueError:
        raise web.HTTPBadRequest(text="グループ番号は数字です。") from None
    filters, raw, _ = review_filters(request)
    groups = await blocking(service.groups, filters, raw["sort"])
    group = next((g for g in groups if any(q.id == key for q in g.questions)), None)
    if group is None:
        return page(request, "グループが見つかりません",
                     f'<p>このグループはすでに対応済みか、条件に合いません。<a href="{escape(link(request, "review-index"))}">一覧へ戻る</a></p>',
                     status=404)
    kb = await blocking(service.knowledge)
    titles = {f.id: f.question for f in kb.faqs}
    back = {k: v for k, v in raw.items() if v}
    rows = "".join(
        f"<tr><td>{local_time(q.created)}</td><td>{escape(q.channel)}</td><td>{escape(staff_label(q.language))}</td>"
        f"<td>{escape(OUTCOME_LABELS.get(q.outcome, q.outcome))}</td>"
        f"<td>{escape(q.next_action or '')}</td><td{_lang_attr(q.text, q.language)}>{escape(q.text)}</td></tr>"
        for q in sorted(group.questions, key=lambda q: q.created, reverse=True)[:500]
    )
    ids = ",".join(str(i) for i in group.ids)
    # Masked texts and texts in other languages are not offered checked: a Japanese FAQ's
    # paraphrases are Japanese (knowledge_edit.usable_texts skips them with the reason).
    checks = "".join(
        f'<li><label><input type="checkbox" name="texts" value="{escape(t)}"'
        f'{"" if "［" in t or foreign_language(t) else " checked"}> <span{_lang_attr(t)}>{escape(t)}</span>'
        f"{f'（{n}）' if n > 1 else ''}</label></li>"
        for t, n in group.texts()[:200]
    )
    suggestions = "".join(
        f'<li><button class="suggest" name="faq_choice" value="{escape(s.faq_id)}">「{escape(titles.get(s.faq_id, s.question))}」に追加</button>'
        f' <span class="muted">{escape(s.faq_id)}・候補になった回数 {s.votes}・平均スコア {s.score:.2f}</span></li>'
        for s in group.suggestions
    )
    back_fields = "".join(f'<input type="hidden" name="back_{k}" value="{escape(v)}">' for k, v in back.items())
    body = (
        f'<p class="meta">{group.count}件／最新 {local_time(group.newest)}／最初 {local_time(group.oldest)}／{escape(outcome_summary(group))}'
        f'／言語: {escape(language_summary(group))}</p>'
        f'<section><h2>言い換えとして既存のFAQに追加</h2>'
        f'<form method="post" action="{escape(link(request, "review-paraphrase"))}">{csrf_field(request)}'
        f'<input type="hidden" name="ids" value="{ids}">{back_fields}<p>追加する文を選んでください（個人情報を伏せた文は追加できません）。</p>'
        f"<ul>{checks}</ul><ul>{suggestions}</ul>"
        f'<input type="text" name="faq_id" list="faq-ids" placeholder="FAQのIDを入力" aria-label="追加先のFAQのID">'
        f'<button type="submit" class="secondary">このFAQに追加</button></form></section>'
        f"<section><h2>そのほかの対応</h2>{group_actions(request, group, titles, back)}</section>"
        f"<section><h2>質問（新しい順）</h2><table><tr><th>日時</th><th>チャネル</th><th>言語</th><th>結果</th><th>その後</th><th>質問</th></tr>"
        f"{rows}</table></section>{await blocking(faq_datalist, service)}"
    )
    return page(request, f"「{group.label}」", body, here="review-index")


async def paraphrase(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = parse_ids(form.get("ids"))
    faq_id = (form.get("faq_choice") or form.get("faq_id") or "").strip()
    back = back_query(form)
    if not faq_id:
        raise redirect(request, "review-index", "追加先のFAQを選ぶか、IDを入力してください。", "error", back)
    texts = form.getall("texts", None)
    try:
        outcome = await blocking(service.add_paraphrases, ids, faq_id, texts, staff_name(request))
    except MadoguchiError as exc:
        raise redirect(request, "review-index", f"追加できませんでした。{exc}", "error", back) from None
    raise redirect(request, "review-index", outcome.summary(), "ok", back)


async def draft_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    ids = parse_ids(request.query.get("ids"))
    try:
        draft = await blocking(service.draft, ids)
    except MadoguchiError as exc:
        raise redirect(request, "review-index", str(exc), "error") from None
    return await _draft_form(request, draft, ids)


async def _draft_form(request: web.Request, draft: FaqDraft, ids: list[int], errors: list[str] = (), status: int = 200) -> web.Response:
    service = request.app[SERVICE]
    kb = await blocking(service.knowledge)
    files = await blocking(faq_files, service.settings.knowledge_dir)
    file_opts = "".join(
        f'<option value="{escape(f.path.name)}"{" selected" if f.path.name == draft.file else ""}>{escape(f.category)}（{escape(f.path.name)}）</option>'
        for f in files)
    dept_opts = "".join(
        f'<option value="{escape(d.id)}"{" selected" if d.id == draft.department else ""}>{escape(d.name)}</option>'
        for d in kb.departments.values())
    body = (
        f"{errors_html(list(errors))}"
        f'<form method="post" action="{escape(link(request, "review-new-faq"))}">{csrf_field(request)}'
        f'<input type="hidden" name="ids" value="{",".join(str(i) for i in ids)}">'
        f'<p><label>ID（英小文字・数字・ハイフン）<br><input type="text" name="id" value="{escape(draft.id)}" required pattern="[a-z0-9][a-z0-9_-]*"></label></p>'
        f'<p><label>ファイル（分野）<br><select name="file">{file_opts}</select></label></p>'
        f'<p><label>担当課<br><select name="department"><option value="">ファイルの担当課</option>{dept_opts}</select></label></p>'
        f'<p><label>質問<br><input type="text" name="question" value="{escape(draft.question)}" size="60" required></label></p>'
        f'<p><label>言い換え（1行に1つ）<br><textarea name="paraphrases" rows="6">{escape(chr(10).join(draft.paraphrases))}</textarea></label></p>'
        f'<p><label>回答（です・ます、短い文で）<br><textarea name="answer" rows="6" required>{escape(draft.answer)}</textarea></label></p>'
        f'<p><label>URL（任意）<br><input type="text" name="url" value="{escape(draft.url or "")}" size="60"></label></p>'
        f'<button type="submit">FAQを追加する</button> '
        f'<a class="button secondary" href="{escape(link(request, "review-index"))}">やめる</a></form>'
    )
    return page(request, "新しいFAQ", body, here="review-index", status=status)


async def new_faq(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = parse_ids(form.get("ids"))
    draft = FaqDraft(
        id=(form.get("id") or "").strip(),
        question=(form.get("question") or "").strip(),
        answer=(form.get("answer") or "").strip(),
        paraphrases=[line.strip() for line in (form.get("paraphrases") or "").splitlines() if line.strip()],
        department=(form.get("department") or "").strip() or None,
        file=(form.get("file") or "").strip(),
        url=(form.get("url") or "").strip() or None,
    )
    try:
        outcome = await blocking(service.create_faq, ids, draft, staff_name(request))
    except MadoguchiError as exc:
        return await _draft_form(request, draft, ids, [f"追加できませんでした。{exc}"], status=400)
    raise redirect(request, "review-index", outcome.summary())


async def out_of_scope(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = parse_ids(form.get("ids"))
    try:
        outcome = await blocking(service.mark_out_of_scope, ids, form.get("train") == "1", staff_name(request))
    except MadoguchiError as exc:
        raise redirect(request, "review-index", str(exc), "error", back_query(form)) from None
    raise redirect(request, "review-index", outcome.summary(), "ok", back_query(form))


async def dismiss(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = parse_ids(form.get("ids"))
    try:
        outcome = await blocking(service.dismiss, ids, staff_name(request))
    except MadoguchiError as exc:
        raise redirect(request, "review-index", str(exc), "error", back_query(form)) from None
    raise redirect(request, "review-index", outcome.summary(), "ok", back_query(form))


# --------------------------------------------------------------------------- app
def create_review_app(settings: Settings, service: ReviewService | None = None,
                      retrain_job: RetrainJob | None = None) -> web.Application:
    """The review pages as an aiohttp application, to be mounted under ``/review``.

    Args:
        settings: Paths of the installation (knowledge, var, models) and the Rasa URL.
        service: The review service (default: created at start-up from ``settings``).
        retrain_job: The retraining job (default: one per application).
    """
    app = web.Application()
    app[SETTINGS] = settings
    app[FLASHES] = OrderedDict()
    app[RETRAIN] = retrain_job or RetrainJob(settings)

    async def open_service(app_: web.Application) -> None:
        # Opening the database and Sudachi happens at start-up, never at import.
        app_[SERVICE] = service or await blocking(ReviewService, settings)

    app.on_startup.append(open_service)
    app.router.add_get("/", index, name="review-index")
    app.router.add_get("/group/{key}", group_page, name="review-group")
    app.router.add_post("/paraphrase", paraphrase, name="review-paraphrase")
    app.router.add_get("/draft", draft_page, name="review-draft")
    app.router.add_post("/new-faq", new_faq, name="review-new-faq")
    app.router.add_post("/out-of-scope", out_of_scope, name="review-out-of-scope")
    app.router.add_post("/dismiss", dismiss, name="review-dismiss")
    app.router.add_get("/retrain", retrain_page, name="review-retrain")
    app.router.add_post("/retrain", retrain_start)
    app.router.add_get("/retrain/status", retrain_status, name="review-retrain-status")
    app.router.add_get("/dashboard", dashboard_page, name="review-dashboard")
    app.router.add_get("/export.csv", export_csv, name="review-export")
    app.router.add_get("/review.css", stylesheet, name="review-css")
    return app

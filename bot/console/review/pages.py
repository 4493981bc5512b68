"""The review's list of unanswered questions, a group's page, the new-FAQ draft, and the four actions."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from bot.console.render import fragment, join
from bot.console.review.common import (
    CHECKED, NOTHING, OUTCOME_LABELS, SERVICE, back_query, blocking, csrf_field, errors_html, faq_datalist,
    filter_form, group_actions, hidden_fields, language_summary, link, local_time, options, outcome_summary, page,
    parse_ids, redirect, review_filters, staff_name, training_pending,
)
from bot.errors import MadoguchiError
from bot.i18n.languages import html_lang, is_japanese, staff_label
from bot.review.knowledge_edit import FaqDraft, faq_files, foreign_language

MAX_GROUPS = 200  # groups on the list page; more are counted
MAX_TEXTS = 50  # texts of a group on the list page


def _lang_attr(text: str, language: str | None = None) -> Markup:
    """` lang="vi"` for a resident's text in another language (screen readers read it right)."""
    code = (None if is_japanese(language) else language) if language else foreign_language(text)
    return Markup(' lang="{}"').format(html_lang(code)) if code else NOTHING


def _times(n: int) -> str:
    return f"（{n}）" if n > 1 else ""


async def index(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    filters, raw, errors = review_filters(request)
    groups = await blocking(service.groups, filters, raw["sort"])
    channels, categories, languages = await blocking(
        lambda: (service.log.channels(), service.log.categories(), service.log.languages()))
    kb = await blocking(service.knowledge)
    titles = {f.id: f.question for f in kb.faqs}
    pending = await blocking(training_pending, service.settings)
    back = {k: v for k, v in raw.items() if v}
    cards = []
    for g in groups[:MAX_GROUPS]:
        texts = g.texts()
        others = [(t, n) for t, n in texts if t != g.label]  # the label may be a less frequent Japanese text
        cards.append(fragment(
            "review/group_card.html",
            key=g.key, count=g.count, href=link(request, "review-group", back, key=str(g.key)), label=g.label,
            newest=local_time(g.newest), outcomes=outcome_summary(g),
            channels="・".join(f"{c} {n}" for c, n in g.channels().most_common()),
            category=f"／分野: {g.category()}" if g.category() else "", languages=language_summary(g),
            examples=join(fragment("review/example.html", lang=_lang_attr(t), text=t) for t, _ in others[:3]),
            kinds=len(texts),
            items=join(fragment("review/text_item.html", lang=_lang_attr(t), text=t, times=_times(n))
                       for t, n in texts[:MAX_TEXTS]),
            more=fragment("review/more_texts.html", count=len(texts) - MAX_TEXTS) if len(texts) > MAX_TEXTS else NOTHING,
            actions=group_actions(request, g, titles, back),
        ))
    body = fragment(
        "review/index.html",
        errors=errors_html(errors),
        filters=filter_form(request, raw, channels, categories, link(request, "review-index"), languages=languages),
        banner=fragment("review/retrain_banner.html", href=link(request, "review-retrain")) if pending else NOTHING,
        group_count=len(groups), total=sum(g.count for g in groups),
        export_href=link(request, "review-export", {**raw, "kind": "groups"}),
        empty=fragment("review/no_groups.html") if not groups else NOTHING,
        groups=join(cards),
        more=fragment("review/more_groups.html", count=len(groups) - MAX_GROUPS) if len(groups) > MAX_GROUPS else NOTHING,
        datalist=await blocking(faq_datalist, service),
    )
    return page(request, "未回答の質問", body, here="review-index")


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
                    fragment("review/group_not_found.html", href=link(request, "review-index")), status=404)
    kb = await blocking(service.knowledge)
    titles = {f.id: f.question for f in kb.faqs}
    back = {k: v for k, v in raw.items() if v}
    rows = join(
        fragment("review/question_row.html", created=local_time(q.created), channel=q.channel,
                 language=staff_label(q.language), outcome=OUTCOME_LABELS.get(q.outcome, q.outcome),
                 next_action=q.next_action or "", lang=_lang_attr(q.text, q.language), text=q.text)
        for q in sorted(group.questions, key=lambda q: q.created, reverse=True)[:500])
    # Masked texts and texts in other languages are not offered checked: a Japanese FAQ's
    # paraphrases are Japanese (knowledge_edit.usable_texts skips them with the reason).
    checks = join(
        fragment("review/text_check.html", text=t, checked=NOTHING if "［" in t or foreign_language(t) else CHECKED,
                 lang=_lang_attr(t), times=_times(n))
        for t, n in group.texts()[:200])
    suggestions = join(
        fragment("review/suggestion_item.html", faq_id=s.faq_id, title=titles.get(s.faq_id, s.question), votes=s.votes,
                 score=f"{s.score:.2f}")
        for s in group.suggestions)
    body = fragment(
        "review/group.html",
        count=group.count, newest=local_time(group.newest), oldest=local_time(group.oldest),
        outcomes=outcome_summary(group), languages=language_summary(group),
        paraphrase_action=link(request, "review-paraphrase"), csrf=csrf_field(request),
        ids=",".join(str(i) for i in group.ids), back=hidden_fields((f"back_{k}", v) for k, v in back.items()),
        checks=checks, suggestions=suggestions, actions=group_actions(request, group, titles, back), rows=rows,
        datalist=await blocking(faq_datalist, service),
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


async def _draft_form(request: web.Request, draft: FaqDraft, ids: list[int], errors: list[str] = (),
                      status: int = 200) -> web.Response:
    service = request.app[SERVICE]
    kb = await blocking(service.knowledge)
    files = await blocking(faq_files, service.settings.knowledge_dir)
    body = fragment(
        "review/draft.html",
        errors=errors_html(list(errors)), action=link(request, "review-new-faq"), csrf=csrf_field(request),
        ids=",".join(str(i) for i in ids), id=draft.id,
        files=options(((f.path.name, f"{f.category}（{f.path.name}）") for f in files), draft.file),
        departments=options(((d.id, d.name) for d in kb.departments.values()), draft.department),
        question=draft.question, paraphrases="\n".join(draft.paraphrases), answer=draft.answer, url=draft.url or "",
        cancel_href=link(request, "review-index"),
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

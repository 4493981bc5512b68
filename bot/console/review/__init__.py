"""The review pages of the staff console, as an aiohttp sub-application mounted under ``/review``.

``create_review_app(settings)`` returns the application that the console mounts under
``/review`` (``bot/console/app.py``) behind its log-in and CSRF middleware (this app has no
authentication of its own). The pages use the console's layout (``templates/base.html``),
templates (``templates/review/``, ``templates/charts/``) and stylesheet
(``static/console.css``); the workflow they drive is ``bot/review/`` (``ReviewService``,
``RetrainJob``), which holds no HTML.

Forms carry the console's CSRF token as the hidden field ``_csrf``; the staff member's
name (``request["staff_name"]`` or ``request["username"]``) is stored with each review
decision.

Pages: the grouped list of unanswered questions with filters and the four actions
(``pages.py``), a group's details, a new-FAQ draft form, retraining with progress, the
dashboard, CSV (``reports.py``). All HTML is server-rendered; charts are inline SVG
(``charts.py``; no JavaScript, no CDN).
"""

from __future__ import annotations

from collections import OrderedDict

from aiohttp import web

from bot.console.review import pages, reports
from bot.console.review.common import FLASHES, RETRAIN, SERVICE, SETTINGS, blocking
from bot.errors import MadoguchiError
from bot.review.retrain import RetrainJob
from bot.review.service import ReviewService
from bot.settings import Settings


class ReviewStartError(MadoguchiError):
    """The review pages could not open what they need (the review log, Sudachi)."""


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
        try:
            app_[SERVICE] = service or await blocking(ReviewService, settings)
        except Exception as exc:  # any failure stops the console, with what failed
            raise ReviewStartError(f"the review pages could not start: {type(exc).__name__}: {exc}",
                                   hint=f"check that the project's database and the knowledge directory "
                                        f"({settings.knowledge_dir}) can be read, then start the console again") from exc

    app.on_startup.append(open_service)
    app.router.add_get("/", pages.index, name="review-index")
    app.router.add_get("/group/{key}", pages.group_page, name="review-group")
    app.router.add_post("/paraphrase", pages.paraphrase, name="review-paraphrase")
    app.router.add_get("/draft", pages.draft_page, name="review-draft")
    app.router.add_post("/new-faq", pages.new_faq, name="review-new-faq")
    app.router.add_post("/out-of-scope", pages.out_of_scope, name="review-out-of-scope")
    app.router.add_post("/dismiss", pages.dismiss, name="review-dismiss")
    app.router.add_get("/retrain", reports.retrain_page, name="review-retrain")
    app.router.add_post("/retrain", reports.retrain_start)
    app.router.add_get("/retrain/status", reports.retrain_status, name="review-retrain-status")
    app.router.add_get("/dashboard", reports.dashboard_page, name="review-dashboard")
    app.router.add_get("/export.csv", reports.export_csv, name="review-export")
    app.router.add_get("/review.css", stylesheet, name="review-css")
    return app


async def stylesheet(request: web.Request) -> web.Response:
    """The review's stylesheet moved into the console's; the old address still leads there."""
    raise web.HTTPMovedPermanently("/static/console.css")

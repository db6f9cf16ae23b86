"""Imported elections ("studies"): their list, each one's page (its results, turnout as the
file counts it, the comparison of rules and the .pb download) and the council's choice to
publish one or make it private again. Importing is `budget.routes.pabulib`."""

from __future__ import annotations

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import BallotType, OutcomeRule, Round
from budget.permissions import can, is_staff
from budget.services import results
from budget.services import studies as svc
from budget.services.pabulib_export import source_meta
from budget.services.pabulib_plan import describe_import
from core.errors import ValidationError
from core.i18n import _
from core.web import (
    flash,
    int_param,
    login_required,
    paginate,
    read_form,
    redirect,
    render,
    require,
    with_user,
)


def study_url(request: Request, round_id: int) -> str:
    return str(request.url_for("budget:study_detail", round_id=round_id))


@with_user
async def study_list(request: Request) -> Response:
    """The imported elections: every one for staff, the published ones for everyone else."""
    user = request.state.user
    page = await paginate(
        svc.visible_studies(user), int_param(request.query_params.get("page"), 1), 20
    )
    return render(
        request,
        "budget/study_list.html",
        {"page": page, "can": can, "is_staff": is_staff(user)},
    )


async def _study_description(rnd: Round) -> list[str]:
    """The paragraphs above an imported election: the sentence about its file in the reader's
    language (from what the file said, kept in the import's audit entry), then the file's own
    comment."""
    meta = await source_meta(rnd)
    comment = [p for p in rnd.description.split("\n\n") if p.strip()]
    if not meta:
        return comment
    # the file's own words (places, codes) are marked as not in the page's language
    words: dict[str, str] = {}

    def data(value: str) -> str:
        key = f"\x00{len(words)}\x00"
        words[key] = value
        return key

    html = escape(describe_import(meta, rnd.source, rnd.study_voters or 0, rnd.ballot_type, data))
    for key, value in words.items():
        html = html.replace(key, Markup('<span lang="und">{}</span>').format(value))
    return [Markup(html), *comment]


@with_user
async def study_detail(request: Request) -> Response:
    """An imported election: what the file says, its count with the file's rule and why each
    project was funded or not, and its voters as the file counts them (404 while private,
    except for staff)."""
    user = request.state.user
    rnd = await svc.get_study(user, request.path_params["round_id"])
    ctx = {
        "round": rnd,
        "study": await svc.study_turnout(rnd),
        "state": "study",
        "is_staff": is_staff(user),
        "can": can,
        "fen": results.fen,
        "rule_label": results.rule_label,
        "round_fen": results.round_fen,
        "by_points": rnd.ballot_type == BallotType.POINTS,
        "OutcomeRule": OutcomeRule,
        "BallotType": BallotType,
        "voting_closed": True,
        "envelopes": await results.envelope_results(rnd),
        "description": await _study_description(rnd),
    }
    ctx["summary"] = results.summarize(ctx["envelopes"])
    return render(request, "budget/results.html", ctx)


def _visibility_message(title: str, public: bool, changed: bool) -> str:
    if not changed:
        if public:
            return _("{title} was already public.", title=title)
        return _("{title} was already private.", title=title)
    if public:
        return _("{title} is public now: everyone can see it and its results.", title=title)
    return _("{title} is private again: only council members see it.", title=title)


@login_required
async def study_visibility(request: Request) -> Response:
    """GET asks for confirmation (`?public=1` to publish, `0` to make private again); POST,
    with the box ticked, does it."""
    user = request.state.user
    form = await read_form(request) if request.method == "POST" else None  # CSRF first
    rnd = await svc.get_study(user, request.path_params["round_id"])
    require(can(user, "publish_study", rnd), _("Only council members publish imported elections."))
    errors: dict[str, str] = {}
    if form is not None:
        public = form.get("public") == "1"
        try:
            rnd, changed = await svc.set_study_public(
                user, rnd.id, public, form.get("confirm") == "1"
            )
        except ValidationError as exc:
            errors = exc.errors
        else:
            flash(request, _visibility_message(rnd.title, public, changed))
            return redirect(request, study_url(request, rnd.id))
    else:
        public = request.query_params.get("public", "1") != "0"
    return render(
        request,
        "budget/study_visibility.html",
        {"round": rnd, "public": public, "errors": errors},
        status_code=422 if errors else 200,
    )


routes = [
    Route("/studies", study_list, name="study_list"),
    Route("/studies/{round_id:int}", study_detail, name="study_detail"),
    Route(
        "/studies/{round_id:int}/visibility",
        study_visibility,
        name="study_visibility",
        methods=["GET", "POST"],
    ),
]

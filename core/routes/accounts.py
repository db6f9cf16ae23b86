"""Areas, accounts, the CSV roll, invitation codes, registration and the audit log.

Staff pages (council members and admins) answer 403 to everybody else; `register` is public.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import ValidationError
from core.i18n import _
from core.models import Area, Role, User
from core.permissions import can
from core.services import accounts, reset_codes
from core.services.accounts import format_code
from core.services.areas import areas_with_counts, create_area, edit_area
from core.services.audit_log import (
    action_label,
    audit_actions,
    audit_entries,
    detail_items,
    detail_label,
    parse_subject,
    subject_label,
)
from core.services.invitations import create_invitations, register_with_code, search_invitations
from core.services.roll import MAX_ROLL_BYTES, RollError, import_roll
from core.web import (
    client_address,
    flash,
    get_object_or_404,
    int_param,
    login_required,
    paginate,
    private,
    read_form,
    redirect,
    render,
    require,
    start_session,
    with_user,
)
from core.web.limits import FORM_MARGIN, body_limit

PAGE_SIZE = 25


def _staff(request: Request, action: str = "manage_accounts") -> User:
    user = request.state.user
    require(can(user, action), _("Only council members and administrators may do this."))
    return user


def _form_values(form: Any, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """What the user typed, to show again (never the passwords)."""
    skip = {"csrf_token", "password", "password_confirm", *drop}
    return {k: str(v) for k, v in form.items() if k not in skip and isinstance(v, str)}


def _grantable_roles(user: User) -> list[Role]:
    return [role for role in Role if can(user, "grant_role", role)]


async def _area_options() -> list[tuple[int, str]]:
    return [(area.id, area.name) for area in await Area.all()]


# --- accounts ------------------------------------------------------------------------------


@login_required
async def account_list(request: Request) -> Response:
    """Accounts: search by name or username, filter by role and area, paginated."""
    _staff(request)
    params = request.query_params
    q = params.get("q", "").strip()
    role = params.get("role", "")
    area_id = int_param(params.get("area"))
    queryset = await accounts.search_accounts(q, role, area_id)
    page = await paginate(queryset, int_param(params.get("page"), 1), PAGE_SIZE)
    return render(
        request,
        "core/account_list.html",
        {
            "page": page,
            "filters": {"q": q, "role": role, "area": str(area_id or "")},
            "roles": list(Role),
            "areas": await Area.all(),
            "can": can,
        },
        block="results",
    )


async def _account_form(
    request: Request,
    target: User | None,
    values: dict,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    user = request.state.user
    roles = _grantable_roles(user)
    if target is not None and target.role not in roles:
        roles.append(Role(target.role))
    return render(
        request,
        "core/account_form.html",
        {
            "target": target,
            "values": values,
            "errors": errors or {},
            "role_options": [(role.value, role.label) for role in roles],
            "area_options": await _area_options(),
            "can": can,
        },
        status_code=status_code,
    )


@login_required
async def account_new(request: Request) -> Response:
    """Create one account: a council member may only create residents and grid workers."""
    user = _staff(request)
    if request.method == "POST":
        form = await read_form(request)
        try:
            created = await accounts.create_account(user, form)
        except ValidationError as exc:
            return await _account_form(request, None, _form_values(form), exc.errors, 422)
        # The new account's first sign-in code, shown on this answer only (never cached).
        issued = await reset_codes.issue_reset_code(user, created)
        created = await User.get(id=created.id).select_related("area")
        flash(request, _("Account {username} created.", username=created.username))
        response = render(
            request,
            "core/reset_code.html",
            {"target": created, "issued": issued, "first": True, "format_code": format_code},
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return await _account_form(request, None, {"role": Role.RESIDENT.value, "verified": "on"})


@login_required
async def account_edit(request: Request) -> Response:
    """Edit an account; it is deactivated rather than deleted."""
    user = _staff(request)
    target = await get_object_or_404(User, id=request.path_params["user_id"])
    require(can(user, "edit_account", target), _("You may not change this account."))
    if request.method == "POST":
        form = await read_form(request)
        try:
            await accounts.edit_account(user, target, form)
        except ValidationError as exc:
            return await _account_form(request, target, _form_values(form), exc.errors, 422)
        flash(request, _("Account {username} saved.", username=target.username))
        return redirect(request, str(request.url_for("core:account_list")))
    values = {
        "display_name": target.display_name,
        "household": target.household,
        "role": str(target.role),
        "area": str(target.area_id or ""),
        "verified": "on" if target.verified else "",
        "is_active": "on" if target.is_active else "",
    }
    return await _account_form(request, target, values)


@body_limit(MAX_ROLL_BYTES + FORM_MARGIN)
@login_required
async def account_import(request: Request) -> Response:
    """Import a CSV roll of residents: all rows or none; first sign-in codes shown once."""
    user = _staff(request, "import_roll")
    context: dict[str, Any] = {
        "errors": {},
        "lines": [],
        "imported": None,
        "format_code": format_code,
    }
    if request.method == "POST":
        form = await read_form(request, max_files=1)
        upload = form.get("file")
        raw = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            if not raw:
                raise ValidationError(errors={"file": _("Choose a CSV file to upload.")})
            imported = await import_roll(user, raw)
        except RollError as exc:
            context.update(errors=exc.errors, lines=exc.lines)
            return render(request, "core/account_import.html", context, status_code=422)
        except ValidationError as exc:
            context.update(errors=exc.errors)
            return render(request, "core/account_import.html", context, status_code=422)
        context["imported"] = imported
        # The codes are on this page only: never cached, never stored in clear.
        response = render(request, "core/account_import.html", context)
        response.headers["Cache-Control"] = "no-store"
        return response
    return render(request, "core/account_import.html", context)


# --- areas ---------------------------------------------------------------------------------


@login_required
async def area_list(request: Request) -> Response:
    """Areas with their number of residents."""
    _staff(request, "manage_areas")
    rows = await areas_with_counts()
    return render(request, "core/area_list.html", {"rows": rows})


async def _area_page(request: Request, area: Area | None) -> Response:
    user = _staff(request, "manage_areas")
    values: dict[str, str] = {"name": area.name, "description": area.description} if area else {}
    if request.method == "POST":
        form = await read_form(request)
        try:
            if area is None:
                area = await create_area(user, form)
                flash(request, _("Area {name} created.", name=area.name))
            else:
                await edit_area(user, area, form)
                flash(request, _("Area {name} saved.", name=area.name))
        except ValidationError as exc:
            return render(
                request,
                "core/area_form.html",
                {"area": area, "values": _form_values(form), "errors": exc.errors},
                status_code=422,
            )
        return redirect(request, str(request.url_for("core:area_list")))
    return render(request, "core/area_form.html", {"area": area, "values": values, "errors": {}})


@login_required
async def area_new(request: Request) -> Response:
    """Create an area (a neighbourhood or grid)."""
    return await _area_page(request, None)


@login_required
async def area_edit(request: Request) -> Response:
    """Rename or describe an area."""
    _staff(request, "manage_areas")
    area = await get_object_or_404(Area, id=request.path_params["area_id"])
    return await _area_page(request, area)


# --- invitations ---------------------------------------------------------------------------


def _batch(value: str | None) -> tuple[int, int] | None:
    try:
        first, last = (int(x) for x in str(value or "").split("-", 1))
    except ValueError:
        return None
    return (first, last) if 0 < first <= last else None


async def _invitation_page(
    request: Request, values: dict, errors: dict, status_code: int = 200
) -> Response:
    params = request.query_params
    area_id = int_param(params.get("area"))
    state = params.get("state", "")
    batch = _batch(params.get("batch"))
    queryset = await search_invitations(area_id, state, batch)
    page = await paginate(queryset, int_param(params.get("page"), 1), 100)
    areas = await Area.all()
    return render(
        request,
        "core/invitation_list.html",
        {
            "page": page,
            "areas": areas,
            "area_options": [(area.id, area.name) for area in areas],
            "filters": {"area": str(area_id or ""), "state": state},
            "batch": batch,
            "values": values,
            "errors": errors,
            "format_code": accounts.format_code,
        },
        status_code=status_code,
    )


@login_required
async def invitation_list(request: Request) -> Response:
    """Invitation codes per area, used or not; POST generates a printable batch."""
    user = _staff(request, "create_invitations")
    if request.method == "POST":
        form = await read_form(request)
        try:
            created = await create_invitations(user, form)
        except ValidationError as exc:
            return await _invitation_page(request, _form_values(form), exc.errors, 422)
        flash(
            request,
            _(
                "{n} invitation codes created. Print them and hand one to each household.",
                n=len(created),
            ),
        )
        url = request.url_for("core:invitation_list").include_query_params(
            batch=f"{created[0].id}-{created[-1].id}"
        )
        return redirect(request, str(url))
    return await _invitation_page(request, {"count": "10"}, {})


@with_user
async def register(request: Request) -> Response:
    """A resident registers with the invitation code handed to their household."""
    values = {"code": request.query_params.get("code", "")}
    if request.method == "POST":
        form = await read_form(request)
        try:
            user = await register_with_code(form, client_address(request))
        except ValidationError as exc:
            return render(
                request,
                "core/register.html",
                {"values": _form_values(form), "errors": exc.errors},
                status_code=exc.status_code,
            )
        start_session(request, user)
        flash(
            request,
            _(
                "Welcome, {name}. Your account is verified for {area}.",
                name=user.display_name,
                area=user.area.name,
            ),
        )
        return redirect(request, str(request.url_for("home")))
    return render(request, "core/register.html", {"values": values, "errors": {}})


# --- audit log -----------------------------------------------------------------------------


@login_required
async def audit_log(request: Request) -> Response:
    """Who changed what, newest first; filter by action and by subject ("procurement:12")."""
    _staff(request, "view_audit")
    action = request.query_params.get("action", "")
    subject_text = request.query_params.get("subject", "").strip()
    subject = parse_subject(subject_text)
    queryset = await audit_entries(action, subject)
    page = await paginate(queryset, int_param(request.query_params.get("page"), 1), 50)
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "action": action,
            "actions": await audit_actions(),
            "subject": subject,
            "subject_text": subject_text,
            "subject_invalid": bool(subject_text) and subject is None,
            "action_label": action_label,
            "detail_label": detail_label,
            "detail_items": detail_items,
            "subject_label": subject_label,
        },
        block="results",
    )


routes = [
    Route("/accounts", private(account_list), name="account_list"),
    Route("/accounts/new", private(account_new), methods=["GET", "POST"], name="account_new"),
    Route(
        "/accounts/{user_id:int}/edit",
        private(account_edit),
        methods=["GET", "POST"],
        name="account_edit",
    ),
    Route(
        "/accounts/import", private(account_import), methods=["GET", "POST"], name="account_import"
    ),
    Route("/areas", area_list, name="area_list"),
    Route("/areas/new", area_new, methods=["GET", "POST"], name="area_new"),
    Route("/areas/{area_id:int}/edit", area_edit, methods=["GET", "POST"], name="area_edit"),
    Route(
        "/invitations", private(invitation_list), methods=["GET", "POST"], name="invitation_list"
    ),
    Route("/register", private(register), methods=["GET", "POST"], name="register"),
    Route("/audit", private(audit_log), name="audit_log"),
]

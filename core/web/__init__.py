"""Web plumbing shared by every package, one module per concern:

- `templates`: the Jinja environment (filters, globals);
- `urls`: `route_url`, links around an id, query strings, safe redirect targets;
- `render`: a page or an htmx fragment, POST → 303, flash messages;
- `security`: CSRF (same-origin middleware, form token), security headers;
- `locale`: the request's language;
- `users`: the signed-in user, `login_required`, `require`, `get_object_or_404`;
- `panels`: what another package shows on a page about a subject (discussion on a proposal);
- `follow`: the kinds of subject one may follow, and the Follow / Unfollow button's state;
- `limits`: the largest request body each endpoint accepts (413 beyond it);
- `pagination`, `errors` (error pages), `logs` (JSON request logs, request ids).

Endpoints stay thin: parse the form (`read_form`), call one service, `redirect` with 303.
What endpoints use is importable from here.
"""

from core.forms import int_param
from core.web.errors import error_handlers
from core.web.follow import FollowState, follow_state, register_followables
from core.web.limits import BodyLimitMiddleware, body_limit
from core.web.locale import (
    LocaleFromCookie,
    LocaleFromQuery,
    LocaleFromSessionUser,
    LocaleMiddleware,
)
from core.web.logs import RequestLogMiddleware, configure_logging, request_id
from core.web.pagination import Page, paginate
from core.web.panels import register_panels, render_fragment, subject_panels
from core.web.render import flash, is_htmx, pop_flashes, redirect, render
from core.web.security import (
    CSP,
    CSRF_FIELD,
    CSRF_HEADER,
    SameOriginMiddleware,
    SecurityHeadersMiddleware,
    csrf_token,
    private,
    read_form,
)
from core.web.templates import make_templates, url_for
from core.web.urls import query_with, route_url, route_url_around, safe_next
from core.web.users import (
    client_address,
    end_session,
    get_object_or_404,
    load_user,
    login_required,
    require,
    start_session,
    with_user,
)

__all__ = [
    "CSP",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "BodyLimitMiddleware",
    "FollowState",
    "LocaleFromCookie",
    "LocaleFromQuery",
    "LocaleFromSessionUser",
    "LocaleMiddleware",
    "Page",
    "RequestLogMiddleware",
    "SameOriginMiddleware",
    "SecurityHeadersMiddleware",
    "body_limit",
    "client_address",
    "configure_logging",
    "csrf_token",
    "end_session",
    "error_handlers",
    "flash",
    "follow_state",
    "get_object_or_404",
    "int_param",
    "is_htmx",
    "load_user",
    "login_required",
    "make_templates",
    "paginate",
    "pop_flashes",
    "private",
    "query_with",
    "read_form",
    "redirect",
    "register_followables",
    "register_panels",
    "render",
    "render_fragment",
    "request_id",
    "require",
    "route_url",
    "route_url_around",
    "safe_next",
    "start_session",
    "subject_panels",
    "url_for",
    "with_user",
]

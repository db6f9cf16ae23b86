"""The Jinja environment: templates compiled once per process, with the filters and globals
every page uses (money, dates, translated labels, `url_for`, `query_with`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2_fragments.starlette import Jinja2Blocks
from starlette.datastructures import URL
from starlette_babel.contrib.jinja import configure_jinja_env

from core.i18n import (
    format_day,
    format_dt,
    format_money,
    format_number,
    format_percent,
    install_fast_gettext,
    label,
)
from core.models import Role
from core.web.urls import query_with, route_url


def make_templates(directory: Path, *, auto_reload: bool = False) -> Jinja2Blocks:
    """The Jinja environment. Templates are compiled once per process; `auto_reload` (debug)
    checks every template file for changes on each render instead."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=auto_reload,
        cache_size=-1,
    )
    configure_jinja_env(env)
    install_fast_gettext(env)
    env.filters.update(
        money=format_money,
        dt=format_dt,
        day=format_day,
        num=format_number,
        pct=format_percent,
    )
    env.globals.update(query_with=query_with, Role=Role, url_for=url_for, label=label)
    return Jinja2Blocks(env=env)


@jinja2.pass_context
def url_for(context: dict, name: str, /, **path_params: Any) -> URL | str:
    """Starlette's `url_for` for templates (see `route_url`)."""
    return route_url(context["request"], name, **path_params)

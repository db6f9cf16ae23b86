"""The deployment samples in deploy/ parse and say what the README says: nginx.conf (read
with crossplane, as nginx would include it from its http block) proxies to an upstream of app
hosts, serves static/ itself, passes the probes and accepts the app's largest body; the
systemd unit runs the app factory with workers and proxy headers, as user yishi, restarting on
failure, from an environment file; and every setting the samples or the README's deployment
section name is one something reads. No nginx or systemd is needed."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import crossplane
from starlette.routing import Mount, Route

from app import create_app
from budget.services.pabulib_plan import MAX_FILE_BYTES
from budget.services.procurement_files import MAX_DOCUMENT_BYTES
from core.settings import ROOT, Settings

DEPLOY = ROOT / "deploy"
# Without per-route limits declared on the endpoints (`endpoint.body_limit`), the largest
# body a route takes: a Pabulib import or a procurement document, and a form's margin.
FORM_MARGIN = 256 * 1024
DOCUMENTED_LARGEST_BODY = max(MAX_FILE_BYTES, MAX_DOCUMENT_BYTES) + FORM_MARGIN
# Read by uvicorn itself (its --forwarded-allow-ips and --workers defaults).
UVICORN_VARIABLES = {"FORWARDED_ALLOW_IPS", "WEB_CONCURRENCY"}


def _nginx(tmp_path: Path) -> list[dict]:
    """The sample's directives, parsed inside an http block, as nginx includes conf.d/."""
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(f"events {{}}\nhttp {{\n    include {DEPLOY / 'nginx.conf'};\n}}\n")
    parsed = crossplane.parse(str(wrapper))
    assert parsed["errors"] == [] and parsed["status"] == "ok", parsed["errors"]
    (sample,) = [c for c in parsed["config"] if c["file"].endswith("deploy/nginx.conf")]
    return sample["parsed"]


def _find(block: list[dict], name: str) -> list[dict]:
    return [d for d in block if d["directive"] == name]


def _walk(block: list[dict]):
    for d in block:
        yield d
        yield from _walk(d.get("block", []))


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", size).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def _largest_route_limit(tmp_path: Path) -> int:
    """The largest body limit declared on any endpoint of the app, else the documented one."""
    settings = Settings(database_url="sqlite://:memory:", secret_key="k", upload_dir=tmp_path)
    limits = []

    def visit(routes):
        for route in routes:
            if isinstance(route, Mount):
                visit(route.routes or [])
            elif isinstance(route, Route):
                limit = getattr(route.endpoint, "body_limit", None)
                if limit is not None:
                    limits.append(limit(settings) if callable(limit) else limit)

    visit(create_app(settings).routes)
    return max(limits, default=DOCUMENTED_LARGEST_BODY)


def test_the_nginx_sample_proxies_to_the_app_hosts_and_serves_static_files(tmp_path):
    config = _nginx(tmp_path)
    (upstream,) = _find(config, "upstream")
    hosts = _find(upstream["block"], "server")
    assert len(hosts) >= 2 and all(re.search(r":\d+$", h["args"][0]) for h in hosts)
    name = upstream["args"][0]

    servers = _find(config, "server")
    (tls,) = [s for s in servers if any("ssl" in d["args"] for d in _find(s["block"], "listen"))]
    block = tls["block"]
    assert _find(block, "ssl_certificate") and _find(block, "ssl_certificate_key")
    assert all(
        d["args"] == [f"http://{name}"] for d in _walk(block) if d["directive"] == "proxy_pass"
    )
    locations = {" ".join(d["args"]): d["block"] for d in _find(block, "location")}

    static = locations["/static/"]
    (alias,) = _find(static, "alias")
    assert alias["args"][0].endswith("/static/")
    assert _find(static, "expires")
    assert not _find(static, "proxy_pass")

    for probe in ("= /healthz", "= /readyz"):
        assert _find(locations[probe], "proxy_pass"), probe

    headers = {d["args"][0]: d["args"][1] for d in _find(locations["/"], "proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$remote_addr"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["Host"] == "$host"

    (max_body,) = _find(block, "client_max_body_size")
    assert _bytes(max_body["args"][0]) >= _largest_route_limit(tmp_path)


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read(DEPLOY / "yishi.service")
    return unit


def test_the_systemd_unit_runs_the_app_factory_with_workers_behind_the_proxy():
    service = _unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/uvicorn")
    assert command[1:3] == ["app:create_app", "--factory"]
    assert int(command[command.index("--workers") + 1]) >= 2
    assert "--proxy-headers" in command and "--no-access-log" in command
    assert service["User"] == "yishi"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["ProtectSystem"] == "strict"
    writable = service["ReadWritePaths"].split()
    assert any(p.lstrip("-").endswith("/uploads") for p in writable)
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def _settings_variables() -> set[str]:
    source = (ROOT / "core" / "settings.py").read_text()
    return set(re.findall(r"""os\.environ(?:\.get\(|\[)["']([A-Z_]+)["']""", source))


def _variables(text: str) -> set[str]:
    """Environment names a text sets or quotes: NAME=… and `NAME` with an underscore."""
    return set(re.findall(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)=", text)) | set(
        re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", text)
    )


def test_every_setting_the_samples_name_is_read_by_the_app_or_uvicorn():
    read = _settings_variables()
    assert {"DATABASE_URL", "SECRET_KEY", "HTTPS_ONLY", "UPLOAD_DIR", "LOG_LEVEL"} <= read
    env_file = _variables((DEPLOY / "yishi.env.example").read_text())
    assert {"DATABASE_URL", "SECRET_KEY", "HTTPS_ONLY", "FORWARDED_ALLOW_IPS"} <= env_file
    assert env_file <= read | UVICORN_VARIABLES
    service = _unit()["Service"]
    named = _variables(service.get("Environment", "")) | _variables(
        (DEPLOY / "yishi.service").read_text()
    )
    assert named <= read | UVICORN_VARIABLES, named - read - UVICORN_VARIABLES


def test_every_setting_the_readme_deployment_section_names_is_read_by_something():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Running it for a district") : readme.index("## Other")]
    make_variables = set(re.findall(r"\$\(([A-Z_]+)\)", (ROOT / "Makefile").read_text()))
    manage = set(
        re.findall(r"""environ\.get\(["']([A-Z_]+)["']""", (ROOT / "manage.py").read_text())
    )
    named = _variables(section)
    assert {"SECRET_KEY", "FORWARDED_ALLOW_IPS", "UPLOAD_DIR", "LOG_LEVEL"} <= named
    unread = named - _settings_variables() - UVICORN_VARIABLES - make_variables - manage
    assert not unread, unread

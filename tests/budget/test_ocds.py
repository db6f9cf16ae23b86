"""The OCDS 1.1 export validates against the official schema (offline: the release schema the
package refers to by URL is read from tests/fixtures/ocds, a copy of ../shared/ocds) and says
what the ledger says."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from budget.models import Envelope, Procurement, ProposalStatus
from budget.services import procurements
from tests.budget.disclosure_setup import stages_round
from tests.budget.money import funded_round
from tests.helpers import make_proposal
from tests.querycount import count_queries

# the official schemas, vendored (Apache 2.0) so that the export is always validated offline
OCDS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "ocds"
SHARED_OCDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "ocds"
RESIDENT_WORDS = ("Li Ming", "Wang Fang", '"resident"', "westie")


@pytest.mark.skipif(not SHARED_OCDS_DIR.exists(), reason=f"no {SHARED_OCDS_DIR} to compare with")
@pytest.mark.parametrize("name", ["release-package-schema.json", "release-schema.json"])
def test_the_vendored_schemas_are_the_shared_ones(name):
    assert (OCDS_DIR / name).read_bytes() == (SHARED_OCDS_DIR / name).read_bytes()


# date-time as RFC 3339 (jsonschema checks it only with an optional package: check it here)
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
formats = FormatChecker()


@formats.checks("date-time")
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_RFC3339.match(value)) and bool(datetime.fromisoformat(value))


@formats.checks("uri")
def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


def validator() -> Draft4Validator:
    """The package schema, its $ref to the release schema resolved from the local copy."""
    package = json.loads((OCDS_DIR / "release-package-schema.json").read_text())
    release = json.loads((OCDS_DIR / "release-schema.json").read_text())
    registry = Registry().with_resources(
        [
            (package["id"], Resource(contents=package, specification=DRAFT4)),
            (release["id"], Resource(contents=release, specification=DRAFT4)),
        ]
    )
    assert package["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(package)
    return Draft4Validator(package, registry=registry, format_checker=formats)


def validate(package: dict) -> None:
    errors = sorted(validator().iter_errors(package), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:10]]


def test_the_validator_rejects_a_broken_package():
    """The offline validation does reach into the release schema."""
    bad = {
        "uri": "http://x/ocds.json",
        "version": "1.1",
        "publishedDate": "2026-01-01T00:00:00Z",
        "publisher": {"name": "x"},
        "releases": [{"ocid": "ocds-x-1", "id": "1", "date": "yesterday", "tag": ["bogus"]}],
    }
    messages = " ".join(e.message for e in validator().iter_errors(bad))
    assert "initiationType" in messages and "bogus" in messages and "yesterday" in messages


async def export(client, round_id) -> dict:
    response = await client.get(f"/budget/rounds/{round_id}/ocds.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.json()


async def test_export_of_every_stage_validates_and_says_what_the_ledger_says(client, db, settings):
    st = await stages_round(settings.upload_dir)
    package = await export(client, st.fr.round.id)
    validate(package)

    assert package["version"] == "1.1"
    assert package["uri"] == f"http://testserver/budget/rounds/{st.fr.round.id}/ocds.json"
    assert package["publisher"] == {"name": "yishi"}
    releases = {r["ocid"]: r for r in package["releases"]}
    assert len(releases) == 5 == len({r["id"] for r in package["releases"]})

    def release(p: Procurement) -> dict:
        return releases[f"ocds-yishi-{p.id}"]

    # planned: a plan and a budget, no award or contract
    planned = release(st.planned)
    assert planned["tag"] == ["planning"]
    assert planned["initiationType"] == "tender"
    assert planned["planning"]["budget"]["amount"] == {"amount": 10000.0, "currency": "CNY"}
    assert planned["tender"]["status"] == "planned"
    assert planned["tender"]["mainProcurementCategory"] == "goods"
    assert "awards" not in planned and "contracts" not in planned
    assert planned["buyer"] == {"id": "buyer", "name": "yishi"}

    # cancelled while tendering
    cancelled = release(st.cancelled)
    assert cancelled["tag"] == ["tenderCancellation"]
    assert cancelled["tender"]["status"] == "cancelled"
    assert "contracts" not in cancelled

    # contracted and paying: award, contract, the payments that stand
    running = release(st.running)
    assert running["tag"] == ["implementation"]
    assert running["tender"]["status"] == "complete"
    assert running["planning"]["budget"]["amount"]["amount"] == 25000.0
    (award,) = running["awards"]
    assert award["value"] == {"amount": 24000.0, "currency": "CNY"}
    assert award["status"] == "active"
    assert award["suppliers"] == [{"id": "CN-USCC-91440300MA5EXAMPLE", "name": "Harbour Works Ltd"}]
    (contract,) = running["contracts"]
    assert contract["awardID"] == award["id"]
    assert contract["status"] == "active"
    assert contract["value"] == {"amount": 24000.0, "currency": "CNY"}
    assert contract["dateSigned"].startswith("2026-07-01T")
    transactions = contract["implementation"]["transactions"]
    # ¥10,000 paid, the ¥5,000 paid by mistake and reversed is not a payment
    assert [(t["date"][:10], t["value"]["amount"]) for t in transactions] == [
        ("2026-08-20", 10000.0)
    ]
    assert sum(t["value"]["amount"] for t in transactions) * 100 == st.running.paid_fen
    assert transactions[0]["payee"]["name"] == "Harbour Works Ltd"
    (milestone,) = contract["implementation"]["milestones"]
    assert milestone["title"] == "Lamps installed" and milestone["status"] == "scheduled"
    supplier = next(p for p in running["parties"] if "supplier" in p["roles"])
    assert supplier["identifier"] == {
        "scheme": "CN-USCC",
        "id": "91440300MA5EXAMPLE",
        "legalName": "Harbour Works Ltd",
    }
    # only the public document, linked
    (document,) = contract["documents"]
    assert document["title"] == "Signed lamp contract"
    assert document["documentType"] == "contractSigned"
    assert re.fullmatch(r"http://testserver/budget/documents/\d+", document["url"])

    # closed: every payment, the contract terminated, milestones met
    closed = release(st.closed)
    assert closed["tag"] == ["implementation", "contractTermination"]
    assert closed["tender"]["mainProcurementCategory"] == "works"
    (contract,) = closed["contracts"]
    assert contract["status"] == "terminated"
    assert [t["value"]["amount"] for t in contract["implementation"]["transactions"]] == [
        30000.0,
        20000.0,
    ]
    assert contract["implementation"]["milestones"][0]["status"] == "met"
    assert contract["implementation"]["milestones"][0]["dateMet"].startswith("2026-08-10")

    delivered = release(st.delivered)
    assert delivered["tender"]["mainProcurementCategory"] == "services"
    assert delivered["tag"] == ["implementation"]

    # no resident anywhere
    raw = json.dumps(package, ensure_ascii=False)
    for word in RESIDENT_WORDS:
        assert word not in raw, word
    assert "Fang Cai" not in raw  # nor the officers: the district buys


async def test_amounts_keep_fen(client, db):
    fr = await funded_round()
    from tests.budget.money import convert

    await convert(fr, fr.benches, cap_fen=12_345_67)
    package = await export(client, fr.round.id)
    validate(package)
    assert package["releases"][0]["planning"]["budget"]["amount"]["amount"] == 12345.67


async def test_prefix_and_buyer_come_from_the_settings(app, client, db, settings):
    settings.ocds_prefix = "ocds-abc123"
    settings.ocds_buyer_name = "Harbour District"
    fr = await funded_round()
    from tests.budget.money import convert

    p = await convert(fr, fr.library)
    package = await export(client, fr.round.id)
    validate(package)
    (release,) = package["releases"]
    assert release["ocid"] == f"ocds-abc123-{p.id}"
    assert release["buyer"]["name"] == "Harbour District"
    assert package["publisher"]["name"] == "Harbour District"


async def test_the_release_id_changes_when_the_procurement_changes(client, db):
    fr = await funded_round()
    from tests.budget.money import contract, convert, pay

    p = await convert(fr, fr.benches)
    first = (await export(client, fr.round.id))["releases"][0]
    again = (await export(client, fr.round.id))["releases"][0]
    assert first["id"] == again["id"]  # nothing changed, same release
    await contract(fr, p, 40_000_00)
    contracted = (await export(client, fr.round.id))["releases"][0]
    await pay(fr, p, 1_000_00)
    paid = (await export(client, fr.round.id))["releases"][0]
    assert len({first["id"], contracted["id"], paid["id"]}) == 3
    assert paid["ocid"] == first["ocid"]
    assert paid["date"] >= contracted["date"] >= first["date"]


async def test_a_500_procurement_round_exports_in_few_queries(client, db):
    """The number of queries does not grow with the procurements (the time is `make bench`'s)."""
    fr = await funded_round()
    rnd = fr.round
    # 500 funded proposals, converted with small caps, a few paid
    rnd.fund_fen = 10**12
    await rnd.save()
    await Envelope.filter(round_id=rnd.id, area_id=None).update(budget_fen=10**12)
    for i in range(500):
        await make_proposal(
            rnd, fr.resident, f"Project {i}", 1_000_00, None, ProposalStatus.FUNDED, "service"
        )
    created = await procurements.convert_round(fr.finance, rnd.id)
    assert len(created) >= 500
    from tests.budget.money import contract, pay

    for p in created[:20]:
        await contract(fr, p, 500_00)
        await pay(fr, p, 100_00)

    with count_queries() as queries:
        package = await export(client, rnd.id)
    assert len(package["releases"]) == len(created)
    assert len(queries) <= 8, queries
    validate(package)

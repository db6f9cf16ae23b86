"""The public needs dashboard (/needs) and its open data (/needs/stats.csv): the figures a
visitor reads, the filters, the charts and their text alternatives, no personal data, the CSV
equal to the page's tables, refused filters, and kept medians that are never stale."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from consult.models import Need, NeedChannel, NeedDashboardCache
from consult.rules.need_stats import NeedCounts, percent
from consult.services import need_dashboard, need_stats
from consult.services.need_stats import stat_month
from core.i18n import _display_tz
from tests.consult.need_dashboard_setup import (
    SECRET_WORDS,
    add_need,
    figures,
    read_csv,
    tables,
)
from tests.helpers import make_area, make_user, page_text
from tests.querycount import count_queries

CSV_HEADER = "month,area,channel,received,answered,resolved,rated,satisfied,median_response_days"


def this_month(hours_ago: float) -> datetime:
    """A moment `hours_ago` before now, but in this month in the district's time zone (just
    after its midnight, the month's first moment): the needs of "this month"."""
    local_now = datetime.now(_display_tz())
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return max(month_start, local_now - timedelta(hours=hours_ago)).astimezone(UTC)


async def _district():
    """Two areas; East with three needs this month (one not yet answered), West with two."""
    east, west = await make_area("East Gate"), await make_area("West River")
    resident = await make_user("wang", area=east, display_name=SECRET_WORDS[0])
    now = this_month(hours_ago=2)
    await add_need(east, created=now, hours=5, resolved=True, rating=5, resident=resident)
    await add_need(east, created=now, hours=30, resolved=True, rating=2, resident=resident)
    await add_need(east, NeedChannel.PHONE, created=now, resident=resident)
    await add_need(west, NeedChannel.TALK_BOX, created=now, hours=50, rating=4)
    await add_need(west, NeedChannel.TALK_BOX, created=now, hours=70, resolved=True)
    return east, west, stat_month(now)


async def test_an_empty_district_says_no_needs_yet(client, db):
    await make_area("East Gate")
    page = await client.get("/needs")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "No needs yet" in text
    assert "<svg" not in page.text
    csv_file = await client.get("/needs/stats.csv")
    assert csv_file.status_code == 200
    assert csv_file.content.decode("utf-8-sig").strip() == CSV_HEADER


async def test_headline_and_tables_show_the_districts_figures(client, db):
    east, west, month = await _district()
    page = await client.get("/needs")
    assert page.status_code == 200
    text = page_text(page.text)
    # 5 received, 4 answered (80 %), 3 resolved (60 %), 2 of 3 ratings 4–5 (66.7 %)
    assert "5 needs received, 80.0% answered, 60.0% resolved, 66.7% satisfied." in text
    # median of 5, 30, 50, 70 h = 40 h = 1.7 days
    assert "1.7 days" in text
    found = tables(page.text)
    months = {d["month"]: figures(c) for d, c in found["table-months"] if d.get("month")}
    assert len(months) == 12 and list(months)[-1] == month
    assert months[month] == {
        "received": "5",
        "answered": "4",
        "median_response_days": "1.7",
        "resolved": "3",
        "resolution_rate": "60.0%",
        "rated": "3",
        "satisfied": "2",
        "satisfaction_rate": "66.7%",
    }
    quiet = next(m for m in months if m != month)
    assert months[quiet]["received"] == "0" and months[quiet]["resolution_rate"] == "—"
    areas = {int(d["area"]): figures(c) for d, c in found["table-areas"]}
    assert areas[east.id]["received"] == "3" and areas[east.id]["median_response_days"] == "0.7"
    assert areas[west.id]["median_response_days"] == "2.5"  # 50 and 70 h: 60 h
    assert areas[west.id]["satisfaction_rate"] == "100.0%"
    channels = {d["channel"]: figures(c) for d, c in found["table-channels"]}
    assert set(channels) == {"online", "phone", "talk_box"}
    assert channels["phone"]["median_response_days"] == "—"  # none answered
    cross = {d["month"]: c[1:] for d, c in found["table-month-channels"]}
    assert cross[month] == ["2", "2", "1"]  # online, talk box, phone: the channels' order
    assert [figures(c) for d, c in found["table-months"] if d.get("total")][0]["received"] == "5"


async def test_charts_are_svg_with_a_text_alternative_and_a_table_below(client, db):
    await _district()
    page = await client.get("/needs")
    charts = re.findall(r"<svg[^>]*>.*?</svg>", page.text, re.S)
    assert len(charts) == 4  # months, rates, channels, areas
    for chart in charts:
        assert 'role="img"' in chart and "viewBox=" in chart
        assert 'width="' not in chart.split(">", 1)[0]  # scales to its container
        labelled = re.search(r'aria-labelledby="([^"]+)"', chart).group(1).split()
        for ident in labelled:
            assert re.search(rf'id="{ident}">[^<]+<', chart), ident
    months_chart = charts[0]
    assert "<desc" in months_chart and "5 needs were received" in months_chart
    assert "The table below gives every figure." in months_chart
    assert "<script" not in page.text.split("<main", 1)[1]
    assert page.text.count("<figcaption>") == 4


async def test_no_personal_data_on_the_page_or_in_the_csv(client, db):
    await _district()
    page = await client.get("/needs")
    csv_file = await client.get("/needs/stats.csv")
    for word in SECRET_WORDS + ("wang", "Water everywhere", "T000"):
        assert word not in page.text, word
        assert word not in csv_file.text, word


async def test_filters_by_area_channel_and_year(client, db):
    east, west, month = await _district()
    last_year = datetime.now(UTC).year - 1
    await add_need(west, created=datetime(last_year, 3, 10, 2, tzinfo=UTC), hours=12, rating=5)

    page = await client.get(f"/needs?area={west.id}")
    assert "2 needs received" in page_text(page.text)
    assert "table-areas" not in page.text  # one area: its months only
    assert f'<option value="{west.id}" selected>' in page.text

    page = await client.get("/needs?channel=phone")
    assert "1 needs received" in page_text(page.text)
    assert '<option value="phone" selected>' in page.text

    page = await client.get(f"/needs?year={last_year}")
    found = tables(page.text)
    months = [d["month"] for d, _c in found["table-months"] if d.get("month")]
    assert months == [f"{last_year}-{m:02d}" for m in range(1, 13)]
    assert "1 needs received" in page_text(page.text)
    assert f'<option value="{last_year}" selected>' in page.text

    page = await client.get(f"/needs?area={east.id}&year={last_year}")
    assert "No needs were received in this selection." in page_text(page.text)


async def test_the_csv_has_the_columns_and_a_row_per_month_area_and_channel(client, db):
    east, west, month = await _district()
    response = await client.get("/needs/stats.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.decode("utf-8-sig").splitlines()[0] == CSV_HEADER
    rows = read_csv(response.content)
    assert [(r["area"], r["channel"]) for r in rows] == [
        ("East Gate", "online"),
        ("East Gate", "phone"),
        ("West River", "talk_box"),
    ]
    assert rows[0] == {
        "month": month,
        "area": "East Gate",
        "channel": "online",
        "received": "2",
        "answered": "2",
        "resolved": "2",
        "rated": "2",
        "satisfied": "1",
        "median_response_days": "0.7",  # 5 and 30 h: 17.5 h
    }
    assert rows[1]["median_response_days"] == ""  # nothing answered
    only_west = read_csv((await client.get(f"/needs/stats.csv?area={west.id}")).content)
    assert [r["area"] for r in only_west] == ["West River"]


async def test_the_csv_equals_the_dashboards_tables(client, db):
    east, west, month = await _district()
    earlier = datetime.now(UTC) - timedelta(days=45)
    await add_need(east, created=earlier, hours=3, resolved=True, rating=4)
    await add_need(east, NeedChannel.HOME_VISIT, created=earlier, hours=200)
    rows = read_csv((await client.get("/needs/stats.csv")).content)
    found = tables((await client.get("/needs")).text)

    def summed(key):
        out = defaultdict(NeedCounts)
        for r in rows:
            counts = NeedCounts(
                *(int(r[n]) for n in ("received", "answered", "resolved", "rated", "satisfied"))
            )
            out[key(r)] = out[key(r)] + counts
        return out

    def as_shown(c: NeedCounts) -> dict[str, str]:
        return {
            "received": str(c.received),
            "answered": str(c.answered),
            "resolved": str(c.resolved),
            "resolution_rate": "—" if c.received == 0 else f"{percent(c.resolved, c.received)}%",
            "rated": str(c.rated),
            "satisfied": str(c.satisfied),
            "satisfaction_rate": "—" if c.rated == 0 else f"{percent(c.satisfied, c.rated)}%",
        }

    def counts_of(cells):
        shown = figures(cells)
        del shown["median_response_days"]  # a median is not a sum: compared below
        return shown

    by_month = summed(lambda r: r["month"])
    for data, cells in found["table-months"]:
        if data.get("month") in by_month:
            assert counts_of(cells) == as_shown(by_month[data["month"]]), data
    names = {east.id: "East Gate", west.id: "West River"}
    by_area = summed(lambda r: r["area"])
    for data, cells in found["table-areas"]:
        assert counts_of(cells) == as_shown(by_area[names[int(data["area"])]])
    by_channel = summed(lambda r: r["channel"])
    assert {d["channel"]: counts_of(c) for d, c in found["table-channels"]} == {
        k: as_shown(v) for k, v in by_channel.items()
    }
    received = summed(lambda r: (r["month"], r["channel"]))
    heads = ["online", "talk_box", "phone", "home_visit"]  # the cross table's columns
    for data, cells in found["table-month-channels"]:
        for channel, shown in zip(heads, cells[1:], strict=True):
            assert int(shown) == received[(data["month"], channel)].received

    # one area and one channel: each CSV row is a line of the page, medians included
    for area, channel in ((east, "online"), (west, "talk_box"), (east, "home_visit")):
        query = f"?area={area.id}&channel={channel}"
        rows = read_csv((await client.get(f"/needs/stats.csv{query}")).content)
        page = tables((await client.get(f"/needs{query}")).text)
        lines = {d["month"]: figures(c) for d, c in page["table-months"] if d.get("month")}
        assert rows
        for r in rows:
            line = lines[r["month"]]
            assert line["median_response_days"] == (r["median_response_days"] or "—")
            assert {k: line[k] for k in ("received", "answered", "resolved", "rated")} == {
                k: r[k] for k in ("received", "answered", "resolved", "rated")
            }
            assert line["satisfied"] == r["satisfied"]


async def test_bad_filters_are_refused_with_the_reason_never_a_server_error(client, db):
    east, _west, _month = await _district()
    for query, status, message in (
        ("?area=abc", 422, "“abc” is not an area: choose one from the list."),
        ("?year=99999999999", 422, "Choose a year from 2000 to"),
        ("?year=1999", 422, "Choose a year from 2000 to"),
        ("?year=２０２５", 422, "Choose a year from 2000 to"),
        ("?channel=fax", 422, "Choose a channel from the list."),
        ("?area=999999", 404, "There is no such area."),
        ("?area=99999999999", 404, "There is no such area."),
    ):
        page = await client.get(f"/needs{query}")
        assert page.status_code == status, query
        assert message in page_text(page.text), query
        assert "<svg" not in page.text
        csv_file = await client.get(f"/needs/stats.csv{query}")
        assert csv_file.status_code == status, query
    page = await client.get("/needs?area=abc")
    assert 'aria-invalid="true"' in page.text and 'id="f-area-error"' in page.text
    ok = await client.get(f"/needs?area={east.id}&year=&channel=")
    assert ok.status_code == 200


async def test_the_page_is_one_query(client, db):
    await _district()
    await client.get("/needs")  # medians computed and kept
    await client.get("/needs/stats.csv")  # the CSV too
    for path in ("/needs", "/needs/stats.csv", "/needs?channel=online"):
        await client.get(path)
        with count_queries() as queries:
            response = await client.get(path)
        assert response.status_code == 200
        assert len(queries) == 1, (path, queries)


async def test_kept_medians_and_csv_follow_every_change_at_once(client, db):
    east, west, month = await _district()

    async def shown():
        page = tables((await client.get(f"/needs?area={west.id}")).text)
        total = [figures(c) for d, c in page["table-months"] if d.get("total")][0]
        rows = read_csv((await client.get(f"/needs/stats.csv?area={west.id}")).content)
        return total, rows

    total, rows = await shown()
    assert total["median_response_days"] == "2.5"  # 50 and 70 h
    assert await NeedDashboardCache.all().count() >= 2
    # an answer: the median moves at once (kept medians recomputed)
    now = this_month(hours_ago=1)
    await add_need(west, NeedChannel.TALK_BOX, created=now, hours=1)
    total, rows = await shown()
    assert total["median_response_days"] == "2.1"  # 1, 50, 70 h: 50 h
    assert rows[0]["median_response_days"] == "2.1" and rows[0]["received"] == "3"
    # a need received, nothing answered: the CSV's counts move, the medians stay right
    await add_need(west, NeedChannel.TALK_BOX, created=now)
    total, rows = await shown()
    assert total["received"] == "4" and rows[0]["received"] == "4"
    assert total["median_response_days"] == "2.1"
    # an answer's time corrected underneath and everything recounted (same number of answers)
    need = await Need.filter(area=west, answered_at__isnull=False).order_by("id").first()
    need.answered_at = need.created_at + timedelta(hours=500)
    await need.save()
    await need_stats.recount_need_stats()
    total, rows = await shown()
    assert total["median_response_days"] == "2.9"  # 1, 70, 500 h: 70 h
    assert rows[0]["median_response_days"] == "2.9"
    # an area renamed: the CSV says so at once
    west.name = "West Bank"
    await west.save()
    _total, rows = await shown()
    assert rows[0]["area"] == "West Bank"
    # and what was kept equals what is computed afresh
    kept = (await client.get("/needs")).text
    await need_dashboard.forget()
    assert (await client.get("/needs")).text == kept


async def test_a_kept_row_with_a_stale_stamp_is_never_used(client, db):
    _east, west, _month = await _district()
    await client.get("/needs")
    key = next(
        iter(
            await NeedDashboardCache.filter(key__startswith="groups:").values_list("key", flat=True)
        )
    )
    row = await NeedDashboardCache.get(key=key)
    poisoned = {k: "99.9" for k in row.value}
    await NeedDashboardCache.filter(key=key).update(value=poisoned, stamp="1:0:0")
    page = await client.get("/needs")
    assert "99.9" not in page.text
    assert "1.7 days" in page_text(page.text)


async def test_kept_rows_not_made_again_for_two_months_go(client, db):
    await _district()
    await client.get("/needs")
    old = datetime.now(UTC) - timedelta(days=61)
    await NeedDashboardCache.create(key="groups:2020-01:2020-12:*:*", stamp="x")
    await NeedDashboardCache.filter(stamp="x").update(computed_at=old)
    await add_need(await make_area("North Hill"), hours=2)  # an answer: the medians are made again
    await client.get("/needs")
    keys = set(await NeedDashboardCache.all().values_list("key", flat=True))
    assert "groups:2020-01:2020-12:*:*" not in keys
    assert any(k.startswith("groups:") for k in keys)


async def test_kept_figures_are_per_language_and_per_year_asked(client, db):
    _east, west, _month = await _district()
    english = await client.get("/needs")
    chinese = await client.get("/needs", headers={"Accept-Language": "zh-CN"})
    assert "5 needs received" in page_text(english.text)
    assert "受理诉求5件" in page_text(chinese.text)
    assert "5 needs received" in page_text((await client.get("/needs")).text)  # kept, English
    this_year = datetime.now(UTC).year
    page = await client.get(f"/needs?year={this_year}")
    link = tables(page.text)["table-areas"]
    assert page.status_code == 200 and link
    assert f"year={this_year}" in page.text.split('id="table-areas"')[1]

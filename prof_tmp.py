import asyncio, tempfile, time, pathlib
import httpx
from tortoise import Tortoise, connections
from core.db import migrate_database
from core.settings import Settings, tortoise_config
from tests.bench.fill import Sizes, fill_district
from tests.bench.fill_consult import ConsultSizes, fill_consult
from tests.bench.bench_app import SECRET_KEY
from app import create_app
async def main():
    tmp = tempfile.mkdtemp()
    url = f"sqlite://{tmp}/b.sqlite3"
    await migrate_database(tortoise_config(url))
    d = await fill_district(url, Sizes(areas=4, residents=3000, proposals=40, ballots=0, district_proposals=4))
    c = await fill_consult(url, d, ConsultSizes())
    await Tortoise.init(config=tortoise_config(url))
    conn = connections.get("default")
    for pid in (c.big_proposal_id, c.small_proposal_id):
        t=time.perf_counter()
        for _ in range(200):
            await conn.execute_query("SELECT stance, COUNT(*) AS n FROM comment WHERE subject_type = ? AND subject_id = ? GROUP BY stance", ["proposal", pid])
        print(pid, "stance count ms", (time.perf_counter()-t)/200*1000)
    app = create_app(Settings(database_url=url, secret_key=SECRET_KEY, upload_dir=pathlib.Path(tmp) / "up"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        for pid in (c.big_proposal_id, c.small_proposal_id, 3):
            path = f"/budget/proposals/{pid}"
            await client.get(path)
            t=time.perf_counter()
            for _ in range(100): r = await client.get(path)
            print(path, "page ms", (time.perf_counter()-t)*10, len(r.text))
asyncio.run(main())

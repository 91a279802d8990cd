"""The benchmark suite: every stage at catalogue scale, each beside a floor measured in the same
run, printed as one table (``make bench``).

    .venv/bin/python benchmarks/run_all.py                 # the full workload (~6-9 minutes)
    .venv/bin/python benchmarks/run_all.py --scale 0.05    # a quick run on 5% of it
    .venv/bin/python benchmarks/run_all.py --only xlsx,pull

Workload (generated, see ``workload.py``): 100,000 products x 2 variants x 3 sizes (600,000
size rows) with EANs, two pricelists and stock in two warehouses in one article file; a 60,000
row workbook; 10,000 orders of 5 lines. ``--scale`` multiplies every count.

Every sandbox runs as its own process (``sandbox serve``), as it does for a user, so the client
and the server do not share one interpreter. Times are wall-clock seconds of one run each (best
of two for the catalogue line, whose floor and validate write 276 MB each: both start on a disk
with nothing left to write back); the machine may be shared, so compare the ratio (figure /
floor), which both sides of a line share.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_pull  # noqa: E402
import bench_sandbox  # noqa: E402
import pandas as pd  # noqa: E402
import python_calamine  # noqa: E402
import workload  # noqa: E402

from pipeline.batch.run import ORDER, run_batch  # noqa: E402
from pipeline.centra.client import CentraClient, client_from_settings  # noqa: E402
from pipeline.centra.operations import OPERATIONS  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.mapping.batches import merge_items  # noqa: E402
from pipeline.mapping.engine import map_file  # noqa: E402
from pipeline.mapping.schema import load_mapping_file  # noqa: E402
from pipeline.readers import ReadOptions, read_table  # noqa: E402
from pipeline.state.journal import Journal  # noqa: E402

USER, PASSWORD = "example", "secret"
MAPPINGS = ("sizes.yaml", "articles.yaml")
BATCH_SIZES = (25, 100, 250, 1000)
PARALLEL = (1, 2, 4)


def say(text: str) -> None:
    print(text, flush=True)


@contextlib.contextmanager
def serve(db: str, latency_ms: int = 0) -> Iterator[str]:
    """``sandbox serve`` as its own process; yields the SOAP URL."""
    command = [sys.executable, "-m", "pipeline", "sandbox", "serve", "--port", "0", "--db", db,
               "--username", USER, "--password", PASSWORD]  # fmt: skip
    if latency_ms:
        command += ["--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def workspace(folder: Path, url: str, files: list[Path], batch: str = "") -> Path:
    """A workspace with the sizes and articles mappings and ``files`` in its inbox."""
    (folder / "mappings" / "export").mkdir(parents=True)
    for name in MAPPINGS:
        shutil.copy(ROOT / "mappings" / name, folder / "mappings" / name)
    for path in (ROOT / "mappings" / "export").glob("*.yaml"):
        shutil.copy(path, folder / "mappings" / "export" / path.name)
    (folder / "inbox").mkdir()
    for path in files:
        shutil.copy(path, folder / "inbox" / path.name)
    (folder / "pipeline.yaml").write_text(
        f"centra:\n  url: {url}\ninbox:\n  settle_seconds: 0\n{batch}", encoding="utf-8"
    )
    return folder


# -- stage 1: read + map + XML ----------------------------------------------------------------


def floor_catalogue_xml(path: Path, out: Path, per_request: int = 100) -> int:
    """pandas read + plain string XML of the same bodies (products, two pricelists, stock),
    written one request per file; no validation. Returns the bytes written."""
    frame = pd.read_csv(path, sep=";", dtype=str, encoding="cp1252", keep_default_na=False,
                        na_filter=False)  # fmt: skip
    c = {name: frame[name].tolist() for name in frame.columns}
    out.mkdir(parents=True, exist_ok=True)
    head = ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.'
            'xmlsoap.org/soap/envelope/"><soap:Body><{0} xmlns="http://www.centra.com/webservices/">'
            "<login><username>u</username><password>***</password></login><{1}>")  # fmt: skip
    tail = "</{1}></{0}></soap:Body></soap:Envelope>"

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def number(text: str) -> str:
        return text.replace(".", "").replace(",", ".")

    # Group rows: product -> variation -> size rows (the file keeps a product's rows together).
    products: list[tuple[int, list[tuple[int, list[int]]]]] = []
    last_p = last_v = None
    for i, (pid, vid) in enumerate(zip(c["Article"], c["Variant"], strict=True)):
        if pid != last_p:
            products.append((i, []))
            last_p, last_v = pid, None
        if vid != last_v:
            products[-1][1].append((i, []))
            last_v = vid
        products[-1][1][-1][1].append(i)
    written = 0
    n = 0

    def write(op: str, coll: str, parts: list[str]) -> None:
        nonlocal written, n
        n += 1
        data = (head.format(op, coll) + "".join(parts) + tail.format(op, coll)).encode()
        (out / f"floor.{n:05d}.xml").write_bytes(data)
        written += len(data)

    for start in range(0, len(products), per_request):
        chunk = products[start : start + per_request]
        body, stock = [], []
        for p, variations in chunk:
            body.append(
                f"<product><id>{c['Article'][p]}</id><status>{c['Status'][p]}</status>"
                f"<sku>{c['Style no'][p]}</sku><description>{esc(c['Name'][p])}</description>"
                f"<folder><description>{esc(c['Folder'][p])}</description></folder>"
                f"<brand><id>{c['Brand id'][p]}</id><description>{esc(c['Brand'][p])}"
                f"</description></brand><collection><id>{c['Collection id'][p]}</id>"
                f"<description>{esc(c['Collection'][p])}</description></collection><variations>"
            )
            stock.append(f"<product><id>{c['Article'][p]}</id><variations>")
            for v, sizes in variations:
                vid = c["Variant"][v]
                body.append(
                    f"<variation><id>{vid}</id><stockid>{vid}</stockid><description>"
                    f"{esc(c['Variant name'][v])}</description><sku>{c['Variant no'][v]}</sku>"
                    f"<status>{c['Variant status'][v]}</status><sizetable><id>"
                    f"{c['Size table'][v]}</id></sizetable><sizes>"
                )
                stock.append(f"<variation><id>{vid}</id><stockid>{vid}</stockid><sizes>")
                for s in sizes:
                    body.append(
                        f"<size><id>{c['Size'][s]}</id><sku>{c['Size no'][s]}</sku>"
                        f"<ean>{c['EAN'][s]}</ean></size>"
                    )
                    stock.append(
                        f"<size><id>{c['Size'][s]}</id><warehouseitems><warehouse><id>"
                        f"MainWarehouse</id><qty>{c['Stock main'][s]}</qty></warehouse>"
                        f"<warehouse><id>OtherWarehouse</id><qty>{c['Stock other'][s]}</qty>"
                        "</warehouse></warehouseitems></size>"
                    )
                body.append("</sizes></variation>")
                stock.append("</sizes></variation>")
            body.append("</variations></product>")
            stock.append("</variations></product>")
        write("products_Update", "products", body)
        write("products_Update", "products", stock)
        for pricelist, columns in (
            ("<id>EUR-Retail</id><store>1</store><type>retail</type><currency>EUR</currency>"
             "<description>Euro</description>", (("price", "EUR retail"),)),
            ("<id>USD-Wholesale</id><store>2</store><type>wholesale</type><currency>USD"
             "</currency><description>US Dollar</description>",
             (("price", "USD wholesale"), ("priceb", "USD RRP"))),
        ):  # fmt: skip
            items = [f"<pricelist>{pricelist}<items>"]
            for p, variations in chunk:
                items.append(f"<product><id>{c['Article'][p]}</id>")
                for v, _ in variations:
                    prices = "".join(f"<{e}>{number(c[col][v])}</{e}>" for e, col in columns)
                    items.append(f"<variation><id>{c['Variant'][v]}</id>{prices}</variation>")
                items.append("</product>")
            items.append("</items></pricelist>")
            write("pricelists_Update", "pricelists", items)
    return written


def quiet_disk() -> None:
    """Write back what earlier steps left dirty (and the blocks deleted files freed), so
    neither side of a line pays for the other's files."""
    os.sync()


def stage_catalogue(data: Path, tmp: Path, runs: int = 2) -> dict[str, Any]:
    """Best of ``runs`` each, floor and ours taking turns, each on a quiet disk and writing
    into a new folder; the folders are deleted when both sides are done."""
    articles, sizes = data / "articles.csv", data / "sizes.csv"
    floor_s = ours_s = float("inf")
    peak = floor_bytes = ours_bytes = 0
    for n in range(runs):
        quiet_disk()
        started = time.perf_counter()
        floor_bytes = floor_catalogue_xml(articles, tmp / f"floor-xml-{n}")
        floor_s = min(floor_s, time.perf_counter() - started)
        quiet_disk()
        # `centra-pipeline validate --xml-out` as its own process, as a user runs it.
        out = tmp / f"xml-{n}"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CLI_WITH_PEAK, "--workspace", str(ROOT), "validate",
             "--xml-out", str(out), str(sizes), str(articles)],
            capture_output=True, cwd=ROOT, check=False,
        )  # fmt: skip
        ours_s = min(ours_s, time.perf_counter() - started)
        err = proc.stderr.decode()
        if proc.returncode != 0:
            raise SystemExit(f"validate failed ({proc.returncode}): {err[-2000:]}")
        if "PEAK " in err:
            peak = max(peak, int(err.rpartition("PEAK ")[2].split()[0]) * 1024)
        ours_bytes = sum(p.stat().st_size for p in out.iterdir())
    for n in range(runs):
        shutil.rmtree(tmp / f"floor-xml-{n}")
        shutil.rmtree(tmp / f"xml-{n}")
    quiet_disk()
    rows = sum(1 for _ in articles.open("rb")) - 1
    note = (f"{rows:,} rows; {ours_bytes / 1e6:.0f} MB of XML (floor {floor_bytes / 1e6:.0f} MB); "
            f"{rows / ours_s:,.0f} rows/s; peak RSS of the validate process {peak / 1e6:,.0f} MB; "
            f"best of {runs} each")  # fmt: skip
    return {"ours": ours_s, "floor": floor_s, "goal": 2.0, "peak": peak, "note": note}


# -- stage 2: xlsx ----------------------------------------------------------------------------


def stage_xlsx(data: Path) -> dict[str, Any]:
    path = data / "articles.xlsx"

    def bare() -> int:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_name(book.sheet_names[0]).to_python(skip_empty_area=False)
        book.close()
        return len(rows)

    def ours() -> int:
        return read_table(path, ReadOptions()).n_rows

    floor_s, _ = best_of(3, bare)
    ours_s, rows = best_of(3, ours)
    return {"ours": ours_s, "floor": floor_s, "goal": 1.5,
            "note": f"{rows:,} rows x {len(workload.HEADER)} columns; best of 3"}  # fmt: skip


def best_of(times: int, run: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(times):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


# -- stage 3: full import over HTTP -----------------------------------------------------------


def prebuilt_bodies(files: list[Path]) -> list[tuple[str, bytes]]:
    """The request bodies the pipeline sends for ``files``, in its order, with its defaults."""
    settings = load_settings(ROOT, env={"CENTRA_USERNAME": USER, "CENTRA_PASSWORD": PASSWORD})
    client = CentraClient("http://127.0.0.1:1/", USER, PASSWORD)
    groups = []
    for path in files:
        mapping = load_mapping_file(ROOT / "mappings" / f"{path.stem.split('-')[0]}.yaml")
        by_entity: dict[str, list[Any]] = {}
        for obj in map_file(mapping, path).objects:
            by_entity.setdefault(obj.entity, []).append(obj)
        groups += [(ORDER[entity], objs) for entity, objs in by_entity.items()]
    bodies = []
    for _, objs in sorted(groups, key=lambda g: g[0]):
        size = settings.file.batch.size_for(objs[0].entity)
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            op = chunk[0].operation
            spec = OPERATIONS[op]
            payload = {spec.collection: {spec.item: merge_items(chunk)}}
            bodies.append((spec.soap_action, client.build(op, payload).encode()))  # type: ignore[dict-item]
    return bodies


def floor_ingest(url: str, bodies: list[tuple[str, bytes]]) -> float:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=600)
    started = time.perf_counter()
    for action, body in bodies:
        conn.request("POST", parts.path, body,
                     {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action})  # fmt: skip
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200 or b"<ns1:success>false" in answer:
            raise SystemExit(f"floor request refused: {answer[:500]!r}")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


#: Runs the CLI and reports its own peak RSS (VmHWM of this process image: ru_maxrss would
#: include the high-water mark of the benchmark process it was forked from).
CLI_WITH_PEAK = (
    "import atexit, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM'):\n"
    "            sys.stderr.write('\\nPEAK ' + line.split()[1] + '\\n')\n"
    "atexit.register(peak)\n"
    "from pipeline.cli import main\n"
    "sys.argv[0] = 'centra-pipeline'\n"
    "main()\n"
)


def run_import(ws: Path, url: str) -> tuple[float, int, dict[str, Any]]:
    """``centra-pipeline run`` as its own process: (seconds, peak RSS in bytes, JSON summary)."""
    env = {**os.environ, "CENTRA_USERNAME": USER, "CENTRA_PASSWORD": PASSWORD, "CENTRA_URL": url}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CLI_WITH_PEAK, "--workspace", str(ws), "--json", "run"],
        capture_output=True, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    err = proc.stderr.decode()
    peak = int(err.rpartition("PEAK ")[2].split()[0]) * 1024 if "PEAK " in err else 0
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"run failed ({proc.returncode}): {err[-2000:]}") from None
    if summary.get("exit_code") != 0:
        raise SystemExit(f"run reported problems: {json.dumps(summary)[:2000]}")
    return elapsed, peak, summary


def stage_import(tmp: Path, products: int) -> dict[str, Any]:
    data = tmp / "import-data"
    data.mkdir()
    files = [data / "sizes.csv", data / "articles.csv"]
    workload.write_sizes(files[0])
    workload.write_articles(files[1], products)
    bodies = prebuilt_bodies(files)
    size_mb = sum(len(b) for _, b in bodies) / 1e6
    with serve(str(tmp / "floor.db")) as url:
        floor_s = floor_ingest(url, bodies)
    del bodies
    with serve(str(tmp / "import.db")) as url:
        ws = workspace(tmp / "ws-import", url, files)
        ours_s, peak, summary = run_import(ws, url)
    rows = sum(f["rows_sent"] for f in summary["files"])
    return {"ours": ours_s, "floor": floor_s, "goal": 1.2, "peak": peak, "products": products,
            "note": f"{rows:,} rows sent; {size_mb:.0f} MB of requests"}  # fmt: skip


def stage_full_import(tmp: Path, data: Path) -> dict[str, Any]:
    """`run` of the whole catalogue (no floor: the sandbox alone would take minutes more)."""
    with serve(str(tmp / "full.db")) as url:
        ws = workspace(tmp / "ws-full", url, [data / "sizes.csv", data / "articles.csv"])
        seconds, peak, summary = run_import(ws, url)
    rows = sum(f["rows_sent"] for f in summary["files"])
    return {"seconds": seconds, "peak": peak, "rows": rows}


def stage_memory(tmp: Path, products: int) -> dict[str, Any]:
    """Peak memory of an import of one file against the same import of four such files."""
    peaks = {}
    for count in (1, 4):
        folder = tmp / f"mem{count}"
        folder.mkdir()
        files = [folder / "sizes.csv"]
        workload.write_sizes(files[0])
        for n in range(count):
            files.append(folder / f"articles-{n}.csv")
            workload.write_articles(files[-1], products, start=n * products)
        with serve(":memory:") as url:
            ws = workspace(folder / "ws", url, files)
            _, peaks[count], _ = run_import(ws, url)
    return peaks


# -- stage 4: pull ----------------------------------------------------------------------------


def stage_pull(orders: int) -> dict[str, Any]:
    f = bench_pull.measure(orders, 5, log=lambda text: say(f"  {text}"))
    note = f"{f['objects']:,} orders, {f['rows']:,} rows, {f['csv_mb']:.1f} MB CSV"
    return {"ours": f["pull_s"], "floor": f["floor_s"], "goal": 1.5, "note": note}


# -- batch size and parallel requests ---------------------------------------------------------


def sweep(tmp: Path, products: int) -> dict[tuple[int, int], float]:
    data = tmp / "sweep-data"
    data.mkdir()
    workload.write_sizes(data / "sizes.csv")
    workload.write_articles(data / "articles.csv", products)
    times: dict[tuple[int, int], float] = {}
    env = {"CENTRA_USERNAME": USER, "CENTRA_PASSWORD": PASSWORD}
    for size in BATCH_SIZES:
        for parallel in PARALLEL:
            with serve(":memory:", latency_ms=5) as url:
                batch = f"batch:\n  default: {size}\n  parallel: {parallel}\n"
                ws = workspace(tmp / f"sweep-{size}-{parallel}", url,
                               [data / "sizes.csv", data / "articles.csv"], batch)  # fmt: skip
                settings = load_settings(ws, env=env)
                with (
                    client_from_settings(settings) as client,
                    Journal.open(ws / "state" / "journal.sqlite") as journal,
                ):
                    started = time.perf_counter()
                    summary = run_batch(settings, client, journal, wait_for_settle=False)
                    times[(size, parallel)] = time.perf_counter() - started
                if summary.exit_code != 0:
                    raise SystemExit(f"sweep run {size}/{parallel} failed: {summary.files}")
    return times


# -- the table --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count (0.05)")
    parser.add_argument("--only", default="", help="comma-separated: catalogue,xlsx,import,"
                        "memory,full,pull,sweep,sandbox")  # fmt: skip
    parser.add_argument("--import-share", type=float, default=0.1,
                        help="share of the catalogue the import stage sends")  # fmt: skip
    args = parser.parse_args()
    stages = set(filter(None, args.only.split(","))) or {
        "catalogue", "xlsx", "import", "memory", "full", "pull", "sweep", "sandbox"}  # fmt: skip
    scale = args.scale
    products = max(10, int(100_000 * scale))
    orders = max(10, int(10_000 * scale))
    xlsx_rows = max(60, int(60_000 * scale))
    small = max(10, int(products * 0.005))  # per file, one file against four
    swept = max(10, int(products * 0.01))  # batch size x parallel requests
    began = time.perf_counter()
    say(f"centra-erp-pipeline benchmarks, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"scale {scale:g}")  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as name:
        tmp = Path(name)
        data = tmp / "data"
        data.mkdir()
        started = time.perf_counter()
        workload.write_sizes(data / "sizes.csv")
        rows = workload.write_articles(data / "articles.csv", products)
        workload.write_articles_xlsx(data / "articles.xlsx", xlsx_rows)
        say(f"workload: {products:,} products, {rows:,} size rows, {xlsx_rows:,} xlsx rows, "
            f"{orders:,} orders; generated in {time.perf_counter() - started:.1f} s")  # fmt: skip
        if "sandbox" in stages:
            say("sandbox alone (bench_sandbox.py):")
            bench_sandbox.measure(requests=2000, log=lambda text: say(f"  {text}"))
        if "catalogue" in stages:
            say("read + map + XML of the catalogue ...")
            results["catalogue"] = stage_catalogue(data, tmp)
        if "xlsx" in stages:
            say("xlsx read ...")
            results["xlsx"] = stage_xlsx(data)
        if "import" in stages:
            # A share of the catalogue: the sandbox's own ingest (the floor) of all of it
            # would take most of the suite's time budget.
            import_products = max(10, int(products * args.import_share))
            say(f"full import over HTTP of {import_products:,} products "
                "(floor first, then `run`) ...")  # fmt: skip
            results["import"] = stage_import(tmp, import_products)
        if "pull" in stages:
            say(f"pull {orders:,} orders ...")
            results["pull"] = stage_pull(orders)
        peaks: dict[int, int] = {}
        if "memory" in stages:
            say("peak memory: one file against four ...")
            peaks = stage_memory(tmp, small)
        if "full" in stages:
            say(f"`run` of the whole catalogue ({products:,} products) for its peak memory ...")
            results["full"] = stage_full_import(tmp, data)
        times: dict[tuple[int, int], float] = {}
        if "sweep" in stages:
            say("batch size x parallel requests, 5 ms added latency ...")
            times = sweep(tmp, swept)
    print_table(results, peaks, small)
    if times:
        print_sweep(times, swept)
    say(f"\nsuite took {time.perf_counter() - began:.0f} s")


def print_table(results: dict[str, dict[str, Any]], peaks: dict[int, int], small: int) -> None:
    labels = {
        "catalogue": "read + map + XML of the catalogue (validate --xml-out)",
        "xlsx": "xlsx read (read_table vs python-calamine)",
        "import": "full import into the sandbox over HTTP (run)",
        "pull": "pull orders to the outbox",
    }
    floors = {
        "catalogue": "pandas read + plain string XML",
        "xlsx": "calamine bare read",
        "import": "bare http.client loop, same bodies",
        "pull": "bare events_Get loop + lxml",
    }
    out = io.StringIO()
    out.write("\n| stage | ours (s) | floor (s) | floor measured | ratio | goal | holds |\n")
    out.write("|---|---:|---:|---|---:|---:|---|\n")
    for key, label in labels.items():
        r = results.get(key)
        if r is None:
            continue
        if key == "import":
            label = f"{label}, {r['products']:,} products"
        ratio = r["ours"] / r["floor"]
        holds = "yes" if ratio <= r["goal"] else "NO"
        out.write(f"| {label} | {r['ours']:.2f} | {r['floor']:.2f} | {floors[key]} | "
                  f"{ratio:.2f}x | {r['goal']:.1f}x | {holds} |\n")  # fmt: skip
    if "import" in results or "full" in results or peaks:
        parts = []
        ok = True
        if "full" in results:
            full = results["full"]
            parts.append(f"`run` of the whole catalogue ({full['rows']:,} rows, "
                         f"{full['seconds']:.0f} s) {full['peak'] / 1e6:,.0f} MB")  # fmt: skip
            ok = full["peak"] <= 1.5e9
        if "catalogue" in results:
            whole = results["catalogue"]["peak"]
            parts.append(f"validate of the whole catalogue {whole / 1e6:,.0f} MB")
            ok = ok and whole <= 1.5e9
        if "import" in results:
            parts.append(f"import of {results['import']['products']:,} products "
                         f"{results['import']['peak'] / 1e6:,.0f} MB")  # fmt: skip
        if peaks:
            parts.append(f"{small:,}-product file: 1 file {peaks[1] / 1e6:,.0f} MB, "
                         f"4 files {peaks[4] / 1e6:,.0f} MB")  # fmt: skip
            ok = ok and peaks[4] <= peaks[1] * 1.25
        out.write(f"| peak memory of the import (RSS) | {'; '.join(parts)} | | | | 1.5 GB, flat "
                  f"in files | {'yes' if ok else 'NO'} |\n")  # fmt: skip
    out.write("\n")
    for key, r in results.items():
        if "note" in r:
            out.write(f"- {key}: {r['note']}\n")
    say(out.getvalue())


def print_sweep(times: dict[tuple[int, int], float], products: int) -> None:
    out = io.StringIO()
    out.write(f"Import of {products:,} products ({products * 6:,} size rows: products, prices, "
              "stock) against the sandbox with 5 ms added latency, seconds:\n\n")  # fmt: skip
    out.write("| products per request | " + " | ".join(f"parallel {p}" for p in PARALLEL) + " |\n")
    out.write("|---:|" + "---:|" * len(PARALLEL) + "\n")
    for size in BATCH_SIZES:
        cells = " | ".join(f"{times[(size, p)]:.2f}" for p in PARALLEL)
        out.write(f"| {size} | {cells} |\n")
    best = min(times, key=lambda k: times[k])
    out.write(f"\nfastest: {best[0]} per request with {best[1]} in parallel "
              f"({times[best]:.2f} s)\n")  # fmt: skip
    say(out.getvalue())


if __name__ == "__main__":
    main()

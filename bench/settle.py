"""Direct-settlement benchmark: 2201 → 2204 → 2207 through the signed gateway on PostgreSQL, next to pgbench.

    .venv/bin/python bench/settle.py [--clients 32] [--seconds 30] [--persons 400] [--port 8765] [--workers 2]

Creates `yidi_bench` (migrated, demo data, N synthetic 漯河 retirees with an approved filing to 北京), starts
uvicorn on it, drives settlements from concurrent asyncio clients, then runs pgbench (TPC-B-like) on the same
PostgreSQL server in `yidi_pgbench`, prints the figures and drops both databases. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import itertools
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psycopg

from yidi.bootstrap import prepare
from yidi.core.certno import checksum_char
from yidi.core.clock import SHANGHAI
from yidi.core.db import Database
from yidi.core.principal import Audience, Principal
from yidi.filing.rules import Basis, Channel, Subtype
from yidi.filing.service import SubmitRequest, submit
from yidi.gateway.client import PATH, GatewayClient, GatewayError, MsgIdGenerator, check
from yidi.people.schemas import PersonIn
from yidi.people.service import add_person
from yidi.security.client import signed_headers

HOSP, KEY_ID, SECRET = "H11010500001", "H11010500001-demo", "demo-secret-H11010500001"
INSURED, TREATED = "411100", "110000"  # 漯河 → 北京
BENCH_DB, PGBENCH_DB = "yidi_bench", "yidi_pgbench"
TARGET_RATIO, TARGET_P99_MS, TARGET_CLIENTS = 0.25, 50.0, 32
ROOT = Path(__file__).resolve().parent.parent


# -- databases -----------------------------------------------------------------------------------------------


def admin(args: argparse.Namespace, sql: str) -> None:
    with psycopg.connect(host=args.pghost, port=args.pgport, user=args.pguser, dbname="postgres", autocommit=True) as c:
        c.execute(sql)  # type: ignore[arg-type]  # fixed DDL on our own database names


def recreate(args: argparse.Namespace, name: str) -> None:
    admin(args, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(args, f"CREATE DATABASE {name}")


def sqlalchemy_url(args: argparse.Namespace, name: str) -> str:
    return f"postgresql+psycopg://{args.pguser}@{args.pghost}:{args.pgport}/{name}"


def synthetic_person(n: int) -> tuple[str, str]:
    """psn_no and a valid synthetic ID number (漯河 源汇区 411102, sequence 900–999 as in the demo data)."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=n // 100)
    first17 = f"411102{born:%Y%m%d}{900 + n % 100:03d}"
    return f"41110090{n:012d}", first17 + checksum_char(first17)


def load(url: str, persons: int) -> list[tuple[str, str]]:
    """Migrate, load the demo, add `persons` 漯河 retirees and file each one to 北京 (auto-approved)."""
    db = Database(url)
    try:
        prepare(db, demo_if_empty=True)
        now = dt.datetime.now(SHANGHAI)
        people = [synthetic_person(n) for n in range(persons)]
        with db.unit_of_work() as session:
            for n, (psn_no, certno) in enumerate(people):
                data = {"insutype": "310", "insuplc_admdvs": INSURED, "psn_type": "1201", "retiree": True,
                        "begndate": "2010-01-01", "balc": "5000.00"}  # fmt: skip
                add_person(session, PersonIn(psn_no=psn_no, psn_name=f"测某{n}", certno=certno, insurances=[data]), now)
        with db.unit_of_work() as session:
            for psn_no, _ in people:
                request = SubmitRequest(psn_no=psn_no, insutype="310", subtype=Subtype.RESETTLED_RETIREE,
                                        target_region=TREATED, begndate=now.date(), basis=Basis.COMMITMENT,
                                        channel=Channel.NATIONAL_APP)  # fmt: skip
                filing = submit(session, Principal(Audience.PERSON, psn_no), request, now)
                if filing.status != "approved":
                    raise SystemExit(f"filing of {psn_no} is {filing.status}, not approved")
        return people
    finally:
        db.dispose()


def fee_items(count: int = 10) -> list[tuple[str, Decimal, Decimal]]:
    """(code, cnt, pric) for `count` drugs of the 北京 demo catalogue without a price cap; cnt × pric is exact."""
    text = resources.files("yidi.catalog").joinpath(f"data/{TREATED}.csv").read_text(encoding="utf-8")
    drugs = [r for r in csv.DictReader(text.splitlines()) if r["med_chrgitm_type"] == "09" and not r["pric_uplmt_amt"]]
    return [(r["med_list_codg"], Decimal(10 + n), Decimal(f"{n + 1}.35")) for n, r in enumerate(drugs[:count])]


# -- server and CPU accounting ----------------------------------------------------------------------------------


def start_server(args: argparse.Namespace, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "YIDI_DATABASE_URL": url}
    cmd = [str(ROOT / ".venv/bin/uvicorn"), "--factory", "yidi.app:create_app", "--host", "127.0.0.1",
           "--port", str(args.port), "--workers", str(args.workers), "--log-level", "warning"]  # fmt: skip
    with log.open("wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{args.port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server not healthy after 60 s:\n{log.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # the session we created: uvicorn's manager and its workers
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> set[int]:
    found, todo = {pid}, [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            children = {int(c) for c in (task / "children").read_text().split()} - found
            found |= children
            todo += children
    return found


def cpu_snapshot(server_pid: int | None) -> dict[tuple[str, int], float]:
    """CPU seconds per (category, pid): "server" (uvicorn tree), "pg" (backends of our databases), "pg-bg"."""
    server = _descendants(server_pid) if server_pid else set()
    out: dict[tuple[str, int], float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if pid in server:
                out[("server", pid)] = _cpu_seconds(pid)
            elif cmd.startswith("postgres: ") and (f" {BENCH_DB} " in cmd or f" {PGBENCH_DB} " in cmd):
                out[("pg", pid)] = _cpu_seconds(pid)
            elif cmd.startswith("postgres: ") and "127.0.0.1(" not in cmd and "[local]" not in cmd:
                out[("pg-bg", pid)] = _cpu_seconds(pid)  # checkpointer, walwriter, …
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy, total) seconds of all CPUs together, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - values[3] - values[4]) / tick, sum(values) / tick


def _client_cpu() -> float:
    """This process (the driver) plus waited-for children (pgbench)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Cpu:
    """Cores used over a window by the client (driver or pgbench), the server, PostgreSQL, and everything else.

    /proc is sampled every 0.5 s so that processes which exit inside the window (pgbench's backends) count too.
    """

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid, self.used, self.busy = server_pid, dict[str, float](), 0.0
        self._seen: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self._seen.update(cpu_snapshot(self.server_pid))

    def __enter__(self) -> Cpu:
        self._first = cpu_snapshot(self.server_pid)
        self._start = (_client_cpu(), machine_cpu(), time.perf_counter())
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sampler.join()
        self._seen.update(cpu_snapshot(self.server_pid))
        (busy, total), wall = machine_cpu(), time.perf_counter() - self._start[2]
        self.used = {"client": _client_cpu() - self._start[0], "server": 0.0, "pg": 0.0, "pg-bg": 0.0}
        for (category, pid), seconds in self._seen.items():
            self.used[category] += seconds - self._first.get((category, pid), 0.0)
        self.used = {k: v / wall for k, v in self.used.items()}  # cores
        self.used["other"] = max(0.0, (busy - self._start[1][0]) / wall - sum(self.used.values()))
        self.busy = (busy - self._start[1][0]) / max(1e-9, total - self._start[1][1])

    def line(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in self.used.items() if v >= 0.005 or k != "server")
        return f"machine busy {self.busy:.0%} of {os.cpu_count()} CPUs; cores used: {parts}"


# -- the driver ---------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    settle_ms: list[float] = field(default_factory=list)
    iteration_ms: list[float] = field(default_factory=list)
    settled: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)


@dataclass
class Driver:
    base_url: str
    people: list[tuple[str, str]]
    items: list[tuple[str, Decimal, Decimal]]
    envelopes: GatewayClient  # builds envelopes only (project code); posting is async here
    rotation: itertools.cycle[tuple[str, str]] = field(init=False)
    visit_numbers: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.rotation = itertools.cycle(self.people)

    async def call(self, http: httpx.AsyncClient, infno: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        body = json.dumps(self.envelopes.envelope(infno, payload, INSURED), ensure_ascii=False).encode("utf-8")
        headers = {**signed_headers(KEY_ID, SECRET, "POST", PATH, body), "content-type": "application/json"}
        started = time.perf_counter()
        response = await http.post(PATH, content=body, headers=headers)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        elapsed_ms = (time.perf_counter() - started) * 1000
        check(infno, answer)  # infcode != 0 or a non-empty err_msg raises GatewayError
        return answer.get("output") or {}, elapsed_ms

    async def iteration(self, http: httpx.AsyncClient, stats: Stats) -> None:
        psn_no, certno = next(self.rotation)
        now = dt.datetime.now(SHANGHAI)
        t = now.strftime("%Y-%m-%d %H:%M:%S")
        started = time.perf_counter()
        try:
            reg, _ = await self.call(http, "2201", {"data": {
                "psn_no": psn_no, "insutype": "310", "begntime": t, "med_type": "11", "mdtrt_cert_type": "02",
                "mdtrt_cert_no": certno, "ipt_otp_no": f"BM{now:%H%M%S}{next(self.visit_numbers):09d}",
                "dept_code": "D01", "caty": "A03"}})  # fmt: skip
            mdtrt_id = reg["data"]["mdtrt_id"]
            lines = [{"feedetl_sn": str(n), "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "1",
                      "med_list_codg": code, "fee_ocur_time": t, "det_item_fee_sumamt": str(cnt * pric),
                      "cnt": str(cnt), "pric": str(pric)} for n, (code, cnt, pric) in enumerate(self.items, 1)]  # fmt: skip
            await self.call(http, "2204", {"feedetail": lines})
            total = sum((cnt * pric for _, cnt, pric in self.items), Decimal("0.00"))
            out, settle_ms = await self.call(http, "2207", {"data": {
                "psn_no": psn_no, "mdtrt_id": mdtrt_id, "med_type": "11", "medfee_sumamt": str(total),
                "insutype": "310", "chrg_bchno": "1", "acct_used_flag": "1", "mdtrt_cert_type": "02",
                "psn_setlway": "01"}})  # fmt: skip
            if str(out["setlinfo"]["medfee_sumamt"]) != str(total):
                raise ValueError(f"2207 medfee_sumamt {out['setlinfo']['medfee_sumamt']} != {total}")
        except (GatewayError, httpx.HTTPError, KeyError, ValueError) as exc:
            stats.errors += 1
            if len(stats.messages) < 5:
                stats.messages.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        stats.settled += 1
        stats.settle_ms.append(settle_ms)
        stats.iteration_ms.append((time.perf_counter() - started) * 1000)

    async def run(self, clients: int, seconds: float) -> tuple[Stats, float]:
        stats = Stats()
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=30.0) as http:

            async def client(deadline: float) -> None:
                while time.perf_counter() < deadline:
                    await self.iteration(http, stats)

            started = time.perf_counter()
            tasks = asyncio.gather(*(client(started + seconds) for _ in range(clients)))
            await asyncio.wait_for(tasks, timeout=seconds + 60)  # in-flight iterations finish; bounded anyway
            return stats, time.perf_counter() - started


# -- pgbench -------------------------------------------------------------------------------------------------------


def pgbench(args: argparse.Namespace) -> tuple[float, str]:
    recreate(args, PGBENCH_DB)
    conn = ["-h", args.pghost, "-p", str(args.pgport), "-U", args.pguser]
    subprocess.run([args.pgbench, *conn, "-i", "-s", "10", "-q", PGBENCH_DB], check=True, capture_output=True)
    cmd = [args.pgbench, *conn, "-c", str(args.clients), "-j", str(min(2, args.clients)), "-T", str(int(args.seconds)),
           PGBENCH_DB]  # fmt: skip
    with Cpu(None) as cpu:
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=args.seconds + 120)
    found = re.search(r"tps = ([0-9.]+) \((?:without initial connection time|excluding connections establishing)\)",
                      done.stdout) or re.search(r"tps = ([0-9.]+)", done.stdout)  # fmt: skip
    if found is None:
        raise SystemExit(f"no tps in pgbench output:\n{done.stdout}\n{done.stderr}")
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    detail = f"latency average {latency.group(1) if latency else '?'} ms; {cpu.line()}"
    return float(found.group(1)), detail


# -- main -----------------------------------------------------------------------------------------------------------


def rank(values: list[float], q: float) -> float:
    """Nearest-rank percentile; infinity when there is nothing to rank."""
    return sorted(values)[max(0, math.ceil(q * len(values)) - 1)] if values else math.inf


def percentiles(values: list[float]) -> str:
    return "p50 {:.1f} / p95 {:.1f} / p99 {:.1f} ms".format(*(rank(values, q) for q in (0.50, 0.95, 0.99)))


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--persons", type=int, default=400)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (not counted)")
    parser.add_argument("--pghost", default="127.0.0.1")
    parser.add_argument("--pgport", type=int, default=5432)
    parser.add_argument("--pguser", default="postgres")
    parser.add_argument("--pgbench", default="/usr/bin/pgbench")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.persons < args.clients:
        parser.error("need clients >= 1, seconds > 0 and persons >= clients")
    signal.signal(signal.SIGTERM, _interrupt)
    server: subprocess.Popen[bytes] | None = None
    workdir = Path(tempfile.mkdtemp(prefix="yidi-bench-"))
    url = sqlalchemy_url(args, BENCH_DB)
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    with Cpu(None) as idle:
        time.sleep(2)
    print(f"yidi at {revision.stdout.strip() or '?'} (plus uncommitted changes, if any); before the run: {idle.line()}")
    try:
        print(f"setting up {BENCH_DB}: migrate, demo data, {args.persons} persons with filings …", flush=True)
        recreate(args, BENCH_DB)
        t0 = time.perf_counter()
        people = load(url, args.persons)
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
        server = start_server(args, url, workdir / "server.log")
        base_url = f"http://127.0.0.1:{args.port}"
        envelopes = GatewayClient(base_url, fixmedins_code=HOSP, key_id=KEY_ID, key=SECRET, mdtrtarea_admvs=TREATED,
                                  fixmedins_name="北京演示第一医院（三级综合）")  # fmt: skip
        envelopes.http.close()  # only its envelope() is used; one msgid generator shared by every client
        envelopes.msgids = MsgIdGenerator(HOSP)
        driver = Driver(base_url, people, fee_items(), envelopes)
        if args.warmup > 0:
            warm, _ = asyncio.run(driver.run(args.clients, args.warmup))
            print(f"warm-up {args.warmup:g} s: {warm.settled} settlements, {warm.errors} errors (not counted)")
        print(f"driving {args.clients} clients for {args.seconds:g} s against {args.workers} worker(s) …", flush=True)
        with Cpu(server.pid) as cpu:
            stats, elapsed = asyncio.run(driver.run(args.clients, args.seconds))
        stop_server(server)
        print(f"pgbench -i -s 10, then -c {args.clients} -j {min(2, args.clients)} -T {int(args.seconds)} …", flush=True)
        tps, pg_detail = pgbench(args)
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            stop_server(server)
        for name in (BENCH_DB, PGBENCH_DB):
            try:
                admin(args, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except psycopg.Error as exc:
                print(f"could not drop {name}: {exc}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    rate = stats.settled / elapsed
    ratio = rate / tps if tps else 0.0
    settle_p99 = rank(stats.settle_ms, 0.99)
    print(f"\n== yidi direct settlement, {args.clients} clients, {args.workers} workers, {args.persons} persons,"
          f" {os.cpu_count()} CPUs ==")  # fmt: skip
    print(f"settlements/s        {rate:.1f}  ({stats.settled} completed 2207 in {elapsed:.1f} s)")
    print(f"2207 latency         {percentiles(stats.settle_ms)}")
    print(f"2201→2204→2207       {percentiles(stats.iteration_ms)}")
    print(f"errors               {stats.errors}" + "".join(f"\n  {m}" for m in stats.messages))
    print(f"load                 {cpu.line()}")
    print(f"pgbench TPS          {tps:.1f}  ({pg_detail})")
    print(f"ratio                {ratio:.3f}  (settlements/s ÷ pgbench TPS)")
    met = ratio >= TARGET_RATIO and settle_p99 <= TARGET_P99_MS and stats.errors == 0
    where = "" if args.clients == TARGET_CLIENTS else f" (the target is defined at {TARGET_CLIENTS} clients)"
    print(f"target               ratio ≥ {TARGET_RATIO} and 2207 p99 ≤ {TARGET_P99_MS:g} ms, no errors:"
          f" {'MET' if met else 'NOT MET'}{where}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

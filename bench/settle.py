"""Direct-settlement benchmark: 2201 → 2204 → 2207 through the signed gateway on PostgreSQL, next to pgbench.

    .venv/bin/python bench/settle.py [--clients 32] [--seconds 30] [--persons 400] [--port 8765] [--workers 2]

Creates `yidi_bench` (migrated, demo data, N synthetic 漯河 retirees with an approved filing to 北京), starts
uvicorn on it, drives settlements from concurrent asyncio clients, then runs pgbench (TPC-B-like) on the same
PostgreSQL server in `yidi_pgbench`, prints the figures and drops both databases. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvloop

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
BENCH_DB, PGBENCH_DB = OURS = "yidi_bench", "yidi_pgbench"
TARGET_RATIO, TARGET_P99_MS, TARGET_CLIENTS = 0.25, 50.0, 32
ROOT = Path(__file__).resolve().parent.parent

STOP, DRIVING = threading.Event(), threading.Event()  # Ctrl-C / SIGTERM while the clients run: finish, then stop
Person = tuple[str, str]  # psn_no, certno
Item = tuple[str, Decimal, Decimal]  # med_list_codg, cnt, pric


def admin(args: argparse.Namespace, *statements: str) -> None:
    with psycopg.connect(host=args.pghost, port=args.pgport, user=args.pguser, dbname="postgres", autocommit=True) as c:
        for sql in statements:
            c.execute(sql.encode())  # fixed DDL on our own database names


def synthetic_person(n: int) -> Person:
    """psn_no and a valid synthetic ID number (漯河 源汇区 411102, sequence 900–999 as in the demo data)."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=n // 100)
    first17 = f"411102{born:%Y%m%d}{900 + n % 100:03d}"
    return f"41110090{n:012d}", first17 + checksum_char(first17)


def load(url: str, persons: int) -> list[Person]:
    """Migrate, load the demo, add `persons` 漯河 retirees and file each one to 北京 (auto-approved online)."""
    db = Database(url)
    try:
        prepare(db, demo_if_empty=True)
        now = dt.datetime.now(SHANGHAI)
        people = [synthetic_person(n) for n in range(persons)]
        insurance = {"insutype": "310", "insuplc_admdvs": INSURED, "psn_type": "1201", "retiree": True,
                     "begndate": "2010-01-01", "balc": "5000.00"}  # fmt: skip
        with db.unit_of_work() as session:
            for n, (psn_no, certno) in enumerate(people):
                person = PersonIn(psn_no=psn_no, psn_name=f"测某{n}", certno=certno, insurances=[insurance])
                add_person(session, person, now)
                request = SubmitRequest(psn_no=psn_no, insutype="310", subtype=Subtype.RESETTLED_RETIREE,
                                        target_region=TREATED, begndate=now.date(), basis=Basis.COMMITMENT,
                                        channel=Channel.NATIONAL_APP)  # fmt: skip
                filing = submit(session, Principal(Audience.PERSON, psn_no), request, now)
                if filing.status != "approved":
                    raise SystemExit(f"filing of {psn_no} is {filing.status}, not approved")
        return people
    finally:
        db.dispose()


def fee_items(count: int = 10) -> list[Item]:
    """`count` drugs of the 北京 demo catalogue without a price cap; cnt × pric has two decimals exactly."""
    text = resources.files("yidi.catalog").joinpath(f"data/{TREATED}.csv").read_text(encoding="utf-8")
    drugs = [r for r in csv.DictReader(text.splitlines()) if r["med_chrgitm_type"] == "09" and not r["pric_uplmt_amt"]]
    return [(r["med_list_codg"], Decimal(10 + n), Decimal(f"{n + 1}.35")) for n, r in enumerate(drugs[:count])]


def start_server(args: argparse.Namespace, url: str, log: Path) -> subprocess.Popen[bytes]:
    cmd = [str(ROOT / ".venv/bin/yidi"), "serve", "--host", "127.0.0.1", "--port", str(args.port),
           "--workers", str(args.workers), "--no-demo"]  # fmt: skip
    # The gateway's rate limits are off: the benchmark measures what the platform can settle, not the limits.
    env = {
        **os.environ,
        "YIDI_DATABASE_URL": url,
        "YIDI_GATEWAY_CALLS_PER_SECOND": "0",
        "YIDI_GATEWAY_ADDRESS_CALLS_PER_SECOND": "0",
    }
    with log.open("wb") as out:  # the child keeps its own descriptor; a new session so that we can stop its group
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
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
    stop_server(proc)
    raise SystemExit(f"server not healthy after 60 s:\n{log.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the session we created: uvicorn's supervisor and its workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def cpu_snapshot(server_pid: int | None) -> dict[tuple[str, int], float]:
    """CPU seconds by (category, pid): "server" (uvicorn's process group), "pg" (our databases, background)."""
    out: dict[tuple[str, int], float] = {}
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit():
                continue
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # state ppid pgrp … utime(11) stime(12)
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        seconds = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        if server_pid and int(stat[2]) == server_pid:
            out[("server", int(entry.name))] = seconds
        elif cmd.startswith("postgres: ") and (any(f" {db} " in cmd for db in OURS) or "(" not in cmd):
            out[("pg", int(entry.name))] = seconds  # no "(": walwriter, checkpointer, … (not others' sessions)
    return out


def machine_cpu() -> tuple[float, float]:  # (busy, total) CPU seconds of the whole machine
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK"), sum(values) / os.sysconf("SC_CLK_TCK")


def client_cpu() -> float:  # this process (the driver) and its waited-for children (pgbench)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Cpu:
    """Cores used in a window by the client (driver or pgbench), server, PostgreSQL and all else (/proc, 0.5 s)."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid, self.used, self.busy, self.processes = server_pid, dict[str, float](), 0.0, list[float]()
        self._seen: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self._seen.update(cpu_snapshot(self.server_pid))

    def __enter__(self) -> Cpu:
        self._first = cpu_snapshot(self.server_pid)
        self._start = (client_cpu(), *machine_cpu(), time.perf_counter())
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._sampler.join()
        self._seen.update(cpu_snapshot(self.server_pid))
        (busy, total), wall = machine_cpu(), time.perf_counter() - self._start[3]
        used = {"client": client_cpu() - self._start[0], "server": 0.0, "pg": 0.0}
        delta = {key: seconds - self._first.get(key, 0.0) for key, seconds in self._seen.items()}
        for (category, _pid), seconds in delta.items():
            used[category] += seconds
        self.used = {k: v / wall for k, v in used.items()}  # in cores
        self.processes = sorted(
            (v / wall for (c, _), v in delta.items() if c == "server" and v / wall >= 0.01), reverse=True
        )
        self.used["other"] = max(0.0, (busy - self._start[1]) / wall - sum(self.used.values()))
        self.busy = (busy - self._start[1]) / max(1e-9, total - self._start[2])

    def line(self) -> str:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in self.used.items() if v >= 0.005 or k != "server")
        split = f" (by server process: {' / '.join(f'{v:.2f}' for v in self.processes)})" if self.processes else ""
        return f"machine busy {self.busy:.0%} of {os.cpu_count()} CPUs; cores used: {parts}{split}"


class HttpConnection:
    """A minimal HTTP/1.1 client on one keep-alive connection (or a new one per request with keepalive 0).

    The driver shares the 2 cores with the server and PostgreSQL, so it must cost little: httpx spent about
    15 ms of CPU per iteration here, this costs well under 1 ms. It handles exactly what the server sends:
    a status line, headers and a Content-Length body.
    """

    def __init__(self, host: str, port: int, keepalive: bool) -> None:
        self.host, self.port, self.keepalive = host, port, keepalive
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"POST {path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if not self.keepalive:
            lines.append("connection: close")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        payload = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if not self.keepalive or fields.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


@dataclass
class Stats:
    settle_ms: list[float] = field(default_factory=list)  # one per completed settlement
    iteration_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class HttpStatusError(Exception):
    pass


@dataclass
class Driver:
    base_url: str
    people: list[Person]
    items: list[Item]
    envelopes: GatewayClient  # the project's envelope builder and msgid generator; posting is async here
    rotation: itertools.cycle[Person] = field(init=False)
    visit_numbers: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.rotation = itertools.cycle(self.people)  # round-robin: concurrent clients rarely share a person

    async def call(self, http: HttpConnection, infno: str, payload: dict[str, Any]) -> tuple[dict[str, Any], float]:
        body = json.dumps(self.envelopes.envelope(infno, payload, INSURED), ensure_ascii=False).encode("utf-8")
        headers = {**signed_headers(KEY_ID, SECRET, "POST", PATH, body), "content-type": "application/json"}
        started = time.perf_counter()
        status, raw = await http.post(PATH, body, headers)
        if not 200 <= status < 300:
            raise HttpStatusError(f"HTTP {status}: {raw[:200]!r}")
        answer: dict[str, Any] = json.loads(raw, parse_float=Decimal)  # amounts are JSON numbers: read as decimals
        elapsed_ms = (time.perf_counter() - started) * 1000
        check(infno, answer)  # GatewayError on infcode != 0 or a non-empty err_msg
        return answer.get("output") or {}, elapsed_ms

    async def iteration(self, http: HttpConnection, stats: Stats) -> None:
        psn_no, certno = next(self.rotation)
        now = dt.datetime.now(SHANGHAI)
        t, number = now.strftime("%Y-%m-%d %H:%M:%S"), f"BM{now:%H%M%S}{next(self.visit_numbers):09d}"
        total = sum((cnt * pric for _, cnt, pric in self.items), Decimal("0.00"))
        started = time.perf_counter()
        try:
            reg, _ = await self.call(http, "2201", {"data": {
                "psn_no": psn_no, "insutype": "310", "begntime": t, "med_type": "11", "mdtrt_cert_type": "02",
                "mdtrt_cert_no": certno, "ipt_otp_no": number, "dept_code": "D01", "caty": "A03"}})  # fmt: skip
            mdtrt_id = reg["data"]["mdtrt_id"]
            lines = [{"feedetl_sn": str(n), "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": "1",
                      "med_list_codg": code, "fee_ocur_time": t, "det_item_fee_sumamt": str(cnt * pric),
                      "cnt": str(cnt), "pric": str(pric)}
                     for n, (code, cnt, pric) in enumerate(self.items, 1)]  # fmt: skip
            await self.call(http, "2204", {"feedetail": lines})
            out, settle_ms = await self.call(http, "2207", {"data": {
                "psn_no": psn_no, "mdtrt_id": mdtrt_id, "med_type": "11", "medfee_sumamt": str(total),
                "insutype": "310", "chrg_bchno": "1", "acct_used_flag": "1", "mdtrt_cert_type": "02",
                "psn_setlway": "01"}})  # fmt: skip
            if str(out["setlinfo"]["medfee_sumamt"]) != str(total):
                raise ValueError(f"2207 medfee_sumamt {out['setlinfo']['medfee_sumamt']} != {total}")
        except (GatewayError, HttpStatusError, OSError, asyncio.IncompleteReadError, KeyError, TypeError,
                ValueError) as exc:  # fmt: skip
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return
        stats.settle_ms.append(settle_ms)
        stats.iteration_ms.append((time.perf_counter() - started) * 1000)

    async def run(self, connections: list[HttpConnection], seconds: float) -> tuple[Stats, float]:
        """Every client loops on its own connection until the deadline; an iteration in flight then finishes."""
        stats, started = Stats(), time.perf_counter()

        async def client(http: HttpConnection, deadline: float) -> None:
            while time.perf_counter() < deadline and not STOP.is_set():
                await self.iteration(http, stats)

        clients = (client(http, started + seconds) for http in connections)
        await asyncio.wait_for(asyncio.gather(*clients), seconds + 60)
        return stats, time.perf_counter() - started

    async def measure(self, args: argparse.Namespace, server_pid: int) -> tuple[Stats, float, Cpu]:
        """Warm-up, then the measured run on the same (kept-alive, hence already warmed) connections."""
        connections = [HttpConnection("127.0.0.1", args.port, bool(args.keepalive)) for _ in range(args.clients)]
        try:
            # Each person presents a card once (1101): registering a visit needs the person identified at the
            # institution today or yesterday. Done before the timed run, so its figures stay 2201→2204→2207.
            for n, (_, certno) in enumerate(self.people):
                await self.call(connections[n % len(connections)], "1101", {"data": {
                    "mdtrt_cert_type": "02", "mdtrt_cert_no": certno}})  # fmt: skip
            if args.warmup > 0:
                warm, _ = await self.run(connections, args.warmup)
                print(
                    f"warm-up {args.warmup:g} s, not counted: {len(warm.settle_ms)} settled, {len(warm.errors)} errors"
                )
            print(f"driving {args.clients} clients for {args.seconds:g} s, keepalive {args.keepalive} …", flush=True)
            with Cpu(server_pid) as cpu:
                stats, elapsed = await self.run(connections, args.seconds)
            return stats, elapsed, cpu
        finally:
            for http in connections:
                await http.close()


def pgbench(args: argparse.Namespace) -> tuple[float, str]:
    jobs = min(2, args.clients)
    print(f"pgbench -i -s 10, then -c {args.clients} -j {jobs} -T {round(args.seconds)} …", flush=True)
    admin(args, f"DROP DATABASE IF EXISTS {PGBENCH_DB} WITH (FORCE)", f"CREATE DATABASE {PGBENCH_DB}")
    conn = ["-h", args.pghost, "-p", str(args.pgport), "-U", args.pguser]
    subprocess.run([args.pgbench, *conn, "-i", "-s", "10", "-q", PGBENCH_DB], check=True, capture_output=True)  # noqa: S603
    cmd = [args.pgbench, *conn, "-c", str(args.clients), "-j", str(jobs), "-T", str(round(args.seconds)), PGBENCH_DB]
    with Cpu(None) as cpu:
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=args.seconds + 120)  # noqa: S603
    found = re.search(r"tps = ([0-9.]+) \((?:without initial connection time|excluding connections establishing)\)",
                      done.stdout) or re.search(r"tps = ([0-9.]+)", done.stdout)  # fmt: skip
    if found is None:
        raise SystemExit(f"no tps in pgbench output:\n{done.stdout}\n{done.stderr}")
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    return float(found.group(1)), f"latency average {latency.group(1) if latency else '?'} ms; {cpu.line()}"


def on_signal(signum: int, frame: object) -> None:
    if not DRIVING.is_set():
        raise KeyboardInterrupt
    STOP.set()  # the clients finish the iteration in flight; main() then stops


def rank(values: list[float], q: float) -> float:
    """Nearest-rank percentile; infinity when there is nothing to rank."""
    return sorted(values)[max(0, math.ceil(q * len(values)) - 1)] if values else math.inf


def percentiles(values: list[float]) -> str:
    return "p50 {:.1f} / p95 {:.1f} / p99 {:.1f} ms".format(*(rank(values, q) for q in (0.50, 0.95, 0.99)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    options: list[tuple[str, type, object, str | None]] = [
        ("clients", int, 32, None), ("seconds", float, 30.0, None), ("persons", int, 400, None),
        ("port", int, 8765, None), ("workers", int, 2, None), ("warmup", float, 3.0, "seconds of unmeasured load"),
        ("pghost", str, "127.0.0.1", None), ("pgport", int, 5432, None), ("pguser", str, "postgres", None),
        ("pgbench", str, "/usr/bin/pgbench", None),
        ("keepalive", int, 1, "1: keep connections open, as GatewayClient does; 0: a new connection per request"),
    ]  # fmt: skip
    for name, kind, default, text in options:
        parser.add_argument(f"--{name}", type=kind, default=default, help=text or f"default {default}")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds < 1 or args.persons < args.clients:
        parser.error("need --clients >= 1, --seconds >= 1 and --persons >= --clients")
    return args


def main() -> int:
    args = parse_args()
    os.chdir(ROOT)  # the server and this process read the same settings (.env, if any)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where SIGINT is ignored
    signal.signal(signal.SIGTERM, on_signal)
    git = ["/usr/bin/git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    revision = subprocess.run(git, capture_output=True, text=True, check=False).stdout.strip() or "?"  # noqa: S603
    with Cpu(None) as before:
        time.sleep(2)
    print(f"yidi at commit {revision} (and whatever is uncommitted); 2 s before the run: {before.line()}")
    server: subprocess.Popen[bytes] | None = None
    log = Path(f"/tmp/yidi-bench-server-{os.getpid()}.log")  # noqa: S108 - removed at the end
    try:
        print(f"setting up {BENCH_DB}: migrate, demo data, {args.persons} persons with filings …", flush=True)
        admin(args, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)", f"CREATE DATABASE {BENCH_DB}")
        url = f"postgresql+psycopg://{args.pguser}@{args.pghost}:{args.pgport}/{BENCH_DB}"
        people = load(url, args.persons)
        server = start_server(args, url, log)
        base_url = f"http://127.0.0.1:{args.port}"
        envelopes = GatewayClient(base_url, fixmedins_code=HOSP, key_id=KEY_ID, key=SECRET, mdtrtarea_admvs=TREATED,
                                  fixmedins_name="北京演示第一医院（三级综合）")  # fmt: skip
        envelopes.http.close()  # only envelope() is used: one msgid generator shared by every client
        envelopes.msgids = MsgIdGenerator(HOSP)
        driver = Driver(base_url, people, fee_items(), envelopes)
        DRIVING.set()
        stats, elapsed, cpu = uvloop.run(driver.measure(args, server.pid))
        DRIVING.clear()
        if STOP.is_set():
            raise KeyboardInterrupt
        stop_server(server)  # pgbench gets the machine to itself, as the settlements had
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
        log.unlink(missing_ok=True)
    rate = len(stats.settle_ms) / elapsed
    ratio = rate / tps if tps else 0.0
    met = ratio >= TARGET_RATIO and rank(stats.settle_ms, 0.99) <= TARGET_P99_MS and not stats.errors
    where = "" if args.clients == TARGET_CLIENTS else f" (the target is defined at {TARGET_CLIENTS} clients)"
    print(f"\n== {args.clients} clients, {args.workers} workers, {args.persons} persons, keepalive {args.keepalive} ==")
    print(f"settlements/s        {rate:.1f}  ({len(stats.settle_ms)} completed 2207 in {elapsed:.1f} s)")
    print(f"2207 latency         {percentiles(stats.settle_ms)}")
    print(f"2201→2204→2207       {percentiles(stats.iteration_ms)}")
    print(f"errors               {len(stats.errors)}" + "".join(f"\n  {m}" for m in stats.errors[:5]))
    print(f"load                 {cpu.line()}")
    print(f"pgbench TPS          {tps:.1f}  ({pg_detail})")
    print(f"ratio                {ratio:.3f}  (settlements/s ÷ pgbench TPS)")
    print(f"target               ratio ≥ {TARGET_RATIO}, 2207 p99 ≤ {TARGET_P99_MS:g} ms, no errors: "
          f"{'MET' if met else 'NOT MET'}{where}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The load generator of ``bench/checkout.py``: client processes, each an asyncio loop running
some of the counters over keep-alive HTTP/1.1 connections. Imports nothing of the app.

The default client is a minimal HTTP/1.1 client over asyncio streams: requests prebuilt as bytes,
responses read by ``Content-Length``. On a 2-core machine the client shares the server's cores,
so its CPU per request is taken from the server's; ``--client httpx`` runs the same loops through
httpx to compare (it costs several times more per request).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Plan:
    """What one client process does; sent to it pickled."""

    host: str
    port: int
    mode: str  # "floor": GET /healthz in a loop; "checkout": pay code, then order
    counters: list[int]  # the global indices of the counters this process runs
    total_counters: int
    resident_tokens: list[str]
    volunteer_token: str
    outlet_ids: list[int]  # counter i serves at outlet_ids[i % len(outlet_ids)]
    skus: list[str]
    start_at: float  # time.time() at which every process begins
    measure_from: float  # the warm-up ends
    measure_to: float  # the measured window ends; counters stop
    client: str = "raw"  # "raw" or "httpx"
    tag: str = "run"  # idempotency keys are f"{tag}-{counter}-{n}"
    cpus: list[int] | None = None  # pin this process to these CPUs


@dataclass
class Result:
    """One process's figures. Latencies in µs, of the measured window only (a checkout counts
    when it started and ended inside the window)."""

    done: int = 0  # checkouts (or floor requests) completed in the window
    requests: int = 0  # HTTP requests completed in the window
    total_us: list[int] = field(default_factory=list)  # a whole checkout, or one floor request
    pay_code_us: list[int] = field(default_factory=list)
    order_us: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # in the window
    warmup_errors: Counter[str] = field(default_factory=Counter)  # before or after it
    orders_created: int = 0  # 201s over the whole run (warm-up included): rows the DB must hold
    completed: int = 0  # checkouts (or floor requests) completed over the whole run
    cpu_s: float = 0.0  # this process's CPU time (user + system) during the window
    window_s: float = 0.0


class Closed(Exception):
    """The server closed the connection (``Connection: close`` or EOF)."""


class RawConnection:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        try:
            self.writer.write(data)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lower.index(b"\r\n", at + 2)
            body = await self.reader.readexactly(int(lower[at + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(c[:-2] for c in chunks)
        else:
            body = b""
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, body


def _get(path: str, host: str, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()


def _post(path: str, host: str, token: str, key: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class HttpxConnection:
    """The same interface over an ``httpx.AsyncClient`` with one keep-alive connection."""

    def __init__(self, host: str, port: int) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=f"http://{host}:{port}",
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=30,
        )

    def close(self) -> None:
        pass

    async def request(self, data: bytes) -> tuple[int, bytes]:
        # parse back the prebuilt request: the loops below stay the same for both clients
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, path, _ = lines[0].split(" ")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        headers.pop("Host", None)
        headers.pop("Content-Length", None)
        response = await self.client.request(method, path, headers=headers, content=body or None)
        return response.status_code, response.content


def _error_label(status: int, body: bytes) -> str:
    try:
        code = json.loads(body).get("code", "")
    except (ValueError, AttributeError):
        code = ""
    return f"{status} {code}".strip()


async def _run(plan: Plan) -> Result:
    result = Result()
    loop = asyncio.get_running_loop()
    offset = time.time() - time.perf_counter()
    begin = plan.start_at - offset
    window = (plan.measure_from - offset, plan.measure_to - offset)
    host = f"{plan.host}:{plan.port}"
    connect = RawConnection if plan.client == "raw" else HttpxConnection
    cpu_marks: list[float] = []

    def mark_cpu() -> None:
        cpu_marks.append(time.process_time())

    # the CPU marks land on the loop's own clock, as close to the window's ends as it can
    loop.call_at(loop.time() + window[0] - time.perf_counter(), mark_cpu)
    loop.call_at(loop.time() + window[1] - time.perf_counter(), mark_cpu)

    def record(t0: float, t1: float, parts: list[tuple[str, float]]) -> bool:
        if window[0] <= t0 and t1 <= window[1]:
            result.done += 1
            result.requests += len(parts)
            result.total_us.append(int((t1 - t0) * 1e6))
            for name, us in parts:
                if name == "pay_code":
                    result.pay_code_us.append(int(us * 1e6))
                elif name == "order":
                    result.order_us.append(int(us * 1e6))
            return True
        return False

    def error(label: str, t0: float) -> None:
        inside = window[0] <= t0 <= window[1]
        (result.errors if inside else result.warmup_errors)[label] += 1

    async def floor(c: int) -> None:
        conn = connect(plan.host, plan.port)
        request = _get("/healthz", host)
        while (t0 := time.perf_counter()) < window[1]:
            try:
                status, body = await conn.request(request)
            except (OSError, asyncio.IncompleteReadError) as exc:
                error(f"connection {type(exc).__name__}", t0)
                continue
            t1 = time.perf_counter()
            if status != 200:
                error(_error_label(status, body), t0)
                continue
            result.completed += 1
            record(t0, t1, [("healthz", t1 - t0)])
        conn.close()

    async def counter(c: int) -> None:
        phone, till = connect(plan.host, plan.port), connect(plan.host, plan.port)
        mine = plan.resident_tokens[c :: plan.total_counters] or plan.resident_tokens
        pay_code = [_get("/api/v1/me/pay-code", host, t) for t in mine]
        orders_path = f"/api/v1/outlets/{plan.outlet_ids[c % len(plan.outlet_ids)]}/orders"
        n = 0
        while (t0 := time.perf_counter()) < window[1]:
            n += 1
            try:
                status, body = await phone.request(pay_code[n % len(pay_code)])
                t1 = time.perf_counter()
                if status != 200:
                    error(f"pay-code {_error_label(status, body)}", t0)
                    continue
                code = json.loads(body)["code"]
                sku = plan.skus[(c + n) % len(plan.skus)]
                payload = json.dumps({"code": code, "lines": [{"sku": sku, "quantity": 1}]})
                request = _post(
                    orders_path, host, plan.volunteer_token, f"{plan.tag}-{c}-{n}", payload.encode()
                )
                status, body = await till.request(request)
                t2 = time.perf_counter()
            except (OSError, asyncio.IncompleteReadError) as exc:
                error(f"connection {type(exc).__name__}", t0)
                continue
            if status != 201:
                error(f"order {_error_label(status, body)}", t0)
                continue
            result.orders_created += 1
            result.completed += 1
            record(t0, t2, [("pay_code", t1 - t0), ("order", t2 - t1)])
        phone.close()
        till.close()

    await asyncio.sleep(max(0.0, begin - time.perf_counter()))
    work = floor if plan.mode == "floor" else counter
    tasks = [asyncio.ensure_future(work(c)) for c in plan.counters]
    _, pending = await asyncio.wait(tasks, timeout=max(1.0, window[1] - time.perf_counter()) + 30)
    for task in pending:  # a request that never came back
        task.cancel()
        result.errors["timeout (no answer 30 s after the window)"] += 1
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            result.errors[f"client {type(task.exception()).__name__}"] += 1
    if len(cpu_marks) == 2:
        result.cpu_s = cpu_marks[1] - cpu_marks[0]
    result.window_s = window[1] - window[0]
    return result


def run_process(plan: Plan, results: Any) -> None:
    """A client process's entry point: run the plan, put the Result on the ``results`` queue."""
    if plan.cpus:
        os.sched_setaffinity(0, plan.cpus)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        results.put(runner(_run(plan)))
    except BaseException as exc:  # the parent must hear of it, not wait forever
        failed = Result()
        failed.errors[f"client process {type(exc).__name__}: {exc}"] += 1
        results.put(failed)
        raise

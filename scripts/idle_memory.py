"""Idle memory per WebSocket connection, measured as a server operator would: the resident
memory (VmRSS) an echo server gains per open, quiet connection, with real clients in another
process. Run it through scripts/idle-memory.sh, which installs the peers and builds the
examples first.

Mode `idle` (the default), for each server and for each client offer (permessage-deflate with
the client library's default offer, then no compression):
  1. start the server, read its VmRSS before any connection;
  2. open C connections (Python `websockets`, asyncio, in this process; at most --concurrency
     of them handshaking or exchanging at a time); each sends --messages JSON-like text
     messages of --size bytes one after another and checks each echo;
  3. keep all C connections open and quiet for --idle seconds (long enough for any idle timer
     of the server to fire), read VmRSS again;
  4. check every connection is still open and still echoes one more message, then close.
The figure is (VmRSS after the idle wait - VmRSS before) / C.

Mode `seed`: 20 connections with permessage-deflate offered, each echoing an 8 MiB random
binary message and an 8 MiB text message, then 3 s idle; the figure is again VmRSS growth
per connection.

Any wrong echo, refused connection, connection closed by the server, or server that dies
makes the exit status non-zero (after the table is printed). Nothing is asserted about the
figures themselves.
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import websockets
from websockets.asyncio.client import connect
from websockets.protocol import State

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def _node_ws_version():
    try:
        path = os.path.join(ROOT, "tests", "peers", "node", "node_modules", "ws", "package.json")
        with open(path) as f:
            return json.load(f)["version"]
    except OSError:
        return "?"


# name -> (table label, command line given the port). Paths are relative to the repository.
SERVERS = {
    "tokio_echo": (
        "sansws `examples/tokio_echo.rs`",
        lambda port: [
            os.path.join(TARGET, "release", "examples", "tokio_echo"),
            f"127.0.0.1:{port}",
        ],
    ),
    "mio_echo": (
        "sansws `examples/mio_echo.rs`",
        lambda port: [os.path.join(TARGET, "release", "examples", "mio_echo"), f"127.0.0.1:{port}"],
    ),
    "websockets": (
        f"Python `websockets` {websockets.__version__} (defaults)",
        lambda port: [
            sys.executable,
            os.path.join(ROOT, "tests", "peers", "websockets_echo_server.py"),
            str(port),
        ],
    ),
    "ws": (
        f"Node `ws` {_node_ws_version()} (`perMessageDeflate: true`)",
        lambda port: [
            "node",
            os.path.join(ROOT, "tests", "peers", "node", "echo_server.js"),
            str(port),
        ],
    ),
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def rss_kib(pid):
    """VmRSS of `pid` in KiB (the kernel's "kB" is 1024 bytes)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# ---- messages ----

WORDS = (
    "alpha beta gamma delta epsilon omega price quantity order status pending filled cancelled "
    "user admin guest room lobby message reply thread reaction online offline typing true false "
    "null bid ask last volume open high low close EUR USD GBP JPY BTC ETH market limit stop"
).split()


def json_message(rng, conn, seq, size):
    """A JSON object of exactly `size` bytes (ASCII), shaped like a chat or market update."""
    head = f'{{"type":"update","conn":{conn},"seq":{seq},"items":['
    items = []
    length = len(head)
    while True:
        item = (
            f'{{"id":{rng.randrange(10**9)},"user":"{rng.choice(WORDS)}{rng.randrange(10000)}",'
            f'"price":{rng.randrange(100000) / 100},"qty":{rng.randrange(1000)},'
            f'"side":"{rng.choice(("buy", "sell"))}","status":"{rng.choice(WORDS)}",'
            f'"text":"{" ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 8)))}"}}'
        )
        # Leave room for the closing '],"note":"..."}' (at least 12 bytes).
        if length + len(item) + 1 + 12 > size:
            break
        items.append(item)
        length += len(item) + 1
    body = head + ",".join(items) + '],"note":"'
    filler = " ".join(rng.choice(WORDS) for _ in range(size // 3))
    body += filler[: size - len(body) - 2] + '"}'
    assert len(body) == size, (len(body), size)
    return body


def idle_messages(connections, count, size):
    """The same messages for every server: per connection, `count` messages of `size` bytes."""
    out = []
    for c in range(connections):
        rng = random.Random(c)
        out.append([json_message(rng, c, k, size) for k in range(count)])
    return out


def seed_messages(connections, size):
    """Per connection, a random binary message and a JSON-like text message of `size` bytes."""
    rng = random.Random(7)
    parts, length, k = [], 0, 0
    while length < size:
        m = json_message(rng, 0, k, 2048)
        parts.append(m)
        length += len(m) + 1
        k += 1
    text = "\n".join(parts)
    out = []
    for c in range(connections):
        prefix = f"connection {c}\n"
        out.append([random.Random(1000 + c).randbytes(size), (prefix + text)[:size]])
    return out


# ---- one server, one client offer ----


class ServerProcess:
    def __init__(self, name, port, logdir, server_env):
        self.name = name
        self.port = port
        self.log_path = os.path.join(logdir, f"{name}-{port}.log")
        self.log = open(self.log_path, "w")
        cmd = SERVERS[name][1](port)
        env = dict(os.environ, **dict(kv.split("=", 1) for kv in server_env))
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
        )

    def wait_listening(self, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode} before listening")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"not listening after {timeout} s")

    def alive(self):
        return self.proc.poll() is None

    def rss(self):
        if not self.alive():
            raise RuntimeError(f"died (exit status {self.proc.returncode})")
        return rss_kib(self.proc.pid)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def log_tail(self, lines=10):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])


class Failure(Exception):
    pass


async def exchange(ws, messages, who):
    for k, m in enumerate(messages):
        await ws.send(m)
        back = await ws.recv()
        if back != m:
            raise Failure(
                f"{who}: echo {k} differs ({type(m).__name__} of {len(m)} sent, "
                f"{type(back).__name__} of {len(back)} back)"
            )


async def run_clients(server, args, offer_deflate, per_connection, idle):
    """Connects, exchanges, idles, measures; returns a result dict. Raises Failure."""
    url = f"ws://127.0.0.1:{server.port}"
    compression = "deflate" if offer_deflate else None
    sem = asyncio.Semaphore(args.concurrency)
    sockets = [None] * len(per_connection)
    negotiated = {}

    async def one(i):
        async with sem:
            ws = await connect(
                url,
                compression=compression,
                max_size=None,
                ping_interval=None,
                open_timeout=60,
                close_timeout=10,
            )
            sockets[i] = ws
            ext = ws.response.headers.get("Sec-WebSocket-Extensions", "") or "none"
            negotiated[ext] = negotiated.get(ext, 0) + 1
            await exchange(ws, per_connection[i], f"connection {i}")

    def first_error(outcomes):
        for e in outcomes:
            if isinstance(e, BaseException):
                raise e

    started = time.monotonic()
    try:
        first_error(
            await asyncio.gather(
                *(one(i) for i in range(len(per_connection))), return_exceptions=True
            )
        )
        exchanged = time.monotonic() - started
        rss_busy = server.rss()
        await asyncio.sleep(idle)
        rss_idle = server.rss()
        closed = sum(1 for ws in sockets if ws.state is not State.OPEN)
        if closed:
            raise Failure(f"{closed} connections were closed during the idle wait")
        # Every connection still works after its quiet time (a hibernating server wakes).
        last = [[f'{{"after_idle":{i}}}'] for i in range(len(sockets))]

        async def again(i):
            async with sem:
                await exchange(sockets[i], last[i], f"connection {i} after idle")

        first_error(
            await asyncio.gather(*(again(i) for i in range(len(sockets))), return_exceptions=True)
        )
        server.rss()  # still alive
    except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError) as e:
        raise Failure(f"{type(e).__name__}: {e}") from e
    finally:
        open_ = [ws for ws in sockets if ws is not None]
        await asyncio.wait_for(
            asyncio.gather(*(ws.close() for ws in open_), return_exceptions=True), 60
        )
    return {
        "rss_busy": rss_busy,
        "rss_idle": rss_idle,
        "negotiated": negotiated,
        "exchange_s": exchanged,
    }


def port_is_free(port):
    """True if nothing accepts connections on 127.0.0.1:`port` (someone else's server would
    otherwise be measured)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def measure(name, port, args, offer_deflate, per_connection, idle, logdir):
    server = ServerProcess(name, port, logdir, args.server_env)
    try:
        server.wait_listening()
        time.sleep(args.settle)
        rss_before = server.rss()
        result = asyncio.run(run_clients(server, args, offer_deflate, per_connection, idle))
        result["rss_before"] = rss_before
        result["per_conn"] = (result["rss_idle"] - rss_before) / len(per_connection)
        result["per_conn_busy"] = (result["rss_busy"] - rss_before) / len(per_connection)
        return result
    except (Failure, RuntimeError) as e:
        tail = server.log_tail()
        why = str(e)
        if not server.alive():
            why += f" (the server exited with status {server.proc.returncode})"
        raise Failure(f"{name}: {why}" + (f"\n  server log:\n{tail}" if tail else "")) from e
    finally:
        server.stop()


# ---- report ----


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return "?"


def environment():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_gib = int(f.readline().split()[1]) / (1 << 20)
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    if command_output(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with local changes)"
    libc = " ".join(platform.libc_ver())
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} Linux {platform.release()}, {cpu}, "
        f"{os.cpu_count()} cores, {mem_gib:.0f} GiB, {libc}",
        "versions": f"sansws {commit}, {command_output(['rustc', '--version'])}; "
        f"Python {platform.python_version()} with websockets {websockets.__version__}; "
        f"Node {command_output(['node', '--version'])} with ws {_node_ws_version()}",
    }


def short_ext(negotiated):
    """The negotiated Sec-WebSocket-Extensions values, most common first."""
    values = sorted(negotiated.items(), key=lambda kv: -kv[1])
    if len(values) == 1:
        return f"`{values[0][0]}`" if values[0][0] != "none" else "none"
    return ", ".join(f"`{v}` ×{n}" for v, n in values)


def cell(results):
    """Median KiB per connection of several runs, with the range when there are several."""
    figures = [r["per_conn"] for r in results]
    med = statistics.median(figures)
    if len(figures) == 1:
        return f"{med:.1f}"
    return f"{med:.1f} ({min(figures):.1f}–{max(figures):.1f})"


def report(args, env, table, modes, failures, elapsed, command):
    out = []
    w = out.append
    if args.mode == "idle":
        w(
            f"{args.connections} connections; each sends {args.messages} JSON-like text messages of "
            f"{args.size} bytes one after another and checks every echo, then all stay open and "
            f"quiet for {args.idle:g} s. KiB of server VmRSS growth per open connection, from before "
            f"the first connection"
            + (f"; median of {args.runs} runs (range)." if args.runs > 1 else ".")
        )
    else:
        w(
            f"{args.connections} connections with permessage-deflate offered; each echoes an "
            f"{args.size >> 20} MiB random binary message and an {args.size >> 20} MiB JSON-like "
            f"text message, then all stay open and quiet for {args.idle:g} s. KiB of server VmRSS "
            f"retained per connection"
            + (f"; median of {args.runs} runs (range)." if args.runs > 1 else ".")
        )
    w("")
    header = "| server |"
    rule = "|---|"
    for mode in modes:
        title = "permessage-deflate offered" if mode else "no compression offered"
        header += f" {title}: KiB/connection | negotiated |"
        rule += "---:|---|"
    w(header)
    w(rule)
    for name in args.servers:
        row = f"| {SERVERS[name][0]} |"
        for mode in modes:
            results = table.get((name, mode), [])
            if (name, mode) in failures:
                row += " **failed** | |"
            elif not results:
                row += " – | |"
            else:
                row += f" {cell(results)} | {short_ext(results[0]['negotiated'])} |"
        w(row)
    w("")
    w(
        "<details><summary>VmRSS in MiB (first run): before, after the exchange, after the idle wait</summary>"
    )
    w("")
    w("| server | offer | before | after exchange | after idle | KiB/connection after exchange |")
    w("|---|---|---:|---:|---:|---:|")
    for name in args.servers:
        for mode in modes:
            results = table.get((name, mode))
            if not results:
                continue
            r = results[0]
            w(
                f"| {name} | {'deflate' if mode else 'none'} | {r['rss_before'] / 1024:.1f} | "
                f"{r['rss_busy'] / 1024:.1f} | {r['rss_idle'] / 1024:.1f} | {r['per_conn_busy']:.1f} |"
            )
    w("")
    w("</details>")
    w("")
    w(f"- date: {env['date']}")
    w(f"- machine: {env['machine']}")
    w(f"- versions: {env['versions']}")
    if args.server_env:
        w(f"- servers' environment: {', '.join(f'`{kv}`' for kv in args.server_env)}")
    w(f"- command: `{command}` ({elapsed:.0f} s)")
    for key, why in failures.items():
        w(f"- FAILED {key[0]} ({'deflate' if key[1] else 'none'}): {why}")
    return "\n".join(out)


def raise_fd_limit(connections):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * connections + 1024
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            sys.exit(
                f"idle_memory: {connections} connections need {want} file descriptors; the hard limit is {hard}"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("idle", "seed"), default="idle")
    p.add_argument("--connections", type=int, help="default: 2000 (idle), 20 (seed)")
    p.add_argument("--messages", type=int, default=20, help="idle mode: messages per connection")
    p.add_argument("--size", type=int, help="bytes per message: 2048 (idle), 8 MiB (seed)")
    p.add_argument(
        "--idle", type=float, help="seconds of quiet before measuring: 5 (idle), 3 (seed)"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        help="connections handshaking or exchanging at once: 100 (idle), all (seed)",
    )
    p.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated, from: " + ", ".join(SERVERS)
    )
    p.add_argument(
        "--runs", type=int, default=1, help="runs per server and offer; the table shows medians"
    )
    p.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds between a server listening and its first reading",
    )
    p.add_argument(
        "--port", type=int, default=9401, help="first port; each server start takes the next one"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI: 200 connections, 1 s idle (seed mode: 4 connections of 1 MiB)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set in the servers' environment only (repeatable), e.g. MALLOC_MMAP_THRESHOLD_=131072",
    )
    p.add_argument("--output", help="also write the markdown to this file")
    args = p.parse_args()
    seed = args.mode == "seed"
    if args.connections is None:
        args.connections = (4 if args.quick else 20) if seed else (200 if args.quick else 2000)
    if args.size is None:
        args.size = ((1 if args.quick else 8) << 20) if seed else 2048
    if args.idle is None:
        args.idle = 1.0 if args.quick else (3.0 if seed else 5.0)
    if args.concurrency is None:
        args.concurrency = args.connections if seed else 100
    for kv in args.server_env:
        if "=" not in kv:
            p.error(f"--server-env {kv}: NAME=VALUE expected")
    args.servers = [s for s in args.servers.split(",") if s]
    for s in args.servers:
        if s not in SERVERS:
            p.error(f"unknown server {s}")
    for s in ("tokio_echo", "mio_echo"):
        if s in args.servers and not os.access(SERVERS[s][1](0)[0], os.X_OK):
            p.error(f"{SERVERS[s][1](0)[0]} is missing: cargo build --release --examples")
    raise_fd_limit(args.connections)
    command = os.environ.get("IDLE_MEMORY_COMMAND") or shlex.join(
        ["python", "scripts/idle_memory.py", *sys.argv[1:]]
    )

    started = time.monotonic()
    log(f"idle_memory: preparing messages for {args.connections} connections")
    if seed:
        per_connection = seed_messages(args.connections, args.size)
        modes = [True]
    else:
        per_connection = idle_messages(args.connections, args.messages, args.size)
        modes = [True, False]
    env = environment()
    table, failures = {}, {}
    port = args.port
    logdir = tempfile.mkdtemp(prefix="idle-memory-")
    # Runs go round the servers, so a burst of load from elsewhere on the machine spreads over
    # all of them rather than landing on one.
    for run in range(args.runs):
        for name in args.servers:
            for mode in modes:
                if (name, mode) in failures:
                    continue
                while not port_is_free(port):
                    log(f"idle_memory: port {port} is taken, trying the next one")
                    port += 1
                label = f"{name}, {'deflate' if mode else 'no compression'} offered, run {run + 1}/{args.runs}"
                log(f"idle_memory: {label} (port {port})")
                try:
                    r = measure(name, port, args, mode, per_connection, args.idle, logdir)
                except Failure as e:
                    log(f"idle_memory: FAILED {e}")
                    failures[(name, mode)] = str(e).splitlines()[0]
                else:
                    log(
                        f"idle_memory:   {r['per_conn']:.1f} KiB per idle connection "
                        f"(exchange {r['exchange_s']:.1f} s), negotiated {short_ext(r['negotiated'])}"
                    )
                    table.setdefault((name, mode), []).append(r)
                port += 1
    text = report(args, env, table, modes, failures, time.monotonic() - started, command)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    if failures:
        log(f"idle_memory: {len(failures)} failed; server logs in {logdir}")
        sys.exit(1)
    for f in os.listdir(logdir):
        os.remove(os.path.join(logdir, f))
    os.rmdir(logdir)


if __name__ == "__main__":
    main()

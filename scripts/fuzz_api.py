"""Schemathesis against a live server: every answer of the public and token APIs
must be no 5xx and match web/openapi.json.

    scripts/fuzz-api [--database-url URL] [--port 5511] [--max-examples 40]

It makes a scratch instance (the demo's records and stamps, a distributor's API
token), on SQLite by default or in a fresh schema of the PostgreSQL given, serves
it with gunicorn (2 workers) on 127.0.0.1, runs ``st run`` with the checks below,
prints how many cases ran, stops the server and drops what it made. It exits
non-zero on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
PASSPHRASE = "fuzzing passphrase, not a secret"  # noqa: S105


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--port", type=int, default=5511)
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="ocop-fuzz-") as folder,
        _database(args.database_url, Path(folder)) as url,
    ):
        env = _environment(Path(folder), url)
        _run([str(BIN / "ocop"), "demo", "--no-serve"], env, quiet=True)
        token = _api_token(env)
        with _server(env, args.port):
            return _schemathesis(args, token, Path(folder))


@contextlib.contextmanager
def _database(url: str, folder: Path) -> Iterator[str]:
    if not url:
        yield f"sqlite:///{folder / 'fuzz.db'}"
        return
    sys.path.insert(0, str(ROOT))
    from ocop.trace.db import scratch_schema

    with scratch_schema(url, "ocop_fuzz") as scratch:
        yield scratch


def _environment(folder: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCOP_")}
    env.update(
        OCOP_INSTANCE=str(folder / "instance"),
        OCOP_DATABASE_URL=url,
        OCOP_KEY_PASSPHRASE=PASSPHRASE,
        # Schemathesis sends thousands of requests from one address.
        OCOP_RATE_LIMIT="off",
        OCOP_WORKERS="2",
    )
    return env


def _api_token(env: dict[str, str]) -> str:
    code = (
        "from ocop.web import create_app\n"
        "from ocop.trace.queries import find_organisation\n"
        "from ocop.workflows.api_tokens import create_token\n"
        "app = create_app()\n"
        "with app.extensions['ocop.db'].transaction() as s:\n"
        "    _, text = create_token(s, find_organisation(s, '0109456783'), 'fuzz',"
        " created_by='scripts/fuzz-api')\n"
        "print(text)\n"
    )
    return _run([str(BIN / "python"), "-c", code], env).strip().splitlines()[-1]


@contextlib.contextmanager
def _server(env: dict[str, str], port: int) -> Iterator[None]:
    server_env = {**env, "OCOP_BIND": f"127.0.0.1:{port}"}
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed below, after the server)
    server = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "ocop.web:create_app()"],
        env=server_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(port, server)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.seek(0)
        errors = [line for line in log.read().decode(errors="replace").splitlines()
                  if "Traceback" in line or "[ERROR]" in line]  # fmt: skip
        for line in errors[:20]:
            print(f"server: {line}")
        log.close()


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at once (exit {server.returncode})")
        url = f"http://127.0.0.1:{port}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on port {port} within 60 s")


def _schemathesis(args: argparse.Namespace, token: str, folder: Path) -> int:
    command = [
        str(BIN / "st"), "run", f"http://127.0.0.1:{args.port}/api/v1/openapi.json",
        "--checks", CHECKS,
        "--max-examples", str(args.max_examples),
        "--header", f"Authorization: Bearer {token}",
        "--workers", "2",
        "--request-timeout", "30",
        "--suppress-health-check", "too_slow,data_too_large",
        "--warnings", "off",
    ]  # fmt: skip
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    result = subprocess.run(  # noqa: S603
        command, cwd=folder, check=False, capture_output=True, text=True
    )
    # A failing case's request body can be megabytes on one line: shorten each line.
    lines = (result.stdout + "\n" + result.stderr).splitlines()
    print("\n".join(line if len(line) < 400 else line[:400] + " …" for line in lines[-400:]))
    found = re.search(r"(\d+) generated, ([^\n]+)", result.stdout)
    cases = f"{found.group(1)} cases ({found.group(2).strip()})" if found else "? cases"
    print(f"schemathesis on {args.database_url or 'sqlite'}: {cases}, exit {result.returncode}")
    return result.returncode


def _run(command: list[str], env: dict[str, str], *, quiet: bool = False) -> str:
    result = subprocess.run(  # noqa: S603
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n")
        raise SystemExit(f"{command[0]} failed (exit {result.returncode})")
    if not quiet:
        return result.stdout
    return ""


if __name__ == "__main__":
    raise SystemExit(main())

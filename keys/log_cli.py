"""``ocop log``: audit the transparency log of issuance from outside."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import click

from ocop.trace import cli_resources
from ocop.trace.cli import say

from .errors import LogProblem
from .logaudit import audit, log_public_key, read_state, write_state
from .loghead import SignedTreeHead

log_cli = click.Group("log", help="Audit the public transparency log of keys and stamp batches.")

_TIMEOUT = 20
_MOST = 50_000_000  # bytes of one answer: a page of leaves is far below


class HttpSource:
    """The log as a server publishes it, at ``base`` (https://...)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def get(self, path: str) -> Any:
        url = self.base + path
        try:
            with urllib.request.urlopen(url, timeout=_TIMEOUT) as answer:  # noqa: S310 (http(s) only)
                return json.loads(answer.read(_MOST))
        except urllib.error.HTTPError as error:
            raise LogProblem("%(url)s answered %(status)s", url=url, status=error.code) from None
        except (urllib.error.URLError, OSError) as error:
            raise LogProblem(
                "cannot reach %(url)s: %(problem)s", url=url, problem=str(error)
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise LogProblem("%(url)s did not answer JSON", url=url) from None


def _json_file(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise LogProblem(
            "cannot read %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LogProblem("%(path)s is not JSON", path=path) from None


def run_verify(
    source: Any,
    *,
    key_file: str | None,
    sth_file: str | None,
    state: str | None,
    leaves: bool,
    verdict: Any,
) -> list[str]:
    """The command's work, on any source: the notes to print; raises LogProblem."""
    key = log_public_key(_json_file(key_file) if key_file else source.get("/log/v1/key"))
    head = SignedTreeHead.from_json(_json_file(sth_file)) if sth_file else None
    seen = read_state(Path(state)) if state else None
    done = audit(source, key, head=head, seen=seen, leaves=leaves, verdict=verdict)
    if state:
        write_state(Path(state), done.head)
    return list(done.notes)


@log_cli.command("verify")
@click.option("--url", help="The server's address (default: this instance's OCOP_BASE_URL).")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False),
    help="The log's public key (JWK file) instead of asking the server.",
)
@click.option(
    "--sth",
    "sth_file",
    type=click.Path(dir_okay=False),
    help="Check this signed tree head (JSON file) instead of the server's latest.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False),
    help="File with the last head seen: the new one must extend it; then it is kept.",
)
@click.option("--leaves", is_flag=True, help="Fetch every leaf and rebuild the root.")
@click.option("--stamp", "stamp", help="A stamp code or verify URL whose batch must be logged.")
@click.option(
    "--verify-json",
    "verify_json",
    type=click.Path(dir_okay=False),
    help="A saved verify answer (JSON) whose log proof to check.",
)
def verify_command(
    url: str | None,
    key_file: str | None,
    sth_file: str | None,
    state: str | None,
    leaves: bool,
    stamp: str | None,
    verify_json: str | None,
) -> None:
    """Check the log: signed head, consistency with the last one seen, leaves, a stamp's proof.

    Exit status: 0 every check passed, 1 a check failed.
    """
    base = url or cli_resources.settings().base_url
    source = HttpSource(base)
    try:
        verdict = _json_file(verify_json) if verify_json else None
        if stamp:
            token = stamp.rstrip("/").rsplit("/", 1)[-1]
            verdict = source.get("/api/v1/verify/" + urllib.parse.quote(token, safe=""))
        notes = run_verify(
            source,
            key_file=key_file,
            sth_file=sth_file,
            state=state,
            leaves=leaves,
            verdict=verdict,
        )
    except LogProblem as error:
        click.echo(f"FAILED: {say(error)}", err=True)
        sys.exit(1)
    for note in notes:
        click.echo(f"ok: {note}")

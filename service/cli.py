"""The ``bgw`` command: ``bgw serve`` runs the API, ``bgw migrate`` brings the schema up to date."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from service.agents.manifests import (
    ManifestFileError,
    ManifestRejected,
    field_path,
    import_manifests,
    install_builtin,
    line_of,
    parse_manifest_file,
)
from service.agents.runner import AgentBusy, AgentNotFound
from service.config import Settings, get_settings
from service.db import migrate
from service.db.engine import create_engine, create_session_factory
from service.demo.runner import run_demo
from service.domain import AgentRunStatus
from service.schemas.agents import ImportResult
from service.worker import run_agent_once, run_worker
from telemetry.export import otlp_configured

T = TypeVar("T")

app = typer.Typer(help="BGW: board-game shop watcher.", no_args_is_help=True)

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


Workers = Annotated[
    int, typer.Option(min=1, max=64, help="Worker processes (more than 1 needs OTLP and Redis).")
]


@app.command()
def serve(
    host: Host = "0.0.0.0",  # noqa: S104 - a server listens on every interface by default
    port: Port = 8000,
    workers: Workers = 1,
) -> None:
    """Serve the API. The embedded SQLite database is created and migrated on first start."""
    settings = _settings()
    if workers > 1:
        _check_multi_worker(settings)
    _prepare_database(settings)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,  # BGW's own logging (structured, with trace ids) is used
    )


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    site_port: Annotated[int, typer.Option(min=1, max=65535, help="The demo shops' port.")] = 8081,
    phase_seconds: Annotated[
        float, typer.Option(min=1, help="How often the demo shops' catalogue moves on.")
    ] = 15.0,
) -> None:
    """Run BGW against local demo shops whose prices, badges and stock change: within a minute
    there are events of every kind, metrics and traces. Uses ./bgw-demo.db unless DATABASE_URL
    is set. Discounts notify the demo's inbox over the webhook channel (or BGW_WEBHOOK_URL)."""
    site = f"http://127.0.0.1:{site_port}"
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = "sqlite+aiosqlite:///./bgw-demo.db"
    notified = "BGW_WEBHOOK_URL (yours)"
    if "BGW_WEBHOOK_URL" not in os.environ:  # the demo's rule notifies the demo's own inbox
        os.environ["BGW_WEBHOOK_URL"] = notified = f"{site}/inbox"
    get_settings.cache_clear()
    settings = _settings()
    _prepare_database(settings)
    public = f"http://{_reachable(host)}:{port}"
    typer.echo(
        "BGW demo\n"
        f"  demo shops   {site}/  (catalogue moves every {phase_seconds:g} s)\n"
        f"  API docs     {public}/docs\n"
        f"  events       {public}/api/events\n"
        f"  metrics      {public}/api/metrics/prometheus\n"
        f"  stats        {public}/api/metrics/stats\n"
        f"  health       {public}/api/metrics/health\n"
        f"  notified     {notified}  (discounts, over the webhook channel)\n"
        "Agents run every 10 s; events of every kind appear within a minute. Ctrl+C stops."
    )
    asyncio.run(run_demo(settings, host, port, site_port, phase_seconds))


@app.command()
def worker() -> None:
    """Schedule and run agents (run one or more next to `bgw serve` on PostgreSQL + Redis)."""
    settings = _settings()
    _prepare_database(settings)
    asyncio.run(run_worker(settings))


agents_app = typer.Typer(
    help="Agents: run, import, install the built-in ones.", no_args_is_help=True
)
app.add_typer(agents_app, name="agents")


@agents_app.command("run")
def agents_run(agent_id: Annotated[str, typer.Argument(help="The agent's id.")]) -> None:
    """Run one agent now, in this process, and say how it went."""
    settings = _settings()
    _prepare_database(settings)
    try:
        result = asyncio.run(run_agent_once(settings, agent_id))
    except AgentNotFound:
        _fail(f"no agent {agent_id!r}; `GET /api/agents` lists them")
    except AgentBusy as exc:
        _fail(str(exc))
    assert result is not None
    typer.echo(
        f"{agent_id}: {result.status.value} in {result.duration_seconds:.1f} s — "
        f"{result.pages_fetched} page(s) fetched, {result.pages_failed} failed, "
        f"{result.events_created} new event(s)" + (f"; {result.reason}" if result.reason else "")
    )
    if result.status is AgentRunStatus.ERROR:
        raise typer.Exit(code=1)


def _reachable(host: str) -> str:
    """The name to print for a listening address: a wildcard or loopback is `localhost`."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return "localhost" if address.is_unspecified or address.is_loopback else host


@agents_app.command("import")
def agents_import(
    file: Annotated[Path, typer.Argument(help="A JSON manifest, or a list of them.")],
) -> None:
    """Create or update agents from a manifest file (all or nothing)."""
    settings = _settings()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"{file}: not UTF-8 text")
    try:
        manifests = parse_manifest_file(text)
    except ManifestFileError as exc:
        _fail(f"{file}:{exc.line}: {exc.message}")
    _prepare_database(settings)
    try:
        result = asyncio.run(_import(settings, manifests))
    except ManifestRejected as exc:
        loc = exc.problem.loc
        _fail(f"{file}:{line_of(text, loc)}: {field_path(loc)}: {exc.problem.message}")
    typer.echo(
        f"created: {', '.join(result.created) or '-'}; updated: {', '.join(result.updated) or '-'}"
    )


@agents_app.command("install-builtin")
def agents_install_builtin() -> None:
    """Add the built-in shops and their agents (disabled; check selectors, then enable)."""
    settings = _settings()
    _prepare_database(settings)
    stores, agents = asyncio.run(_install_builtin(settings))
    typer.echo(f"stores added: {', '.join(stores) or '-'}")
    typer.echo(f"agents added (disabled): {', '.join(agents) or '-'}")


async def _import(settings: Settings, manifests: list) -> ImportResult:
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            return await import_manifests(session, manifests)
    finally:
        await engine.dispose()


async def _install_builtin(settings: Settings) -> tuple[list[str], list[str]]:
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            return await install_builtin(session)
    finally:
        await engine.dispose()


def _check_multi_worker(settings: Settings) -> None:
    """Each worker is a process with its own meters, counters and locks."""
    if not otlp_configured("metrics"):
        _fail(
            "--workers > 1 needs OTLP metrics export: each worker process keeps its own "
            "metrics, so /api/metrics/prometheus would show one worker's share. Set "
            "OTEL_EXPORTER_OTLP_ENDPOINT to a collector (it aggregates the workers, told apart "
            "by service.instance.id), or run one worker per process and scrape each."
        )
    if not settings.redis_url:
        _fail(
            "--workers > 1 needs REDIS_URL: quotas and locks must be shared between the "
            "worker processes."
        )


@app.command("migrate")
def migrate_command(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations (PostgreSQL or SQLite, from DATABASE_URL)."""
    settings = _settings()
    _run(lambda: migrate.upgrade(settings.database_url, revision), settings)
    current = _run(lambda: migrate.current_revision(settings.database_url), settings)
    typer.echo(f"database at revision {current or 'none'}")


def _prepare_database(settings: Settings) -> None:
    if settings.is_sqlite:
        _run(lambda: migrate.upgrade(settings.database_url), settings)
        return
    current = _run(lambda: migrate.current_revision(settings.database_url), settings)
    head = migrate.head_revision()
    if current != head:
        _fail(
            f"the database is at revision {current or 'none'} and this BGW needs {head}: "
            "run `bgw migrate`"
        )


def _settings() -> Settings:
    try:
        settings = get_settings()
        settings.metrics_bearer_token()  # an unreadable token file is a configuration error
        return settings
    except ValueError as exc:
        if not isinstance(exc, ValidationError):
            _fail(f"invalid configuration: {exc}")
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        _fail(f"invalid configuration: {problems}")


def _run(action: Callable[[], T], settings: Settings) -> T:
    try:
        return action()
    except (OSError, DBAPIError) as exc:
        _fail(f"cannot reach the database ({_redacted(settings.database_url)}): {exc}")


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _fail(message: str) -> NoReturn:
    typer.secho(f"bgw: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)

"""`plumbob serve`: the fleet dashboard, its JSON API and /metrics, over one store.

Starlette routes (a maintained ASGI framework; uvicorn serves it), Jinja2 pages drawn on the
server from the same view functions the JSON API returns (server/views.py), so every page
reads without JavaScript; the report page's findings table and the fleet filter use the
bundled scripts when it runs. Nothing is fetched from elsewhere: styles and scripts are inline
and a Content-Security-Policy forbids any other origin.

The server never writes: it opens the store read-only, reads it through a few pooled
connections (server/reader.py) and keeps computed views until a scan is added.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hmac
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import msgspec
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator

from plumbob.checks.registry import Registry
from plumbob.drift.compare import Diff
from plumbob.render import html as report_html
from plumbob.render.interface import HistoryPoint
from plumbob.render.rules import rules_for
from plumbob.report.model import Report
from plumbob.server import charts, metrics, views
from plumbob.server.reader import StoreReader, WouldBlock, memory_only
from plumbob.store import SqlStore, StoreError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""Inline styles and scripts only (they are bundled in the page): no other origin, ever."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MAX_FINDINGS_WITHOUT_SCRIPT = 1000
"""Findings listed in a cluster page's table for readers without JavaScript."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What `plumbob serve` was told."""

    where: str
    """The store, as messages name it (password masked)."""
    stale_after: timedelta = timedelta(hours=26)
    """A cluster whose latest scan is older is marked stale (a daily CronJob plus slack)."""
    token: str | None = None
    """The bearer token every path but /healthz asks for; None: no token."""


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("plumbob.server", "templates"),
                PackageLoader("plumbob.render", "templates"),
            ]
        ),
        autoescape=select_autoescape(("html", "j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=report_html.finalize,
    )
    env.filters["q"] = lambda text: urllib.parse.quote(str(text), safe="")
    env.filters["money"] = lambda amount, currency="USD": (
        "–" if amount is None else report_html.money(float(amount), currency)
    )
    env.filters["num"] = lambda v: "–" if v is None else f"{v:g}"
    return env


@functools.cache
def _asset(name: str) -> Markup:
    return Markup((resources.files("plumbob.server") / "templates" / name).read_text("utf-8"))


@functools.cache
def _registry() -> Registry:
    return Registry.discover()


def _render(template: str, **context: Any) -> str:
    return (
        _environment()
        .get_template(template)
        .render(
            style=Markup(report_html.asset("report.css")) + _asset("dashboard.css"),
            script=_asset("dashboard.js"),
            **context,
        )
    )


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_render(template, **context), status_code=status, headers=SECURITY_HEADERS)


def _json(value: Any, status: int = 200) -> Response:
    return Response(
        msgspec.json.encode(value),
        status_code=status,
        media_type="application/json",
        headers=SECURITY_HEADERS,
    )


class Dashboard:
    """The routes, over one StoreReader."""

    def __init__(self, reader: StoreReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings

    # ---------------------------------------------------------------- data

    def fleet(self) -> list[views.ClusterRow]:
        """The fleet's rows, each marked stale by the clock now: staleness moves with time
        even when the store does not."""
        now = datetime.now(UTC)
        # rebuilt daily too, so the trend's 30-day window moves on when no scan arrives
        rows, times = self.reader.view(("fleet", now.date()), lambda db: self._fleet_rows(db, now))
        limit = self.settings.stale_after
        stale = [t is None or now - t > limit for t in times]
        if all(r.stale == s for r, s in zip(rows, stale, strict=True)):
            return rows
        return [
            r if r.stale == s else msgspec.structs.replace(r, stale=s)
            for r, s in zip(rows, stale, strict=True)
        ]

    def _fleet_rows(
        self, db: SqlStore, now: datetime
    ) -> tuple[list[views.ClusterRow], list[datetime | None]]:
        rows = views.fleet(db, now, self.settings.stale_after)
        return rows, [views.parse_time(r.scanned_at) for r in rows]

    def cluster(self, name: str) -> views.ClusterView:
        return self.reader.view(("cluster", name), lambda db: views.cluster(db, name))

    def drift(self) -> list[views.DriftRow]:
        return self.reader.view(("drift",), views.fleet_drift)

    def diff(self, before: int, after: int) -> Any:
        return self.reader.view(
            ("diff", before, after), lambda db: views.scan_diff(db, before, after)
        )

    # ---------------------------------------------------------------- pages

    def fleet_page(self, request: Request) -> Response:
        rows = self.fleet()
        params = request.query_params
        text = params.get("q", "").strip()
        only_stale = params.get("stale") == "1"
        sort = params.get("sort", "score")
        sort = sort if sort in SORT_KEYS else "score"
        descending = params.get("order", "asc") == "desc"
        # the page is drawn once per store revision, query and set of stale clusters
        key = ("fleet-page", text, only_stale, sort, descending, tuple(r.stale for r in rows))
        body = self.reader.memo(
            key, lambda: Encoded.of(self._fleet_body(rows, text, only_stale, sort, descending))
        )
        return body.response(request, "text/html; charset=utf-8")

    def _fleet_body(
        self,
        rows: list[views.ClusterRow],
        text: str,
        only_stale: bool,
        sort: str,
        descending: bool,
    ) -> str:
        shown = [
            r
            for r in rows
            if (not text or text.lower() in r.cluster.lower()) and (r.stale or not only_stale)
        ]
        key = SORT_KEYS[sort]
        shown.sort(key=lambda r: (key(r) is None, key(r) or 0, r.cluster))
        if descending:
            known = [r for r in shown if key(r) is not None]
            shown = known[::-1] + [r for r in shown if key(r) is None]
        return _render(
            "fleet.html.j2",
            title="plumbob fleet",
            rows=shown,
            total=len(rows),
            stale=sum(1 for r in rows if r.stale),
            text=text,
            only_stale=only_stale,
            sort=sort,
            descending=descending,
            columns=COLUMNS,
            severities=views.SEVERITIES,
            spark=charts.sparkline,
            where=self.settings.where,
        )

    def cluster_page(self, request: Request) -> Response:
        name = request.path_params["name"]
        view = self.cluster(name)
        body = self.reader.memo(
            ("cluster-page", name), lambda: Encoded.of(self._cluster_body(view))
        )
        return body.response(request, "text/html; charset=utf-8")

    def _cluster_body(self, view: views.ClusterView) -> str:
        name = view.cluster
        history = view.history
        currency = "USD"
        if view.report is not None and view.report.sections.gpu_cost is not None:
            currency = view.report.sections.gpu_cost.currency
        common = {
            "cluster": name,
            "scan": view.scan,
            "scans": list(reversed(history)),
            "charts": charts.history_charts(history, currency) if len(history) > 1 else [],
            "extra_style": _asset("dashboard.css"),
            "where": self.settings.where,
        }
        if view.report is None:
            return _render("cluster_summary.html.j2", title=f"plumbob — {name}", **common)
        report = view.report
        points = [
            HistoryPoint(
                cluster=name,
                scanned_at=h.scanned_at,
                score=h.score,
                findings=h.findings,
                nodes=h.nodes,
            )
            for h in history
        ]
        context = report_html.context(report, rules_for(report, _registry()), points)
        context["title"] = f"plumbob — {name}"
        return (
            _environment()
            .get_template("cluster.html.j2")
            .render(
                **context,
                **common,
                findings_listed=report.findings[:MAX_FINDINGS_WITHOUT_SCRIPT],
            )
        )

    def drift_page(self, request: Request) -> Response:
        rows = self.drift()
        clusters = sorted({c for r in rows for c in r.values})
        return _page(
            "drift.html.j2",
            title="plumbob fleet drift",
            rows=rows,
            clusters=clusters,
            where=self.settings.where,
        )

    def diff_page(self, request: Request) -> Response:
        before, after = _scan_ids(request)
        result = self.diff(before, after)
        return _page("diff.html.j2", title=f"plumbob diff {before} → {after}", d=result)

    # ---------------------------------------------------------------- API

    def api_clusters(self, request: Request) -> Response:
        """
        summary: Every cluster's latest scan
        description: Score, coverage, severity counts, drifted nodes, idle GPUs and their
          monthly cost, time of the last scan (stale when older than the server's
          --stale-after) and the score trend of the last 30 days.
        responses:
          200:
            description: The fleet
            content: {application/json: {schema: {$ref: "#/components/schemas/ClusterList"}}}
        """
        return _json(views.ClusterList(clusters=self.fleet()))

    def api_cluster(self, request: Request) -> Response:
        """
        summary: One cluster's latest scan and its history
        parameters:
          - {name: name, in: path, required: true, schema: {type: string}}
        responses:
          200:
            description: The cluster's latest scan and history
            content: {application/json: {schema: {$ref: "#/components/schemas/ClusterHistory"}}}
          404:
            description: No stored scan of that cluster
            content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}
        """
        view = self.cluster(request.path_params["name"])
        return _json(
            views.ClusterHistory(
                cluster=view.cluster, scan=views.ScanRow.of(view.scan), history=view.history
            )
        )

    def api_report(self, request: Request) -> Response:
        """
        summary: The latest report of one cluster (the JSON report, docs/report.md)
        parameters:
          - {name: name, in: path, required: true, schema: {type: string}}
        responses:
          200:
            description: A plumbob.dev/v1 Report
            content: {application/json: {schema: {$ref: "#/components/schemas/Report"}}}
          404:
            description: No stored scan of that cluster, or one stored without its report
            content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}
        """
        view = self.cluster(request.path_params["name"])
        if view.report is None:
            raise views.NotFound(
                f"scan {view.scan.id} of {view.cluster!r} was stored without its report "
                "(by a plumbob older than the dashboard)"
            )
        return _json(view.report)

    def api_drift(self, request: Request) -> Response:
        """
        summary: Pool attributes compared across clusters, outliers named
        responses:
          200:
            description: Attributes where clusters differ
            content: {application/json: {schema: {$ref: "#/components/schemas/DriftList"}}}
        """
        return _json(views.DriftList(rows=self.drift()))

    def api_diff(self, request: Request) -> Response:
        """
        summary: What changed between two stored scans
        parameters:
          - {name: before, in: query, required: true, schema: {type: integer}}
          - {name: after, in: query, required: true, schema: {type: integer}}
        responses:
          200:
            description: A plumbob.dev/v1 Diff (as `plumbob diff --format json` writes)
            content: {application/json: {schema: {$ref: "#/components/schemas/Diff"}}}
          400:
            description: before or after missing or not a scan id
            content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}
          404:
            description: No stored scan with that id
            content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}
        """
        before, after = _scan_ids(request)
        result = self.diff(before, after)
        # apiVersion and kind written even though they hold their defaults
        return _json({"apiVersion": result.api_version, "kind": result.kind,
                      **msgspec.to_builtins(result)})  # fmt: skip

    # ---------------------------------------------------------------- operation

    def healthz(self, request: Request) -> Response:
        problem = self.reader.healthy()
        if problem is None:
            return PlainTextResponse("ok\n")
        text = f"store unavailable: {report_html.visible(problem)}\n"
        return PlainTextResponse(text, status_code=503)

    def metrics(self, request: Request) -> Response:
        try:
            scans = self.reader.view(("metrics",), metrics.latest)
            body = self.reader.memo(
                ("metrics-text",), lambda: Encoded.of(metrics.exposition(scans))
            )
        except StoreError:
            body = Encoded.of(metrics.exposition([], store_up=False))
        return body.response(request, METRICS_TYPE, SECURITY_HEADERS)

    def openapi(self, request: Request) -> Response:
        return _json(SCHEMAS.get_schema(routes=request.app.routes))


METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Encoded:
    """A body kept with its gzip form, made once: browsers and Prometheus ask for gzip, and
    /metrics of 100 clusters (680 kB) shrinks about twentyfold."""

    plain: bytes
    gzipped: bytes

    @classmethod
    def of(cls, body: str | bytes) -> Encoded:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        return cls(raw, gzip.compress(raw, compresslevel=6, mtime=0))

    def response(
        self, request: Request, media_type: str, headers: dict[str, str] = SECURITY_HEADERS
    ) -> Response:
        accepts = "gzip" in request.headers.get("accept-encoding", "")
        extra = {"Content-Encoding": "gzip"} if accepts else {}
        return Response(
            self.gzipped if accepts else self.plain,
            media_type=media_type,
            headers={**headers, **extra, "Vary": "Accept-Encoding"},
        )


class BadRequest(ValueError):
    """A query parameter the route cannot use: the message names it."""


def _scan_ids(request: Request) -> tuple[int, int]:
    out = []
    for name in ("before", "after"):
        value = request.query_params.get(name, "")
        if not value.isdigit():
            raise BadRequest(f"{name}={value!r}: expected a stored scan id (plumbob history)")
        out.append(int(value))
    return out[0], out[1]


SORT_KEYS: dict[str, Callable[[views.ClusterRow], Any]] = {
    "cluster": lambda r: r.cluster.lower(),
    "score": lambda r: r.score,
    "coverage": lambda r: r.coverage,
    "critical": lambda r: r.severities.get("critical"),
    "high": lambda r: r.severities.get("high"),
    "findings": lambda r: r.findings,
    "drifted": lambda r: r.drifted_nodes,
    "idle": lambda r: r.idle_gpus,
    "cost": lambda r: r.idle_monthly_cost,
    "scanned": lambda r: r.scanned_at,
}
COLUMNS = (
    ("cluster", "cluster"),
    ("score", "score"),
    ("coverage", "coverage"),
    ("findings", "findings"),
    ("drifted", "drifted nodes"),
    ("idle", "idle GPUs"),
    ("cost", "idle cost / month"),
    ("scanned", "last scan"),
)

_, _COMPONENTS = msgspec.json.schema_components(
    [
        views.ClusterList,
        views.ClusterHistory,
        views.DriftList,
        views.Problem,
        Diff,
        Report,
    ],
    ref_template="#/components/schemas/{name}",
)
SCHEMAS = SchemaGenerator(
    {
        "openapi": "3.1.0",
        "info": {
            "title": "plumbob dashboard API",
            "version": "v1",
            "description": "Read-only: the fleet's stored scans (docs/dashboard.md).",
        },
        "components": {
            "schemas": _COMPONENTS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
)


def kept(
    handler: Callable[[Request], Response],
) -> Callable[[Request], Awaitable[Response]]:
    """`handler` answered on the event loop when everything it needs is kept in memory, in a
    worker thread when it must read the store: a kept page costs no thread hand-over, and a
    slow or unreachable store never blocks the loop."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            with memory_only():
                return handler(request)
        except WouldBlock:
            return await run_in_threadpool(handler, request)

    return endpoint


class TokenGuard:
    """Every path but /healthz needs `Authorization: Bearer <token>` when a token is set;
    compared in constant time."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        given = b""
        for key, value in scope.get("headers", []):
            if key == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
        if hmac.compare_digest(given, self.token):
            await self.app(scope, receive, send)
            return
        response = PlainTextResponse(
            "a bearer token is required (Authorization: Bearer ...)\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="plumbob"'},
        )
        await response(scope, receive, send)


def create_app(store: Callable[[], SqlStore], settings: Settings, refresh: float = 5.0) -> Any:
    """The ASGI application: `store` opens a read-only connection (`open_store(url,
    readonly=True)`), called again whenever one fails."""
    reader = StoreReader(store, refresh=refresh)
    board = Dashboard(reader, settings)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith(("/api/", "/openapi"))

    async def store_down(request: Request, exc: Exception) -> Response:
        message = f"The scan store cannot be read: {exc}"
        if wants_json(request):
            return _json({"error": message}, 503)
        return _page("error.html.j2", 503, title="plumbob: store unavailable", message=message,
                     retry=True)  # fmt: skip

    async def not_found(request: Request, exc: Exception) -> Response:
        if wants_json(request):
            return _json({"error": str(exc)}, 404)
        return _page("error.html.j2", 404, title="plumbob: not found", message=str(exc))

    async def bad_request(request: Request, exc: Exception) -> Response:
        if wants_json(request):
            return _json({"error": str(exc)}, 400)
        return _page("error.html.j2", 400, title="plumbob: bad request", message=str(exc))

    routes = [
        Route("/", kept(board.fleet_page), include_in_schema=False),
        Route("/drift", kept(board.drift_page), include_in_schema=False),
        Route("/diff", kept(board.diff_page), include_in_schema=False),
        Route("/clusters/{name:path}", kept(board.cluster_page), include_in_schema=False),
        Route("/api/v1/clusters", kept(board.api_clusters)),
        Route("/api/v1/clusters/{name:path}", kept(board.api_cluster)),
        Route("/api/v1/reports/{name:path}", kept(board.api_report)),
        Route("/api/v1/drift", kept(board.api_drift)),
        Route("/api/v1/diff", kept(board.api_diff)),
        Route("/healthz", board.healthz, include_in_schema=False),
        Route("/metrics", kept(board.metrics), include_in_schema=False),
        Route("/openapi.json", board.openapi, include_in_schema=False),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        reader.close()  # shutting down: the pooled connections go with it

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            StoreError: store_down,
            views.NotFound: not_found,
            BadRequest: bad_request,
        },
    )
    app.state.reader = reader
    return TokenGuard(app, settings.token)

"""The `pgdrip serve` ASGI app: one Starlette app for the public endpoints, the admin pages and
/metrics, with two psycopg async pools opened for its lifetime: one for the recipients' requests
(tracked links, unsubscribes, /healthz), one for the admin pages and /metrics, whose statements
have a timeout (PGDRIP_ADMIN_STATEMENT_TIMEOUT). A slow admin page can hold only the admin pool."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.errors import QueryCanceled
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .. import queries
from . import admin, metrics, public
from .auth import LoginLimiter
from .common import HERE, AccessLog, SecurityHeaders, loggable_path
from .config import ServeSettings

MAX_BODY = 1024 * 1024  # the admin forms (step bodies) are the largest bodies anyone sends
log = logging.getLogger("pgdrip.serve")


async def use_admin_role(conn: psycopg.AsyncConnection) -> None:
    """Every pooled connection works as drip_admin when its login role may (least privilege: a
    superuser DSN still cannot drop a table from here); otherwise with the login role's own
    rights, which must then cover what drip_admin is granted."""
    row = await (await conn.execute(queries.ADMIN_ROLE)).fetchone()
    if row["can"]:
        await conn.execute(queries.SET_ADMIN_ROLE)


def configure_with_timeout(seconds: float):
    """Configures a pooled connection: drip_admin, and a statement timeout for its pool."""

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await use_admin_role(conn)
        await conn.execute(queries.SET_STATEMENT_TIMEOUT, {"ms": str(int(seconds * 1000))})

    return configure


def create_app(settings: ServeSettings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        def make(name: str, size: int, timeout: float, **extra: object) -> AsyncConnectionPool:
            return AsyncConnectionPool(settings.dsn, min_size=1, max_size=size, open=False, name=name,
                                       configure=configure_with_timeout(timeout),
                                       kwargs={"autocommit": True, "row_factory": dict_row,
                                               "application_name": f"pgdrip-serve-{name}"}, **extra)

        # recipients: every statement is one function call of milliseconds; a stuck lock frees
        # its connection after PUBLIC_STATEMENT_TIMEOUT rather than hold it
        public_pool = make("public", settings.pool_size, settings.public_statement_timeout)
        # admins: a connection is checked on its way out of the pool (a round trip the pages can
        # afford), so a statement never meets a connection the server dropped; none is retried
        admin_pool = make("admin", settings.admin_pool_size, settings.admin_statement_timeout,
                          check=AsyncConnectionPool.check_connection)
        await public_pool.open(wait=True, timeout=15)
        await admin_pool.open(wait=True, timeout=15)
        app.state.public_pool, app.state.pool = public_pool, admin_pool
        try:
            yield
        finally:
            await admin_pool.close()
            await public_pool.close()

    async def server_error(request: Request, exc: Exception) -> Response:
        # never a traceback to the client; the log has the exception
        return PlainTextResponse("Something went wrong on our side. Please try again later.\n", status_code=500)

    async def too_slow(request: Request, exc: Exception) -> Response:
        # a statement timeout, or no connection free in time: the server is busy, not broken
        log.warning("%s %s: %s", request.method, loggable_path(request.url.path), " ".join(str(exc).split()))
        return PlainTextResponse("The server is busy. Please try again in a moment.\n", status_code=503,
                                 headers={"Retry-After": "5"})

    routes = [*public.routes, *metrics.routes, *admin.routes,
              Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(AccessLog), Middleware(SecurityHeaders, hsts=settings.hsts)],
                    exception_handlers={500: server_error, QueryCanceled: too_slow, PoolTimeout: too_slow},
                    max_body_size=MAX_BODY)
    app.state.settings = settings
    app.state.login_limiter = LoginLimiter()
    return app

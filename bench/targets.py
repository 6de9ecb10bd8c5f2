"""Servers for the benchmarks, each in its own process: ``python -m bench.targets emulator|bare``.

``bare`` is the emulator's own server stack (uvicorn + Starlette, same settings) answering one
constant JSON body: the ceiling the emulator's prompts:chat is compared with.
"""

from __future__ import annotations

import argparse
import json

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.emulator import (
    EmulatorConfig,
    EmulatorService,
    SystemClock,
    base_url_of,
    bind,
    build_app,
    serve,
)
from harness.emulator.chat import CITATIONS

BENCH_KEY = "bench-organisation-key"


def bare_app() -> Starlette:
    body = json.dumps({"answer": "constant", "citations": CITATIONS}).encode()

    async def answer(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/bv/aisk/v1/prompts:chat", answer, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["emulator", "bare"])
    args = parser.parse_args()
    sock = bind("127.0.0.1", 0)
    if args.kind == "bare":
        app = bare_app()
    else:
        config = EmulatorConfig(api_keys=(SecretStr(BENCH_KEY),))
        app = build_app(EmulatorService(config, SystemClock()))
    print(base_url_of(sock), flush=True)
    serve(app, sock)


if __name__ == "__main__":
    main()

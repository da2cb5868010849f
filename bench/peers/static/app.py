"""The bare peer for segment serving: Starlette's StaticFiles (Range, ETag) over BENCH_STATIC_DIR."""

import os

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

app = Starlette(routes=[Mount("/static", app=StaticFiles(directory=os.environ["BENCH_STATIC_DIR"]))])

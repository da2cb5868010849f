# syntax=docker/dockerfile:1.7
# Multi-stage: build the virtualenv from uv.lock, then copy it into a slim runtime as a non-root user.
FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY server ./server
COPY channels ./channels
COPY models ./models
COPY piccolo_migrations ./piccolo_migrations
COPY piccolo_conf.py ./

FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 socialflow
WORKDIR /app
COPY --from=build --chown=socialflow:socialflow /app /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 DATA_DIR=/data
RUN mkdir -p /data && chown socialflow:socialflow /data
USER socialflow
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz',timeout=2)"
# exec form: uvicorn gets SIGTERM directly and shuts down gracefully (sockets close with 1001).
CMD ["python", "-m", "server", "serve"]

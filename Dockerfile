# syntax=docker/dockerfile:1
# linkdoctor: the CLI, `serve` (dashboard, API, scheduler) and `worker`, with the [distributed] extra.
#
#   docker build -t linkdoctor .
#   docker run --rm linkdoctor check https://example.org/
#   docker compose up --build          # serve, workers, PostgreSQL and Redis: see compose.yaml
#
# Two stages: `build` makes a virtual environment with linkdoctor and its dependencies (compilers and pip's
# cache stay there); `runtime` copies only that environment onto a slim Python and runs as an unprivileged
# user. Everything the dashboard serves (templates, static files, Swagger UI for /docs) is inside the
# installed packages: the image needs no network at run time but for the sites it checks.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m venv /opt/linkdoctor \
    && /opt/linkdoctor/bin/pip install --upgrade pip \
    && /opt/linkdoctor/bin/pip install '.[distributed]'
# Fail the build, not the first page view, when an asset the dashboard serves offline is missing.
RUN /opt/linkdoctor/bin/python -c "\
import importlib.resources as r, pathlib, swagger_ui_bundle; \
assert (pathlib.Path(swagger_ui_bundle.swagger_ui_path) / 'swagger-ui-bundle.js').is_file(), 'Swagger UI'; \
web = r.files('linkdoctor.web'); \
assert web.joinpath('templates').is_dir() and web.joinpath('static').is_dir(), 'dashboard assets'; \
import celery, redis, linkdoctor.distributed.fleet" \
    && /opt/linkdoctor/bin/linkdoctor --version

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="linkdoctor" \
      org.opencontainers.image.description="Find every broken link on a website and say why it broke" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 linkdoctor \
    && useradd --system --uid 10001 --gid linkdoctor --home-dir /var/lib/linkdoctor --create-home \
       --shell /usr/sbin/nologin linkdoctor \
    && install -d -o root -g linkdoctor -m 0750 /etc/linkdoctor/certs
COPY --from=build /opt/linkdoctor /opt/linkdoctor
ENV PATH=/opt/linkdoctor/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_DATA_HOME=/var/lib/linkdoctor
WORKDIR /var/lib/linkdoctor
USER 10001:10001
EXPOSE 8484
# serve's own check; a worker container overrides it with `linkdoctor worker --health` (see compose.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8484/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["linkdoctor"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8484"]

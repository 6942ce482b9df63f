# syntax=docker/dockerfile:1
# Chronicle: a multi-stage build into a slim, non-root image.
#   docker build -t chronicle:TAG .
#   docker run --rm --env-file prod.env chronicle:TAG alembic upgrade head   # migrations, once
#   docker run -d --env-file prod.env -p 8000:8000 chronicle:TAG             # the service
# Pin the base by digest in CI (docker buildx imagetools inspect python:3.11.10-slim-bookworm);
# the exact tag below is the floor.

FROM python:3.11.10-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /venv
# Exactly the lock, hashes checked (requirements/lock.py): the image runs what the suite tested.
COPY requirements ./requirements
RUN /venv/bin/pip install --require-hashes --no-deps -r requirements/uv.txt \
    && /venv/bin/uv pip sync --python /venv/bin/python --require-hashes requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY app ./app
RUN /venv/bin/uv pip install --python /venv/bin/python --no-deps --no-build-isolation . \
    && /venv/bin/uv pip uninstall --python /venv/bin/python uv \
    && /venv/bin/python -m compileall -q /venv

FROM python:3.11.10-slim-bookworm
# The PDF export embeds DejaVu Sans (app/exports/fonts.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --gid 0 --home-dir /srv --shell /usr/sbin/nologin chronicle \
    && mkdir -p /srv/data && chown 10001:0 /srv/data && chmod 0700 /srv/data
WORKDIR /srv
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY migrations ./migrations
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    DATA_DIR=/srv/data \
    WEB_CONCURRENCY=4
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# Workers: WEB_CONCURRENCY (uvicorn reads it). Migrations are never run here: see above.
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "20"]

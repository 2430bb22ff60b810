# syntax=docker/dockerfile:1
# Folio's one backend image: the API (gunicorn, serving the built frontend), the Celery chunk
# and control workers, beat and Flower — docker-compose.yml picks the process per service.
#
#   docker build -t folio-backend .                  the production image (target runtime)
#   docker build --target dev -t folio-backend:dev . the same plus watchfiles, for reloading
#
# Stages: frontend (Node: the Next.js static export) and builder (the virtualenv, from wheels
# only: no compiler anywhere) feed runtime, which holds neither Node nor any build tool.
# docs/operations.md tells how to pin the bases by digest and how to read the image size.

# Exact versions; add @sha256:<digest> to pin the bytes too (docs/operations.md).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm
ARG NODE_IMAGE=node:20.19.5-bookworm-slim

# ---- frontend: `npm install && npm run build` makes the static export in frontend/out ----
FROM ${NODE_IMAGE} AS frontend
WORKDIR /frontend
ENV NEXT_TELEMETRY_DISABLED=1
# The lock file alone first: the dependency layer survives source changes.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm install --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# ---- builder: /opt/venv with every runtime dependency, and folio installed in place -------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN python -m venv /opt/venv
# The dependencies, read from pyproject.toml, in a layer that only pyproject.toml invalidates.
# Wheels only (--only-binary): a dependency that would need a compiler fails the build here.
COPY backend/pyproject.toml backend/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('backend/pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install --only-binary=:all: -r /tmp/requirements.txt
# Installed in place (editable), at the path the runtime stage copies the source to: the
# package stays at /app/backend/folio, so config.py finds /app/migrations (two levels up),
# and the install records its version (GET /health) and the `folio` command.
COPY backend/ backend/
RUN pip install --no-deps -e backend \
 && pip uninstall --yes pip setuptools

# ---- runtime: the production image ----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# Tesseract with its French model, for the OCR of scanned pages. --no-install-recommends
# and no lists left behind: about 90 MB with its libraries (docs/operations.md). Versions are
# the Debian release's (the base image pins bookworm), so a rebuild takes its security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tesseract-ocr tesseract-ocr-fra \
 && rm -rf /var/lib/apt/lists/*
# An unprivileged user with fixed ids (volumes and Kubernetes' runAsNonRoot read the number).
# /data is the file store: the named volume mounted there starts with this ownership.
RUN groupadd --system --gid 10001 folio \
 && useradd --system --uid 10001 --gid folio --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin folio \
 && install --directory --owner=folio --group=folio --mode=0750 /data
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FOLIO_ENV=production \
    FOLIO_DATA_DIR=/data \
    FOLIO_FRONTEND_DIR=/app/frontend/out
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY migrations/ migrations/
COPY celery-entrypoint.sh ./
COPY backend/folio/ backend/folio/
COPY --from=frontend /frontend/out frontend/out
# Bytecode made now, as root: the unprivileged user cannot write next to the source.
RUN python -m compileall -q backend/folio migrations
USER 10001:10001
EXPOSE 8000 5555
# The API; docker-compose.yml gives every other service its own command.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--preload", "folio.wsgi:app"]

# ---- dev: runtime plus watchfiles (restarts Celery on a source change) ----------------------
FROM runtime AS dev
USER 0:0
# The `reload` extra of pyproject.toml, installed with the base image's pip (the virtualenv
# has none).
COPY backend/pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['optional-dependencies']['reload']))" \
      > /tmp/reload.txt \
 && /usr/local/bin/python -m pip install --no-cache-dir --python /opt/venv/bin/python \
      --only-binary=:all: -r /tmp/reload.txt \
 && rm /tmp/reload.txt /tmp/pyproject.toml
ENV FOLIO_ENV=development
USER 10001:10001

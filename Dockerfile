# syntax=docker/dockerfile:1
# mdm-bridge production image: `docker build -t mdm-bridge .`
# Build stage: install the locked dependencies, then the project, into /opt/venv.
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY mdm_bridge ./mdm_bridge
COPY connectors ./connectors
COPY policies ./policies
COPY schedules ./schedules
COPY mocks ./mocks
RUN uv sync --frozen --no-dev --no-editable

# Runtime stage: the virtual environment only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/mdm-bridge mdmbridge
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MDM_BRIDGE_HOST=0.0.0.0 \
    MDM_BRIDGE_PORT=8000 \
    MDM_BRIDGE_LOG_FORMAT=json \
    MDM_BRIDGE_DATABASE_URL=sqlite:////var/lib/mdm-bridge/mdm-bridge.db
USER mdmbridge
WORKDIR /var/lib/mdm-bridge
VOLUME ["/var/lib/mdm-bridge"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MDM_BRIDGE_PORT', '8000'), timeout=4)"]
# MDM_BRIDGE_SECRET_KEY must be provided at run time (an environment variable or a secret).
CMD ["mdm-bridge", "serve"]

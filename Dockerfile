# syntax=docker/dockerfile:1
# The BGW image: `bgw serve` by default; docker-compose.yml runs the same image as `bgw worker`
# and `bgw migrate`. Build: `docker compose build` or `docker build -t bgw:local .`
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# Builder: BGW and its runtime dependencies (not the dev extras) installed into a venv.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# The pip the image ships may fail to resolve the OpenTelemetry packages: upgrade it first.
RUN python -m venv /opt/bgw \
    && /opt/bgw/bin/python -m pip install --upgrade pip
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY telemetry ./telemetry
RUN /opt/bgw/bin/python -m pip install .

# Runtime: the same Python, the venv (BGW is installed in it, migrations included), a user.
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="bgw" \
      org.opencontainers.image.description="BGW: board-game shop watcher" \
      org.opencontainers.image.licenses="MIT"
ENV PATH=/opt/bgw/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 bgw \
    && useradd --system --uid 10001 --gid bgw --home-dir /app --shell /usr/sbin/nologin bgw \
    && install -d -o bgw -g bgw /app
COPY --from=builder /opt/bgw /opt/bgw
WORKDIR /app
USER 10001:10001
EXPOSE 8000
CMD ["bgw", "serve", "--host", "0.0.0.0"]

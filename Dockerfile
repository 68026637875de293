# driftwarden container image.
#
#   docker build -t driftwarden .                            # no torch (the MMD detector is off)
#   docker build -t driftwarden --build-arg WITH_TORCH=true . # with torch (CPU wheels)
#   docker run -v dw-state:/var/lib/driftwarden -v /srv/drops:/data/drops driftwarden
#
# The config comes from $DRIFTWARDEN_CONFIG (default: the file baked in from
# deploy/driftwarden.container.toml); mount your own over it. Secrets come from the
# environment (MLFLOW_TRACKING_PASSWORD, ...), never from the image.
FROM python:3.11-slim

# Build with torch only when asked: it adds well over a gigabyte.
ARG WITH_TORCH=false
# CPU wheels by default; point at a CUDA index to build a GPU image.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true \
    DO_NOT_TRACK=true \
    DRIFTWARDEN_CONFIG=/etc/driftwarden/driftwarden.toml

# A fixed numeric uid/gid, so that volume permissions and runAsNonRoot work everywhere.
RUN groupadd --system --gid 10001 driftwarden \
    && useradd --system --uid 10001 --gid driftwarden --home-dir /var/lib/driftwarden \
       --no-create-home --shell /usr/sbin/nologin driftwarden

WORKDIR /opt/driftwarden
COPY pyproject.toml README.md ./
COPY src ./src
RUN if [ "$WITH_TORCH" = "true" ]; then \
        pip install --extra-index-url "$TORCH_INDEX_URL" ".[torch]"; \
    else \
        pip install .; \
    fi \
    && rm -rf src build

COPY deploy/driftwarden.container.toml /etc/driftwarden/driftwarden.toml
RUN install -d -o driftwarden -g driftwarden -m 0750 /var/lib/driftwarden \
    && install -d -o driftwarden -g driftwarden -m 0770 /data/drops

# Ledger, outbox and the embedded MLflow store survive the container.
VOLUME ["/var/lib/driftwarden"]
WORKDIR /var/lib/driftwarden
USER 10001:10001

# /metrics, /healthz, /readyz (metrics.address is 0.0.0.0 in the container config).
EXPOSE 9108
# slim has no curl; the port must match metrics.port of the config in use.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4)"]

# SIGTERM stops the daemon cleanly within seconds (docker stop waits 10 s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["driftwarden"]
CMD ["run"]

# clockify-proxy as a container (a sidecar next to the app that talks to Clockify).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 clockify
WORKDIR /app
COPY pyproject.toml README.md ./
COPY addons ./addons
COPY config ./config
RUN pip install --no-cache-dir .

USER clockify
# The mitmproxy CA lives here: keep it in a volume so the app container can trust it.
VOLUME ["/home/clockify/.mitmproxy"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import socket; socket.create_connection(('127.0.0.1', 8080), 2).close()"]
# Inside a container network the proxy must listen beyond loopback: set proxyauth, or opt in.
ENTRYPOINT ["clockify-proxy", "--listen-host", "0.0.0.0"]
CMD ["--set", "clockify_allow_remote=true"]

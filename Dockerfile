# clockify-proxy as a container: a sidecar next to the app that talks to Clockify.
# Every option is settable from the environment (CLOCKIFY_TIMEZONE, CLOCKIFY_API_KEY_FILE, ...).
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLOCKIFY_LOG_FORMAT=json \
    CLOCKIFY_CA_EXPORT_DIR=/ca

RUN groupadd --gid 10001 clockify \
    && useradd --create-home --uid 10001 --gid 10001 clockify \
    && mkdir /ca \
    && chown 10001:10001 /ca

WORKDIR /app
COPY docker/requirements.txt ./docker/requirements.txt
RUN pip install --no-cache-dir --requirement docker/requirements.txt
COPY pyproject.toml README.md ./
COPY addons ./addons
COPY config ./config
RUN pip install --no-cache-dir --no-deps .

USER 10001:10001
# confdir: the mitmproxy CA, private key included; keep it in a volume so it survives restarts.
# /ca: the public CA certificate only, for the app container to trust (mount it read-only there).
VOLUME ["/home/clockify/.mitmproxy", "/ca"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8080/__clockify-proxy/health'), timeout=4)"]
# In a container network the proxy listens on all interfaces, which clockify-proxy refuses unless
# told how it is protected: set CLOCKIFY_ALLOW_REMOTE=true (a private network) or proxyauth.
ENTRYPOINT ["clockify-proxy", "--listen-host", "0.0.0.0", "--listen-port", "8080"]
CMD []

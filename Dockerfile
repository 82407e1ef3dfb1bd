# annexa: the evidence collector daemon. Build: docker build -t annexa .
# Run:   docker run -d -p 9108:9108 -v annexa-data:/data -v $PWD/annexa.yaml:/etc/annexa.yaml:ro \
#          -e ANNEXA_CONFIG=/etc/annexa.yaml annexa           (see README: Running as a daemon)
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md cli.py ./
COPY checks ./checks
COPY collector ./collector
COPY mappings ./mappings
COPY storage ./storage
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres,celery]'

FROM python:3.12-slim
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin annexa \
 && mkdir /data && chown annexa:annexa /data
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels 'annexa[postgres,celery]'
ENV ANNEXA_DATA_DIR=/data \
    ANNEXA_DAEMON__HOST=0.0.0.0 \
    ANNEXA_LOG_FORMAT=json \
    HOME=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER annexa
WORKDIR /data
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('ANNEXA_DAEMON__PORT', '9108') + '/livez', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["annexa"]
CMD ["daemon"]

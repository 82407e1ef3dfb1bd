# annexa: evidence collector image. Build: docker build -t annexa .
# Run:   docker run --rm -v annexa-data:/data -e AWS_PROFILE ... annexa run
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md cli.py ./
COPY checks ./checks
COPY collector ./collector
COPY mappings ./mappings
COPY storage ./storage
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres]'

FROM python:3.12-slim
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin annexa \
 && mkdir /data && chown annexa:annexa /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels annexa[postgres] && rm -rf /wheels
ENV ANNEXA_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER annexa
WORKDIR /data
ENTRYPOINT ["annexa"]
CMD ["status"]

# seedkit with its PostgreSQL driver, the demo recipes and migrations; runs as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY seedkit ./seedkit
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 seedkit
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=seedkit:seedkit alembic.ini ./
COPY --chown=seedkit:seedkit migrations ./migrations
COPY --chown=seedkit:seedkit recipes ./recipes
RUN chown seedkit:seedkit /app
USER 10001
ENTRYPOINT ["seedkit"]
CMD ["--help"]

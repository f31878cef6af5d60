# paperkg: the API on the embedded SQLite database, seeded on first start.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY models ./models
COPY seed ./seed
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PAPERKG_DATABASE_URL=sqlite:////data/paperkg.db
RUN useradd --create-home --uid 10001 paperkg && mkdir /data && chown paperkg /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER paperkg
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"
CMD ["paperkg", "serve", "--host", "0.0.0.0", "--port", "8000"]

# The loader, dbt and gateway image for server mode (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 GENOSTREAM_TARGET=server
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY genostream ./genostream
COPY genostream_cli ./genostream_cli
COPY loader ./loader
COPY gateway ./gateway
COPY bench ./bench
COPY adapters ./adapters
# The package carries the dbt project and its profile (package data); the build needs them.
COPY dbt_project ./dbt_project
COPY profiles.yml ./
RUN pip install --no-cache-dir -c constraints.txt . ./adapters/dbt-chdb
RUN useradd --create-home genostream && chown -R genostream /app
USER genostream
EXPOSE 8000
CMD ["python", "-m", "gateway", "--host", "0.0.0.0", "--port", "8000"]

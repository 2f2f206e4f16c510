# Airflow image with the platform's package and tools (dbt, GX, jieba) installed from uv.lock.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root pyproject.toml uv.lock README.md /opt/grid/
COPY --chown=airflow:root plugins /opt/grid/plugins
RUN pip install --no-cache-dir uv==0.13.9 \
    && cd /opt/grid && uv export --frozen --no-dev --no-hashes --no-emit-project -o /tmp/req.txt \
    && pip install --no-cache-dir -r /tmp/req.txt && pip install --no-cache-dir --no-deps /opt/grid

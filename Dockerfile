# The application image: Daphne serving Django, Channels and the collab engine.
FROM node:20-bookworm-slim AS bundle
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/js ./js
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 DEBUG=0 HOST=0.0.0.0 PORT=8000 DATA_DIR=/data
WORKDIR /app
# What WeasyPrint (the PDF export) loads at run time: Pango, HarfBuzz's subsetter and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=bundle /app/frontend/static/frontend/build ./frontend/static/frontend/build
# Static files are collected at build time and served by WhiteNoise.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
EXPOSE 8000
# Readiness (/readyz): the database and Redis are reachable and the process is not shutting down.
# Compose starts the proxy once the app is healthy. /healthz is liveness only (the process answers):
# probe that one where an unhealthy container is restarted (Kubernetes' livenessProbe), never
# /readyz, or a database outage would restart every process and drop the edits they keep for it.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
CMD ["python", "-m", "editor.serve"]

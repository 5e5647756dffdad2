# Shop: one image for every process (web, ws, worker, beat, migrate); compose.yaml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app

# The same locked set that `make` and CI install (psycopg, Pillow and uvicorn ship binary wheels).
COPY requirements/lock.txt requirements/lock.txt
RUN pip install -r requirements/lock.txt

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
COPY --chown=app:app . .
USER app

# Static files (admin, API docs) baked into the image; production settings want real services and a
# secret at import, so give them placeholders that are only used by this step.
RUN DJANGO_SECRET_KEY=collectstatic-only-placeholder-0123456789abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

EXPOSE 8000 8001
# HTTP tier: gunicorn WSGI workers (docs/operations.md explains why not ASGI for HTTP).
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]

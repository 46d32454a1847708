# A GPU worker host's image: one Celery worker per GPU (`manage.py workers --gpus all`). The CUDA runtime and
# cuDNN come from NVIDIA's CUDA image; torch's CUDA build and onnxruntime-gpu (requirements-gpu.txt, never beside
# onnxruntime) run on them. The host needs the NVIDIA driver and the container toolkit only.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ZOOBOARD_VAR_DIR=/var/lib/zooboard \
    DEBIAN_FRONTEND=noninteractive PIP_BREAK_SYSTEM_PACKAGES=1
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python-is-python3 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements-base.txt requirements-gpu.txt ./
RUN pip install --no-cache-dir -r requirements-gpu.txt
COPY . .
RUN useradd --system --uid 10001 --user-group --home /var/lib/zooboard zooboard \
    && mkdir -p /var/lib/zooboard /srv/uploads /srv/predictions /srv/cache /srv/data \
    && chown zooboard /var/lib/zooboard /srv/uploads /srv/predictions /srv/cache /srv/data
USER zooboard
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s CMD ["python", "docker/healthcheck.py", "worker"]
CMD ["python", "manage.py", "workers", "--gpus", "all", "--cpu-concurrency", "0", "--", "-l", "info"]

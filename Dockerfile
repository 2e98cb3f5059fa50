# One image for the api, worker and chroma services of compose.yaml.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
WORKDIR /app
COPY pyproject.toml ./
COPY edurag ./edurag
COPY service ./service
COPY ingestion ./ingestion
COPY vectorstore ./vectorstore
COPY finetune ./finetune
COPY eval ./eval
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu .
RUN useradd --create-home edurag && mkdir -p /data /chroma && chown edurag /data /chroma
USER edurag
ENV EDURAG_DATA_DIR=/data
EXPOSE 8000
CMD ["edurag", "serve", "--host", "0.0.0.0", "--port", "8000"]

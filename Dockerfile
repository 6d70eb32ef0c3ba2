# Multi-stage build of Quire: build with the same pinned tools as scripts/setup, run as non-root.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/setup && . scripts/env.sh && cargo leptos build --release --precompress --split

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app quire && mkdir -p /data && chown quire /data
WORKDIR /app
COPY --from=build /src/target/release/quire /app/quire
COPY --from=build /src/target/site /app/site
COPY --from=build /src/Leptos.toml /app/Leptos.toml
ENV QUIRE_ADDR=0.0.0.0:3000 QUIRE_DATA_DIR=/data QUIRE_SITE_ROOT=/app/site LOG_FORMAT=json
USER quire
EXPOSE 3000
CMD ["/app/quire", "serve"]

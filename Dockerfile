# syntax=docker/dockerfile:1
# Shopwire: all four binaries (shopwire-web, shopwire-worker, shopwire-console,
# shopwire-admin) on a slim, non-root runtime. The image runs shopwire-web by default; the
# worker, the seller console and the migrate step run the same image with another command.

# --- manifests: every crate's Cargo.toml plus stand-in target roots --------------------------
# Only this stage sees the real sources. Its output changes only when a manifest or the set of
# targets changes, so the dependency layer below stays cached across source edits, and crates
# added under crates/ are picked up without editing this file.
FROM debian:bookworm-slim AS manifests
WORKDIR /app
COPY crates crates
RUN find crates -type f ! -name Cargo.toml \( ! -name '*.rs' -o \( \
        ! -path '*/src/lib.rs' ! -path '*/src/main.rs' ! -path '*/src/bin/*' ! -path '*/build.rs' \
        ! -path '*/tests/*' ! -path '*/benches/*' ! -path '*/examples/*' \) \) -delete \
 && find crates -type d -empty -delete \
 && find crates -type f -name '*.rs' -exec sh -c \
        'for f; do case "$f" in */src/lib.rs) : > "$f" ;; *) echo "fn main() { }" > "$f" ;; esac; done' \
        sh {} +

# --- builder ---------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /app
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0 \
    SQLX_OFFLINE=true

# The toolchain pinned in rust-toolchain.toml, on its own layer.
COPY rust-toolchain.toml ./
RUN rustup toolchain install && rustc --version

# Dependencies only: rebuilt when Cargo.toml, Cargo.lock or a crate manifest changes.
COPY Cargo.toml Cargo.lock ./
COPY --from=manifests /app/crates crates
RUN cargo build --release --locked --bins

# The real sources. Migrations are embedded in the binaries (sqlx::migrate!). Touch the sources
# so cargo never mistakes them for the older stand-ins it has just built.
COPY crates crates
COPY migrations migrations
RUN find crates migrations -type f -exec touch {} + \
 && cargo build --release --locked --bins

# --- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
# curl is only for container health checks (docker-compose.yml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin shopwire
COPY --from=builder /app/target/release/shopwire-web /app/target/release/shopwire-worker \
     /app/target/release/shopwire-console /app/target/release/shopwire-admin /usr/local/bin/
USER shopwire:shopwire
ENV APP_ENV=production \
    RUST_LOG=info
# 8080: shopwire-web ($PORT); 9091: shopwire-worker health and metrics ($WORKER_PORT);
# 8081: shopwire-console ($CONSOLE_PORT, needs CONSOLE_PASSWORD).
EXPOSE 8080 9091 8081
CMD ["shopwire-web"]

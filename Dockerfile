# syntax=docker/dockerfile:1
#
# amazon-music-mock as a small container: a static (musl) binary on distroless/static, run as a non-root
# user.
#
#   docker build -t amazon-music-mock .
#   docker run --rm -p 8080:8080 -e AMM_ADMIN_TOKEN=change-me amazon-music-mock
#
# It binds 0.0.0.0, so the admin API is reachable by anyone who reaches the port: AMM_ADMIN_TOKEN (or
# --admin-token) makes every admin route but health need `Authorization: Bearer <token>`; without one, the
# server warns at start. The HEALTHCHECK below asks the health route, which needs no token.
#
# Flags go after the image name (`… amazon-music-mock serve --bind 0.0.0.0:8080 --seed 1`) or as AMM_*
# environment variables (`-e AMM_SEED=1`); see README.md.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
ARG TARGET=x86_64-unknown-linux-musl
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add ${TARGET}
# Set before the first build: a profile change would rebuild every dependency.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
WORKDIR /src
# Dependencies first, against stub sources, so that editing the code does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches \
 && echo 'fn main() {}' > src/main.rs \
 && echo 'fn main() {}' > benches/server.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --target ${TARGET} \
 && rm -rf src
COPY src ./src
COPY fixtures ./fixtures
# The stubs' build is newer than the copied sources: touch them so cargo rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --target ${TARGET} \
 && cp target/${TARGET}/release/amazon-music-mock /amazon-music-mock \
 && mkdir /data

# No shell, no package manager, no libc: the binary is all there is (plus CA certificates and /etc/passwd).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /amazon-music-mock /amazon-music-mock
# Where a state file goes (`serve --state /data/mock.db`): owned by the user, so that a named volume mounted
# here starts writable. Replicas sharing a Redis (`serve --state redis://HOST:6379`) need none:
# deploy/compose.yaml.
COPY --from=build --chown=65532:65532 /data /data
USER 65532:65532
EXPOSE 8080
# There is no curl in this image, so the binary checks itself: `amazon-music-mock healthcheck [--addr ADDR]`
# asks GET /__admin/health on 127.0.0.1:8080 (or ADDR, also AMM_HEALTHCHECK_ADDR) and exits 0 on 200, 1
# otherwise. Change it together with --bind.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/amazon-music-mock", "healthcheck"]
ENTRYPOINT ["/amazon-music-mock"]
CMD ["serve", "--bind", "0.0.0.0:8080"]

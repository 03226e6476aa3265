# quaykeeper's three binaries (worker, starter, quaysim) in one small image that runs as a
# non-root user. docker-compose.yml builds it for the worker, the simulator and the demo.

# The builder's Go must be the go.mod version: the official images set GOTOOLCHAIN=local.
FROM golang:1.26.8-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
# Only the Go sources: bin/ and .run/ (a local secret key, the dev server's state) stay out.
COPY activities/ activities/
COPY cmd/ cmd/
COPY internal/ internal/
COPY starter/ starter/
COPY worker/ worker/
COPY workflows/ workflows/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ \
        ./worker ./starter ./cmd/quaysim

FROM alpine:3.22
# busybox's wget serves the compose health checks; the CA bundle comes with the base image.
RUN addgroup -S -g 10001 quaykeeper \
    && adduser -S -D -H -u 10001 -G quaykeeper quaykeeper \
    && mkdir /data && chown quaykeeper:quaykeeper /data
COPY --from=build /out/worker /out/starter /out/quaysim /usr/local/bin/
USER 10001:10001
WORKDIR /data
# The Prometheus endpoint (QUAYKEEPER_METRICS_ADDR) and the simulator's port.
EXPOSE 9464 8480
CMD ["worker"]

# syntax=docker/dockerfile:1
# KalamDB image: the `kalamdb` data plane and the `manager` operator, both
# static Go binaries (CGO_ENABLED=0) on distroless/static, non-root, no shell.
#
#   docker build -t kalamdb/kalamdb:dev .                       (both binaries)
#   docker build --target manager -t kalamdb/operator:dev .     (operator only)
#   docker build --target kalamdb -t kalamdb/kalamdb:dev .      (data plane only)
#
# The pod contract (C4) runs the data plane as ["/kalamdb", "server", "--config",
# "/etc/kalamdb/server.toml"] and the operator as ["/manager"], so both live at
# the filesystem root. e2e/dockerfile_test.go parses this file and builds the
# same packages with the same flags (no Docker engine runs in CI).
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/kalamdb ./cmd/kalamdb
RUN go build -ldflags "-s -w" -o /out/manager ./cmd/manager

# Data plane only.
FROM gcr.io/distroless/static-debian12:nonroot AS kalamdb
COPY --from=build /out/kalamdb /kalamdb
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/kalamdb"]
CMD ["server", "--config", "/etc/kalamdb/server.toml"]

# Operator only.
FROM gcr.io/distroless/static-debian12:nonroot AS manager
COPY --from=build /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]

# Default target: one image carrying both binaries (the chart and the operator
# use the same image for the operator Deployment and the data-plane pods).
FROM gcr.io/distroless/static-debian12:nonroot AS all
COPY --from=build /out/kalamdb /kalamdb
COPY --from=build /out/manager /manager
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/kalamdb"]
CMD ["server", "--config", "/etc/kalamdb/server.toml"]

# Data-plane image: a static kalamdb binary on distroless.
# (No Docker engine runs on the development machines; packaging is built and
# checked by a later issue.)
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/kalamdb ./cmd/kalamdb

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/kalamdb /usr/local/bin/kalamdb
ENV KALAMDB_SERVER_HOST=0.0.0.0 KALAMDB_DATA_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kalamdb", "server"]

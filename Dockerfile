# Roentgen in a container: one image, any role.
#
#   docker build -t roentgen .
#   docker run -p 2020:2020 -v roentgen-data:/data roentgen server --http 0.0.0.0:2020
#   docker run -p 2000:2000/udp -p 2000:2000/tcp roentgen daemon -e http://roentgen:2020
#
# The entrypoint is the binary; the command picks the role (server, daemon,
# demo, or flags alone for everything in one process). The default command
# runs the daemon on all interfaces, as the official X-Ray daemon image does.

# The console (TypeScript) is built first: the binary embeds it.
FROM node:22-bookworm-slim AS ui
WORKDIR /src
COPY ui/package.json ui/package-lock.json ui/
RUN cd ui && npm ci --no-audit --no-fund
COPY ui/ ui/
COPY internal/console/ internal/console/
RUN cd ui && npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=ui /src/internal/console/dist/ internal/console/dist/
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/roentgen ./cmd/roentgen \
 && mkdir -p /out/data /out/spool

# distroless/static: CA certificates and /etc/passwd, no shell; runs as
# the unprivileged user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roentgen /usr/local/bin/roentgen
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/spool /var/spool/roentgen
USER nonroot:nonroot
ENV XDG_DATA_HOME=/data
VOLUME ["/data", "/var/spool/roentgen"]
EXPOSE 2000/udp 2000/tcp 2020/tcp 4317/tcp 4318/tcp
ENTRYPOINT ["/usr/local/bin/roentgen"]
CMD ["daemon", "-b", "0.0.0.0:2000", "-t", "0.0.0.0:2000", "--spool-dir", "/var/spool/roentgen"]

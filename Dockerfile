# imagescan's own image: a static binary on a minimal base, run as a
# non-root user, with the CA certificates a registry's TLS needs. It is
# what deploy/kubernetes runs.
#
#   docker build -t imagescan .        (or: buildah bud -t imagescan .)
#   docker run --rm -v "$PWD/app.tar:/scan/app.tar:ro" imagescan scan /scan/app.tar
#
# The binary is the pure-Go build (no cgo, so no C libraries in the
# image); it finds what the fast build finds, more slowly (docs/performance.md).
# Both base images can be replaced, e.g. by a mirror's copies:
#   --build-arg GO_IMAGE=… --build-arg BASE_IMAGE=…
ARG GO_IMAGE=docker.io/library/golang:1.26-bookworm
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -tags gore2regex -ldflags "-s -w -X main.version=${VERSION}" -o /out/imagescan ./cmd/imagescan

FROM ${BASE_IMAGE}
COPY --from=build /out/imagescan /usr/local/bin/imagescan
# distroless's nonroot user; a numeric id, so that Kubernetes can check
# runAsNonRoot without a passwd lookup.
USER 65532:65532
# The layer cache and the fingerprint key live under $HOME unless told
# otherwise; deploy/kubernetes mounts volumes for both.
ENV HOME=/home/nonroot XDG_CACHE_HOME=/home/nonroot/.cache
ENTRYPOINT ["/usr/local/bin/imagescan"]
CMD ["--help"]

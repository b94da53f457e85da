# syntax=docker/dockerfile:1
# One image per service, chosen with a build argument:
#   docker build --build-arg SERVICE=users --build-arg VERSION=1.2.3 \
#     --build-arg REVISION=$(git rev-parse HEAD) -t ghcr.io/shiftops/users:1.2.3 .
# Without Docker or a registry, cluster/images/build.sh builds it with buildah on a local
# node:24-bookworm-slim made from Debian packages (cluster/images/README.md).
# FAULT (default none) bakes a deliberate fault into a release for rollout tests; see
# docs/images.md. A manifest cannot switch it on: it is a file in the image, not a variable.
# Pin NODE_IMAGE by digest in CI (node:24-bookworm-slim@sha256:...) for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: every dependency, compile the service and service-kit -------------------------------
FROM ${NODE_IMAGE} AS build
ARG SERVICE
# A CA bundle the builder mounts for npm behind a TLS-inspecting proxy (a path, empty by
# default); only the build stages see it, the runtime image never does.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
# Manifests first, so the dependency layer is cached until package-lock.json changes. npm ci
# checks the lockfile against every workspace, hence every workspace's package.json.
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/service-kit/package.json packages/service-kit/
COPY services/users/package.json services/users/
COPY services/shifts/package.json services/shifts/
COPY cli/package.json cli/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages/service-kit/ packages/service-kit/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN npx tsc -b services/${SERVICE}

# --- deps: production dependencies of this one service, plus its compiled code ----------------
FROM ${NODE_IMAGE} AS deps
ARG SERVICE
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/service-kit/package.json packages/service-kit/
COPY services/users/package.json services/users/
COPY services/shifts/package.json services/shifts/
COPY cli/package.json cli/
RUN npm ci --omit=dev --workspace services/${SERVICE} --ignore-scripts --no-audit --no-fund
# npm nests a dependency under its workspace when versions clash (service-kit's ajv 8 next to a
# dev tool's ajv 6 at the root), so the runtime takes this whole tree, not only node_modules/.
COPY --from=build /src/packages/service-kit/dist/ packages/service-kit/dist/
COPY --from=build /src/services/${SERVICE}/dist/ services/${SERVICE}/dist/
COPY services/${SERVICE}/migrations/ services/${SERVICE}/migrations/

# --- runtime: node, production node_modules, dist/ and migrations; nothing writable ------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
WORKDIR /app
# Files stay owned by root and read-only to the app user: the pod runs with a read-only root
# filesystem and only /tmp (an emptyDir) is writable. First, so every release of one source
# shares this layer whatever its version or fault.
COPY --from=deps /src/ ./
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/shiftops/shiftops
ARG FAULT=none
LABEL org.opencontainers.image.title="shiftops-${SERVICE}" \
      org.opencontainers.image.description="shiftops ${SERVICE} API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      io.shiftops.fault="${FAULT}"
ENV NODE_ENV=production \
    PORT=8080 \
    OPS_PORT=9090 \
    APP_VERSION=${VERSION} \
    GIT_COMMIT=${REVISION}
# /app/build-fault, read by packages/service-kit/src/config.ts (relative: the WORKDIR is /app).
RUN printf '%s\n' "${FAULT}" > build-fault
WORKDIR /app/services/${SERVICE}
# The image's `node` user, by number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080 9090
# node runs as PID 1 without an init: the app handles SIGTERM/SIGINT itself (drain, close,
# exit 0) and starts no child processes, so there is nothing to reap.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]

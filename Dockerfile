# syntax=docker/dockerfile:1
# selfhost's image for people with a container engine (docker build / buildah bud / kaniko):
#   docker build -t localhost/selfhost/selfhost:dev .
# The test bed has no engine and builds the same layout by hand (hack/images/selfhost.sh, `make
# image`); `make image-dockerfile-test` builds this file with buildah against a locally assembled
# node:<version>-slim and checks both images agree file by file under /app.
# One image runs the operator (`run`), the node agent (`agent`) and the handover gates (`gate` for
# the apiserver, /usr/local/bin/selfhost-gate-exec for etcd); the pod supplies the arguments.

# Must equal .nvmrc (src/deploy.test.ts checks it).
ARG NODE_VERSION=24.21.0

# Production dependencies only, pruned of what Node never loads (TypeScript, source maps, Bare
# addons, docs, package tests): the same script as the locally built image, so /app is the same.
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY hack/images/prune-node-modules.mjs /tmp/
RUN node /tmp/prune-node-modules.mjs node_modules

# Compile src/ with the dev dependencies (typescript, @types/node).
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node_modules/.bin/tsc -p tsconfig.build.json --sourceMap false

# etcd's handover gate: a static C binary (an init container copies it into etcd's pod).
FROM node:${NODE_VERSION}-slim AS gate
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY src/gate-exec/gate-exec.c /src/gate-exec.c
RUN gcc -static -Os -s -Wall -Wextra -Werror -o /selfhost-gate-exec /src/gate-exec.c

FROM node:${NODE_VERSION}-slim
# A name for the numeric user (the official image's `node` user is 1000; ours is 65532, as in the
# locally built image and deploy/manager/operator.yaml).
RUN echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'nonroot:x:65532:' >> /etc/group
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=gate /selfhost-gate-exec /usr/local/bin/selfhost-gate-exec
# Non-root by default; the agent's pod sets runAsUser: 0 (it rewrites root-owned files in
# /etc/kubernetes). node as PID 1 is fine: selfhost handles SIGTERM and SIGINT itself.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli/main.js"]

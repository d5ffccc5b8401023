# Postern gateway (SMTP, submission, POP3, IMAP) for Fargate. Built by `cdk deploy` for linux/arm64;
# node:24-slim is the Node the tests run on (the `node` dev dependency) and is multi-arch, so `docker build .`
# works natively on arm64 and amd64 hosts alike.
# Build stage: every dependency (esbuild is a dev dependency), then lib/gateway/main.ts bundled into one ES module
# (lib/infra/gatewayBundle.ts). --ignore-scripts: nothing here needs an install script (esbuild's binary comes
# as an optional dependency; the `node` package's download is not needed, the image has its Node).
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY lib/ lib/
RUN node --import tsx lib/infra/gatewayBundle.ts

# Runtime stage: the bundle alone (gateway.mjs and its chunks/; no node_modules, no tsx): idle RSS ~93 MB instead
# of ~150 MB for the sources under tsx (docs/ARCHITECTURE.md, Memory).
FROM node:24-slim

ENV NODE_ENV=production
# glibc gives every thread that allocates its own malloc arena (up to 8 per core); the password-hash buffers of
# logins (19 MiB for argon2id) run on libuv's thread pool and stayed behind in those arenas. With 2 arenas,
# `npm run bench -- pop3` (measured with the earlier 16 MiB scrypt): gateway idle RSS ~224 -> ~148 MiB, peak
# ~246 -> ~212 MiB.
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /src/dist/gateway/ ./

# The container's ports (POSTERN_*_PORT, the emulator's defaults): the NLB listens on 25 465 587 110 995 143 993
# and forwards to these. Unprivileged ports, so the gateway needs no root and runs as `node` (uid 1000).
EXPOSE 2525 2465 2587 2110 2995 2143 2993

# The code above stays root-owned and read-only to the gateway.
USER node

# No HEALTHCHECK: the NLB checks each port over TCP. The flags are GATEWAY_NODE_FLAGS (lib/infra/gatewayBundle.ts).
CMD ["node", "--max-semi-space-size=4", "gateway.mjs"]

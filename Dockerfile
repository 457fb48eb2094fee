# The claude-temporal worker image (used by docker-compose.yml).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# claude refuses some permission modes as root: run as the image's node user.
RUN mkdir -p /work && chown node:node /work
USER node
# SIGTERM lets running steps finish for SHUTDOWN_GRACE_MS, then cancels them.
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker/main.js"]

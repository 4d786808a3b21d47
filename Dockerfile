# syntax=docker/dockerfile:1
# movebot: one image for every role (web, worker, or both). Roles are chosen by the command:
#   docker run movebot                                              # role "all" (web + worker)
#   docker run movebot node dist/adapters/server/main.js --role web
#   docker run movebot node dist/adapters/server/main.js --role worker

# ---- build: compile TypeScript with the dev dependencies ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm 11 runs install scripts only for the packages listed under "allowScripts" in package.json.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: compiled code, data files and production dependencies only ----
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    # Listen on every interface: 127.0.0.1 inside a container is unreachable from outside it.
    HOST=0.0.0.0 \
    PORT=7777
WORKDIR /app
COPY --chown=node:node package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --chown=node:node --from=build /app/dist ./dist
COPY --chown=node:node data ./data
# Static files of the operator console (not compiled; served as they are).
COPY --chown=node:node adapters/http/console ./adapters/http/console
# Writable places for the non-root user: reports (REPORTS_DIR) and the PGlite fallback (PGLITE_DIR).
RUN mkdir -p reports .data && chown node:node reports .data
USER node
EXPOSE 7777
CMD ["node", "dist/adapters/server/main.js"]

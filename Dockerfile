# backsnap-ts hook service. Node.js 24 runs the TypeScript sources directly (type stripping),
# so there is no build step: stage 1 installs production dependencies, stage 2 is the runtime.
FROM node:24-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
USER 10001:10001
EXPOSE 8080
# distroless' entrypoint is node: the command is the script.
CMD ["src/main.ts"]

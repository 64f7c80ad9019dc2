# Tracewall app image: the SvelteKit server (hub + pages) and, with another command, the workers.
# Node 20 is the oldest supported runtime; the same image runs on 22 and 24 (change the tag).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev && npm install --no-save tsx@4.23.15

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build ./build
COPY --from=build /app/drizzle ./drizzle
COPY --from=build /app/server.js ./server.js
# Workers run from TypeScript sources through tsx (they import the pure SPC engine).
COPY --from=build /app/workers ./workers
COPY --from=build /app/src/lib ./src/lib
# Named volumes inherit this ownership on first mount, so the worker can write its spool.
RUN mkdir -p /spool /app/data && chown node:node /spool /app/data
USER node
EXPOSE 3000
CMD ["node", "server.js"]

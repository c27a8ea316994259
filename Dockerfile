# budgetgate as a container image, for the distributed path (deploy/kubernetes, deploy/github-actions).
#   docker build -t REGISTRY/budgetgate:TAG . && docker push REGISTRY/budgetgate:TAG
# Stage 1 builds dist/ with the dev dependencies (TypeScript); stage 2 holds only what runs.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# --ignore-scripts: `prepare` would build before src/ is copied; the build runs explicitly below
RUN npm ci --ignore-scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
# tini as PID 1 forwards SIGINT/SIGTERM (Ctrl-C, `docker stop`, pod termination) to budgetgate, which
# then stops sending and writes its partial report; -g sends them to the whole process group, so a
# `sh -c` wrapper (as in deploy/kubernetes/job-shards.yaml) passes them on too.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY profiles ./profiles
COPY schema ./schema
RUN chmod 755 /app/bin/budgetgate.js && ln -s /app/bin/budgetgate.js /usr/local/bin/budgetgate
# the node image's unprivileged user (uid 1000); reports go to the working directory or --out
USER node
WORKDIR /work
# a larger young generation: fewer, shorter scavenges under the sender (README, "How exact the traffic is")
ENV NODE_OPTIONS=--max-semi-space-size=64
ENTRYPOINT ["tini", "-g", "--", "node", "/app/bin/budgetgate.js"]
CMD ["--help"]

import { defineConfig } from "vitest/config";

// The dashboard is served by the `citybrain` binary; in development the Vite dev server proxies
// the API to a running `citybrain demo` (or to `npm run mock`). Override with CITYBRAIN_API.
const api = process.env.CITYBRAIN_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  // Relative asset URLs so the built bundle works under any mount path (/ or /dashboard/).
  base: "./",
  server: {
    port: 5173,
    proxy: {
      "/api": { target: api, changeOrigin: true, ws: true },
      "/health": { target: api, changeOrigin: true },
      "/ready": { target: api, changeOrigin: true },
      "/metrics": { target: api, changeOrigin: true },
    },
  },
  preview: {
    proxy: {
      "/api": { target: api, changeOrigin: true, ws: true },
      "/health": { target: api, changeOrigin: true },
      "/ready": { target: api, changeOrigin: true },
      "/metrics": { target: api, changeOrigin: true },
    },
  },
  // The cell feed runs in a module worker (src/live/feed-worker.ts), bundled as its own chunk.
  worker: {
    format: "es",
  },
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    environment: "node",
    include: ["tests/**/*.test.ts"],
  },
});

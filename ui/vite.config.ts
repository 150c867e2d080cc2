// The dashboard is built into internal/web/ui/dist/app, which the Go
// package internal/web/ui embeds (go:embed); `make ui` runs this build.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../internal/web/ui/dist/app",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npm run dev` proxies the API to a running `wikistream run`.
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
});

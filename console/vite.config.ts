import { defineConfig } from "vite";

// Served by the local runtime at /console (local/server.py), so every asset URL starts there.
export default defineConfig({
  base: "/console/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  server: { proxy: { "/programs": "http://127.0.0.1:3000", "/_local": "http://127.0.0.1:3000" } },
});

import { defineConfig } from 'vite';

// The console is embedded into the Go binary (internal/console), so the build
// writes there; the Go side serves index.html and /assets/*.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../internal/console/dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
  },
  // `npx vite` for development: the X-Ray API (every path starts with a
  // capital letter) and /console/info go to a running server.
  server: {
    proxy: {
      '^/([A-Z]|console/info)': process.env.ROENTGEN_URL || 'http://127.0.0.1:2020',
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});

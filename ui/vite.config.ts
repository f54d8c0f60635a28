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
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});

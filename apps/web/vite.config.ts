import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server serves dist/ at "/", so assets are referenced from the root.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's own comments carry annotations Rollup cannot place; Rollup drops them, which is
        // harmless, but the warning looks like a build fault to every reader of the output.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) {
          return;
        }
        warn(warning);
      },
    },
  },
  server: {
    // `npm run dev -w @confab/web` proxies the WebSocket to a server started on the default port.
    proxy: {
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});

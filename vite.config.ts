import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// Builds the WebChat renderer (desktop/src/renderer) into desktop/dist/renderer,
// which the gateway serves at `/` and the desktop app will load. The page runs
// under a strict CSP (no inline scripts or styles), so nothing may be inlined.
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('./desktop/src/renderer'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('./desktop/dist/renderer'),
    emptyOutDir: true,
    // Inlined assets would become data: URLs for scripts/styles, which the CSP forbids.
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
    // One bundle, served by the gateway over loopback/Tailnet; react-dom and highlight.js make most of it.
    chunkSizeWarningLimit: 700,
  },
});

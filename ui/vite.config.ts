/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('./src/lib', import.meta.url));

/** `topup-desk dev-server`'s default port, and the path the UI's dev transport calls. */
const DEV_SERVER_PORT = 1430;
const DEV_BACKEND_PREFIX = '/__topup';

/** The CSP the Tauri window enforces (tauri.conf.json `app.security.csp` is the
 * source of truth in the app). The dev server applies the same policy through a
 * <meta> tag so inline scripts / eval are caught while developing; the production
 * build carries no <meta> CSP, to avoid two policies drifting apart. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; font-src 'self'; connect-src ipc: http://ipc.localhost; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'";
// (frame-ancestors, also in tauri.conf.json, is ignored in a <meta> policy.)

function cspMeta(): Plugin {
  return {
    name: 'topup-csp-meta',
    transformIndexHtml(html, ctx) {
      if (!ctx.server) return html;
      // Plus the dev server's HMR websocket, and 'self' for the dev backend behind the proxy below.
      const policy = CSP.replace(
        'connect-src ipc: http://ipc.localhost',
        "connect-src 'self' ipc: http://ipc.localhost ws://127.0.0.1:5173 ws://localhost:5173",
      );
      const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
      // Right after <meta charset>, i.e. before any script or stylesheet.
      return html.replace(/(<meta charset="UTF-8" \/>)/, `$1\n    ${meta}`);
    },
  };
}

// Tauri embeds ui/dist at compile time; keep everything local and relative.
export default defineConfig({
  // svelteTesting: browser build of Svelte + auto-cleanup, only under Vitest.
  plugins: [svelte(), svelteTesting(), cspMeta()],
  resolve: {
    alias: { $lib: lib },
  },
  base: './',
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: '127.0.0.1',
    // Outside Tauri, `npm run dev` talks to the real engine in sandbox mode: `topup-desk dev-server`
    // (README, "Developing the UI") on 127.0.0.1; same origin for the page, so no CORS.
    proxy: {
      [DEV_BACKEND_PREFIX]: {
        target: `http://127.0.0.1:${process.env.TOPUP_DEV_SERVER_PORT ?? DEV_SERVER_PORT}`,
        rewrite: (path) => path.slice(DEV_BACKEND_PREFIX.length),
      },
    },
  },
  // `vite preview` serves the production bundle under the app's CSP (as a header).
  preview: {
    port: 4173,
    strictPort: true,
    host: '127.0.0.1',
    headers: { 'Content-Security-Policy': CSP },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2021',
    sourcemap: false,
    // No inline data: URLs for scripts; assets stay as files (CSP: script-src 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['./src/test/setup.ts'],
  },
});

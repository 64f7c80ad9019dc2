/**
 * How plain `node server.js` reaches the composition root without TypeScript.
 *
 * server.js cannot import app.ts (Node 20 does not run .ts, and `--experimental-strip-types`
 * is not an option). Rather than a second bundle with its own copy of every server module, the
 * SvelteKit build carries app.ts: hooks.server.ts calls `registerAppEntry()`, adapter-node
 * bundles it, and `import './build/handler.js'` loads the hooks (Server.init runs at import),
 * which puts this entry on globalThis for server.js to pick up. One build, one copy of the
 * code, the same modules the routes use. `vite preview` finds it the same way.
 */
import type { Server as HttpServer } from 'node:http';
import { startApp, type App } from './app';
import { env } from './env';

export const APP_ENTRY_KEY = Symbol.for('tracewall.app-entry');

export interface AppEntry {
	/** Parses the process environment and starts the app on `httpServer`. */
	start(httpServer: HttpServer): Promise<App>;
}

/** Starts the app with the validated process environment (used by the dev plugin directly). */
export function startFromEnv(httpServer: HttpServer): Promise<App> {
	return startApp(httpServer, env());
}

export function registerAppEntry(): void {
	const holder = globalThis as typeof globalThis & { [APP_ENTRY_KEY]?: AppEntry };
	holder[APP_ENTRY_KEY] = { start: startFromEnv };
}

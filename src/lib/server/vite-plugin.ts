/**
 * Attaches the app (database + socket.io hub) to Vite's own HTTP server, in `vite dev` and in
 * `vite preview`, so the wall works the same there as under server.js.
 *
 * This file is loaded by vite.config.ts, i.e. by Vite's config loader, which does not know the
 * `$lib` alias and keeps its own copy of modules (STACK.md pitfall 4). So it imports nothing
 * of the app: in dev it loads the app through Vite's SSR module graph (the same module
 * instances SvelteKit's routes get), in preview it takes the entry the built hooks registered
 * on globalThis (src/lib/server/app-entry.ts). The running app is then shared through
 * globalThis (src/lib/server/app.ts).
 */
import type { Server as HttpServer } from 'node:http';
import type { Plugin, PreviewServer, ViteDevServer } from 'vite';

const APP_ENTRY_KEY = Symbol.for('tracewall.app-entry');
const APP_KEY = Symbol.for('tracewall.app');

interface RunningApp {
	close(): Promise<void>;
}
interface AppEntryLike {
	start(httpServer: HttpServer): Promise<RunningApp>;
}
type Holder = typeof globalThis & { [APP_ENTRY_KEY]?: AppEntryLike; [APP_KEY]?: RunningApp };

function attach(
	httpServer: HttpServer,
	load: () => Promise<AppEntryLike>,
	logError: (message: string) => void
): void {
	// Once listening: in dev the SSR module graph is ready then, in preview SvelteKit's server
	// (and with it the hooks that register the entry) has been initialised.
	httpServer.once('listening', () => {
		load()
			.then((entry) => entry.start(httpServer))
			.catch((error: unknown) => {
				const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
				logError(`[tracewall] starting the app failed: ${detail}`);
			});
	});
	httpServer.once('close', () => {
		closeRunningApp().catch((error: unknown) => {
			logError(`[tracewall] closing the app failed: ${String(error)}`);
		});
	});
}

/** Closes the running app, if any; Vite awaits this on server.close() (and on SIGTERM). */
async function closeRunningApp(): Promise<void> {
	await (globalThis as Holder)[APP_KEY]?.close();
}

export function tracewallApp(): Plugin {
	return {
		name: 'tracewall-app',
		// Vite's dev server awaits plugin close hooks in server.close(), which its SIGTERM
		// handler awaits before exiting; the HTTP server's 'close' event (below) is not awaited,
		// and PGlite would be cut off mid-close. A no-op in `vite build` (no app running).
		async buildEnd() {
			await closeRunningApp();
		},
		configureServer(server: ViteDevServer) {
			// No HTTP server in middleware mode (Vitest): nothing to attach to.
			if (!server.httpServer) return;
			attach(
				server.httpServer as HttpServer,
				async () => {
					const mod = (await server.ssrLoadModule('/src/lib/server/app-entry.ts')) as {
						startFromEnv(httpServer: HttpServer): Promise<RunningApp>;
					};
					return { start: mod.startFromEnv };
				},
				(message) => server.config.logger.error(message)
			);
		},
		configurePreviewServer(server: PreviewServer) {
			// The preview server runs no plugin close hooks: close the app inside its close(),
			// which Vite's SIGTERM handler awaits before exiting.
			const closeServer = server.close.bind(server);
			server.close = async () => {
				await closeRunningApp();
				await closeServer();
			};
			attach(
				server.httpServer as HttpServer,
				async () => {
					const entry = (globalThis as Holder)[APP_ENTRY_KEY];
					if (!entry) throw new Error('the build did not register the app entry (hooks.server.ts)');
					return entry;
				},
				(message) => server.config.logger.error(message)
			);
		}
	};
}

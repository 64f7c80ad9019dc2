/**
 * Server hooks. For now only the app's lifecycle:
 * - `registerAppEntry()` makes the composition root reachable from server.js through the
 *   build (see src/lib/server/app-entry.ts);
 * - on `sveltekit:shutdown` (adapter-node's own server on SIGTERM/SIGINT, or server.js) the
 *   app closes: PGlite keeps the event loop alive otherwise (STACK.md pitfall 2).
 */
import { getApp } from '$lib/server/app';
import { registerAppEntry } from '$lib/server/app-entry';

registerAppEntry();

// In dev this module is re-evaluated on every edit: register the listener once per process.
const LISTENING = Symbol.for('tracewall.shutdown-listener');
const holder = globalThis as typeof globalThis & { [LISTENING]?: true };
if (!holder[LISTENING]) {
	holder[LISTENING] = true;
	process.on('sveltekit:shutdown', (reason: string) => {
		const app = getApp();
		if (!app) return;
		app.log.debug({ reason }, 'sveltekit:shutdown: closing the app');
		app.close().catch((error: unknown) => {
			app.log.error({ err: error }, 'closing the app failed');
			process.exitCode = 1;
		});
	});
}

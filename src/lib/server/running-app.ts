/**
 * For routes: the running app, or 503 while the server is still starting (SvelteKit can answer
 * a request before server.js has finished opening the database and the hub).
 */
import { error } from '@sveltejs/kit';
import { getApp, type App } from './app';

export function runningApp(): App {
	const running = getApp();
	if (!running) error(503, 'The server is starting; try again in a moment.');
	return running;
}

/**
 * A run started or ended changes which lot, hence which process version's spec limits, is in
 * force on its machine (plant/service.ts): push the configuration to workers and walls. The run
 * has committed by then, so a failed push is logged, not turned into an error for the operator;
 * the change upkeep's periodic re-check (change/effective.ts, every 30 s) carries it.
 */
export async function publishRunChange(running: App, what: 'run-start' | 'run-end'): Promise<void> {
	try {
		await running.hub.publishConfig();
	} catch (e) {
		running.log.error({ err: e, what }, 'publishing the configuration after a run change failed');
	}
}

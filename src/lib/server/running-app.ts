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

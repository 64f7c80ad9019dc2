/**
 * GET /metrics — Prometheus text exposition of the running app's registry.
 */
import { getApp } from '$lib/server/app';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async () => {
	const app = getApp();
	if (!app) return new Response('app not started\n', { status: 503 });
	return new Response(await app.metrics.text(), {
		headers: { 'content-type': app.metrics.contentType, 'cache-control': 'no-store' }
	});
};

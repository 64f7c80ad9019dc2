// Production server: adapter-node's request handler plus the socket.io hub on one HTTP server.
//
// Run with plain `node server.js` after `vite build` (Node 20 runs no TypeScript). The app's
// composition root (src/lib/server/app.ts) is part of the SvelteKit build: importing
// build/handler.js initialises SvelteKit's server, which loads src/hooks.server.ts, which
// registers the app entry on globalThis (src/lib/server/app-entry.ts explains why this route
// rather than a second bundle).
//
// Order matters (STACK.md pitfall 4): the HTTP server is created with SvelteKit's handler
// FIRST, then socket.io attaches to it and forwards every non-/socket.io/ request to the
// handler. Attached the other way round, HTTP long-polling crashes with ERR_HTTP_HEADERS_SENT.
import http from 'node:http';
import process from 'node:process';

/**
 * adapter-node builds the request's origin from ORIGIN, else from PROTOCOL_HEADER and the Host
 * header, else it assumes https — so on a plain-HTTP demo (`npm start`, http://localhost:3000)
 * every form post failed SvelteKit's CSRF check ("Cross-site POST form submissions are
 * forbidden") and nobody could sign in. When neither is configured (no proxy in front), the
 * protocol is taken from the connection itself: this header is overwritten on every request
 * from the socket, so a client cannot choose it. Behind a TLS proxy set ORIGIN (README).
 */
const CONNECTION_PROTOCOL_HEADER = 'x-tracewall-connection-protocol';
const fromConnection = !process.env.ORIGIN && !process.env.PROTOCOL_HEADER;
if (fromConnection) process.env.PROTOCOL_HEADER = CONNECTION_PROTOCOL_HEADER;
// Imported after the line above: adapter-node reads its environment when the module loads.
const { handler } = await import('./build/handler.js');

/** @type {http.RequestListener} */
const requestHandler = fromConnection
	? (req, res) => {
			req.headers[CONNECTION_PROTOCOL_HEADER] = /** @type {import('node:tls').TLSSocket} */ (
				req.socket
			).encrypted
				? 'https'
				: 'http';
			return handler(req, res);
		}
	: handler;

const APP_ENTRY_KEY = Symbol.for('tracewall.app-entry');
/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

/** @typedef {{ log: import('pino').Logger; close(): Promise<void> }} RunningApp */

async function main() {
	/** @type {{ start(server: http.Server): Promise<RunningApp> } | undefined} */
	const entry = /** @type {any} */ (globalThis)[APP_ENTRY_KEY];
	if (!entry) {
		throw new Error(
			'build/handler.js did not register the app entry: is src/hooks.server.ts built?'
		);
	}
	// PORT/HOST as adapter-node reads them; the app's env schema validates the same names.
	const port = Number(process.env.PORT ?? 3000);
	const host = process.env.HOST || '0.0.0.0';

	const server = http.createServer(requestHandler);
	// Listen before opening the database: a taken port fails in milliseconds, not after PGlite's
	// boot, and /api/health answers 503 "starting" until the app is up. Workers that connect
	// meanwhile get a 404 from /socket.io/ and retry.
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve(undefined);
		});
	});

	let app;
	try {
		app = await entry.start(server);
	} catch (error) {
		server.close();
		server.closeAllConnections();
		throw error;
	}
	const running = app;

	let stopping = false;
	/** @param {string} reason */
	const shutdown = async (reason) => {
		if (stopping) return;
		stopping = true;
		running.log.info({ reason }, 'shutting down');
		const force = setTimeout(() => {
			running.log.error('graceful shutdown timed out; exiting');
			process.exit(1);
		}, SHUTDOWN_TIMEOUT_MS);
		force.unref();
		// Stop taking requests, close the hub (drains queued batches, hangs up sockets) and the
		// database, then drop whatever HTTP connection is left.
		server.close();
		server.closeIdleConnections();
		try {
			// The event adapter-node's own server emits; hooks.server.ts closes the app on it.
			process.emit(/** @type {any} */ ('sveltekit:shutdown'), reason);
			await running.close();
			server.closeAllConnections();
			process.exit(0);
		} catch (error) {
			running.log.error({ err: error }, 'shutdown failed');
			process.exit(1);
		}
	};
	process.once('SIGTERM', () => void shutdown('SIGTERM'));
	process.once('SIGINT', () => void shutdown('SIGINT'));
	// Started by scripts/start.js with an IPC channel: if the supervisor dies (even by SIGKILL)
	// the channel closes, and we stop rather than live on as an orphan.
	if (process.channel) {
		process.channel.unref();
		process.once('disconnect', () => void shutdown('supervisor exited'));
	}
	// Errors after start (rare) are fatal: the process manager restarts us.
	server.on('error', (error) => {
		running.log.fatal({ err: error }, 'HTTP server error');
		void shutdown('server error').finally(() => process.exit(1));
	});

	const address = server.address();
	const shownPort = typeof address === 'object' && address ? address.port : port;
	const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
	running.log.info({ host, port: shownPort }, `listening on http://${shownHost}:${shownPort}`);
}

main().catch((error) => {
	const code = /** @type {NodeJS.ErrnoException} */ (error)?.code;
	if (code === 'EADDRINUSE') {
		console.error(
			`server.js: port ${process.env.PORT ?? 3000} is already in use; set PORT to a free port`
		);
	} else {
		console.error('server.js: failed to start:', error);
	}
	process.exit(1);
});

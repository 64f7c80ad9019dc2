// `npm start`: the one command that runs Tracewall on a fresh machine.
//
// 1. Builds (`vite build`) when build/ is missing or older than the sources.
// 2. Checks the port is free (PORT, default 3000) and says so clearly when it is not.
// 3. Generates a worker token for this run (unless TRACEWALL_WORKER_TOKEN is set), starts
//    `node server.js` (embedded PGlite unless DATABASE_URL is set) and, once /api/health
//    answers, the simulator worker(s), then prints the URL.
// 4. Ctrl-C / SIGTERM stops the children (SIGTERM, then SIGKILL after a grace period) and exits
//    only when they are gone: no orphans. A worker that dies is reported and restarted with
//    backoff; if the server dies, everything stops and the exit code is non-zero.
//
// Plain JavaScript on purpose: it must run before anything is built and without tsx.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** What a build depends on; a newer file in here means the build is stale. */
const BUILD_INPUTS = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'];
const BUILD_MARKER = path.join(ROOT, 'build', 'handler.js');
const HEALTH_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const WORKER_BACKOFF_MS = { first: 1_000, max: 30_000 };
/** A worker that ran this long before dying starts again from the shortest backoff. */
const WORKER_STABLE_MS = 60_000;

/** @param {string} message */
function say(message) {
	process.stdout.write(`[start] ${message}\n`);
}
/** @param {string} message */
function complain(message) {
	process.stderr.write(`[start] ${message}\n`);
}

/** Newest modification time (ms) under `entry`, skipping nothing but missing paths. */
function newestMtime(/** @type {string} */ entry) {
	let newest = 0;
	const stack = [entry];
	while (stack.length > 0) {
		const current = /** @type {string} */ (stack.pop());
		let stat;
		try {
			stat = fs.statSync(current);
		} catch (error) {
			if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') continue;
			throw error;
		}
		if (stat.isDirectory()) {
			for (const name of fs.readdirSync(current)) stack.push(path.join(current, name));
		} else {
			newest = Math.max(newest, stat.mtimeMs);
		}
	}
	return newest;
}

function buildIfNeeded() {
	const built = fs.existsSync(BUILD_MARKER) ? fs.statSync(BUILD_MARKER).mtimeMs : 0;
	const sources = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(ROOT, p))));
	if (built > 0 && built >= sources) {
		say('build is up to date');
		return;
	}
	say(
		built === 0
			? 'no build yet: building (vite build)…'
			: 'sources changed: rebuilding (vite build)…'
	);
	const vite = path.join(
		ROOT,
		'node_modules',
		'.bin',
		process.platform === 'win32' ? 'vite.cmd' : 'vite'
	);
	const result = spawnSync(vite, ['build'], { cwd: ROOT, stdio: 'inherit', env: process.env });
	if (result.status !== 0) {
		throw new Error(`vite build failed (exit ${result.status ?? result.signal})`);
	}
}

/** Resolves when `port` can be bound on `host`; rejects with a clear message otherwise. */
function checkPortFree(/** @type {number} */ port, /** @type {string} */ host) {
	return new Promise((resolve, reject) => {
		const probe = net.createServer();
		probe.once('error', (/** @type {NodeJS.ErrnoException} */ error) => {
			reject(
				error.code === 'EADDRINUSE'
					? new Error(
							`port ${port} is already in use (another Tracewall or another program?). ` +
								`Stop it, or run on another port: PORT=${port + 1} npm start`
						)
					: error
			);
		});
		probe.listen(port, host, () => probe.close(() => resolve(undefined)));
	});
}

/** Set once children may exist: stops them all and exits with `code`. */
/** @type {((code: number) => Promise<void>) | null} */
let stopAllRef = null;

/** @typedef {{ name: string; child: import('node:child_process').ChildProcess | null; restarts: number; startedAt: number; timer: NodeJS.Timeout | null }} Managed */

async function main() {
	const port = Number(process.env.PORT ?? 3000);
	if (!Number.isInteger(port) || port < 0 || port > 65535)
		throw new Error(`PORT must be 0-65535, got ${process.env.PORT}`);
	const host = process.env.HOST || '0.0.0.0';
	const dataDir = process.env.TRACEWALL_DATA_DIR || './data';

	// The port first: failing in a second beats failing after a build.
	await checkPortFree(port, host);
	buildIfNeeded();

	const token = process.env.TRACEWALL_WORKER_TOKEN || randomBytes(24).toString('base64url');
	const hubUrl = `http://127.0.0.1:${port}`;
	const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
	const publicUrl = `http://${shownHost}:${port}`;

	let stopping = false;
	let exitCode = 0;
	/** @type {Managed[]} */
	const workers = [];
	/** @type {Managed} */
	const server = { name: 'server', child: null, restarts: 0, startedAt: Date.now(), timer: null };

	/** Stops every child; resolves when all have exited. */
	const stopAll = async (/** @type {number} */ code) => {
		if (stopping) return;
		stopping = true;
		exitCode = Math.max(exitCode, code);
		// Workers first (they flush their spools), the server last (it drains their batches).
		for (const managed of [...workers, server]) {
			if (managed.timer) clearTimeout(managed.timer);
		}
		await Promise.all(workers.map((w) => stopChild(w)));
		await stopChild(server);
		process.exit(exitCode);
	};

	/** SIGTERM, then SIGKILL after the grace period; resolves once the child has exited. */
	const stopChild = (/** @type {Managed} */ managed) =>
		new Promise((resolve) => {
			const child = managed.child;
			if (!child || child.exitCode !== null || child.signalCode !== null) {
				resolve(undefined);
				return;
			}
			const kill = setTimeout(() => {
				complain(`${managed.name} did not stop within ${STOP_GRACE_MS / 1000} s: killing it`);
				child.kill('SIGKILL');
			}, STOP_GRACE_MS);
			child.once('exit', () => {
				clearTimeout(kill);
				resolve(undefined);
			});
			child.kill('SIGTERM');
		});

	stopAllRef = stopAll;
	process.on('SIGINT', () => void stopAll(0));
	process.on('SIGTERM', () => void stopAll(0));

	say(
		`starting the server on port ${port} (${process.env.DATABASE_URL ? 'PostgreSQL' : `embedded PGlite in ${dataDir}`})`
	);
	server.child = spawn(process.execPath, ['server.js'], {
		cwd: ROOT,
		// The IPC channel closes when this process dies however it dies (even SIGKILL):
		// server.js then shuts down instead of living on as an orphan.
		stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
		env: { ...process.env, PORT: String(port), HOST: host, TRACEWALL_WORKER_TOKEN: token }
	});
	server.child.once('exit', (code, signal) => {
		if (stopping) return;
		complain(`the server exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
		void stopAll(code && code !== 0 ? code : 1);
	});

	await waitForHealth(`${hubUrl}/api/health`, () => stopping);
	if (stopping) return;

	const startWorker = (/** @type {Managed} */ managed) => {
		managed.startedAt = Date.now();
		// `node --import tsx` rather than the tsx binary, so the worker is our direct child and
		// gets an IPC channel: if this supervisor dies, even by SIGKILL, the channel closes and
		// the worker stops itself instead of living on as an orphan.
		managed.child = spawn(process.execPath, ['--import', 'tsx', 'workers/simulator.ts'], {
			cwd: ROOT,
			stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
			env: {
				...process.env,
				TRACEWALL_HUB_URL: hubUrl,
				TRACEWALL_WORKER_TOKEN: token,
				TRACEWALL_WORKER_NAME: managed.name,
				TRACEWALL_SPOOL_DIR:
					process.env.TRACEWALL_SPOOL_DIR || path.join(dataDir, 'spool', managed.name)
			}
		});
		managed.child.once('exit', (code, signal) => {
			if (stopping) return;
			if (Date.now() - managed.startedAt > WORKER_STABLE_MS) managed.restarts = 0;
			const delay = Math.min(
				WORKER_BACKOFF_MS.max,
				WORKER_BACKOFF_MS.first * 2 ** managed.restarts
			);
			managed.restarts++;
			complain(
				`worker ${managed.name} exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${delay / 1000} s`
			);
			managed.timer = setTimeout(() => {
				managed.timer = null;
				if (!stopping) startWorker(managed);
			}, delay);
		});
	};
	// The server registers TRACEWALL_WORKER_TOKEN as 'sim-1' (src/lib/server/app.ts).
	const simulator = { name: 'sim-1', child: null, restarts: 0, startedAt: Date.now(), timer: null };
	workers.push(simulator);
	startWorker(simulator);

	say(`Tracewall is running: ${publicUrl}   (Ctrl-C to stop)`);
	if (!/^(false|0|no)$/i.test(process.env.TRACEWALL_DEMO ?? '')) {
		// The demo users exist only in demo mode; src/lib/server/auth/users.ts seeds them.
		say(
			`demo sign-in: admin, operator, lead, qe, qa, manager or customer, password ${process.env.TRACEWALL_DEMO_PASSWORD || 'wall-demo-Tracewall'}`
		);
	}
}

/** Polls the health endpoint until it answers 200, or throws after HEALTH_TIMEOUT_MS. */
async function waitForHealth(/** @type {string} */ url, /** @type {() => boolean} */ cancelled) {
	const deadline = Date.now() + HEALTH_TIMEOUT_MS;
	/** @type {string} */
	let lastProblem;
	while (!cancelled()) {
		try {
			const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
			if (response.ok) return;
			lastProblem = `HTTP ${response.status}`;
		} catch (error) {
			// Not listening yet (ECONNREFUSED) or still booting: keep polling until the deadline.
			lastProblem = error instanceof Error ? error.message : String(error);
		}
		if (Date.now() > deadline) {
			throw new Error(
				`the server did not become healthy within ${HEALTH_TIMEOUT_MS / 1000} s (${lastProblem})`
			);
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}

main().catch((error) => {
	complain(error instanceof Error ? error.message : String(error));
	if (stopAllRef) void stopAllRef(1);
	else process.exit(1);
});

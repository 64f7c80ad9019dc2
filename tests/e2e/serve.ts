/**
 * The end-to-end test system: the production build (`node server.js`, embedded PGlite in a
 * temporary folder) plus one simulator worker, like `npm start`, and a small control endpoint
 * so a test can stop and start the server process while the browser stays open. Playwright
 * runs this as its `webServer` (see playwright.config.ts).
 *
 *   E2E_PORT          port of the app (required)
 *   E2E_CONTROL_PORT  port of the control endpoint on 127.0.0.1 (required)
 *   E2E_SIM_SPEED     simulator speed (default 1: the schedule in docs/simulator.md in real time)
 *
 * Control endpoint: `POST /server/stop` (SIGTERM, resolves when the process has exited),
 * `POST /server/start` (resolves when /api/health answers 200), `POST /simulator/stop`,
 * `POST /simulator/start`, `POST /simulator/restart` (a fresh worker replays the special-cause
 * schedule from simulated time 0), `GET /status`.
 *
 * Not `scripts/start.js`: that supervisor deliberately stops everything when the server dies,
 * which is the opposite of what the restart test needs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_INPUTS = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'];
const HEALTH_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

function requiredPort(name: string): number {
	const port = Number(process.env[name]);
	if (!Number.isInteger(port) || port <= 0 || port > 65535) {
		throw new Error(`${name} must be a port number, got ${process.env[name] ?? '(unset)'}`);
	}
	return port;
}

const port = requiredPort('E2E_PORT');
const controlPort = requiredPort('E2E_CONTROL_PORT');
const simSpeed = process.env.E2E_SIM_SPEED ?? '1';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracewall-e2e-'));
const token = randomBytes(24).toString('base64url');
const baseUrl = `http://127.0.0.1:${port}`;

function log(message: string): void {
	process.stdout.write(`[e2e-serve] ${message}\n`);
}

function newestMtime(entry: string): number {
	let newest = 0;
	const stack = [entry];
	while (stack.length > 0) {
		const current = stack.pop() as string;
		if (!fs.existsSync(current)) continue;
		const stat = fs.statSync(current);
		if (stat.isDirectory()) {
			for (const name of fs.readdirSync(current)) stack.push(path.join(current, name));
		} else {
			newest = Math.max(newest, stat.mtimeMs);
		}
	}
	return newest;
}

/** The tests run against the production build; build it when missing or older than the sources. */
function buildIfNeeded(): void {
	const marker = path.join(ROOT, 'build', 'handler.js');
	const built = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0;
	const sources = Math.max(...BUILD_INPUTS.map((p) => newestMtime(path.join(ROOT, p))));
	if (built > 0 && built >= sources) return;
	log('building the production bundle (vite build)…');
	const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build'], {
		cwd: ROOT,
		stdio: 'inherit'
	});
	if (result.status !== 0) throw new Error(`vite build failed (${result.status ?? result.signal})`);
}

let server: ChildProcess | null = null;
let simulator: ChildProcess | null = null;
let stopping = false;

function startServer(): ChildProcess {
	// No ORIGIN, exactly like `npm start`: server.js takes the protocol from the connection, so
	// plain-HTTP sign-in must work without it (it once did not).
	const { ORIGIN: _origin, PROTOCOL_HEADER: _protocol, ...inherited } = process.env;
	void _origin;
	void _protocol;
	const child = spawn(process.execPath, ['server.js'], {
		cwd: ROOT,
		// The IPC channel lets server.js notice when this supervisor dies, however it dies.
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		env: {
			...inherited,
			PORT: String(port),
			HOST: '127.0.0.1',
			TRACEWALL_DATA_DIR: dataDir,
			TRACEWALL_WORKER_TOKEN: token,
			// The demo plant and its users (admin, operator, …), with the password the specs
			// sign in with (tests/e2e/auth/helpers.ts reads the same variable).
			TRACEWALL_DEMO: 'true',
			TRACEWALL_DEMO_PASSWORD: process.env.TRACEWALL_DEMO_PASSWORD ?? 'wall-demo-Tracewall',
			// Short user idle timeout: the pairing test proves wall screens outlive it.
			TRACEWALL_SESSION_IDLE_SECONDS: process.env.TRACEWALL_SESSION_IDLE_SECONDS ?? '20',
			LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn'
		}
	});
	child.once('exit', (code, signal) => {
		if (server === child) server = null;
		if (!stopping) log(`server exited (${signal ?? `code ${code}`})`);
	});
	return child;
}

function startSimulator(): ChildProcess {
	const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['workers/simulator.ts'], {
		cwd: ROOT,
		stdio: ['ignore', 'inherit', 'inherit'],
		env: {
			...process.env,
			TRACEWALL_HUB_URL: baseUrl,
			TRACEWALL_WORKER_TOKEN: token,
			TRACEWALL_WORKER_NAME: 'sim-1',
			TRACEWALL_SPOOL_DIR: path.join(dataDir, 'spool', 'sim-1'),
			TRACEWALL_SIM_SPEED: simSpeed,
			LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn'
		}
	});
	child.once('exit', (code, signal) => {
		if (simulator === child) simulator = null;
		if (!stopping) log(`simulator exited (${signal ?? `code ${code}`})`);
	});
	return child;
}

async function waitHealthy(): Promise<void> {
	const deadline = Date.now() + HEALTH_TIMEOUT_MS;
	let problem = 'no answer';
	while (Date.now() < deadline) {
		try {
			const response = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
			if (response.ok) return;
			problem = `HTTP ${response.status}`;
		} catch (error) {
			problem = error instanceof Error ? error.message : String(error);
		}
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error(`the server did not become healthy within ${HEALTH_TIMEOUT_MS} ms (${problem})`);
}

function stopChild(child: ChildProcess | null): Promise<void> {
	return new Promise((resolve) => {
		if (child === null || child.exitCode !== null || child.signalCode !== null) {
			resolve();
			return;
		}
		const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
		child.once('exit', () => {
			clearTimeout(kill);
			resolve();
		});
		child.kill('SIGTERM');
	});
}

async function shutdown(code: number): Promise<never> {
	stopping = true;
	await stopChild(simulator);
	await stopChild(server);
	fs.rmSync(dataDir, { recursive: true, force: true });
	process.exit(code);
}

const control = http.createServer((request, response) => {
	const reply = (status: number, body: unknown) => {
		response.writeHead(status, { 'content-type': 'application/json' });
		response.end(JSON.stringify(body));
	};
	const route = `${request.method} ${request.url}`;
	const run = async () => {
		if (route === 'POST /server/stop') {
			await stopChild(server);
			server = null;
			return { server: 'stopped' };
		}
		if (route === 'POST /server/start') {
			if (server === null) server = startServer();
			await waitHealthy();
			return { server: 'running' };
		}
		if (route === 'POST /simulator/stop') {
			await stopChild(simulator);
			simulator = null;
			return { simulator: 'stopped' };
		}
		if (route === 'POST /simulator/start') {
			if (simulator === null) simulator = startSimulator();
			return { simulator: 'running' };
		}
		if (route === 'POST /simulator/restart') {
			// A fresh worker restarts the special-cause schedule (docs/simulator.md).
			await stopChild(simulator);
			simulator = startSimulator();
			return { simulator: 'restarted', at: Date.now() };
		}
		if (route === 'GET /status') {
			return { server: server !== null, simulator: simulator !== null, baseUrl };
		}
		return null;
	};
	run().then(
		(body) => (body === null ? reply(404, { error: 'not_found' }) : reply(200, body)),
		(error: unknown) =>
			reply(500, { error: error instanceof Error ? error.message : String(error) })
	);
});

async function main(): Promise<void> {
	process.once('SIGTERM', () => void shutdown(0));
	process.once('SIGINT', () => void shutdown(0));
	buildIfNeeded();
	await new Promise<void>((resolve, reject) => {
		control.once('error', reject);
		control.listen(controlPort, '127.0.0.1', () => resolve());
	});
	server = startServer();
	await waitHealthy();
	simulator = startSimulator();
	log(`ready: ${baseUrl} (data in ${dataDir}, simulator speed ${simSpeed})`);
}

main().catch((error: unknown) => {
	log(`failed: ${error instanceof Error ? error.message : String(error)}`);
	void shutdown(1);
});

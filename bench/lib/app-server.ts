/**
 * The production server as users run it: `node server.js` over the `vite build` output, on
 * embedded PGlite in a scratch data folder, on a free port. Builds once when build/ is missing
 * (never rebuilds a present build: the benchmark measures what is there, and says so).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = process.cwd();
const BUILD_HANDLER = path.join(ROOT, 'build', 'handler.js');
const HEALTH_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

export interface AppServer {
	url: string;
	/** Registered by the server at start as the demo worker's token. */
	token: string;
	dataDir: string;
	/** When build/ was last built (ms), to print beside the figures. */
	builtAt: number;
	stop(): Promise<void>;
}

/** Runs `vite build` when there is no build; returns the build's time. */
export function ensureBuild(): number {
	if (!fs.existsSync(BUILD_HANDLER)) {
		console.log('  wall: no build/ yet — running vite build once…');
		const vite = path.join(ROOT, 'node_modules', '.bin', 'vite');
		const result = spawnSync(vite, ['build'], {
			cwd: ROOT,
			stdio: ['ignore', 'ignore', 'inherit']
		});
		if (result.status !== 0)
			throw new Error(`vite build failed (exit ${result.status ?? result.signal})`);
	}
	return fs.statSync(BUILD_HANDLER).mtimeMs;
}

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = net.createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const address = probe.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			probe.close(() => resolve(port));
		});
	});
}

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), timeoutMs);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

/** SIGTERM, then SIGKILL if it has not exited in time. */
export async function terminate(child: ChildProcess, timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	child.kill('SIGTERM');
	if (!(await waitExit(child, timeoutMs))) {
		child.kill('SIGKILL');
		await waitExit(child, timeoutMs);
	}
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
	const deadline = Date.now() + HEALTH_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`server.js exited (code ${child.exitCode})`);
		try {
			const response = await fetch(`${url}/api/health`);
			if (response.ok) return;
		} catch (error) {
			// Not listening yet: expected during start; anything else shows up as the timeout.
			if (!(error instanceof TypeError)) throw error;
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error('server.js did not become healthy in time');
}

export async function startAppServer(): Promise<AppServer> {
	const builtAt = ensureBuild();
	const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tracewall-bench-wall-'));
	const port = await freePort();
	const token = randomBytes(24).toString('base64url');
	const env: NodeJS.ProcessEnv = {
		...process.env,
		PORT: String(port),
		HOST: '127.0.0.1',
		TRACEWALL_DATA_DIR: dataDir,
		TRACEWALL_WORKER_TOKEN: token,
		TRACEWALL_DEMO: 'true',
		LOG_LEVEL: 'warn',
		NODE_ENV: 'production'
	};
	// Embedded PGlite, as `npm start` runs: a DATABASE_URL from the caller's shell must not leak in.
	delete env.DATABASE_URL;
	const child = spawn(process.execPath, ['server.js'], {
		cwd: ROOT,
		env,
		stdio: ['ignore', 'ignore', 'inherit']
	});
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		await terminate(child);
		await rm(dataDir, { recursive: true, force: true });
	};
	try {
		await waitHealthy(url, child);
	} catch (error) {
		await stop();
		throw error;
	}
	return { url, token, dataDir, builtAt, stop };
}

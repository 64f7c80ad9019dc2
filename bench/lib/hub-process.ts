/**
 * Parent side of hub-server.ts: start the hub in a child process (Node with tsx's loader, so
 * the child's pid is the hub itself and its CPU time is measured alone), send commands, stop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type {
	CpuReading,
	HubCommand,
	HubReady,
	HubReplies,
	HubResponse,
	HubServerConfig
} from './hub-protocol';

const SERVER_SCRIPT = fileURLToPath(new URL('./hub-server.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 15_000;

export interface HubProcess {
	ready: HubReady;
	url: string;
	pid: number;
	request<C extends HubCommand>(command: C): Promise<HubReplies[C['cmd']]>;
	/** Closes the hub, its server and database, and waits for the process to exit. */
	stop(): Promise<void>;
}

/** Hub CPU time between two readings as a fraction of one core (1 = one core busy). */
export function cpuFraction(from: CpuReading, to: CpuReading): number {
	const cpuMs = (to.userMicros - from.userMicros + to.systemMicros - from.systemMicros) / 1000;
	return cpuMs / (to.atMs - from.atMs);
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), timeoutMs);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

export async function startHubProcess(config: HubServerConfig): Promise<HubProcess> {
	const child = fork(SERVER_SCRIPT, [], {
		// BENCH_HUB_CPU_PROF=<dir>: a V8 CPU profile of the hub process, for finding where its
		// time goes (open the .cpuprofile in Chrome DevTools).
		execArgv: [
			'--import',
			'tsx',
			...(process.env.BENCH_HUB_CPU_PROF
				? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_HUB_CPU_PROF}`]
				: [])
		],
		env: { ...process.env, BENCH_HUB_CONFIG: JSON.stringify(config) },
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
	let nextId = 1;
	let exited = false;
	child.on('exit', (code, signal) => {
		exited = true;
		for (const p of pending.values()) {
			p.reject(new Error(`hub process exited (code ${code}, signal ${signal})`));
		}
		pending.clear();
	});

	const ready = await new Promise<HubReady>((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error('hub process did not become ready in time'));
		}, START_TIMEOUT_MS);
		const onExit = (code: number | null) => {
			clearTimeout(timer);
			reject(new Error(`hub process exited during start (code ${code})`));
		};
		child.once('exit', onExit);
		child.on('message', (message: HubReady | HubResponse) => {
			if ('type' in message && message.type === 'ready') {
				clearTimeout(timer);
				child.off('exit', onExit);
				resolve(message);
				return;
			}
			if (!('id' in message)) return;
			const p = pending.get(message.id);
			if (!p) return;
			pending.delete(message.id);
			if (message.ok) p.resolve(message.result);
			else p.reject(new Error(`hub command failed: ${message.error}`));
		});
	});

	const request = <C extends HubCommand>(command: C): Promise<HubReplies[C['cmd']]> => {
		if (exited) return Promise.reject(new Error('hub process is gone'));
		const id = nextId++;
		return new Promise<HubReplies[C['cmd']]>((resolve, reject) => {
			const timer = setTimeout(() => {
				pending.delete(id);
				reject(new Error(`hub command ${command.cmd} timed out`));
			}, COMMAND_TIMEOUT_MS);
			pending.set(id, {
				resolve: (v) => {
					clearTimeout(timer);
					resolve(v as HubReplies[C['cmd']]);
				},
				reject: (e) => {
					clearTimeout(timer);
					reject(e);
				}
			});
			child.send({ ...command, id });
		});
	};

	let stopped: Promise<void> | null = null;
	return {
		ready,
		url: `http://127.0.0.1:${ready.port}`,
		pid: child.pid ?? -1,
		request,
		stop() {
			stopped ??= (async () => {
				if (!exited) {
					try {
						await request({ cmd: 'stop' });
					} catch (error) {
						console.error('  hub process did not stop cleanly:', error);
					}
				}
				if (!(await waitExit(child, STOP_TIMEOUT_MS))) {
					child.kill('SIGKILL');
					await waitExit(child, STOP_TIMEOUT_MS);
				}
			})();
			return stopped;
		}
	};
}

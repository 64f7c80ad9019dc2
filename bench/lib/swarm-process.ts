/** Parent side of client-swarm.ts: fork it, wait until every client is subscribed, command it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SwarmCommand, SwarmConfig, SwarmMessage, SwarmReport } from './client-swarm-protocol';

const SWARM_SCRIPT = fileURLToPath(new URL('./client-swarm.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 30_000;

export interface SwarmProcess {
	command(command: Exclude<SwarmCommand, { cmd: 'report' }>): Promise<void>;
	report(): Promise<SwarmReport>;
	stop(): Promise<void>;
}

function nextMessage(child: ChildProcess, timeoutMs: number, what: string): Promise<SwarmMessage> {
	return new Promise((resolve, reject) => {
		const cleanup = () => {
			clearTimeout(timer);
			child.off('message', onMessage);
			child.off('exit', onExit);
		};
		const onMessage = (message: SwarmMessage) => {
			cleanup();
			resolve(message);
		};
		const onExit = (code: number | null) => {
			cleanup();
			reject(new Error(`client swarm exited (code ${code}) while waiting for ${what}`));
		};
		const timer = setTimeout(() => {
			cleanup();
			reject(new Error(`client swarm: no answer for ${what}`));
		}, timeoutMs);
		child.on('message', onMessage);
		child.once('exit', onExit);
	});
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			resolve();
		}, timeoutMs);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve();
		});
	});
}

export async function startSwarm(config: SwarmConfig): Promise<SwarmProcess> {
	const child = fork(SWARM_SCRIPT, [], {
		execArgv: ['--import', 'tsx'],
		env: { ...process.env, BENCH_SWARM_CONFIG: JSON.stringify(config) },
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	try {
		const first = await nextMessage(child, START_TIMEOUT_MS, 'subscriptions');
		if (first.type !== 'ready') {
			throw new Error(
				`client swarm did not start: ${first.type === 'failed' ? first.error : first.type}`
			);
		}
	} catch (error) {
		child.kill('SIGKILL');
		await waitExit(child, 5_000);
		throw error;
	}
	// One command at a time: answers come back in order.
	let chain: Promise<unknown> = Promise.resolve();
	const ask = (command: SwarmCommand): Promise<SwarmMessage> => {
		const run = chain.then(() => {
			const answer = nextMessage(child, COMMAND_TIMEOUT_MS, command.cmd);
			child.send(command);
			return answer;
		});
		chain = run.catch(() => undefined);
		return run;
	};
	let stopped: Promise<void> | null = null;
	return {
		async command(command) {
			await ask(command);
		},
		async report() {
			const answer = await ask({ cmd: 'report' });
			if (answer.type !== 'report') throw new Error(`client swarm answered ${answer.type}`);
			return answer.report;
		},
		stop() {
			stopped ??= (async () => {
				if (child.connected) {
					try {
						await ask({ cmd: 'stop' });
					} catch (error) {
						console.error('  client swarm did not stop cleanly:', error);
					}
				}
				await waitExit(child, 10_000);
			})();
			return stopped;
		}
	};
}

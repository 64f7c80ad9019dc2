import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerEnvError, parseWorkerEnv } from './env';

const TOKEN = 'x'.repeat(32);

describe('parseWorkerEnv', () => {
	it('fills the documented defaults around a token', () => {
		const env = parseWorkerEnv({ TRACEWALL_WORKER_TOKEN: TOKEN }, '/srv/app');
		expect(env).toEqual({
			TRACEWALL_HUB_URL: 'http://127.0.0.1:3000',
			TRACEWALL_WORKER_TOKEN: TOKEN,
			TRACEWALL_WORKER_NAME: 'sim-1',
			TRACEWALL_SPOOL_DIR: path.resolve('/srv/app/data/spool/sim-1'),
			TRACEWALL_SPOOL_MAX_BYTES: 256 * 1024 * 1024,
			TRACEWALL_SIM_SEED: 1,
			TRACEWALL_SIM_SPEED: 1,
			LOG_LEVEL: 'info'
		});
	});

	it('derives the spool folder from the worker name and resolves a relative one', () => {
		expect(
			parseWorkerEnv({ TRACEWALL_WORKER_TOKEN: TOKEN, TRACEWALL_WORKER_NAME: 'sim-7' }, '/a')
				.TRACEWALL_SPOOL_DIR
		).toBe(path.resolve('/a/data/spool/sim-7'));
		expect(
			parseWorkerEnv({ TRACEWALL_WORKER_TOKEN: TOKEN, TRACEWALL_SPOOL_DIR: 'spool' }, '/a')
				.TRACEWALL_SPOOL_DIR
		).toBe(path.resolve('/a/spool'));
	});

	it('coerces numbers and treats empty strings as unset', () => {
		const env = parseWorkerEnv({
			TRACEWALL_WORKER_TOKEN: TOKEN,
			TRACEWALL_SIM_SEED: '42',
			TRACEWALL_SIM_SPEED: '10',
			TRACEWALL_HUB_URL: ''
		});
		expect(env.TRACEWALL_SIM_SEED).toBe(42);
		expect(env.TRACEWALL_SIM_SPEED).toBe(10);
		expect(env.TRACEWALL_HUB_URL).toBe('http://127.0.0.1:3000');
	});

	it('lists every bad key at once', () => {
		let error: unknown;
		try {
			parseWorkerEnv({
				TRACEWALL_HUB_URL: 'ftp://x',
				TRACEWALL_SIM_SPEED: '0',
				TRACEWALL_WORKER_NAME: 'a b'
			});
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(WorkerEnvError);
		const keys = (error as WorkerEnvError).issues.map((i) => i.split(':')[0]).sort();
		expect(keys).toEqual([
			'TRACEWALL_HUB_URL',
			'TRACEWALL_SIM_SPEED',
			'TRACEWALL_WORKER_NAME',
			'TRACEWALL_WORKER_TOKEN'
		]);
	});
});

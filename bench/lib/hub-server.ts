/**
 * The hub under benchmark, as its own process: `tsx bench/lib/hub-server.ts`, started by
 * hub-process.ts with an IPC channel. It builds the hub the way the app does (openDatabase,
 * seed a plant (bench-plant.ts), register a worker token, createHub on an HTTP server on port 0), then
 * answers the parent's commands (CPU readings, raw baseline inserts into the same database,
 * row counts) until told to stop. It exits non-zero when it cannot start, and on its own if the
 * parent goes away, so an interrupted benchmark leaves no orphan.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDatabase } from '../../src/lib/server/db';
import { createLog } from '../../src/lib/server/log';
import { createMetrics } from '../../src/lib/server/metrics';
import {
	listLineSummaries,
	loadIngestConfig,
	seedDemoPlant
} from '../../src/lib/server/plant/service';
import { registerWorkerToken } from '../../src/lib/server/plant/workers';
import { createHub } from '../../src/lib/server/realtime/hub';
import { plantWideDevice } from '../../tests/factories/auth';
import { z } from 'zod';
import { BENCH_PLANT } from './bench-plant';
import type { HubReady, HubRequest, HubResponse, HubServerConfig } from './hub-protocol';
import { countSamples, rawInsert, truncateMeasurements } from './raw-insert';
import { chunk, generateRows } from './rows';

const configSchema = z.object({
	databaseUrl: z.string().min(1).optional(),
	fanoutIntervalMs: z.number().int().positive().optional()
}) satisfies z.ZodType<HubServerConfig>;

async function main(): Promise<void> {
	if (!process.send) throw new Error('hub-server must run with an IPC channel');
	const config = configSchema.parse(JSON.parse(process.env.BENCH_HUB_CONFIG ?? '{}'));
	const database = await openDatabase(
		config.databaseUrl ? { url: config.databaseUrl } : { dataDir: 'memory://' }
	);
	await seedDemoPlant(database, BENCH_PLANT);
	const token = randomBytes(24).toString('hex');
	await registerWorkerToken(database, 'bench-worker', token);

	const server = http.createServer();
	const hub = await createHub(server, {
		database,
		// Warnings would show refused samples; info-level chatter (connects) is not the hub's work.
		log: createLog({ level: 'warn', pretty: false }),
		metrics: createMetrics(),
		options: config.fanoutIntervalMs ? { fanoutIntervalMs: config.fanoutIntervalMs } : {}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;

	let stopping: Promise<void> | null = null;
	const stop = () =>
		(stopping ??= (async () => {
			await hub.close();
			await new Promise<void>((resolve) => server.close(() => resolve()));
			await database.close();
		})());

	const handle = async (request: HubRequest): Promise<unknown> => {
		switch (request.cmd) {
			case 'cpu': {
				const usage = process.cpuUsage();
				return { userMicros: usage.user, systemMicros: usage.system, atMs: performance.now() };
			}
			case 'count':
				return countSamples(database);
			case 'truncate':
				await truncateMeasurements(database);
				return null;
			case 'raw': {
				const rows = generateRows(request.spec);
				const ms = await rawInsert(database, request.method, chunk(rows, request.batchSize));
				return { ms, rows: rows.length };
			}
			case 'stop':
				await stop();
				return null;
		}
	};

	process.on('message', (message: HubRequest) => {
		handle(message).then(
			(result) => {
				process.send?.({ id: message.id, ok: true, result } satisfies HubResponse);
				if (message.cmd === 'stop') process.disconnect();
			},
			(error: unknown) => {
				const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
				process.send?.({ id: message.id, ok: false, error: text } satisfies HubResponse);
			}
		);
	});
	// The parent died or hung up without 'stop': close what we hold and leave.
	process.on('disconnect', () => {
		stop().then(
			() => process.exit(0),
			() => process.exit(1)
		);
	});

	const ingestConfig = await loadIngestConfig(database);
	const lines = (await listLineSummaries(database)).map((s) => s.line);
	const ready: HubReady = {
		type: 'ready',
		port,
		databaseKind: database.kind,
		token,
		viewerCookie: (await plantWideDevice(database)).cookie,
		lines,
		characteristics: ingestConfig.characteristics
	};
	process.send(ready);
}

main().catch((error: unknown) => {
	console.error('hub-server failed:', error);
	process.exit(1);
});

/**
 * A stand-in for the hub's /ingest namespace in worker tests: real socket.io on a real port
 * (0 = any free one), the token check, a configuration push on connect, and every batch
 * recorded. How batches are answered is up to each test (`reply`).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { Ack, IngestBatch, IngestConfig, IngestResult } from '../../src/lib/realtime/events';

export const TOKEN = 'test-token-0123456789abcdef';

export type Reply = (batch: IngestBatch) => Ack<IngestResult> | null;

/** A tiny hub stand-in: real socket.io on a real port, token check, recorded batches. */
export class FakeHub {
	constructor(public config: IngestConfig) {}

	http!: HttpServer;
	io!: Server;
	port = 0;
	received: string[] = [];
	/** Every batch received, in order (resends included). */
	batches: IngestBatch[] = [];
	/** How to answer each batch; null = never acknowledge. */
	reply: Reply = (b) => ({
		ok: true,
		data: {
			batchId: b.batchId,
			accepted: b.samples.length,
			duplicates: 0,
			quarantined: 0,
			rejected: []
		}
	});
	pendingAcks = 0;
	maxPendingAcks = 0;

	async start(port = 0): Promise<void> {
		this.http = createServer();
		this.io = new Server(this.http);
		const ns = this.io.of('/ingest');
		ns.use((socket, next) => {
			if (socket.handshake.auth?.token === TOKEN) return next();
			const error = new Error('unauthorized') as Error & { data?: unknown };
			error.data = { code: 'unauthorized', message: 'bad token' };
			next(error);
		});
		ns.on('connection', (socket) => {
			socket.emit('config:update', this.config);
			socket.on('config:get', (_p: unknown, ack: (a: Ack<IngestConfig>) => void) =>
				ack({ ok: true, data: this.config })
			);
			socket.on('ingest:batch', (batch: IngestBatch, ack: (a: Ack<IngestResult>) => void) => {
				this.received.push(batch.batchId);
				this.batches.push(batch);
				const answer = this.reply(batch);
				if (answer === null) {
					this.pendingAcks++;
					this.maxPendingAcks = Math.max(this.maxPendingAcks, this.pendingAcks);
					return;
				}
				ack(answer);
			});
		});
		await new Promise<void>((resolve) => this.http.listen(port, '127.0.0.1', resolve));
		this.port = (this.http.address() as AddressInfo).port;
	}

	disconnectAll(): void {
		this.io.of('/ingest').disconnectSockets(true);
	}

	async stop(): Promise<void> {
		await new Promise<void>((resolve) => this.io.close(() => resolve()));
	}

	/** Push a new configuration to every connected worker. */
	publish(config: IngestConfig): void {
		this.config = config;
		this.io.of('/ingest').emit('config:update', config);
	}
}

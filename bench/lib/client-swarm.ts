/**
 * N browser-like clients in one process (`tsx bench/lib/client-swarm.ts`, forked with IPC by
 * the latency benchmark): each connects to the hub's default namespace over WebSocket,
 * subscribes to a line room, and records receive time − point ts for every point of every
 * delta created inside the measurement window. Exits when told to stop or when the parent
 * goes away.
 */
import { io, type Socket } from 'socket.io-client';
import type {
	Ack,
	LiveClientToServer,
	LiveServerToClient,
	RoomDelta,
	RoomSnapshot
} from '../../src/lib/realtime/events';
import { z } from 'zod';
import type { SwarmCommand, SwarmConfig, SwarmMessage } from './client-swarm-protocol';
import { LatencyHistogram } from './stats';

const SUBSCRIBE_TIMEOUT_MS = 30_000;

type LiveSocket = Socket<LiveServerToClient, LiveClientToServer>;

function send(message: SwarmMessage): void {
	process.send?.(message);
}

const configSchema = z.object({
	url: z.url(),
	lineId: z.number().int().positive(),
	clients: z.number().int().positive(),
	cookie: z.string().min(1)
}) satisfies z.ZodType<SwarmConfig>;

async function main(): Promise<void> {
	if (!process.send) throw new Error('client-swarm must run with an IPC channel');
	const config = configSchema.parse(JSON.parse(process.env.BENCH_SWARM_CONFIG ?? '{}'));
	const histogram = new LatencyHistogram(10_000);
	const window = { from: Infinity, to: Infinity, open: false };
	let received = 0;
	let deltas = 0;
	let gaps = 0;
	let cpuFrom = process.cpuUsage();
	let cpuFromAt = performance.now();
	let cpu = NaN;

	const sockets: LiveSocket[] = [];
	const subscribe = async (socket: LiveSocket): Promise<void> => {
		const ack: Ack<RoomSnapshot> = await socket
			.timeout(SUBSCRIBE_TIMEOUT_MS)
			.emitWithAck('subscribe', { kind: 'line', id: config.lineId });
		if (!ack.ok) throw new Error(`subscribe refused: ${ack.error}`);
		let lastSeq = ack.data.seq;
		socket.on('delta', (delta: RoomDelta) => {
			const now = Date.now();
			if (delta.seq !== lastSeq + 1) gaps++;
			lastSeq = delta.seq;
			if (window.open) deltas++;
			for (const list of Object.values(delta.points)) {
				for (const p of list) {
					if (p.ts < window.from || p.ts > window.to) continue;
					histogram.record(now - p.ts);
					received++;
				}
			}
		});
	};
	for (let i = 0; i < config.clients; i++) {
		sockets.push(
			io(config.url, {
				transports: ['websocket'],
				forceNew: true,
				extraHeaders: { cookie: config.cookie }
			})
		);
	}
	const stop = () => {
		for (const s of sockets) s.disconnect();
	};
	process.on('disconnect', () => {
		stop();
		process.exit(0);
	});
	try {
		await Promise.all(sockets.map(subscribe));
	} catch (error) {
		stop();
		send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
		process.disconnect();
		return;
	}

	process.on('message', (command: SwarmCommand) => {
		switch (command.cmd) {
			case 'window-start':
				window.from = command.from;
				window.open = true;
				gaps = 0;
				cpuFrom = process.cpuUsage();
				cpuFromAt = performance.now();
				break;
			case 'window-end': {
				window.to = command.to;
				window.open = false;
				const used = process.cpuUsage(cpuFrom);
				cpu = (used.user + used.system) / 1000 / (performance.now() - cpuFromAt);
				break;
			}
			case 'report':
				send({
					type: 'report',
					report: { histogram: histogram.toJSON(), received, deltas, gaps, cpu }
				});
				return;
			case 'stop':
				stop();
				send({ type: 'ok', cmd: 'stop' });
				process.disconnect();
				return;
		}
		send({ type: 'ok', cmd: command.cmd });
	});
	send({ type: 'ready' });
}

main().catch((error: unknown) => {
	console.error('client-swarm failed:', error);
	process.exit(1);
});

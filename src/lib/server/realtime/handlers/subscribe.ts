/**
 * `subscribe` (default namespace): join a room and get its snapshot at the room's current seq;
 * deltas seq+1, seq+2, … follow. Subscribing again to a room one is in returns a fresh snapshot
 * (that is how a client recovers from a gap).
 *
 * Atomic join: the database reads run as a task of the hub's serial queue, so no batch commits
 * while they run and every batch committed before them has already been handed to the
 * coalescer (queue.ts). The rest of the task is synchronous — take the seq, subtract what is
 * still pending (it comes in delta seq+1), join the room — so no flush can fall between the
 * snapshot and the join: no delta is lost, none is duplicated, and no point appears twice.
 * Raw readings (subgroup/attribute characteristics) are read in the same task and subtracted
 * the same way, by their sample key (ts, seq), so no reading is lost or appears twice either.
 */
import {
	LIVE_WINDOW,
	READINGS_WINDOW,
	type CharacteristicConfig,
	type LiveAlarm,
	type LineInfo,
	type LivePoint,
	type LiveReading,
	type MachineInfo,
	type RoomRef,
	type RoomSnapshot
} from '$lib/realtime/events';
import { lineInfo, machinesOfLine } from '../../plant/service';
import {
	openAlarms,
	recentPoints,
	recentReadings,
	toLiveReading,
	type StoredReading
} from '../../samples/snapshot';
import { failure, replier, type HubContext, type LiveSocket } from '../context';
import type { PendingView } from '../fanout';
import { plotsSubgroups } from '../live-points';
import { QueueClosedError, QueueFullError } from '../queue';
import { roomName } from '../rooms';
import { roomRefSchema } from '../schemas';

/** Open alarms a snapshot carries at most (newest first from the database). */
export const SNAPSHOT_MAX_ALARMS = 200;

interface RoomScope {
	lineId: number | null;
	characteristics: CharacteristicConfig[];
	machineId: number | null;
	characteristicId: number | null;
}

/** Which characteristics a room covers; null when the room refers to nothing known. */
function scopeOf(ctx: HubContext, ref: RoomRef): RoomScope | null {
	switch (ref.kind) {
		case 'line': {
			const characteristics = ctx.config.ofLine(ref.id);
			// A line without characteristics is still a line; lineInfo decides whether it exists.
			return { lineId: ref.id, characteristics, machineId: null, characteristicId: null };
		}
		case 'machine': {
			const lineId = ctx.config.lineOfMachine(ref.id);
			if (lineId === undefined) return null;
			return {
				lineId,
				characteristics: ctx.config.ofMachine(ref.id),
				machineId: ref.id,
				characteristicId: null
			};
		}
		case 'characteristic': {
			const config = ctx.config.byId(ref.id);
			if (!config) return null;
			return {
				lineId: config.lineId,
				characteristics: [config],
				machineId: config.machineId,
				characteristicId: config.id
			};
		}
		case 'alarms':
			return { lineId: null, characteristics: [], machineId: null, characteristicId: null };
	}
}

interface SnapshotData {
	line: LineInfo | null;
	machines: MachineInfo[];
	points: Record<number, LivePoint[]>;
	/** Keyed by sample (seq kept) until the pending delta is subtracted. */
	readings: Record<number, StoredReading[]>;
	alarms: LiveAlarm[];
}

async function readSnapshot(
	ctx: HubContext,
	ref: RoomRef,
	scope: RoomScope
): Promise<SnapshotData | null> {
	const ids = scope.characteristics.map((c) => c.id);
	// Only charts that do not plot the samples themselves get readings (live-points.ts).
	const readingIds = scope.characteristics.filter(plotsSubgroups).map((c) => c.id);
	const now = ctx.clock();
	const [line, machines, points, readings, alarms] = await Promise.all([
		scope.lineId === null ? null : lineInfo(ctx.database, scope.lineId),
		scope.lineId === null ? [] : machinesOfLine(ctx.database, scope.lineId),
		ids.length === 0
			? {}
			: recentPoints(ctx.database, ids, {
					maxPoints: LIVE_WINDOW.maxPoints,
					sinceMs: now - LIVE_WINDOW.maxAgeMs
				}),
		readingIds.length === 0
			? {}
			: recentReadings(ctx.database, readingIds, {
					maxPoints: READINGS_WINDOW.maxPoints,
					sinceMs: now - READINGS_WINDOW.maxAgeMs
				}),
		openAlarms(ctx.database, {
			lineId: scope.lineId ?? undefined,
			limit: SNAPSHOT_MAX_ALARMS
		})
	]);
	if (ref.kind === 'line' && line === null) return null;
	return {
		line,
		machines:
			scope.machineId === null ? machines : machines.filter((m) => m.id === scope.machineId),
		points,
		readings,
		alarms: alarms.filter(
			(a) =>
				(scope.machineId === null || a.machineId === scope.machineId) &&
				(scope.characteristicId === null || a.characteristicId === scope.characteristicId)
		)
	};
}

/** Removes what the next delta will carry, so no point or alarm arrives twice. */
function withoutPending(data: SnapshotData, pending: PendingView | null): SnapshotData {
	if (!pending) return data;
	const points: Record<number, LivePoint[]> = { ...data.points };
	for (const [id, pendingPoints] of pending.points) {
		const list = points[id];
		if (!list) continue;
		const keys = new Set(pendingPoints.map((p) => `${p.ts}:${p.seq}`));
		points[id] = list.filter((p) => !keys.has(`${p.ts}:${p.seq}`));
	}
	const readings: Record<number, StoredReading[]> = { ...data.readings };
	for (const [id, pendingReadings] of pending.readings) {
		const list = readings[id];
		if (!list) continue;
		const keys = new Set(pendingReadings.map((r) => `${r.ts}:${r.seq}`));
		readings[id] = list.filter((r) => !keys.has(`${r.ts}:${r.seq}`));
	}
	return {
		...data,
		points,
		readings,
		alarms: data.alarms.filter((a) => !pending.alarmIds.has(a.id))
	};
}

export async function handleSubscribe(
	ctx: HubContext,
	socket: LiveSocket,
	payload: unknown,
	ack: unknown
): Promise<void> {
	const reply = replier<RoomSnapshot>(ack);
	if (!reply) return;
	const parsed = roomRefSchema.safeParse(payload);
	if (!parsed.success) {
		reply(failure('bad_request', 'expected a room reference'));
		return;
	}
	const ref = parsed.data;
	const room = roomName(ref);
	const scope = scopeOf(ctx, ref);
	if (!scope || (scope.lineId !== null && !ctx.access.knows(scope.lineId))) {
		reply(failure('not_found', `no such room: ${room}`));
		return;
	}
	if (!ctx.access.mayView(socket, scope.lineId)) {
		ctx.metrics.socketRefusals.inc({ reason: 'forbidden' });
		reply(failure('forbidden', `not allowed to watch ${room}`));
		return;
	}
	// socket.rooms includes the socket's own id room.
	if (!socket.rooms.has(room) && socket.rooms.size - 1 >= ctx.limits.maxRoomsPerSocket) {
		reply(failure('rate_limited', `at most ${ctx.limits.maxRoomsPerSocket} rooms per connection`));
		return;
	}
	// Re-subscribe: stop deltas first, the fresh snapshot replaces everything the client had.
	void socket.leave(room);
	try {
		const snapshot = await ctx.queue.run(async (): Promise<RoomSnapshot | null> => {
			const data = await readSnapshot(ctx, ref, scope);
			if (!data || !socket.connected) return null;
			// ---- synchronous from here to the end of the task: the atomic join ----
			const seq = ctx.coalescer.seq(room);
			const exact = withoutPending(data, ctx.coalescer.pending(room));
			void socket.join(room);
			return {
				room,
				seq,
				serverTime: ctx.clock(),
				line: exact.line,
				machines: exact.machines,
				// Configuration as of the join (a publish during the read is then not lost).
				characteristics: scopeOf(ctx, ref)?.characteristics ?? scope.characteristics,
				points: exact.points,
				readings: toWireReadings(exact.readings),
				alarms: exact.alarms,
				sourcesSeenAt: ctx.presence.sourcesFor(scope.characteristics.map((c) => c.id))
			};
		});
		if (snapshot) reply({ ok: true, data: snapshot });
		else if (socket.connected) reply(failure('not_found', `no such room: ${room}`));
	} catch (error) {
		if (error instanceof QueueFullError || error instanceof QueueClosedError) {
			reply(failure('unavailable', 'the hub is busy; retry shortly'));
			return;
		}
		ctx.log.error({ err: error, room }, 'subscribe: reading the snapshot failed');
		reply(failure('unavailable'));
	}
}

/** The sample key's seq stays on the server: the wire form is LiveReading. */
function toWireReadings(readings: Record<number, StoredReading[]>): Record<number, LiveReading[]> {
	const out: Record<number, LiveReading[]> = {};
	for (const [id, list] of Object.entries(readings)) {
		out[Number(id)] = list.map(toLiveReading);
	}
	return out;
}

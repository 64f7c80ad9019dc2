/**
 * `ingest:batch` (/ingest): validate → persist in one transaction → ack → fan out.
 *
 * - Envelope invalid (not an object, no batch id, malformed subgroups/violations): the whole
 *   batch is refused with `bad_request`; nothing is persisted. That is a worker bug, and
 *   persisting half of an inconsistent batch would be worse than the worker retrying.
 * - Individual samples invalid: refused with a reason in `rejected`, counted per reason; the
 *   good samples of the same batch are persisted.
 * - The ack is sent only after the transaction committed, then the new points (and the raw
 *   readings of subgroup/attribute characteristics) are handed to the coalescer — inside the queue task, before the next persist or snapshot read (queue.ts).
 * - Persist queue full or the database failing: `unavailable`; the worker keeps the batch in
 *   its spool and resends, and natural keys make the resend idempotent.
 */
import type {
	IngestResult,
	IngestSubgroup,
	LiveAlarm,
	LivePoint,
	SampleTuple
} from '$lib/realtime/events';
import { writeBatch } from '../../samples/writer';
import { failure, replier, type HubContext } from '../context';
import type { StoredReading } from '../../samples/snapshot';
import { liveReadingsOfBatch, livePointsOfBatch, type PreviousValues } from '../live-points';
import type { WorkerIdentity } from '../presence';
import { QueueClosedError, QueueFullError } from '../queue';
import { alarmRooms, characteristicRooms } from '../rooms';
import {
	ingestBatchEnvelopeSchema,
	toValidBatch,
	validateSamples,
	type SampleWindow
} from '../schemas';

export interface IngestState {
	/** Previous individual value per characteristic (moving ranges across batches). */
	previous: PreviousValues;
}

export async function handleIngestBatch(
	ctx: HubContext,
	state: IngestState,
	worker: WorkerIdentity,
	payload: unknown,
	ack: unknown
): Promise<void> {
	const reply = replier<IngestResult>(ack);
	const now = ctx.clock();
	ctx.presence.seen(worker, now);
	if (!reply) {
		// Without an ack the worker cannot know the batch was stored; refuse to half-handle it.
		ctx.log.warn({ worker: worker.name }, 'ingest:batch without an ack callback ignored');
		ctx.metrics.batchesRejected.inc({ code: 'bad_request' });
		return;
	}
	const envelope = ingestBatchEnvelopeSchema.safeParse(payload);
	if (!envelope.success) {
		ctx.metrics.batchesRejected.inc({ code: 'bad_request' });
		ctx.log.warn(
			{ worker: worker.name, issues: envelope.error.issues.slice(0, 5) },
			'ingest:batch refused: malformed envelope'
		);
		reply(failure('bad_request', 'malformed batch envelope'));
		return;
	}
	const window: SampleWindow = {
		isKnownCharacteristic: (id) => ctx.config.byId(id) !== undefined,
		now,
		maxFutureMs: ctx.limits.maxFutureMs,
		maxAgeMs: ctx.limits.maxAgeMs
	};
	const { valid, rejected } = validateSamples(envelope.data.samples, window);
	for (const { reason } of rejected) ctx.metrics.samplesRejected.inc({ reason });
	if (rejected.length > 0) {
		ctx.log.warn(
			{ worker: worker.name, batchId: envelope.data.batchId, rejected: rejected.slice(0, 10) },
			`ingest:batch: ${rejected.length} of ${envelope.data.samples.length} samples refused`
		);
	}
	const { batch, droppedAux } = toValidBatch(envelope.data, valid, window);
	if (droppedAux > 0) {
		ctx.log.warn(
			{ worker: worker.name, batchId: batch.batchId, droppedAux },
			'ingest:batch: subgroups/violations/suspects for refused data left out'
		);
	}
	const nothingToWrite =
		batch.samples.length === 0 &&
		batch.subgroups.length === 0 &&
		batch.violations.length === 0 &&
		batch.suspects.length === 0;
	if (nothingToWrite) {
		reply({
			ok: true,
			data: { batchId: batch.batchId, accepted: 0, duplicates: 0, quarantined: 0, rejected }
		});
		return;
	}
	try {
		await ctx.queue.run(async () => {
			const stopTimer = ctx.metrics.batchPersistSeconds.startTimer();
			const written = await writeBatch(ctx.database, batch);
			stopTimer();
			ctx.metrics.samplesIngested.inc(written.accepted);
			ctx.metrics.samplesDuplicate.inc(written.duplicates);
			ctx.metrics.samplesQuarantined.inc(written.quarantined);
			if (written.quarantined > 0) {
				ctx.log.warn(
					{ worker: worker.name, batchId: batch.batchId, quarantined: written.quarantined },
					'ingest:batch: re-delivered keys with different values quarantined'
				);
			}
			reply({
				ok: true,
				data: {
					batchId: batch.batchId,
					accepted: written.accepted,
					duplicates: written.duplicates,
					quarantined: written.quarantined,
					rejected
				}
			});
			// Still inside the queue task: see queue.ts for why this ordering matters.
			fanOut(ctx, state, worker, written.acceptedSamples, batch.subgroups, written.newAlarms);
		});
	} catch (error) {
		if (error instanceof QueueFullError || error instanceof QueueClosedError) {
			ctx.metrics.ingestBackpressure.inc();
			reply(failure('unavailable', 'the hub is busy; keep the batch and resend'));
			return;
		}
		ctx.metrics.batchesRejected.inc({ code: 'unavailable' });
		ctx.log.error(
			{ err: error, worker: worker.name, batchId: batch.batchId },
			'ingest:batch: persisting failed'
		);
		reply(failure('unavailable', 'persisting failed; keep the batch and resend'));
	}
}

function fanOut(
	ctx: HubContext,
	state: IngestState,
	worker: WorkerIdentity,
	accepted: readonly SampleTuple[],
	subgroups: readonly IngestSubgroup[],
	newAlarms: readonly LiveAlarm[]
): void {
	const points = livePointsOfBatch(
		accepted,
		subgroups,
		(id) => ctx.config.byId(id),
		state.previous
	);
	const readings = liveReadingsOfBatch(accepted, (id) => ctx.config.byId(id));
	if (points.size === 0 && readings.size === 0 && newAlarms.length === 0) return;
	// A subgroup characteristic is being fed by every raw sample, not only by a closing one.
	ctx.presence.fed(worker, new Set([...points.keys(), ...readings.keys()]));
	const seenAt = ctx.clock();
	const sources = { [worker.name]: seenAt };

	// Group per room: each characteristic's points and readings go to its own, its machine's and
	// its line's room — the rooms someone watches. Points for unwatched rooms would be dropped
	// at flush anyway; leaving them out here saves copying ~every point into ~40 pending deltas
	// and a timer per room per flush. Safe because this runs inside the queue task: no socket can
	// join a room between the commit and here (subscribe joins inside its own queue task), and a
	// later subscriber's snapshot reads these points from the database (fanout.ts, watched()).
	const byRoom = new Map<
		string,
		{
			points: Map<number, LivePoint[]>;
			readings: Map<number, StoredReading[]>;
			alarms: LiveAlarm[];
		}
	>();
	const watched = new Map<string, boolean>();
	const isWatched = (room: string) => {
		let yes = watched.get(room);
		if (yes === undefined) watched.set(room, (yes = ctx.coalescer.watched(room)));
		return yes;
	};
	const roomEntry = (room: string) => {
		let entry = byRoom.get(room);
		if (!entry) byRoom.set(room, (entry = { points: new Map(), readings: new Map(), alarms: [] }));
		return entry;
	};
	for (const [id, list] of points) {
		const config = ctx.config.byId(id);
		if (!config) continue;
		for (const room of characteristicRooms(config)) {
			if (isWatched(room)) roomEntry(room).points.set(id, list);
		}
	}
	for (const [id, list] of readings) {
		const config = ctx.config.byId(id);
		if (!config) continue;
		for (const room of characteristicRooms(config)) {
			if (isWatched(room)) roomEntry(room).readings.set(id, list);
		}
	}
	for (const alarm of newAlarms) {
		for (const room of alarmRooms(alarm)) roomEntry(room).alarms.push(alarm);
	}
	for (const [room, entry] of byRoom) {
		ctx.coalescer.add(room, {
			points: entry.points,
			readings: entry.readings,
			alarms: entry.alarms,
			sources
		});
	}
}

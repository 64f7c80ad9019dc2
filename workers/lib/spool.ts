/**
 * A bounded, durable store-and-forward spool for ingest batches on local disk.
 *
 * Why: measurements are regulated records. Between acquisition and the hub's acknowledgement
 * (which comes only after the batch's database transaction committed) a batch must survive a
 * network drop, a hub restart, a worker crash and a power cut — and it must never be silently
 * dropped. Disk is finite, so the spool has a byte limit; when it is full the worker stops
 * acquiring new data and says so (logged and counted), instead of discarding anything.
 *
 * Layout of `dir`:
 * - `seg-<000000000001>.log`: append-only segment files. Each record is
 *   [u32 BE payload length][u32 BE CRC-32 of the payload][payload = UTF-8 JSON of one batch].
 *   A new segment starts when the active one exceeds `segmentMaxBytes`, and on every open.
 * - `seg-<n>.acks`: batch ids acknowledged by the hub, one per line, appended.
 * A segment (and its acks file) is deleted only when every batch in it has been acknowledged.
 *
 * Durability (fsync) policy:
 * - `append` resolves only after the record was written AND `fdatasync`ed (with `fsync: true`,
 *   the default): a batch the spool accepted survives a crash or power cut. Appends are
 *   serialised, one fdatasync per batch; at the simulator's 4-10 batches/s that costs
 *   nothing measurable on an SSD.
 * - Acks are appended WITHOUT fsync: losing an ack only means the batch is sent again after a
 *   restart, and the hub's natural keys make the resend a no-op. (At-least-once + idempotence.)
 * - A new segment file's directory entry is fsynced once, so the file itself survives a crash.
 *
 * Recovery on open: segments are read in order; each record's length and CRC are checked; a
 * torn tail (a crash mid-write) is truncated away and counted (`corruptRecords`) — it was never
 * acknowledged to the caller as spooled, so nothing accepted is lost. Acknowledged batches are
 * skipped, fully acknowledged segments deleted, and the rest is available, in order, through
 * `unacked()`/`read()`.
 *
 * Memory: only an index entry per unacknowledged batch is kept (id, segment, offset, length);
 * the batch itself is read back from disk when it is (re)sent.
 */
import {
	mkdir,
	open,
	readFile,
	readdir,
	rm,
	stat,
	truncate,
	type FileHandle
} from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { IngestBatch } from '../../src/lib/realtime/events';

const HEADER_BYTES = 8;
/** Refuse absurd record lengths found on disk (a corrupt header would otherwise allocate GBs). */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const SEGMENT_RE = /^seg-(\d{12})\.log$/;

export interface SpoolLogger {
	info(obj: object, msg?: string): void;
	warn(obj: object, msg?: string): void;
	error(obj: object, msg?: string): void;
}

export interface SpoolOptions {
	dir: string;
	/** Largest total size of the segment files, bytes. */
	maxBytes: number;
	/** Segment size at which a new segment starts (default min(4 MiB, maxBytes / 8)). */
	segmentMaxBytes?: number;
	/** fdatasync every append (default true). Only tests may turn it off. */
	fsync?: boolean;
	log?: SpoolLogger;
}

export interface SpoolEntry {
	batchId: string;
	segment: number;
	offset: number;
	/** Record size on disk including the header. */
	bytes: number;
}

export interface SpoolStats {
	bytes: number;
	maxBytes: number;
	unackedBatches: number;
	segments: number;
	/** Times an append was refused because the spool was full. */
	fullRefusals: number;
	/** Torn or corrupt records found (and truncated away) when opening. */
	corruptRecords: number;
}

/** Thrown by `append` when the batch does not fit. The caller must stop acquiring; nothing was written. */
export class SpoolFullError extends Error {
	constructor(
		readonly needed: number,
		readonly free: number
	) {
		super(`spool full: a batch of ${needed} bytes does not fit in the ${free} bytes left`);
		this.name = 'SpoolFullError';
	}
}

export interface Spool {
	/** Unacknowledged batches, oldest first. */
	unacked(): readonly SpoolEntry[];
	/** Read a spooled batch back from disk. */
	read(entry: SpoolEntry): Promise<IngestBatch>;
	/** Append durably; throws SpoolFullError when it does not fit. Returns the index entry. */
	append(batch: IngestBatch): Promise<SpoolEntry>;
	/** Record the hub's acknowledgement; deletes segments that became fully acknowledged. */
	ack(batchId: string): Promise<void>;
	/** Whether a record of this many payload bytes would fit now. */
	hasRoomFor(payloadBytes: number): boolean;
	stats(): SpoolStats;
	close(): Promise<void>;
}

/** Cheap structural check of what comes back from disk (the CRC already vouches for the bytes). */
const spooledBatchSchema = z.object({
	batchId: z.string().min(1),
	samples: z.array(z.tuple([z.number(), z.number(), z.number(), z.number(), z.number()])),
	subgroups: z.array(
		z.object({
			characteristicId: z.number(),
			ts: z.number(),
			n: z.number(),
			value: z.number(),
			dispersion: z.number().nullable()
		})
	),
	violations: z.array(
		z.object({
			characteristicId: z.number(),
			ts: z.number(),
			rule: z.string(),
			chart: z.enum(['primary', 'dispersion']),
			side: z.enum(['upper', 'lower']).nullable(),
			message: z.string(),
			pointTs: z.array(z.number()),
			value: z.number()
		})
	),
	suspects: z.array(
		z.object({ characteristicId: z.number(), ts: z.number(), seq: z.number(), reason: z.string() })
	)
});

function segmentName(n: number): string {
	return `seg-${String(n).padStart(12, '0')}.log`;
}

function acksName(n: number): string {
	return `seg-${String(n).padStart(12, '0')}.acks`;
}

function encode(batch: IngestBatch): Buffer {
	const payload = Buffer.from(JSON.stringify(batch), 'utf8');
	const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
	record.writeUInt32BE(payload.length, 0);
	record.writeUInt32BE(crc32(payload), 4);
	payload.copy(record, HEADER_BYTES);
	return record;
}

interface SegmentInfo {
	n: number;
	bytes: number;
	records: number;
	acked: number;
}

async function fsyncDir(dir: string): Promise<void> {
	// Makes a newly created file's directory entry durable. Some platforms (Windows) cannot open
	// a directory; there the rename/create is already durable enough for a demo worker.
	let handle: FileHandle | undefined;
	try {
		handle = await open(dir, 'r');
		await handle.sync();
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'EISDIR' && process.platform !== 'win32') {
			throw error;
		}
	} finally {
		await handle?.close();
	}
}

export async function openSpool(options: SpoolOptions): Promise<Spool> {
	const { dir, maxBytes } = options;
	if (!(maxBytes > HEADER_BYTES)) throw new RangeError(`spool maxBytes too small: ${maxBytes}`);
	const segmentMaxBytes =
		options.segmentMaxBytes ?? Math.max(4096, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 8)));
	const doFsync = options.fsync ?? true;
	const log = options.log;
	await mkdir(dir, { recursive: true });

	const segments = new Map<number, SegmentInfo>();
	const entries: SpoolEntry[] = [];
	let totalBytes = 0;
	let corruptRecords = 0;
	let fullRefusals = 0;

	// ---- recovery -------------------------------------------------------------------------
	const names = (await readdir(dir)).filter((f) => SEGMENT_RE.test(f)).sort();
	for (const name of names) {
		const n = Number(SEGMENT_RE.exec(name)?.[1]);
		const file = path.join(dir, name);
		const data = await readFile(file);
		let acked = new Set<string>();
		try {
			const text = await readFile(path.join(dir, acksName(n)), 'utf8');
			acked = new Set(text.split('\n').filter(Boolean));
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		}
		let offset = 0;
		let records = 0;
		let ackedCount = 0;
		while (offset < data.length) {
			if (data.length - offset < HEADER_BYTES) break;
			const len = data.readUInt32BE(offset);
			const crc = data.readUInt32BE(offset + 4);
			if (len > MAX_RECORD_BYTES || offset + HEADER_BYTES + len > data.length) break;
			const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + len);
			if (crc32(payload) !== crc) break;
			let batchId: string;
			try {
				batchId = spooledBatchSchema.parse(JSON.parse(payload.toString('utf8'))).batchId;
			} catch (error) {
				log?.error({ err: error, segment: name, offset }, 'spool record fails its schema');
				break;
			}
			records++;
			if (acked.has(batchId)) ackedCount++;
			else entries.push({ batchId, segment: n, offset, bytes: HEADER_BYTES + len });
			offset += HEADER_BYTES + len;
		}
		if (offset < data.length) {
			// A torn write from a crash (or corruption): everything from here on is unreadable.
			// It was never reported as spooled, so truncating loses nothing that was accepted.
			corruptRecords++;
			log?.warn(
				{ segment: name, validBytes: offset, fileBytes: data.length },
				'spool segment has a torn or corrupt tail; truncating it'
			);
			await truncate(file, offset);
		}
		if (records === ackedCount) {
			await rm(file, { force: true });
			await rm(path.join(dir, acksName(n)), { force: true });
			continue;
		}
		segments.set(n, { n, bytes: offset, records, acked: ackedCount });
		totalBytes += offset;
	}
	let nextSegment = names.length ? Number(SEGMENT_RE.exec(names[names.length - 1])?.[1]) + 1 : 1;
	if (entries.length) {
		log?.info(
			{ batches: entries.length, bytes: totalBytes, segments: segments.size },
			'spool reloaded unacknowledged batches'
		);
	}

	// ---- active segment -------------------------------------------------------------------
	let active: { info: SegmentInfo; handle: FileHandle; acks: FileHandle } | null = null;
	const entryById = new Map(entries.map((e) => [e.batchId, e]));
	let closed = false;

	async function openActive(): Promise<NonNullable<typeof active>> {
		const n = nextSegment++;
		const handle = await open(path.join(dir, segmentName(n)), 'wx');
		const acks = await open(path.join(dir, acksName(n)), 'a');
		if (doFsync) await fsyncDir(dir);
		const info: SegmentInfo = { n, bytes: 0, records: 0, acked: 0 };
		segments.set(n, info);
		active = { info, handle, acks };
		return active;
	}

	async function closeActive(): Promise<void> {
		if (!active) return;
		const { handle, acks } = active;
		active = null;
		await handle.close();
		await acks.close();
	}

	async function deleteSegment(info: SegmentInfo): Promise<void> {
		if (active?.info === info) await closeActive();
		segments.delete(info.n);
		totalBytes -= info.bytes;
		await rm(path.join(dir, segmentName(info.n)), { force: true });
		await rm(path.join(dir, acksName(info.n)), { force: true });
	}

	// Serialise every mutation: appends and acks touch the same files and counters.
	let queue: Promise<unknown> = Promise.resolve();
	function serial<T>(op: () => Promise<T>): Promise<T> {
		const run = queue.then(op, op);
		queue = run.catch(() => undefined);
		return run;
	}

	function hasRoomFor(payloadBytes: number): boolean {
		return totalBytes + HEADER_BYTES + payloadBytes <= maxBytes;
	}

	return {
		unacked: () => entries,
		async read(entry) {
			const handle = await open(path.join(dir, segmentName(entry.segment)), 'r');
			try {
				const buf = Buffer.allocUnsafe(entry.bytes);
				const { bytesRead } = await handle.read(buf, 0, entry.bytes, entry.offset);
				if (bytesRead !== entry.bytes) {
					throw new Error(`spool record ${entry.batchId} is short on disk`);
				}
				const payload = buf.subarray(HEADER_BYTES);
				if (crc32(payload) !== buf.readUInt32BE(4)) {
					throw new Error(`spool record ${entry.batchId} fails its CRC`);
				}
				return spooledBatchSchema.parse(JSON.parse(payload.toString('utf8'))) as IngestBatch;
			} finally {
				await handle.close();
			}
		},
		append(batch) {
			return serial(async () => {
				if (closed) throw new Error('spool is closed');
				if (entryById.has(batch.batchId)) {
					throw new Error(`batch ${batch.batchId} is already in the spool`);
				}
				const record = encode(batch);
				if (totalBytes + record.length > maxBytes) {
					fullRefusals++;
					throw new SpoolFullError(record.length, Math.max(0, maxBytes - totalBytes));
				}
				let seg = active;
				if (seg && seg.info.bytes > 0 && seg.info.bytes + record.length > segmentMaxBytes) {
					await closeActive();
					seg = null;
				}
				seg ??= await openActive();
				const offset = seg.info.bytes;
				await seg.handle.write(record, 0, record.length, offset);
				if (doFsync) await seg.handle.datasync();
				seg.info.bytes += record.length;
				seg.info.records++;
				totalBytes += record.length;
				const entry: SpoolEntry = {
					batchId: batch.batchId,
					segment: seg.info.n,
					offset,
					bytes: record.length
				};
				entries.push(entry);
				entryById.set(entry.batchId, entry);
				return entry;
			});
		},
		ack(batchId) {
			return serial(async () => {
				const entry = entryById.get(batchId);
				if (!entry) return; // already acknowledged (a late duplicate ack): nothing to do
				entryById.delete(batchId);
				const i = entries.indexOf(entry);
				if (i >= 0) entries.splice(i, 1);
				const info = segments.get(entry.segment);
				if (!info) return;
				info.acked++;
				if (info.acked >= info.records) {
					await deleteSegment(info);
					return;
				}
				if (active?.info === info) {
					await active.acks.write(`${batchId}\n`);
				} else {
					const handle = await open(path.join(dir, acksName(info.n)), 'a');
					try {
						await handle.write(`${batchId}\n`);
					} finally {
						await handle.close();
					}
				}
			});
		},
		hasRoomFor,
		stats: () => ({
			bytes: totalBytes,
			maxBytes,
			unackedBatches: entries.length,
			segments: segments.size,
			fullRefusals,
			corruptRecords
		}),
		close() {
			return serial(async () => {
				closed = true;
				await closeActive();
			});
		}
	};
}

/** Size on disk of the spool's files (for tests and diagnostics). */
export async function spoolDiskBytes(dir: string): Promise<number> {
	let total = 0;
	for (const f of await readdir(dir)) {
		if (SEGMENT_RE.test(f)) total += (await stat(path.join(dir, f))).size;
	}
	return total;
}

/**
 * A bounded serial task queue: one task at a time, in arrival order, at most `limit` waiting.
 *
 * The hub runs every batch persist AND every snapshot read through one queue. That ordering is
 * what makes a snapshot exact: when a snapshot read starts, every earlier batch has committed
 * and has already been handed to the fan-out (the ingest task enqueues its deltas before it
 * returns), and no batch commits while the read runs. So the snapshot holds exactly the points
 * of the deltas flushed so far plus the ones still pending, and the join can subtract the
 * pending ones (they arrive in the next delta).
 *
 * Serial persistence also suits both drivers: PGlite has one connection anyway, and on
 * PostgreSQL one bulk statement per batch reaches the raw `unnest` rate (STACK.md) without
 * transactions of different workers contending for the same index pages.
 */
export class QueueFullError extends Error {
	constructor(readonly limit: number) {
		super(`queue full (${limit} tasks waiting)`);
		this.name = 'QueueFullError';
	}
}

export class QueueClosedError extends Error {
	constructor() {
		super('queue closed');
		this.name = 'QueueClosedError';
	}
}

export interface SerialQueue {
	/** Runs `task` after every earlier task; rejects with QueueFullError when `limit` are waiting. */
	run<T>(task: () => Promise<T>): Promise<T>;
	/** Tasks waiting or running. */
	depth(): number;
	/** Refuses new tasks and resolves once the running and waiting ones have finished. */
	close(): Promise<void>;
}

export function createSerialQueue(limit: number): SerialQueue {
	let tail: Promise<unknown> = Promise.resolve();
	let depth = 0;
	let closed = false;
	return {
		run<T>(task: () => Promise<T>): Promise<T> {
			if (closed) return Promise.reject(new QueueClosedError());
			if (depth >= limit) return Promise.reject(new QueueFullError(limit));
			depth++;
			const result = tail.then(task).finally(() => {
				depth--;
			});
			// The chain must not break on a failed task; the caller still sees the rejection.
			tail = result.then(
				() => undefined,
				() => undefined
			);
			return result;
		},
		depth: () => depth,
		async close() {
			closed = true;
			await tail;
		}
	};
}

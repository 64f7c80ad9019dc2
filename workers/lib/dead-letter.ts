/**
 * Where batches (or samples) the hub refused for good are kept: one JSON file each, written
 * atomically (temporary file, fsync, rename), for a person to investigate. This is what makes
 * "never drop a regulated record silently" hold even for data the hub will not take.
 *
 * Bounded: at most `maxFiles` files. When full, `store` resolves false and the caller keeps the
 * batch where it is (in the spool), which eventually stops acquisition — loud, not lossy.
 */
import { mkdir, open, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { IngestBatch } from '../../src/lib/realtime/events';

export interface DeadLetterStore {
	store(batch: IngestBatch, reason: string): Promise<boolean>;
	count(): Promise<number>;
}

const FILE_RE = /^\d{13}-[A-Za-z0-9_.-]+\.json$/;

export function createDeadLetterStore(dir: string, maxFiles = 1000): DeadLetterStore {
	async function count(): Promise<number> {
		try {
			return (await readdir(dir)).filter((f) => FILE_RE.test(f)).length;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
			throw error;
		}
	}
	return {
		count,
		async store(batch, reason) {
			await mkdir(dir, { recursive: true });
			if ((await count()) >= maxFiles) return false;
			const safeId = batch.batchId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
			const name = `${String(Date.now()).padStart(13, '0')}-${safeId}.json`;
			const tmp = path.join(dir, `.${name}.tmp`);
			const handle = await open(tmp, 'w');
			try {
				await handle.writeFile(JSON.stringify({ reason, storedAt: Date.now(), batch }, null, 1));
				await handle.datasync();
			} finally {
				await handle.close();
			}
			await rename(tmp, path.join(dir, name));
			return true;
		}
	};
}

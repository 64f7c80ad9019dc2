/**
 * A small JSON state file replaced atomically: write a temporary file, fdatasync it, rename it
 * over the old one. A crash leaves either the old or the new content, never a torn file.
 * Reading validates with a zod schema; a missing file is `null`, a corrupt one is reported
 * (the caller decides whether to start fresh) rather than thrown at start-up.
 */
import { open, readFile, rename } from 'node:fs/promises';
import type { z } from 'zod';

export type StateRead<T> =
	{ kind: 'ok'; value: T } | { kind: 'missing' } | { kind: 'corrupt'; error: string };

export async function readStateFile<T>(file: string, schema: z.ZodType<T>): Promise<StateRead<T>> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
		throw error;
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		return { kind: 'corrupt', error: `not JSON: ${(error as Error).message}` };
	}
	const parsed = schema.safeParse(json);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		return { kind: 'corrupt', error: `${issue.path.join('.')}: ${issue.message}` };
	}
	return { kind: 'ok', value: parsed.data };
}

export async function writeStateFile(file: string, value: unknown): Promise<void> {
	const tmp = `${file}.tmp`;
	const handle = await open(tmp, 'w');
	try {
		await handle.writeFile(JSON.stringify(value));
		await handle.datasync();
	} finally {
		await handle.close();
	}
	await rename(tmp, file);
}

/**
 * Structured logging (pino). One root logger per app instance; modules take a child with a
 * `module` binding so every line says where it came from.
 *
 * Pretty output only when a human is watching (stdout is a TTY) AND pino-pretty is installed.
 * pino-pretty is a devDependency: a production install (`npm ci --omit=dev`) does not have it,
 * so it is never imported statically — pino loads it by name in a transport worker thread,
 * and only after we checked it resolves.
 */
import { createRequire } from 'node:module';
import pino, { type Logger, type LevelWithSilent } from 'pino';

export type Log = Logger;

export interface LogOptions {
	level?: LevelWithSilent;
	/** Force pretty (true) or JSON (false) output; default: pretty on a TTY when available. */
	pretty?: boolean;
	/** Extra bindings on every line (e.g. the process role). */
	base?: Record<string, unknown>;
}

function prettyAvailable(): boolean {
	try {
		createRequire(import.meta.url).resolve('pino-pretty');
		return true;
	} catch {
		// Not resolvable: the normal case in a production install (devDependencies omitted).
		return false;
	}
}

export function createLog(options: LogOptions = {}): Log {
	const pretty = options.pretty ?? (process.stdout.isTTY === true && prettyAvailable());
	return pino({
		level: options.level ?? 'info',
		base: { pid: process.pid, ...options.base },
		timestamp: pino.stdTimeFunctions.isoTime,
		...(pretty
			? {
					transport: {
						target: 'pino-pretty',
						options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid' }
					}
				}
			: {})
	});
}

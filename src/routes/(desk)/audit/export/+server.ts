/**
 * CSV export of the filtered audit trail, streamed in batches (constant memory whatever the
 * size). Includes prev_hash and hash so an auditor can re-verify the chain outside Tracewall.
 */
import { error } from '@sveltejs/kit';
import { stringify } from 'csv-stringify/sync';
import { runningApp } from '$lib/server/running-app';
import { CSV_COLUMNS, csvRow, streamAudit } from '$lib/server/audit/query';
import { requireApiPermission } from '$lib/server/auth/guard';
import { readFilter } from '../filter';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	requireApiPermission(event, 'audit:view');
	const app = runningApp();
	const read = readFilter(event.url);
	if (!read.ok) error(400, read.message);
	const { filter } = read;
	const database = app.database;
	const encoder = new TextEncoder();
	const batches = streamAudit(database, filter);
	const body = new ReadableStream<Uint8Array>({
		start(controller) {
			controller.enqueue(encoder.encode(stringify([[...CSV_COLUMNS]])));
		},
		async pull(controller) {
			try {
				const next = await batches.next();
				if (next.done) {
					controller.close();
					return;
				}
				controller.enqueue(encoder.encode(stringify(next.value.map(csvRow))));
			} catch (e) {
				app.log.error({ err: e }, 'audit CSV export failed');
				controller.error(e);
			}
		},
		async cancel() {
			await batches.return(undefined);
		}
	});
	const stamp = new Date().toISOString().replace(/[:.]/g, '-');
	return new Response(body, {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="tracewall-audit-${stamp}.csv"`,
			'cache-control': 'no-store'
		}
	});
};

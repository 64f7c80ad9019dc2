/** A board (or every board) as CSV, under the same filters as the page. */
import { error } from '@sveltejs/kit';
import { requireApiPermission } from '$lib/server/auth/guard';
import { boardCsv } from '$lib/server/kpi/csv';
import { boardsOf, loadBoards } from '$lib/server/kpi/page';
import { runningApp } from '$lib/server/running-app';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	requireApiPermission(event, 'kpi:view');
	const boards = boardsOf(event.url);
	const result = await loadBoards(runningApp().database, event.url, boards, Date.now());
	if (result.problem) error(400, result.problem);
	const name = boards.length === 1 ? boards[0] : 'all';
	const day = new Date(result.generatedAt).toISOString().slice(0, 10);
	return new Response(
		boardCsv(
			result.boards.flatMap((b) => b.figures),
			result.range.label
		),
		{
			headers: {
				'content-type': 'text/csv; charset=utf-8',
				'content-disposition': `attachment; filename="kpi-${name}-${day}.csv"`,
				'cache-control': 'no-store'
			}
		}
	);
};

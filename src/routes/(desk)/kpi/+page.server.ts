/**
 * KPI boards (issue 6): every figure over the filters in the URL, each linking to the lots or
 * change requests behind it. `?mode=meeting` is the meeting-room screen (/kpi/meeting, same
 * filters); `?board=` narrows to one board; `?print=1` is the printable view.
 */
import { redirect } from '@sveltejs/kit';
import { requireUserWith } from '$lib/server/auth/guard';
import { boardsOf, loadBoards } from '$lib/server/kpi/page';
import { runningApp } from '$lib/server/running-app';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	requireUserWith(event, 'kpi:view');
	const url = event.url;
	if (url.searchParams.get('mode') === 'meeting') {
		const kept = new URLSearchParams(url.searchParams);
		kept.delete('mode');
		const qs = kept.toString();
		redirect(303, `/kpi/meeting${qs ? `?${qs}` : ''}`);
	}
	const result = await loadBoards(runningApp().database, url, boardsOf(url), Date.now());
	return {
		...result,
		board: url.searchParams.get('board'),
		print: url.searchParams.get('print') === '1'
	};
};

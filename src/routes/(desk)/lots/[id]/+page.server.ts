/**
 * The lot history page: the whole record of one lot (lots/history.ts) and its SPC charts
 * (lots/charts.ts). A lot the viewer may not see answers 404 exactly like a lot that does not
 * exist — a customer must not learn that another customer's lot number is real.
 */
import { error } from '@sveltejs/kit';
import { runningApp } from '$lib/server/running-app';
import { requireUserWith } from '$lib/server/auth/guard';
import { can } from '$lib/server/auth/policy';
import { canTrace, lotViewerProblem } from '$lib/server/lots/access';
import { loadLotCharts } from '$lib/server/lots/charts';
import { liveParameterSummaries, loadLotHistory } from '$lib/server/lots/history';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	// Who first (anonymous → /login, devices and roles without lot:view → 403), then the lot.
	const user = requireUserWith(event, 'lot:view');
	const problem = lotViewerProblem(user);
	if (problem) error(403, problem);
	if (!/^\d{1,10}$/.test(event.params.id)) error(404, 'No such lot.');
	const { database, log } = runningApp();
	const lotId = Number(event.params.id);
	const history = await loadLotHistory(database, lotId, user, new Date(), {
		liveSummaries: 'defer'
	});
	if (!history) error(404, 'No such lot.');
	const charts = await loadLotCharts(database, history);
	// A running lot's summaries are a pass over all its raw samples: streamed after the record.
	const liveSummaries = history.summariesDeferred
		? liveParameterSummaries(database, lotId, history.readAt).then(
				(summaries) => ({ ok: true as const, summaries }),
				(cause: unknown) => {
					log.error({ err: cause, lotId }, 'live parameter summaries failed');
					return { ok: false as const, summaries: [] };
				}
			)
		: null;
	const scope = { lineId: history.header.line.id, siteId: history.header.line.siteId };
	return {
		history,
		charts,
		liveSummaries,
		// Material lot pages list every customer's lots (recall scope): staff only.
		canTrace: canTrace(user),
		// Links only where the target page would open (customers get plain text).
		canOpenCharacteristics: can(user, 'characteristic:view', scope),
		canOpenAlarms: can(user, 'alarm:view', scope),
		canOpenWall: can(user, 'live:view', scope),
		// The "Review for release" link (the review page checks it again, and so does the service).
		canRelease: can(user, 'lot:release', scope)
	};
};

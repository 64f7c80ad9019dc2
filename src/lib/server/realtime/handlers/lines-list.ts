/**
 * `lines:list` (default namespace): every line with its live state, for the landing page.
 */
import type { LineSummary } from '$lib/realtime/events';
import { listLineSummaries } from '../../plant/service';
import { failure, replier, type HubContext } from '../context';
import { emptyPayloadSchema } from '../schemas';

export async function handleLinesList(
	ctx: HubContext,
	payload: unknown,
	ack: unknown
): Promise<void> {
	const reply = replier<LineSummary[]>(ack);
	if (!reply) return;
	if (!emptyPayloadSchema.safeParse(payload).success) {
		reply(failure('bad_request', 'lines:list takes no payload'));
		return;
	}
	try {
		reply({ ok: true, data: await listLineSummaries(ctx.database) });
	} catch (error) {
		ctx.log.error({ err: error }, 'lines:list failed');
		reply(failure('unavailable'));
	}
}

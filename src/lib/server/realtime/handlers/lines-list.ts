/**
 * `lines:list` (default namespace): every line the caller may watch, with its live state, for
 * the landing page.
 */
import type { LineSummary } from '$lib/realtime/events';
import { listLineSummaries } from '../../plant/service';
import { failure, replier, type HubContext, type LiveSocket } from '../context';
import { emptyPayloadSchema } from '../schemas';

export async function handleLinesList(
	ctx: HubContext,
	socket: LiveSocket,
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
		const all = await listLineSummaries(ctx.database);
		// Only the lines this principal may watch: the others do not exist for it.
		reply({ ok: true, data: all.filter((s) => ctx.access.mayView(socket, s.line.id)) });
	} catch (error) {
		ctx.log.error({ err: error }, 'lines:list failed');
		reply(failure('unavailable'));
	}
}

/**
 * `unsubscribe` (default namespace): leave a room. Leaving a room one is not in succeeds
 * (idempotent), so a client can always clean up without tracking what the server thinks.
 */
import { failure, replier, type HubContext, type LiveSocket } from '../context';
import { roomName } from '../rooms';
import { roomRefSchema } from '../schemas';

export function handleUnsubscribe(
	_ctx: HubContext,
	socket: LiveSocket,
	payload: unknown,
	ack: unknown
): void {
	const reply = replier<null>(ack);
	const parsed = roomRefSchema.safeParse(payload);
	if (!parsed.success) {
		reply?.(failure('bad_request', 'expected a room reference'));
		return;
	}
	// Synchronous with the in-memory adapter; a cluster adapter's leave is local as well.
	void socket.leave(roomName(parsed.data));
	reply?.({ ok: true, data: null });
}

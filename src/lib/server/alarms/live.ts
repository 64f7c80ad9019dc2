/**
 * Pushing alarm changes live: after a transaction that raised or moved alarms has COMMITTED,
 * read them as they now are and hand them to the hub, which adds them to the next delta of
 * each room that shows them (line, machine, characteristic, the plant-wide alarms room).
 *
 * Reading after the commit (rather than sending what the transaction wrote) keeps the wire
 * form in one place (./read.ts) and never announces a change that was rolled back.
 */
import type { Database } from '../db';
import type { Hub } from '../realtime/hub';
import { liveAlarmsByIds } from './read';

export async function publishAlarms(
	hub: Pick<Hub, 'pushAlarms'>,
	database: Database,
	alarmIds: number[]
): Promise<void> {
	if (alarmIds.length === 0) return;
	const alarms = await liveAlarmsByIds(database, alarmIds);
	hub.pushAlarms(alarms);
}

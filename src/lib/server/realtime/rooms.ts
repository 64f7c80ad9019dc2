/**
 * Room names. Every room name in the hub is built here and nowhere else, so a typo cannot
 * create a room nobody listens to, and parsing a client's room reference has one home.
 */
import type { RoomRef } from '$lib/realtime/events';
import type { RoomKind } from '../metrics';

export const ALARMS_ROOM = 'alarms';

export function lineRoom(lineId: number): string {
	return `line:${lineId}`;
}

export function machineRoom(machineId: number): string {
	return `machine:${machineId}`;
}

export function characteristicRoom(characteristicId: number): string {
	return `characteristic:${characteristicId}`;
}

/** Rooms that show a characteristic's points and configuration. */
export function characteristicRooms(c: {
	id: number;
	machineId: number;
	lineId: number;
}): string[] {
	return [characteristicRoom(c.id), machineRoom(c.machineId), lineRoom(c.lineId)];
}

/**
 * Rooms that show an alarm: the plant-wide alarm room, its line, and its machine and
 * characteristic where it has them (a missed-inspection alarm has no characteristic).
 */
export function alarmRooms(a: {
	characteristicId: number | null;
	machineId: number | null;
	lineId: number;
}): string[] {
	const rooms = [ALARMS_ROOM, lineRoom(a.lineId)];
	if (a.machineId !== null) rooms.push(machineRoom(a.machineId));
	if (a.characteristicId !== null) rooms.push(characteristicRoom(a.characteristicId));
	return rooms;
}

export function roomName(ref: RoomRef): string {
	switch (ref.kind) {
		case 'line':
			return lineRoom(ref.id);
		case 'machine':
			return machineRoom(ref.id);
		case 'characteristic':
			return characteristicRoom(ref.id);
		case 'alarms':
			return ALARMS_ROOM;
	}
}

const ROOM_PATTERN = /^(line|machine|characteristic):([1-9][0-9]{0,9})$/;

/** Inverse of roomName for names this module built; null for anything else (e.g. socket ids). */
export function parseRoomName(name: string): RoomRef | null {
	if (name === ALARMS_ROOM) return { kind: 'alarms' };
	const match = ROOM_PATTERN.exec(name);
	if (!match) return null;
	return { kind: match[1] as 'line' | 'machine' | 'characteristic', id: Number(match[2]) };
}

export function roomKind(ref: RoomRef): RoomKind {
	return ref.kind;
}

/**
 * The hub's in-memory copy of the plant configuration workers and walls need: characteristic
 * configs with their line and machine. Loaded from the database at start and on
 * `hub.publishConfig()`; read on every batch (is this characteristic known?) and every
 * subscribe (which characteristics are in this room?), so it must not cost a query.
 */
import type { CharacteristicConfig, IngestConfig } from '$lib/realtime/events';

export interface ConfigState {
	current(): IngestConfig;
	byId(characteristicId: number): CharacteristicConfig | undefined;
	ofLine(lineId: number): CharacteristicConfig[];
	ofMachine(machineId: number): CharacteristicConfig[];
	/** Line of a machine that has at least one characteristic; undefined otherwise. */
	lineOfMachine(machineId: number): number | undefined;
	/**
	 * Replaces the configuration. Returns the characteristics that are new or changed, and
	 * keeps the revision strictly increasing when anything changed (workers drop pushes whose
	 * revision is not newer than theirs).
	 */
	replace(next: IngestConfig): CharacteristicConfig[];
}

export function createConfigState(initial: IngestConfig): ConfigState {
	let config: IngestConfig = { revision: initial.revision, characteristics: [] };
	let byId = new Map<number, CharacteristicConfig>();
	let byLine = new Map<number, CharacteristicConfig[]>();
	let byMachine = new Map<number, CharacteristicConfig[]>();

	function index(next: IngestConfig) {
		config = next;
		byId = new Map(next.characteristics.map((c) => [c.id, c]));
		byLine = new Map();
		byMachine = new Map();
		for (const c of next.characteristics) {
			(byLine.get(c.lineId) ?? byLine.set(c.lineId, []).get(c.lineId)!).push(c);
			(byMachine.get(c.machineId) ?? byMachine.set(c.machineId, []).get(c.machineId)!).push(c);
		}
	}

	const state: ConfigState = {
		current: () => config,
		byId: (id) => byId.get(id),
		ofLine: (lineId) => byLine.get(lineId) ?? [],
		ofMachine: (machineId) => byMachine.get(machineId) ?? [],
		lineOfMachine: (machineId) => byMachine.get(machineId)?.[0]?.lineId,
		replace(next) {
			const changed = next.characteristics.filter((c) => {
				const before = byId.get(c.id);
				return !before || JSON.stringify(before) !== JSON.stringify(c);
			});
			const removed = config.characteristics.some(
				(c) => !next.characteristics.some((n) => n.id === c.id)
			);
			const revision =
				changed.length > 0 || removed
					? Math.max(next.revision, config.revision + 1)
					: Math.max(next.revision, config.revision);
			index({ revision, characteristics: next.characteristics });
			return changed;
		}
	};
	index(initial);
	return state;
}

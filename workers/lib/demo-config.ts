/**
 * The IngestConfig a hub would push for the demo plant right after seeding it (ids by plant
 * order, limits version 1 = the known process mean and sigma). For tests and offline runs; the
 * real configuration always comes from the hub (src/lib/server/plant/service.ts).
 */
import { DEMO_PLANT, type DemoPlant } from '../../src/lib/demo/plant';
import type { CharacteristicConfig, IngestConfig } from '../../src/lib/realtime/events';

export function demoIngestConfig(plant: DemoPlant = DEMO_PLANT, revision = 1): IngestConfig {
	const characteristics: CharacteristicConfig[] = [];
	let machineId = 0;
	plant.lines.forEach((line, li) => {
		for (const machine of line.machines) {
			machineId++;
			for (const c of machine.characteristics) {
				characteristics.push({
					id: characteristics.length + 1,
					code: c.code,
					name: c.name,
					unit: c.unit,
					lineId: li + 1,
					machineId,
					kind: c.kind,
					chart: c.chart,
					subgroupSize: c.subgroupSize,
					samplingIntervalMs: c.samplingIntervalMs,
					spec: c.spec,
					suspect: c.suspect,
					rules: c.rules,
					limits: {
						version: 1,
						centre: c.process.mean,
						sigma: c.process.sigma,
						source: 'known standard (demo)'
					},
					decimals: c.decimals
				});
			}
		}
	});
	return { revision, characteristics };
}

import { expect, test } from './fixtures';
import { startSimulator, stopSimulator } from '../control';

/**
 * IM1.INJ.PRESS plots a subgroup every 6 s (docs/simulator.md: the first signal's chart), so it
 * turns stale 3 intervals (18 s) after its data stops — the fastest chart of Line 1.
 */
const FAST_CHART = '[data-testid="spc-chart"][data-code="IM1.INJ.PRESS"]';

test.describe('wall staleness', () => {
	test('shows a chart as stale when its data stops, and live again when it returns', async ({
		page
	}) => {
		test.setTimeout(180_000);
		await page.goto('/wall/L1?rotate=600');
		await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		const chart = page.locator(FAST_CHART);
		await expect(chart).not.toHaveAttribute('data-points', '0', { timeout: 30_000 });
		await expect(chart).not.toHaveAttribute('data-status', 'stale', { timeout: 30_000 });

		try {
			await stopSimulator();
			// No new point for more than three intervals: stale, while the hub connection itself
			// stays live and the last readings stay on screen.
			await expect(chart).toHaveAttribute('data-status', 'stale', { timeout: 45_000 });
			await expect(chart).toContainText('Stale');
			await expect(chart).not.toHaveAttribute('data-points', '0');
			await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		} finally {
			await startSimulator();
		}

		await expect(chart).not.toHaveAttribute('data-status', 'stale', { timeout: 45_000 });
	});
});

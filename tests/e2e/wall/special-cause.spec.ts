import { expect, test } from './fixtures';
import { restartSimulator } from '../control';

test.describe('wall alarm banner', () => {
	test('shows the scheduled special cause of a fresh simulator as it fires', async ({ page }) => {
		// Hold the page: the chart of the characteristic is on the first page of Line 1.
		await page.goto('/wall/L1?rotate=600');
		await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		const restartedAt = Date.now();
		// docs/simulator.md, "What the end-to-end test can wait for": a fresh worker shifts
		// IM1.INJ.PRESS by +6 sigma at simulated 5 s, and Nelson 1 fires on that point.
		await restartSimulator();

		const row = page.locator(
			'[data-testid="alarm-banner"] [data-testid="alarm"][data-code="IM1.INJ.PRESS"][data-rule="nelson1"]'
		);
		await expect
			.poll(
				async () => {
					const ts = await row.getAttribute('data-ts', { timeout: 250 }).catch(() => null);
					return ts !== null && Number(ts) >= restartedAt;
				},
				{ timeout: 40_000, intervals: [250] }
			)
			.toBe(true);
		await expect(row).toContainText('Peak injection pressure');
		await expect(row).toContainText('IM1');
		await expect(row).toContainText('Nelson rule 1');

		// The violation is also marked on the characteristic's chart.
		const chart = page.locator('[data-testid="spc-chart"][data-code="IM1.INJ.PRESS"]');
		await expect(chart).not.toHaveAttribute('data-markers', '0');
	});
});

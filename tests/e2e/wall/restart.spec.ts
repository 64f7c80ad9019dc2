import { expect, test } from './fixtures';
import { startServer, stopServer } from '../control';

test.describe('wall resilience', () => {
	test('recovers by itself after the server restarts, without reloading', async ({ page }) => {
		await page.goto('/wall/L1?rotate=600');
		const connection = page.getByTestId('connection');
		await expect(connection).toHaveAttribute('data-state', 'live');
		const chart = page.getByTestId('spc-chart').first();
		await expect(chart).not.toHaveAttribute('data-points', '0');
		// A marker that a reload would wipe out.
		await page.evaluate(() => {
			(window as unknown as { wallMarker: number }).wallMarker = 42;
		});

		try {
			await stopServer();
			await expect(connection).not.toHaveAttribute('data-state', 'live');
			// With the socket down every tile says offline instead of showing old values as live.
			await expect(
				page.locator('[data-testid="machine-tile"]:not([data-status="offline"])')
			).toHaveCount(0);
		} finally {
			await startServer();
		}

		await expect(connection).toHaveAttribute('data-state', 'live', { timeout: 60_000 });
		// Data flows again: readings change and the tiles leave the offline state.
		const values = page.getByTestId('spc-chart').locator('.value');
		const baseline = (await values.allTextContents()).join('|');
		await expect
			.poll(async () => (await values.allTextContents()).join('|'), { timeout: 30_000 })
			.not.toBe(baseline);
		await expect(page.locator('[data-testid="machine-tile"][data-status="offline"]')).toHaveCount(
			0,
			{ timeout: 30_000 }
		);
		expect(
			await page.evaluate(() => (window as unknown as { wallMarker?: number }).wallMarker)
		).toBe(42);
	});
});

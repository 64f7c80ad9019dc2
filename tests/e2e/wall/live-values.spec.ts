import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** Every number the wall shows live (tile readings and chart values), by where it is shown. */
async function readings(page: Page): Promise<Record<string, string>> {
	const tiles = await page
		.getByTestId('tile-value')
		.evaluateAll((rows) =>
			rows.map((row) => [
				`tile:${(row as HTMLElement).dataset.code ?? ''}`,
				row.querySelector('[data-testid="value"]')?.textContent?.trim() ?? ''
			])
		);
	const charts = await page
		.getByTestId('spc-chart')
		.evaluateAll((cards) =>
			cards.map((card) => [
				`chart:${(card as HTMLElement).dataset.code ?? ''}`,
				card.querySelector('.value')?.textContent?.trim() ?? ''
			])
		);
	return Object.fromEntries([...tiles, ...charts]);
}

test.describe('wall live values', () => {
	test('shows machine tiles and live SPC charts whose values change', async ({ page }) => {
		// ECharts reports a missing component or bad option only on the console.
		const consoleErrors: string[] = [];
		page.on('console', (message) => {
			if (message.type() === 'error') consoleErrors.push(message.text());
		});
		page.on('pageerror', (error) => consoleErrors.push(error.message));
		await page.goto('/wall/L1?rotate=600');
		await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
		await expect(page.getByTestId('machine-tile')).toHaveCount(3);
		const charts = page.getByTestId('spc-chart');
		await expect(charts.first()).toBeVisible();
		const count = await charts.count();
		expect(count).toBeGreaterThan(0);
		expect(count).toBeLessThanOrEqual(16);
		// Each chart draws into a canvas with its centre line and limits.
		await expect(charts.first().locator('canvas').first()).toBeVisible();
		await expect(charts.first()).not.toHaveAttribute('data-points', '0');

		await expect
			.poll(async () => Object.values(await readings(page)).some((v) => /\d/.test(v)))
			.toBe(true);
		const before = await readings(page);
		// Readings at 1-10 Hz, chart points every 6-60 s: within seconds some number must differ.
		await expect
			.poll(
				async () => {
					const now = await readings(page);
					return Object.keys(now).filter((code) => now[code] !== before[code]).length;
				},
				{ timeout: 20_000 }
			)
			.toBeGreaterThan(0);
		// The source feeds the line and the socket is up: no machine is offline.
		await expect(page.locator('[data-testid="machine-tile"][data-status="offline"]')).toHaveCount(
			0
		);
		expect(consoleErrors).toEqual([]);
	});

	test('rotates through pages of at most 16 charts', async ({ page }) => {
		// Line 1 has 36 characteristics: 12 per page by default, here 9 per page every 5 s.
		await page.goto('/wall/L1?charts=9&rotate=5');
		const indicator = page.getByTestId('page-indicator');
		await expect(indicator).toContainText('Charts 1 / 4');
		await expect(page.getByTestId('spc-chart')).toHaveCount(9);
		await expect(indicator).toContainText('Charts 2 / 4', { timeout: 10_000 });
	});
});

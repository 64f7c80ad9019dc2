/**
 * Drill-down in Chromium, signed in as the demo quality engineer: from an alarm to the record
 * of the lot that was running — its material lot and validation, the operator and whether they
 * were certified when the run started, the inspections, and the SPC chart with the alarm marked.
 *
 * The demo history leaves a lot running on every line (open runs on every machine), and a
 * fresh simulator shifts IM1.INJ.PRESS by +6 sigma at simulated 5 s (docs/simulator.md), so
 * Nelson 1 fires on line L1 while that lot runs.
 */
import { expect, test, type Page } from '@playwright/test';
import { login } from '../auth/helpers';
import { restartSimulator } from '../control';

const CODE = 'IM1.INJ.PRESS';

/** What the lot page must show for the running lot the alarm fell into. */
async function expectLotRecord(page: Page): Promise<void> {
	await expect(page).toHaveURL(/\/lots\/\d+$/);
	await expect(page.getByTestId('lot-header')).toBeVisible();
	await expect(page.getByTestId('lot-status')).toHaveText('Running');
	// Genealogy backward: the validated material lot, linked to its trace-forward page.
	const materials = page.getByTestId('materials');
	await expect(materials.locator('a[href^="/material-lots/"]').first()).toBeVisible();
	await expect(materials).toContainText('Validated');
	// The operator of each run, with the certification standing at the run's start.
	const certification = page.getByTestId('certification').first();
	await expect(certification).toContainText('Certified');
	await expect(page.getByTestId('run').first().locator('a[href*="operator="]')).toBeVisible();
	// Inspections, planned against done.
	await expect(page.getByTestId('inspection-counts')).toContainText('planned');
	// The chart of the characteristic with the alarm marked.
	const chart = page.locator(`article[data-code="${CODE}"] [data-testid="lot-chart"]`);
	await expect(chart).not.toHaveAttribute('data-points', '0');
	await expect
		.poll(async () => Number(await chart.getAttribute('data-markers')), { timeout: 20_000 })
		.toBeGreaterThan(0);
	await expect(chart.locator('canvas')).toBeVisible();
}

/**
 * Waits for the fresh simulator's special cause on the wall; returns the alarm row. The e2e
 * server idles sessions out after 20 s and watching a wall is not activity, so meanwhile the
 * person's other desk tab keeps the session alive (a request every 4 s renews it).
 */
async function awaitSpecialCause(page: Page) {
	await page.goto('/wall/L1?rotate=600');
	await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
	const keepAlive = setInterval(() => {
		page.request.get('/lots?status=running').catch(() => undefined);
	}, 4_000);
	try {
		return await waitForRow(page);
	} finally {
		clearInterval(keepAlive);
	}
}

async function waitForRow(page: Page) {
	const restartedAt = Date.now();
	await restartSimulator();
	const row = page.locator(
		`[data-testid="alarm-banner"] [data-testid="alarm"][data-code="${CODE}"][data-rule="nelson1"]`
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
	return row;
}

test.describe('drill-down from an alarm to the lot record', () => {
	test('one click on a wall alarm, one on its lot: the lot record shows material, operator, inspections and the marked chart', async ({
		page
	}) => {
		test.setTimeout(120_000);
		await login(page, 'qe', undefined, '/wall/L1?rotate=600');
		const row = await awaitSpecialCause(page);
		await row.getByTestId('alarm-link').click();
		await expect(page).toHaveURL(/\/alarms\/\d+$/);
		await page.getByTestId('alarm-lots').locator('a[href^="/lots/"]').first().click();
		await expectLotRecord(page);
	});

	test('the machine-and-moment link goes straight to the one lot running then', async ({
		page
	}, testInfo) => {
		test.setTimeout(120_000);
		await login(page, 'qe', undefined, '/lots?status=running');
		const results = page.getByTestId('lot-results');
		await expect(results).toBeVisible();
		await page.screenshot({ path: testInfo.outputPath('lots.png'), fullPage: true });
		// The running lot of line L1, and the id of the machine IM1 from its runs table.
		await results
			.locator('tr', { hasText: /\bL1\b/ })
			.first()
			.locator('a')
			.first()
			.click();
		await expect(page).toHaveURL(/\/lots\/\d+$/);
		const lotUrl = page.url();
		const href = await page
			.getByTestId('run')
			.filter({ hasText: 'IM1' })
			.first()
			.locator('a[href*="machine="]')
			.getAttribute('href');
		const machineId = /machine=(\d+)/.exec(href ?? '')?.[1];
		expect(machineId).toBeTruthy();

		await awaitSpecialCause(page);
		await page.goto(`/lots?machine=${machineId}&at=${Date.now()}`);
		expect(page.url()).toBe(lotUrl);
		await expectLotRecord(page);
		await page.screenshot({ path: testInfo.outputPath('lot.png'), fullPage: true });
	});
});

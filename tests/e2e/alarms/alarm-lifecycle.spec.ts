/**
 * The alarm lifecycle in Chromium, signed in as the demo shift lead: from a wall alarm to its
 * page, shelve it (it leaves the wall's banner at once, pushed live), find it shelved in the
 * alarm list, unshelve it (back on the banner). Screenshots of both pages go to the test output.
 *
 * A fresh simulator shifts IM1.INJ.PRESS by +6 sigma at simulated 5 s (docs/simulator.md), so
 * Nelson 1 fires on line L1.
 */
import { expect, test, type Page } from '@playwright/test';
import { login } from '../auth/helpers';
import { restartSimulator } from '../control';

const CODE = 'IM1.INJ.PRESS';

async function alarmOnWall(page: Page): Promise<string> {
	await page.goto('/wall/L1?rotate=600');
	await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'live');
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
	const href = await row.getByTestId('alarm-link').getAttribute('href');
	expect(href).toMatch(/^\/alarms\/\d+$/);
	return href as string;
}

test.describe('alarm lifecycle from the wall', () => {
	test('shelving takes an alarm off the banner live; the list shows it shelved; unshelving brings it back', async ({
		page,
		context
	}, testInfo) => {
		test.setTimeout(150_000);
		await login(page, 'lead', undefined, '/wall/L1?rotate=600');
		const href = await alarmOnWall(page);
		const onBanner = page.locator(`[data-testid="alarm-banner"] a[href="${href}"]`);

		// The alarm's page in a second tab; the wall stays open and live in the first.
		const desk = await context.newPage();
		await desk.goto(href);
		await expect(desk.getByTestId('alarm-state')).toHaveText('Unacknowledged');
		await expect(desk.getByTestId('alarm-history')).toContainText('Raised');
		await expect(desk.getByTestId('alarm-lots')).toBeVisible();
		// A shift lead may shelve but not take out of service.
		await expect(desk.getByTestId('remove-from-service')).toHaveCount(0);
		await desk.screenshot({ path: testInfo.outputPath('alarm-detail.png'), fullPage: true });

		const shelve = desk.getByTestId('shelve');
		await shelve.getByLabel('For').selectOption('30');
		await shelve.getByLabel('Reason').fill('Known: tool change in progress');
		await shelve.getByRole('button', { name: 'Shelve' }).click();
		await expect(desk.getByTestId('alarm-state')).toHaveText('Shelved');
		await expect(desk.getByTestId('alarm-history')).toContainText('Known: tool change in progress');

		await expect(onBanner).toHaveCount(0, { timeout: 10_000 });

		await desk.goto('/alarms?line=L1&state=shelved');
		const listed = desk.locator(`[data-testid="alarm-list"] a[href="${href}"]`);
		await expect(listed).toBeVisible();
		await expect(desk.getByTestId('alarm-metrics')).toContainText('L1');
		await desk.goto('/alarms?line=L1');
		await desk.screenshot({ path: testInfo.outputPath('alarm-list.png'), fullPage: true });

		await desk.goto(href);
		await desk.getByTestId('unshelve').getByRole('button', { name: 'Unshelve' }).click();
		await expect(desk.getByTestId('alarm-state')).not.toHaveText('Shelved');
		await expect(onBanner).toHaveCount(1, { timeout: 10_000 });
	});
});

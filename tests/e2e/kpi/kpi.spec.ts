/**
 * KPI boards in Chromium against the production build (demo history seeded): a quality engineer
 * (not the manager: login.spec locks that account on the shared server) sees the
 * boards, opens the lots behind a number (and a lot from there), downloads the board and a list
 * as CSV, and puts the boards on a meeting-room screen. Screenshots of desk and meeting-room
 * modes at 1920×1080 and the meeting room at 3840×2160.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { expect, test } from '@playwright/test';
import { login } from '../auth/helpers';

test.describe('KPI boards', () => {
	test.describe.configure({ timeout: 120_000 });

	test('a quality engineer reads the boards, drills down to the lots behind a number, and exports CSV', async ({
		page
	}, testInfo) => {
		await page.setViewportSize({ width: 1920, height: 1080 });
		await login(page, 'qe', undefined, '/kpi?range=365d');
		await expect(page).toHaveURL(/\/kpi\?range=365d/);
		await expect(page.getByRole('link', { name: 'KPI', exact: true })).toHaveAttribute(
			'aria-current',
			'page'
		);
		const tile = page.getByTestId('kpi-batch-yield');
		await expect(tile).toBeVisible();
		await expect(tile.locator('a.value')).toHaveText(/\d+\.\d %/);
		await expect(page.getByTestId('kpi-release-time').locator('a.value')).toHaveText(/\d.* h/);
		// Charts drawn (ECharts canvas) before the picture is taken.
		await expect(tile.locator('canvas')).toHaveCount(1);
		await page.screenshot({ path: testInfo.outputPath('kpi-desk-1920.png'), fullPage: true });

		// The board as CSV.
		const [boardCsv] = await Promise.all([
			page.waitForEvent('download'),
			page.getByTestId('board-csv').click()
		]);
		const boardRows = parse(fs.readFileSync(await boardCsv.path(), 'utf8')) as string[][];
		expect(boardRows[0].slice(0, 5)).toEqual(['kpi', 'label', 'series', 'at', 'value']);
		expect(boardRows.some((r) => r[0] === 'batch-yield' && r[2] === 'headline')).toBe(true);

		// The number opens its lots, with the same filters.
		const shown = await tile.locator('a.value').innerText();
		await tile.locator('a.value').click();
		await expect(page).toHaveURL(/\/kpi\/batch-yield\?range=365d/);
		await expect(page.getByRole('heading', { name: 'Batch yield' })).toBeVisible();
		await expect(page.getByTestId('drill-summary')).toContainText(shown);
		const rows = page.getByTestId('drill-rows').locator('tbody tr');
		expect(await rows.count()).toBeGreaterThan(10);
		await page.screenshot({ path: testInfo.outputPath('kpi-drill-1920.png') });

		const [listCsv] = await Promise.all([
			page.waitForEvent('download'),
			page.getByTestId('drill-csv').click()
		]);
		expect(listCsv.suggestedFilename()).toMatch(/^kpi-batch-yield-\d{4}-\d{2}-\d{2}\.csv$/);
		const listRows = parse(fs.readFileSync(await listCsv.path(), 'utf8')) as string[][];
		expect(listRows[0]).toContain('Started parts');
		expect(listRows.length - 1).toBe(await rows.count());
		expect(listRows[1].at(-1)).toMatch(/^\/lots\/\d+$/);

		// A row opens its lot.
		const first = rows.first().locator('a').first();
		const code = await first.innerText();
		await first.click();
		await expect(page).toHaveURL(/\/lots\/\d+$/);
		await expect(page.getByRole('heading', { name: new RegExp(code) })).toBeVisible();
	});

	test('filters narrow the board and a bad custom range is explained beside the form', async ({
		page
	}) => {
		await login(page, 'qa', undefined, '/kpi?range=30d&line=L1&board=quality');
		await expect(page.getByTestId('board-quality')).toBeVisible();
		await expect(page.getByTestId('board-flow')).toHaveCount(0);
		await page.goto('/kpi?range=custom&from=2026-02-10&to=2026-02-01');
		await expect(page.getByRole('alert')).toContainText('must not be before the first day');
	});

	test('the printable view has no navigation and prints dark on white', async ({
		page
	}, testInfo) => {
		await page.setViewportSize({ width: 1920, height: 1080 });
		await login(page, 'qe', undefined, '/kpi?board=quality&print=1');
		await expect(page.getByTestId('board-quality')).toBeVisible();
		await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
		await expect(page.getByTestId('kpi-filters')).toHaveCount(0);
		await page.screenshot({ path: testInfo.outputPath('kpi-print-1920.png'), fullPage: true });
	});

	test('the meeting room shows one board at a time in large type and rotates', async ({
		page
	}, testInfo) => {
		await page.setViewportSize({ width: 1920, height: 1080 });
		await login(page, 'qe', undefined, '/kpi?mode=meeting&range=90d&every=5');
		await expect(page).toHaveURL(/\/kpi\/meeting\?range=90d&every=5/);
		const room = page.getByTestId('kpi-meeting');
		await expect(room).toBeVisible();
		await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
		await expect(page.getByTestId('meeting-board-quality')).toBeVisible();
		await expect(page.getByTestId('kpi-batch-yield').locator('canvas')).toHaveCount(1);
		// Readable across a room: the headline numbers are at least 60 px tall on a 1080p screen.
		const size = await page
			.getByTestId('kpi-batch-yield')
			.locator('a.value')
			.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
		expect(size).toBeGreaterThanOrEqual(60);
		await page.screenshot({ path: testInfo.outputPath('kpi-meeting-1920.png') });
		// Rotates to the next board after `every` seconds.
		await expect(page.getByTestId('meeting-board-flow')).toBeVisible({ timeout: 10_000 });

		await page.setViewportSize({ width: 3840, height: 2160 });
		await page.getByRole('button', { name: 'Quality' }).click();
		await expect(page.getByTestId('meeting-board-quality')).toBeVisible();
		await page.waitForTimeout(500);
		await page.screenshot({ path: testInfo.outputPath('kpi-meeting-3840.png') });
	});

	test('people without kpi:view are refused', async ({ page }) => {
		await login(page, 'operator');
		await expect(page.getByRole('link', { name: 'KPI', exact: true })).toHaveCount(0);
		const response = await page.goto('/kpi');
		expect(response?.status()).toBe(403);
	});
});

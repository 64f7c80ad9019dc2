/**
 * Lot release in the browser: the QA reviewer (`qa`, Rita Reviewer) opens the release queue of
 * the demo history, opens a completed lot without open exceptions, sees the exceptions before
 * the decision and the full record, starts the review and releases the lot with an electronic
 * signature; the lot record then shows Released with the signature's printed name, time (with
 * zone) and meaning, valid for the lot's new revision. A lot with open exceptions offers no
 * release, and says why.
 */
import { expect, test, type Page } from '@playwright/test';
import { DEMO_PASSWORD, login } from '../auth/helpers';

/** `2026-11-22 09:41:07 UTC`: date, time and zone. */
const SIGNED_AT = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/;

async function y(page: Page, testId: string): Promise<number> {
	const box = await page.getByTestId(testId).boundingBox();
	if (!box) throw new Error(`${testId} is not laid out`);
	return box.y;
}

test.describe('lot release', () => {
	test.describe.configure({ timeout: 120_000 });

	test('qa releases a completed lot from the queue with a signature', async ({
		page
	}, testInfo) => {
		await page.setViewportSize({ width: 1920, height: 1080 });
		await login(page, 'qa');

		// The queue (from the desk's navigation): completed and in-review lots, oldest first.
		await page.goto('/lots');
		await page.getByRole('navigation').getByRole('link', { name: 'Release', exact: true }).click();
		await expect(page).toHaveURL(/\/release$/);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Release queue');
		const rows = page.getByTestId('queue-row');
		await expect(rows.first()).toBeVisible();
		await page.screenshot({ path: testInfo.outputPath('release-queue.png'), fullPage: true });

		// A lot with open exceptions: release is not offered, and the page says why.
		const blockedRow = rows.filter({
			has: page.getByTestId('exception-counts').filter({ hasText: 'open' }).filter({
				hasNotText: 'none open'
			})
		});
		if ((await blockedRow.count()) > 0) {
			await blockedRow.first().getByRole('link', { name: 'Review' }).click();
			await expect(page.getByTestId('open-exceptions')).toBeVisible();
			if ((await page.getByTestId('start-review').count()) > 0) {
				await page.getByTestId('start-review').click();
			}
			await expect(page.getByTestId('release-blocked')).toContainText('Release is refused while');
			await expect(page.getByRole('button', { name: 'Release lot…' })).toBeDisabled();
			await page.goBack();
			await page.goto('/release');
		}

		// A lot with nothing open — one with resolved exceptions to look at, where there is one.
		const noneOpen = page.getByTestId('exception-counts').filter({ hasText: 'none open' });
		const withResolved = rows.filter({ has: noneOpen.filter({ hasText: 'resolved' }) });
		const ready =
			(await withResolved.count()) > 0
				? withResolved.first()
				: rows.filter({ has: noneOpen }).first();
		await expect(ready).toBeVisible();
		const code = (await ready.getAttribute('data-lot')) as string;
		await ready.getByRole('link', { name: 'Review' }).click();
		await expect(page).toHaveURL(/\/lots\/\d+\/review$/);
		// One h1: the full record below steps its lot heading down a level.
		await expect(page.getByRole('heading', { level: 1 })).toHaveText(
			`Release review · lot ${code}`
		);
		await expect(page.getByRole('heading', { level: 2, name: `Lot ${code}` })).toBeVisible();

		// Review by exception: the exceptions first, then the decision, then the full record.
		await expect(page.getByTestId('review-exceptions')).toContainText('0 open');
		if ((await page.getByTestId('resolved-exceptions').count()) > 0) {
			await expect(page.getByTestId('resolved-exceptions')).toContainText('resolved:');
		}
		expect(await y(page, 'review-exceptions')).toBeLessThan(await y(page, 'decision'));
		const record = page.getByRole('heading', { name: 'Full record' });
		await expect(record).toBeVisible();
		expect(await y(page, 'decision')).toBeLessThan((await record.boundingBox())!.y);
		await expect(page.locator('#runs')).toBeVisible();

		if ((await page.getByTestId('start-review').count()) > 0) {
			await page.getByTestId('start-review').click();
		}
		await expect(page.getByTestId('review-status')).toHaveText('In review');

		// The signature: the policy once, then user ID and password at the first signing.
		let dialog = page.getByRole('dialog', { name: 'Electronic signature' });
		await page.getByRole('button', { name: 'Release lot…' }).click();
		await expect(dialog).toBeVisible();
		const policyLink = dialog.getByRole('link', { name: 'Read the e-signature policy' });
		if (await policyLink.isVisible()) {
			await policyLink.click();
			await page.getByRole('checkbox').check();
			await page.getByRole('button', { name: 'Acknowledge' }).click();
			await expect(page).toHaveURL(/\/review$/);
			dialog = page.getByRole('dialog', { name: 'Electronic signature' });
			await page.getByRole('button', { name: 'Release lot…' }).click();
		}
		await expect(dialog).toContainText(`Lot ${code}`);
		await expect(dialog.getByLabel('Meaning')).toHaveValue('released');
		await page.screenshot({ path: testInfo.outputPath('release-review.png'), fullPage: false });
		if (await dialog.getByLabel('User ID').isVisible()) {
			await dialog.getByLabel('User ID').fill('qa');
		}
		await dialog.getByLabel('Password').fill(DEMO_PASSWORD);
		await dialog.getByLabel('Comment').fill('Reviewed by exception: nothing open.');
		await dialog.getByRole('button', { name: 'Sign', exact: true }).click();

		// The lot record: released, with the signature's manifestation, valid for the revision.
		await expect(page).toHaveURL(/\/lots\/\d+$/);
		await expect(page.getByTestId('lot-status')).toHaveText('Released');
		const signature = page.locator('#signatures').getByTestId('signature');
		await expect(signature).toHaveCount(1);
		await expect(signature).toContainText('Released');
		await expect(signature).toContainText('Rita Reviewer');
		await expect(signature).toContainText(SIGNED_AT);
		await expect(signature).toContainText('Valid for revision');
		await expect(page.getByText('Decided by Rita Reviewer')).toBeVisible();
		await expect(page.getByTestId('review-link')).toHaveCount(0);
		await page.locator('#signatures').scrollIntoViewIfNeeded();
		await page.screenshot({ path: testInfo.outputPath('released-lot.png'), fullPage: false });

		// Gone from the queue.
		await page.goto('/release');
		await expect(page.locator(`[data-lot="${code}"]`)).toHaveCount(0);

		// The release-time KPI now counts it: the board's number opens the lots behind it, and
		// this lot is among them with its completion → release time.
		await page.goto('/kpi?range=30d&board=flow');
		const releaseTile = page.getByTestId('kpi-release-time');
		await expect(releaseTile.locator('a.value')).toHaveText(/\d/);
		await releaseTile.locator('a.value').click();
		await expect(page).toHaveURL(/\/kpi\/release-time\?range=30d/);
		const row = page.getByTestId('drill-rows').locator('tbody tr', { hasText: code });
		await expect(row).toHaveCount(1);
		await expect(row).toContainText(/\d+(\.\d+)? h/);
		await page.screenshot({ path: testInfo.outputPath('release-time-kpi.png'), fullPage: false });
	});
});

/**
 * "No run starts without a certified operator", end to end in Chromium on the demo plant: the
 * administrator sees certifications ending soon, revokes the operator's pouch-sealing
 * certification on line 2 with a reason; the operator's run start on the sealer is then refused
 * with a sentence naming operation and machine; a new certification granted on evidence lets the
 * same start through. The sealer ends as it began: running the lot it ran before.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { login } from '../auth/helpers';
import { endRunOn, startRunOn } from '../station';

const SEALER = 'Pouch sealer';
const OPERATOR = 'Olga Operator';

async function signedIn(browser: Browser, username: string): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
	const page = await context.newPage();
	await login(page, username);
	return page;
}

test.describe('operator certification', () => {
	test('revoked: the run start is refused by name; granted again on evidence: it starts', async ({
		browser
	}, testInfo) => {
		const admin = await signedIn(browser, 'admin');
		await admin.goto('/admin/certifications');
		const rows = admin.getByTestId('certification-row');
		// The demo plant has certifications running out: the page says so.
		await expect(admin.getByText('ends within 30 days').first()).toBeVisible();
		const current = rows
			.filter({ hasText: OPERATOR })
			.filter({ hasText: 'pouch-sealing' })
			.filter({ hasText: 'line L2' })
			.and(admin.locator('[data-standing="current"]'));
		await expect(current).toHaveCount(1);
		await current.locator('summary', { hasText: 'Revoke' }).click();
		await current.locator('input[name=reason]').fill('Seal-strength retraining due (e2e)');
		await current.getByRole('button', { name: 'Revoke' }).click();
		await expect(
			admin.getByRole('alert').filter({ hasText: 'Certification revoked.' })
		).toBeVisible();
		await expect(current).toHaveCount(0);

		// The sealer is freed, and the operator may not start it.
		const lead = await signedIn(browser, 'lead');
		const lot = await endRunOn(lead, 'L2', SEALER);
		const operator = await signedIn(browser, 'operator');
		const refused = await startRunOn(operator, 'L2', lot, SEALER);
		await expect(refused).toContainText(`${OPERATOR} is not certified to run pouch-sealing`);
		await expect(refused).toContainText(SEALER);
		await operator.screenshot({ path: testInfo.outputPath('station-refused.png'), fullPage: true });

		// Granted again on evidence (line 2, from today), the same start goes through.
		await admin.goto('/admin/certifications');
		const form = admin.locator('form[action="?/grant"]');
		const person = form.locator('select[name=userId] option', { hasText: OPERATOR });
		await form.locator('select[name=userId]').selectOption((await person.getAttribute('value'))!);
		await form.locator('input[name=operation]').fill('pouch-sealing');
		const line = form.locator('select[name=scope] option', { hasText: 'Line L2' });
		await form.locator('select[name=scope]').selectOption((await line.getAttribute('value'))!);
		await form.locator('input[name=evidence]').fill('TR-2026-0412 seal-strength refresher');
		await form.getByRole('button', { name: 'Grant certification' }).click();
		await expect(admin.getByRole('status')).toHaveText('Certification granted.');
		await expect(
			rows
				.filter({ hasText: OPERATOR })
				.filter({ hasText: 'TR-2026-0412' })
				.and(admin.locator('[data-standing="current"]'))
		).toHaveCount(1);
		await admin.screenshot({ path: testInfo.outputPath('certifications.png'), fullPage: true });

		await expect(await startRunOn(operator, 'L2', lot, SEALER)).toContainText('Run started');
		await expect(
			operator.getByTestId('open-runs').locator('tbody tr', { hasText: SEALER })
		).toContainText(lot);
		for (const page of [admin, lead, operator]) await page.context().close();
	});
});

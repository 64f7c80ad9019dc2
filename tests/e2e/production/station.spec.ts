/**
 * The station tablet in Chromium, on the demo plant: the operator's run start is refused for a
 * quarantined material lot with a sentence naming it, then starts with a validated one; the
 * station shows the run. A screenshot of the station goes to the test output.
 */
import { expect, test, type Browser } from '@playwright/test';
import { login } from '../auth/helpers';

async function signedIn(browser: Browser, username: string) {
	const context = await browser.newContext({ viewport: { width: 1400, height: 1600 } });
	const page = await context.newPage();
	await login(page, username);
	return { context, page };
}

test.describe('station tablet', () => {
	test('refuses a quarantined material lot by name, then starts the run with a validated one', async ({
		browser
	}, testInfo) => {
		// Quality's view: one quarantined and one validated receiving number.
		const qe = await signedIn(browser, 'qe');
		await qe.page.goto('/materials?status=quarantine');
		const quarantined = await qe.page
			.getByTestId('material-lot-row')
			.first()
			.getAttribute('data-code');
		await qe.page.goto('/materials?status=validated');
		const validated = await qe.page
			.getByTestId('material-lot-row')
			.first()
			.getAttribute('data-code');
		expect(quarantined).toBeTruthy();
		expect(validated).toBeTruthy();
		await qe.context.close();

		// The shift lead frees a machine (the demo leaves a lot running on every machine).
		const lead = await signedIn(browser, 'lead');
		await lead.page.goto('/station/L1');
		const openRuns = lead.page.getByTestId('open-runs').locator('tbody tr');
		if ((await openRuns.count()) > 0) {
			const before = await openRuns.count();
			await openRuns.last().getByRole('button', { name: 'End run' }).click();
			await expect(openRuns).toHaveCount(before - 1);
		}
		await lead.context.close();

		const { context, page } = await signedIn(browser, 'operator');
		await page.goto('/station/L1');
		const planned = page.locator('[data-testid="lot-card"][data-status="planned"]').first();
		const lotCode = (await planned.locator('.lot-code').textContent())?.trim() as string;
		const card = page.locator('[data-testid="lot-card"]', { hasText: lotCode });
		await card.locator('summary', { hasText: 'Start a run' }).click();
		await card.locator('input[name="operation"]').fill('moulding');
		await card
			.locator('input[name="materialCode"]')
			.first()
			.fill(quarantined as string);
		await card.locator('input[name="materialQty"]').first().fill('2');
		await card.getByRole('button', { name: /Start run as/ }).click();
		const message = card.getByTestId('lot-message');
		await expect(message).toContainText(`${quarantined}`);
		await expect(message).toContainText('is in quarantine');
		await expect(message).toContainText('Only validated material may be used');

		await card
			.locator('input[name="materialCode"]')
			.first()
			.fill(validated as string);
		await card.getByRole('button', { name: /Start run as/ }).click();
		await expect(page.getByTestId('lot-message').first()).toContainText('Run started');
		await expect(page.getByTestId('open-runs')).toContainText('Olga Operator');
		// Started: the lot runs under the process version effective now, fixed on the lot.
		await expect(card).toHaveAttribute('data-status', 'running');
		await expect(card).toContainText(/process v\d+/);
		await page.screenshot({ path: testInfo.outputPath('station-L1.png'), fullPage: true });
		await context.close();
	});
});

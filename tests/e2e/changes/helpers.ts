/**
 * What the change-control specs share: screenshots kept with the test, and the electronic
 * signature dialog (acknowledging the e-signature policy first where a fresh database asks).
 */
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import { DEMO_PASSWORD } from '../auth/helpers';

/** A 1920×1080 screenshot kept in the test's output folder and attached to the report. */
export async function shot(
	testInfo: TestInfo,
	page: Page,
	name: string,
	fullPage = false
): Promise<void> {
	const path = testInfo.outputPath(`${name}.png`);
	await page.screenshot({ path, fullPage });
	await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** Acknowledge the e-signature policy if the dialog offers it first (a fresh database). */
export async function signInDialog(page: Page, opener: Locator, username: string): Promise<void> {
	await opener.click();
	let dialog = page.getByRole('dialog', { name: 'Electronic signature' });
	await expect(dialog).toBeVisible();
	const policy = dialog.getByRole('link', { name: 'Read the e-signature policy' });
	if (await policy.isVisible()) {
		const back = page.url();
		await policy.click();
		await page.getByRole('checkbox').check();
		await page.getByRole('button', { name: 'Acknowledge' }).click();
		await expect(page).toHaveURL(back);
		await opener.click();
		dialog = page.getByRole('dialog', { name: 'Electronic signature' });
	}
	const userId = dialog.getByLabel('User ID');
	if (await userId.isVisible()) await userId.fill(username);
	await dialog.getByLabel('Password').fill(DEMO_PASSWORD);
	await dialog.getByRole('button', { name: 'Sign', exact: true }).click();
	await expect(dialog).toBeHidden();
}

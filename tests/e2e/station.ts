/**
 * The station tablet as specs drive it: end the open run on a machine, start a run of a lot on a
 * machine. Machines are named by the start of their name, as the station lists them.
 */
import { expect, type Locator, type Page } from '@playwright/test';

/** End the open run on `machine` at the `line` station; returns the lot it was running. */
export async function endRunOn(page: Page, line: string, machine: string): Promise<string> {
	await page.goto(`/station/${line}`);
	const rows = page.getByTestId('open-runs').locator('tbody tr', { hasText: machine });
	await expect(rows).toHaveCount(1);
	const lot = ((await rows.locator('a').first().textContent()) ?? '').trim();
	await rows.getByRole('button', { name: 'End run' }).click();
	await expect(rows).toHaveCount(0);
	return lot;
}

/** Ask to start a run of `lotCode` on `machine`; returns the lot card's message (ok or refusal). */
export async function startRunOn(
	page: Page,
	line: string,
	lotCode: string,
	machine: string
): Promise<Locator> {
	await page.goto(`/station/${line}`);
	const card = page.locator('[data-testid="lot-card"]', { hasText: lotCode });
	await card.locator('summary', { hasText: 'Start a run' }).click();
	const option = card.locator('select[name="machineId"] option', { hasText: machine });
	await card
		.locator('select[name="machineId"]')
		.selectOption((await option.getAttribute('value'))!);
	await card.getByRole('button', { name: /Start run as/ }).click();
	const message = card.getByTestId('lot-message');
	await expect(message).toBeVisible();
	return message;
}

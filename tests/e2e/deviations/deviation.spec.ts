/**
 * Deviations in Chromium, as the demo quality engineer: from an alarm's page, "Open deviation"
 * proposes a title and description from the alarm (rule, line, time) with its line set; the
 * deviation is then walked through containment, root cause, a CAPA action done, the
 * effectiveness check and closure with an electronic signature (user ID and password at the
 * first signing of the session). Screenshots of the list and the record go to the test output.
 */
import { expect, test, type Page } from '@playwright/test';
import { DEMO_PASSWORD, login } from '../auth/helpers';

/** Acknowledge the e-signature policy when the closure form offers it instead of a form. */
async function ensurePolicy(page: Page, here: string): Promise<void> {
	const link = page.getByRole('link', { name: 'read and acknowledge the e-signature policy' });
	if (await link.isVisible()) {
		await link.click();
		await expect(page).toHaveURL(/\/esign-policy\?next=/);
		await page.getByRole('checkbox').check();
		await page.getByRole('button', { name: 'Acknowledge' }).click();
		await expect(page).toHaveURL(new RegExp(`${here}$`));
	}
}

test.describe('deviation and CAPA', () => {
	test('opens a deviation prefilled from an alarm and walks it to a signed closure', async ({
		page
	}, testInfo) => {
		test.setTimeout(120_000);
		await login(page, 'qe');

		// Any alarm of the demo history: its page offers "Open deviation".
		await page.goto('/alarms');
		const first = page.locator('[data-testid="alarm-list"] a[href^="/alarms/"]').first();
		const alarmHref = (await first.getAttribute('href')) as string;
		await page.goto(alarmHref);
		await page.getByTestId('open-deviation').click();
		await expect(page).toHaveURL(/\/deviations\/new\?alarm=\d+$/);
		await expect(page.getByTestId('opened-from')).toContainText('alarm #');
		const form = page.getByTestId('open-deviation');
		const title = form.locator('input[name=title]');
		const description = form.locator('textarea[name=description]');
		await expect(title).not.toHaveValue('');
		await expect(description).toHaveValue(/^Alarm #\d+ \(.+\) on line L\d/);
		await expect(form.locator('select[name=lineId]')).toBeDisabled();
		await page.screenshot({ path: testInfo.outputPath('deviation-new.png') });
		await form.locator('select[name=severity]').selectOption('major');
		await form.getByRole('button', { name: 'Open deviation' }).click();
		await expect(page).toHaveURL(/\/deviations\/\d+$/);
		const here = new URL(page.url()).pathname;
		await expect(page.getByTestId('deviation-status')).toHaveText('Open');
		await expect(page.getByTestId('ctx-alarm')).toHaveAttribute('href', alarmHref);

		// Closure is not offered yet: the record says what comes first.
		await expect(page.getByTestId('close')).toHaveCount(0);

		const contain = page.getByTestId('contain');
		await contain.locator('textarea').fill('Parts since the alarm quarantined and re-measured');
		await contain.getByRole('button', { name: 'Record containment' }).click();
		await expect(page.getByTestId('deviation-status')).toHaveText('Contained');

		const investigate = page.getByTestId('investigate');
		await investigate.locator('textarea').fill('Worn check ring let the melt cushion drift');
		await investigate.getByRole('button', { name: 'Record root cause' }).click();
		await expect(page.getByTestId('deviation-status')).toHaveText('Investigated');

		const add = page.getByTestId('add-capa');
		await add.locator('input[name=description]').fill('Replace the check ring on IM1');
		await add.locator('select[name=ownerId]').selectOption({ label: 'Quinn Engineer' });
		await add.getByRole('button', { name: 'Add action' }).click();
		await expect(page.getByTestId('deviation-status')).toHaveText('CAPA actions');
		await expect(page.getByTestId('capa-row')).toHaveCount(1);

		const resolveForm = page.getByTestId('resolve-capa');
		await resolveForm.locator('input[name=outcome]').fill('Check ring replaced, WO-4711');
		await resolveForm.getByRole('button', { name: 'Record' }).click();
		await expect(page.getByTestId('capa-row')).toContainText('done');

		await page.getByTestId('submit-effectiveness').getByRole('button').click();
		await expect(page.getByTestId('deviation-status')).toHaveText('Effectiveness check');

		const check = page.getByTestId('effectiveness');
		await check.locator('textarea[name=result]').fill('Cushion stable over the next 12 lots');
		await check.locator('select[name=effective]').selectOption('yes');
		await check.getByRole('button', { name: 'Record the check' }).click();
		await expect(page.getByText('Effective', { exact: true })).toBeVisible();

		await ensurePolicy(page, here);
		const close = page.getByTestId('close');
		await expect(close).toContainText('By signing I confirm this is my electronic signature');
		// A wrong password is refused beside the form; nothing is closed.
		const userId = close.locator('input[name=username]');
		if (await userId.isVisible()) await userId.fill('qe');
		await close.locator('input[name=password]').fill('not the password');
		await close.getByRole('button', { name: 'Sign and close' }).click();
		await expect(close.getByRole('alert')).toContainText('User ID or password is not correct');
		await expect(page.getByTestId('deviation-status')).toHaveText('Effectiveness check');
		if (await userId.isVisible()) await userId.fill('qe');
		await close.locator('input[name=password]').fill(DEMO_PASSWORD);
		await close.getByRole('button', { name: 'Sign and close' }).click();
		await expect(page.getByTestId('deviation-status')).toHaveText('Closed');
		const signature = page.getByTestId('signature');
		await expect(signature).toHaveCount(1);
		await expect(signature).toContainText('Approved');
		await expect(signature).toContainText('Valid for revision');
		await expect(page.getByTestId('audit-event').first()).toBeVisible();
		await page.screenshot({ path: testInfo.outputPath('deviation-detail.png'), fullPage: true });

		// The list: closed ones under "All", aging shown, overdue highlighted.
		await page.goto('/deviations?status=all&sort=opened');
		await expect(page.locator(`[data-testid="deviation-list"] a[href="${here}"]`)).toBeVisible();
		// The default view: open ones, oldest first, overdue ones marked.
		await page.goto('/deviations');
		await expect(page.getByTestId('deviation-row').first()).toBeVisible();
		await page.screenshot({ path: testInfo.outputPath('deviation-list.png') });
	});
});

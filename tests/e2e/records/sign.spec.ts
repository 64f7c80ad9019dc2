/**
 * Electronic signatures in the browser: the policy is acknowledged once, the first signature of
 * a session asks for user ID and password, the next one the password only, the manifestation
 * (printed name, time with zone, meaning) shows beside the record, and an edit of a signed
 * draft marks the signature as not valid for the new revision. Limit changes go through change
 * control, so the draft signed here is a change request (signed as its author); the limit
 * version in force takes the second signature (reviewed).
 *
 * Uses the demo user `qe` (Quinn Engineer, quality engineer with the signing right) and the
 * demo plant's third characteristic. Retries start a new session, so they ask for both again.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { login } from '../auth/helpers';

const PASSWORD = process.env.TRACEWALL_DEMO_PASSWORD ?? 'wall-demo-Tracewall';
const CHARACTERISTIC = '/characteristics/3';
/** `2026-11-22 09:41:07 UTC`: date, time and zone. */
const SIGNED_AT = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/;

function versionCard(page: Page, status: 'Draft' | 'Active'): Locator {
	return page
		.getByTestId('limit-version')
		.filter({ has: page.locator('.chip', { hasText: new RegExp(`^${status}$`) }) });
}

async function openSignDialog(card: Locator, page: Page): Promise<Locator> {
	await card.getByRole('button', { name: 'Sign…' }).click();
	const dialog = page.getByRole('dialog', { name: 'Electronic signature' });
	await expect(dialog).toBeVisible();
	return dialog;
}

test.describe('electronic signatures', () => {
	test('signs limit versions with re-authentication and shows the manifestation', async ({
		page
	}, testInfo) => {
		await login(page, 'qe', PASSWORD);

		// The policy comes first: the dialog offers it instead of a form until acknowledged.
		await page.goto(CHARACTERISTIC);
		await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
		const active = versionCard(page, 'Active');
		let dialog = await openSignDialog(active, page);
		const policyLink = dialog.getByRole('link', { name: 'Read the e-signature policy' });
		if (await policyLink.isVisible()) {
			await policyLink.click();
			await expect(page).toHaveURL(/\/esign-policy\?next=/);
			await page.getByRole('checkbox').check();
			await page.getByRole('button', { name: 'Acknowledge' }).click();
			await expect(page).toHaveURL(new RegExp(`${CHARACTERISTIC}$`));
		} else {
			await dialog.getByRole('button', { name: 'Cancel' }).click();
		}

		// A change request to sign: limit changes go through change control now (a draft of a
		// rule-set change: nothing of it takes effect in this test).
		await page.getByRole('link', { name: 'Raise change request' }).click();
		const form = page.getByTestId('new-change');
		await form.getByLabel('Kind of change').selectOption('rule-set');
		await form.locator('input[name=title]').fill('AIAG rules for this characteristic');
		await form
			.locator('textarea[name=justification]')
			.fill('Customer requires the AIAG rules on key characteristics.');
		await form.locator('select[name=rules]').selectOption('aiag');
		await form.getByRole('button', { name: 'Create draft' }).click();
		await expect(page).toHaveURL(/\/changes\/\d+$/);
		const changeUrl = new URL(page.url()).pathname;

		// First signature of the session: user ID and password.
		await page.getByRole('button', { name: 'Sign as author…' }).click();
		dialog = page.getByRole('dialog', { name: 'Electronic signature' });
		await expect(dialog.getByLabel('User ID')).toBeVisible();
		await expect(dialog).toContainText(
			'By signing I confirm this is my electronic signature, legally binding as my handwritten signature'
		);
		await expect(dialog.getByLabel('Meaning')).toHaveValue('authored');
		await dialog.getByLabel('User ID').fill('qe');
		await dialog.getByLabel('Password').fill(PASSWORD);
		await dialog.getByRole('button', { name: 'Sign', exact: true }).click();
		await expect(dialog).toBeHidden();
		const authored = page.getByTestId('signature').filter({ hasText: 'Authored' }).last();
		await expect(authored).toContainText('Quinn Engineer');
		await expect(authored).toContainText(SIGNED_AT);
		await expect(authored).toContainText('Valid for revision');

		// Second signature in the same session: password only; a wrong one is refused in the dialog.
		await page.goto(CHARACTERISTIC);
		dialog = await openSignDialog(active, page);
		await expect(dialog.getByLabel('User ID')).toHaveCount(0);
		await testInfo.attach('sign-dialog-1080p', {
			body: await page.screenshot(),
			contentType: 'image/png'
		});
		await dialog.getByLabel('Meaning').selectOption('reviewed');
		await dialog.getByLabel('Password').fill('not-the-password-at-all');
		await dialog.getByRole('button', { name: 'Sign', exact: true }).click();
		await expect(dialog.getByRole('alert')).toHaveText('User ID or password is not correct.');
		await dialog.getByLabel('Password').fill(PASSWORD);
		await dialog.getByRole('button', { name: 'Sign', exact: true }).click();
		await expect(dialog).toBeHidden();
		const reviewed = active.getByTestId('signature').filter({ hasText: 'Reviewed' }).last();
		await expect(reviewed).toContainText('Quinn Engineer');
		await expect(reviewed).toContainText(SIGNED_AT);
		await expect(reviewed).toContainText('Valid for revision 1');

		// Editing the signed draft makes a new revision: the signature is not valid for it.
		await page.goto(changeUrl);
		const revisionText = (await page.getByTestId('revision').textContent()) ?? '';
		const revision = Number(/(\d+)/.exec(revisionText)?.[1]);
		await page.getByText('Edit draft').click();
		const edit = page.locator('form[action="?/edit"]');
		await edit
			.locator('input[name=title]')
			.fill(`AIAG rules for this characteristic (edit ${revision})`);
		await edit.getByRole('button', { name: 'Save edit' }).click();
		await expect(page.getByTestId('revision')).toHaveText(`Record revision ${revision + 1}`);
		await expect(authored).toContainText(
			`Not valid for revision ${revision + 1} (signed revision ${revision})`
		);
		// The draft is withdrawn: nothing of this test stays open.
		await page.locator('form[action="?/withdraw"] input[name=reason]').fill('signature test');
		await page.locator('form[action="?/withdraw"]').getByRole('button').click();
		await expect(page.getByTestId('change-status')).toHaveText('Withdrawn');
	});
});

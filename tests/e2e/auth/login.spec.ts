import { expect, test } from '@playwright/test';
import { DEMO_PASSWORD, login, logout } from './helpers';

test.describe('signing in', () => {
	test('sends an anonymous visitor to sign in, then back to where they were going', async ({
		page
	}) => {
		await page.goto('/wall/L1');
		await expect(page).toHaveURL(/\/login\?next=%2Fwall%2FL1$/);
		await page.getByLabel('Username').fill('qe');
		await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page).toHaveURL(/\/wall\/L1$/);
		await expect(page.getByTestId('machine-tile').first()).toBeVisible();
	});

	test('shows who is signed in, and signing out ends the session', async ({ page }) => {
		await login(page, 'qa', DEMO_PASSWORD, '/account');
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Rita Reviewer');
		await expect(page.getByRole('row').filter({ hasText: '127.0.0.1' }).first()).toBeVisible();
		// A link or an image cannot sign anyone out: GET /logout changes nothing.
		await page.goto('/logout');
		await page.goto('/account');
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Rita Reviewer');
		await logout(page);
		await page.goto('/account');
		await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
	});

	test('gives the same answer for an unknown user and a wrong password', async ({ page }) => {
		for (const [username, password] of [
			['no-such-user', DEMO_PASSWORD],
			['qa', 'not the right password']
		]) {
			await page.goto('/login');
			await page.getByLabel('Username').fill(username);
			await page.getByLabel('Password', { exact: true }).fill(password);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
			// The username stays for the next try; the refused password does not.
			await expect(page.getByLabel('Username')).toHaveValue(username);
			await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
		}
	});

	test('locks an account after five failed attempts and alerts the administrators', async ({
		browser
	}) => {
		// 'manager' is used by no other spec: once locked it stays locked on this server.
		const page = await browser.newPage();
		for (let i = 0; i < 5; i++) {
			await page.goto('/login');
			await page.getByLabel('Username').fill('manager');
			await page.getByLabel('Password', { exact: true }).fill(`wrong guess number ${i}`);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
		}
		await page.getByLabel('Username').fill('manager');
		await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page.getByRole('alert')).toContainText('This account is locked');
		await expect(page).toHaveURL(/\/login/);
		await page.close();

		const admin = await browser.newPage();
		await login(admin, 'admin', DEMO_PASSWORD, '/admin/security');
		const alert = admin
			.getByTestId('security-alert')
			.filter({ hasText: 'Account locked' })
			.filter({ hasText: 'manager' });
		await expect(alert).toBeVisible();
		// Acknowledging records that someone looked; it stays listed, no longer open.
		await alert.getByRole('button', { name: 'Acknowledge' }).click();
		await expect(alert).toContainText('acknowledged');
		await expect(alert.getByRole('button', { name: 'Acknowledge' })).toHaveCount(0);
		await admin.reload();
		await expect(alert).toContainText('acknowledged');
		await admin.close();
	});

	test('lists the open sessions on the account page and signs the others out', async ({
		browser
	}, testInfo) => {
		const elsewhere = await browser.newContext();
		const other = await elsewhere.newPage();
		await login(other, 'lead', DEMO_PASSWORD, '/account');

		const here = await browser.newPage();
		await login(here, 'lead', DEMO_PASSWORD, '/account');
		await expect(here.getByRole('heading', { name: 'Open sessions' })).toBeVisible();
		const rows = here.getByRole('table').getByRole('row');
		// Header + at least the two sessions just opened.
		expect(await rows.count()).toBeGreaterThanOrEqual(3);
		await expect(here.getByRole('button', { name: 'Sign out here' })).toHaveCount(1);
		await here.screenshot({ path: testInfo.outputPath('account.png') });

		await here.getByRole('button', { name: 'Sign out all other sessions' }).click();
		await expect(here.getByRole('status')).toContainText('other session(s) signed out');
		await expect(rows).toHaveCount(2);

		// The other browser's session is over: its next page asks to sign in again.
		await other.goto('/account');
		await expect(other).toHaveURL(/\/login\?next=%2Faccount$/);
		await other.screenshot({ path: testInfo.outputPath('login.png') });
		await elsewhere.close();
		await here.close();
	});
});

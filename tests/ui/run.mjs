// Drives Fawkes Portal's web UI in a real browser: Playwright (playwright-core) with Debian's
// Chromium, axe-core on every page. Run by tests/suite/ui/browser.rs against the real binary on
// a throwaway data dir, with an in-process OpenID Connect provider and a devfile served over
// local HTTPS. Prints `ok <step>` per step; exits non-zero with the failure.
// Env: BASE_URL, DEVFILE_URL, CATALOG_FILE, USER_TOKEN (user:default/guest, for API
// comparisons), SCREENSHOTS (a directory), CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const { BASE_URL, DEVFILE_URL, CATALOG_FILE, USER_TOKEN, SCREENSHOTS } = process.env;
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
mkdirSync(SCREENSHOTS, { recursive: true });

const profile = mkdtempSync(join(tmpdir(), 'fawkes-ui-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(20_000);
// Anything the browser refuses to run or load (a Content-Security-Policy violation, a script
// error) fails the run.
const consoleErrors = [];
page.on('console', m => m.type() === 'error' && consoleErrors.push(m.text()));
page.on('pageerror', e => consoleErrors.push(String(e)));

const audited = new Map();
const failures = [];
/** axe-core on the page as it is: no serious or critical violation. */
async function audit(name) {
  // Evaluated through the DevTools protocol, so the pages' Content-Security-Policy (scripts from
  // the portal only) stays in force for everything else.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  const bad = result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  audited.set(name, bad.length);
  for (const v of bad) {
    failures.push(`${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
  }
}
const shot = name => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const step = async (name, fn) => {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    console.error(`FAILED ${name}: ${e.stack ?? e}`);
    await shot(`failed-${name.replaceAll(' ', '-')}`).catch(() => {});
    await context.close();
    process.exit(1);
  }
};
const heading = () => page.locator('h1').first().innerText();

await step('sign in as guest', async () => {
  await page.goto(`${BASE_URL}/`);
  assert.match(page.url(), /\/sign-in\?next=%2F$/);
  await audit('sign-in');
  await shot('sign-in');
  await page.getByRole('button', { name: 'Enter as guest' }).click();
  await page.waitForURL(`${BASE_URL}/`);
  assert.equal(await heading(), 'Welcome, Guest');
  assert.match(await page.locator('header').innerText(), /Guest, local use only/);
  await audit('home (empty)');
});

await step('register a location and see its entities', async () => {
  await page.getByRole('link', { name: 'Catalog', exact: true }).click();
  await page.getByRole('link', { name: 'Register an existing component' }).click();
  await audit('register');
  await page.getByLabel('File on the server').check();
  await page.getByLabel(/URL or path/).fill(`${CATALOG_FILE}.missing`);
  await page.getByRole('button', { name: 'Analyze' }).click();
  await page.locator('#register-error').waitFor();
  assert.match(await page.locator('#register-error').innerText(), /cannot be registered/);
  await audit('register (error)');
  await page.getByLabel(/URL or path/).fill(CATALOG_FILE);
  await page.getByRole('button', { name: 'Analyze' }).click();
  await page.locator('#preview').waitFor();
  const preview = await page.locator('#preview').innerText();
  for (const name of ['payments-api', 'web-frontend', 'platform-team', 'payments-db']) {
    assert.match(preview, new RegExp(name));
  }
  await audit('register (preview)');
  await shot('register-preview');
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/catalog\/locations\?registered=/);
  for (let i = 0; i < 100; i++) {
    if ((await page.locator('tr.registered [data-status]').getAttribute('data-status')) === 'ready') break;
    await page.waitForTimeout(200);
    await page.reload();
  }
  assert.equal(await page.locator('tr.registered [data-status]').getAttribute('data-status'), 'ready');
  await audit('locations');
  await page.getByRole('link', { name: 'the catalog' }).click();
  await page.getByRole('link', { name: 'payments-api' }).waitFor();
  await page.goto(`${BASE_URL}/catalog`);
  assert.match(await page.locator('#catalog-results').innerText(), /2 components/);
  await audit('catalog');
  await shot('catalog');
});

await step('search and open an entity and follow a relation', async () => {
  await page.getByRole('link', { name: /^All kinds/ }).click();
  // The search is htmx's: typing before htmx has run on the new page sends nothing.
  await page.waitForLoadState('load');
  await page.waitForFunction(() => window.htmx !== undefined);
  await page.getByLabel('Search').fill('frontend');
  await page.locator('#catalog-results', { hasText: '1 entity' }).waitFor();
  assert.doesNotMatch(await page.locator('#catalog-results').innerText(), /payments-api/);
  assert.match(page.url(), /q=frontend/, 'the URL keeps the search');
  await page.getByRole('link', { name: 'web-frontend' }).click();
  // A click does not wait for the page it opens; the old page's heading may still be there.
  await page.waitForURL(/\/catalog\/default\/component\/web-frontend$/);
  assert.equal(await heading(), 'web-frontend');
  await audit('entity (overview)');
  await page.getByRole('link', { name: 'Relations' }).click();
  await page.locator('svg a.node').first().waitFor();
  await audit('entity (relations)');
  await shot('entity-relations');
  await page.locator('svg a.node[href$="/catalog/default/api/payments"]').click();
  await page.waitForURL(/\/catalog\/default\/api\/payments/);
  assert.equal(await heading(), 'payments');
  await page.getByRole('link', { name: 'YAML' }).click();
  assert.match(await page.locator('pre').innerText(), /kind: API/);
  await audit('entity (yaml)');
  // Follow another relation, to the component that provides this API, and open it in Che.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.goto(`${BASE_URL}/catalog/default/component/payments-api?tab=relations`);
  await page.locator('#relation-list').getByRole('link', { name: 'group:default/platform-team' }).click();
  await page.waitForURL(/\/catalog\/default\/group\/platform-team$/);
  assert.equal(await heading(), 'platform-team');
  await page.goto(`${BASE_URL}/catalog/default/component/payments-api`);
  await page.getByRole('button', { name: 'Open in Che' }).click();
  await page.waitForURL(/\/workspaces\?launched=goldenpath-python$/);
  await page.getByRole('status').filter({ hasText: 'is starting' }).waitFor();
});

await step('launch a workspace, watch it run, stop and delete it', async () => {
  await page.goto(`${BASE_URL}/workspaces`);
  await page.getByLabel(/Devfile URL/).fill(DEVFILE_URL);
  await page.getByLabel(/^Name/).fill('browser-ws');
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.waitForURL(/launched=browser-ws/);
  const row = page.locator('tr', { hasText: 'browser-ws' });
  assert.equal(await row.locator('[data-status]').getAttribute('data-status'), 'Starting');
  assert.match(await page.locator('#quota').innerText(), /2 of 3 running/);
  await audit('workspaces');
  const url = page.url();
  // Without a reload: htmx polls the list while a workspace is Starting.
  await row.locator('[data-status="Running"]').waitFor({ timeout: 20_000 });
  assert.equal(page.url(), url, 'the page was not reloaded');
  assert.ok(await row.getByRole('link', { name: /Open IDE/ }).isVisible());
  await shot('workspaces-running');
  await row.getByRole('button', { name: /^Stop/ }).click();
  await row.locator('[data-status="Stopped"]').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('#quota').innerText(), /1 of 3 running/);
  page.once('dialog', dialog => {
    assert.match(dialog.message(), /Delete workspace browser-ws\?/);
    dialog.accept();
  });
  await row.getByRole('button', { name: /^Delete/ }).click();
  await page.locator('tr', { hasText: 'browser-ws' }).waitFor({ state: 'detached' });
  await audit('workspaces (after delete)');
});

await step('the DORA dashboard shows the API values', async () => {
  await page.getByRole('link', { name: 'DORA', exact: true }).click();
  await page.getByLabel('Project or team').selectOption('project:payments-api');
  await page.getByRole('button', { name: 'Show', exact: true }).first().click();
  await page.waitForURL(/scope=project%3Apayments-api/);
  const api = await fetch(`${BASE_URL}/api/devlake/dora-metrics?project=payments-api`, {
    headers: { Authorization: `Bearer ${USER_TOKEN}` },
  }).then(r => r.json());
  for (const key of ['deploymentFrequency', 'leadTimeForChanges', 'changeFailureRate', 'timeToRestoreService']) {
    const shown = await page.locator(`[data-metric="${key}"]`).getAttribute('data-value');
    const value = api.metrics[key].value;
    assert.equal(shown === '' ? null : Number(shown), value, key);
  }
  assert.ok(api.metrics.deploymentFrequency.value > 0, 'the webhooks fed the project');
  assert.equal(await page.locator('figure svg').count(), 4);
  await audit('dora');
  await shot('dora');
  await page.getByLabel('Environment').selectOption('staging');
  await page.locator('#deployment-history', { hasText: 'No deployments in staging' }).waitFor();
  await audit('dora (history filtered)');
});

await step('the admin page', async () => {
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  assert.equal(await heading(), 'Admin');
  assert.match(await page.locator('main').innerText(), /simulated/);
  await audit('admin');
  await shot('admin');
  await page.goto(`${BASE_URL}/`);
  await audit('home');
  await shot('home');
});

await step('keyboard and a 375 px screen', async () => {
  await page.goto(`${BASE_URL}/workspaces`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to main content');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.setViewportSize({ width: 375, height: 800 });
  for (const path of ['/', '/catalog', '/workspaces', '/dora', '/catalog/default/component/payments-api']) {
    await page.goto(`${BASE_URL}${path}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 376 && !e.closest('.table-wrap'))
        .slice(0, 5)
        .map(e => `${e.tagName}.${e.className}`),
    );
    assert.ok(width <= 375, `${path} is ${width}px wide at 375px: ${wide.join(', ')}`);
    await audit(`${path} at 375px`);
  }
  await page.goto(`${BASE_URL}/workspaces`);
  await shot('mobile-workspaces');
  await page.setViewportSize({ width: 1280, height: 900 });
});

await step('sign out', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${BASE_URL}/sign-in`);
  await page.goto(`${BASE_URL}/workspaces`);
  assert.match(page.url(), /\/sign-in\?next=%2Fworkspaces$/);
});

await step('sign in through the OpenID Connect provider', async () => {
  await page.getByRole('link', { name: 'Sign in with Fake SSO' }).click();
  await page.waitForURL(`${BASE_URL}/workspaces`);
  await page.goto(`${BASE_URL}/`);
  assert.equal(await heading(), 'Welcome, Alice Example');
  assert.doesNotMatch(await page.locator('header').innerText(), /Guest/);
  // Alice sees none of the guest's workspaces.
  assert.doesNotMatch(await page.locator('#workspace-list').innerText(), /goldenpath-python/);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${BASE_URL}/sign-in`);
});

await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`audited ${audited.size} pages with axe-core`);
const refused = consoleErrors.filter(e => /Content Security Policy|Uncaught|TypeError|ReferenceError/.test(e));
if (refused.length) {
  console.error(`FAILED browser errors:\n${refused.join('\n')}`);
  process.exit(1);
}
if (failures.length) {
  console.error(`FAILED accessibility:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log('ok accessibility');

// A real Backstage backend in front of a running Fawkes Portal, as deploy/backstage describes:
// @backstage/backend-defaults with the auth backend (guest provider) and the proxy backend,
// configured by tests/backstage/app-config.yaml plus deploy/backstage/app-config.fawkes-portal.yaml.
// A guest signs in for a real Backstage user token and calls Fawkes Portal through the proxy;
// forged and expired tokens are refused; a pipeline calls with a static external-access token.
//
// Env: FAWKES_URL (Fawkes Portal, http://127.0.0.1:PORT, also the proxy's FAWKES_PORTAL_URL),
// BACKSTAGE_PORT (Fawkes Portal's auth.backstage.base_url is http://127.0.0.1:BACKSTAGE_PORT),
// FAWKES_PORTAL_PIPELINE_TOKEN (a static token both sides know), CATALOG_TARGET (a catalog file
// below Fawkes Portal's catalog.file_roots holding Component fawkes-demo, owner platform-team).
// Prints "ok <step>" per step; exits non-zero at the first failed assertion.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
assert.ok(major >= 20, `Backstage needs Node.js 20 or later; this is ${process.version}`);
const here = dirname(fileURLToPath(import.meta.url));
const { FAWKES_URL, BACKSTAGE_PORT, FAWKES_PORTAL_PIPELINE_TOKEN: PIPELINE_TOKEN, CATALOG_TARGET } =
  process.env;
for (const [name, value] of Object.entries({ FAWKES_URL, BACKSTAGE_PORT, PIPELINE_TOKEN, CATALOG_TARGET })) {
  assert.ok(value, `${name} is not set`);
}
process.env.FAWKES_PORTAL_URL = FAWKES_URL;
const BACKSTAGE = `http://127.0.0.1:${BACKSTAGE_PORT}`;
const PROXY = `${BACKSTAGE}/api/proxy/fawkes-portal`;
const PROJECT = 'fawkes-demo';

// The backend reads its configuration files from the command line, as `backstage-cli` starts it.
process.argv.push(
  '--config', join(here, 'app-config.yaml'),
  '--config', join(here, '../../deploy/backstage/app-config.fawkes-portal.yaml'),
);
const { createBackend } = await import('@backstage/backend-defaults');
const backend = createBackend();
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-proxy-backend'));
await backend.start();

let failed = false;
const step = async (name, fn) => {
  if (failed) return;
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    console.error(`FAILED ${name}: ${e.stack ?? e}`);
    failed = true;
  }
};

const call = async (url, token, init = {}) => {
  const headers = { ...(init.headers ?? {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.json !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body, headers: response.headers };
};
const expect = (answer, status, what) =>
  assert.equal(answer.status, status, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
const claims = token => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

// The guest provider's refresh is what Backstage's sign-in page calls; it answers a user token.
const signIn = async () => {
  const answer = await call(`${BACKSTAGE}/api/auth/guest/refresh`, undefined, { method: 'POST', json: {} });
  expect(answer, 200, 'guest sign-in');
  return answer.body.backstageIdentity.token;
};

let token;
await step('guest signs in for a Backstage user token', async () => {
  token = await signIn();
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
  assert.equal(header.typ, 'vnd.backstage.user');
  assert.equal(header.alg, 'ES256');
  assert.equal(claims(token).iss, `${BACKSTAGE}/api/auth`);
  assert.equal(claims(token).sub, 'user:development/guest');
});

await step('the user is answered as themself through the proxy', async () => {
  const answer = await call(`${PROXY}/api/auth/v1/userinfo`, token);
  expect(answer, 200, 'userinfo');
  assert.equal(answer.body.subject, 'user:development/guest');
  assert.equal(answer.body.type, 'user');
});

await step('che-launcher workspaces through the proxy', async () => {
  const list = await call(`${PROXY}/api/che-launcher/workspaces`, token);
  expect(list, 200, 'list workspaces');
  assert.ok(Array.isArray(list.body.workspaces), JSON.stringify(list.body));
  // A POST with a JSON body reaches Fawkes Portal and is answered by it.
  const refused = await call(`${PROXY}/api/che-launcher/workspaces`, token, {
    method: 'POST',
    json: { devfileUrl: 'http://example.com/devfile.yaml' },
  });
  expect(refused, 400, 'a plain-HTTP devfile URL');
  assert.match(refused.body.error, /HTTPS/);
});

await step('a pipeline posts a deployment with a static external-access token', async () => {
  const who = await call(`${PROXY}/api/auth/v1/userinfo`, PIPELINE_TOKEN);
  expect(who, 200, 'userinfo of the static token');
  assert.equal(who.body.type, 'service');
  assert.equal(who.body.subject, 'fawkes-pipelines');
  const hour = 3600 * 1000;
  const started = new Date(Date.now() - 2 * hour).toISOString();
  const finished = new Date(Date.now() - 2 * hour + 5 * 60 * 1000).toISOString();
  const posted = await call(`${PROXY}/api/devlake/webhooks/${PROJECT}/deployments`, PIPELINE_TOKEN, {
    method: 'POST',
    json: {
      id: 'deploy-1', result: 'SUCCESS', environment: 'PRODUCTION',
      startedDate: started, finishedDate: finished,
      deploymentCommits: [{
        repoUrl: 'https://github.com/paruff/fawkes', commitSha: 'abc123', commitMsg: 'feat: demo',
        commitAuthoredDate: new Date(Date.now() - 3 * hour).toISOString(),
        startedDate: started, finishedDate: finished,
      }],
    },
  });
  assert.ok(posted.status >= 200 && posted.status < 300, `deployment webhook: ${posted.status} ${JSON.stringify(posted.body)}`);
  const wrong = await call(`${PROXY}/api/auth/v1/userinfo`, 'not-the-pipeline-token');
  expect(wrong, 401, 'an unknown static token, refused by Backstage');
});

await step('devlake dora-metrics through the proxy', async () => {
  const answer = await call(`${PROXY}/api/devlake/dora-metrics?project=${PROJECT}`, token);
  expect(answer, 200, 'dora-metrics');
  assert.equal(answer.body.project, PROJECT);
  const frequency = answer.body.metrics.deploymentFrequency;
  assert.ok(frequency.value > 0, `the posted deployment counts: ${JSON.stringify(frequency)}`);
});

await step('a catalog route through the proxy', async () => {
  const registered = await call(`${PROXY}/api/catalog/locations`, PIPELINE_TOKEN, {
    method: 'POST',
    json: { type: 'file', target: CATALOG_TARGET },
  });
  expect(registered, 201, 'register the location');
  let entity;
  for (let i = 0; i < 200; i++) {
    entity = await call(`${PROXY}/api/catalog/entities/by-name/component/default/${PROJECT}`, token);
    if (entity.status === 200) break;
    await new Promise(r => setTimeout(r, 50));
  }
  expect(entity, 200, 'the registered component');
  assert.equal(entity.body.spec.owner, 'platform-team');
});

await step('the catalog by ingress path routing (the Backstage token sent to Fawkes Portal)', async () => {
  const answer = await call(`${FAWKES_URL}/api/catalog/entities?filter=kind=component`, token);
  expect(answer, 200, 'entities');
  assert.deepEqual(answer.body.map(e => e.metadata.name), [PROJECT]);
});

await step('a forged token is refused with 401', async () => {
  const [header, payload, signature] = token.split('.');
  const changed = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'user:default/admin' };
  const forged = [header, Buffer.from(JSON.stringify(changed)).toString('base64url'), signature].join('.');
  expect(await call(`${PROXY}/api/auth/v1/userinfo`, forged), 401, 'forged, through the proxy');
  const direct = await call(`${FAWKES_URL}/api/auth/v1/userinfo`, forged);
  expect(direct, 401, 'forged, at Fawkes Portal');
  assert.match(direct.body.error, /signature/i);
});

await step('an expired token is refused with 401', async () => {
  // Backstage issues tokens for at least 10 minutes; move its clock back two hours while it
  // signs one, so that its own code makes a token that expired an hour ago.
  const now = Date.now;
  Date.now = () => now.call(Date) - 2 * 3600 * 1000;
  let expired;
  try {
    expired = await signIn();
  } finally {
    Date.now = now;
  }
  assert.ok(claims(expired).exp * 1000 < Date.now() - 30 * 60 * 1000, JSON.stringify(claims(expired)));
  expect(await call(`${PROXY}/api/auth/v1/userinfo`, expired), 401, 'expired, through the proxy');
  const direct = await call(`${FAWKES_URL}/api/auth/v1/userinfo`, expired);
  expect(direct, 401, 'expired, at Fawkes Portal');
  assert.match(direct.body.error, /expired/i);
});

await backend.stop();
process.exit(failed ? 1 : 0);

// Drives Fawkes Portal's /api/catalog through the real @backstage/catalog-client.
// Env: BASE_URL (http://127.0.0.1:PORT), TOKEN (bearer), TARGET (a file location below the
// server's catalog.file_roots holding the fixture of tests/suite/catalog/conformance.rs).
// Exits non-zero with the failed assertion on any difference.
import assert from 'node:assert/strict';
import { CatalogClient, CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';

const { BASE_URL, TOKEN, TARGET } = process.env;
const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async () => `${BASE_URL}/api/catalog` },
  fetchApi: {
    fetch: (url, init = {}) =>
      fetch(url, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${TOKEN}` } }),
  },
});
const names = items => items.map(e => e.metadata.name).sort();
const step = async (name, fn) => {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    console.error(`FAILED ${name}: ${e.stack ?? e}`);
    process.exit(1);
  }
};

let locationId;
await step('addLocation', async () => {
  const { location, entities } = await client.addLocation({ type: 'file', target: TARGET });
  assert.equal(location.type, 'file');
  assert.equal(location.target, TARGET);
  assert.deepEqual(entities, []);
  locationId = location.id;
  for (let i = 0; i < 200 && !(await client.getEntityByRef('component:default/svc-a')); i++) {
    await new Promise(r => setTimeout(r, 25));
  }
});

await step('getEntityByRef', async () => {
  const svc = await client.getEntityByRef('component:svc-a');
  assert.equal(svc.spec.owner, 'team-a');
  assert.deepEqual(svc.relations, [{ type: 'ownedBy', targetRef: 'group:default/team-a' }]);
  assert.equal(await client.getEntityByRef('component:default/nope'), undefined);
});

await step('getEntities with filters and fields', async () => {
  const { items } = await client.getEntities({ filter: { kind: 'Component' }, fields: ['metadata.name', 'kind'] });
  assert.deepEqual(names(items), ['svc-a', 'svc-b', 'svc-c']);
  assert.deepEqual(Object.keys(items[0]).sort(), ['kind', 'metadata']);
  const or = await client.getEntities({ filter: [{ kind: 'group' }, { 'spec.lifecycle': 'experimental' }] });
  assert.deepEqual(names(or.items), ['svc-c', 'team-a']);
  const anyOf = await client.getEntities({ filter: { kind: 'component', 'metadata.name': ['svc-a', 'svc-b'] } });
  assert.deepEqual(names(anyOf.items), ['svc-a', 'svc-b']);
  const exists = await client.getEntities({ filter: { 'metadata.tags': CATALOG_FILTER_EXISTS } });
  assert.deepEqual(names(exists.items), ['svc-a']);
  const owned = await client.getEntities({ filter: { 'relations.ownedBy': 'group:default/team-a' } });
  assert.deepEqual(names(owned.items), ['svc-a', 'svc-b', 'svc-c']);
  const paged = await client.getEntities({ filter: { kind: 'component' }, limit: 2, order: { field: 'metadata.name', order: 'desc' } });
  assert.deepEqual(paged.items.map(e => e.metadata.name), ['svc-c', 'svc-b']);
});

await step('getEntitiesByRefs', async () => {
  const { items } = await client.getEntitiesByRefs({ entityRefs: ['component:default/svc-b', 'component:default/none', 'group:default/team-a'] });
  assert.equal(items[0].metadata.name, 'svc-b');
  assert.equal(items[1], undefined);
  assert.equal(items[2].kind, 'Group');
});

await step('queryEntities with cursor pages', async () => {
  let page = await client.queryEntities({ filter: { kind: 'component' }, limit: 1, orderFields: { field: 'metadata.name', order: 'asc' } });
  assert.equal(page.totalItems, 3);
  const seen = page.items.map(e => e.metadata.name);
  while (page.pageInfo.nextCursor) {
    page = await client.queryEntities({ cursor: page.pageInfo.nextCursor, limit: 1 });
    seen.push(...page.items.map(e => e.metadata.name));
  }
  assert.deepEqual(seen, ['svc-a', 'svc-b', 'svc-c']);
  const text = await client.queryEntities({ fullTextFilter: { term: 'VC-B', fields: ['metadata.name'] } });
  assert.deepEqual(names(text.items), ['svc-b']);
});

await step('getEntityFacets', async () => {
  const { facets } = await client.getEntityFacets({ facets: ['spec.lifecycle'], filter: { kind: 'component' } });
  assert.deepEqual(facets['spec.lifecycle'], [{ value: 'experimental', count: 1 }, { value: 'production', count: 2 }]);
});

await step('getLocationByRef', async () => {
  const location = await client.getLocationByRef(`file:${TARGET}`);
  assert.equal(location.id, locationId);
  assert.equal(await client.getLocationByRef('url:https://example.com/none.yaml'), undefined);
});

await step('refreshEntity', async () => {
  await client.refreshEntity('component:default/svc-a');
  await assert.rejects(client.refreshEntity('component:default/none'));
});

await step('validateEntity', async () => {
  const svc = await client.getEntityByRef('component:default/svc-a');
  const valid = await client.validateEntity(
    { apiVersion: svc.apiVersion, kind: svc.kind, metadata: { name: 'x' }, spec: svc.spec },
    'url:https://github.com/acme/x/blob/main/catalog-info.yaml',
  );
  assert.deepEqual(valid, { valid: true });
  const invalid = await client.validateEntity({ apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: {} }, 'url:https://x/y.yaml');
  assert.equal(invalid.valid, false);
  assert.match(invalid.errors[0].message, /metadata\.name/);
});

await step('getEntityAncestors', async () => {
  const { rootEntityRef, items } = await client.getEntityAncestors({ entityRef: 'component:default/svc-a' });
  assert.equal(rootEntityRef, 'component:default/svc-a');
  assert.equal(items.length, 2);
  assert.equal(items[0].entity.metadata.name, 'svc-a');
  const generated = items[1].entity;
  assert.equal(generated.kind, 'Location');
  assert.deepEqual(items[0].parentEntityRefs, [`location:default/${generated.metadata.name}`]);
  assert.deepEqual(items[1].parentEntityRefs, []);
  await assert.rejects(client.getEntityAncestors({ entityRef: 'component:default/nope' }), /404|NotFound|No such entity/);
});

await step('entity with status.items', async () => {
  const location = await client.getEntityByRef('location:default/broken-location');
  assert.equal(location.status.items.length, 1);
  const [item] = location.status.items;
  assert.equal(item.type, 'backstage.io/catalog-processing');
  assert.equal(item.level, 'error');
  assert.equal(item.error.name, 'NotFoundError');
  assert.match(item.message, /^NotFoundError: Unable to read file, no matching files found for .*nowhere\.yaml$/);
  const svc = await client.getEntityByRef('component:default/svc-a');
  assert.equal(svc.status, undefined);
});

await step('addLocation with onConflict', async () => {
  await assert.rejects(client.addLocation({ type: 'file', target: TARGET }), /409|Conflict|already exists/);
  const { location, entities } = await client.addLocation({ type: 'file', target: TARGET, onConflict: 'refresh' });
  assert.equal(location.id, locationId);
  assert.deepEqual(entities, []);
});

await step('queryLocations', async () => {
  const all = await client.queryLocations({});
  assert.equal(all.totalItems, 1);
  assert.deepEqual(all.items.map(l => l.id), [locationId]);
  const none = await client.queryLocations({ query: { type: 'url' } });
  assert.equal(none.totalItems, 0);
  const streamed = [];
  for await (const page of client.streamLocations({ query: { target: { $hasPrefix: TARGET } } })) {
    streamed.push(...page);
  }
  assert.deepEqual(streamed.map(l => l.target), [TARGET]);
});

await step('analyzeLocation', async () => {
  const result = await client.analyzeLocation({ location: { type: 'url', target: 'https://git.example.com/acme/my-repo' } });
  assert.deepEqual(result.existingEntityFiles, []);
  assert.equal(result.generateEntities[0].entity.metadata.name, 'my-repo');
  assert.equal(result.generateEntities[0].entity.spec.type, 'other');
});

await step('removeLocationById', async () => {
  await client.removeLocationById(locationId);
  assert.equal(await client.getEntityByRef('component:default/svc-a'), undefined);
});

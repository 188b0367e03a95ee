'use strict';
// Browser side of test_cluster_dashboard.py: the leader's dashboard (ROOST_DASHBOARD_URL,
// ROOST_EXTERNAL_PORT) shows the cluster card with every node, its role, lag and state.
// Env EXPECT_NODES: the node ids, comma-separated, the leader first. Exits non-zero on failure.

const rf = require('./roost_fixture');
const db = require('./dashboard_browser');

rf.test('the overview shows the cluster: each node, its lag, and whether it is in sync', async () => {
  const [leader, ...followers] = process.env.EXPECT_NODES.split(',');
  await db.withDashboard(async ({ page }) => {
    const card = page.locator('[data-section="cluster"]');
    await card.waitFor();
    // [node, role, position, lag, state] per row.
    const rows = () => card.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
    const got = await db.eventually(async () => {
      const r = await rows();
      return r.length === 1 + followers.length && r.every((row) => row[4] === 'in sync' && row[3] === '0') ? r : null;
    }, 'every node in sync, no lag, on the overview');
    rf.eq(got[0].slice(0, 2), [leader, 'leader'], "the leader's row");
    rf.eq(got.slice(1).map((row) => [row[0], row[1]]).sort(), followers.map((f) => [f, 'follower']).sort(), 'the followers');
    rf.assert((await card.textContent()).includes('epoch'), 'the epoch is shown');
    await db.screenshot(page, 'cluster-overview');
  });
});

rf.main({ fileBroker: false });

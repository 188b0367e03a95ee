"""The dashboard of a cluster's leader shows the cluster: every node, its role, its lag and
whether it is in sync. etcd and three nodes here; the browser side (Debian's chromium through
playwright-core) is cluster_dashboard_check.js, pointed at the leader's dashboard.
"""
import os
import subprocess

import cluster_fixture as cf
import roost_fixture as rf

HERE = os.path.dirname(os.path.abspath(__file__))


@rf.timeout(120)
def test_the_leaders_overview_shows_every_node_and_its_lag():
    with cf.Cluster(nodes=3, lease_ttl=1) as c:
        leader = c.wait_leader()
        c.wait_isr()
        followers = [n.id for n in c.nodes if n is not leader]
        env = dict(os.environ, ROOST_DASHBOARD_URL="http://%s:%d" % (rf.HOST, leader.http_port),
                   ROOST_EXTERNAL_PORT=str(leader.amqp_port), EXPECT_NODES=",".join([leader.id] + followers))
        check = subprocess.run(["node", os.path.join(HERE, "cluster_dashboard_check.js")], env=env, cwd=HERE,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)
        output = check.stdout.decode("utf-8", "replace")
        print("\n".join("# " + line for line in output.splitlines() if line.strip()))
        rf.eq(check.returncode, 0, "the browser check (output above)")


if __name__ == "__main__":
    rf.main(file_broker=False)

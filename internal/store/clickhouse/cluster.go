package clickhouse

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// A sharded store (cluster=NAME in the URL; docs/clickhouse.md): the
// tables live in a local database (<database>_local, or local_database=)
// on every node of the cluster, created and migrated by Roentgen on each
// node over HTTP, and the database the URL names holds Distributed tables
// of the same names over them, which every read and write goes through.
// Statements Distributed tables do not take (DROP PARTITION, DELETE
// mutations, system.parts) run on each node's local tables instead. No ON
// CLUSTER: 18.16's distributed DDL needs ZooKeeper.

// shardKeys are the sharding keys of the Distributed tables: a trace's
// rows of every table keyed by trace live on one shard, so a mutation run
// on one shard's local tables sees the whole of each trace it touches.
// Every table of the local database but schema_version and
// schema_upgrades (each node's own, upgrade.go) must be here.
var shardKeys = map[string]string{
	"traces":           "sipHash64(trace)",
	"docs":             "sipHash64(trace)",
	"summaries":        "sipHash64(trace)",
	"terms":            "sipHash64(trace)",
	"dropped":          "sipHash64(trace)",
	"dropped_docs":     "sipHash64(trace)",
	"trace_leases":     "sipHash64(trace)",
	"stats":            "sipHash64(entity)",
	"meta":             "sipHash64(kind, key)",
	"sampling_reports": "sipHash64(rule)",
	"stats_rollups":    "sipHash64(entity)",
	"stats_cutoffs":    "sipHash64(grp)",
}

// clusterSettings go with every statement through the Distributed tables:
// an INSERT returns once every shard has its rows (so an acknowledged
// write is readable at once, as on one server), and an IN (SELECT …) over
// a Distributed table is computed once, on the node Roentgen asks, and
// sent to the shards, so it means what it means on one server.
var clusterSettings = url.Values{
	"insert_distributed_sync":  {"1"},
	"distributed_product_mode": {"global"},
}

// openCluster finds the nodes of c's cluster in system.clusters, creates
// and migrates the local tables on each, and the Distributed tables over
// them in c's database. It returns a client per node, in the local
// database.
func openCluster(ctx context.Context, c *client) ([]*client, error) {
	b, err := c.do(ctx, fmt.Sprintf(`SELECT toUInt64(shard_num), toUInt64(replica_num), host_name
		FROM system.clusters WHERE cluster = %s ORDER BY shard_num, replica_num FORMAT RowBinary`, quote(c.cluster)), nil, false)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(c.base)
	if err != nil {
		return nil, err
	}
	var nodes []*client
	replicas := map[uint64]int{}
	r := &rowReader{b: b}
	for r.more() {
		shard, _, host := r.u64(), r.u64(), r.str()
		if r.err != nil {
			break
		}
		replicas[shard]++
		if replicas[shard] > 1 {
			return nil, fmt.Errorf("clickhouse: cluster %s has more than one replica in shard %d: Roentgen creates plain MergeTree tables, which do not replicate (replicas need ReplicatedMergeTree and ZooKeeper; docs/clickhouse.md)", c.cluster, shard)
		}
		n := *c
		n.base = base.Scheme + "://" + net.JoinHostPort(host, base.Port()) + "/"
		n.database = c.localDatabase
		n.cluster, n.settings = "", nil
		nodes = append(nodes, &n)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("clickhouse: cluster %s is not in the server's system.clusters (remote_servers in its config)", c.cluster)
	}
	if t, err := tableOfEngine(ctx, c, c.database, false); err != nil {
		return nil, err
	} else if t != "" {
		return nil, fmt.Errorf("clickhouse: database %s holds the table %s, not a Distributed table: it was used without cluster= (name another database)", c.database, t)
	}
	for i, n := range nodes {
		ns := &Store{c: n}
		if err := ns.migrate(ctx); err != nil {
			return nil, fmt.Errorf("clickhouse: shard %d of cluster %s (%s): %w", i+1, c.cluster, n.base, err)
		}
		if err := ns.migrateDrops(ctx); err != nil {
			return nil, fmt.Errorf("clickhouse: shard %d of cluster %s (%s): %w", i+1, c.cluster, n.base, err)
		}
	}
	if err := createDistributed(ctx, c, nodes[0]); err != nil {
		return nil, err
	}
	return nodes, nil
}

// createDistributed creates in c's database a Distributed table over each
// table of node's local database, with its columns; one whose columns are
// not the local table's any more (a migration changed them) is created
// anew (it holds no rows: inserts are synchronous).
func createDistributed(ctx context.Context, c, node *client) error {
	if _, err := c.do(ctx, "CREATE DATABASE IF NOT EXISTS "+c.database, nil, false); err != nil {
		return err
	}
	local, err := tableColumnsOf(ctx, node, node.database)
	if err != nil {
		return err
	}
	have, err := tableColumnsOf(ctx, c, c.database)
	if err != nil {
		return err
	}
	for table, cols := range local {
		if table == "schema_version" || table == "schema_upgrades" { // each node's own
			continue
		}
		key, ok := shardKeys[table]
		if !ok {
			return fmt.Errorf("clickhouse: table %s.%s has no sharding key (shardKeys, cluster.go)", node.database, table)
		}
		if old, ok := have[table]; ok && old != cols {
			if err := c.exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
				return err
			}
		}
		if err := c.exec(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s) ENGINE = Distributed(%s, %s, %s, %s)",
			table, cols, c.cluster, c.localDatabase, table, key)); err != nil {
			return fmt.Errorf("clickhouse: creating the Distributed table %s: %w", table, err)
		}
	}
	return nil
}

// tableOfEngine returns a table of database whose engine is Distributed
// (distributed true) or is not, or "" when there is none.
func tableOfEngine(ctx context.Context, c *client, database string, distributed bool) (string, error) {
	op := "!="
	if distributed {
		op = "="
	}
	b, err := c.do(ctx, fmt.Sprintf(`SELECT name FROM system.tables WHERE database = %s AND engine %s 'Distributed' LIMIT 1 FORMAT RowBinary`,
		quote(database), op), nil, false)
	if err != nil {
		return "", err
	}
	r := &rowReader{b: b}
	if !r.more() {
		return "", nil
	}
	name := r.str()
	return name, r.err
}

// tableColumnsOf returns each table of database with its columns, as a
// CREATE TABLE writes them ("a T, b U").
func tableColumnsOf(ctx context.Context, c *client, database string) (map[string]string, error) {
	b, err := c.do(ctx, fmt.Sprintf(`SELECT table, name, type, default_kind, default_expression FROM system.columns WHERE database = %s FORMAT RowBinary`,
		quote(database)), nil, false)
	if err != nil {
		return nil, err
	}
	cols := map[string][]string{}
	r := &rowReader{b: b}
	for r.more() {
		table, name, typ, kind, expr := r.str(), r.str(), r.str(), r.str(), r.str()
		if r.err != nil {
			break
		}
		col := name + " " + typ
		if kind != "" {
			// A default the writers rely on (stats.at, filled by the server)
			// must be the Distributed table's too: it fills it on INSERT.
			col += " " + kind + " " + expr
		}
		cols[table] = append(cols[table], col)
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make(map[string]string, len(cols))
	for t, cs := range cols {
		out[t] = strings.Join(cs, ", ")
	}
	return out, nil
}

// nodes are the clients whose local tables DROP PARTITION, mutations and
// system.parts apply to: every shard's, or the one database's.
func (s *Store) nodes() []*client {
	if len(s.shards) > 0 {
		return s.shards
	}
	return []*client{s.c}
}

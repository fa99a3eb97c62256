// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * innet_numa: the NUMA topology as the kernel sees it, in one read-only file.
 *
 * innet's numa area (Phoenix: threads placed next to their data and their page
 * tables) starts from the machine's topology. Userspace can piece it together
 * from /sys/devices/system/node, but only one file and one node at a time; this
 * module prints the whole picture in one read, under the CPU hotplug lock, so
 * that the CPU lists are one consistent snapshot. Later parts of the numa area
 * (page-table replication, placement) build on this module.
 *
 * File: /sys/kernel/debug/innet_numa/topology (debugfs: a debugging interface
 * with no ABI promise; the format carries its own version instead). Example,
 * two nodes with one CPU and 512 MiB each:
 *
 *	innet_numa 1
 *	nodes 2
 *	node 0 cpus=0 present_kib=523896 managed_kib=514636
 *	node 1 cpus=1 present_kib=524160 managed_kib=470220
 *	distance 0 10 20
 *	distance 1 20 10
 *
 * Lines, in this order, fields separated by one space, each ending in '\n':
 *
 *   innet_numa <version>   the format version, 1 here; parsers refuse others
 *   nodes <n>              the number of online nodes
 *   node <id> <key>=<value>...
 *                          n lines, one per online node, ids ascending
 *   distance <id> <d>...   n lines, one per node in the same order: the ACPI
 *                          SLIT distance from <id> to each node in that
 *                          order (10 is local)
 *
 * Keys of a node line:
 *
 *   cpus          the node's online CPUs as a list ("0-3,8"); empty for a
 *                 node without CPUs
 *   present_kib   memory physically present in the node, holes excluded
 *   managed_kib   the part the page allocator manages (MemTotal in the
 *                 node's meminfo)
 *
 * Keys may be added later; parsers skip the keys they do not know.
 *
 * Memory counters are read without the memory hotplug lock (it is not
 * exported): each is a single word, so a concurrent hotplug can make them
 * stale, never torn.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/seq_file.h>
#include <linux/topology.h>

#define INNET_NUMA_FORMAT_VERSION 1

static struct dentry *innet_numa_dir;

static unsigned long pages_to_kib(unsigned long pages)
{
	return pages << (PAGE_SHIFT - 10);
}

static unsigned long node_managed_pages(int nid)
{
	struct pglist_data *pgdat = NODE_DATA(nid);
	unsigned long pages = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++)
		pages += zone_managed_pages(&pgdat->node_zones[i]);
	return pages;
}

static void show_node(struct seq_file *m, int nid, struct cpumask *cpus)
{
	/* The node's map may still hold CPUs that are going offline. */
	cpumask_and(cpus, cpumask_of_node(nid), cpu_online_mask);
	seq_printf(m, "node %d cpus=%*pbl present_kib=%lu managed_kib=%lu\n",
		   nid, cpumask_pr_args(cpus),
		   pages_to_kib(node_present_pages(nid)),
		   pages_to_kib(node_managed_pages(nid)));
}

static int topology_show(struct seq_file *m, void *unused)
{
	/*
	 * One copy of the online mask for every line: a node coming online
	 * between two loops would otherwise give a ragged distance matrix.
	 */
	nodemask_t nodes;
	cpumask_var_t cpus;
	int from, to;

	if (!alloc_cpumask_var(&cpus, GFP_KERNEL))
		return -ENOMEM;

	cpus_read_lock();
	nodes = node_states[N_ONLINE];
	seq_printf(m, "innet_numa %d\n", INNET_NUMA_FORMAT_VERSION);
	seq_printf(m, "nodes %d\n", nodes_weight(nodes));
	for_each_node_mask(from, nodes)
		show_node(m, from, cpus);
	for_each_node_mask(from, nodes) {
		seq_printf(m, "distance %d", from);
		for_each_node_mask(to, nodes)
			seq_printf(m, " %d", node_distance(from, to));
		seq_putc(m, '\n');
	}
	cpus_read_unlock();

	free_cpumask_var(cpus);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(topology);

static int __init innet_numa_init(void)
{
	/*
	 * The file is the module's only purpose, so fail the load when debugfs
	 * refuses it (debugfs=off, or a second copy) instead of loading idle.
	 */
	innet_numa_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(innet_numa_dir))
		return PTR_ERR(innet_numa_dir);
	debugfs_create_file("topology", 0444, innet_numa_dir, NULL,
			    &topology_fops);
	return 0;
}

static void __exit innet_numa_exit(void)
{
	/* Waits for readers still inside topology_show(). */
	debugfs_remove(innet_numa_dir);
}

module_init(innet_numa_init);
module_exit(innet_numa_exit);

MODULE_DESCRIPTION("innet: the NUMA topology, in debugfs");
MODULE_AUTHOR("The innet authors");
MODULE_LICENSE("Dual MIT/GPL");

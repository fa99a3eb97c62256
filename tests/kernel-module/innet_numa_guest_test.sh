#!/bin/sh
# The innet_numa kernel module in a two-node QEMU guest (busybox sh; started by
# tests/qemu/guest-run, registered in tests/kernel-module/CMakeLists.txt): it loads; its
# topology file matches what QEMU was told and what sysfs says (numa_topology_check);
# reading it repeatedly leaks nothing; it cannot be unloaded while the file is open; it
# unloads leaving nothing behind, and loads again. guest-run --check-dmesg then fails the
# run on any kernel warning, and slub_debug on the kernel command line turns a buffer
# overrun or use-after-free into one.
#
# usage: innet_numa_guest_test.sh <innet_numa.ko> <numa_topology_check>
set -u
module=$1
check=$2
dir=/sys/kernel/debug/innet_numa
file=$dir/topology
reads=2000

fail() {
	echo "FAIL: $*"
	exit 1
}
step() { echo "== $*"; }

# Active objects in the slab caches one read allocates from: struct seq_file, and the
# generic kmalloc caches (the seq_file buffer, single_open's operations, the cpumask).
slab_objects() {
	awk '$1 == "seq_file" || $1 ~ /^kmalloc-[0-9]+k?$/ { n += $2 } END { print n }' /proc/slabinfo
}

step "load"
[ ! -e $dir ] || fail "$dir exists before the module is loaded"
insmod "$module" || fail "insmod $module"
[ -r $file ] || fail "no readable $file after insmod"
cat $file

step "check against QEMU's configuration, sysfs and /proc/zoneinfo"
"$check" $file || fail "the module's topology does not match the references"

step "$reads reads: open, show and release leak nothing"
before=$(slab_objects)
i=0
while [ $i -lt $reads ]; do
	read -r line <$file
	[ "$line" = "innet_numa 1" ] || fail "read number $i: \"$line\""
	i=$((i + 1))
done
after=$(slab_objects)
echo "slab objects: $before before, $after after"
# One leaked object per read would add $reads; per-CPU slab caching moves the count by
# far less than a quarter of that.
[ $((after - before)) -lt $((reads / 4)) ] || fail "slab objects grew by $((after - before))"

step "an open file pins the module"
exec 3<$file
if rmmod innet_numa 2>/dev/null; then
	fail "rmmod succeeded while $file was open"
fi
read -r line <&3
[ "$line" = "innet_numa 1" ] || fail "the file held open across the refused rmmod reads \"$line\""
exec 3<&-

step "unload"
rmmod innet_numa || fail "rmmod"
[ ! -e $dir ] || fail "$dir still exists after rmmod"
! grep -q '^innet_numa ' /proc/modules || fail "innet_numa still in /proc/modules"

step "load and unload again"
insmod "$module" || fail "second insmod (did the first unload leave its directory behind?)"
"$check" $file >/dev/null || fail "the topology differs after reloading"
rmmod innet_numa || fail "second rmmod"
[ ! -e $dir ] || fail "$dir still exists after the second rmmod"
echo "PASS"

#!/usr/bin/env bash
# run.sh - build the real-kernel IPVS tests (this directory) as a static
# test binary and run them in a throwaway QEMU VM with Debian's kernel and
# the IPVS modules, via ../../../shared/tools/ipvs-vm-test.sh.
#
# Usage: test/ipvsvm/run.sh [go test flags, e.g. -test.v -test.run Kernel]
# Needs root (and apt for qemu on first use). ~5 s per run once cached.
# If the host has ipvsadm, it is bundled (binary + libraries + loader) and
# TestListMatchesIpvsadm compares List with the real `ipvsadm -Ln` output.
# Env: IPVS_VM_TEST (path of ipvs-vm-test.sh), IPVSVM_USE_KVM=1 to let the
# VM script use /dev/kvm (by default it is hidden: on this host class QEMU
# aborts with "failed to set MSR 0x10a" under -cpu host).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vmtest=${IPVS_VM_TEST:-$(cd "$root/.." && pwd)/shared/tools/ipvs-vm-test.sh}
[[ -x $vmtest ]] || { echo "run.sh: $vmtest not found" >&2; exit 125; }

work=$(mktemp -d /tmp/ipvsvm.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 go test -c -o "$work/ipvsvm.test" ./test/ipvsvm)

envs=()
if ipvsadm=$(command -v ipvsadm 2>/dev/null); then
	mkdir "$work/ipvsadm"
	cp -L "$ipvsadm" "$work/ipvsadm/ipvsadm"
	# shellcheck disable=SC2046
	for lib in $(ldd "$ipvsadm" | awk '/=>/ {print $3}'); do
		cp -L "$lib" "$work/ipvsadm/"
	done
	# The dynamic loader, run explicitly (the guest has no /lib64).
	cp -L "$(ldd "$ipvsadm" | awk '/ld-linux/ {print $1}')" "$work/ipvsadm/ld.so"
	envs+=(-e "IPVSADM_DIR=$work/ipvsadm")
fi

args=(--share "$work" "${envs[@]}" "$work/ipvsvm.test" "${@:--test.v}")
if [[ -e /dev/kvm && ${IPVSVM_USE_KVM:-0} != 1 ]]; then
	# Hide /dev/kvm in a private mount namespace (a read-only regular file
	# fails the script's -w test), forcing TCG.
	touch "$work/nokvm"
	rc=0
	unshare -m sh -c 'mount --bind -o ro "$1" /dev/kvm && mount -o remount,bind,ro /dev/kvm && shift && exec "$@"' \
		sh "$work/nokvm" "$vmtest" "${args[@]}" || rc=$?
	exit "$rc"
fi
rc=0
"$vmtest" "${args[@]}" || rc=$?
exit "$rc"

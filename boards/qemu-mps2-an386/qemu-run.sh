#!/usr/bin/env bash
# Cargo runner: runs a firmware ELF under QEMU and decodes its defmt output.
#   qemu-run.sh <machine> <elf> [args...]     machine: mps2-an386 | microbit
# Arguments after the ELF reach the firmware over semihosting (e.g. `<steps> <seed>`).
# QEMU runs under `timeout` (QEMU_TIMEOUT seconds, default 300): a hang exits 124, which is a failure
# (QEMU itself exits 0 on SIGTERM, so without `timeout` a hang would look like success).
# Instructions are counted deterministically (`-icount shift=0`: 1 instruction = 1 ns of virtual
# time, so SysTick counts instructions). The exit status is the firmware's semihosting exit code.
# defmt frames are decoded by `defmt-print` if installed, else by `cargo xtask defmt-decode`.
set -uo pipefail
machine=$1
elf=$2
shift 2
case "$machine" in
  mps2-an386) cpu=(-cpu cortex-m4) ;;
  microbit) cpu=() ;;
  *) echo "qemu-run.sh: unknown machine $machine" >&2; exit 2 ;;
esac
semi="enable=on,target=native,arg=$(basename "$elf")"
for a in "$@"; do semi+=",arg=$a"; done
root=$(cd "$(dirname "$0")/../.." && pwd)
elf=$(realpath "$elf")
if command -v defmt-print >/dev/null; then
  decode=(defmt-print -e "$elf")
else
  # From the host workspace root, so the board's [build] target does not apply to xtask.
  decode=(bash -c 'cd "$0" && exec cargo run --quiet --package xtask -- defmt-decode "$1"' "$root" "$elf")
fi
timeout "${QEMU_TIMEOUT:-300}" qemu-system-arm -machine "$machine" "${cpu[@]}" -display none \
  -monitor none -serial null -icount shift=0 -semihosting-config "$semi" -kernel "$elf" \
  | "${decode[@]}"
status=${PIPESTATUS[0]}
if [ "$status" -eq 124 ]; then
  echo "qemu-run.sh: TIMEOUT after ${QEMU_TIMEOUT:-300} s: the firmware hung" >&2
fi
exit "$status"

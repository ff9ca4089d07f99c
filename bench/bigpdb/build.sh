#!/bin/sh
# Builds a large Windows PE + PDB with Debian's clang/lld (apt-get install clang lld):
#   bench/bigpdb/build.sh [OUT_DIR [TUS [STRUCTS_PER_TU [FIELDS]]]]
# Defaults (300 units x 600 structs x 40 fields) give a PDB of about 1 GB
# (3.4 MB per unit) in roughly 20 minutes on 2 shared cores. Each function in
# its own section (-ffunction-sections, like MSVC's /Gy) makes one section
# contribution per function in the DBI stream, as in large release builds.
# The output (sources, objects, big.exe, big.pdb) is not committed: this
# script regenerates it.
set -eu
out=${1:-/tmp/sympath-bigpdb}
tus=${2:-300}
structs=${3:-600}
fields=${4:-40}
jobs=${JOBS:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/gen.py" "$out" "$tus" "$structs" "$fields"
cd "$out"
# Compile only what is out of date (a rerun after an interruption resumes).
i=0
while [ "$i" -lt "$tus" ]; do echo "tu$i"; i=$((i + 1)); done |
  xargs -P "$jobs" -I{} sh -c '[ {}.obj -nt {}.cpp ] || clang++ --target=x86_64-pc-windows-msvc -g -gcodeview -O1 -ffunction-sections -c {}.cpp -o {}.obj'
objs=$(i=0; while [ "$i" -lt "$tus" ]; do printf 'tu%d.obj ' "$i"; i=$((i + 1)); done)
# shellcheck disable=SC2086
lld-link /debug /nodefaultlib /entry:bigpdb_entry /subsystem:console /out:big.exe /pdb:big.pdb $objs
ls -l big.exe big.pdb

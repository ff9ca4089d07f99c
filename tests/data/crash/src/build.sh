#!/bin/sh
# Builds the x86 and ARM64 test programs of the crash walker from crash.c
# with Debian's clang-14 and lld-14 (apt-get install -y clang-14 lld-14).
# Freestanding (no CRT), reproducible (/Brepro), with CodeView PDBs.
# Run from anywhere; writes ../x86/ and ../arm64/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # target, flags, directory, program name
    mkdir -p "$out/$3"
    # Paths in the PDB do not depend on where this runs: the source is
    # recorded as C:\src\crash.c.
    (cd "$here" && clang-14 --target="$1" -O2 $2 -fno-stack-protector -g -gcodeview \
        -fdebug-compilation-dir=. -c crash.c -o "$tmp/$4.obj")
    (cd "$tmp" && lld-link-14 /entry:start /subsystem:console /nodefaultlib /debug /Brepro \
        '/pdbsourcepath:C:\src' /pdbaltpath:%_PDB% /out:"$4.exe" /pdb:"$4.pdb" "$4.obj")
    cp "$tmp/$4.exe" "$tmp/$4.pdb" "$out/$3/"
}

# x86: the frame pointer omitted, so only the PDB's FrameData finds callers.
build i686-pc-windows-msvc "-fomit-frame-pointer" x86 crash-x86
# ARM64: LLVM keeps these functions without a frame record (no x29 chain);
# their .pdata holds packed unwind data (leaf) and full .xdata (middle, outer).
build aarch64-pc-windows-msvc "" arm64 crash-arm64

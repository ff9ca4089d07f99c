//! Windows x86 and ARM64 crashes built with `minidump-synth` around the tiny
//! test programs of `tests/data/crash/src` (crash.c, built by build.sh with
//! clang-14/lld-14; the committed binaries are in tests/data/crash/x86 and
//! tests/data/crash/arm64). In both, `start` calls `outer`, which calls
//! `middle`, which calls `leaf`, which writes through a null pointer.
//!
//! Each stack holds exactly what the compiled prologs (read with
//! `llvm-objdump-14 -d` and `llvm-pdbutil-14 dump -fpo` /
//! `llvm-readobj-14 --unwind`; see the README) pushed and allocated, and the
//! frame pointer register holds junk: no function keeps a frame-pointer
//! chain, so only a walker that reads the unwind info (x86: the PDB's
//! FrameData; ARM64: the PE's .pdata/.xdata) finds the callers by call
//! frame info. Local variables hold small integers, never code addresses.

use super::module;
use minidump_synth::{Exception, Memory, Module, SynthMinidump, SystemInfo, Thread};
use object::Object;
use test_assembler::{Endian, Section};

/// The directory of the committed test programs.
pub fn data_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/crash")
}

/// The crashing thread's id (both dumps).
pub const CRASH_TID: u32 = 0x2b10;

/// What the dump's module list says about a PE file: read from the file.
struct PeFacts {
    timestamp: u32,
    size: u32,
    guid: [u8; 16],
    age: u32,
    pdb: String,
}

fn pe_facts(path: &std::path::Path) -> PeFacts {
    let bytes = std::fs::read(path).expect("the test program is committed");
    let file = object::File::parse(&*bytes).expect("a PE image");
    let cv = file.pdb_info().expect("readable debug directory").expect("a CodeView record");
    let (timestamp, size) = match &file {
        object::File::Pe32(f) => (
            f.nt_headers().file_header.time_date_stamp.get(object::LittleEndian),
            f.nt_headers().optional_header.size_of_image.get(object::LittleEndian),
        ),
        object::File::Pe64(f) => (
            f.nt_headers().file_header.time_date_stamp.get(object::LittleEndian),
            f.nt_headers().optional_header.size_of_image.get(object::LittleEndian),
        ),
        _ => panic!("not a PE image"),
    };
    PeFacts { timestamp, size, guid: cv.guid(), age: cv.age(), pdb: String::from_utf8_lossy(cv.path()).into_owned() }
}

/// A write access violation at address 0 at `pc` in the crashing thread.
fn exception(pc: u64) -> Exception {
    let mut exception = Exception::new(Endian::Little);
    exception.thread_id = CRASH_TID;
    exception.exception_record.exception_code = 0xC000_0005; // EXCEPTION_ACCESS_VIOLATION
    exception.exception_record.exception_address = pc;
    exception.exception_record.number_parameters = 2;
    exception.exception_record.exception_information[0] = 1; // a write
    exception.exception_record.exception_information[1] = 0; // to address 0
    exception
}

fn finish(dump: SynthMinidump, modules: Vec<(Module, Vec<Section>)>, stack: Memory, context: Section, pc: u64) -> Vec<u8> {
    let mut dump = dump;
    for (m, extra) in modules {
        dump = dump.add_module(m);
        for s in extra {
            dump = dump.add(s);
        }
    }
    let thread = Thread::new(Endian::Little, CRASH_TID, &stack, &context);
    dump.add_thread(thread).add(context).add_memory(stack).add_exception(exception(pc)).finish().expect("the synthetic dump is complete")
}

/// x86: load address of crash-x86.exe (its preferred base).
pub const X86_BASE: u64 = 0x0040_0000;
/// x86: load address of kernel32.dll.
pub const X86_KERNEL32: u64 = 0x7654_0000;

/// The x86 dump.
///
/// `leaf` (RVA 0x1000) crashes at RVA 0x1032 (`movl %eax, (%ecx)`, ECX =
/// `target` = 0). From `llvm-pdbutil-14 dump -fpo`, the FrameData records
/// covering each address (locals, saved registers, parameters):
/// - `leaf` at 0x1032: record 0x1003, `subl $16, %esp` done: 16 bytes of
///   locals, 8 bytes of parameters;
/// - `middle` at 0x10a0 (after `calll leaf`): record 0x1046, `pushl %ebx`,
///   `pushl %edi`, `pushl %esi`, `subl $24, %esp`: 24 locals, 12 saved, its
///   callee's 8 bytes of arguments pushed below them;
/// - `outer` at 0x1139 (after `calll middle`): record 0x10c6, the same
///   pushes, `subl $40, %esp`: 40 locals, 12 saved, 4 bytes of arguments;
/// - `start` at 0x116b (after `calll outer`): record 0x1160, no prolog, 4
///   bytes of arguments pushed (`pushl seed`).
///
/// EBP is never used as a frame pointer (`-fomit-frame-pointer`); it holds
/// junk that points nowhere in the stack.
pub fn x86_minidump() -> Vec<u8> {
    let facts = pe_facts(&data_dir().join("x86/crash-x86.exe"));
    let p = |rva: u64| (X86_BASE + rva) as u32;
    const STACK: u32 = 0x0019_f000;
    let mut words = vec![0u32; 0x200 / 4];
    let mut put = |addr: u32, v: u32| words[((addr - STACK) / 4) as usize] = v;
    // leaf's frame, ESP = e: scratch[0..4] = a * i + b with a = 24, b = 21.
    let e = STACK + 0x80;
    for i in 0..4 {
        put(e + 4 * i, 24 * i + 21);
    }
    put(e + 16, p(0x10a0)); // return address: into middle, after `calll leaf`
    put(e + 20, 24); // leaf's first argument (a), pushed last by middle
    put(e + 24, 21); // leaf's second argument (b)
                     // middle's frame, ESP after its prolog = m: local[0..6], then the saved
                     // ESI, EDI, EBX (pushed EBX, EDI, ESI), the return address, its argument.
    let m = e + 28;
    for i in 0..6 {
        put(m + 4 * i, 3 * i + 21);
    }
    put(m + 24, 0x33); // saved ESI (outer's)
    put(m + 28, 0x44); // saved EDI (outer's)
    put(m + 32, 0x55); // saved EBX (outer's)
    put(m + 36, p(0x1139)); // return address: into outer, after `calll middle`
    put(m + 40, 18); // middle's argument n
                     // outer's frame, ESP after its prolog = o: local[0..10], saved ESI, EDI,
                     // EBX, the return address, its argument.
    let o = m + 44;
    for i in 0..10 {
        put(o + 4 * i, 3 + 15 * i);
    }
    put(o + 40, 0x66); // saved ESI (start's caller's)
    put(o + 44, 0x77); // saved EDI
    put(o + 48, 0x88); // saved EBX
    put(o + 52, p(0x116b)); // return address: into start, after `calll outer`
    put(o + 56, 3); // outer's argument (`pushl seed`)
                    // start's frame: no prolog; ESP = o + 60 holds its return address.
    put(o + 60, (X86_KERNEL32 + 0x1_fa29) as u32); // into kernel32 (BaseThreadInitThunk)
    let stack_bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let stack = Memory::with_section(Section::with_endian(Endian::Little).append_bytes(&stack_bytes), u64::from(STACK));

    let pc = p(0x1032);
    // CONTEXT_X86 (CONTEXT_ALL): middle's callee-saved values are still in
    // EBX/ESI/EDI (leaf does not touch them); EBP is junk; ECX is the null
    // pointer written through.
    let context = Section::with_endian(Endian::Little)
        .D32(0x1003f) // context_flags: CONTEXT_X86_ALL
        .append_repeated(0, 4 * 6) // dr0-3, dr6, dr7
        .append_repeated(0, 112) // float_save
        .append_repeated(0, 4 * 4) // gs, fs, es, ds
        .D32(21) // edi (middle's y)
        .D32(3) // esi (middle's x)
        .D32(21) // ebx
        .D32(0) // edx
        .D32(0) // ecx: target, null
        .D32(45) // eax: the value written
        .D32(0x0bad_f00d) // ebp: junk, outside the stack
        .D32(pc) // eip
        .D32(0x23) // cs
        .D32(0x246) // eflags
        .D32(e) // esp
        .D32(0x2b) // ss
        .append_repeated(0, 512); // extended registers

    // PROCESSOR_ARCHITECTURE_INTEL, VER_PLATFORM_WIN32_NT.
    let dump = SynthMinidump::with_endian(Endian::Little)
        .add_system_info(SystemInfo::new(Endian::Little).set_processor_architecture(0).set_platform_id(2));
    let modules = vec![
        module(r"C:\test\crash-x86.exe", X86_BASE, facts.size, facts.timestamp, Some((&facts.pdb, facts.guid, facts.age))),
        module(r"C:\Windows\SysWOW64\kernel32.dll", X86_KERNEL32, 0xf0000, 0x5E8C_1D6B, Some(("wkernel32.pdb", [0x27; 16], 1))),
    ];
    finish(dump, modules, stack, context, u64::from(pc))
}

/// ARM64: load address of crash-arm64.exe.
pub const ARM64_BASE: u64 = 0x7ff6_5000_0000;
/// ARM64: load address of kernel32.dll.
pub const ARM64_KERNEL32: u64 = 0x7ffb_9000_0000;

/// The ARM64 dump.
///
/// `leaf` (RVA 0x1000, packed unwind data: `sub sp, sp, #16`, LR never
/// saved) crashes at RVA 0x103c (`str w8, [x9]`, X9 = `target` = 0). From
/// `llvm-readobj-14 --unwind` and the disassembly:
/// - `middle` (RVA 0x1054, .xdata): `sub sp, sp, #64`, `stp x19, x20, [sp,
///   #32]`, `stp x21, x30, [sp, #48]`; it called leaf from RVA 0x10c8, so
///   LR (not saved by leaf) is RVA 0x10cc;
/// - `outer` (RVA 0x10ec, .xdata): `sub sp, sp, #80`, `stp x19, x20, [sp,
///   #48]`, `stp x21, x30, [sp, #64]`; it called middle from RVA 0x1184;
/// - `start` branches to `outer` (`b`, a tail call): it is not on the stack,
///   and outer returns straight into kernel32.
///
/// No function sets up a frame record (x29 is never written); FP holds
/// junk that points nowhere in the stack.
pub fn arm64_minidump() -> Vec<u8> {
    let facts = pe_facts(&data_dir().join("arm64/crash-arm64.exe"));
    let p = |rva: u64| ARM64_BASE + rva;
    const STACK: u64 = 0x0000_00d3_4a5f_e000;
    let mut words = vec![0u64; 0x200 / 8];
    let mut put = |addr: u64, v: u64| words[((addr - STACK) / 8) as usize] = v;
    // leaf's frame, SP = l: 16 bytes, scratch[0..4] (32-bit ints, two a slot).
    let l = STACK + 0x80;
    put(l, (45 << 32) | 21);
    put(l + 8, (93 << 32) | 69);
    // middle's frame, SP = m = l + 16: 32 bytes of locals, then x19, x20,
    // x21 and lr as its prolog stored them.
    let m = l + 16;
    for i in 0..4 {
        put(m + 8 * i, (7 + i) << 32 | (3 + i));
    }
    put(m + 32, 0x1919); // saved x19 (outer's)
    put(m + 40, 0x2020); // saved x20 (outer's)
    put(m + 48, 0x2121); // saved x21 (outer's)
    put(m + 56, p(0x1188)); // saved lr: into outer, after `bl middle`
                            // outer's frame, SP = o = m + 64: 48 bytes of locals, x19, x20, x21, lr.
    let o = m + 64;
    for i in 0..6 {
        put(o + 8 * i, (20 + i) << 32 | (10 + i));
    }
    put(o + 48, 0x1900); // saved x19 (kernel32's)
    put(o + 56, 0x2000); // saved x20
    put(o + 64, 0x2100); // saved x21
    put(o + 72, ARM64_KERNEL32 + 0x2_5e58); // saved lr: into kernel32 (BaseThreadInitThunk)
    let stack_bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let stack = Memory::with_section(Section::with_endian(Endian::Little).append_bytes(&stack_bytes), STACK);

    let pc = p(0x103c);
    // CONTEXT_ARM64 (CONTEXT_ARM64_ALL): x19-x21 hold middle's values (leaf
    // does not touch them), x9 the null pointer, fp junk, lr the return
    // address into middle.
    let mut x = [0u64; 29];
    x[8] = 114; // the value written
    x[19] = 3;
    x[20] = 21;
    x[21] = 21;
    let mut context = Section::with_endian(Endian::Little)
        .D32(0x40001f) // context_flags: CONTEXT_ARM64_ALL
        .D32(0x6000_0000); // cpsr
    for v in x {
        context = context.D64(v);
    }
    let context = context
        .D64(0x0bad_f00d) // fp: junk, outside the stack
        .D64(p(0x10cc)) // lr: into middle, after `bl leaf`
        .D64(l) // sp
        .D64(pc) // pc
        .append_repeated(0, 16 * 32) // v0-v31
        .D32(0) // fpcr
        .D32(0) // fpsr
        .append_repeated(0, 4 * 8) // bcr0-7
        .append_repeated(0, 8 * 8) // bvr0-7
        .append_repeated(0, 4 * 2) // wcr0-1
        .append_repeated(0, 8 * 2); // wvr0-1

    // PROCESSOR_ARCHITECTURE_ARM64, VER_PLATFORM_WIN32_NT.
    let dump = SynthMinidump::with_endian(Endian::Little)
        .add_system_info(SystemInfo::new(Endian::Little).set_processor_architecture(12).set_platform_id(2));
    let modules = vec![
        module(r"C:\test\crash-arm64.exe", ARM64_BASE, facts.size, facts.timestamp, Some((&facts.pdb, facts.guid, facts.age))),
        module(r"C:\Windows\System32\kernel32.dll", ARM64_KERNEL32, 0xd0000, 0x5E8C_1D6C, Some(("kernel32.pdb", [0x37; 16], 1))),
    ];
    finish(dump, modules, stack, context, pc)
}

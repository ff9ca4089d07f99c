//! A Windows x64 crash built with rust-minidump's `minidump-synth` around the
//! real fixture program `ShowSSEConfig.exe` (tests/data/store; a Firefox test
//! program built by Mozilla, see tests/data/README or /work/shared fixtures).
//!
//! The crashing thread stopped inside the program's real code: `printf` at RVA
//! 0x11c5 (`mov rcx, [rax]` with RAX = 0, a read access violation), called
//! from `wmain` (return address RVA 0x101a), called from
//! `__scrt_common_main_seh` (return address RVA 0x1408, inside the inlined
//! `invoke_main`), called from `kernel32.dll` (no symbols). The stack holds
//! exactly what the program's x64 unwind info (`.pdata`, read from the PE)
//! says each prologue pushed and allocated, so only a walker that reads the
//! PE's unwind info finds the callers with call-frame info:
//! - `printf` (RVA 0x1180): push rsi, push rdi, push rbx, sub rsp, 0x40;
//! - `wmain` (RVA 0x1000): push rsi, push rdi, push rbx, sub rsp, 0x30;
//! - `__scrt_common_main_seh` (RVA 0x12fc): rbx/rsi saved into the caller's
//!   home space (+0x40/+0x48 after the allocation), push rdi, sub rsp, 0x30.
//!
//! A second thread waits in `nodebug.dll`, a module without debug info.

#![allow(clippy::expect_used, clippy::indexing_slicing, dead_code)] // test data: a bad constant is a bug in the test

pub mod small;

use minidump_synth::{amd64_context, Exception, Memory, Module, SynthMinidump, SystemInfo, Thread};
use test_assembler::{Endian, Section};

/// Load address of ShowSSEConfig.exe.
pub const PROGRAM_BASE: u64 = 0x7ff6_1234_0000;
/// Load address of kernel32.dll.
pub const KERNEL32_BASE: u64 = 0x7ffb_8d60_0000;
/// Load address of nodebug.dll.
pub const NODEBUG_BASE: u64 = 0x1000_0000;
/// The crashing thread's id.
pub const CRASH_TID: u32 = 0x1a2c;
/// The other thread's id.
pub const IDLE_TID: u32 = 0x0f10;

/// A module record and the sections it points to (its name, its CodeView record).
fn module(path: &str, base: u64, size: u32, timestamp: u32, pdb: Option<(&str, [u8; 16], u32)>) -> (Module, Vec<Section>) {
    let name = minidump_synth::DumpString::new(path, Endian::Little);
    let mut m = Module::new(Endian::Little, base, size, &name, timestamp, 0, None);
    let mut extra = vec![Section::from(name)];
    if let Some((file, guid, age)) = pdb {
        let cv = Section::with_endian(Endian::Little)
            .D32(0x5344_5352) // "RSDS"
            .append_bytes(&guid)
            .D32(age)
            .append_bytes(file.as_bytes())
            .D8(0);
        m = m.cv_record(&cv);
        extra.push(cv);
    }
    (m, extra)
}

/// The dump's bytes.
pub fn minidump() -> Vec<u8> {
    let p = |rva: u64| PROGRAM_BASE + rva;
    // The crashing thread's stack: 0x400 bytes from STACK, RSP at STACK + 0x100.
    const STACK: u64 = 0x0000_00a1_2345_e000;
    let s0 = STACK + 0x100;
    let mut words = vec![0u64; 0x400 / 8];
    let mut put = |addr: u64, v: u64| words[((addr - STACK) / 8) as usize] = v;
    // printf's frame: 0x40 allocated, then rbx, rdi, rsi, return address.
    put(s0 + 0x40, 0x1111); // rbx
    put(s0 + 0x48, 0x2222); // rdi
    put(s0 + 0x50, 0x3333); // rsi
    put(s0 + 0x58, p(0x101a)); // into wmain, after `call printf`
    let s1 = s0 + 0x60;
    // wmain's frame: 0x30 allocated, then rbx, rdi, rsi, return address.
    put(s1 + 0x30, 0x4444);
    put(s1 + 0x38, 0x5555);
    put(s1 + 0x40, 0x6666);
    put(s1 + 0x48, p(0x1408)); // into __scrt_common_main_seh, after `call wmain`
    let s2 = s1 + 0x50;
    // __scrt_common_main_seh's frame: 0x30 allocated, rdi, return address;
    // rbx and rsi in its caller's home space.
    put(s2 + 0x30, 0x7777); // rdi
    put(s2 + 0x38, KERNEL32_BASE + 0x1_7034); // into kernel32 (BaseThreadInitThunk)
    put(s2 + 0x40, 0x8888); // rbx
    put(s2 + 0x48, 0x9999); // rsi
    let stack_bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let stack = Memory::with_section(Section::with_endian(Endian::Little).append_bytes(&stack_bytes), STACK);
    let crash_rip = p(0x11c5);
    let context = amd64_context(Endian::Little, crash_rip, s0);
    let crashing = Thread::new(Endian::Little, CRASH_TID, &stack, &context);

    // The idle thread: inside nodebug.dll, an empty stack.
    const IDLE_STACK: u64 = 0x0000_00a1_2340_0000;
    let idle_stack = Memory::with_section(Section::with_endian(Endian::Little).append_repeated(0, 0x100), IDLE_STACK);
    let idle_context = amd64_context(Endian::Little, NODEBUG_BASE + 0x1234, IDLE_STACK + 0x20);
    let idle = Thread::new(Endian::Little, IDLE_TID, &idle_stack, &idle_context);

    let mut exception = Exception::new(Endian::Little);
    exception.thread_id = CRASH_TID;
    exception.exception_record.exception_code = 0xC000_0005; // EXCEPTION_ACCESS_VIOLATION
    exception.exception_record.exception_address = crash_rip;
    exception.exception_record.number_parameters = 2;
    exception.exception_record.exception_information[0] = 0; // a read
    exception.exception_record.exception_information[1] = 0; // of address 0

    let mut dump = SynthMinidump::with_endian(Endian::Little)
        // PROCESSOR_ARCHITECTURE_AMD64, VER_PLATFORM_WIN32_NT.
        .add_system_info(SystemInfo::new(Endian::Little).set_processor_architecture(9).set_platform_id(2));
    // ShowSSEConfig.pdb: GUID {A6259241-8D78-0749-4C4C-44205044422E} (stored little-endian), age 1.
    let program_guid = [0x41, 0x92, 0x25, 0xA6, 0x78, 0x8D, 0x49, 0x07, 0x4C, 0x4C, 0x44, 0x20, 0x50, 0x44, 0x42, 0x2E];
    let modules = [
        module(
            r"C:\build\ShowSSEConfig\ShowSSEConfig.exe",
            PROGRAM_BASE,
            0x8000,
            0x63E6_C7F7,
            Some(("ShowSSEConfig.pdb", program_guid, 1)),
        ),
        module(r"C:\Windows\System32\kernel32.dll", KERNEL32_BASE, 0xc2000, 0x5E8C_1D6A, Some(("kernel32.pdb", [0x17; 16], 1))),
        module(r"C:\Program Files\Vendor\nodebug.dll", NODEBUG_BASE, 0x3000, 0x5000_0000, None),
    ];
    for (m, extra) in modules {
        dump = dump.add_module(m);
        for s in extra {
            dump = dump.add(s);
        }
    }
    dump.add_thread(crashing)
        .add(context)
        .add_memory(stack)
        .add_thread(idle)
        .add(idle_context)
        .add_memory(idle_stack)
        .add_exception(exception)
        .finish()
        .expect("the synthetic dump is complete")
}

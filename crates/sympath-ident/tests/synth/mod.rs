//! A synthetic Windows minidump (rust-minidump's `minidump-synth`) whose
//! module list holds the fixture store's program, `ntdll.dll` and a module
//! without debug information. Used by the Rust tests and, through the
//! `synth_minidump` example, by the crash-viewer browser test.

#![allow(clippy::expect_used)] // test data: a bad constant is a bug in the test

use minidump_synth::{Module, SynthMinidump, SystemInfo};
use sympath::identity::Guid;
use test_assembler::{Endian, Section};

/// A module to put in the dump.
pub struct SynthModule {
    /// Image path as the loader recorded it.
    pub path: &'static str,
    /// Load address.
    pub base: u64,
    /// SizeOfImage.
    pub size: u32,
    /// TimeDateStamp.
    pub timestamp: u32,
    /// PDB name, GUID (as printed) and age for an RSDS CodeView record.
    pub pdb: Option<(&'static str, &'static str, u32)>,
}

/// The modules of the test dump: the fixture program (tests/data/store) first.
pub const MODULES: &[SynthModule] = &[
    SynthModule {
        path: r"C:\build\ShowSSEConfig\x64\Release\ShowSSEConfig.exe",
        base: 0x7ff6_1234_0000,
        size: 0x8000,
        timestamp: 0x63E6_C7F7,
        pdb: Some(("ShowSSEConfig.pdb", "A6259241-8D78-0749-4C4C-44205044422E", 1)),
    },
    SynthModule {
        path: r"C:\Windows\System32\ntdll.dll",
        base: 0x7ffb_8e80_0000,
        size: 0x1f8000,
        timestamp: 0x2B5C_3F0E,
        pdb: Some(("ntdll.pdb", "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE", 2)),
    },
    SynthModule { path: r"C:\Program Files\Vendor\nodebug.dll", base: 0x1000_0000, size: 0x3000, timestamp: 0x5000_0000, pdb: None },
];

/// The dump's bytes.
pub fn minidump() -> Vec<u8> {
    let mut dump = SynthMinidump::with_endian(Endian::Little)
        // PROCESSOR_ARCHITECTURE_AMD64, VER_PLATFORM_WIN32_NT.
        .add_system_info(SystemInfo::new(Endian::Little).set_processor_architecture(9).set_platform_id(2));
    for m in MODULES {
        let name = minidump_synth::DumpString::new(m.path, Endian::Little);
        let mut module = Module::new(Endian::Little, m.base, m.size, &name, m.timestamp, 0, None);
        if let Some((pdb, guid, age)) = m.pdb {
            let guid: Guid = guid.parse().expect("a GUID");
            let cv = Section::with_endian(Endian::Little)
                .D32(0x5344_5352) // "RSDS"
                .append_bytes(&guid.to_le_bytes())
                .D32(age)
                .append_bytes(pdb.as_bytes())
                .D8(0);
            module = module.cv_record(&cv);
            dump = dump.add_module(module).add(name).add(cv);
        } else {
            dump = dump.add_module(module).add(name);
        }
    }
    dump.finish().expect("the synthetic dump is complete")
}

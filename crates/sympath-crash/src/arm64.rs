//! ARM64 call frame info from a PE image's `.pdata` and `.xdata`
//! (Microsoft's "ARM64 exception handling": packed and full unwind data).
//!
//! `goblin` decodes the records (RUNTIME_FUNCTION entries, `.xdata` headers,
//! epilog scopes, unwind codes); this module turns them into the instructions
//! of the prolog or epilog and undoes the ones that ran before the address,
//! which gives the caller's `sp`, the return address (the restored `lr`) and
//! the restored callee-saved registers. Bad or unsupported records (SVE
//! saves, custom stack codes, chained scopes) are `None`: the walker then
//! falls back to frame pointers and stack scanning.

use goblin::pe::exception::{
    Arm64RuntimeFunction, Arm64UnwindCode, Arm64UnwindInfo, ARM64_PDATA_PACKED_UNWIND_FRAGMENT, ARM64_PDATA_PACKED_UNWIND_FUNCTION,
    ARM64_PDATA_REF_TO_FULL_XDATA,
};

/// Register numbers as the unwind codes count them: x0..x28, fp (x29), lr (x30).
pub(crate) const FP: u8 = 29;
/// The link register, x30.
pub(crate) const LR: u8 = 30;

/// The registers being unwound: `x[i]` is `xi` (`None`: unknown), and `sp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Regs {
    pub x: [Option<u64>; 31],
    pub sp: u64,
    /// Which of `x` were read from the stack by the unwind (bit i: xi).
    pub restored: u32,
}

/// One prolog or epilog instruction, as its undoing sees it: registers read
/// back from `sp + offset`, then `sp` moved up by `alloc`; or `sp` set from
/// the frame pointer (`mov x29, sp` / `add x29, sp, #n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Insn {
    loads: [Option<(u8, u32)>; 2],
    alloc: u32,
    from_fp: Option<u32>,
}

impl Insn {
    fn nop() -> Insn {
        Insn::default()
    }
    fn alloc(n: u32) -> Insn {
        Insn { alloc: n, ..Insn::default() }
    }
    fn load(a: (u8, u32), b: Option<(u8, u32)>, alloc: u32) -> Insn {
        Insn { loads: [Some(a), b], alloc, from_fp: None }
    }
}

/// Unwinds one frame of the function covering `rva`: `pdata` is the
/// exception directory's bytes, `at_rva` gives the image's bytes from an RVA
/// (for `.xdata`), `read` reads 8 bytes of stack. `regs` is the callee's state
/// on entry and the caller's on success; the return address is `regs.x[30]`.
pub(crate) fn unwind<'a>(
    pdata: &[u8],
    at_rva: impl Fn(u32) -> Option<&'a [u8]>,
    rva: u32,
    regs: &mut Regs,
    read: impl Fn(u64) -> Option<u64>,
) -> Option<()> {
    let function = lookup(pdata, rva)?;
    let offset = rva.checked_sub(function.begin_address)?;
    let insns = match function.flag() {
        ARM64_PDATA_REF_TO_FULL_XDATA => {
            let bytes = at_rva(function.unwind_data_rva())?;
            let info = Arm64UnwindInfo::parse(bytes, 0).ok()?;
            if offset >= info.header.function_length() {
                return None;
            }
            full_insns(&info, offset)?
        }
        flag @ (ARM64_PDATA_PACKED_UNWIND_FUNCTION | ARM64_PDATA_PACKED_UNWIND_FRAGMENT) => {
            if offset >= function.function_length() {
                return None;
            }
            packed_insns(&function, offset, flag == ARM64_PDATA_PACKED_UNWIND_FRAGMENT)?
        }
        _ => return None,
    };
    for insn in &insns {
        undo(insn, regs, &read)?;
    }
    Some(())
}

/// The RUNTIME_FUNCTION entry that starts at or before `rva` (the table is
/// sorted by start address).
fn lookup(pdata: &[u8], rva: u32) -> Option<Arm64RuntimeFunction> {
    let entry = |i: usize| -> Option<Arm64RuntimeFunction> {
        let b = pdata.get(i * 8..i * 8 + 8)?;
        let word = |at: usize| b.get(at..at + 4).and_then(|w| w.try_into().ok()).map(u32::from_le_bytes);
        Some(Arm64RuntimeFunction { begin_address: word(0)?, unwind_data: word(4)? })
    };
    let count = pdata.len() / 8;
    // The first entry starting after rva.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if entry(mid)?.begin_address <= rva {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    entry(lo.checked_sub(1)?)
}

/// Undoes one instruction.
fn undo(insn: &Insn, regs: &mut Regs, read: &impl Fn(u64) -> Option<u64>) -> Option<()> {
    if let Some(off) = insn.from_fp {
        regs.sp = regs.x.get(usize::from(FP)).copied().flatten()?.checked_sub(u64::from(off))?;
    }
    for (reg, off) in insn.loads.iter().flatten() {
        let value = read(regs.sp.checked_add(u64::from(*off))?)?;
        *regs.x.get_mut(usize::from(*reg))? = Some(value);
        regs.restored |= 1 << reg;
    }
    regs.sp = regs.sp.checked_add(u64::from(insn.alloc))?;
    Some(())
}

/// The instructions to undo for full `.xdata`, in undo order.
fn full_insns(info: &Arm64UnwindInfo<'_>, offset: u32) -> Option<Vec<Insn>> {
    let prolog = decode(info, 0)?;
    // In an epilog: its instructions that have not run yet. An epilog's codes
    // are listed in the order it runs them, and its last instruction (the
    // `ret`, the `end` code) is not listed.
    let function_length = info.header.function_length();
    let mut epilogs = Vec::new();
    if info.header.epilog_in_header() {
        // One epilog, at the end of the function; its codes start at this index.
        let index = u16::try_from(info.header.epilog_count()).ok()?;
        let codes = decode(info, index)?;
        let len = u32::try_from(codes.len()).ok()?.checked_add(1)?.checked_mul(4)?;
        epilogs.push((function_length.checked_sub(len)?, codes));
    } else if let Some(scopes) = info.epilog_scopes() {
        for scope in scopes {
            let scope = scope.ok()?;
            let codes = decode(info, u16::try_from(scope.start_index()).ok()?)?;
            epilogs.push((scope.start_offset_words(), codes));
        }
    }
    for (start, codes) in epilogs {
        let len = u32::try_from(codes.len()).ok()?.checked_add(1)?.checked_mul(4)?;
        if offset >= start && offset - start < len {
            let ran = usize::try_from((offset - start) / 4).ok()?;
            return Some(codes.get(ran..).unwrap_or_default().to_vec());
        }
    }
    Some(in_prolog(prolog, offset))
}

/// In the prolog, only the instructions that ran are undone: the codes are in
/// undo order (the last prolog instruction first), one per instruction.
fn in_prolog(mut prolog: Vec<Insn>, offset: u32) -> Vec<Insn> {
    let ran = usize::try_from(offset / 4).unwrap_or(usize::MAX);
    if ran < prolog.len() {
        prolog.drain(..prolog.len() - ran);
    }
    prolog
}

/// A pair of registers a `save_next` continues from.
#[derive(Clone, Copy)]
struct Pair {
    /// Integer (true) or floating-point registers.
    int: bool,
    first: u8,
    offset: u32,
}

/// The unwind codes from byte `index` to the first `end`, as instructions in
/// undo order. `save_next` is resolved from the pair saved before it.
fn decode(info: &Arm64UnwindInfo<'_>, index: u16) -> Option<Vec<Insn>> {
    let mut codes = Vec::new();
    for code in info.unwind_codes(index).ok()? {
        match code.ok()?.code {
            Arm64UnwindCode::End => break,
            // A chained scope, SVE registers, custom stacks: not supported here.
            Arm64UnwindCode::EndC
            | Arm64UnwindCode::AllocZ { .. }
            | Arm64UnwindCode::SaveZReg { .. }
            | Arm64UnwindCode::SavePReg { .. }
            | Arm64UnwindCode::CustomStack(_)
            | Arm64UnwindCode::Reserved { .. } => return None,
            code => codes.push(code),
        }
        if codes.len() > 4096 {
            return None;
        }
    }
    // Codes are in undo order; `save_next` refers to the pair the previous
    // instruction (the next code in the list) saved, so resolve from the end.
    let mut insns = vec![Insn::nop(); codes.len()];
    let mut last: Option<Pair> = None;
    for (code, insn) in codes.iter().zip(insns.iter_mut()).rev() {
        let (made, pair) = convert(*code, last)?;
        *insn = made;
        last = pair.or(last);
    }
    Some(insns)
}

/// One unwind code as an instruction to undo, and the register pair it saved.
fn convert(code: Arm64UnwindCode, last: Option<Pair>) -> Option<(Insn, Option<Pair>)> {
    use Arm64UnwindCode as C;
    let int_pair = |first: u8, offset: u32| Some(Pair { int: true, first, offset });
    let fp_pair = |first: u8, offset: u32| Some(Pair { int: false, first, offset });
    Some(match code {
        C::AllocSmall { size_bytes } | C::AllocMedium { size_bytes } | C::AllocLarge { size_bytes } => (Insn::alloc(size_bytes), None),
        C::SaveR19R20Preindexed { offset_bytes } => (Insn::load((19, 0), Some((20, 8)), offset_bytes), int_pair(19, 0)),
        C::SaveFpLr { offset_bytes } => (Insn::load((FP, offset_bytes), Some((LR, offset_bytes.checked_add(8)?)), 0), None),
        C::SaveFpLrPreindexed { offset_bytes } => (Insn::load((FP, 0), Some((LR, 8)), offset_bytes), None),
        C::SaveRegPair { first_reg, offset_bytes } => {
            let second = first_reg.checked_add(1).filter(|r| *r <= LR)?;
            (Insn::load((first_reg, offset_bytes), Some((second, offset_bytes.checked_add(8)?)), 0), int_pair(first_reg, offset_bytes))
        }
        C::SaveRegPairPreindexed { first_reg, offset_bytes } => {
            let second = first_reg.checked_add(1).filter(|r| *r <= LR)?;
            (Insn::load((first_reg, 0), Some((second, 8)), offset_bytes), int_pair(first_reg, 0))
        }
        C::SaveReg { reg, offset_bytes } => (Insn::load((reg, offset_bytes), None, 0), None),
        C::SaveRegPreindexed { reg, offset_bytes } => (Insn::load((reg, 0), None, offset_bytes), None),
        C::SaveLrPair { first_reg, offset_bytes } => {
            (Insn::load((first_reg, offset_bytes), Some((LR, offset_bytes.checked_add(8)?)), 0), None)
        }
        // Floating-point registers are not tracked; only `sp` moves.
        C::SaveFRegPair { first_reg, offset_bytes } => (Insn::nop(), fp_pair(first_reg, offset_bytes)),
        C::SaveFRegPairPreindexed { first_reg, offset_bytes } => (Insn::alloc(offset_bytes), fp_pair(first_reg, 0)),
        C::SaveFReg { .. } => (Insn::nop(), None),
        C::SaveFRegPreindexed { offset_bytes, .. } => (Insn::alloc(offset_bytes), None),
        C::SaveAnyReg { kind, pair, preindexed, reg, offset_bytes } => {
            let (at, alloc) = if preindexed { (0, offset_bytes) } else { (offset_bytes, 0) };
            if kind == 0 {
                let second = if pair { Some((reg.checked_add(1).filter(|r| *r <= LR)?, at.checked_add(8)?)) } else { None };
                (Insn::load((reg, at), second, alloc), None)
            } else {
                (Insn::alloc(alloc), None)
            }
        }
        C::SaveNext => {
            let prev = last?;
            let first = prev.first.checked_add(2)?;
            let offset = prev.offset.checked_add(16)?;
            let next = Pair { int: prev.int, first, offset };
            if prev.int {
                let second = first.checked_add(1).filter(|r| *r <= LR)?;
                (Insn::load((first, offset), Some((second, offset.checked_add(8)?)), 0), Some(next))
            } else {
                (Insn::nop(), Some(next))
            }
        }
        C::SetFp => (Insn { from_fp: Some(0), ..Insn::default() }, None),
        C::AddFp { offset_bytes, .. } => (Insn { from_fp: Some(offset_bytes), ..Insn::default() }, None),
        C::Nop | C::PacSignLr => (Insn::nop(), None),
        _ => return None,
    })
}

/// The instructions to undo for packed unwind data: its canonical prolog
/// (Microsoft's "packed unwind data" steps), in undo order, cut to what ran
/// at `offset`; in the epilog at the function's end, what has not run yet.
fn packed_insns(function: &Arm64RuntimeFunction, offset: u32, fragment: bool) -> Option<Vec<Insn>> {
    let (reg_i, reg_f, cr, homes) = (function.reg_i(), function.reg_f(), function.cr(), function.h());
    if reg_i > 10 || cr == 1 && reg_i > 9 {
        return None;
    }
    let int_size = 8 * (reg_i + u32::from(cr == 1));
    let fp_size = if reg_f > 0 { 8 * (reg_f + 1) } else { 0 };
    let home_size = if homes { 64 } else { 0 };
    let save_size = (int_size + fp_size + home_size).next_multiple_of(16);
    let local_size = function.frame_size().checked_sub(save_size)?;

    // The prolog in execution order.
    let mut prolog = Vec::new();
    if cr == 2 {
        prolog.push(Insn::nop()); // pacibsp
    }
    // The first store also allocates the whole save area (pre-indexed); it
    // is always at the area's offset 0, so every offset holds after it.
    let mut first = true;
    let mut store = |loads: [Option<(u8, u32)>; 2], prolog: &mut Vec<Insn>| {
        let alloc = if std::mem::take(&mut first) { save_size } else { 0 };
        prolog.push(Insn { loads, alloc, from_fp: None });
    };
    // x19.. and, for CR = 1, lr after them.
    let mut slots: Vec<u8> = (0..reg_i).map(|i| 19 + i as u8).collect();
    if cr == 1 {
        slots.push(LR);
    }
    for (k, chunk) in slots.chunks(2).enumerate() {
        let at = 16 * k as u32;
        let loads = [chunk.first().map(|&r| (r, at)), chunk.get(1).map(|&r| (r, at + 8))];
        store(loads, &mut prolog);
    }
    // d8.. and the homed parameters x0-x7: stored, never restored.
    let fp_count = if reg_f > 0 { reg_f + 1 } else { 0 };
    for _ in 0..fp_count.div_ceil(2) {
        store([None, None], &mut prolog);
    }
    if homes {
        for _ in 0..4 {
            store([None, None], &mut prolog);
        }
    }
    // The locals, and for a chained frame (CR = 2, 3) fp/lr at their bottom.
    let chained = cr >= 2;
    let fp_lr = [Some((FP, 0)), Some((LR, 8))];
    if chained && local_size <= 512 {
        prolog.push(Insn { loads: fp_lr, alloc: local_size, from_fp: None }); // stp x29, lr, [sp, #-locsz]!
        prolog.push(Insn { from_fp: Some(0), ..Insn::default() }); // mov x29, sp
    } else {
        if local_size > 4080 {
            prolog.push(Insn::alloc(4080));
            prolog.push(Insn::alloc(local_size - 4080));
        } else if local_size > 0 {
            prolog.push(Insn::alloc(local_size));
        }
        if chained {
            prolog.push(Insn { loads: fp_lr, ..Insn::default() }); // stp x29, lr, [sp, #0]
            prolog.push(Insn { from_fp: Some(0), ..Insn::default() }); // add x29, sp, #0
        }
    }
    prolog.reverse();

    // A fragment has no prolog of its own: everything ran.
    if !fragment && offset / 4 < u32::try_from(prolog.len()).ok()? {
        return Some(in_prolog(prolog, offset));
    }
    // The epilog at the end of the function runs the prolog's undo order,
    // without the frame pointer set-up, then `ret`.
    let epilog: Vec<Insn> = prolog.iter().copied().filter(|i| i.from_fp.is_none()).collect();
    let epilog_len = u32::try_from(epilog.len()).ok()?.checked_add(1)?.checked_mul(4)?;
    if let Some(start) = function.function_length().checked_sub(epilog_len) {
        if offset >= start {
            let ran = usize::try_from((offset - start) / 4).ok()?;
            return Some(epilog.get(ran..).unwrap_or_default().to_vec());
        }
    }
    Some(prolog)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn regs(sp: u64) -> Regs {
        let mut x = [None; 31];
        x[usize::from(LR)] = Some(0xdead);
        x[usize::from(FP)] = Some(0xf00);
        Regs { x, sp, restored: 0 }
    }

    /// Stack memory: each 8-byte slot holds its own address plus 1.
    fn read(addr: u64) -> Option<u64> {
        (addr % 8 == 0).then_some(addr + 1)
    }

    fn pdata(entries: &[(u32, u32)]) -> Vec<u8> {
        entries.iter().flat_map(|(a, b)| a.to_le_bytes().into_iter().chain(b.to_le_bytes())).collect()
    }

    /// Packed data: flag 1, length in words, frame size / 16, CR, RegI.
    fn packed(len_words: u32, frame16: u32, cr: u32, reg_i: u32) -> u32 {
        1 | (len_words << 2) | (reg_i << 16) | (cr << 21) | (frame16 << 23)
    }

    #[test]
    fn packed_leaf_without_saved_lr() {
        // sub sp, sp, #16 ... add sp, sp, #16; ret (the test program's `leaf`).
        let p = pdata(&[(0x1000, packed(21, 1, 0, 0))]);
        let mut r = regs(0x8000);
        unwind(&p, |_| None, 0x103c, &mut r, read).unwrap();
        assert_eq!(r.sp, 0x8010);
        assert_eq!(r.x[usize::from(LR)], Some(0xdead), "lr was never saved: it is the return address");
        // At the first instruction nothing ran: sp is unchanged.
        let mut r = regs(0x8000);
        unwind(&p, |_| None, 0x1000, &mut r, read).unwrap();
        assert_eq!(r.sp, 0x8000);
        // At the `ret`, the epilog's `add sp` ran.
        let mut r = regs(0x8000);
        unwind(&p, |_| None, 0x1050, &mut r, read).unwrap();
        assert_eq!(r.sp, 0x8000);
    }

    #[test]
    fn packed_chained_frame_with_saved_registers() {
        // CR = 3, RegI = 2, frame 64: stp x19, x20, [sp, #-16]!; stp x29, lr, [sp, #-48]!; mov x29, sp.
        let p = pdata(&[(0x2000, packed(40, 4, 3, 2))]);
        let mut r = regs(0x9000);
        r.x[usize::from(FP)] = Some(0x9000); // mov x29, sp
        unwind(&p, |_| None, 0x2040, &mut r, read).unwrap();
        assert_eq!(r.x[usize::from(FP)], Some(0x9001));
        assert_eq!(r.x[usize::from(LR)], Some(0x9009));
        assert_eq!(r.x[19], Some(0x9031));
        assert_eq!(r.x[20], Some(0x9039));
        assert_eq!(r.sp, 0x9040);
    }

    #[test]
    fn truncated_or_bogus_tables_are_none() {
        let p = pdata(&[(0x1000, packed(21, 1, 0, 0))]);
        for cut in 0..p.len() {
            let mut r = regs(0x8000);
            let _ = unwind(&p[..cut], |_| None, 0x1010, &mut r, read);
        }
        // Before the first function, after its end, an .xdata RVA that maps nowhere.
        assert!(unwind(&p, |_| None, 0xfff, &mut regs(0), read).is_none());
        assert!(unwind(&p, |_| None, 0x1054, &mut regs(0), read).is_none());
        let full = pdata(&[(0x1000, 0x2000)]);
        assert!(unwind(&full, |_| None, 0x1000, &mut regs(0), read).is_none());
        // .xdata whose code words run past the bytes given.
        let xdata = [0x15, 0, 0, 0xf8];
        assert!(unwind(&full, |_| Some(&xdata[..]), 0x1004, &mut regs(0), read).is_none());
        // Every byte value as a single unwind code: never a panic.
        for b in 0..=255u8 {
            let x = [0x10, 0, 0x20, 0x08, b, 0xe4, 0xe4, 0xe4];
            let _ = unwind(&full, |_| Some(&x[..]), 0x1008, &mut regs(0x100), read);
        }
    }
}

//! ASCII case-insensitive comparison, eight bytes at a time.
//!
//! `str::eq_ignore_ascii_case` compares in chunks set up for long strings;
//! the parser compares short ones (keywords, hosts, URL paths, store texts)
//! on every element, so it uses this word-at-a-time version with the same
//! result.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether `a` and `b` are equal ignoring ASCII case: `a.eq_ignore_ascii_case(b)`.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if !crate::parse::NATIVE {
        // Compact (see `parse::NATIVE`).
        return a.eq_ignore_ascii_case(b);
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut ca).zip(&mut cb) {
        if !same_word(word(x), word(y)) {
            return false;
        }
    }
    // The tails (of equal length) zero-padded: zero bytes are equal.
    same_word(word(ca.remainder()), word(cb.remainder()))
}

/// Up to eight bytes as a little-endian word, zero-padded.
fn word(c: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (d, s) in w.iter_mut().zip(c) {
        *d = *s;
    }
    u64::from_le_bytes(w)
}

/// Whether two words are equal ignoring ASCII case, byte by byte.
fn same_word(x: u64, y: u64) -> bool {
    if x == y {
        return true;
    }
    if (x | y) & HIGH != 0 {
        // A byte outside ASCII: compare each byte (they must be equal).
        return x.to_le_bytes().eq_ignore_ascii_case(&y.to_le_bytes());
    }
    lower(x) == lower(y)
}

/// `to_ascii_lowercase` of eight ASCII bytes (every byte below 0x80, so no
/// sum carries into the next byte).
fn lower(x: u64) -> u64 {
    let ge_a = x.wrapping_add(ONES * (0x80 - u64::from(b'A'))) & HIGH;
    let gt_z = x.wrapping_add(ONES * (0x80 - u64::from(b'Z') - 1)) & HIGH;
    x | ((ge_a & !gt_z) >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The same answer as the standard library, ASCII or not, any length.
        #[test]
        fn matches_eq_ignore_ascii_case(a in "[a-dA-D@\\[`{/\\\\:\u{e9}\u{c9}\u{7f}]{0,20}", b in "[a-dA-D@\\[`{/\\\\:\u{e9}\u{c9}\u{7f}]{0,20}") {
            proptest::prop_assert_eq!(eq_ignore_case(&a, &b), a.eq_ignore_ascii_case(&b));
            let upper = a.to_ascii_uppercase();
            proptest::prop_assert!(eq_ignore_case(&a, &upper));
        }
    }

    #[test]
    fn every_byte_pair_agrees_with_the_standard_library() {
        for x in 0..=255u8 {
            for y in 0..=255u8 {
                let (a, b) = ([x; 9], [y; 9]);
                let (Ok(a), Ok(b)) = (std::str::from_utf8(&a), std::str::from_utf8(&b)) else { continue };
                assert_eq!(eq_ignore_case(a, b), a.eq_ignore_ascii_case(b), "{x:#x} {y:#x}");
            }
        }
    }
}

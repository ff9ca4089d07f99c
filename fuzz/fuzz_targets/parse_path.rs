//! Parse + expand + canonical round trip + fixes on arbitrary text: no panic,
//! spans inside the text on char boundaries, canonical form stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sympath::expand::{expand, Command, Defaults, Environment, NoFacts};
use sympath::{Dialect, ParseOptions};

fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("span");
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let dialect = [Dialect::Dbgeng, Dialect::DotnetDiagnostics, Dialect::Samply, Dialect::Clrmd][usize::from(sel % 4)];
    let opts = ParseOptions { dialect, ..Default::default() };
    let commands: Vec<Command> = if sel & 8 != 0 { text.lines().filter_map(|l| l.parse().ok()).collect() } else { Vec::new() };
    let exp = expand(Some(&text), &Environment::default(), &commands, &Defaults::default(), &opts, &NoFacts);
    let t = &exp.text;
    let ok = |s: sympath::Span| s.start <= s.end && s.end <= t.len() && t.is_char_boundary(s.start) && t.is_char_boundary(s.end);
    for e in &exp.path.elements {
        assert!(ok(e.span));
    }
    for d in &exp.path.diagnostics {
        assert!(ok(d.span));
        if let Some(f) = &d.fix {
            assert!(f.edits.iter().all(|e| ok(e.span)));
            let _ = f.apply(t);
        }
    }
    let canonical = exp.path.to_string();
    let again = sympath::parse_with(&canonical, &opts);
    let (mut a, mut b) = (serde_json::to_value(&exp.path.elements).unwrap(), serde_json::to_value(&again.elements).unwrap());
    strip(&mut a);
    strip(&mut b);
    assert_eq!(a, b, "canonical {canonical:?}");
    assert_eq!(again.to_string(), canonical);
    let _ = sympath::explain::explain(&exp);
    let _ = sympath::fix_all(&text, &opts);
});

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Other tools' readings (spec §0 modes), from the notes of the spec vectors.

mod common;

use serde_json::{json, Value};
use sympath::{parse_with, Dialect, ParseOptions};

fn elements(text: &str, dialect: Dialect) -> Value {
    common::model(&parse_with(text, &ParseOptions { dialect, ..Default::default() }).elements)
}

#[test]
fn p42_samply_reorders_urls_last() {
    assert_eq!(
        elements(r"srv*https://a.example/s*C:\cache", Dialect::Samply),
        json!([{"type":"chain","dll":"symsrv.dll","stores":[
            {"role":"downstream","kind":"dir","path":"C:\\cache"},
            {"role":"upstream","kind":"http","url":"https://a.example/s"}]}])
    );
}

#[test]
fn p53_samply_reads_the_url_as_dll_and_clrmd_as_server() {
    let url = "https://msdl.microsoft.com/download/symbols";
    assert_eq!(elements(&format!("symsrv*{url}"), Dialect::Samply), json!([{"type":"chain","dll":url,"stores":[]}]));
    assert_eq!(
        elements(&format!("symsrv*{url}"), Dialect::Clrmd),
        json!([{"type":"chain","dll":"symsrv.dll","stores":[{"role":"upstream","kind":"http","url":url}],"implicit_downstream":"default_downstream"}])
    );
    assert_eq!(elements(&format!("symsrv*{url}"), Dialect::Dbgeng)[0]["type"], "invalid");
}

#[test]
fn p56_keyword_without_star_per_tool() {
    assert_eq!(elements("srv", Dialect::Dbgeng), json!([{"type":"dir","path":"srv","form":"relative"}]));
    assert_eq!(elements("srv", Dialect::DotnetDiagnostics)[0]["type"], "invalid");
    assert_eq!(elements("srv", Dialect::Samply), json!([{"type":"chain","dll":"symsrv.dll","stores":[]}]));
    assert_eq!(elements("cache", Dialect::Samply), json!([]));
}

#[test]
fn p15_p65_samply_empties() {
    assert_eq!(
        elements(r";C:\a", Dialect::Samply),
        json!([{"type":"dir","path":"","form":"relative"},{"type":"dir","path":"C:\\a","form":"absolute"}])
    );
    assert_eq!(elements("cache*", Dialect::Samply), json!([{"type":"cache","path":""}]));
    assert_eq!(elements("cache*", Dialect::Dbgeng), json!([{"type":"cache","default":true}]));
}

#[test]
fn r19_sos_trailing_star_is_the_default_server() {
    assert_eq!(
        elements(r"srv*c:\sym*", Dialect::DotnetDiagnostics),
        json!([{"type":"chain","dll":"symsrv.dll","stores":[
            {"role":"downstream","kind":"dir","path":"c:\\sym"},
            {"role":"upstream","kind":"http","url":"https://msdl.microsoft.com/download/symbols","implicit":"default_symbol_server"}]}])
    );
}

#[test]
fn r33_cache_with_several_tokens_per_tool() {
    assert_eq!(elements(r"cache*C:\a*C:\b", Dialect::Dbgeng), json!([{"type":"cache","path":"C:\\a"}]));
    assert_eq!(
        elements(r"cache*C:\a*C:\b", Dialect::DotnetDiagnostics),
        json!([{"type":"cache","path":"C:\\a"},{"type":"cache","path":"C:\\b"}])
    );
}

#[test]
fn r11_symsrv_dll_name_is_case_insensitive() {
    assert_eq!(elements(r"symsrv*SymSrv.DLL*\\s\x", Dialect::Dbgeng)[0]["dll"], "symsrv.dll");
}

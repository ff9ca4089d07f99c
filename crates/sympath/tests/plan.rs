#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Lookup plans (spec §6, §12): order of probes, copies on a hit, URL safety.

use sympath::expand::{expand, Consumer, Defaults, Environment, NoFacts};
use sympath::identity::{FileKind, Identity};
use sympath::key::Variant;
use sympath::plan::{plan, Check, CopyForm, CopyReason, DirOrder, Fallback, FileRequest, LookupPlan, PlanOptions, Source, TierPolicy};
use sympath::url::StoreUrl;
use sympath::ParseOptions;

fn ntdll() -> FileRequest {
    FileRequest {
        kind: FileKind::Pdb,
        name: "ntdll.pdb".into(),
        identity: Identity::GuidAge { guid: "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE".parse().unwrap(), age: 2 },
        image_name: Some("ntdll.dll".into()),
    }
}

fn plan_of(path: &str, opts: PlanOptions) -> LookupPlan {
    let exp = expand(Some(path), &Environment::default(), &[], &Defaults::default(), &ParseOptions::default(), &NoFacts);
    plan(&exp, &ntdll(), &opts).unwrap()
}

fn one_tier() -> PlanOptions {
    PlanOptions { tiers: TierPolicy::OneTier, fallback: Fallback::None, ..Default::default() }
}

fn locations(p: &LookupPlan) -> Vec<&str> {
    p.probes.iter().map(|x| x.location.as_str()).collect()
}

#[test]
fn r36_r38_plain_directory_then_fallback() {
    let p = plan_of(r"C:\a", PlanOptions { fallback: Fallback::CurrentDir, ..Default::default() });
    assert_eq!(
        locations(&p),
        [r"C:\a\ntdll.pdb", r"C:\a\dll\ntdll.pdb", r"C:\a\symbols\dll\ntdll.pdb", r".\ntdll.pdb", r"..\dll\ntdll.pdb"]
    );
    let p = plan_of(r"C:\a", PlanOptions { dir_order: DirOrder::Documented, ..one_tier() });
    assert_eq!(locations(&p), [r"C:\a\symbols\dll\ntdll.pdb", r"C:\a\dll\ntdll.pdb", r"C:\a\ntdll.pdb"]);
}

#[test]
fn r66_variants_in_order_and_r84_urls() {
    let p = plan_of("srv*https://msdl.microsoft.com/download/symbols/", one_tier());
    let key = "ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2";
    assert_eq!(
        locations(&p),
        [
            format!("https://msdl.microsoft.com/download/symbols/{key}/ntdll.pdb"),
            format!("https://msdl.microsoft.com/download/symbols/{key}/ntdll.pd_"),
            format!("https://msdl.microsoft.com/download/symbols/{key}/file.ptr"),
        ]
    );
    assert_eq!(
        p.probes.iter().map(|x| x.variant).collect::<Vec<_>>(),
        [Some(Variant::Plain), Some(Variant::Compressed), Some(Variant::FilePtr)]
    );
}

#[test]
fn r20_r23_hit_is_copied_downstream_right_to_left_expanded_only_leftmost() {
    let p = plan_of(r"srv*C:\a*\\mid\s*https://h/s", one_tier());
    let upstream: Vec<_> = p.probes.iter().filter(|x| x.store == Some(2)).collect();
    assert_eq!(upstream.len(), 3);
    let copies = &upstream[0].on_hit;
    assert_eq!(copies.iter().map(|c| c.store.as_str()).collect::<Vec<_>>(), [r"\\mid\s", r"C:\a"]);
    assert_eq!(copies[0].form, CopyForm::AsFound);
    assert_eq!(copies[1].form, CopyForm::Expanded);
    // The left-most store copies nothing.
    assert!(p.probes.iter().filter(|x| x.store == Some(0)).all(|x| x.on_hit.is_empty()));
}

#[test]
fn r21_http_only_chain_uses_default_downstream_store() {
    let p = plan_of("srv*https://h/s", one_tier());
    let c = &p.probes[0].on_hit;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].store, Defaults::default().downstream_store);
    assert_eq!(c[0].reason, CopyReason::ImplicitDownstream);
    // A lone UNC store copies only compressed files into the DDS.
    let p = plan_of(r"srv*\\s\share", one_tier());
    assert!(p.probes.iter().all(|x| x.on_hit.len() == 1 && x.on_hit[0].only_if_compressed));
}

#[test]
fn r29_r31_cache_is_searched_first_and_receives_hits_from_the_right() {
    let p = plan_of(r"C:\left;cache*C:\c;\\share\s", one_tier());
    let sources: Vec<Source> = p.probes.iter().map(|x| x.source).collect();
    assert_eq!(sources[..3], [Source::Dir; 3]);
    assert!(p.probes[0].on_hit.is_empty(), "elements left of cache* are not cached (R29)");
    assert_eq!(sources[3], Source::Cache);
    assert_eq!(p.probes[3].location.as_str(), r"C:\c\ntdll.pdb\0F7FCF88442F4B0E9FB51DC4A754D9DE2\ntdll.pdb");
    let share = p.probes.iter().find(|x| x.location.as_str() == r"\\share\s\ntdll.pdb").unwrap();
    assert_eq!(share.on_hit[0].store, r"C:\c");
}

#[test]
fn r30_caches_accumulate() {
    let p = plan_of(r"cache*C:\c;cache*D:\d;\\share\s", one_tier());
    let last = p.probes.last().unwrap();
    assert_eq!(last.on_hit.iter().map(|c| c.store.as_str()).collect::<Vec<_>>(), [r"D:\d", r"C:\c"]);
}

#[test]
fn r54_index2_probe_carries_two_tier_alternatives() {
    let p = plan_of("srv*https://h/s", PlanOptions { fallback: Fallback::None, ..Default::default() });
    assert_eq!(p.probes[0].check, Check::Index2);
    assert_eq!(p.probes[0].location.as_str(), "https://h/s/index2.txt");
    assert_eq!(p.probes[1].two_tier.as_ref().unwrap().as_str(), "https://h/s/nt/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
}

#[test]
fn mirror_rewrites_http_stores_only() {
    let mirror = StoreUrl::parse("https://mirror.example/").unwrap();
    let p = plan_of(r"srv*C:\sym*https://msdl.microsoft.com/download/symbols", PlanOptions { mirror: Some(mirror), ..one_tier() });
    let urls: Vec<&str> = locations(&p).into_iter().filter(|l| l.starts_with("http")).collect();
    assert_eq!(urls[0], "https://mirror.example/ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pdb");
    assert!(locations(&p)[0].starts_with(r"C:\sym\"));
}

#[test]
fn r28_credentials_and_query_never_leak_into_urls() {
    let p = plan_of("srv*https://u:secret@h/s?sv=1", one_tier());
    for pr in &p.probes {
        let url = pr.location.as_str();
        assert!(!url.contains("secret"), "{url}");
        assert!(url.ends_with("?sv=1"), "key must precede the query: {url}");
    }
}

#[test]
fn r11_third_party_and_invalid_elements_are_skipped() {
    let p = plan_of(r"symsrv*other.dll*\\s\x;https://bare/url;C:\ok", one_tier());
    assert_eq!(p.skipped.len(), 2);
    assert!(locations(&p).iter().all(|l| l.starts_with(r"C:\ok")));
}

#[test]
fn r45_dbghelp_consumer_searches_current_dir_first_without_fallback() {
    let env = Environment {
        nt_symbol_path: Some(r"C:\nt".into()),
        alt_symbol_path: Some(r"C:\alt".into()),
        consumer: Consumer::Dbghelp,
        ..Default::default()
    };
    let exp = expand(None, &env, &[], &Defaults::default(), &ParseOptions::default(), &NoFacts);
    let p = plan(&exp, &ntdll(), &PlanOptions::default()).unwrap();
    let dirs: Vec<&str> = locations(&p).into_iter().filter(|l| l.ends_with(r"\ntdll.pdb") && !l.contains(r"\dll\")).collect();
    assert_eq!(dirs, [r".\ntdll.pdb", r"C:\nt\ntdll.pdb", r"C:\alt\ntdll.pdb"]);
    assert!(p.probes.iter().all(|x| x.source != Source::Fallback));
}

#[test]
fn r37_debug_files_without_image_have_no_ext_subdirs() {
    let exp = expand(Some(r"C:\a"), &Environment::default(), &[], &Defaults::default(), &ParseOptions::default(), &NoFacts);
    let mut req = ntdll();
    req.image_name = None;
    let p = plan(&exp, &req, &one_tier()).unwrap();
    assert_eq!(locations(&p), [r"C:\a\ntdll.pdb"]);
    req.kind = FileKind::Pe;
    req.name = "KERNELBASE.dll".into();
    req.identity = Identity::TimestampSize { timestamp: 0x59BF2BCF, size_of_image: 0x1A1000 };
    let p = plan(&exp, &req, &one_tier()).unwrap();
    assert_eq!(locations(&p)[1], r"C:\a\dll\KERNELBASE.dll");
}

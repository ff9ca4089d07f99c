//! Parse + expand with full validation, side by side with the `symsrv` crate's
//! `parse_nt_symbol_path` on the same inputs (BENCHMARKS.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sympath::expand::{expand, Defaults, Environment, ExpandedText, NoFacts};
use sympath::identity::{FileKind, Identity};
use sympath::key::RequestKey;
use sympath::{ParseOptions, StoreKey};
use sympath_bench::{big_path, vector_inputs};

/// Parse + expand into the borrowed model (every check, no owned strings).
fn sympath_full(text: &str, defaults: &Defaults) -> usize {
    let env = Environment::default();
    let t = ExpandedText::new(Some(text), &env, &[]);
    let exp = t.parse(defaults, &ParseOptions::default(), &NoFacts);
    exp.path.elements.len() + exp.path.diagnostics.len()
}

/// The same, converted to the owned model (what the CLI and wasm serialize).
fn sympath_owned(text: &str, defaults: &Defaults) -> usize {
    let exp = expand(Some(text), &Environment::default(), &[], defaults, &ParseOptions::default(), &NoFacts);
    exp.path.elements.len() + exp.path.diagnostics.len()
}

fn symsrv_parse(text: &str) -> usize {
    symsrv::parse_nt_symbol_path(text).len()
}

fn corpus(c: &mut Criterion) {
    let inputs = vector_inputs();
    let bytes: usize = inputs.iter().map(String::len).sum();
    let mut g = c.benchmark_group("vector corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    let d = Defaults::default();
    g.bench_function("sympath parse+expand", |b| b.iter(|| inputs.iter().map(|s| sympath_full(black_box(s), &d)).sum::<usize>()));
    g.bench_function("sympath parse+expand, owned", |b| b.iter(|| inputs.iter().map(|s| sympath_owned(black_box(s), &d)).sum::<usize>()));
    g.bench_function("symsrv parse_nt_symbol_path", |b| b.iter(|| inputs.iter().map(|s| symsrv_parse(black_box(s))).sum::<usize>()));
    g.finish();
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("path size");
    g.sample_size(10);
    let d = Defaults::default();
    for size in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
        let text = big_path(size);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("sympath parse+expand", size), &text, |b, t| b.iter(|| sympath_full(black_box(t), &d)));
        g.bench_with_input(BenchmarkId::new("sympath parse+expand, owned", size), &text, |b, t| b.iter(|| sympath_owned(black_box(t), &d)));
        g.bench_with_input(BenchmarkId::new("symsrv parse_nt_symbol_path", size), &text, |b, t| b.iter(|| symsrv_parse(black_box(t))));
    }
    g.finish();
}

fn keys(c: &mut Criterion) {
    let id = Identity::GuidAge { guid: "0F7FCF88-442F-4B0E-9FB5-1DC4A754D9DE".parse().unwrap(), age: 2 };
    c.bench_function("StoreKey::new + one_tier (pdb)", |b| {
        b.iter(|| StoreKey::new(FileKind::Pdb, black_box("ntdll.pdb"), black_box(&id)).unwrap().one_tier())
    });
    c.bench_function("RequestKey::parse", |b| {
        b.iter(|| RequestKey::parse(black_box("ntdll.pdb/0F7FCF88442F4B0E9FB51DC4A754D9DE2/ntdll.pd_")))
    });
}

criterion_group!(benches, corpus, scaling, keys);
criterion_main!(benches);

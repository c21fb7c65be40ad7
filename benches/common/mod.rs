//! What the benches share: the 1 KiB JSON body of the project's workloads, and the `memcpy` ceiling.
#![allow(dead_code)] // each bench uses what it needs

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;

/// A Dataverse-like account as exactly 1 KiB of JSON, numbered `n`.
pub(crate) fn json_body(n: usize) -> String {
    let mut s =
        format!("{{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"accountnumber\":\"{n:08}\",\"description\":\"");
    while s.len() < 1022 {
        s.push_str("lorem ipsum ");
    }
    s.truncate(1022);
    s.push_str("\"}");
    s
}

/// `memcpy_ceiling`: copying `len` bytes into a reused buffer, the upper bound a writer or reader of as many
/// bytes can approach.
pub(crate) fn memcpy_ceiling(g: &mut BenchmarkGroup<'_, WallTime>, len: usize) {
    let src = vec![0x5a_u8; len];
    let mut dst: Vec<u8> = Vec::with_capacity(len);
    g.bench_function("memcpy_ceiling", |b| {
        b.iter(|| {
            dst.clear();
            dst.extend_from_slice(black_box(&src));
            assert_eq!(dst.len(), len);
        })
    });
}

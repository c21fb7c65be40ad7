//! Reads (or with a second argument `write`, writes) a 1000-item JSON batch response many times (for
//! profilers). With `serde` as the second argument it reads the same document the way `benches/json.rs`'s
//! baseline does (serde_json into typed structs with `RawValue` bodies), to compare the two in one binary.
use odata_batch::BatchResponse;

#[path = "../benches/common/serde_typed.rs"]
mod serde_typed;
use serde_typed::TypedResponses;

fn main() {
    // The document of `benches/json.rs`: 1000 responses with a 1 KiB account each.
    let mut batch = BatchResponse::builder();
    for i in 0..1000 {
        let mut body = format!(
            "{{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"accountnumber\":\"{i:08}\",\"description\":\""
        );
        while body.len() < 1022 {
            body.push_str("lorem ipsum ");
        }
        body.truncate(1022);
        body.push_str("\"}");
        batch
            .respond(http::StatusCode::OK)
            .content_id(format!("{i}"))
            .header("Content-Type", "application/json; odata.metadata=minimal")
            .header("OData-Version", "4.0")
            .body(body);
    }
    let batch = batch.build().unwrap();
    let json = batch.to_json().unwrap();
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let mode = std::env::args().nth(2).unwrap_or_default();
    let run = |mode: &str, n: usize| {
        let start = std::time::Instant::now();
        let mut total = 0;
        for _ in 0..n {
            total += match mode {
                "write" => batch.to_json().unwrap().len(),
                "copy" => bytes::BytesMut::from(&json[..]).len(),
                "serde" => {
                    let doc: TypedResponses<'_> = serde_json::from_slice(&json).unwrap();
                    doc.responses.len()
                }
                _ => BatchResponse::from_json(&json).unwrap().items.len(),
            };
        }
        (total, start.elapsed().as_secs_f64() * 1e6 / n as f64)
    };
    if mode == "both" {
        // Alternating rounds, so that both see the same phases of a noisy machine.
        let (mut ours, mut serde) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            ours.push(run("", n / 20).1);
            serde.push(run("serde", n / 20).1);
        }
        ours.sort_by(f64::total_cmp);
        serde.sort_by(f64::total_cmp);
        eprintln!(
            "from_json {:.1} / {:.1} µs, serde typed {:.1} / {:.1} µs per document (least / median of 20 alternating rounds)",
            ours[0], ours[10], serde[0], serde[10]
        );
        return;
    }
    let (total, micros) = run(&mode, n);
    eprintln!("{mode:>5}: {micros:.1} µs per document");
    println!("{total}");
}

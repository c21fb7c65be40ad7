//! Encodes a 1000-operation request (or, with a second argument `resp`, a 1000-operation response) many times
//! into one reused buffer, or with `model` (`model-resp`) through `encode_with` (for profilers).
use bytes::BytesMut;
use odata_batch::{BatchEncoder, BatchRequest, BatchResponse, Boundary};

fn main() {
    let body = format!("{{\"description\":\"{}\"}}", "lorem ipsum ".repeat(84));
    let mut batch = BatchRequest::builder();
    for _ in 0..20 {
        let mut cs = batch.changeset();
        let first = cs
            .post("accounts")
            .header("Content-Type", "application/json;type=entry")
            .body(body.clone())
            .reference();
        for _ in 1..50 {
            cs.post(format!("{first}/contact_customer_accounts"))
                .header("Content-Type", "application/json;type=entry")
                .body(body.clone());
        }
    }
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mode = std::env::args().nth(2).unwrap_or_default();
    let batch = batch.build().unwrap();
    if mode == "model" {
        let mut options = odata_batch::EncodeOptions::new();
        options.seed(7);
        let total: usize = (0..n).map(|_| batch.encode_with(&options).unwrap().body.len()).sum();
        println!("{total}");
        return;
    }
    if mode.starts_with("resp") || mode == "model-resp" {
        let mut response = BatchResponse::builder();
        for _ in 0..1000 {
            response
                .respond(http::StatusCode::OK)
                .header("Content-Type", "application/json; odata.metadata=minimal")
                .header("OData-Version", "4.0")
                .body(body.clone());
        }
        let response = response.build().unwrap();
        if mode == "model-resp" {
            let mut options = odata_batch::EncodeOptions::new();
            options.seed(7);
            let total: usize = (0..n).map(|_| response.encode_with(&options).unwrap().body.len()).sum();
            println!("{total}");
            return;
        }
        let mut out = BytesMut::with_capacity(2 << 20);
        let mut total = 0;
        for _ in 0..n {
            out.clear();
            let mut e = BatchEncoder::new(boundaries_0());
            for item in &response.items {
                e.response(&mut out, item).unwrap();
            }
            e.finish(&mut out).unwrap();
            total += out.len();
        }
        println!("{total}");
        return;
    }
    let boundaries: Vec<Boundary> = (0..21)
        .map(|i| Boundary::new(format!("b{i:02}_0123456789abcdef0123456789abcdef")).unwrap())
        .collect();
    let mut out = BytesMut::with_capacity(2 << 20);
    let mut total = 0;
    for _ in 0..n {
        out.clear();
        let mut e = BatchEncoder::new(boundaries[0].clone());
        for (c, chunk) in batch.items.chunks(50).enumerate() {
            e.begin_changeset(&mut out, &boundaries[c + 1]).unwrap();
            for item in chunk {
                e.request(&mut out, item).unwrap();
            }
            e.end_changeset(&mut out).unwrap();
        }
        e.finish(&mut out).unwrap();
        total += out.len();
    }
    println!("{total}");
}

fn boundaries_0() -> Boundary {
    Boundary::new("b00_0123456789abcdef0123456789abcdef").unwrap()
}

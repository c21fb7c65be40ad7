//! Encodes a 1000-operation request many times into one reused buffer (for profilers).
use bytes::BytesMut;
use odata_batch::{BatchEncoder, BatchRequest, Boundary};

fn main() {
    let body = format!("{{\"description\":\"{}\"}}", "lorem ipsum ".repeat(84));
    let mut batch = BatchRequest::new();
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

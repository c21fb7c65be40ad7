//! Reads (or with a second argument `write`, writes) a 1000-item JSON batch response many times (for
//! profilers).
use odata_batch::BatchResponse;

fn main() {
    let body = format!("{{\"description\":\"{}\"}}", "lorem ipsum ".repeat(84));
    let mut batch = BatchResponse::builder();
    for i in 0..1000 {
        batch
            .respond(http::StatusCode::OK)
            .content_id(format!("{i}"))
            .header("Content-Type", "application/json; odata.metadata=minimal")
            .header("OData-Version", "4.0")
            .body(body.clone());
    }
    let batch = batch.build().unwrap();
    let json = batch.to_json().unwrap();
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let write = std::env::args().nth(2).as_deref() == Some("write");
    let mut total = 0;
    for _ in 0..n {
        total += if write {
            batch.to_json().unwrap().len()
        } else {
            BatchResponse::from_json(&json).unwrap().items.len()
        };
    }
    println!("{total}");
}

//! Sends a batch of GETs to an OData service and prints what came back, with the `client` feature.
//!
//! ```sh
//! cargo run --example send_batch --features client -- https://services.odata.org/V4/TripPinServiceRW People Airlines
//! ```
//!
//! Each argument after the service root is an entity set, read with `$top=2`. Set `ODATA_TOKEN` to send an
//! `Authorization: Bearer` header (Dataverse, SharePoint).

use odata_batch::client::BatchClient;
use odata_batch::BatchRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: send_batch SERVICE_ROOT [ENTITY_SET...]");
        std::process::exit(2);
    };
    let sets: Vec<String> = args.collect();
    let mut client = BatchClient::new(&root);
    if let Ok(token) = std::env::var("ODATA_TOKEN") {
        if let Err(e) = client.header("authorization", &format!("Bearer {token}")) {
            eprintln!("ODATA_TOKEN: {e}");
            std::process::exit(2);
        }
    }
    let mut batch = BatchRequest::builder();
    if sets.is_empty() {
        batch.get("$metadata");
    }
    for set in &sets {
        batch.get(format!("{set}?$top=2")).header("Accept", "application/json");
    }
    let batch = batch.build().unwrap();
    let mut responses = match client.send_streaming(&batch).await {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("send_batch: {e}");
            std::process::exit(3);
        }
    };
    // Responses print as they arrive.
    let mut n = 0;
    while let Some(item) = responses.next().await {
        match item {
            Ok(item) => {
                let body = String::from_utf8_lossy(&item.body);
                let shown: String = body.chars().take(200).collect();
                println!(
                    "{} {} ({} bytes): {shown}",
                    batch.items[n].url,
                    item.status,
                    item.body.len()
                );
                n += 1;
            }
            Err(e) => {
                eprintln!("send_batch: {e}");
                std::process::exit(3);
            }
        }
    }
}

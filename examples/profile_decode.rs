//! Decodes a generated 1000-operation request (or, with a second argument `json`, a response with 1 KiB JSON
//! bodies; `204`, 1000 responses 204 with Location and OData-EntityId; `changesets`, the request of benches/peers.rs) many times (for profilers); a third argument `model` decodes into the owned model, `chunks` streams 64 KiB chunks, `bytes` the same chunks as `Bytes` through `ChunkedInput`.
use bytes::Bytes;
use odata_batch::{BatchDecoder, Event};

#[path = "../benches/common/payloads.rs"]
#[allow(dead_code)] // the other payloads and fields are the bench's
mod payloads;

fn main() {
    let rb = "batch_3f1e2d4c-5b6a-4789-9a0b-1c2d3e4f5a6b";
    let cs = "changeset_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    let mut s = String::new();
    let mut id = 0;
    for _ in 0..20 {
        s.push_str(&format!(
            "--{rb}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n"
        ));
        for k in 0..25 {
            id += 1;
            let target = if k == 0 {
                "accounts".to_string()
            } else {
                format!("${}/contacts", id - k)
            };
            s.push_str(&format!("--{cs}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {id}\r\n\r\nPOST {target} HTTP/1.1\r\nContent-Type: application/json;type=entry\r\n\r\n{{\"a\":\"{}\"}}\r\n", "x".repeat(240)));
        }
        s.push_str(&format!("--{cs}--\r\n"));
    }
    for i in 0..500 {
        s.push_str(&format!("--{rb}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts({i})?$select=name HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n"));
    }
    s.push_str(&format!("--{rb}--\r\n"));
    if std::env::args().nth(2).as_deref() == Some("json") {
        s.clear();
        for i in 0..1000 {
            s.push_str(&format!("--{rb}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n{{\"id\":{i},\"d\":\"{}\"}}\r\n", "lorem ipsum ".repeat(83)));
        }
        s.push_str(&format!("--{rb}--\r\n"));
    }
    if std::env::args().nth(2).as_deref() == Some("204") {
        s.clear();
        for i in 0..1000 {
            let url = format!("https://org.crm.dynamics.com/api/data/v9.2/accounts(00000000-0000-0000-0000-{i:012})");
            s.push_str(&format!("--{rb}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\nLocation: {url}\r\nOData-EntityId: {url}\r\n\r\n\r\n"));
        }
        s.push_str(&format!("--{rb}--\r\n"));
    }
    // `changesets`: the request of benches/peers.rs (20 changesets of 50 POSTs with Content-IDs and `$n`
    // references, 256-byte JSON bodies), from the bench's own generator.
    let rb = if std::env::args().nth(2).as_deref() == Some("changesets") {
        let request = payloads::payloads()
            .into_iter()
            .find(|p| p.name == "request_changesets")
            .expect("the bench's request payload");
        s = String::from_utf8(request.bytes).expect("generated as text");
        request.boundaries[0]
    } else {
        rb
    };
    let input = Bytes::from(s);
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let mut total = 0;
    // With a third argument `model`, the owned model: `BatchRequest` / `BatchResponse::decode`.
    if std::env::args().nth(3).as_deref() == Some("model") {
        let ct = format!("multipart/mixed; boundary={rb}");
        for _ in 0..n {
            total += if matches!(std::env::args().nth(2).as_deref(), Some("json" | "204")) {
                odata_batch::BatchResponse::decode(&ct, input.clone())
                    .unwrap()
                    .items
                    .len()
            } else {
                odata_batch::BatchRequest::decode(&ct, input.clone())
                    .unwrap()
                    .items
                    .len()
            };
        }
        println!("{total}");
        return;
    }
    // With a third argument `chunks`, the input in 64 KiB chunks through `decode` (a streaming reader).
    if std::env::args().nth(3).as_deref() == Some("chunks") {
        for _ in 0..n {
            let mut d = BatchDecoder::new(rb).unwrap();
            let mut buf = bytes::BytesMut::with_capacity(128 * 1024);
            for piece in input.chunks(64 * 1024) {
                buf.extend_from_slice(piece);
                while let Some(e) = d.decode(&mut buf).unwrap() {
                    total += usize::from(e == Event::End);
                }
            }
            while let Some(e) = d.decode_eof(&mut buf).unwrap() {
                total += usize::from(e == Event::End);
            }
        }
        println!("{total}");
        return;
    }
    // With a third argument `bytes`, the same 64 KiB chunks as `Bytes` through `ChunkedInput` (no copy).
    if std::env::args().nth(3).as_deref() == Some("bytes") {
        for _ in 0..n {
            let mut d = BatchDecoder::new(rb).unwrap();
            let mut queue = odata_batch::ChunkedInput::new();
            let mut at = 0;
            while at < input.len() {
                let end = (at + 64 * 1024).min(input.len());
                queue.push(input.slice(at..end));
                at = end;
                while let Some(e) = d.decode_chunked(&mut queue).unwrap() {
                    total += usize::from(e == Event::End);
                }
            }
            while let Some(e) = d.decode_chunked_eof(&mut queue).unwrap() {
                total += usize::from(e == Event::End);
            }
        }
        println!("{total}");
        return;
    }
    for _ in 0..n {
        let mut d = BatchDecoder::new(rb).unwrap();
        let mut rest = input.clone();
        while let Some(e) = d.decode_complete(&mut rest).unwrap() {
            total += usize::from(e == Event::End);
        }
    }
    println!("{total}");
}

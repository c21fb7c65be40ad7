//! `ItemCodec` on arbitrary bytes fed in chunks, both roles, multipart and JSON: the operations it yields, or
//! its failure, must be those of one-shot decoding (`decode` / `from_json`, the oracle). Nothing may panic.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use odata_batch::{BatchRequest, BatchResponse, ItemCodec, Operation, RequestItem, ResponseItem};
use tokio_util::codec::Decoder;

fn run<O: Operation>(content_type: &str, data: &[u8], size: usize) -> Result<Vec<O>, String> {
    let mut codec = ItemCodec::<O>::from_content_type(content_type).unwrap();
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    for chunk in data.chunks(size) {
        buf.extend_from_slice(chunk);
        while let Some(item) = codec.decode(&mut buf).map_err(|e| e.to_string())? {
            items.push(item);
        }
    }
    while let Some(item) = codec.decode_eof(&mut buf).map_err(|e| e.to_string())? {
        items.push(item);
        assert!(items.len() <= data.len() + 1, "decode_eof does not end");
    }
    Ok(items)
}

fn agree<O: Operation>(codec: Result<Vec<O>, String>, oracle: Result<Vec<O>, String>) {
    match (codec, oracle) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the codec and one-shot decoding differ"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("the codec says {:?}, one-shot decoding {:?}", a.map(|v| v.len()), b.map(|v| v.len())),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let size = usize::from(first >> 2) % 64 + 1;
    let json = first & 2 != 0;
    let content_type = if json { "application/json" } else { "multipart/mixed; boundary=batch_1" };
    if first & 1 == 0 {
        let oracle = if json {
            BatchRequest::from_json(data).map(|b| b.items).map_err(|e| e.to_string())
        } else {
            BatchRequest::decode(content_type, data.to_vec()).map(|b| b.items).map_err(|e| e.to_string())
        };
        agree::<RequestItem>(run(content_type, data, size), oracle);
    } else {
        let oracle = if json {
            BatchResponse::from_json(data).map(|b| b.items).map_err(|e| e.to_string())
        } else {
            BatchResponse::decode(content_type, data.to_vec()).map(|b| b.items).map_err(|e| e.to_string())
        };
        agree::<ResponseItem>(run(content_type, data, size), oracle);
    }
});

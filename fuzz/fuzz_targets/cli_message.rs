//! The captured-HTTP-message reader the CLI's `decode` uses, on arbitrary bytes: never a panic; an error has an
//! offset inside the input; a body framed by length or taken whole is a slice of the input; and whatever it
//! yields goes on through the batch readers as the CLI sends it, which must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odata_batch::capture::CapturedMessage;
use odata_batch::{BatchFormat, BatchRequest, BatchResponse};

fuzz_target!(|input: &[u8]| {
    match CapturedMessage::parse(input.to_vec()) {
        Err(e) => {
            assert!(e.offset() <= input.len(), "offset {} past the input", e.offset());
            let _ = e.to_string();
        }
        Ok(message) => {
            assert!(message.body.len() <= input.len());
            let Some(ct) = message.content_type else { return };
            if BatchFormat::from_content_type(&ct) == Some(BatchFormat::Json) {
                let _ = BatchResponse::from_json(&message.body);
                let _ = BatchRequest::from_json(&message.body);
            } else if message.is_request {
                if let Ok(batch) = BatchRequest::decode(&ct, message.body) {
                    let _ = batch.to_json();
                }
            } else if let Ok(batch) = BatchResponse::decode(&ct, message.body) {
                let _ = batch.to_json();
            }
        }
    }
});

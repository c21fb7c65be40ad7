//! Arbitrary bytes, one chunk, lenient and strict: never a panic, every call makes progress, bodies never
//! exceed the input, and the end of input is either Finished or an error.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use odata_batch::{BatchDecoder, Event, Leniency};

fuzz_target!(|data: &[u8]| {
    for leniency in [Leniency::lenient(), Leniency::strict()] {
        let mut decoder = BatchDecoder::builder().leniency(leniency).build("batch_1").unwrap();
        let mut buf = BytesMut::from(data);
        let mut body_bytes = 0usize;
        let mut finished = false;
        // Each event consumes input or is one of at most three that follow a delimiter.
        for _ in 0..(4 * data.len() + 8) {
            match decoder.decode_eof(&mut buf) {
                Ok(Some(Event::Body(b))) => {
                    body_bytes += b.len();
                    assert!(body_bytes <= data.len());
                }
                Ok(Some(Event::Finished)) => finished = true,
                Ok(Some(_)) => {}
                Ok(None) => {
                    assert!(finished, "decode_eof ended without Finished");
                    break;
                }
                Err(e) => {
                    assert!(e.offset() <= data.len() as u64);
                    // The decoder stays failed.
                    assert_eq!(decoder.decode_eof(&mut buf), Err(e));
                    break;
                }
            }
        }
    }
});

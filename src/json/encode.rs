//! The JSON batch format with the outer headers to send: `encode_json`.

use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::HeaderMap;

use super::{JsonError, JsonErrorKind};
use crate::builder::{ContinueOnError, EncodeOptions, EncodedBatch};
use crate::model::{BatchRequest, BatchResponse};

/// The outer headers of a JSON batch.
fn json_headers(options: &EncodeOptions) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("odata-version", HeaderValue::from_static("4.01"));
    headers.insert("odata-maxversion", HeaderValue::from_static("4.01"));
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    // Explicit either way: the JSON format's own default is to continue. The `odata.` form, which OData 4.01
    // services accept too, because SAP CAP knows only that one (tests/interop.rs).
    let prefer = match options.continue_on_error_form() {
        Some(ContinueOnError::OData40) => "odata.continue-on-error",
        Some(ContinueOnError::OData401) => "continue-on-error",
        None => "odata.continue-on-error=false",
    };
    headers.insert("prefer", HeaderValue::from_static(prefer));
    headers
}

impl BatchRequest {
    /// Encodes as an OData 4.01 JSON batch ([`to_json`](Self::to_json)) with the outer headers to send:
    /// `Content-Type: application/json`, `OData-Version: 4.01`, `Accept: application/json`, and `Prefer`
    /// stating continue-on-error explicitly. Of `options`, only `continue_on_error` and `max_operations` apply.
    ///
    /// # Errors
    ///
    /// [`JsonError`] when the batch breaks a rule of the JSON format, or has more operations than
    /// `max_operations` allows ([`JsonErrorKind::TooManyOperations`]).
    ///
    /// # Example
    ///
    /// ```
    /// use odata_batch::{BatchRequest, EncodeOptions};
    ///
    /// let mut batch = BatchRequest::builder();
    /// batch.get("People");
    /// let batch = batch.build().unwrap();
    /// let encoded = batch.encode_json(&EncodeOptions::new()).unwrap();
    /// assert_eq!(encoded.content_type, "application/json");
    /// assert_eq!(encoded.headers["prefer"], "odata.continue-on-error=false");
    /// assert_eq!(&encoded.body[..], br#"{"requests":[{"id":"1","method":"GET","url":"People","headers":{}}]}"#);
    /// ```
    pub fn encode_json(&self, options: &EncodeOptions) -> Result<EncodedBatch, JsonError> {
        let max = options.max_operations_value();
        if self.items.len() > max {
            return Err(JsonError::new(
                JsonErrorKind::TooManyOperations { max },
                Some(max),
                None,
            ));
        }
        Ok(EncodedBatch {
            content_type: "application/json".into(),
            body: self.to_json()?,
            headers: json_headers(options),
        })
    }
}

impl BatchResponse {
    /// Encodes as an OData 4.01 JSON batch response ([`to_json`](Self::to_json)) with `Content-Type:
    /// application/json` and `OData-Version: 4.01`.
    ///
    /// # Errors
    ///
    /// [`JsonError`] when the batch breaks a rule of the JSON format.
    pub fn encode_json(&self) -> Result<EncodedBatch, JsonError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("odata-version", HeaderValue::from_static("4.01"));
        Ok(EncodedBatch {
            content_type: "application/json".into(),
            body: self.to_json()?,
            headers,
        })
    }
}

//! Reading a whole captured HTTP message: start line, headers, blank line, body.

use bytes::Bytes;

/// The parts of a captured message that `decode` needs.
pub(crate) struct Message {
    /// The message is a request (`POST .../$batch HTTP/1.1`), not a response.
    pub(crate) is_request: bool,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

/// Splits a captured HTTP/1.x message. Accepts CRLF or LF line ends; de-chunks a chunked body.
pub(crate) fn parse(input: &[u8]) -> Result<Message, String> {
    let mut pos = 0;
    let next_line = |pos: &mut usize| -> Result<(usize, Vec<u8>), String> {
        let start = *pos;
        let Some(nl) = input[start..].iter().position(|&b| b == b'\n') else {
            return Err(format!(
                "captured message: no end of headers (blank line) after byte {start}"
            ));
        };
        *pos = start + nl + 1;
        let mut line = &input[start..start + nl];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        Ok((start, line.to_vec()))
    };
    let (_, start_line) = next_line(&mut pos)?;
    let is_request = if start_line.starts_with(b"HTTP/") {
        false
    } else if start_line.windows(6).any(|w| w == b" HTTP/") {
        true
    } else {
        return Err(format!(
            "captured message: the first line is not an HTTP request or status line: {:?} (pass --content-type for a bare body)",
            String::from_utf8_lossy(&start_line)
        ));
    };
    let mut content_type = None;
    let mut chunked = false;
    loop {
        let (at, line) = next_line(&mut pos)?;
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(format!("captured message: header line without a colon at byte {at}"));
        };
        let name = String::from_utf8_lossy(&line[..colon]).trim().to_ascii_lowercase();
        let value = String::from_utf8_lossy(&line[colon + 1..]).trim().to_owned();
        match name.as_str() {
            "content-type" => content_type = Some(value),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().split(',').any(|t| t.trim() == "chunked"),
            _ => {}
        }
    }
    let body = if chunked {
        dechunk(input, pos)?
    } else {
        Bytes::copy_from_slice(&input[pos..])
    };
    Ok(Message {
        is_request,
        content_type,
        body,
    })
}

/// Decodes a `Transfer-Encoding: chunked` body starting at `pos`.
fn dechunk(input: &[u8], mut pos: usize) -> Result<Bytes, String> {
    let mut out = Vec::with_capacity(input.len() - pos);
    loop {
        let Some(nl) = input[pos..].iter().position(|&b| b == b'\n') else {
            return Err(format!("chunked body: chunk size line not terminated at byte {pos}"));
        };
        let line = String::from_utf8_lossy(&input[pos..pos + nl]);
        let size_text = line
            .trim_end_matches('\r')
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let size = usize::from_str_radix(&size_text, 16)
            .map_err(|_| format!("chunked body: invalid chunk size {size_text:?} at byte {pos}"))?;
        pos += nl + 1;
        if size == 0 {
            return Ok(Bytes::from(out));
        }
        let end = pos.checked_add(size).filter(|&e| e <= input.len()).ok_or_else(|| {
            format!("chunked body: a chunk of {size} bytes at byte {pos} runs past the end of the input")
        })?;
        out.extend_from_slice(&input[pos..end]);
        pos = end;
        // The chunk's own line break.
        if input[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if input[pos..].starts_with(b"\n") {
            pos += 1;
        } else {
            return Err(format!(
                "chunked body: missing line break after the chunk ending at byte {pos}"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_response_with_chunked_body() {
        let msg = parse(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap();
        assert!(!msg.is_request);
        assert_eq!(msg.content_type.as_deref(), Some("multipart/mixed; boundary=b"));
        assert_eq!(&msg.body[..], b"abcde");
    }

    #[test]
    fn captured_request() {
        let msg = parse(b"POST /odata/$batch HTTP/1.1\nContent-Type: x/y\n\nbody").unwrap();
        assert!(msg.is_request);
        assert_eq!(&msg.body[..], b"body");
    }

    #[test]
    fn bad_messages() {
        assert!(parse(b"garbage\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}

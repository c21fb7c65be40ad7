//! Memory: a 100 MB batch response streamed from a local server through the client keeps the process's
//! peak resident memory under 32 MB. This test binary is its own process, so `VmHWM` (the peak resident set)
//! from `/proc/self/status` measures just this: the server, which generates the body on the fly, and the
//! client, which decodes it as it arrives.
#![cfg(all(feature = "client", target_os = "linux"))]

use odata_batch::client::BatchClient;
use odata_batch::BatchRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PARTS: usize = 100_000;

fn part(i: usize) -> Vec<u8> {
    let body = format!("{{\"n\":{i:08},\"text\":\"{}\"}}", "x".repeat(980));
    format!(
        "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Answers one request with a chunked multipart response of `PARTS` parts (about 1.1 KB each).
async fn serve(listener: tokio::net::TcpListener) {
    let (mut socket, _) = listener.accept().await.unwrap();
    // Read the request head and body (the client sends Content-Length).
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        request.extend_from_slice(&buf[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    let mut chunk = Vec::with_capacity(70_000);
    for i in 0..PARTS {
        chunk.extend_from_slice(&part(i));
        if chunk.len() > 64 * 1024 || i + 1 == PARTS {
            if i + 1 == PARTS {
                chunk.extend_from_slice(b"--r--\r\n");
            }
            socket
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await
                .unwrap();
            socket.write_all(&chunk).await.unwrap();
            socket.write_all(b"\r\n").await.unwrap();
            chunk.clear();
        }
    }
    socket.write_all(b"0\r\n\r\n").await.unwrap();
}

fn peak_resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_100_mb_response_streams_in_bounded_memory() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}/svc", listener.local_addr().unwrap());
    let server = tokio::spawn(serve(listener));
    let client = BatchClient::new(&root);
    let mut batch = BatchRequest::builder();
    batch.get("Big");
    let batch = batch.build().unwrap();
    let mut stream = client.send_streaming(&batch).await.unwrap();
    let (mut items, mut bytes, mut most_buffered) = (0usize, 0usize, 0usize);
    while let Some(item) = stream.next().await {
        let item = item.unwrap();
        assert!(item.body.starts_with(format!("{{\"n\":{items:08},").as_bytes()));
        items += 1;
        bytes += item.body.len();
        most_buffered = most_buffered.max(stream.buffered());
    }
    server.await.unwrap();
    assert_eq!(items, PARTS);
    assert!(bytes > 100_000_000, "{bytes} body bytes");
    let peak = peak_resident_kib();
    eprintln!(
        "streamed {items} responses, {bytes} body bytes; at most {most_buffered} bytes buffered; peak resident {peak} KiB"
    );
    assert!(peak < 32 * 1024, "peak resident memory {peak} KiB");
}

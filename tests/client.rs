//! `BatchClient` against a loopback server that misbehaves on purpose: redirects, a query-string service root,
//! silence and dribbling (timeouts), 429 and 503 with `Retry-After` (retries, counted), a reset mid-response,
//! an answer that is not a batch, a refused connection. Each test asserts the error variant and what the
//! server received.
#![cfg(feature = "client")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use odata_batch::client::{BatchClient, ClientError};
use odata_batch::BatchRequest;

/// What the server does with one connection.
enum Behaviour {
    /// Reads the request and writes these bytes.
    Answer(Vec<u8>),
    /// Reads the request and says nothing for this long.
    Silent(Duration),
    /// Reads the request, then sends a response head and one body byte a second, this many.
    Dribble(usize),
    /// Reads the request, writes these bytes and closes the connection (the response is incomplete).
    Cut(Vec<u8>),
    /// Reads the request, writes these bytes and resets the connection (TCP RST).
    Reset(Vec<u8>),
    /// Reads the request and writes these bytes in pieces of this many, 2 ms apart (the client reads many
    /// chunks, cut anywhere).
    Pieces(Vec<u8>, usize),
}

/// A server on 127.0.0.1 that treats each connection with the next behaviour and returns the request heads
/// and bodies it read.
fn serve(behaviours: Vec<Behaviour>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let root = format!("http://{}/svc", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        for behaviour in behaviours {
            let (mut stream, _) = listener.accept().unwrap();
            requests.push(read_request(&stream));
            match behaviour {
                Behaviour::Answer(bytes) => {
                    let _ = stream.write_all(&bytes);
                }
                Behaviour::Silent(d) => std::thread::sleep(d),
                Behaviour::Dribble(n) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {n}\r\n\r\n"
                    );
                    let _ = stream.write_all(head.as_bytes());
                    for _ in 0..n {
                        if stream.write_all(b"-").is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
                Behaviour::Pieces(bytes, n) => {
                    stream.set_nodelay(true).unwrap();
                    for piece in bytes.chunks(n) {
                        if stream.write_all(piece).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                Behaviour::Cut(bytes) => {
                    let _ = stream.write_all(&bytes);
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                Behaviour::Reset(bytes) => {
                    let _ = stream.write_all(&bytes);
                    std::thread::sleep(Duration::from_millis(50));
                    // Closing with a zero linger time sends RST instead of FIN.
                    socket2::SockRef::from(&stream)
                        .set_linger(Some(Duration::ZERO))
                        .unwrap();
                    drop(stream);
                }
            }
        }
        requests
    });
    (root, handle)
}

fn read_request(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut text = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        text.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    text.push_str(&String::from_utf8_lossy(&body));
    text
}

fn answer(status: &str, headers: &str, body: &str) -> Behaviour {
    Behaviour::Answer(
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

const BATCH_RESPONSE: &str = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"value\":[]}\r\n--r--\r\n";

fn ok() -> Behaviour {
    answer(
        "200 OK",
        "Content-Type: multipart/mixed; boundary=r\r\n",
        BATCH_RESPONSE,
    )
}

fn batch() -> BatchRequest {
    let mut b = BatchRequest::builder();
    b.get("People");
    b.build().unwrap()
}

fn send(client: &BatchClient) -> Result<odata_batch::BatchResponse, ClientError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.send(&batch()))
}

#[test]
fn a_redirect_is_an_error_naming_the_location_and_is_not_followed() {
    for (status, location) in [
        ("302 Found", "/other/$batch"),
        ("307 Temporary Redirect", "http://127.0.0.1:9/svc/$batch"),
        ("301 Moved Permanently", "https://elsewhere.example/svc/$batch"),
    ] {
        let (root, server) = serve(vec![answer(status, &format!("Location: {location}\r\n"), "")]);
        match send(&BatchClient::new(&root)) {
            Err(ClientError::Redirect { status: s, location: l }) => {
                assert_eq!(s.as_u16(), status[..3].parse::<u16>().unwrap());
                assert_eq!(l.as_deref(), Some(location));
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(server.join().unwrap().len(), 1, "{status}: followed");
    }
}

#[test]
fn a_redirect_followed_by_the_applications_own_client_is_still_an_error() {
    let (other, other_server) = serve(vec![ok()]);
    let (root, server) = serve(vec![answer(
        "307 Temporary Redirect",
        &format!("Location: {other}/$batch\r\n"),
        "",
    )]);
    // reqwest's default client follows redirects; a 307 keeps the POST and its body.
    let client = BatchClient::with_http_client(reqwest::Client::new(), &root);
    match send(&client) {
        Err(ClientError::Redirect { status, location }) => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(location.as_deref(), Some(&*format!("{other}/$batch")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap().len(), 1);
    assert_eq!(other_server.join().unwrap().len(), 1);
}

#[test]
fn a_query_string_on_the_service_root_stays_after_batch() {
    let (root, server) = serve(vec![ok()]);
    let client = BatchClient::new(&format!("{root}?sap-client=100"));
    assert_eq!(send(&client).unwrap().items.len(), 1);
    let requests = server.join().unwrap();
    assert!(
        requests[0].starts_with("POST /svc/$batch?sap-client=100 HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
}

#[test]
fn a_silent_or_dribbling_server_times_out() {
    for behaviour in [Behaviour::Silent(Duration::from_secs(5)), Behaviour::Dribble(10)] {
        let (root, server) = serve(vec![behaviour]);
        let mut client = BatchClient::new(&root);
        client.timeout(Some(Duration::from_secs(1)));
        match send(&client) {
            Err(e @ ClientError::Timeout(_)) => assert!(e.to_string().starts_with("timed out"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(server.join().unwrap().len(), 1);
    }
}

#[test]
fn a_429_with_retry_after_is_sent_again_after_the_wait() {
    let throttled = answer(
        "429 Too Many Requests",
        "Retry-After: 1\r\nContent-Type: application/json\r\n",
        r#"{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}"#,
    );
    let (root, server) = serve(vec![throttled, ok()]);
    let response = send(&BatchClient::new(&root)).unwrap();
    assert_eq!(response.items.len(), 1);
    let requests = server.join().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0], requests[1], "the same batch, byte for byte");
}

#[test]
fn a_503_with_retry_after_is_retried_but_not_one_without() {
    let (root, server) = serve(vec![answer("503 Service Unavailable", "Retry-After: 0\r\n", ""), ok()]);
    assert!(send(&BatchClient::new(&root)).is_ok());
    assert_eq!(server.join().unwrap().len(), 2);

    let (root, server) = serve(vec![answer("503 Service Unavailable", "", "down")]);
    match send(&BatchClient::new(&root)) {
        Err(ClientError::Status { status, .. }) => assert_eq!(status.as_u16(), 503),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap().len(), 1);
}

#[test]
fn a_429_forever_gives_up_within_the_bounds() {
    let throttled = || answer("429 Too Many Requests", "Retry-After: 0\r\n", "");
    // Bounded by the count: 1 + 2 retries.
    let (root, server) = serve(vec![throttled(), throttled(), throttled()]);
    let mut client = BatchClient::new(&root);
    client.retries(2);
    match send(&client) {
        Err(ClientError::GaveUp { attempts, last, .. }) => {
            assert_eq!(attempts, 3);
            assert!(matches!(*last, ClientError::Status { status, .. } if status.as_u16() == 429));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap().len(), 3);

    // Bounded by the wait: a service that asks for more than is left is not waited for.
    let slow = || answer("429 Too Many Requests", "Retry-After: 1\r\n", "");
    let (root, server) = serve(vec![slow(), slow()]);
    let mut client = BatchClient::new(&root);
    client.retries(10).max_retry_wait(Duration::from_millis(1500));
    match send(&client) {
        Err(ClientError::GaveUp { attempts, waited, .. }) => {
            assert_eq!((attempts, waited), (2, Duration::from_secs(1)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap().len(), 2);

    // A wait too long to add to the time already waited: given up, not an overflow.
    let (root, server) = serve(vec![
        answer("429 Too Many Requests", "Retry-After: 1\r\n", ""),
        answer("429 Too Many Requests", "Retry-After: 18446744073709551615\r\n", ""),
    ]);
    match send(&BatchClient::new(&root)) {
        Err(ClientError::GaveUp { attempts, .. }) => assert_eq!(attempts, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap().len(), 2);

    // No retries at all when asked: the first answer is the error.
    let (root, server) = serve(vec![throttled()]);
    let mut client = BatchClient::new(&root);
    client.retries(0);
    assert!(matches!(send(&client), Err(ClientError::GaveUp { attempts: 1, .. })));
    assert_eq!(server.join().unwrap().len(), 1);
}

#[test]
fn a_response_cut_or_reset_mid_body_is_an_error_never_a_shorter_batch() {
    let full = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {}\r\n\r\n{BATCH_RESPONSE}",
        BATCH_RESPONSE.len()
    );
    let cut = full.as_bytes()[..full.len() - 20].to_vec();
    for behaviour in [Behaviour::Cut(cut.clone()), Behaviour::Reset(cut)] {
        let (root, server) = serve(vec![behaviour]);
        match send(&BatchClient::new(&root)) {
            Err(ClientError::Http(_) | ClientError::Decode(_)) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(server.join().unwrap().len(), 1, "a cut response is not retried");
    }
}

#[test]
fn a_success_that_is_not_a_batch_is_a_status_error() {
    let (root, server) = serve(vec![answer(
        "200 OK",
        "Content-Type: text/html\r\n",
        "<html>login</html>",
    )]);
    match send(&BatchClient::new(&root)) {
        Err(ClientError::Status {
            status,
            content_type,
            body,
            ..
        }) => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(content_type.as_deref(), Some("text/html"));
            assert_eq!(&body[..], b"<html>login</html>");
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}

#[test]
fn a_refused_connection_names_its_cause() {
    // A port nothing listens on: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = send(&BatchClient::new(&format!("http://127.0.0.1:{port}/svc"))).unwrap_err();
    assert!(matches!(err, ClientError::Http(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.to_ascii_lowercase().contains("connection refused"), "{message}");
}

#[test]
fn an_invalid_header_is_an_error_where_it_is_given() {
    let mut client = BatchClient::new("http://127.0.0.1:9/svc");
    assert!(matches!(client.header("bad name", "v"), Err(ClientError::InvalidHeader(n)) if n == "bad name"));
    assert!(matches!(
        client.header("x-ok", "line\nbreak"),
        Err(ClientError::InvalidHeader(_))
    ));
    assert!(client.header("authorization", "Bearer t").is_ok());
    assert_eq!(client.headers_mut().len(), 1);
}

#[test]
fn response_stream_is_a_futures_stream() {
    use futures_util::StreamExt as _;
    let three = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\none\r\n--r\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\n\r\n\r\n--c--\r\n--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n\r\n--r--\r\n";
    let (root, server) = serve(vec![answer(
        "200 OK",
        "Content-Type: multipart/mixed; boundary=r\r\n",
        three,
    )]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = BatchClient::new(&root);
    let items: Vec<_> = runtime.block_on(async {
        let stream = client.send_streaming(&batch()).await.unwrap();
        assert_eq!(stream.status().as_u16(), 200);
        stream.collect().await
    });
    let items: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        items.iter().map(|i| i.status.as_u16()).collect::<Vec<_>>(),
        [200, 201, 404]
    );
    assert_eq!(&items[0].body[..], b"one");
    assert_eq!(
        (items[1].changeset, items[1].content_id.as_deref()),
        (Some(0), Some("1"))
    );
    server.join().unwrap();

    // Cut off: the complete items, then an error, then the end.
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {}\r\n\r\n",
        three.len()
    );
    let cut = [head.as_bytes(), &three.as_bytes()[..three.len() - 30]].concat();
    let (root, server) = serve(vec![Behaviour::Cut(cut)]);
    let client = BatchClient::new(&root);
    let items: Vec<_> = runtime.block_on(async { client.send_streaming(&batch()).await.unwrap().collect().await });
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items[0].is_ok() && items[1].is_ok() && items[2].is_err());
    server.join().unwrap();
}

/// A multipart response that arrives in many small chunks (cut inside heads and delimiters) streams the same
/// items as one that arrives at once.
#[test]
fn a_response_in_small_chunks_streams_the_same_items() {
    use futures_util::StreamExt as _;
    let body = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\none\r\n--r\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\nLocation: https://x/a(1)\r\n\r\n\r\n--c--\r\n--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n{\"error\":{}}\r\n--r--\r\n";
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for behaviour in [
        Behaviour::Answer([head.as_bytes(), body.as_bytes()].concat()),
        Behaviour::Pieces([head.as_bytes(), body.as_bytes()].concat(), 5),
    ] {
        let (root, server) = serve(vec![behaviour]);
        let client = BatchClient::new(&root);
        let items: Vec<_> = runtime.block_on(async { client.send_streaming(&batch()).await.unwrap().collect().await });
        let items: Vec<_> = items.into_iter().map(Result::unwrap).collect();
        server.join().unwrap();
        seen.push(items);
    }
    assert_eq!(
        seen[0].iter().map(|i| i.status.as_u16()).collect::<Vec<_>>(),
        [200, 201, 404]
    );
    assert_eq!(&seen[0][2].body[..], br#"{"error":{}}"#);
    assert_eq!(seen[0], seen[1]);
}

/// A server that answers each `GET People(n)` of a multipart batch with a response whose body is `n`, on a
/// thread per connection; the batch holding `People(0)` is answered last (after 300 ms). Returns the root,
/// the most connections it had open at once, and a stop switch.
fn serve_numbers(connections: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>, JoinHandle<()>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let root = format!("http://{}/svc", listener.local_addr().unwrap());
    let open = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let most_out = most.clone();
    let handle = std::thread::spawn(move || {
        let mut threads = Vec::new();
        for _ in 0..connections {
            let (mut stream, _) = listener.accept().unwrap();
            let (open, most) = (open.clone(), most.clone());
            threads.push(std::thread::spawn(move || {
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let request = read_request(&stream);
                let numbers: Vec<&str> = request
                    .split("GET People(")
                    .skip(1)
                    .map(|rest| &rest[..rest.find(')').unwrap()])
                    .collect();
                if numbers.first() == Some(&"0") {
                    std::thread::sleep(Duration::from_millis(300));
                }
                let mut body = String::new();
                for n in &numbers {
                    body.push_str(&format!("--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{n}\r\n"));
                }
                body.push_str("--r--\r\n");
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
                open.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
    });
    (root, most_out, handle)
}

#[test]
fn parallel_batches_answer_in_request_order() {
    let mut batch = BatchRequest::builder();
    for n in 0..50 {
        batch.get(format!("People({n})"));
    }
    let batch = batch.build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for parallel in [1, 4] {
        let (root, most, server) = serve_numbers(10);
        let mut client = BatchClient::new(&root);
        client.max_per_batch(Some(5)).parallel(parallel);
        let mut progress = Vec::new();
        let response = runtime
            .block_on(client.send_with_progress(&batch, |sent, total| progress.push((sent, total))))
            .unwrap();
        let bodies: Vec<String> = response
            .items
            .iter()
            .map(|i| String::from_utf8_lossy(&i.body).into_owned())
            .collect();
        let expected: Vec<String> = (0..50).map(|n| n.to_string()).collect();
        assert_eq!(bodies, expected, "parallel {parallel}");
        assert_eq!(progress, (1..=10).map(|k| (k, 10)).collect::<Vec<_>>());
        server.join().unwrap();
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        if parallel == 1 {
            assert_eq!(most, 1);
        } else {
            assert!(most > 1, "at most {most} connection at once");
        }
    }
}

#[test]
fn send_each_stops_when_asked() {
    use odata_batch::client::Sent;
    let mut batch = BatchRequest::builder();
    for n in 0..20 {
        batch.get(format!("People({n})"));
    }
    let batch = batch.build().unwrap();
    let (root, _, server) = serve_numbers(1);
    let mut client = BatchClient::new(&root);
    client.max_per_batch(Some(10));
    let mut seen = 0;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let flow = runtime
        .block_on(client.send_each(&batch, |sent| {
            if let Sent::Response(_) = sent {
                seen += 1;
            }
            if seen == 3 {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        }))
        .unwrap();
    assert!(flow.is_break());
    assert_eq!(seen, 3);
    // Only the first batch was sent.
    server.join().unwrap();
}

#[test]
fn a_compressed_response_the_http_client_does_not_undo_is_refused_by_name() {
    let gzip_head = "Content-Type: multipart/mixed; boundary=r\r\nContent-Encoding: gzip\r\n";
    let (root, server) = serve(vec![answer("200 OK", gzip_head, "\x1f\u{8b}not really")]);
    let http = reqwest::Client::builder().no_gzip().build().unwrap();
    match send(&BatchClient::with_http_client(http, &root)) {
        Err(e @ ClientError::ContentEncoding(_)) => assert!(e.to_string().contains("gzip"), "{e}"),
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}

//! Runs the `odata-batch` binary as a user would.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_odata-batch"))
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/payloads/dataverse-response.http")
}

#[test]
fn decodes_the_shipped_example_as_odata_json() {
    let out = bin().arg("decode").arg(example()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let responses = json["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0]["id"], "1");
    assert_eq!(responses[0]["atomicityGroup"], "changeset1");
    assert_eq!(responses[1]["atomicityGroup"], "changeset1");
    assert!(responses[2].get("atomicityGroup").is_none());
    assert_eq!(responses[2]["status"], 200);
    assert_eq!(responses[2]["body"]["value"][0]["name"], "Fourth Coffee");
    assert_eq!(responses[3]["status"], 404);
    assert!(responses[0]["headers"]["odata-entityid"]
        .as_str()
        .unwrap()
        .ends_with("accounts(6e1b7c3a-0b1d-4c55-9f3c-2a1b0c9d8e7f)"));
    assert!(responses[0].get("body").is_none());
}

#[test]
fn decodes_a_bare_request_body_from_stdin_with_content_type() {
    let body = b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\nPUT $1/Photo HTTP/1.1\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--c--\r\n--b\r\nContent-Type: application/http\r\n\r\nGET $1 HTTP/1.1\r\n\r\n\r\n--b--\r\n";
    let out = run_with_stdin(
        &[
            "decode",
            "-",
            "--content-type",
            "multipart/mixed; boundary=b",
            "--compact",
        ],
        body,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = json["requests"].as_array().unwrap();
    assert_eq!(r[0]["method"], "POST");
    assert_eq!(r[0]["body"]["a"], 1);
    assert_eq!(r[1]["url"], "$1/Photo");
    assert_eq!(r[1]["dependsOn"][0], "1");
    assert_eq!(r[1]["body"], "iVBORw");
    assert_eq!(r[2]["dependsOn"][0], "changeset1");
    assert!(r[2].get("atomicityGroup").is_none());
}

#[test]
fn malformed_input_exits_1_with_the_offset() {
    let out = run_with_stdin(
        &["decode", "--content-type", "multipart/mixed; boundary=b"],
        b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 OK\r\n\r\n--b--\r\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid status line at byte 39 (line 4)"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run_with_stdin(
        &["decode", "--content-type", "multipart/mixed; boundary=b"],
        b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("input ends before the close delimiter"));
}

#[test]
fn a_whole_batch_error_response_exits_1_naming_the_media_type() {
    let msg = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n{\"error\":{\"code\":\"0x0\",\"message\":\"bad batch\"}}";
    let out = run_with_stdin(&["decode"], msg);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("application/json"));
}

#[test]
fn a_chunked_captured_response_is_dechunked() {
    let body = b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n";
    let (a, b) = body.split_at(20);
    let mut msg =
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    msg.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
    msg.extend_from_slice(a);
    msg.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
    msg.extend_from_slice(b);
    msg.extend_from_slice(b"\r\n0\r\n\r\n");
    let out = run_with_stdin(&["decode", "-"], &msg);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["responses"][0]["status"], 204);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        bin()
            .arg("decode")
            .arg("/nonexistent/file")
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(bin().arg("frobnicate").output().unwrap().status.code(), Some(2));
    assert_eq!(bin().output().unwrap().status.code(), Some(2));
}

#[test]
fn garbage_never_panics() {
    let inputs: [&[u8]; 4] = [
        b"",
        b"\xff\xfe",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x",
    ];
    for input in inputs {
        let out = run_with_stdin(&["decode"], input);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{:?}: {}",
            input,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn encode_then_decode_gives_back_the_json() {
    let input = serde_json::json!({"requests": [
        {"id": "1", "atomicityGroup": "changeset1", "method": "POST", "url": "People",
         "headers": {"content-type": "application/json"}, "body": {"Name": "A", "Tags": [1, 2]}},
        {"id": "2", "atomicityGroup": "changeset1", "dependsOn": ["1"], "method": "PATCH", "url": "$1",
         "headers": {"content-type": "application/json", "if-match": "*"}, "body": {"Age": 3}},
        {"id": "g", "method": "GET", "url": "People?$top=2", "headers": {"accept": "application/json"}},
        {"id": "3", "method": "PUT", "url": "People(1)/Photo", "headers": {"content-type": "image/png"}, "body": "iVBORw"},
        {"id": "4", "method": "POST", "url": "Notes", "headers": {"content-type": "text/plain"}, "body": "line one\r\nline two"}
    ]});
    let dir = std::env::temp_dir().join(format!("odata-batch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ct_file = dir.join("ct");
    let out = run_with_stdin(
        &[
            "encode",
            "-",
            "--boundary",
            "batch_cli",
            "--content-type-out",
            ct_file.to_str().unwrap(),
        ],
        input.to_string().as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let content_type = std::fs::read_to_string(&ct_file).unwrap();
    assert_eq!(content_type.trim(), "multipart/mixed; boundary=batch_cli");
    assert!(out.stdout.starts_with(b"--batch_cli\r\n"));
    let decoded = run_with_stdin(
        &["decode", "--content-type", content_type.trim(), "--compact"],
        &out.stdout,
    );
    assert_eq!(
        decoded.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    let back: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(back, input);

    // Without --content-type-out the header line goes to standard error.
    let out = run_with_stdin(&["encode"], input.to_string().as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Content-Type: multipart/mixed; boundary=batch_"));
}

#[test]
fn encode_refuses_invalid_input_naming_the_rule() {
    let get_in_changeset = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"get","url":"People"}]}"#;
    let out = run_with_stdin(&["encode"], get_in_changeset.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("operation 0: GET or HEAD inside a changeset"));
    let forward = r#"{"requests":[{"id":"1","method":"get","url":"$9/Orders"}]}"#;
    let out = run_with_stdin(&["encode"], forward.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("item 0 at byte 44: reference \"$9\" is not listed in dependsOn")
    );
    let out = run_with_stdin(&["encode"], b"{not json");
    assert_eq!(out.status.code(), Some(1));
    let out = run_with_stdin(&["encode", "--boundary", "bad@boundary"], b"{\"requests\":[]}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn convert_goes_both_ways_for_both_roles() {
    // Response: multipart (the shipped example, decoded to JSON first) -> multipart -> JSON gives the same JSON.
    let decoded = bin().args(["decode", "--compact"]).arg(example()).output().unwrap();
    assert_eq!(decoded.status.code(), Some(0));
    let to_multipart = run_with_stdin(&["convert", "--to", "multipart", "--boundary", "b1"], &decoded.stdout);
    assert_eq!(
        to_multipart.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&to_multipart.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&to_multipart.stderr),
        "Content-Type: multipart/mixed; boundary=b1\n"
    );
    assert!(to_multipart.stdout.starts_with(b"--b1\r\n"));
    // The boundary is found from the body itself.
    let back = run_with_stdin(&["convert", "--to", "json"], &to_multipart.stdout);
    assert_eq!(back.status.code(), Some(0), "{}", String::from_utf8_lossy(&back.stderr));
    let a: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!(a, b);

    // Request: JSON -> multipart -> JSON; changesets and references survive, the $1 dependency is written.
    let request = r#"{"requests":[{"id":"1","atomicityGroup":"changeset1","method":"POST","url":"People","headers":{"content-type":"application/json"},"body":{"Name":"A"}},{"id":"2","atomicityGroup":"changeset1","dependsOn":["1"],"method":"PATCH","url":"$1","headers":{"content-type":"application/json"},"body":{"Age":3}},{"id":"3","method":"GET","url":"People","headers":{}}]}"#;
    let multipart = run_with_stdin(&["convert", "--to", "multipart"], request.as_bytes());
    assert_eq!(
        multipart.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&multipart.stderr)
    );
    let back = run_with_stdin(&["convert", "--to", "json", "--compact"], &multipart.stdout);
    assert_eq!(String::from_utf8_lossy(&back.stdout).trim_end(), request);
    // Indented by default, the same document.
    let pretty = run_with_stdin(&["convert", "--to", "json"], &multipart.stdout);
    assert!(pretty.stdout.starts_with(b"{\n  \"requests\": ["));
    let a: serde_json::Value = serde_json::from_slice(&pretty.stdout).unwrap();
    assert_eq!(a, serde_json::from_str::<serde_json::Value>(request).unwrap());

    // What multipart cannot carry is refused with the rule.
    let conditional = r#"{"requests":[{"id":"1","method":"GET","url":"A"},{"id":"2","dependsOn":["1"],"if":"$1/Price gt 1","method":"DELETE","url":"A"}]}"#;
    let out = run_with_stdin(&["convert", "--to", "multipart"], conditional.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("operation 1: an `if` condition cannot be written in a multipart batch"));
    // Invalid JSON input names the item and the byte.
    let out = run_with_stdin(
        &["convert", "--to", "multipart"],
        br#"{"requests":[{"id":"1","method":"GET"}]}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "odata-batch: item 0 at byte 13: missing member \"url\"\n"
    );
}

#[test]
fn decode_reads_json_batches_and_encode_writes_them() {
    let response = br#"{"responses":[{"id":"1","status":200,"headers":{"content-type":"text/plain"},"body":"hi"}],"@nextLink":"more"}"#;
    let out = run_with_stdin(
        &[
            "decode",
            "--content-type",
            "application/json; charset=utf-8",
            "--compact",
        ],
        response,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        std::str::from_utf8(response).unwrap()
    );
    // A captured HTTP message with a JSON body.
    let mut message = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n".to_vec();
    message.extend_from_slice(response);
    let out = run_with_stdin(&["decode", "--compact"], &message);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // A cut-off JSON response is an error, not a shorter batch.
    let out = run_with_stdin(&["decode", "--content-type", "application/json"], &response[..40]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut off"));

    let request = r#"{"requests":[{"id":"a","method":"get","url":"People"}]}"#;
    let out = run_with_stdin(&["encode", "--format", "json"], request.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Content-Type: application/json\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        r#"{"requests":[{"id":"a","method":"GET","url":"People","headers":{}}]}"#
    );
}

/// Reads one HTTP request (head, then a body of its Content-Length) from `stream`; the bytes read.
fn read_request(stream: &std::net::TcpStream) -> Vec<u8> {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream);
    let mut request = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        request.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    request.extend_from_slice(&body);
    request
}

/// A one-shot HTTP server on 127.0.0.1: answers each of `answers` to one request, in order, and hands back
/// the requests it received.
fn serve(answers: Vec<Vec<u8>>) -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/svc", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        for answer in answers {
            let (mut stream, _) = listener.accept().unwrap();
            requests.push(read_request(&stream));
            stream.write_all(&answer).unwrap();
        }
        requests
    });
    (url, handle)
}

fn http_response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn send_posts_the_batch_and_prints_the_response() {
    let multipart = "--r\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\nLocation: http://x/svc/People(1)\r\n\r\n\r\n--r--\r\n";
    let (url, server) = serve(vec![http_response("200 OK", "multipart/mixed; boundary=r", multipart)]);
    let request = r#"{"requests":[{"id":"1","atomicityGroup":"g","method":"POST","url":"People","headers":{"content-type":"application/json"},"body":{"Name":"A"}}]}"#;
    let out = run_with_stdin(
        &[
            "send",
            &url,
            "-H",
            "Authorization: Bearer t0ken",
            "--continue-on-error",
            "--compact",
        ],
        request.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        r#"{"responses":[{"id":"1","status":201,"headers":{"location":"http://x/svc/People(1)"}}]}"#
    );
    let received = String::from_utf8(server.join().unwrap().remove(0)).unwrap();
    assert!(received.starts_with("POST /svc/$batch HTTP/1.1\r\n"), "{received}");
    let lower = received.to_ascii_lowercase();
    assert!(lower.contains("authorization: bearer t0ken\r\n"), "{received}");
    assert!(lower.contains("prefer: odata.continue-on-error\r\n"), "{received}");
    assert!(
        lower.contains("content-type: multipart/mixed; boundary=batch_"),
        "{received}"
    );
    assert!(received.contains("POST People HTTP/1.1\r\n"), "{received}");
}

#[test]
fn send_splits_and_reports_progress() {
    let answer = |id: &str| {
        let body = format!("--r\r\nContent-Type: application/http\r\nContent-ID: {id}\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--r--\r\n");
        http_response("200 OK", "multipart/mixed; boundary=r", &body)
    };
    let (url, server) = serve(vec![answer("1"), answer("2")]);
    let request =
        r#"{"requests":[{"id":"1","method":"DELETE","url":"A(1)"},{"id":"2","method":"DELETE","url":"A(2)"}]}"#;
    let out = run_with_stdin(&["send", &url, "--max-per-batch", "1", "--compact"], request.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "odata-batch: sent batch 1 of 2\nodata-batch: sent batch 2 of 2\n"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["responses"].as_array().unwrap().len(), 2);
    assert_eq!(server.join().unwrap().len(), 2);
}

#[test]
fn send_fails_with_exit_3_naming_status_and_message() {
    let error = r#"{"error":{"code":"0x80060891","message":"The batch is malformed"}}"#;
    let (url, server) = serve(vec![http_response("400 Bad Request", "application/json", error)]);
    let request = r#"{"requests":[{"id":"1","method":"GET","url":"A"}]}"#;
    let out = run_with_stdin(&["send", &url], request.as_bytes());
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "odata-batch: the service answered 400 Bad Request: The batch is malformed\n"
    );
    server.join().unwrap();
    // Nobody listening: a network failure, also 3.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run_with_stdin(&["send", &format!("http://127.0.0.1:{port}/svc")], request.as_bytes());
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP request failed"));
    // A broken header is a usage error.
    let out = run_with_stdin(
        &["send", "http://127.0.0.1:9/svc", "-H", "no colon"],
        request.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 11: hostile and careless input through every reading verb: no panic (exit 0 or 1, never 101), and
/// messages bounded and free of control characters.
#[test]
fn hostile_inputs_through_every_verb() {
    let part = "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n";
    let long_name = "n".repeat(1 << 20);
    let cases: Vec<(Vec<&str>, Vec<u8>, i32)> = vec![
        // A start line that runs straight into the next delimiter (this panicked before).
        (vec!["decode", "--content-type", "multipart/mixed; boundary=b"], format!("{part}HTTP/1.1 204 No Content\r\n--b--\r\n").into_bytes(), 0),
        (vec!["decode", "--content-type", "multipart/mixed; boundary=b"], format!("{part}GET x HTTP/1.1\n{part}GET y HTTP/1.1\n--b--\n").into_bytes(), 0),
        (vec!["convert", "--to", "json", "--content-type", "multipart/mixed; boundary=b"], format!("{part}GET x HTTP/1.1\r\n--b--\r\n").into_bytes(), 0),
        // A captured message whose framing headers conflict.
        (vec!["decode"], b"HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=b\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), 1),
        // A byte order mark before a JSON document.
        (vec!["decode", "--content-type", "application/json"], "\u{feff}{\"responses\":[{\"id\":\"1\",\"status\":204}]}".as_bytes().to_vec(), 0),
        (vec!["convert", "--to", "multipart"], "\u{feff}{\"responses\":[{\"id\":\"1\",\"status\":204}]}".as_bytes().to_vec(), 0),
        // A huge member name with an escape sequence.
        (vec!["decode", "--content-type", "application/json"], format!("{{\"responses\":[{{\"id\":\"1\",\"status\":204,\"\\u001b[2J{long_name}\":1}}]}}").into_bytes(), 1),
        (vec!["encode"], format!("{{\"requests\":[{{\"id\":\"1\",\"method\":\"get\",\"url\":\"A\",\"\\u001b[2J{long_name}\":1}}]}}").into_bytes(), 1),
        // A huge media type.
        (vec!["decode"], format!("HTTP/1.1 200 OK\r\nContent-Type: application/{long_name}\r\n\r\n").into_bytes(), 1),
    ];
    for (args, input, code) in cases {
        let out = run_with_stdin(&args, &input);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.len() < 1000, "{args:?}: a {} byte message", stderr.len());
        assert!(!stderr.contains('\u{1b}'), "{args:?}: {stderr}");
    }
}

/// Issue 11, class 5: SAP CAP answers with an unquoted boundary holding RFC 2046 characters; the client reads it.
#[test]
fn send_reads_a_response_with_caps_unquoted_boundary() {
    let b = "batch:m39/x=y";
    let multipart = format!("--{b}\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--{b}--\r\n");
    let (url, server) = serve(vec![http_response(
        "200 OK",
        &format!("multipart/mixed;boundary={b}"),
        &multipart,
    )]);
    let request = r#"{"requests":[{"id":"1","method":"DELETE","url":"People(1)"}]}"#;
    let out = run_with_stdin(&["send", &url, "--compact"], request.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        r#"{"responses":[{"id":"1","status":204,"headers":{}}]}"#
    );
    server.join().unwrap();
}

/// A batch decode prints several kilobytes: enough to meet a reader that went away.
fn big_payload() -> Vec<u8> {
    let mut body = String::new();
    for i in 0..2000 {
        body.push_str(&format!(
            "--b\r\nContent-Type: application/http\r\n\r\nGET People({i})?$select=Name HTTP/1.1\r\n\r\n\r\n"
        ));
    }
    body.push_str("--b--\r\n");
    body.into_bytes()
}

#[test]
fn a_closed_stdout_ends_quietly_with_success() {
    for args in [
        &["decode", "-", "--content-type", "multipart/mixed; boundary=b"][..],
        &["convert", "--to", "json", "-"][..],
        &["convert", "--to", "multipart", "-", "--content-type-out", "/dev/null"][..],
    ] {
        let mut child = bin()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let payload = big_payload();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&payload);
        });
        // Read ten bytes, as `| head -c 10` does, and go away.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 10];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        writer.join().unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_full_disk_is_a_failure_with_a_message() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut child = bin()
        .args(["decode", "-", "--content-type", "multipart/mixed; boundary=b"])
        .stdin(Stdio::piped())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&big_payload()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write standard output"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_closed_or_full_stderr_panics_nothing() {
    // Closed (`2>&-`): a malformed input still exits 1; a good one still prints and exits 0.
    let cases: [(&[u8], i32); 2] = [
        (b"--b\r\nContent-Type: text/plain\r\n\r\nx", 1),
        (
            b"--b\r\nContent-Type: application/http\r\n\r\nGET a HTTP/1.1\r\n\r\n\r\n--b--\r\n",
            0,
        ),
    ];
    for (payload, code) in cases {
        for stderr in ["2>&-", "2>/dev/full"] {
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "exec \"$0\" decode - --content-type 'multipart/mixed; boundary=b' {stderr}"
                ))
                .arg(env!("CARGO_BIN_EXE_odata-batch"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(payload).unwrap();
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(code),
                "{stderr}: {:?}",
                String::from_utf8_lossy(payload)
            );
            assert_eq!(out.stdout.is_empty(), code != 0, "{stderr}");
        }
    }
}

#[test]
fn messages_escape_control_characters_and_stay_bounded() {
    // A server's error message with terminal escapes (clear screen, red), quoted from the payload.
    let body = r#"{"error":{"code":"0x0","message":"\u001b[2J\u001b[31mboom\u0007"}}"#;
    let out = run_with_stdin(&["convert", "--to", "multipart", "-"], body.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("boom"), "{stderr}");
    assert!(!stderr.bytes().any(|b| b == 0x1b || b == 0x07), "{stderr:?}");
    // A 1 MB header name in a payload: the message quotes a bounded excerpt.
    let name = "X".repeat(1 << 20);
    let payload = format!(
        "--b\r\nContent-Type: application/http\r\n\r\nGET a HTTP/1.1\r\n{name}\u{1b}[2J: v\r\n\r\n\r\n--b--\r\n"
    );
    let out = run_with_stdin(
        &["decode", "-", "--content-type", "multipart/mixed; boundary=b"],
        payload.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", &stderr[..stderr.len().min(300)]);
    assert!(stderr.len() < 4096, "{} bytes of message", stderr.len());
    assert!(!stderr.bytes().any(|b| b == 0x1b), "{stderr:?}");
}

#[test]
fn send_to_something_that_is_not_a_url_is_a_usage_error() {
    for url in ["not a url", "ftp://host/svc", "/relative/svc"] {
        let out = run_with_stdin(
            &["send", url],
            br#"{"requests":[{"id":"1","method":"GET","url":"People"}]}"#,
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn fail_exits_4_when_operations_failed_and_only_when_asked() {
    // The shipped example response has one 404 among four.
    let out = bin().arg("decode").arg(example()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = bin().args(["decode", "--fail"]).arg(example()).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.stdout.is_empty(), "the batch is still printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 operation failed"));
    // All succeeded: 0, with --fail too.
    let ok = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--r--\r\n";
    let out = run_with_stdin(
        &["decode", "--fail", "-", "--content-type", "multipart/mixed; boundary=r"],
        ok.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // send: the same rule on the service's answer.
    let failed = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n\r\n--r--\r\n";
    let (url, server) = serve(vec![http_response("200 OK", "multipart/mixed; boundary=r", failed)]);
    let request = r#"{"requests":[{"id":"1","method":"GET","url":"People(9)"}]}"#;
    let out = run_with_stdin(&["send", &url, "--fail"], request.as_bytes());
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    server.join().unwrap();
}

#[test]
fn send_redirects_timeouts_and_refusals_exit_3_saying_why() {
    let request = r#"{"requests":[{"id":"1","method":"GET","url":"People"}]}"#;
    // A redirect: not followed, the Location shown.
    let redirect = b"HTTP/1.1 302 Found\r\nLocation: https://login.example/authorize\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
    let (url, server) = serve(vec![redirect]);
    let out = run_with_stdin(&["send", &url], request.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("302") && stderr.contains("https://login.example/authorize"),
        "{stderr}"
    );
    assert_eq!(server.join().unwrap().len(), 1);
    // A server that never answers: --timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/svc", listener.local_addr().unwrap());
    let out = run_with_stdin(&["send", &url, "--timeout", "1"], request.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    drop(listener);
    // Nothing listening: the cause is named.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run_with_stdin(&["send", &format!("http://127.0.0.1:{port}/svc")], request.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.to_ascii_lowercase().contains("connection refused"), "{stderr}");
    // 429 twice then a batch: --retries 2 gets through; --retries 1 gives up.
    let throttled = || {
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
    };
    let ok = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\r\n--r--\r\n";
    let (url, server) = serve(vec![
        throttled(),
        throttled(),
        http_response("200 OK", "multipart/mixed; boundary=r", ok),
    ]);
    let out = run_with_stdin(&["send", &url, "--retries", "2"], request.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.join().unwrap().len(), 3);
    let (url, server) = serve(vec![throttled(), throttled()]);
    let out = run_with_stdin(&["send", &url, "--retries", "1"], request.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("gave up after 2 attempts"), "{stderr}");
    assert_eq!(server.join().unwrap().len(), 2);
}

#[test]
fn summary_prints_one_line_per_operation_and_the_failures() {
    let out = bin().args(["decode", "--summary"]).arg(example()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("#  changeset  Content-ID  status"), "{text}");
    let cells = |line: &str| line.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(cells(lines[1])[..5], ["1", "1", "1", "204", "No"]);
    assert!(lines[1].ends_with("no body"));
    assert_eq!(cells(lines[3])[..5], ["3", "-", "-", "200", "OK"]);
    assert!(lines[3].ends_with("application/json, 208 B"), "{}", lines[3]);
    assert_eq!(cells(lines[4])[..4], ["4", "-", "-", "404"]);
    assert_eq!(lines[5], "4 operations in 1 changeset, 1 failed");
    // Piped: no colour; --color always colours the status and the failures.
    assert!(!text.contains('\x1b'));
    let out = bin()
        .args(["decode", "--summary", "--color", "always"])
        .arg(example())
        .output()
        .unwrap();
    let coloured = String::from_utf8(out.stdout).unwrap();
    assert!(coloured.contains("\x1b[31m404"), "{coloured:?}");
    assert!(coloured.contains("\x1b[31m1 failed\x1b[0m"));

    // A request: method and URL, changesets numbered from 1, a payload's control characters escaped.
    let body = "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nPOST People HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--c--\r\n--b\r\nContent-Type: application/http\r\n\r\nGET People?$filter=Name%20eq%20%27%1B%27 HTTP/1.1\r\n\r\n\r\n--b--\r\n";
    let out = run_with_stdin(
        &[
            "decode",
            "--summary",
            "-",
            "--content-type",
            "multipart/mixed; boundary=b",
        ],
        body.as_bytes(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].contains("method") && lines[0].contains("URL"));
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["1", "1", "1", "POST", "People", "application/json,", "7", "B"]
    );
    assert!(lines[2].starts_with("2  -          -           GET "), "{text}");
    assert_eq!(lines[3], "2 operations in 1 changeset");
}

#[test]
fn strict_and_limits_are_the_librarys() {
    // A bare line feed where CRLF belongs: lenient reads it, --strict refuses it with the offset.
    let body = b"--b\nContent-Type: application/http\n\nGET People HTTP/1.1\n\n\n--b--\n";
    let args = ["decode", "-", "--content-type", "multipart/mixed; boundary=b"];
    assert_eq!(run_with_stdin(&args, body).status.code(), Some(0));
    let strict = run_with_stdin(&[&args[..], &["--strict"]].concat(), body);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains("at byte"),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    let strict = run_with_stdin(&["convert", "--to", "json", "--strict", "-"], body);
    assert_eq!(strict.status.code(), Some(1));

    // 1001 operations: the client limits read them, the server limits (1000) refuse them, multipart or JSON.
    let mut many = String::new();
    for i in 0..1001 {
        many.push_str(&format!(
            "--b\r\nContent-Type: application/http\r\n\r\nGET People({i}) HTTP/1.1\r\n\r\n\r\n"
        ));
    }
    many.push_str("--b--\r\n");
    assert_eq!(run_with_stdin(&args, many.as_bytes()).status.code(), Some(0));
    let server = run_with_stdin(&[&args[..], &["--limits", "server"]].concat(), many.as_bytes());
    assert_eq!(server.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&server.stderr).contains("1000"),
        "{}",
        String::from_utf8_lossy(&server.stderr)
    );
    let json = run_with_stdin(&["convert", "--to", "json", "--compact", "-"], many.as_bytes());
    assert_eq!(json.status.code(), Some(0));
    let server = run_with_stdin(
        &["convert", "--to", "multipart", "--limits", "server", "-"],
        &json.stdout,
    );
    assert_eq!(
        server.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&server.stderr)
    );
}

#[test]
fn output_goes_to_a_file_when_asked() {
    let dir = std::env::temp_dir().join(format!("odata-batch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.json");
    let out = bin()
        .arg("decode")
        .arg(example())
        .arg("--output")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["responses"].as_array().unwrap().len(), 4);
    let summary = dir.join("summary.txt");
    let out = bin()
        .args(["decode", "--summary", "-o"])
        .arg(&summary)
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&summary).unwrap().ends_with("1 failed\n"));
    // A file that cannot be written: exit 1 naming it.
    let out = bin()
        .arg("decode")
        .arg(example())
        .args(["--output", "/nonexistent-dir/out.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/out.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The shipped example as `curl -i` saves a chunked response: the header kept, the body de-chunked.
fn curl_capture(extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let example = std::fs::read(example()).unwrap();
    let text = String::from_utf8_lossy(&example);
    let content_type = text
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap()
        .to_owned();
    let mut out =
        format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n{extra_headers}\r\n")
            .into_bytes();
    out.extend_from_slice(body);
    out
}

fn example_body() -> Vec<u8> {
    let example = std::fs::read(example()).unwrap();
    let at = example.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    example[at..].to_vec()
}

#[test]
fn a_curl_capture_of_a_chunked_response_reads_with_a_note() {
    let capture = curl_capture("", &example_body());
    let out = run_with_stdin(&["decode", "--compact"], &capture);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("not chunk-framed") && stderr.contains("already de-chunked"),
        "{stderr}"
    );
    let expected = bin().args(["decode", "--compact"]).arg(example()).output().unwrap();
    assert_eq!(out.stdout, expected.stdout);
}

#[test]
fn a_gzip_body_is_decompressed_and_other_codings_refused_by_name() {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&example_body()).unwrap();
    let compressed = gz.finish().unwrap();
    let shipped = std::fs::read(example()).unwrap();
    let text = String::from_utf8_lossy(&shipped);
    let content_type = text
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap()
        .to_owned();
    let head = |coding: &str, len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Encoding: {coding}\r\nContent-Length: {len}\r\n\r\n").into_bytes()
    };
    let capture = [head("gzip", compressed.len()), compressed.clone()].concat();
    let out = run_with_stdin(&["decode", "--compact"], &capture);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = bin().args(["decode", "--compact"]).arg(example()).output().unwrap();
    assert_eq!(out.stdout, expected.stdout);
    // Brotli: refused, naming it.
    let capture = [head("br", compressed.len()), compressed.clone()].concat();
    let out = run_with_stdin(&["decode"], &capture);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Content-Encoding br"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Corrupt gzip: an error, not a partial batch.
    let mut broken = compressed;
    let n = broken.len();
    broken.truncate(n / 2);
    let capture = [head("gzip", broken.len()), broken].concat();
    let out = run_with_stdin(&["decode"], &capture);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("odata-batch") && script.contains("--summary"),
            "{shell}"
        );
    }
    assert_eq!(
        bin().args(["completions", "cmd"]).output().unwrap().status.code(),
        Some(2)
    );
}

/// The peak resident memory (`VmHWM`, kB) of a running process, read until it exits; with its exit status.
#[cfg(target_os = "linux")]
fn wait_with_peak_rss(mut child: std::process::Child) -> (std::process::ExitStatus, u64) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status, peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `send` writes each response as it arrives: a 256 MiB response (4096 responses of 64 KiB JSON bodies),
/// generated on the fly by the test server, goes to a file while the CLI's peak resident memory stays under
/// 64 MB.
#[cfg(target_os = "linux")]
#[test]
fn send_streams_a_256_mb_response_to_a_file_in_bounded_memory() {
    const PARTS: usize = 4096;
    let body = format!("{{\"v\":\"{}\"}}", "x".repeat(64 * 1024 - 8));
    let part = move |i: usize| {
        format!("--r\r\nContent-Type: application/http\r\nContent-ID: {i}\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{body}\r\n")
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/svc", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_request(&stream);
        let total: usize = (0..PARTS).map(|i| part(i).len()).sum::<usize>() + "--r--\r\n".len();
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {total}\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        for i in 0..PARTS {
            stream.write_all(part(i).as_bytes()).unwrap();
        }
        stream.write_all(b"--r--\r\n").unwrap();
        total
    });
    let file = std::env::temp_dir().join(format!("odata-batch-256mb-{}.json", std::process::id()));
    let mut child = bin()
        .args(["send", &url, "--compact", "--output"])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"requests":[{"id":"1","method":"GET","url":"People"}]}"#)
        .unwrap();
    let (status, peak_kb) = wait_with_peak_rss(child);
    let sent = server.join().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(sent > 256 * 1024 * 1024, "{sent} bytes sent");
    let written = std::fs::metadata(&file).unwrap().len();
    // Every response is in the file: read its end and count the items by their ids.
    let text = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    assert!(written > 256 * 1024 * 1024, "{written} bytes written");
    assert!(text.ends_with(b"]}\n"));
    let ids = text.windows(6).filter(|w| w == br#""id":""#).count();
    assert_eq!(ids, PARTS);
    eprintln!("send: 256 MiB response to a file, peak RSS {peak_kb} kB");
    assert!(peak_kb < 64 * 1024, "peak RSS {peak_kb} kB");
}

#[test]
fn send_asks_for_gzip_and_decompresses_the_response() {
    use std::io::Write as _;
    let multipart = "--r\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsqueezed\r\n--r--\r\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(multipart.as_bytes()).unwrap();
    let compressed = gz.finish().unwrap();
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        compressed.len()
    )
    .into_bytes();
    answer.extend_from_slice(&compressed);
    let (url, server) = serve(vec![answer]);
    let out = run_with_stdin(
        &["send", &url, "--compact"],
        br#"{"requests":[{"id":"1","method":"GET","url":"Notes(1)"}]}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["responses"][0]["body"], "squeezed");
    let requests = server.join().unwrap();
    let head = String::from_utf8_lossy(&requests[0]).to_ascii_lowercase();
    assert!(head.contains("accept-encoding: gzip"), "{head}");
}

/// A server answering each `GET People(n)` of a multipart batch with a response whose body is `n`, a thread
/// per connection; the batch holding `People(0)` is answered last (after 300 ms). Returns the URL and the most
/// connections it had open at once.
fn serve_numbers(connections: usize) -> (String, std::thread::JoinHandle<usize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/svc", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut threads = Vec::new();
        for _ in 0..connections {
            let (mut stream, _) = listener.accept().unwrap();
            let (open, most) = (open.clone(), most.clone());
            threads.push(std::thread::spawn(move || {
                most.fetch_max(open.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                let body = String::from_utf8(read_request(&stream)).unwrap();
                let numbers: Vec<&str> = body.split("GET People(").skip(1).map(|r| &r[..r.find(')').unwrap()]).collect();
                if numbers.first() == Some(&"0") {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                let mut answer = String::new();
                for n in &numbers {
                    answer.push_str(&format!("--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n{n}\r\n"));
                }
                answer.push_str("--r--\r\n");
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=r\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", answer.len());
                stream.write_all(head.as_bytes()).unwrap();
                stream.write_all(answer.as_bytes()).unwrap();
                open.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        most.load(Ordering::SeqCst)
    });
    (url, handle)
}

#[test]
fn send_parallel_runs_batches_at_once_and_writes_responses_in_order() {
    let requests: Vec<String> = (0..20)
        .map(|n| format!(r#"{{"id":"{}","method":"GET","url":"People({n})"}}"#, n + 1))
        .collect();
    let input = format!(r#"{{"requests":[{}]}}"#, requests.join(","));
    for parallel in ["1", "4"] {
        let (url, server) = serve_numbers(4);
        let out = run_with_stdin(
            &[
                "send",
                &url,
                "--max-per-batch",
                "5",
                "--parallel",
                parallel,
                "--compact",
            ],
            input.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let bodies: Vec<String> = json["responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["body"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            bodies,
            (0..20).map(|n| n.to_string()).collect::<Vec<_>>(),
            "--parallel {parallel}"
        );
        let most = server.join().unwrap();
        if parallel == "1" {
            assert_eq!(most, 1);
        } else {
            assert!(most > 1, "at most {most} batch at once");
        }
        assert!(String::from_utf8_lossy(&out.stderr).contains("sent batch 4 of 4"));
    }
    // 0 is a usage error.
    let out = run_with_stdin(&["send", "http://127.0.0.1:9/svc", "--parallel", "0"], input.as_bytes());
    assert_eq!(out.status.code(), Some(2));
}

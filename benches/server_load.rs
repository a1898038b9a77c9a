//! Workload 10 of bench/README.md: serving the streaming chain over HTTP,
//! runwright-server against LangServe on uvicorn (bench/langserve_app.py).
//!
//! Not a criterion bench: one program with two parts, which bench/compare
//! runs as processes of their own.
//!
//! * `serve --addr A [--chunks N]` serves `prompt | FakeStreamingChatModel(N)
//!   | StrOutputParser` (Chain(N) of the other workloads, N = 100 by default)
//!   at `/chain` with LangServe's protocol, on a multi-thread runtime of two
//!   workers, and prints `{"pid", "addr"}` once it listens.
//! * `load --url U --concurrency C --seconds S` is the load: `C` clients,
//!   each on its own keep-alive connection, each posting `{"input":
//!   {"question": ...}}` to `U` (a `/stream` endpoint) again and again for
//!   `S` seconds (then each finishes the stream it is reading), reading each
//!   event stream to its `end` event. It prints one JSON object: the
//!   streams read, streams per second (over the whole time, the last
//!   streams' included), and the time to first streamed token (from sending
//!   the request to the first `data` event) at the 50th and 99th
//!   percentiles, over every stream: the clients connect at once, so the
//!   first streams of 1,000 clients include their wait in the server's
//!   accept queue, on both servers alike. Failures (a status other than
//!   200, a stream without `end`, a broken connection) are counted, not
//!   measured.
//!
//! The same `load` drives both servers, so both are measured with the
//! same client; both servers and the client share this machine's cores.

mod fixtures;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runwright::RunnableExt;
use runwright_server::Server;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match args.iter().find(|a| *a == "serve" || *a == "load").map(String::as_str) {
        Some("serve") => {
            let addr = arg(&args, "--addr").unwrap_or_else(|| "127.0.0.1:0".into());
            let chunks = arg(&args, "--chunks").map_or(100, |n| n.parse().expect("--chunks N"));
            rt.block_on(serve(&addr, chunks));
        }
        Some("load") => {
            let url = arg(&args, "--url").expect("--url http://HOST:PORT/PATH");
            let concurrency = arg(&args, "--concurrency").map_or(1, |n| n.parse().expect("--concurrency N"));
            let seconds: f64 = arg(&args, "--seconds").map_or(5.0, |n| n.parse().expect("--seconds S"));
            let report = rt.block_on(load(&url, concurrency, Duration::from_secs_f64(seconds)));
            println!("{report}");
        }
        // `cargo bench --workspace` runs every bench: without a part to
        // run, this one says how to run it and stops.
        _ => eprintln!("server_load: run `serve ...` or `load ...` (bench/compare --server-only does)"),
    }
}

async fn serve(addr: &str, chunks: usize) {
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let local = listener.local_addr().expect("address");
    println!("{}", json!({"pid": std::process::id(), "addr": local.to_string()}));
    let server = Server::new().runnable("/chain", fixtures::chain(chunks).boxed());
    server.serve_on(listener).await.expect("serve");
}

/// One client's results: the time to first token of each stream it read,
/// and how many streams failed.
#[derive(Default)]
struct Client {
    ttft: Vec<Duration>,
    failed: usize,
}

async fn load(url: &str, concurrency: usize, seconds: Duration) -> serde_json::Value {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let body = json!({"input": {"question": "What is the capital of France?"}}).to_string();
    let request: Arc<str> = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(client(host.to_owned(), request.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(seconds).await;
    stop.store(true, Ordering::Relaxed);
    let mut ttft = Vec::new();
    let mut failed = 0;
    for c in clients {
        let c = c.await.expect("client task");
        ttft.extend(c.ttft);
        failed += c.failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    ttft.sort_unstable();
    let pct = |p: f64| {
        ttft.get(((ttft.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map(|d| d.as_secs_f64() * 1e3)
    };
    json!({
        "concurrency": concurrency,
        "seconds": elapsed,
        "streams": ttft.len(),
        "streams_per_s": ttft.len() as f64 / elapsed,
        "ttft_p50_ms": pct(0.50),
        "ttft_p99_ms": pct(0.99),
        "failed": failed,
    })
}

/// Streams on one keep-alive connection until told to stop; a broken
/// connection is a failure, and the client connects again.
async fn client(host: String, request: Arc<str>, stop: Arc<AtomicBool>) -> Client {
    let mut out = Client::default();
    while !stop.load(Ordering::Relaxed) {
        let Ok(socket) = TcpStream::connect(&host).await else {
            out.failed += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = socket.set_nodelay(true);
        let mut conn = BufReader::new(socket);
        while !stop.load(Ordering::Relaxed) {
            let sent = Instant::now();
            match one_stream(&mut conn, &request).await {
                Ok((first, true)) => out.ttft.push(first.duration_since(sent)),
                Ok((_, false)) => out.failed += 1,
                Err(_) => {
                    out.failed += 1;
                    break;
                }
            }
        }
    }
    out
}

/// Sends the request and reads its response: an event stream in chunked
/// transfer encoding. Returns when the first `data` event came, and whether
/// the stream ended with an `end` event.
async fn one_stream(conn: &mut BufReader<TcpStream>, request: &str) -> std::io::Result<(Instant, bool)> {
    conn.get_mut().write_all(request.as_bytes()).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let ok = line.split_whitespace().nth(1) == Some("200");
    let mut chunked = false;
    let mut length = None;
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if name == "content-length" {
                length = value.parse::<usize>().ok();
            }
        }
    }
    let mut first = None;
    let mut ended = false;
    let mut body = Vec::new();
    if !chunked {
        // Not a stream (an error answer): its body is read and dropped.
        body.resize(length.unwrap_or(0), 0);
        conn.read_exact(&mut body).await?;
        return Ok((Instant::now(), false));
    }
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        let size = usize::from_str_radix(line.trim_end().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            line.clear();
            conn.read_line(&mut line).await?;
            break;
        }
        body.resize(size + 2, 0);
        conn.read_exact(&mut body).await?;
        let text = String::from_utf8_lossy(&body[..size]);
        if first.is_none() && text.contains("event: data") {
            first = Some(Instant::now());
        }
        if text.contains("event: end") {
            ended = true;
        }
    }
    Ok((first.unwrap_or_else(Instant::now), ok && ended && first.is_some()))
}

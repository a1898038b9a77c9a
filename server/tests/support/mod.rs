//! A served chain whose `ChatOpenAI` streams from a local upstream that
//! sends one chunk and then nothing, and a client that leaves after that
//! chunk: `tests/upstream_disconnect.rs` checks the upstream's connection
//! closes, `benches/disconnect.rs` measures how soon.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use runwright::models::ChatOpenAI;
use runwright::prompts::ChatPromptTemplate;
use runwright::{RunnableExt, StrOutputParser};
use runwright_server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the upstream saw of its one connection.
#[derive(Debug)]
enum Upstream {
    /// It sent its first chunk.
    Sent,
    /// Its client closed the connection.
    Closed(Instant),
}

/// A chat-completions server that answers one request with an event
/// stream of one chunk (`"Hel"`), then waits for its client to close.
async fn slow_upstream() -> (SocketAddr, mpsc::UnboundedReceiver<Upstream>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await;
        let chunk = r#"{"id":"c1","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
                    connection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(format!("data: {chunk}\n\n").as_bytes()).await.unwrap();
        let _ = tx.send(Upstream::Sent);
        // Nothing more is sent: a read ends only when the client closes.
        let mut buf = [0u8; 64];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = tx.send(Upstream::Closed(Instant::now()));
    });
    (addr, rx)
}

/// Reads a request's head and its `content-length` body.
async fn read_request(socket: &mut TcpStream) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "the model closed before sending its request");
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// Only a bound on a hang: the test fails, instead of never ending, when
/// the upstream hears nothing.
async fn next(rx: &mut mpsc::UnboundedReceiver<Upstream>) -> Upstream {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the upstream heard nothing within 30 s")
        .expect("the upstream is gone")
}

/// Serves `prompt | ChatOpenAI (at the upstream) | parser` at `/chat`,
/// streams from `endpoint` until the first token, leaves, and returns how
/// long after that the upstream saw its connection close.
pub async fn client_leaves_mid_token_stream(endpoint: &str) -> Duration {
    let (upstream, mut heard) = slow_upstream().await;
    let model = ChatOpenAI::new("m")
        .base_url(format!("http://{upstream}/v1"))
        .api_key("test-key");
    let chain = ChatPromptTemplate::from_template("{q}").unwrap() | model | StrOutputParser;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(Server::new().runnable("/chat", chain.boxed()).serve_on(listener));

    let body = r#"{"input": {"q": "hi"}}"#;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /chat/{endpoint} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    assert!(matches!(next(&mut heard).await, Upstream::Sent));
    // The client reads until the upstream's token has come through.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("Hel") {
        let n = tokio::time::timeout(Duration::from_secs(30), client.read(&mut buf))
            .await
            .expect("no token within 30 s")
            .unwrap();
        assert!(
            n > 0,
            "the server closed the stream: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    drop(client);
    let left = Instant::now();
    let Upstream::Closed(at) = next(&mut heard).await else {
        panic!("the upstream sent twice")
    };
    server.abort();
    at.saturating_duration_since(left)
}

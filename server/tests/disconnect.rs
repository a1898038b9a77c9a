//! A client that goes away cancels its run: the server drops the response
//! stream (or, for `invoke`, the handler's future), which drops the run and
//! the work beneath it.

use std::time::Duration;

use futures::future::pending;
use runwright::Lambda;
use runwright_server::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Says "dropped" when the work that holds it is dropped.
struct DropFlag(mpsc::UnboundedSender<&'static str>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        let _ = self.0.send("dropped");
    }
}

/// A step that says "started", then never finishes.
fn forever(tx: mpsc::UnboundedSender<&'static str>) -> Lambda<String, String> {
    Lambda::from_async(move |_: String| {
        let tx = tx.clone();
        async move {
            let _flag = DropFlag(tx.clone());
            let _ = tx.send("started");
            pending::<()>().await;
            Ok(String::new())
        }
    })
}

/// Only a bound on a hang: the test fails, instead of never ending, when
/// the signal never comes.
async fn next(rx: &mut mpsc::UnboundedReceiver<&'static str>) -> &'static str {
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("no signal from the run within 30 s")
        .expect("the step's sender is gone")
}

async fn client_goes_away_mid_run(endpoint: &str) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(Server::new().runnable("/forever", forever(tx)).serve_on(listener));

    let body = r#"{"input": "x"}"#;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /forever/{endpoint} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    if endpoint.starts_with("stream") {
        // The response has started: the headers of the event stream.
        let mut head = [0u8; 64];
        let n = client.read(&mut head).await.unwrap();
        assert!(
            head[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head[..n])
        );
    }

    assert_eq!(next(&mut rx).await, "started");
    drop(client);
    assert_eq!(
        next(&mut rx).await,
        "dropped",
        "the run was not dropped when its client went away"
    );
    server.abort();
}

#[tokio::test]
async fn a_client_leaving_stream_cancels_the_run() {
    client_goes_away_mid_run("stream").await;
}

#[tokio::test]
async fn a_client_leaving_stream_events_cancels_the_run() {
    client_goes_away_mid_run("stream_events").await;
}

#[tokio::test]
async fn a_client_leaving_stream_log_cancels_the_run() {
    client_goes_away_mid_run("stream_log").await;
}

#[tokio::test]
async fn a_client_leaving_invoke_cancels_the_run() {
    client_goes_away_mid_run("invoke").await;
}
